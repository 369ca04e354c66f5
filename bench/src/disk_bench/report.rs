//! One engine's figures at one table size, and the table that prints them
//! next to SQLite's with the ratio.

use crate::engine::Engine;

/// What `disk-bench` measures for one engine at one size.
#[derive(Clone, Debug)]
pub struct Figures {
    /// Engine.
    pub engine: Engine,
    /// Rows in the table.
    pub rows: u64,
    /// Batched load, rows/s (create to close).
    pub load_rows_s: f64,
    /// Peak resident memory of the load process, MiB.
    pub load_peak_mib: f64,
    /// Bytes on disk after the load, MiB.
    pub disk_mib: f64,
    /// Open + first point get in a fresh process, ms.
    pub open_ms: f64,
    /// Open + first get after a crash ([`crate::child::CRASH_ROWS`] rows
    /// rewritten since the load, process exit without close), ms.
    pub crash_open_ms: f64,
    /// Random point gets after that open, gets/s.
    pub gets_s: f64,
    /// Peak resident memory of the read process (open + gets), MiB.
    pub read_peak_mib: f64,
    /// Resident memory at the end of the read process, MiB.
    pub read_rss_mib: f64,
    /// Scan of the first 1M rows (or all) in a fresh process, rows/s.
    pub scan_rows_s: f64,
    /// Peak resident memory of the scan process, MiB.
    pub scan_peak_mib: f64,
    /// The same scan without decoding row states (redb, fjall; the
    /// decoded scan for the others), rows/s.
    pub raw_scan_rows_s: f64,
}

type Pick = fn(&Figures) -> f64;

/// The lines printed: label, value, decimals.
pub const LINES: [(&str, Pick, usize); 11] = [
    ("load (rows/s)", |f| f.load_rows_s, 0),
    ("peak RSS, load (MiB)", |f| f.load_peak_mib, 1),
    ("bytes on disk (MiB)", |f| f.disk_mib, 1),
    ("open + first get, cold process (ms)", |f| f.open_ms, 1),
    ("random point gets (gets/s)", |f| f.gets_s, 0),
    (
        "open + first get after a crash (ms)",
        |f| f.crash_open_ms,
        1,
    ),
    ("peak RSS, open + gets (MiB)", |f| f.read_peak_mib, 1),
    ("RSS after gets (MiB)", |f| f.read_rss_mib, 1),
    (
        "scan of ≤1M rows, fresh process (rows/s)",
        |f| f.scan_rows_s,
        0,
    ),
    ("peak RSS, scan (MiB)", |f| f.scan_peak_mib, 1),
    (
        "the scan, row states not decoded (rows/s)",
        |f| f.raw_scan_rows_s,
        0,
    ),
];

/// Print one size's figures, each engine's value with its ratio to SQLite's.
pub fn print(size: &[Figures]) {
    let Some(first) = size.first() else { return };
    let sqlite = size.iter().find(|f| f.engine == Engine::Sqlite);
    println!("\n{} rows", first.rows);
    print!("{:<42}", "figure");
    for f in size {
        print!(" {:>22}", f.engine.name());
    }
    println!();
    for (label, pick, decimals) in LINES {
        print!("{label:<42}");
        for f in size {
            let v = pick(f);
            let cell = match sqlite {
                Some(s) if f.engine != Engine::Sqlite => {
                    format!("{v:.decimals$} ({:.2}×)", v / pick(s).max(1e-9))
                }
                _ => format!("{v:.decimals$}"),
            };
            print!(" {cell:>22}");
        }
        println!();
    }
}
