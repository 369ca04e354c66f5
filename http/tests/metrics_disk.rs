//! `/metrics` on a region on disk: log fsyncs, log bytes and per-table
//! digest age follow the writes.

mod common;

use common::get;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tablesync::*;
use tablesync_http::{serve, ClientOptions, RowClient, ServerConfig};

fn scrape(addr: std::net::SocketAddr) -> Vec<prometheus_parse::Sample> {
    let text = get(addr, "/metrics", Some("rw"));
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .unwrap()
        .samples
}

fn value(samples: &[prometheus_parse::Sample], name: &str, table: Option<&str>) -> f64 {
    samples
        .iter()
        .find(|s| s.metric == name && table.is_none_or(|t| s.labels.get("table") == Some(t)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
        .unwrap_or_else(|| panic!("no {name} {table:?}"))
}

#[test]
fn fsyncs_log_bytes_and_digest_age_follow_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(
        dir.path(),
        DatabaseOptions::new("server").sync(SyncPolicy::Always),
    )
    .unwrap();
    for t in ["t", "quiet"] {
        db.create_table(TableSchema::new(
            t,
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    }
    let handle = serve(
        Arc::new(RwLock::new(db)),
        ServerConfig {
            token: "rw".into(),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let c = RowClient::new(&handle.url(), "rw", &ClientOptions::default()).unwrap();
    let before = scrape(handle.addr());
    for k in 0..5 {
        c.put_row(
            "t",
            json!({"k": k}),
            json!({"v": "x".repeat(100)}),
            "IGNORE",
        )
        .unwrap();
    }
    std::thread::sleep(Duration::from_millis(1100));
    c.put_row("t", json!({"k": 9}), json!({"v": 9}), "IGNORE")
        .unwrap();
    let after = scrape(handle.addr());
    // Every commit was fsynced (policy Always) and grew the log on disk.
    let syncs =
        value(&after, "tablesync_log_fsyncs", None) - value(&before, "tablesync_log_fsyncs", None);
    assert!(syncs >= 6.0, "{syncs} fsyncs for 6 commits");
    let grew =
        value(&after, "tablesync_log_bytes", None) - value(&before, "tablesync_log_bytes", None);
    assert!(
        grew >= 500.0,
        "the log grew by {grew} bytes for 500+ bytes of values"
    );
    // `t` changed just now; `quiet` has not changed since the server started.
    let age_t = value(&after, "tablesync_table_digest_age_seconds", Some("t"));
    let age_quiet = value(&after, "tablesync_table_digest_age_seconds", Some("quiet"));
    assert!(age_t < 1.0, "t changed just now, age {age_t}");
    assert!(
        age_quiet >= 1.0,
        "quiet unchanged for over 1 s, age {age_quiet}"
    );
    handle.stop();
}
