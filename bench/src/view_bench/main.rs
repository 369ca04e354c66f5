//! `view-bench`: issue 11 item 5 — point-get throughput of reader threads
//! while one writer commits, through the region server's `Region` with
//! reads on the lock (`Region::read`, the reference, same run) and on read
//! views (`Region::read_view`), and what views cost the writer. Timings are
//! printed, never asserted; every get must find its row.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin view-bench -- [--rows N] [--readers R] [--secs S] [--memory] [--quick]
//! ```
//! Default: a durable region (fsync at every commit, `SyncPolicy::Always`)
//! of 100,000 ~100-byte rows in a temporary directory (under `--dir`), 1
//! reader thread (one core each on a 2-core machine), 3 s per mode; the
//! writer commits batches of 100 consecutive rows from a random start back
//! to back. Latency percentiles are over every get of the mode.
//! `--memory` uses an in-memory region (no fsync: commits are short, so
//! the lock matters less and the view's index copy more).

#[path = "../data.rs"]
#[allow(dead_code)]
mod data;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tablesync::{Database, DatabaseOptions, GetOptions, SyncPolicy};
use tablesync_http::{Region, SharedDb};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

struct Args {
    rows: u64,
    readers: usize,
    secs: f64,
    memory: bool,
    dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        rows: 100_000,
        readers: 1,
        secs: 3.0,
        memory: false,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = |name: &str| -> f64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| fail(format!("{name} takes a number")))
        };
        match x.as_str() {
            "--rows" => a.rows = num("--rows") as u64,
            "--readers" => a.readers = num("--readers") as usize,
            "--secs" => a.secs = num("--secs"),
            "--memory" => a.memory = true,
            "--dir" => {
                a.dir = Some(
                    it.next()
                        .map(std::path::PathBuf::from)
                        .unwrap_or_else(|| fail("--dir takes a path")),
                )
            }
            "--quick" => {
                a.rows = 5_000;
                a.secs = 0.3;
            }
            other => fail(format!("unknown argument {other}")),
        }
    }
    a
}

/// Gets/s of the readers, commits/s of the writer, get latency
/// percentiles (µs).
struct Figures {
    gets: f64,
    commits: f64,
    p50: u32,
    p99: u32,
    p999: u32,
    max: u32,
}

fn run(region: &Arc<Region>, a: &Args, views: bool) -> Figures {
    let stop = Arc::new(AtomicBool::new(false));
    let gets = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..a.readers)
        .map(|r| {
            let (region, stop, gets) = (region.clone(), stop.clone(), gets.clone());
            let rows = a.rows;
            std::thread::spawn(move || {
                let mut lat: Vec<u32> = Vec::with_capacity(1 << 20);
                let mut x = r as u64 * 7919 + 1;
                while !stop.load(Ordering::Relaxed) {
                    x = data::mix(x);
                    let key = data::rec((x % rows) as i64 + 1).key();
                    let t = Instant::now();
                    let row = if views {
                        region.read_view("read:get", |db| {
                            db.get_row(data::TABLE, &key, &GetOptions::default())
                        })
                    } else {
                        region.read("read:get", |db| {
                            db.get_row(data::TABLE, &key, &GetOptions::default())
                        })
                    };
                    lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    match row {
                        Ok(Some(_)) => {}
                        _ => fail("a get did not find its row"),
                    }
                    gets.fetch_add(1, Ordering::Relaxed);
                }
                lat
            })
        })
        .collect();
    let t = Instant::now();
    let mut commits = 0u64;
    let mut x = if views { 17 } else { 29 };
    while t.elapsed().as_secs_f64() < a.secs {
        // 100 distinct rows from a random start (a batch may not write a
        // row twice).
        x = data::mix(x);
        let start = x % a.rows;
        let ops = (0..100.min(a.rows))
            .map(|i| data::rec(((start + i) % a.rows) as i64 + 1).put())
            .collect();
        region
            .write("batch", |db| db.batch_write(ops))
            .unwrap_or_else(|_| fail("a commit failed"));
        commits += 1;
    }
    let took = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    let mut lat = Vec::new();
    for r in readers {
        lat.extend(r.join().unwrap_or_else(|_| fail("a reader panicked")));
    }
    lat.sort_unstable();
    let at = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Figures {
        gets: gets.load(Ordering::SeqCst) as f64 / took,
        commits: commits as f64 / took,
        p50: at(0.5),
        p99: at(0.99),
        p999: at(0.999),
        max: lat.last().copied().unwrap_or(0),
    }
}

fn main() {
    let a = args();
    let dir = match &a.dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .unwrap_or_else(|e| fail(e));
    let mut db = if a.memory {
        Database::memory(DatabaseOptions::new("bench"))
    } else {
        Database::open(
            dir.path(),
            DatabaseOptions::new("bench").sync(SyncPolicy::Always),
        )
    }
    .unwrap_or_else(|e| fail(e));
    db.create_table(data::schema()).unwrap_or_else(|e| fail(e));
    for b in data::batches(&data::recs(a.rows)) {
        db.batch_write(b).unwrap_or_else(|e| fail(e));
    }
    let pages = db.page_stats(data::TABLE).map(|s| s.pages).unwrap_or(0);
    let region = Arc::new(Region::new(SharedDb::from(db), None));
    println!(
        "view-bench: {} rows ({pages} pages), {}, {} readers, one writer committing 100-row batches, {:.1} s a mode",
        a.rows,
        if a.memory { "in memory" } else { "durable, fsync per commit" },
        a.readers,
        a.secs
    );
    // Reference first, then views, then the reference again (drift check).
    let lock = run(&region, &a, false);
    let view = run(&region, &a, true);
    let lock2 = run(&region, &a, false);
    let line = |name: &str, f: &Figures| {
        println!(
            "{name:<24} {:>10.0} gets/s {:>7.1} commits/s   get p50 {:>5} µs  p99 {:>6} µs  p99.9 {:>6} µs  max {:>7} µs",
            f.gets, f.commits, f.p50, f.p99, f.p999, f.max
        );
    };
    line("reads on the lock", &lock);
    line("reads on views", &view);
    line("reads on the lock again", &lock2);
    let ref_gets = (lock.gets + lock2.gets) / 2.0;
    let ref_commits = (lock.commits + lock2.commits) / 2.0;
    println!(
        "views / lock (mean of the two lock runs): gets {:.2}x, commits {:.2}x",
        view.gets / ref_gets,
        view.commits / ref_commits
    );
}
