//! `POST /v1/replicate`: one record-push frame (`TSRP`) in, one ack
//! (`TSRA`) out — the one-frame path of replication links (FORMAT.md §18).

use super::{blocking, error, read_body, require_write, AppState};
use crate::config::Access;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tablesync::replication::push_frame::MAGIC_PUSH;
use tablesync::replication::respond;

/// Merge one pushed batch (a write: read-only tokens are refused) under
/// the write lock, with the checks of a sync push.
pub async fn replicate(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    if let Some(r) = require_write(access, &app) {
        return r;
    }
    let bytes = match read_body(&app, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if bytes.len() < 4 || bytes[..4] != MAGIC_PUSH {
        return error(
            StatusCode::BAD_REQUEST,
            "CorruptData",
            "not a record-push frame (TSRP)",
        );
    }
    let cap = app.cfg.max_body_bytes;
    let region = app.region.clone();
    match blocking(move || region.write("replicate", |db| respond(db, &bytes, cap))).await {
        Ok(reply) => {
            app.metrics.commits.inc();
            ([(header::CONTENT_TYPE, "application/octet-stream")], reply).into_response()
        }
        Err(r) => r,
    }
}
