//! `GET /v1/snapshot`: the whole region at one consistent point, as the
//! snapshot frame of FORMAT.md §11 (`TSSN`: tables, rows, the retained
//! change log, cursors, clocks and version vectors). Taken under the read
//! lock, so no write lands halfway; `tablesync backup create URL REPO`
//! imports it into memory and backs that up (a full or an incremental
//! backup, exactly as of a local directory).
//!
//! `GET /v1/snapshot?after=C` is the snapshot delta since log cursor `C`
//! (FORMAT.md §11.1, `TSSD`): the records from `C` on and every table's
//! row count, digest and state sum, also under the read lock. A continuous
//! backup keeps its copy of the region up to date with it, so a round moves
//! what changed, not the region. `LogGap` (HTTP 400) when retention dropped
//! records from `C` on: the caller takes the whole snapshot instead.

use super::{blocking, AppState};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Media type of the answer.
const OCTETS: &str = "application/octet-stream";

/// Query of `GET /v1/snapshot`.
#[derive(serde::Deserialize)]
pub struct SnapshotQuery {
    /// Answer the delta since this log cursor instead of the whole region.
    after: Option<u64>,
}

/// The handler (any valid token: a snapshot holds nothing a reader could
/// not read through the row API and the change feed).
pub async fn snapshot(State(app): State<AppState>, Query(q): Query<SnapshotQuery>) -> Response {
    let region = app.region.clone();
    let answer = blocking(move || match q.after {
        None => region.read("read:snapshot", |db| db.export_snapshot()),
        Some(after) => region.read("read:snapshot", |db| db.export_snapshot_delta(after)),
    });
    match answer.await {
        Ok(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OCTETS));
            r
        }
        Err(r) => r,
    }
}
