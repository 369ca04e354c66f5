//! `POST /v1/sync`: one request frame in, one reply frame out.

use super::{blocking, error, read_body, require_write, AppState};
use crate::config::Access;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tablesync::sync::message::{decode_request, Request};
use tablesync::sync::{respond, respond_read};

/// Whether a request frame changes the region.
fn writes(req: &Request) -> bool {
    matches!(
        req,
        Request::PushChanges { .. }
            | Request::PushRows { .. }
            | Request::Exchange { .. }
            | Request::MarkHeld { .. }
    )
}

/// Answer one sync frame. Read-only tokens may only send frames that write
/// nothing. Frames that change nothing (hello, change and row pages,
/// symbols) are answered under the read lock, in parallel with other reads;
/// pushes, exchanges, held marks and a hello that creates tables take the
/// write lock.
pub async fn sync(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    let bytes = match read_body(&app, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let cap = app.cfg.max_body_bytes;
    let (is_write, is_hello) = match decode_request(&bytes, cap) {
        Ok((_, _, req)) => (writes(&req), matches!(req, Request::Hello(_))),
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code(), &e.message()),
    };
    if is_write {
        if let Some(r) = require_write(access, &app) {
            return r;
        }
    }
    let region = app.region.clone();
    let r = blocking(move || {
        if !is_write {
            if let Some(reply) = region.read("read:sync", |db| respond_read(db, &bytes, cap))? {
                return Ok(reply);
            }
        }
        region.write("sync", |db| respond(db, &bytes, cap))
    })
    .await;
    match r {
        Ok(reply) => {
            if is_write {
                app.metrics.commits.inc();
            }
            if is_hello {
                app.metrics.sync_sessions.inc();
            }
            ([(header::CONTENT_TYPE, "application/octet-stream")], reply).into_response()
        }
        Err(r) => r,
    }
}
