//! Prometheus metrics (text exposition through `prometheus-client`).

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels of a request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    /// The matched route (`/v1/sync`, ...) or `other`.
    pub route: String,
    /// The HTTP status code.
    pub status: u16,
}

/// Labels naming a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The matched route or `other`.
    pub route: String,
}

/// Labels naming a table.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabel {
    /// The table name.
    pub table: String,
}

/// Labels naming why a request was refused early.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// `unauthorized`, `too_large`, `busy`, `body_timeout`, `forbidden`.
    pub reason: String,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RouteStatus, Counter>,
    /// Request latency by route.
    pub latency: Family<RouteLabel, Histogram>,
    /// Request body bytes received.
    pub bytes_in: Counter,
    /// Response body bytes sent.
    pub bytes_out: Counter,
    /// Writes committed through the server.
    pub commits: Counter,
    /// Sync sessions opened (hello frames answered).
    pub sync_sessions: Counter,
    /// Requests refused before their body was read, by reason.
    pub refused: Family<ReasonLabel, Counter>,
    /// Rows per table, sampled at each scrape.
    pub table_rows: Family<TableLabel, Gauge>,
    /// 1 while the region serves requests, 0 once a panic failed it.
    pub ready: Gauge,
    /// Requests being handled now.
    pub in_flight: Gauge,
    /// Change records the log keeps, sampled at each scrape.
    pub log_records: Gauge,
    /// Cursor the next change record will get, sampled at each scrape.
    pub log_next_cursor: Gauge,
    /// Times the log was fsynced since the region opened, sampled at each scrape.
    pub log_fsyncs: Gauge,
    /// Bytes of write-ahead log on disk, sampled at each scrape.
    pub log_bytes: Gauge,
    /// Seconds since each table's digest last changed (or since the server
    /// started, for a table unchanged since), sampled at each scrape.
    pub digest_age: Family<TableLabel, Gauge<f64, AtomicU64>>,
}

impl Metrics {
    /// A fresh set, registered under the `tablesync` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tablesync");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let m = Metrics {
            requests,
            latency,
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            commits: Counter::default(),
            sync_sessions: Counter::default(),
            refused: Family::default(),
            table_rows: Family::default(),
            ready: Gauge::default(),
            in_flight: Gauge::default(),
            log_records: Gauge::default(),
            log_next_cursor: Gauge::default(),
            log_fsyncs: Gauge::default(),
            log_bytes: Gauge::default(),
            digest_age: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            m.latency.clone(),
        );
        registry.register(
            "http_request_bytes",
            "Request body bytes received",
            m.bytes_in.clone(),
        );
        registry.register(
            "http_response_bytes",
            "Response body bytes sent",
            m.bytes_out.clone(),
        );
        registry.register(
            "commits",
            "Writes committed by the server",
            m.commits.clone(),
        );
        registry.register(
            "sync_sessions",
            "Sync sessions opened (hello frames answered)",
            m.sync_sessions.clone(),
        );
        registry.register(
            "http_refused",
            "Requests refused before their body was read, by reason",
            m.refused.clone(),
        );
        registry.register("table_rows", "Rows per table", m.table_rows.clone());
        registry.register(
            "region_ready",
            "1 while the region serves requests",
            m.ready.clone(),
        );
        registry.register(
            "http_in_flight",
            "Requests being handled",
            m.in_flight.clone(),
        );
        registry.register(
            "log_records",
            "Change records the log keeps",
            m.log_records.clone(),
        );
        registry.register(
            "log_next_cursor",
            "Cursor the next change record will get",
            m.log_next_cursor.clone(),
        );
        registry.register(
            "log_fsyncs",
            "Times the write-ahead log was fsynced since the region opened",
            m.log_fsyncs.clone(),
        );
        registry.register(
            "log_bytes",
            "Bytes of write-ahead log segments on disk",
            m.log_bytes.clone(),
        );
        registry.register(
            "table_digest_age_seconds",
            "Seconds since the table's digest last changed (at most the server's uptime)",
            m.digest_age.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Count a refusal.
    pub fn refuse(&self, reason: &str) {
        self.refused
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
