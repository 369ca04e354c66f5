//! What runs in each child process: one engine, one phase, so the peak
//! resident memory (`VmHWM`) a phase prints is that engine's alone.

use crate::data;
use crate::engine::Engine;
use crate::proc_stats::status_kib;
use std::path::Path;
use std::time::Instant;

/// Random point gets per read phase (the row count when smaller, so a
/// smoke run stays short).
pub const GETS: u64 = 100_000;
/// Rows the scan phase reads (the whole table when smaller).
pub const SCAN_ROWS: u64 = 1_000_000;
/// Rows the crash phase rewrites before it exits (the whole table when smaller).
pub const CRASH_ROWS: u64 = 100_000;

/// Run `phase` and print its figures on one line:
/// - `load`: `seconds peak_kib rss_kib`;
/// - `read`: `open_plus_first_get_ms gets_per_s peak_kib rss_kib`;
/// - `scan` (rows decoded) and `rawscan` (row states not decoded):
///   `rows_per_s peak_kib`;
/// - `crash`: rewrite [`CRASH_ROWS`] rows and exit without closing (prints
///   nothing).
pub fn run(phase: &str, engine: Engine, path: &Path, n: u64, cache: u64) -> Result<(), String> {
    match phase {
        "load" => {
            let t = Instant::now();
            engine.load(path, n, cache)?;
            let s = t.elapsed().as_secs_f64();
            println!("{s} {} {}", status_kib("VmHWM:"), status_kib("VmRSS:"));
        }
        "read" => {
            let t = Instant::now();
            let mut r = engine.open(path, cache)?;
            if !r.get(n as i64 / 2 + 1)? {
                return Err("the first get found nothing".into());
            }
            let open_ms = t.elapsed().as_secs_f64() * 1e3;
            let gets = GETS.min(n);
            let uids = data::probe_uids(gets, n);
            let t = Instant::now();
            let mut hits = 0;
            for u in uids {
                hits += r.get(u)? as u64;
            }
            let rate = gets as f64 / t.elapsed().as_secs_f64();
            if hits != gets {
                return Err(format!("{hits} of {gets} gets found their row"));
            }
            let (peak, rss) = (status_kib("VmHWM:"), status_kib("VmRSS:"));
            println!("{open_ms} {rate} {peak} {rss}");
            if std::env::var_os("DISK_BENCH_DETAIL").is_some() {
                eprintln!("{}", r.detail());
            }
        }
        "scan" | "rawscan" => {
            let mut r = engine.open(path, cache)?;
            let want = n.min(SCAN_ROWS);
            let t = Instant::now();
            let rows = if phase == "scan" {
                r.scan(want)?
            } else {
                r.scan_raw(want)?
            };
            let rate = rows as f64 / t.elapsed().as_secs_f64();
            if rows != want {
                return Err(format!("scanned {rows} rows of {want}"));
            }
            println!("{rate} {}", status_kib("VmHWM:"));
        }
        "crash" => engine.rewrite_then_exit(path, n.min(CRASH_ROWS), cache)?,
        _ => return Err(format!("unknown phase {phase}")),
    }
    Ok(())
}
