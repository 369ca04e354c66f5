//! `paged-bench`: issue 11's checkpoint figure. A paged region's checkpoint
//! should cost what changed, not the table: load a small table (the
//! reference, default 10,000 rows) and a large one (default 1,000,000;
//! `--rows 10000000` for the issue's 10M) of ~100 B rows into paged regions
//! with a 256 MiB cache, checkpoint, change 1,000 random rows, and time the
//! checkpoint that stores them. Prints both times, the pages and bytes each
//! wrote, and the ratio large/small (the issue's target: ≤ 2×). Timings
//! are printed, never asserted; a wrong read exits non-zero.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin paged-bench -- [--small N] [--rows N] [--changed N] [--repeat R]
//! ```

#[path = "../data.rs"]
#[allow(dead_code)]
mod data;

use std::time::Instant;
use tablesync::{Database, DatabaseOptions, GetOptions, SyncPolicy};

/// mimalloc, as the shipped CLI and Python module use (and `disk-bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    small: u64,
    large: u64,
    changed: u64,
    repeat: usize,
}

fn args() -> Args {
    let mut a = Args {
        small: 10_000,
        large: 1_000_000,
        changed: 1_000,
        repeat: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = || -> u64 {
            it.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| usage())
        };
        match flag.as_str() {
            "--small" => a.small = num(),
            "--rows" => a.large = num(),
            "--changed" => a.changed = num(),
            "--repeat" => a.repeat = num().max(1) as usize,
            "--quick" => {
                a.small = 2_000;
                a.large = 20_000;
                a.changed = 100;
                a.repeat = 2;
            }
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!("usage: paged-bench [--small N] [--rows N] [--changed N] [--repeat R] [--quick]");
    std::process::exit(2)
}

/// What one table size measured.
struct Figure {
    rows: u64,
    load_s: f64,
    /// Median checkpoint time after the change, ms.
    checkpoint_ms: f64,
    pages: usize,
    bytes: usize,
}

fn measure(rows: u64, changed: u64, repeat: usize) -> Result<Figure, String> {
    let err = |e: tablesync::Error| e.to_string();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let options = DatabaseOptions::new("bench")
        .sync(SyncPolicy::Batch)
        .cache_bytes(256 << 20)
        .retention(tablesync::Retention {
            max_records: Some(100_000),
            max_age_ms: None,
        });
    let mut db = Database::open(dir.path(), options).map_err(err)?;
    db.create_table(data::schema()).map_err(err)?;
    let t0 = Instant::now();
    let mut uid = 1i64;
    while uid as u64 <= rows {
        let end = (uid + 199).min(rows as i64);
        let ops = (uid..=end).map(|u| data::rec(u).put()).collect();
        for r in db.batch_write(ops).map_err(err)? {
            r.map_err(err)?;
        }
        uid = end + 1;
    }
    db.checkpoint().map_err(err)?;
    let load_s = t0.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(repeat);
    let (mut pages, mut bytes) = (0, 0);
    for round in 0..repeat {
        for i in 0..changed {
            let u = 1 + (data::mix(i * 7919 + round as u64 * 1_000_003) % rows) as i64;
            let mut r = data::rec(u);
            r.visits += 1 + round as i64;
            let ops = vec![r.put()];
            for r in db.batch_write(ops).map_err(err)? {
                r.map_err(err)?;
            }
        }
        let t = Instant::now();
        db.checkpoint().map_err(err)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        let s = db.paged_stats().ok_or("not paged")?;
        (pages, bytes) = (s.checkpoint_pages, s.checkpoint_bytes);
    }
    let probe = data::rec(rows as i64 / 2 + 1);
    if db
        .get_row(data::TABLE, &probe.key(), &GetOptions::default())
        .map_err(err)?
        .is_none()
    {
        return Err(format!("row {} missing", probe.uid));
    }
    times.sort_by(f64::total_cmp);
    Ok(Figure {
        rows,
        load_s,
        checkpoint_ms: times[times.len() / 2],
        pages,
        bytes,
    })
}

fn main() {
    let a = args();
    println!(
        "paged-bench: checkpoint after {} changed rows (1 row per commit, sync=batch, cache 256 MiB), median of {}",
        a.changed, a.repeat
    );
    let mut figures = Vec::new();
    for rows in [a.small, a.large] {
        match measure(rows, a.changed, a.repeat) {
            Ok(f) => {
                println!(
                    "  {:>11} rows: load {:>7.1} s ({:>9.0} rows/s); checkpoint {:>8.2} ms, {} pages, {} bytes",
                    f.rows,
                    f.load_s,
                    f.rows as f64 / f.load_s,
                    f.checkpoint_ms,
                    f.pages,
                    f.bytes
                );
                figures.push(f);
            }
            Err(e) => {
                eprintln!("paged-bench: {rows} rows: {e}");
                std::process::exit(1);
            }
        }
    }
    let (s, l) = (&figures[0], &figures[1]);
    println!(
        "  ratio {}-row / {}-row checkpoint: {:.2}× (target ≤ 2×)",
        l.rows,
        s.rows,
        l.checkpoint_ms / s.checkpoint_ms
    );
}
