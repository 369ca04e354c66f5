//! Backup and restore throughput next to `tar | lz4` of the same region
//! directory, measured in the same run.
//!
//! ```text
//! cargo run --release -p tablesync-store --example backup_bench -- [ROWS] [--plain] [--rpo-secs N]
//! ```
//! (`scripts/bench-backup [ROWS]` installs the lz4 CLI if missing and runs it.)
//!
//! ROWS (default 2000, a smoke size) rows of ~1 KiB in one table of a
//! durable region; the backup is encrypted (Argon2id + XChaCha20-Poly1305)
//! unless `--plain`. Prints: full backup and restore MiB/s, `tar | lz4`
//! MiB/s, an incremental after 1 % of the rows change (size and time as a
//! share of the full), and a point-in-time restore to a stamp in the middle
//! of the incremental, then continuous mode: a writer at a steady 5,000
//! writes/s while a backup round runs every 500 ms for `--rpo-secs` (default
//! 3), reporting the recovery point objective (the oldest write no finished
//! backup holds, at its worst). Figures need a quiet machine (the goals of issue 14:
//! ≥ 150 MiB/s backup, ≥ 200 MiB/s restore on 2 cores).

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;
use tablesync::backup::{
    BackupMode, BackupOptions, KdfParams, KeySource, Repository, RestoreOptions, RestorePoint,
    INIT_RANDOM_LEN,
};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema, WriteOp,
};

fn mib(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1 << 20) as f64 / secs.max(1e-9)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        n += if p.is_dir() {
            dir_bytes(&p)
        } else {
            e.metadata().map(|m| m.len()).unwrap_or(0)
        };
    }
    n
}

fn payload(i: u64) -> String {
    // ~1 KiB of text that compresses about as well as typical rows.
    let mut s = String::with_capacity(1024);
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while s.len() < 1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{:x} ", x % 1_000_000));
    }
    s
}

fn write_rows(db: &mut Database, from: u64, to: u64, salt: u64) {
    let mut ops = Vec::new();
    for i in from..to {
        ops.push(WriteOp::Put {
            table: "t".into(),
            primary_key: PrimaryKey::new([("k", i as i64)]),
            columns: vec![
                Column::new("v", payload(i ^ salt).as_str()),
                Column::new("n", i as i64),
            ],
            condition: Condition::ignore(),
        });
        if ops.len() == 200 {
            for r in db.batch_write(std::mem::take(&mut ops)).expect("batch") {
                r.expect("row");
            }
        }
    }
    if !ops.is_empty() {
        for r in db.batch_write(ops).expect("batch") {
            r.expect("row");
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(2000);
    let plain = args.iter().any(|a| a == "--plain");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(1_700_000_000_000);
    let opts =
        || DatabaseOptions::with_clock("bench", Arc::new(clock.clone())).sync(SyncPolicy::Never);
    let mut db = Database::open(&dir, opts()).expect("open");
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .expect("table");
    write_rows(&mut db, 0, rows, 0);
    db.checkpoint().expect("checkpoint");
    db.close().expect("close");
    let db = Database::open(&dir, opts()).expect("reopen");
    let region_bytes = dir_bytes(&dir);

    // Reference: tar | lz4 of the region directory.
    let t = Instant::now();
    let out = tmp.path().join("region.tar.lz4");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C '{}' -cf - . | lz4 -q -1 - '{}'",
            dir.display(),
            out.display()
        ))
        .status();
    let tar_secs = t.elapsed().as_secs_f64();
    let tar_ok = status.map(|s| s.success()).unwrap_or(false);

    let repo_dir = tmp.path().join("repo");
    let store = Box::new(tablesync_store::DirStore::open(&repo_dir).expect("store"));
    let key = KeySource::Passphrase(b"bench passphrase".to_vec());
    let repo = Repository::init(
        store,
        (!plain).then_some((&key, KdfParams::default())),
        &[9u8; INIT_RANDOM_LEN],
    )
    .expect("init");
    let t = Instant::now();
    let full = db
        .backup(&repo, &BackupOptions::default(), &mut |_| {})
        .expect("full")
        .info;
    let full_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (restored, _) = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("bench", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .expect("restore");
    let restore_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        restored.table_digest("t").unwrap(),
        db.table_digest("t").unwrap()
    );
    drop(restored);

    // 1 % of the rows change, then an incremental.
    let mut db = db;
    let changed = (rows / 100).max(1);
    let mid_stamp;
    {
        write_rows(&mut db, 0, changed / 2, 1);
        let c = db.next_cursor().unwrap() - 1;
        mid_stamp = db.changes_since(c, 1).unwrap().records[0].stamp;
        write_rows(&mut db, changed / 2, changed, 1);
    }
    let t = Instant::now();
    let inc = db
        .backup(
            &repo,
            &BackupOptions {
                mode: BackupMode::Incremental,
                ..Default::default()
            },
            &mut |_| {},
        )
        .expect("incremental")
        .info;
    let inc_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (pitr, report) = Database::restore_from(
        &repo,
        &RestoreOptions {
            point: RestorePoint::Stamp(mid_stamp),
            ..Default::default()
        },
        DatabaseOptions::with_clock("bench", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .expect("point-in-time restore");
    let pitr_secs = t.elapsed().as_secs_f64();
    assert_eq!(pitr.describe_table("t").unwrap().row_count, rows);

    println!(
        "rows: {rows} of ~1 KiB; region directory {:.1} MiB; encryption {}",
        region_bytes as f64 / (1 << 20) as f64,
        if plain { "off" } else { "on" }
    );
    println!(
        "full backup: {:.1} MiB of rows in {full_secs:.3} s = {:.1} MiB/s; stored {:.1} MiB",
        full.bytes as f64 / (1 << 20) as f64,
        mib(full.bytes, full_secs),
        full.new_bytes as f64 / (1 << 20) as f64
    );
    if tar_ok {
        println!("tar | lz4 of the directory: {tar_secs:.3} s = {:.1} MiB/s (backup / tar ratio of rates {:.2})", mib(region_bytes, tar_secs), mib(full.bytes, full_secs) / mib(region_bytes, tar_secs));
    } else {
        println!("tar | lz4: not available on this machine");
    }
    println!(
        "restore (memory, digests checked): {restore_secs:.3} s = {:.1} MiB/s",
        mib(full.bytes, restore_secs)
    );
    println!("incremental after {changed} rows changed: stored {} bytes = {:.2} % of the full, {inc_secs:.3} s = {:.2} % of its time", inc.new_bytes, 100.0 * inc.new_bytes as f64 / full.new_bytes.max(1) as f64, 100.0 * inc_secs / full_secs.max(1e-9));
    println!("point-in-time restore to a stamp inside the incremental: {pitr_secs:.3} s ({} rows + {} records)", report.rows, report.records_applied);
    drop(pitr);
    let rpo_secs: f64 = args
        .iter()
        .position(|a| a == "--rpo-secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    continuous_rpo(tmp.path(), plain, rpo_secs);
    println!(
        "note: figures on a shared, contended machine are not meaningful; rerun on a quiet one."
    );
}

/// Continuous mode under a steady 5,000 writes/s: a writer thread and a
/// backup round every `INTERVAL` share the region (a backup holds it still
/// while it runs). The recovery point objective at a moment is the age of the
/// oldest write that no finished backup holds; its worst case is, over the
/// rounds, (end of round k) − (snapshot of round k − 1).
fn continuous_rpo(tmp: &std::path::Path, plain: bool, secs: f64) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;
    const RATE: u64 = 5_000;
    const INTERVAL: Duration = Duration::from_millis(500);
    let db = Database::memory(DatabaseOptions::new("rpo")).expect("memory region");
    let db = Arc::new(Mutex::new(db));
    db.lock()
        .unwrap()
        .create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .expect("table");
    let store = Box::new(tablesync_store::DirStore::open(tmp.join("rpo-repo")).expect("store"));
    let key = KeySource::Passphrase(b"bench passphrase".to_vec());
    let repo = Repository::init(
        store,
        (!plain).then_some((&key, KdfParams::default())),
        &[7u8; INIT_RANDOM_LEN],
    )
    .expect("init");
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (db, stop, written) = (db.clone(), stop.clone(), written.clone());
        std::thread::spawn(move || {
            // Batches of 50 every 10 ms = 5,000 writes/s, paced by deadline.
            let start = Instant::now();
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let due = Duration::from_secs_f64(i as f64 / RATE as f64);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
                write_rows(&mut db.lock().unwrap(), i, i + 50, 3);
                i += 50;
                written.store(i, Ordering::SeqCst);
            }
            (i, start.elapsed().as_secs_f64())
        })
    };
    let started = Instant::now();
    let mut prev_snapshot = started;
    let mut worst = 0f64;
    let mut rounds = 0u32;
    let mut round_max = 0f64;
    while started.elapsed().as_secs_f64() < secs {
        let round = Instant::now();
        {
            let g = db.lock().unwrap();
            let snapshot = Instant::now();
            g.backup(&repo, &BackupOptions::default(), &mut |_| {})
                .expect("continuous round");
            drop(g);
            let end = Instant::now();
            worst = worst.max((end - prev_snapshot).as_secs_f64());
            round_max = round_max.max((end - round).as_secs_f64());
            prev_snapshot = snapshot;
        }
        rounds += 1;
        if let Some(rest) = INTERVAL.checked_sub(round.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (n, wsecs) = writer.join().expect("writer");
    // The last writes must be restorable: one final round, then compare.
    let g = db.lock().unwrap();
    g.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .expect("final round");
    let (r, _) = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::new("rpo"),
        &mut |_| {},
    )
    .expect("restore");
    assert_eq!(r.table_digest("t").unwrap(), g.table_digest("t").unwrap());
    println!(
        "continuous mode: {n} writes in {wsecs:.1} s = {:.0} writes/s (target {RATE}); {rounds} rounds every {} ms, longest round {:.3} s; worst RPO {:.3} s (goal ≤ 1 s)",
        n as f64 / wsecs.max(1e-9),
        INTERVAL.as_millis(),
        round_max,
        worst
    );
}
