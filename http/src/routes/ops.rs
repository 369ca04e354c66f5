//! Operations endpoints: liveness, readiness, metrics.

use super::{stopping, AppState};
use crate::metrics::TableLabel;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// `GET /readyz`: the region is open, not failed, and not shutting down.
pub async fn readyz(State(app): State<AppState>) -> Response {
    let region = app.region.clone();
    let ready = tokio::task::spawn_blocking(move || region.ready())
        .await
        .unwrap_or(false);
    if ready && !stopping(&app) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        super::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "NotReady",
            "the region is closed, failed or shutting down",
        )
    }
}

/// `GET /metrics`: Prometheus text exposition (row counts sampled now).
pub async fn metrics(State(app): State<AppState>) -> Response {
    let region = app.region.clone();
    let (ready, counts) = tokio::task::spawn_blocking(move || {
        let counts = region.read("read:metrics", |db| {
            let mut out = Vec::new();
            for t in db.list_tables()? {
                let n = db.describe_table(&t)?.row_count;
                out.push((t, n));
            }
            let next = db.next_cursor()?;
            let oldest = db
                .changes_since(0, 1)?
                .records
                .first()
                .map_or(next, |r| r.cursor);
            region.digest_ages().observe(db);
            Ok((out, next, next - oldest, db.storage_stats()))
        });
        (region.ready(), counts)
    })
    .await
    .unwrap_or((false, Ok((Vec::new(), 0, 0, Default::default()))));
    app.metrics.ready.set(i64::from(ready));
    if let Ok((counts, next, kept, storage)) = counts {
        app.metrics.log_next_cursor.set(next as i64);
        app.metrics.log_fsyncs.set(storage.log_syncs as i64);
        app.metrics.log_bytes.set(storage.log_bytes as i64);
        app.metrics.digest_age.clear();
        for (table, age) in app.region.digest_ages().ages() {
            app.metrics
                .digest_age
                .get_or_create(&TableLabel { table })
                .set(age.as_secs_f64());
        }
        app.metrics.log_records.set(kept as i64);
        for (table, n) in counts {
            app.metrics
                .table_rows
                .get_or_create(&TableLabel { table })
                .set(n as i64);
        }
    }
    let mut text = app.metrics.render();
    if let Some(host) = app.cfg.hosting.clone() {
        if let Ok(extra) = tokio::task::spawn_blocking(move || host.0.metrics()).await {
            // The link and peer families go before the closing `# EOF`.
            let body = text.strip_suffix("# EOF\n").unwrap_or(&text).to_string();
            text = format!("{body}{extra}# EOF\n");
        }
    }
    if let Some(node) = app.cluster.clone() {
        if let Ok(extra) =
            tokio::task::spawn_blocking(move || crate::cluster::metrics::render(&node)).await
        {
            // The cluster families go before the closing `# EOF` too.
            let body = text.strip_suffix("# EOF\n").unwrap_or(&text).to_string();
            text = format!("{body}{extra}# EOF\n");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
