//! Crash recovery: a child process writes rows with `sync = always` and
//! reports each write after `put_row` returned; the parent SIGKILLs it at
//! seeded random moments and reopens the directory each time. Every
//! reported write must be there with its value, and nothing beyond the one
//! write that may have been in flight.
//!
//! The child is this same test binary, re-run with `WRITER_DIR` set and a
//! filter selecting [`crash_writer_process`]; without the variable that
//! test checks the writer in-process instead.
#![cfg(feature = "fs")]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tablesync::storage::fs::{FsOptions, FsStorage};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, PkBound, PkColumn, PkType, PrimaryKey,
    RangeBound, RangeOptions, SyncPolicy, TableSchema, Value,
};

const WRITER_DIR: &str = "TABLESYNC_CRASH_WRITER_DIR";
const WRITER_START: &str = "TABLESYNC_CRASH_WRITER_START";
const SEED: &str = "TABLESYNC_CRASH_SEED";
/// Set for a child writing a paged region (rows in its page store).
const WRITER_PAGED: &str = "TABLESYNC_CRASH_PAGED";
const TABLE: &str = "t";
/// Kills in all (the brief asks for at least 50).
const ITERATIONS: usize = 60;
/// A child that writes this many rows without being killed stops by itself.
const CHILD_MAX_WRITES: i64 = 100_000;

/// Small segments and checkpoints so that kills also land in rotations
/// and checkpoints. `paged`: the rows live in the region's page store
/// behind a one-page cache, so kills also land in page-store commits.
fn open_db(dir: &Path, paged: bool) -> tablesync::Result<Database> {
    let mut options = DatabaseOptions::new("crash")
        .sync(SyncPolicy::Always)
        .checkpoint_bytes(6 * 1024);
    let fs = FsOptions::new(options.sync, options.checkpoint_bytes).segment_bytes(1024);
    if paged {
        options.cache_bytes = Some(4096);
        let fs = fs.cache_bytes(Some(4096));
        let now = options.clock.now_ms();
        let storage = FsStorage::open_region(dir, fs, "crash", now)?;
        return Database::with_storage(options, Box::new(storage));
    }
    Database::with_storage(options, Box::new(FsStorage::open_with(dir, fs)?))
}

fn value_of(k: i64) -> String {
    format!("value-{k}-{}", k.wrapping_mul(7919) % 1009)
}

/// Write rows `start, start+1, …`, printing `DONE k` after each returns.
fn run_writer(dir: &Path, start: i64, count: i64, paged: bool) {
    let mut db = open_db(dir, paged).expect("writer open");
    assert_eq!(db.is_paged(), paged);
    if db.list_tables().unwrap().is_empty() {
        db.create_table(TableSchema::new(
            TABLE,
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    }
    let stdout = std::io::stdout();
    for k in start..start + count {
        db.put_row(
            TABLE,
            PrimaryKey::new([("k", k)]),
            vec![Column::new("v", value_of(k)), Column::new("n", k)],
            Condition::ignore(),
        )
        .expect("put_row");
        let mut out = stdout.lock();
        writeln!(out, "DONE {k}").unwrap();
        out.flush().unwrap();
    }
    db.close().unwrap();
}

/// Every key present, in order, checking each row's value.
fn present_keys(dir: &Path, paged: bool) -> Vec<i64> {
    let db = open_db(dir, paged).unwrap_or_else(|e| panic!("reopen after a kill failed: {e}"));
    if db.list_tables().unwrap().is_empty() {
        return Vec::new();
    }
    db.scan(
        TABLE,
        RangeBound::new([("k", PkBound::InfMin)]),
        RangeBound::new([("k", PkBound::InfMax)]),
        RangeOptions::default(),
    )
    .map(|row| {
        let row = row.unwrap();
        let k = match row.primary_key.columns()[0].1 {
            tablesync::PkValue::Integer(k) => k,
            ref other => panic!("unexpected key {other:?}"),
        };
        assert_eq!(row.get("v"), Some(&Value::from(value_of(k))), "row {k}");
        assert_eq!(row.get("n"), Some(&Value::from(k)), "row {k}");
        k
    })
    .collect()
}

/// Serializes the two tests of this file, so that the in-process writer
/// check does not compete with the children for the 2 cores nor for the
/// file descriptors they inherit while being spawned.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The child's entry point; in a plain test run it checks the writer itself.
#[test]
fn crash_writer_process() {
    if let Ok(dir) = std::env::var(WRITER_DIR) {
        let start = std::env::var(WRITER_START).unwrap().parse().unwrap();
        let paged = std::env::var(WRITER_PAGED).is_ok();
        run_writer(Path::new(&dir), start, CHILD_MAX_WRITES, paged);
        return;
    }
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for paged in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        run_writer(dir.path(), 0, 150, paged);
        run_writer(dir.path(), 150, 50, paged);
        assert_eq!(
            present_keys(dir.path(), paged),
            (0..200).collect::<Vec<_>>()
        );
    }
}

/// xorshift64*: small, seeded, good enough to pick kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    sigkill_at_random_moments(false);
}

/// The same against a paged region: kills land in page-store commits
/// (redb's writes and fsyncs), evictions and page faults too.
#[test]
fn sigkill_of_a_paged_region_loses_no_acknowledged_write() {
    sigkill_at_random_moments(true);
}

fn sigkill_at_random_moments(paged: bool) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seed = std::env::var(SEED)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2024_C0FF_EE01u64);
    println!("crash test seed {seed} (set {SEED} to replay)");
    let mut rng = Rng(seed | 1);
    let exe = std::env::current_exe().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("db");
    let stderr_path = root.path().join("child.stderr");
    // Highest key the parent knows is durable (acknowledged, or seen on reopen).
    let mut durable: i64 = -1;
    let mut kills = 0;
    let mut acknowledged_total = 0;
    let mut in_flight_found = 0;
    let started = Instant::now();
    for iteration in 0..ITERATIONS {
        let start = durable + 1;
        let mut child = Command::new(&exe)
            .args([
                "crash_writer_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(WRITER_DIR, &dir)
            .env(WRITER_START, start.to_string())
            .envs(paged.then_some((WRITER_PAGED, "1")))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked = start - 1;
        let take_ack = |line: &str, acked: &mut i64| {
            if let Some(k) = line.strip_prefix("DONE ") {
                let k: i64 = k.trim().parse().unwrap();
                assert_eq!(k, *acked + 1, "writes are reported in order");
                *acked = k;
            }
        };
        // One kill in eight lands while the child is still opening and
        // recovering; the others after a random number of acknowledged writes.
        let wait_for = if rng.below(8) == 0 {
            0
        } else {
            1 + rng.below(25) as i64
        };
        while acked - (start - 1) < wait_for {
            match lines.next() {
                Some(Ok(line)) => take_ack(&line, &mut acked),
                _ => panic!(
                    "iteration {iteration}: the writer stopped before it was killed; stderr:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                ),
            }
        }
        // A random extra pause puts the kill anywhere in the write cycle.
        let pause = Duration::from_micros(rng.below(4000));
        let t = Instant::now();
        while t.elapsed() < pause {
            std::hint::spin_loop();
        }
        child.kill().unwrap();
        // Lines already in the pipe were printed before the kill: they count.
        for line in lines.map_while(Result::ok) {
            take_ack(&line, &mut acked);
        }
        child.wait().unwrap();
        kills += 1;
        acknowledged_total += acked - (start - 1);

        let keys = present_keys(&dir, paged);
        let highest = keys.last().copied().unwrap_or(-1);
        assert_eq!(
            keys,
            (0..=highest).collect::<Vec<_>>(),
            "iteration {iteration}: rows must form a gapless prefix"
        );
        assert!(
            highest >= acked,
            "iteration {iteration}: write {acked} was acknowledged but only rows up to {highest} survived"
        );
        assert!(
            highest <= acked + 1,
            "iteration {iteration}: row {highest} is present but at most {} was attempted",
            acked + 1
        );
        if highest == acked + 1 {
            in_flight_found += 1;
        }
        durable = highest;
    }
    println!(
        "{kills} kills, {acknowledged_total} acknowledged writes, {in_flight_found} in-flight writes recovered, {} rows, {:.1} s",
        durable + 1,
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 50);
    assert!(
        acknowledged_total >= kills as i64,
        "the children made progress"
    );
}
