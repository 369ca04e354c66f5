//! The routes and the guard every request passes before its body is read.

mod changes;
mod links;
mod ops;
mod replicate;
mod rows;
mod snapshot;
mod sync;

use crate::auth::Tokens;
use crate::config::{Access, ServerConfig};
use crate::metrics::{Metrics, RouteLabel, RouteStatus};
use crate::region::{Refusal, Region};
use crate::ERROR_CODE_HEADER;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tablesync::Error;
use tokio::sync::Semaphore;

/// What every handler shares.
pub struct App {
    /// The served region.
    pub region: Arc<Region>,
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Limits and timeouts.
    pub cfg: ServerConfig,
    /// Request slots (back-pressure).
    pub slots: Semaphore,
    /// Change-feed slots: long polls and streams wait, so they get their own.
    pub feed_slots: Semaphore,
    /// Set when shutdown starts (readyz turns 503).
    pub stopping: AtomicBool,
    /// The region's cluster role, when started with a cluster directory.
    pub cluster: Option<Arc<crate::cluster::ClusterNode>>,
}

/// Shared state handle.
pub type AppState = Arc<App>;

/// The router with every route and the guard.
pub fn router(app: AppState) -> Router {
    Router::new()
        .route(crate::SYNC_PATH, post(sync::sync))
        .route(crate::REPLICATE_PATH, post(replicate::replicate))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/v1/row/get", post(rows::get_row))
        .route("/v1/row/put", post(rows::put_row))
        .route("/v1/row/update", post(rows::update_row))
        .route("/v1/row/delete", post(rows::delete_row))
        .route("/v1/row/range", post(rows::range))
        .route("/v1/row/batch", post(rows::batch))
        .route("/v1/changes", get(changes::changes))
        .route(crate::SNAPSHOT_PATH, get(snapshot::snapshot))
        .merge(crate::cluster::routes())
        .route("/", get(crate::dashboard::index))
        .route("/dashboard.js", get(crate::dashboard::script))
        .route("/v1/links", get(links::links))
        .route("/v1/group/{op}", post(links::group))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(axum::middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "NotFound", "unknown path")
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "wrong method for this path",
    )
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "the handler failed",
    )
}

/// A text error with the code in a header: `CODE: message`.
pub fn error(status: StatusCode, code: &str, msg: &str) -> Response {
    let mut r = (status, format!("{code}: {msg}\n")).into_response();
    if let Ok(v) = HeaderValue::from_str(code) {
        r.headers_mut().insert(ERROR_CODE_HEADER, v);
    }
    r
}

/// The HTTP status of a database error.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::ConditionCheckFail(_) => StatusCode::CONFLICT,
        Error::ObjectNotExist(_) => StatusCode::NOT_FOUND,
        Error::ObjectAlreadyExist(_) => StatusCode::CONFLICT,
        Error::StaleEpoch(_) => StatusCode::CONFLICT,
        Error::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        Error::Locked(_) | Error::Closed => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The response for a refused region call.
pub fn refused(r: Refusal) -> Response {
    match r {
        Refusal::Db(e) => error(status_of(&e), e.code(), &e.message()),
        Refusal::Failed => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "RegionFailed",
            "an earlier request failed inside the region; it serves nothing until restarted",
        ),
        Refusal::Panicked => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "the request failed inside the region; it serves nothing until restarted",
        ),
    }
}

/// Run a region call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(r)) => Err(refused(r)),
        Err(_) => Err(refused(Refusal::Panicked)),
    }
}

/// Read a body of at most `cfg.max_body_bytes` within `cfg.body_timeout`.
pub async fn read_body(app: &App, body: Body) -> Result<Bytes, Response> {
    let limited = Limited::new(body, app.cfg.max_body_bytes);
    match tokio::time::timeout(app.cfg.body_timeout, limited.collect()).await {
        Err(_) => {
            app.metrics.refuse("body_timeout");
            Err(error(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                "the request body did not arrive in time",
            ))
        }
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                app.metrics.refuse("too_large");
                Err(too_large())
            } else {
                Err(error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string()))
            }
        }
        Ok(Ok(c)) => {
            let b = c.to_bytes();
            app.metrics.bytes_in.inc_by(b.len() as u64);
            Ok(b)
        }
    }
}

fn too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestTooLarge",
        "request body exceeds the server's limit",
    )
}

/// Routes anyone may call.
fn public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/" | "/dashboard.js")
}

/// Before any body byte is read: CORS preflight, back-pressure, token,
/// declared size; then the handler runs under the request timeout.
async fn guard(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    let pool = if req.uri().path() == "/v1/changes" {
        &app.feed_slots
    } else {
        &app.slots
    };
    let Ok(_slot) = pool.try_acquire() else {
        app.metrics.refuse("busy");
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServerBusy",
            "too many requests in flight; retry shortly",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    // An unknown path is answered 404 by the fallback, token or not.
    let known = req.extensions().get::<MatchedPath>().is_some();
    if known && !public(req.uri().path()) {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        match app.tokens.check(presented) {
            Some(access) => {
                req.extensions_mut().insert(access);
            }
            None => {
                app.metrics.refuse("unauthorized");
                return error(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "missing or wrong bearer token",
                );
            }
        }
    }
    let epoch_claim = epoch_claim(&app, &req);
    if let Some(r) = check_epoch(&app, epoch_claim, EpochRule::Write).await {
        return r;
    }
    let peer_claim = peer_epoch_claim(&app, &req);
    let unstamped_peer = peer_claim.is_none() && is_peer_frame(&app, &req);
    if let Some(r) = check_epoch(&app, peer_claim, EpochRule::Peer).await {
        return r;
    }
    if unstamped_peer {
        if let Some(r) = check_unstamped_peer(&app).await {
            return r;
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.cfg.max_body_bytes as u64) {
        app.metrics.refuse("too_large");
        return too_large();
    }
    app.metrics.in_flight.inc();
    let r = tokio::time::timeout(app.cfg.request_timeout, next.run(req)).await;
    app.metrics.in_flight.dec();
    r.unwrap_or_else(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestTimeout",
            "the request took longer than the server allows",
        )
    })
}

/// The epoch header of a row write, if the server hosts a group.
fn epoch_claim(app: &AppState, req: &Request) -> Option<HeaderValue> {
    app.cfg.hosting.as_ref()?;
    if req.method() != Method::POST || !req.uri().path().starts_with("/v1/row/") {
        return None;
    }
    req.headers().get(crate::EPOCH_HEADER).cloned()
}

/// The epoch header of peer records (a sync or replication push), if the
/// server hosts a group.
fn peer_epoch_claim(app: &AppState, req: &Request) -> Option<HeaderValue> {
    if !is_peer_frame(app, req) {
        return None;
    }
    req.headers().get(crate::EPOCH_HEADER).cloned()
}

/// Whether `req` carries peer records (a sync or replication push) to a
/// server that hosts links.
fn is_peer_frame(app: &AppState, req: &Request) -> bool {
    let path = req.uri().path();
    app.cfg.hosting.is_some()
        && req.method() == Method::POST
        && (path == crate::SYNC_PATH || path == crate::REPLICATE_PATH)
}

/// Peer records without `X-Tablesync-Epoch`: refused (`StaleEpoch`) once
/// the hosted region belongs to a group.
async fn check_unstamped_peer(app: &AppState) -> Option<Response> {
    let host = app.cfg.hosting.clone()?;
    match tokio::task::spawn_blocking(move || host.0.check_peer_unstamped()).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(refused(Refusal::Db(e))),
        Err(_) => Some(refused(Refusal::Panicked)),
    }
}

/// Which epoch rule a claimed `X-Tablesync-Epoch` is held to.
#[derive(Clone, Copy)]
enum EpochRule {
    /// A row write: refused unless it names the region's epoch.
    Write,
    /// Peer records: refused when sent under an older epoch.
    Peer,
}

/// A request carrying `X-Tablesync-Epoch` on a server that hosts a group:
/// refused (`StaleEpoch`) when the claim breaks `rule`.
async fn check_epoch(
    app: &AppState,
    claim: Option<HeaderValue>,
    rule: EpochRule,
) -> Option<Response> {
    let host = app.cfg.hosting.clone()?;
    let v = claim?;
    let Some(epoch) = v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) else {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "OTSParameterInvalid",
            "X-Tablesync-Epoch must be an unsigned integer",
        ));
    };
    let checked = tokio::task::spawn_blocking(move || match rule {
        EpochRule::Write => host.0.check_epoch(epoch),
        EpochRule::Peer => host.0.check_peer_epoch(epoch),
    });
    match checked.await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(refused(Refusal::Db(e))),
        Err(_) => Some(refused(Refusal::Panicked)),
    }
}

/// Metrics, a log line and CORS headers for every response.
async fn observe(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = req.method().clone();
    let start = Instant::now();
    let mut resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    app.metrics
        .requests
        .get_or_create(&RouteStatus {
            route: route.clone(),
            status,
        })
        .inc();
    app.metrics
        .latency
        .get_or_create(&RouteLabel {
            route: route.clone(),
        })
        .observe(secs);
    if let Some(n) = axum::body::HttpBody::size_hint(resp.body()).exact() {
        app.metrics.bytes_out.inc_by(n);
    }
    tracing::debug!(%method, route = %route, status, ms = secs * 1000.0, "request");
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, X-Tablesync-Epoch"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(ERROR_CODE_HEADER),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

/// `None` if the token may write, else the 403 answer.
pub fn require_write(access: Access, app: &App) -> Option<Response> {
    if access == Access::ReadWrite {
        None
    } else {
        app.metrics.refuse("forbidden");
        Some(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this token may only read",
        ))
    }
}

/// Whether shutdown has begun.
pub fn stopping(app: &App) -> bool {
    app.stopping.load(Ordering::SeqCst)
}
