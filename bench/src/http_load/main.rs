//! `http-load`: requests/s and p50/p99 latency of put and get over HTTP
//! against the region server, at 1, 8 and 64 connections, next to SQLite
//! behind the same axum/tokio stack measured in the same run. Loopback
//! only, bounded in count and time.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin http-load -- [--requests N] [--seconds S] [--quick|--full]
//! ```
//! `--requests` (default 256, tiny) is each phase's total, split over the
//! connections; `--seconds` (default 20) caps each phase; `--quick` runs
//! 64 requests a phase as a smoke test; `--full` (or `HTTP_LOAD_FULL=1`)
//! runs 20,000 requests a phase capped at 30 s, the size to quote.
//! Figures need a quiet machine.

mod reference;

use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tablesync::{Database, DatabaseOptions, PkColumn, PkType, SyncPolicy, TableSchema};
use tablesync_http::{serve, ServerConfig};

const TOKEN: &str = "bench-token";

struct Args {
    requests: usize,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        requests: 256,
        seconds: 20,
    };
    if std::env::var("HTTP_LOAD_FULL").is_ok_and(|v| v == "1") {
        (a.requests, a.seconds) = (20_000, 30);
    }
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = |name: &str| -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match x.as_str() {
            "--requests" => a.requests = num("--requests") as usize,
            "--seconds" => a.seconds = num("--seconds"),
            "--quick" => a.requests = 64,
            "--full" => (a.requests, a.seconds) = (20_000, 30),
            _ => {
                eprintln!("usage: http-load [--requests N] [--seconds S] [--quick|--full]");
                std::process::exit(2);
            }
        }
    }
    a
}

/// One phase's figures.
struct Figures {
    done: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Run `total` requests over `conns` connections (each a thread with its
/// own keep-alive agent), stopping at `limit`.
fn phase(url: &str, path: &str, conns: usize, total: usize, base: i64, limit: Duration) -> Figures {
    let per = total.div_ceil(conns).max(1);
    let start = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let url = format!("{url}{path}");
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .new_agent();
                let mut lat = Vec::with_capacity(per);
                let t0 = Instant::now();
                for i in 0..per {
                    if t0.elapsed() > limit {
                        break;
                    }
                    let k = base + (c * per + i) as i64;
                    let body = json!({"table": "t", "primary_key": {"k": k}, "columns": {"v": k}})
                        .to_string();
                    let t = Instant::now();
                    let r = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {TOKEN}"))
                        .header("Content-Type", "application/json")
                        .send(body.as_bytes());
                    match r {
                        Ok(mut resp) if resp.status() == 200 => {
                            let _ = resp.body_mut().read_to_string();
                            lat.push(t.elapsed());
                        }
                        other => panic!("{url}: {:?}", other.map(|r| r.status())),
                    }
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("load thread"))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    Figures {
        done: all.len(),
        rps: all.len() as f64 / secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

fn main() {
    let a = args();
    let limit = Duration::from_secs(a.seconds);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut db = Database::open(
        tmp.path().join("region"),
        DatabaseOptions::new("bench").sync(SyncPolicy::Always),
    )
    .expect("open region");
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .expect("table");
    let ours = serve(
        Arc::new(RwLock::new(db)),
        ServerConfig {
            token: TOKEN.into(),
            max_in_flight: 256,
            ..ServerConfig::default()
        },
    )
    .expect("serve");
    let reference = reference::start(tmp.path());
    println!(
        "http-load: {} requests a phase (cap {}s), loopback; fsync on every write on both sides",
        a.requests, a.seconds
    );
    println!(
        "{:<4} {:>5} | {:>9} {:>8} {:>8} | {:>9} {:>8} {:>8} | {:>6}",
        "op", "conns", "ours r/s", "p50 ms", "p99 ms", "sqlite r/s", "p50 ms", "p99 ms", "ratio"
    );
    let mut base = 0i64;
    for conns in [1usize, 8, 64] {
        for (op, path) in [("put", "/v1/row/put"), ("get", "/v1/row/get")] {
            // Gets read the keys the puts of this round wrote.
            let o = phase(&ours.url(), path, conns, a.requests, base, limit);
            let r = phase(&reference.url, path, conns, a.requests, base, limit);
            println!(
                "{op:<4} {conns:>5} | {:>9.0} {:>8.2} {:>8.2} | {:>9.0} {:>8.2} {:>8.2} | {:>6.2}   ({} / {} requests)",
                o.rps, o.p50_ms, o.p99_ms, r.rps, r.p50_ms, r.p99_ms, o.rps / r.rps, o.done, r.done
            );
        }
        base += a.requests as i64 * 2;
    }
    ours.stop();
}
