//! Replication lag of a realtime link to a loopback HTTP server.
//!
//! `RATE` rows/s (default 5000) of `ROW_BYTES` bytes (default 1024) for
//! `SECS` seconds (default 60) are written into region `a`; a realtime link
//! ships them to region `b` served over HTTP on 127.0.0.1. Lag (the age of
//! the oldest committed-but-unapplied record) is sampled every 10 ms by the
//! writing thread.
//! Prints p50/p99 lag and the shipped throughput next to the targets
//! (p50 ≤ 5 ms, p99 ≤ 50 ms). Run on a quiet machine:
//! `cargo run --release -p tablesync-replicate --example lag_bench`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tablesync::replication::LinkConfig;
use tablesync::*;
use tablesync_replicate::{DriverOptions, LinkHandle, Peer};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    let (rate, secs, row_bytes) = (
        env("RATE", 5_000),
        env("SECS", 60),
        env("ROW_BYTES", 1024) as usize,
    );
    let schema = TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)]);
    let a = Arc::new(Mutex::new(Database::memory(DatabaseOptions::new("a"))?));
    let b = Arc::new(Mutex::new(Database::memory(DatabaseOptions::new("b"))?));
    a.lock().unwrap().create_table(schema.clone())?;
    b.lock().unwrap().create_table(schema)?;
    let cfg = tablesync_http::ServerConfig {
        token: "bench".into(),
        ..tablesync_http::ServerConfig::default()
    };
    let server = tablesync_http::serve(b.clone(), cfg)?;
    let remote = tablesync_http::HttpRemote::new(&server.url(), "bench")?;
    let link = LinkHandle::spawn(
        a.clone(),
        Peer::Http(remote),
        LinkConfig::new("ab", "b"),
        DriverOptions {
            sample_every_ms: 10,
            commit_poll_ms: 1,
            ..DriverOptions::default()
        },
    )?;
    let payload = "x".repeat(row_bytes);
    let start = Instant::now();
    let mut written = 0u64;
    let mut lags: Vec<i64> = Vec::new();
    let mut last_sample = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while written < due {
            a.lock().unwrap().put_row(
                "t",
                PrimaryKey::new([("k", written as i64)]),
                vec![Column::new("v", payload.as_str())],
                Condition::ignore(),
            )?;
            written += 1;
        }
        if last_sample.elapsed() >= Duration::from_millis(10) {
            last_sample = Instant::now();
            lags.push(link.status().lag_ms);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let wrote_for = start.elapsed();
    let idle = link.wait_idle(Duration::from_secs(60));
    let status = link.stop()?;
    server.stop();
    lags.sort_unstable();
    let pct = |p: usize| {
        lags.get(lags.len().saturating_sub(1) * p / 100)
            .copied()
            .unwrap_or(0)
    };
    println!("realtime link over loopback HTTP, {rate} rows/s of {row_bytes} B for {secs} s");
    println!(
        "  written {written} rows in {:.1} s; drained: {idle}",
        wrote_for.as_secs_f64()
    );
    println!(
        "  lag p50 {} ms (target ≤ 5), p99 {} ms (target ≤ 50), max {} ms; {} samples",
        pct(50),
        pct(99),
        pct(100),
        lags.len()
    );
    println!(
        "  shipped {} records, {} bytes, {} sessions ({} failed)",
        status.records_shipped, status.bytes_shipped, status.sessions_ok, status.sessions_failed
    );
    assert_eq!(
        a.lock().unwrap().table_digest("t")?,
        b.lock().unwrap().table_digest("t")?
    );
    Ok(())
}
