//! `GET /v1/snapshot`: the whole region at one consistent point, as the
//! snapshot frame of FORMAT.md §11 (`TSSN`: tables, rows, the retained
//! change log, cursors, clocks and version vectors). Taken under the read
//! lock, so no write lands halfway; `tablesync backup create URL REPO`
//! imports it into memory and backs that up (a full or an incremental
//! backup, exactly as of a local directory).

use super::{blocking, AppState};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Media type of the answer.
const OCTETS: &str = "application/octet-stream";

/// The handler (any valid token: a snapshot holds nothing a reader could
/// not read through the row API and the change feed).
pub async fn snapshot(State(app): State<AppState>) -> Response {
    let region = app.region.clone();
    match blocking(move || region.read("read:snapshot", |db| db.export_snapshot())).await {
        Ok(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OCTETS));
            r
        }
        Err(r) => r,
    }
}
