//! `disk-bench`: issue 11's engine decision, measured. For tables of ~100 B
//! rows it loads, reopens and reads each engine **in its own child
//! process** (so each process's peak resident memory, `VmHWM`, is that
//! engine's alone) and prints every figure next to SQLite's with the
//! ratio, then draws them against table size.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin disk-bench -- [--rows N[,N…]] [--quick]
//!     [--engines sqlite,redb,redb-ckpt,redb-ckpt-qr,redb-kv,fjall,tablesync] [--cache-mib M] [--dir D]
//!     [--plot PATH | --no-plot] [--ours-max-rows N] [--keep DIR]
//! ```
//! `--rows` (default 1,000,000; e.g. `--rows 1000000,2000000,10000000`)
//! lists the table sizes; `--quick` is 2,000 and 5,000 rows (a smoke
//! run). The cache (default 256 MiB) is SQLite's `cache_size`, redb's
//! `set_cache_size` and fjall's `cache_size`; tablesync has none today.
//! Engines ([`engine::Engine`]): SQLite file (WAL, `synchronous=NORMAL`);
//! redb with a durable commit per batch; redb with durable commits every
//! 10,000 rows only (`redb-ckpt`: how it would sit under our WAL), and the
//! same with redb's quick repair on those commits (`redb-ckpt-qr`);
//! tablesync's page store (`RedbKv` through the core's `Vfs`) with
//! `redb-ckpt-qr`'s commits (`redb-kv`); fjall;
//! tablesync's durable region (`sync=batch`). redb and fjall store the
//! bytes a tablesync region would give them ([`row_bytes`], checked against
//! an in-memory region first) and decode each row state they read.
//!
//! Per size and engine: load rows/s (200 rows per commit), peak RSS of the
//! load, bytes on disk; in a fresh process open + first get (ms), 100,000
//! random point gets (as many as rows when fewer; gets/s), peak and final RSS; in another, a scan of
//! the first 1,000,000 rows (rows/s) — for redb and fjall a second one,
//! in its own process, without decoding the row states; then a child
//! rewrites 100,000 rows and exits without closing (a crash), and a last
//! one opens and reads again (open + first get after the crash, ms).
//! Reads are cold for the process, not for the OS page cache. Timings are printed, never asserted; a wrong
//! result (a row not found, a short scan, a child failing) exits non-zero.
//! The plot goes to `docs/benchmarks-disk.svg` unless `--plot`/`--no-plot`.
//! `--keep DIR` keeps each engine's data set in `DIR/<engine>-<rows>` and
//! reuses it on the next run with the same `--keep` (the load is skipped
//! and its figures are the first run's, read back from `DIR/<engine>-<rows>/loaded`),
//! so a 10M-row comparison need not load ~6 GiB again; the crash phases
//! are skipped (they would change the data set), printed as NaN. Remove
//! the directory yourself when done.
//! tablesync is measured only up to `--ours-max-rows` (default 3,000,000):
//! today it holds every row in memory (~2 GiB per million rows once open).

#[path = "../data.rs"]
#[allow(dead_code)]
mod data;
#[path = "../proc_stats.rs"]
mod proc_stats;
#[path = "../sqlite_file.rs"]
mod sqlite_file;

mod child;
mod engine;
mod fjall_store;
mod kv_store;
mod ours_store;
mod plot;
mod redb_store;
mod report;
mod row_bytes;
mod sqlite_store;
#[cfg(test)]
mod tests;

use engine::Engine;
use report::Figures;
use std::path::{Path, PathBuf};
use std::process::Command;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

fn usage() -> ! {
    eprintln!(
        "usage: disk-bench [--rows N[,N...]] [--quick] [--engines E[,E...]] [--cache-mib M] [--dir D] [--plot PATH | --no-plot] [--ours-max-rows N] [--keep DIR]"
    );
    std::process::exit(2)
}

struct Args {
    sizes: Vec<u64>,
    engines: Vec<Engine>,
    cache_mib: u64,
    dir: Option<PathBuf>,
    plot: Option<PathBuf>,
    ours_max_rows: u64,
    keep: Option<PathBuf>,
}

fn parse_args(args: Vec<String>) -> Args {
    let mut a = Args {
        sizes: vec![1_000_000],
        engines: Engine::ALL.to_vec(),
        cache_mib: 256,
        dir: None,
        plot: Some(PathBuf::from("docs/benchmarks-disk.svg")),
        ours_max_rows: 3_000_000,
        keep: None,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--rows" => {
                a.sizes = value()
                    .split(',')
                    .map(|s| s.replace('_', "").parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--quick" => a.sizes = vec![2_000, 5_000],
            "--engines" => {
                a.engines = value()
                    .split(',')
                    .map(|s| Engine::parse(s).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--cache-mib" => a.cache_mib = value().parse().unwrap_or_else(|_| usage()),
            "--dir" => a.dir = Some(PathBuf::from(value())),
            "--plot" => a.plot = Some(PathBuf::from(value())),
            "--no-plot" => a.plot = None,
            "--keep" => a.keep = Some(PathBuf::from(value())),
            "--ours-max-rows" => {
                a.ours_max_rows = value().replace('_', "").parse().unwrap_or_else(|_| usage())
            }
            _ => usage(),
        }
    }
    if a.sizes.iter().any(|&n| n < 1_000) || a.engines.is_empty() {
        usage()
    }
    a
}

/// Run a phase in a child process; the numbers it printed.
fn run_child(phase: &str, e: Engine, path: &Path, n: u64, cache: u64) -> Vec<f64> {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(format!("current exe: {e}")));
    let out = Command::new(exe)
        .args(["--child", phase, e.name()])
        .arg(path)
        .args([n.to_string(), cache.to_string()])
        .output()
        .unwrap_or_else(|err| fail(format!("child: {err}")));
    if !out.status.success() {
        fail(format!(
            "{} {phase} at {n} rows failed: {}",
            e.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|v| v.parse().unwrap_or_else(|_| fail("child output")))
        .collect()
}

/// Load (or, with `keep`, reuse), read and scan one engine at one size,
/// each in its own process.
fn measure(e: Engine, n: u64, cache: u64, tmp: &Path, keep: Option<&Path>) -> Figures {
    let dir = match keep {
        Some(k) => k.join(format!("{}-{n}", e.name())),
        None => tmp.join(e.name()),
    };
    let marker = dir.join("loaded");
    let path = dir.join("store");
    let mib = |kib: f64| kib / 1024.0;
    // With `keep`, a data set loaded by an earlier run is reused: its load
    // figures (seconds, peak KiB, RSS KiB, bytes on disk) are in `marker`.
    let kept: Option<Vec<f64>> = keep
        .and_then(|_| std::fs::read_to_string(&marker).ok())
        .map(|s| {
            s.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .filter(|v: &Vec<f64>| v.len() == 4);
    let (load, disk) = match kept {
        Some(v) => {
            eprintln!(
                "disk-bench: {} rows, {}: reusing {}",
                n,
                e.name(),
                dir.display()
            );
            (v[..3].to_vec(), v[3])
        }
        None => {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap_or_else(|err| fail(format!("{dir:?}: {err}")));
            eprintln!("disk-bench: {} rows, {}: load", n, e.name());
            let load = run_child("load", e, &path, n, cache);
            let disk = proc_stats::dir_bytes(&dir) as f64 / (1 << 20) as f64;
            if keep.is_some() && load.len() == 3 {
                let line = format!("{} {} {} {disk}\n", load[0], load[1], load[2]);
                std::fs::write(&marker, line)
                    .unwrap_or_else(|err| fail(format!("{marker:?}: {err}")));
            }
            (load, disk)
        }
    };
    eprintln!("disk-bench: {} rows, {}: open + gets, scan", n, e.name());
    let read = run_child("read", e, &path, n, cache);
    let scan = run_child("scan", e, &path, n, cache);
    let raw = if matches!(
        e,
        Engine::Redb | Engine::RedbCkpt | Engine::RedbCkptQr | Engine::RedbKv | Engine::Fjall
    ) {
        run_child("rawscan", e, &path, n, cache)
    } else {
        scan.clone()
    };
    let crashed = if keep.is_some() {
        vec![f64::NAN; 4]
    } else {
        eprintln!("disk-bench: {} rows, {}: crash, reopen", n, e.name());
        run_child("crash", e, &path, n, cache);
        let crashed = run_child("read", e, &path, n, cache);
        let _ = std::fs::remove_dir_all(&dir);
        crashed
    };
    if load.len() != 3 || read.len() != 4 || scan.len() != 2 || raw.len() != 2 || crashed.len() != 4
    {
        fail("child output");
    }
    Figures {
        engine: e,
        rows: n,
        load_rows_s: n as f64 / load[0],
        load_peak_mib: mib(load[1]),
        disk_mib: disk,
        open_ms: read[0],
        gets_s: read[1],
        crash_open_ms: crashed[0],
        read_peak_mib: mib(read[2]),
        read_rss_mib: mib(read[3]),
        scan_rows_s: scan[0],
        scan_peak_mib: mib(scan[1]),
        raw_scan_rows_s: raw[0],
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let [_, phase, engine, path, n, cache] = &args[..] else {
            usage()
        };
        let e = Engine::parse(engine).unwrap_or_else(|| usage());
        let n = n.parse().unwrap_or_else(|_| usage());
        let cache = cache.parse().unwrap_or_else(|_| usage());
        if let Err(err) = child::run(phase, e, Path::new(path), n, cache) {
            fail(format!("{} {phase}: {err}", e.name()));
        }
        return;
    }
    let a = parse_args(args);
    if let Err(e) = row_bytes::check_against_database(200) {
        fail(format!("row bytes: {e}"));
    }
    let tmp = match &a.dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .unwrap_or_else(|e| fail(format!("temp dir: {e}")));
    let cache = a.cache_mib << 20;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "disk-bench: ~100 B rows, {} rows per commit, cache {} MiB, each engine and phase in its own process; {} cores, load average {} at start; release build: {}",
        engine::BATCH,
        a.cache_mib,
        cores,
        load_average(),
        !cfg!(debug_assertions)
    );
    let mut all = Vec::new();
    for &n in &a.sizes {
        let size: Vec<Figures> = a
            .engines
            .iter()
            .filter(|&&e| {
                let skip = e == Engine::Ours && n > a.ours_max_rows;
                if skip {
                    println!(
                        "\n(tablesync skipped at {n} rows: it holds every row in memory, ~1.3-2 GiB per million; --ours-max-rows {})",
                        a.ours_max_rows
                    );
                }
                !skip
            })
            .map(|&e| measure(e, n, cache, tmp.path(), a.keep.as_deref()))
            .collect();
        report::print(&size);
        all.extend(size);
    }
    println!("\nload average at end: {}", load_average());
    if let Some(p) = &a.plot {
        let note = format!(
            "disk-bench: ~100 B rows, cache {} MiB, each engine in its own process ({} cores)",
            a.cache_mib, cores
        );
        if let Err(e) = plot::draw(p, &all, &note) {
            fail(format!("plot {}: {e}", p.display()));
        }
        println!("plot: {}", p.display());
    }
}
