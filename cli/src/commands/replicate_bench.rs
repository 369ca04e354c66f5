//! The figures `replicate --load` prints: lag percentiles, shipped
//! throughput, and a same-run reference (the offered rate, or the local
//! write rate of the same kind of region without a link).

use crate::error::{CliError, CliResult};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, PkColumn, PkType, PrimaryKey, SyncPolicy,
    TableSchema,
};
use tablesync_replicate::Sample;

/// Lag above which the `max` writer pauses (ms): it keeps p99 lag under 1 s.
pub const MAX_MODE_LAG_MS: i64 = 500;

/// `--load N` (rows per second) or `--load max` (as fast as the link keeps
/// its lag under [`MAX_MODE_LAG_MS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// A paced writer.
    Rate(u64),
    /// A writer throttled only by the link's lag.
    Max,
}

impl Load {
    /// Parse `max` or a positive number of rows per second.
    pub fn parse(s: &str) -> CliResult<Load> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Load::Max);
        }
        match s.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Load::Rate(n)),
            _ => Err(CliError::arg(format!(
                "--load takes rows per second (a positive number) or max, not {s:?}"
            ))),
        }
    }
}

/// The `load` table's schema.
pub fn load_schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("k", PkType::Integer)])
}

/// Write rows of `bytes` bytes into `db`'s table `load` until `stop`: paced
/// at `rate` in 10 ms slices, or for [`Load::Max`] as fast as possible
/// while `lag_ms` (kept fresh by the caller) stays under [`MAX_MODE_LAG_MS`].
/// Returns rows written.
pub fn load_writer(
    db: Arc<Mutex<Database>>,
    load: Load,
    bytes: usize,
    stop: Arc<AtomicBool>,
    lag_ms: Arc<AtomicI64>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let payload = "x".repeat(bytes.max(1));
        let start = Instant::now();
        let mut written = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let due = match load {
                Load::Rate(rate) => (start.elapsed().as_secs_f64() * rate as f64) as u64,
                Load::Max if lag_ms.load(Ordering::Relaxed) > MAX_MODE_LAG_MS => written,
                Load::Max => written + 100,
            };
            while written < due {
                let mut g = db.lock().unwrap_or_else(|p| p.into_inner());
                let r = put(&mut g, "load", written, &payload);
                drop(g);
                if r.is_err() {
                    return written;
                }
                written += 1;
            }
            match load {
                Load::Rate(_) => std::thread::sleep(Duration::from_millis(10)),
                Load::Max if written == due => std::thread::yield_now(),
                Load::Max => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        written
    })
}

fn put(db: &mut Database, table: &str, k: u64, payload: &str) -> tablesync::Result<()> {
    db.put_row(
        table,
        PrimaryKey::new([("k", k as i64)]),
        vec![Column::new("v", payload)],
        Condition::ignore(),
    )
    .map(|_| ())
}

/// The reference of `--load max`: rows per second one thread writes, the
/// same way, into a fresh region of the same kind (a directory next to
/// `src` with the same sync policy), with no link, for `secs`.
pub fn local_write_rate(src: &Path, policy: SyncPolicy, bytes: usize, secs: f64) -> CliResult<f64> {
    let dir = src.with_file_name(format!(
        ".{}-reference-{}",
        src.file_name().and_then(|n| n.to_str()).unwrap_or("src"),
        std::process::id()
    ));
    let run = || -> CliResult<f64> {
        let mut db = Database::open(&dir, DatabaseOptions::new("reference").sync(policy))?;
        db.create_table(load_schema("load"))?;
        let payload = "x".repeat(bytes.max(1));
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < secs {
            put(&mut db, "load", n, &payload)?;
            n += 1;
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        db.close()?;
        Ok(rate)
    };
    let r = run();
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The figures of one run.
#[derive(Debug, PartialEq)]
pub struct Figures {
    /// Lag samples taken while the load ran.
    pub samples: usize,
    /// Median sampled lag (ms).
    pub p50_ms: i64,
    /// 99th-percentile sampled lag (ms).
    pub p99_ms: i64,
    /// Largest sampled lag (ms).
    pub max_ms: i64,
    /// Records the peer applied per second while the load ran.
    pub shipped_per_s: f64,
}

/// Lag percentiles and throughput over the samples taken in the first
/// `load_ms` of the run (the drain after the load stops is left out).
pub fn figures(samples: &[Sample], load_ms: u64) -> Figures {
    let during: Vec<&Sample> = samples.iter().filter(|s| s.t_ms <= load_ms).collect();
    let mut lags: Vec<i64> = during.iter().map(|s| s.lag_ms).collect();
    lags.sort_unstable();
    let shipped_per_s = match (during.first(), during.last()) {
        (Some(a), Some(b)) if b.t_ms > a.t_ms => {
            (b.records_shipped - a.records_shipped) as f64 * 1000.0 / (b.t_ms - a.t_ms) as f64
        }
        _ => 0.0,
    };
    Figures {
        samples: lags.len(),
        p50_ms: pct(&lags, 50.0),
        p99_ms: pct(&lags, 99.0),
        max_ms: lags.last().copied().unwrap_or(0),
        shipped_per_s,
    }
}

/// The lines printed after a loaded run.
pub fn report(
    f: &Figures,
    load: Load,
    written: u64,
    load_secs: f64,
    reference: Option<f64>,
) -> String {
    let offered = written as f64 / load_secs.max(1e-9);
    let mut out = format!(
        "lag: p50 {} ms, p99 {} ms, max {} ms over {} samples (10 ms apart; targets p50 ≤ 5 ms, p99 ≤ 50 ms)\n",
        f.p50_ms, f.p99_ms, f.max_ms, f.samples
    );
    out += &format!(
        "throughput: {:.0} rows/s applied at the peer; {:.0} rows/s written ({written} rows in {load_secs:.1} s)\n",
        f.shipped_per_s, offered
    );
    match (load, reference) {
        (Load::Rate(rate), _) => {
            out += &format!(
                "reference: offered rate {rate} rows/s; shipped/offered = {:.3}\n",
                f.shipped_per_s / rate as f64
            );
        }
        (Load::Max, Some(r)) => {
            out += &format!(
                "reference: {r:.0} rows/s local writes without a link (same kind of region, same run); \
                 sustained/reference = {:.3}; p99 lag {} ms (≤ 1000 ms: {}; target ≥ 20,000 rows/s)\n",
                f.shipped_per_s / r.max(1e-9),
                f.p99_ms,
                if f.p99_ms <= 1000 { "yes" } else { "NO" }
            );
        }
        (Load::Max, None) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t_ms: u64, lag_ms: i64, records_shipped: u64) -> Sample {
        Sample {
            t_ms,
            lag_ms,
            pending: 0,
            records_shipped,
            bytes_shipped: 0,
        }
    }

    #[test]
    fn percentiles_and_throughput_over_the_load_window() {
        let mut samples: Vec<Sample> = (0..100).map(|i| s(i * 10, i as i64, i * 50)).collect();
        samples.push(s(5_000, 9_999, 999_999)); // the drain: left out
        let f = figures(&samples, 990);
        assert_eq!((f.samples, f.p50_ms, f.p99_ms, f.max_ms), (100, 49, 98, 99));
        assert!((f.shipped_per_s - 5_000.0).abs() < 1e-6, "{f:?}");
        assert_eq!(Load::parse("max").unwrap(), Load::Max);
        assert_eq!(Load::parse("5000").unwrap(), Load::Rate(5000));
        assert!(Load::parse("0").is_err() && Load::parse("fast").is_err());
        let text = report(&f, Load::Rate(5_000), 5_000, 1.0, None);
        assert!(text.contains("p50 49 ms, p99 98 ms") && text.contains("shipped/offered = 1.000"));
    }
}
