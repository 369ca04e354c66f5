//! Hosted replication: `GET /v1/links` and the group routes, routed to the
//! server's [`LinkHost`](crate::LinkHost).

use super::{error, read_body, refused, require_write, AppState};
use crate::config::Access;
use crate::region::Refusal;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::Value as J;

fn no_links() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "this server hosts no links (start it with --peer)",
    )
}

/// `GET /v1/links`: region, epoch, role, links and peers.
pub async fn links(State(app): State<AppState>) -> Response {
    let Some(host) = app.cfg.hosting.clone() else {
        return no_links();
    };
    match tokio::task::spawn_blocking(move || host.0.links()).await {
        Ok(doc) => Json(doc).into_response(),
        Err(_) => refused(Refusal::Panicked),
    }
}

/// `POST /v1/group/{heartbeat|failover|failback}` (read-write token).
pub async fn group(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    Path(op): Path<String>,
    body: Body,
) -> Response {
    let Some(host) = app.cfg.hosting.clone() else {
        return no_links();
    };
    if let Some(r) = require_write(access, &app) {
        return r;
    }
    if !matches!(op.as_str(), "heartbeat" | "failover" | "failback") {
        return error(StatusCode::NOT_FOUND, "NotFound", "unknown group operation");
    }
    let bytes = match read_body(&app, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req: J = if bytes.is_empty() {
        J::Object(Default::default())
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(j) => j,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "OTSParameterInvalid",
                    &format!("the body is not JSON: {e}"),
                )
            }
        }
    };
    let r = tokio::task::spawn_blocking(move || match op.as_str() {
        "heartbeat" => host.0.heartbeat(&req),
        "failover" => host.0.failover(&req),
        _ => host.0.failback(&req),
    })
    .await;
    match r {
        Ok(Ok(doc)) => Json(doc).into_response(),
        Ok(Err(e)) => refused(Refusal::Db(e)),
        Err(_) => refused(Refusal::Panicked),
    }
}
