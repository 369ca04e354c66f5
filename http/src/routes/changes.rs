//! `GET /v1/changes`: the change log as a long poll or Server-Sent Events.
//!
//! `after=C` asks for records with cursor ≥ C (0: from the oldest kept; pass
//! the previous answer's `next`). With `wait=MS` an empty answer is held
//! until a record commits or MS pass. With `Accept: text/event-stream` the
//! answer is a stream of `records` events whose `id` is the next cursor, so
//! an `EventSource` resumes where it left off (`Last-Event-ID`).

use super::{blocking, AppState};
use crate::json::of_record;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value as J};
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tablesync::ChangePage;

/// Most records one answer carries by default, and at most.
const DEFAULT_LIMIT: usize = 1000;
/// How often a waiting poll looks at the log even without a signal (writes
/// made by the host process, not through the server, raise none).
const RECHECK: Duration = Duration::from_millis(200);

/// Query parameters.
#[derive(Deserialize)]
pub struct ChangesQuery {
    after: Option<u64>,
    wait: Option<u64>,
    limit: Option<usize>,
}

async fn page(app: &AppState, after: u64, limit: usize) -> Result<ChangePage, Response> {
    let region = app.region.clone();
    blocking(move || region.read_view("read:changes", |db| db.changes_since(after, limit))).await
}

/// Records from `after`, waiting until `deadline` for at least one.
async fn wait_for(
    app: &AppState,
    after: u64,
    limit: usize,
    deadline: Instant,
) -> Result<ChangePage, Response> {
    let mut rx = app.region.subscribe();
    loop {
        let _ = rx.borrow_and_update();
        let p = page(app, after, limit).await?;
        let now = Instant::now();
        if !p.records.is_empty() || now >= deadline || super::stopping(app) {
            return Ok(p);
        }
        let nap = (deadline - now).min(RECHECK);
        let _ = tokio::time::timeout(nap, rx.changed()).await;
    }
}

fn body(p: &ChangePage) -> J {
    json!({
        "records": p.records.iter().map(of_record).collect::<Vec<_>>(),
        "next": p.next_cursor,
    })
}

/// The handler.
pub async fn changes(
    State(app): State<AppState>,
    Query(q): Query<ChangesQuery>,
    headers: HeaderMap,
) -> Response {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, DEFAULT_LIMIT);
    let sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let resume = headers
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let after = resume.or(q.after).unwrap_or(0);
    if !sse {
        let wait = Duration::from_millis(q.wait.unwrap_or(0)).min(app.cfg.max_wait);
        return match wait_for(&app, after, limit, Instant::now() + wait).await {
            Ok(p) => Json(body(&p)).into_response(),
            Err(r) => r,
        };
    }
    let stream = futures_util::stream::unfold((app, after), move |(app, after)| async move {
        if super::stopping(&app) {
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let p = wait_for(&app, after, limit, deadline).await.ok()?;
        let next = p.next_cursor;
        let ev = if p.records.is_empty() {
            Event::default().comment("idle")
        } else {
            Event::default()
                .event("records")
                .id(next.to_string())
                .data(body(&p).to_string())
        };
        Some((Ok::<_, Infallible>(ev), (app, next)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
