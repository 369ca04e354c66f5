//! `storage-bench`: issue 11's figures for a durable region next to a
//! SQLite file database (WAL, `synchronous=NORMAL`, the same page-cache
//! size) measured in the same run. Timings are printed, never asserted;
//! results are checked (rows found) and a wrong result exits non-zero.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin storage-bench -- [--rows N] [--quick] [--dir D] [--cache-mib M]
//! ```
//! `--rows` (default 1,000,000) sizes the region; `--quick` is 20,000 rows
//! (a smoke test). Each read figure is taken in a fresh child process
//! (opened cold from disk, the OS page cache aside) so its peak resident
//! memory (`VmHWM`) is its own:
//!
//! - load: batched puts (200 rows per commit), rows/s;
//! - open after a clean close, then one point get: ms, and peak memory;
//! - 100,000 random point gets after that open: gets/s;
//! - range scan of every row, cold: rows/s;
//! - open after a crash (process exit without close) with 100,000 records
//!   past the last checkpoint: ms;
//! - checkpoint after 1,000 changed rows, in this region and in a
//!   10,000-row one: ms (the issue's target is a ratio ≤ 2);
//! - folding the delta chain into a full checkpoint (issue 13): what a
//!   background fold holds the database for (`begin_fold` + `finish_fold`)
//!   and what it does off the lock (`Fold::run`), next to the same region's
//!   inline full checkpoint (what one commit paid before): ms.

#[path = "../data.rs"]
#[allow(dead_code)]
mod data;
#[path = "../proc_stats.rs"]
mod proc_stats;
#[path = "../sqlite_file.rs"]
mod sqlite_file;

use proc_stats::{dir_bytes, status_kib};
use rusqlite::params;
use sqlite_file::{open as sqlite_open, put as sqlite_put};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tablesync::{
    Database, DatabaseOptions, GetOptions, PkBound, RangeBound, RangeOptions, SyncPolicy,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GETS: u64 = 100_000;
const CRASH_RECORDS: u64 = 100_000;
const CHANGED: u64 = 1_000;
const SMALL: u64 = 10_000;

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

fn or_fail<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(format!("{what}: {e}")))
}

fn usage() -> ! {
    eprintln!("usage: storage-bench [--rows N] [--quick] [--dir D] [--cache-mib M]");
    std::process::exit(2)
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn ours_options() -> DatabaseOptions {
    DatabaseOptions::new("bench").sync(SyncPolicy::Batch)
}

/// Load rows 1..=n into a new durable region; seconds.
fn load_ours(dir: &Path, n: u64) -> f64 {
    let t = Instant::now();
    let mut db = or_fail(Database::open(dir, ours_options()), "open");
    or_fail(db.create_table(data::schema()), "create table");
    let mut start = 1;
    while start <= n {
        let end = (start + 199).min(n);
        let ops = (start..=end).map(|u| data::rec(u as i64).put()).collect();
        for r in or_fail(db.batch_write(ops), "batch write") {
            or_fail(r, "put");
        }
        start = end + 1;
    }
    or_fail(db.close(), "close");
    secs(t)
}

/// Load rows 1..=n into a new SQLite file; seconds.
fn load_sqlite(path: &Path, n: u64, cache_mib: u64) -> f64 {
    let t = Instant::now();
    let mut c = or_fail(sqlite_open(path, cache_mib), "sqlite open");
    or_fail(sqlite_file::create_table(&c), "sqlite create");
    let mut start = 1;
    while start <= n {
        let end = (start + 199).min(n);
        let tx = or_fail(c.transaction(), "sqlite tx");
        for u in start..=end {
            or_fail(sqlite_put(&tx, &data::rec(u as i64)), "sqlite put");
        }
        or_fail(tx.commit(), "sqlite commit");
        start = end + 1;
    }
    drop(c);
    secs(t)
}

/// In a child: open, one get, `GETS` random gets, print
/// `open_ms first_get_ms gets_per_s hwm_kib`.
fn child_get(kind: &str, path: &Path, n: u64, cache_mib: u64) {
    let uids = data::probe_uids(GETS, n);
    let t = Instant::now();
    let (open_ms, first_ms, rate) = if kind == "ours" {
        let db = or_fail(Database::open(path, ours_options()), "open");
        let open_ms = secs(t) * 1e3;
        let t = Instant::now();
        let key = data::rec(1).key();
        let found = or_fail(db.get_row(data::TABLE, &key, &GetOptions::default()), "get");
        let first_ms = secs(t) * 1e3;
        if found.is_none() {
            fail("row 1 missing");
        }
        let t = Instant::now();
        let mut hits = 0;
        for u in &uids {
            let key = data::rec(*u).key();
            hits += or_fail(db.get_row(data::TABLE, &key, &GetOptions::default()), "get").is_some()
                as u64;
        }
        if hits != GETS {
            fail(format!("{hits} of {GETS} gets found their row"));
        }
        (open_ms, first_ms, GETS as f64 / secs(t))
    } else {
        let c = or_fail(sqlite_open(path, cache_mib), "sqlite open");
        let open_ms = secs(t) * 1e3;
        let t = Instant::now();
        let mut stmt = or_fail(
            c.prepare_cached("SELECT * FROM users WHERE uid = ?1"),
            "prep",
        );
        let first: Option<i64> = or_fail(
            stmt.query_row(params![1], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                }),
            "select",
        );
        let first_ms = secs(t) * 1e3;
        if first.is_none() {
            fail("sqlite row 1 missing");
        }
        let t = Instant::now();
        let mut hits = 0;
        for u in &uids {
            let mut rows = or_fail(stmt.query(params![u]), "select");
            if let Some(row) = or_fail(rows.next(), "select") {
                let rec = (
                    or_fail(row.get::<_, i64>(0), "column"),
                    or_fail(row.get::<_, String>(1), "column"),
                    or_fail(row.get::<_, Vec<u8>>(7), "column"),
                );
                std::hint::black_box(rec);
                hits += 1;
            }
        }
        if hits != GETS {
            fail(format!("sqlite: {hits} of {GETS} gets found their row"));
        }
        (open_ms, first_ms, GETS as f64 / secs(t))
    };
    println!("{open_ms} {first_ms} {rate} {}", status_kib("VmHWM:"));
}

/// In a child: open and scan every row; print `rows_per_s hwm_kib`.
fn child_scan(kind: &str, path: &Path, n: u64, cache_mib: u64) {
    let (rows, s) = if kind == "ours" {
        let db = or_fail(Database::open(path, ours_options()), "open");
        let t = Instant::now();
        let mut rows = 0u64;
        for r in db.scan(
            data::TABLE,
            RangeBound::new([("uid", PkBound::InfMin)]),
            RangeBound::new([("uid", PkBound::InfMax)]),
            RangeOptions::default(),
        ) {
            std::hint::black_box(or_fail(r, "scan"));
            rows += 1;
        }
        (rows, secs(t))
    } else {
        let c = or_fail(sqlite_open(path, cache_mib), "sqlite open");
        let t = Instant::now();
        let mut stmt = or_fail(c.prepare("SELECT * FROM users ORDER BY uid"), "prep");
        let mut q = or_fail(stmt.query([]), "scan");
        let mut rows = 0u64;
        while let Some(row) = or_fail(q.next(), "scan") {
            std::hint::black_box((
                or_fail(row.get::<_, i64>(0), "column"),
                or_fail(row.get::<_, String>(2), "column"),
            ));
            rows += 1;
        }
        (rows, secs(t))
    };
    if rows != n {
        fail(format!("{kind}: scanned {rows} rows of {n}"));
    }
    println!("{} {}", rows as f64 / s, status_kib("VmHWM:"));
}

/// In a child: checkpoint, write `CRASH_RECORDS` more rows' changes, exit
/// without closing (a process crash: the records are in the OS, the last
/// checkpoint is before them).
fn child_crash_writer(path: &Path, n: u64) -> ! {
    let mut db = or_fail(Database::open(path, ours_options()), "open");
    or_fail(db.checkpoint(), "checkpoint");
    let mut done = 0;
    while done < CRASH_RECORDS {
        let ops = (0..200)
            .map(|i| {
                let mut r = data::rec(((done + i) % n) as i64 + 1);
                r.visits += 1;
                r.put()
            })
            .collect();
        for r in or_fail(db.batch_write(ops), "batch write") {
            or_fail(r, "put");
        }
        done += 200;
    }
    or_fail(db.flush(), "flush");
    std::process::exit(0)
}

/// Change `CHANGED` rows of the region in `path`, then time a checkpoint; ms.
fn checkpoint_after_changes(path: &Path, n: u64) -> f64 {
    let mut db = or_fail(Database::open(path, ours_options()), "open");
    // Start from a full checkpoint (the load's log tail folded in), so the
    // timed one is the steady-state checkpoint: only what changed since.
    or_fail(db.checkpoint_full(), "checkpoint");
    // Distinct rows spread over the table.
    let ops = (0..CHANGED)
        .map(|i| {
            let mut r = data::rec((i * (n / CHANGED)) as i64 + 1);
            r.age += 1;
            r.put()
        })
        .collect::<Vec<_>>();
    for chunk in ops.chunks(200) {
        for r in or_fail(db.batch_write(chunk.to_vec()), "batch write") {
            or_fail(r, "put");
        }
    }
    let t = Instant::now();
    or_fail(db.checkpoint(), "checkpoint");
    let ms = secs(t) * 1e3;
    or_fail(db.close(), "close");
    ms
}

/// A background fold of a one-delta chain on the region in `path`, next to
/// an inline full checkpoint of the same region: (inline full, fold steps
/// under the database — begin + finish —, fold work off it), ms.
fn fold_costs(path: &Path) -> (f64, f64, f64) {
    let mut db = or_fail(Database::open(path, ours_options()), "open");
    let t = Instant::now();
    or_fail(db.checkpoint_full(), "checkpoint");
    let inline = secs(t) * 1e3;
    let ops = (0..CHANGED)
        .map(|i| {
            let mut r = data::rec(i as i64 * 7 + 1);
            r.age += 2;
            r.put()
        })
        .collect::<Vec<_>>();
    for chunk in ops.chunks(200) {
        for r in or_fail(db.batch_write(chunk.to_vec()), "batch write") {
            or_fail(r, "put");
        }
    }
    or_fail(db.checkpoint(), "delta checkpoint");
    db.set_background_folds(true);
    let t = Instant::now();
    let fold = or_fail(db.begin_fold(), "begin fold").unwrap_or_else(|| fail("no fold to run"));
    let begin = secs(t);
    let t = Instant::now();
    let done = fold.run();
    let work = secs(t) * 1e3;
    let t = Instant::now();
    if !or_fail(db.finish_fold(done), "finish fold") {
        fail("the fold was not installed");
    }
    let held = (begin + secs(t)) * 1e3;
    or_fail(db.close(), "close");
    (inline, held, work)
}

/// Rows changed before each delta of [`delta_costs`] (spread over the table).
const DELTA_CHANGED: u64 = 20_000;

/// Change [`DELTA_CHANGED`] rows of the region in `path` (bump `age` by
/// `by`) in batches.
fn change_rows(db: &mut Database, n: u64, by: i64) {
    let step = (n / DELTA_CHANGED).max(1);
    let ops = (0..DELTA_CHANGED.min(n))
        .map(|i| {
            let mut r = data::rec((i * step) as i64 + 1);
            r.age += by;
            r.put()
        })
        .collect::<Vec<_>>();
    for chunk in ops.chunks(200) {
        for r in or_fail(db.batch_write(chunk.to_vec()), "batch write") {
            or_fail(r, "put");
        }
    }
}

/// A delta checkpoint of [`DELTA_CHANGED`] changed rows written inline,
/// then one of as many other changes written in the background, on the
/// same open region: (inline delta, background steps under the database —
/// begin + finish —, DeltaCheckpoint::run off it), ms.
fn delta_costs(path: &Path, n: u64) -> (f64, f64, f64) {
    let mut db = or_fail(Database::open(path, ours_options()), "open");
    // As under a driver: commits leave checkpoints to it, so the changes
    // below are still there for the background delta.
    db.set_background_deltas(true);
    or_fail(db.checkpoint_full(), "checkpoint");
    change_rows(&mut db, n, 3);
    let t = Instant::now();
    or_fail(db.checkpoint(), "delta checkpoint");
    let inline = secs(t) * 1e3;
    change_rows(&mut db, n, 4);
    let t = Instant::now();
    let delta = or_fail(db.begin_delta(), "begin delta")
        .unwrap_or_else(|| fail("no background delta to write"));
    let begin = secs(t);
    let t = Instant::now();
    let done = delta.run();
    let work = secs(t) * 1e3;
    let t = Instant::now();
    if !or_fail(db.finish_delta(done), "finish delta") {
        fail("the delta was not installed");
    }
    let held = (begin + secs(t)) * 1e3;
    or_fail(db.close(), "close");
    (inline, held, work)
}

fn run_child(args: &[String]) -> Vec<f64> {
    let exe = or_fail(std::env::current_exe(), "current exe");
    let out = or_fail(Command::new(exe).args(args).output(), "child");
    if !out.status.success() {
        fail(format!(
            "child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|v| or_fail(v.parse::<f64>(), "child output"))
        .collect()
}

fn line(figure: &str, ours: String, reference: String, ratio: f64, target: &str) {
    println!("{figure:<58} {ours:>16} {reference:>16} {ratio:>8.2}  {target}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let [_, what, kind, path, n, cache] = &args[..] else {
            usage()
        };
        let n: u64 = or_fail(n.parse(), "rows");
        let cache: u64 = or_fail(cache.parse(), "cache");
        let path = Path::new(path);
        match what.as_str() {
            "get" => child_get(kind, path, n, cache),
            "scan" => child_scan(kind, path, n, cache),
            "crash" => child_crash_writer(path, n),
            _ => usage(),
        }
        return;
    }
    let (mut rows, mut dir, mut cache_mib) = (1_000_000u64, None::<PathBuf>, 256u64);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--rows" => rows = or_fail(value().replace('_', "").parse(), "--rows"),
            "--quick" => rows = 20_000,
            "--dir" => dir = Some(PathBuf::from(value())),
            "--cache-mib" => cache_mib = or_fail(value().parse(), "--cache-mib"),
            _ => usage(),
        }
    }
    if rows < SMALL {
        fail(format!("--rows must be at least {SMALL}"));
    }
    let tmp = or_fail(
        match &dir {
            Some(d) => tempfile::tempdir_in(d),
            None => tempfile::tempdir(),
        },
        "temp dir",
    );
    let ours = tmp.path().join("ours");
    let lite = tmp.path().join("sqlite.db");
    let (n, c) = (rows.to_string(), cache_mib.to_string());
    let child = |what: &str, kind: &str, path: &Path| {
        run_child(&[
            "--child".into(),
            what.into(),
            kind.into(),
            path.display().to_string(),
            n.clone(),
            c.clone(),
        ])
    };
    println!(
        "storage-bench: {rows} rows of ~100 B; SQLite file, WAL, synchronous=NORMAL, cache {cache_mib} MiB; tablesync durable, sync=batch"
    );
    println!(
        "{:<58} {:>16} {:>16} {:>8}  target",
        "figure", "tablesync", "SQLite", "ratio"
    );
    let lo = load_ours(&ours, rows);
    let ls = load_sqlite(&lite, rows, cache_mib);
    line(
        "load (rows/s)",
        format!("{:.0}", rows as f64 / lo),
        format!("{:.0}", rows as f64 / ls),
        ls / lo,
        "≥ 1",
    );
    let (bo, bs) = (
        dir_bytes(&ours),
        dir_bytes(&lite) + dir_bytes(&tmp.path().join("sqlite.db-wal")),
    );
    line(
        "size on disk (MiB)",
        format!("{:.1}", bo as f64 / 1048576.0),
        format!("{:.1}", bs as f64 / 1048576.0),
        bo as f64 / bs.max(1) as f64,
        "",
    );
    let go = child("get", "ours", &ours);
    let gs = child("get", "sqlite", &lite);
    line(
        "open after a clean close + first get (ms)",
        format!("{:.1}", go[0] + go[1]),
        format!("{:.1}", gs[0] + gs[1]),
        (go[0] + go[1]) / (gs[0] + gs[1]).max(1e-6),
        "≤ 2",
    );
    line(
        "random point gets after open (gets/s)",
        format!("{:.0}", go[2]),
        format!("{:.0}", gs[2]),
        go[2] / gs[2].max(1e-9),
        "≥ 1",
    );
    line(
        "peak resident memory, open + gets (MiB)",
        format!("{:.1}", go[3] / 1024.0),
        format!("{:.1}", gs[3] / 1024.0),
        go[3] / gs[3].max(1.0),
        "≤ 1.2",
    );
    let so = child("scan", "ours", &ours);
    let ss = child("scan", "sqlite", &lite);
    line(
        "range scan of every row, cold (rows/s)",
        format!("{:.0}", so[0]),
        format!("{:.0}", ss[0]),
        so[0] / ss[0].max(1e-9),
        "≥ 1",
    );
    line(
        "peak resident memory, scan (MiB)",
        format!("{:.1}", so[1] / 1024.0),
        format!("{:.1}", ss[1] / 1024.0),
        so[1] / ss[1].max(1.0),
        "",
    );
    let small = tmp.path().join("small");
    load_ours(&small, SMALL);
    let cb = checkpoint_after_changes(&ours, rows);
    let cs = checkpoint_after_changes(&small, SMALL);
    println!(
        "{:<58} {:>16} {:>16} {:>8}  target",
        "", "this region", "10,000 rows", ""
    );
    line(
        "checkpoint after 1,000 changed rows (ms)",
        format!("{cb:.1}"),
        format!("{cs:.1}"),
        cb / cs.max(1e-6),
        "≤ 2",
    );
    let (inline, held, work) = fold_costs(&ours);
    line(
        "fold: database held, background (begin + finish, ms)",
        format!("{held:.2}"),
        format!("{inline:.1} inline"),
        held / inline.max(1e-6),
        "≪ 1 (vs the inline full checkpoint)",
    );
    line(
        "fold: work off the lock, background (Fold::run, ms)",
        format!("{work:.1}"),
        format!("{inline:.1} inline"),
        work / inline.max(1e-6),
        "",
    );
    let (inline, held, work) = delta_costs(&ours, rows);
    line(
        "delta, 20,000 changed rows: database held, background (ms)",
        format!("{held:.2}"),
        format!("{inline:.1} inline"),
        held / inline.max(1e-6),
        "≪ 1 (vs the inline delta, same run)",
    );
    line(
        "delta, 20,000 changed rows: work off the lock (run, ms)",
        format!("{work:.1}"),
        format!("{inline:.1} inline"),
        work / inline.max(1e-6),
        "",
    );
    child("crash", "ours", &ours);
    let gc = child("get", "ours", &ours);
    line(
        "open after a crash, 100,000 records past the checkpoint + first get (ms)",
        format!("{:.1}", gc[0] + gc[1]),
        format!("{:.1}", gs[0] + gs[1]),
        (gc[0] + gc[1]) / (gs[0] + gs[1]).max(1e-6),
        "≤ 2 (vs SQLite open + first query)",
    );
}
