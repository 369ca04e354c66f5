//! The dashboard page served at `GET /`: static HTML and JavaScript built
//! into the binary (no build step, no CDN). The page asks for the token
//! (or takes it from the URL fragment `#token=…`) and polls `/readyz`,
//! `/v1/links` and `/metrics` every second.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");

/// `GET /`: the page.
pub async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

/// `GET /dashboard.js`: its script.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}
