//! `bench-compare`: tablesync's figures next to references measured in the
//! same run (SQLite through rusqlite, raw SHA-256, raw row bytes), with the
//! ratio and the issue's target for each.
//!
//! ```text
//! cargo run --release -p tablesync-bench --bin bench-compare -- [--rows N] [--mem-rows M] [--quick] [--dir D] [--skip-memory]
//! ```
//! `--rows` (default 100,000) sizes every benchmark but memory; `--mem-rows`
//! (default 1,000,000) sizes the memory one; `--quick` runs 2,000 / 20,000
//! rows as a smoke test (CI runs it so this code keeps working). Timings are
//! printed, never asserted; results are checked for correctness (rows found,
//! digests equal) and a wrong result exits non-zero.
//!
//! `--scaling` instead measures batched put and point get against table size
//! (100,000 → 1,000,000 rows; 2,000 → 20,000 with `--quick`) for tablesync
//! and SQLite in-memory, prints the ratios and draws `--plot PATH` (default
//! `docs/benchmarks-scaling.svg`).

mod data;
mod memory;
mod ours;
mod report;
mod scaling;
mod sqlite;

use report::Line;
use sqlite::Mode;
use std::path::PathBuf;
use tablesync::SyncPolicy;

/// mimalloc instead of the system allocator: glibc's malloc spends more time
/// than the engine on the many small row and record allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    rows: u64,
    mem_rows: u64,
    quick: bool,
    dir: Option<PathBuf>,
    skip_memory: bool,
    memory_child: Option<memory::Kind>,
    scaling: bool,
    plot: PathBuf,
}

fn usage() -> ! {
    eprintln!("usage: bench-compare [--rows N] [--mem-rows M] [--quick] [--dir D] [--skip-memory] [--scaling [--plot PATH]]");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        rows: 100_000,
        mem_rows: 1_000_000,
        quick: false,
        dir: None,
        skip_memory: false,
        memory_child: None,
        scaling: false,
        plot: PathBuf::from("docs/benchmarks-scaling.svg"),
    };
    let mut rows_given = false;
    let mut mem_given = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next().unwrap_or_else(|| {
                eprintln!("error: {name} needs a value");
                usage()
            })
        };
        let num = |s: String| -> u64 {
            s.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("error: {s:?} is not a number");
                usage()
            })
        };
        match arg.as_str() {
            "--rows" => {
                a.rows = num(value("--rows"));
                rows_given = true;
            }
            "--mem-rows" => {
                a.mem_rows = num(value("--mem-rows"));
                mem_given = true;
            }
            "--quick" => a.quick = true,
            "--skip-memory" => a.skip_memory = true,
            "--scaling" => a.scaling = true,
            "--plot" => a.plot = PathBuf::from(value("--plot")),
            "--dir" => a.dir = Some(PathBuf::from(value("--dir"))),
            "--memory-child" => {
                let v = value("--memory-child");
                a.memory_child = Some(memory::Kind::parse(&v).unwrap_or_else(|| usage()));
            }
            "-h" | "--help" => usage(),
            other => {
                eprintln!("error: unknown argument {other:?}");
                usage()
            }
        }
    }
    if a.quick {
        if !rows_given {
            a.rows = 2_000;
        }
        if !mem_given {
            a.mem_rows = 20_000;
        }
    }
    if a.rows < 200 || a.mem_rows < 200 {
        eprintln!("error: --rows and --mem-rows must be at least 200");
        usage()
    }
    a
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

fn check(ok: bool, what: &str) {
    if !ok {
        fail(format!("wrong result: {what}"));
    }
}

trait OrFail<T> {
    fn or_fail(self, what: &str) -> T;
}
impl<T, E: std::fmt::Display> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> T {
        self.unwrap_or_else(|e| fail(format!("{what}: {e}")))
    }
}

fn per_sec(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn main() {
    let a = parse_args();
    if let Some(kind) = a.memory_child {
        memory::child(kind, a.mem_rows).unwrap_or_else(|e| fail(e));
        return;
    }
    let tmp = match &a.dir {
        Some(d) => {
            std::fs::create_dir_all(d).or_fail("creating --dir");
            tempfile::tempdir_in(d)
        }
        None => tempfile::tempdir(),
    }
    .or_fail("creating a temporary directory");
    let dir = tmp.path();
    if a.scaling {
        let sizes: &[u64] = if a.quick {
            &[2_000, 5_000, 10_000, 20_000]
        } else {
            &[100_000, 250_000, 500_000, 750_000, 1_000_000]
        };
        println!(
            "bench-compare --scaling: batched put and point get vs table size; release build: {}",
            !cfg!(debug_assertions)
        );
        let points = scaling::measure(sizes, dir).unwrap_or_else(|e| fail(e));
        scaling::print(&points);
        scaling::plot(&a.plot, &points).unwrap_or_else(|e| fail(e));
        println!("plot written to {}", a.plot.display());
        return;
    }
    let n = a.rows;
    println!(
        "bench-compare: {n} rows (memory: {} rows){}; release build: {}",
        a.mem_rows,
        if a.quick {
            ", --quick smoke run: figures are not meaningful"
        } else {
            ""
        },
        !cfg!(debug_assertions)
    );
    let mut lines: Vec<Line> = Vec::new();
    let line =
        |name: &str, ours: f64, rl: &str, rv: f64, unit: &'static str, target: Option<f64>| Line {
            name: name.into(),
            ours,
            reference: (rl.into(), rv),
            unit,
            higher_is_better: true,
            target,
        };

    if !a.skip_memory {
        let (ours_b, raw) = memory::measure(memory::Kind::Ours, a.mem_rows).or_fail("memory");
        let (capped_b, _) =
            memory::measure(memory::Kind::OursCappedLog, a.mem_rows).or_fail("memory");
        let (sqlite_b, _) = memory::measure(memory::Kind::Sqlite, a.mem_rows).or_fail("memory");
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let raw_label = format!("raw row bytes ({} rows)", a.mem_rows);
        for (name, bytes) in [
            (
                "resident memory, change log kept (default retention)",
                ours_b,
            ),
            (
                "resident memory, change log capped at 10,000 records",
                capped_b,
            ),
        ] {
            lines.push(Line {
                name: name.into(),
                ours: mib(bytes),
                reference: (raw_label.clone(), mib(raw)),
                unit: "MiB",
                higher_is_better: false,
                target: Some(2.0),
            });
        }
        lines.push(Line {
            name: "resident memory, SQLite in-memory (for comparison)".into(),
            ours: mib(sqlite_b),
            reference: (raw_label, mib(raw)),
            unit: "MiB",
            higher_is_better: false,
            target: None,
        });
    }

    let recs = data::recs(n);
    // Batched put.
    let mut db = ours::memory_db("bench").or_fail("open");
    let t_ours = ours::batched_put(&mut db, &recs).or_fail("batched put");
    check(
        db.describe_table(data::TABLE).or_fail("describe").row_count == n,
        "rows after batched put",
    );
    let mut conns = Vec::new();
    for mode in [Mode::Memory, Mode::WalNormal] {
        let mut c = sqlite::open(mode, dir).or_fail("sqlite open");
        let (t, r) = ours::timed(|| sqlite::insert_batched(&mut c, &recs));
        r.or_fail("sqlite insert");
        let target = (mode == Mode::Memory).then_some(1.0);
        lines.push(line(
            "batched put (200 rows/batch), in-memory",
            per_sec(n, t_ours),
            mode.label(),
            per_sec(n, t),
            "rows/s",
            target,
        ));
        conns.push((mode, c));
    }

    // Single put.
    {
        let mut single = ours::memory_db("single").or_fail("open");
        let t_ours = ours::single_put(&mut single, &recs).or_fail("single put");
        check(
            single.table_digest(data::TABLE).or_fail("digest") != tablesync::Digest::default(),
            "digest after single put",
        );
        for mode in [Mode::Memory, Mode::WalNormal] {
            let mut c = sqlite::open(mode, dir).or_fail("sqlite open");
            let (t, r) = ours::timed(|| sqlite::insert_single(&mut c, &recs));
            r.or_fail("sqlite insert");
            lines.push(line(
                "single put (one row per commit), in-memory",
                per_sec(n, t_ours),
                mode.label(),
                per_sec(n, t),
                "rows/s",
                None,
            ));
        }
    }

    // Point get.
    let uids = data::probe_uids(n, n);
    let (t_ours, found) = ours::point_get(&db, &uids).or_fail("point get");
    check(found == n, "every probed row found");
    for (mode, c) in &conns {
        let (t, r) = ours::timed(|| sqlite::point_get(c, &uids));
        check(r.or_fail("sqlite select") == n, "sqlite found every row");
        let target = (*mode == Mode::Memory).then_some(2.0);
        lines.push(line(
            "point get (random keys)",
            per_sec(n, t_ours),
            mode.label(),
            per_sec(n, t),
            "rows/s",
            target,
        ));
    }

    // Range scan: pages of 100 rows from random starts, n rows in all.
    let page = 100usize;
    let starts = data::probe_uids(n / page as u64, n - page as u64);
    let (t_ours, read) = ours::range_scan(&db, &starts, page).or_fail("range scan");
    check(read == n / page as u64 * page as u64, "range rows read");
    for (mode, c) in &conns {
        let (t, r) = ours::timed(|| sqlite::range_scan(c, &starts, page));
        check(r.or_fail("sqlite range") == read, "sqlite range rows");
        lines.push(line(
            "range scan (100-row pages)",
            per_sec(read, t_ours),
            mode.label(),
            per_sec(read, t),
            "rows/s",
            None,
        ));
    }
    drop(conns);

    // apply_changes.
    let records = ours::all_records(&db).or_fail("changes_since");
    let (t, applied, same) = ours::apply(&records, &db).or_fail("apply_changes");
    check(
        applied == records.len() as u64 && same,
        "replica digest equals source after apply_changes",
    );
    lines.push(line(
        "apply_changes into an empty region",
        per_sec(applied, t),
        "target",
        1_000_000.0,
        "rows/s",
        Some(1.0),
    ));
    let encoded: Vec<Vec<u8>> = records
        .iter()
        .map(tablesync::codec::record::encode_record)
        .collect();
    drop(records);
    let (t, applied, same) = ours::apply_sync_path(&encoded, &db).or_fail("sync-path apply");
    check(
        applied == n && same,
        "replica digest equals source after the sync-path apply",
    );
    lines.push(line(
        "apply_changes on the sync path (decode record bytes + apply_changes_owned)",
        per_sec(applied, t),
        "issue target",
        2_000_000.0,
        "rows/s",
        Some(1.0),
    ));
    let (t, applied, same) = ours::apply_over_frames(&mut db).or_fail("sync session");
    check(
        applied == n && same,
        "replica digest equals source after an incremental pull",
    );
    lines.push(line(
        "apply over sync frames (incremental pull session, both sides)",
        per_sec(applied, t),
        "issue target",
        2_000_000.0,
        "rows/s",
        Some(1.0),
    ));
    let (t, applied, same) = ours::apply_bytes(&encoded, &db).or_fail("apply_change_bytes");
    check(
        applied == n && same,
        "replica digest equals source after apply_change_bytes",
    );
    lines.push(line(
        "apply_change_bytes (record bytes kept for the log)",
        per_sec(applied, t),
        "issue target",
        2_000_000.0,
        "rows/s",
        Some(1.0),
    ));
    drop(encoded);

    // Digest rescan.
    let inputs = ours::digest_inputs(&db).or_fail("digest inputs");
    let bytes: u64 = inputs.iter().map(|b| b.len() as u64).sum();
    let (t_raw, acc) = ours::raw_sha(&inputs);
    check(
        acc.digest() == db.table_digest(data::TABLE).or_fail("digest"),
        "rebuilt digest input matches the table digest",
    );
    let (t_ours, r) = ours::timed(|| db.verify_table_digest(data::TABLE));
    r.or_fail("verify_table_digest");
    let mibs = |t: f64| bytes as f64 / t.max(1e-9) / (1024.0 * 1024.0);
    lines.push(line(
        "digest rescan (verify_table_digest)",
        mibs(t_ours),
        "raw SHA-256 of the same row bytes",
        mibs(t_raw),
        "MiB/s",
        Some(0.8),
    ));
    drop(db);
    drop(inputs);

    // Durable loading: the default (rows in the page store), and for
    // group commit also with every row in memory.
    for (policy, mode, target, in_memory) in [
        (SyncPolicy::Batch, Mode::WalNormal, Some(1.0), false),
        (SyncPolicy::Batch, Mode::WalNormal, None, true),
        (SyncPolicy::Always, Mode::WalFull, None, false),
    ] {
        let ddir = dir.join(format!("durable-{policy:?}-{in_memory}"));
        let t_ours = ours::durable_load(&ddir, policy, &recs, in_memory).or_fail("durable load");
        let mut reopen = tablesync::DatabaseOptions::new("bench");
        if in_memory {
            reopen = reopen.rows_in_memory();
        }
        let reopened = tablesync::Database::open(&ddir, reopen).or_fail("reopen");
        check(
            reopened
                .describe_table(data::TABLE)
                .or_fail("describe")
                .row_count
                == n,
            "rows after reopening the durable region",
        );
        drop(reopened);
        let (t, r) = ours::timed(|| -> rusqlite::Result<()> {
            let mut c = sqlite::open(mode, dir)?;
            sqlite::insert_batched(&mut c, &recs)?;
            c.close().map_err(|(_, e)| e)
        });
        r.or_fail("sqlite durable insert");
        let name = format!(
            "durable batch_write load, sync={}{}",
            format!("{policy:?}").to_lowercase(),
            if in_memory { ", rows in memory" } else { "" }
        );
        lines.push(line(
            &name,
            per_sec(n, t_ours),
            mode.label(),
            per_sec(n, t),
            "rows/s",
            target,
        ));
    }

    println!();
    report::print(&lines);
    let missed: Vec<&str> = lines
        .iter()
        .filter(|l| l.met() == Some(false))
        .map(|l| l.name.as_str())
        .collect();
    println!();
    if missed.is_empty() {
        println!("every target met");
    } else {
        println!("targets missed: {}", missed.join("; "));
    }
}
