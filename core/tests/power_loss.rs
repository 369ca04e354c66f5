//! Power-loss tests on the simulated disk (`storage::vfs::SimFs`), which
//! keeps only synced bytes and synced directory entries when power goes.
//!
//! Issue 12, finding "the SIGKILL test would pass with `SyncPolicy::Never`
//! (the page cache survives a process kill)": here power is cut after every
//! single disk operation of a workload (each create, write, fsync, rename,
//! remove and directory sync is a crash point), and after each cut the
//! region must reopen with every acknowledged write. The same check run
//! with `never` must see lost writes, so the test proves it can fail.

use std::path::Path;
use tablesync::storage::fs::{FsOptions, VfsStorage};
use tablesync::storage::vfs::{CrashMode, FaultPlan, SimFs};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, PkBound, PkColumn, PkType, PrimaryKey,
    RangeBound, RangeOptions, SyncPolicy, TableSchema, Value,
};

const DIR: &str = "/data/region";
const TABLE: &str = "t";
/// Rows each workload writes (enough for segment rolls and checkpoints).
const ROWS: i64 = 24;
/// Rows the background-fold workload writes (enough for several folds and
/// deltas on top of a folded checkpoint).
const FOLD_ROWS: i64 = 60;

/// Rows committed while a background fold is in flight (enough that a
/// delta checkpoint lands on the chain being folded).
const FOLD_IN_FLIGHT_ROWS: i64 = 12;

/// Rows committed while a background delta is in flight (so rows it
/// holds change again, and records land after what it covers).
const DELTA_IN_FLIGHT_ROWS: i64 = 3;

/// Which background work the workload drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bg {
    /// None: every checkpoint is written inside a commit.
    Off,
    /// Background folds; delta checkpoints inside commits.
    Folds,
    /// Background folds and background delta checkpoints.
    FoldsAndDeltas,
    /// A paged region (rows in its page store behind a one-page cache):
    /// every checkpoint is a page-store commit, every eviction and page
    /// fault a read of it.
    Paged,
}

/// The page cache of a workload (`None`: rows in memory).
fn cache(bg: Bg) -> Option<u64> {
    (bg == Bg::Paged).then_some(4096)
}

fn rows(bg: Bg) -> i64 {
    if matches!(bg, Bg::Off | Bg::Paged) {
        ROWS
    } else {
        FOLD_ROWS
    }
}
const MODES: [CrashMode; 3] = [CrashMode::DropUnsynced, CrashMode::Torn, CrashMode::Reorder];

/// Small segments and checkpoints so that cuts also land in rotations and
/// checkpoints; group commits only on explicit flushes under `batch`.
fn open(fs: &SimFs, sync: SyncPolicy) -> tablesync::Result<Database> {
    open_bg(fs, sync, Bg::Off)
}

/// [`open`], paged for [`Bg::Paged`].
fn open_bg(fs: &SimFs, sync: SyncPolicy, bg: Bg) -> tablesync::Result<Database> {
    let mut options = DatabaseOptions::new("power")
        .sync(sync)
        .checkpoint_bytes(700);
    options.cache_bytes = cache(bg);
    let fso = FsOptions::new(sync, options.checkpoint_bytes)
        .segment_bytes(400)
        .batch(u64::MAX, i64::MAX)
        .cache_bytes(cache(bg));
    // Through the manifest too, so its creation is among the crash points.
    let now = options.clock.now_ms();
    let storage = VfsStorage::open_region_in(fs.clone(), Path::new(DIR), fso, "power", now)?;
    Database::with_storage(options, Box::new(storage))
}

fn value_of(k: i64) -> String {
    format!("value-{k}-{}", k.wrapping_mul(7919) % 1009)
}

fn put(db: &mut Database, k: i64) -> tablesync::Result<()> {
    db.put_row(
        TABLE,
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", value_of(k))],
        Condition::ignore(),
    )
    .map(|_| ())
}

/// What a workload got acknowledged before the disk died.
#[derive(Debug, Default)]
struct Acked {
    /// Rows whose `put_row` returned `Ok`.
    rows: Vec<i64>,
    /// Rows covered by a successful flush (a group commit).
    committed: usize,
    /// Whether the table creation was acknowledged.
    table: bool,
    /// Background folds installed (`finish_fold` returned `true`).
    folds: usize,
    /// Background deltas installed (`finish_delta` returned `true`).
    deltas: usize,
    /// Background full checkpoints installed (`finish_delta` returned
    /// `true` for one).
    fulls: usize,
}

/// Run the background fold the workload holds: run it, then install it.
fn finish(db: &mut Database, fold: tablesync::Fold, acked: &mut Acked) -> tablesync::Result<()> {
    if db.finish_fold(fold.run())? {
        acked.folds += 1;
    }
    Ok(())
}

/// Create the table and write rows, flushing every 5 rows, until an error.
/// With `folds`, background folds run the way a driver runs them: begun
/// when due, left in flight while more rows (and delta checkpoints)
/// commit, then run and installed.
fn workload(fs: &SimFs, sync: SyncPolicy) -> Acked {
    workload_with(fs, sync, Bg::Off)
}

fn workload_with(fs: &SimFs, sync: SyncPolicy, bg: Bg) -> Acked {
    let mut acked = Acked::default();
    let Ok(mut db) = open_bg(fs, sync, bg) else {
        return acked;
    };
    let folds = matches!(bg, Bg::Folds | Bg::FoldsAndDeltas);
    db.set_background_folds(folds);
    db.set_background_deltas(bg == Bg::FoldsAndDeltas);
    let mut fold: Option<(tablesync::Fold, i64)> = None;
    let mut delta: Option<(tablesync::DeltaCheckpoint, i64)> = None;
    if db.create_table(TABLE_SCHEMA.with(|s| s.clone())).is_err() {
        return acked;
    }
    acked.table = true;
    for k in 0..rows(bg) {
        if put(&mut db, k).is_err() {
            return acked;
        }
        acked.rows.push(k);
        if bg == Bg::FoldsAndDeltas {
            // Begun when due, left in flight while rows (some of them its
            // own, changed again) commit, then run and installed.
            match delta.take() {
                Some((c, since)) if k >= since + DELTA_IN_FLIGHT_ROWS => {
                    let full = c.is_full();
                    match db.finish_delta(c.run()) {
                        Ok(true) if full => acked.fulls += 1,
                        Ok(true) => acked.deltas += 1,
                        Ok(false) => {}
                        Err(_) => return acked,
                    }
                }
                Some(c) => delta = Some(c),
                None if db.delta_due() => match db.begin_delta() {
                    Ok(c) => delta = c.map(|c| (c, k)),
                    Err(_) => return acked,
                },
                None => {}
            }
        }
        if folds {
            match fold.take() {
                Some((f, since)) if k >= since + FOLD_IN_FLIGHT_ROWS => {
                    let installed = finish(&mut db, f, &mut acked);
                    if installed.is_err() {
                        return acked;
                    }
                }
                Some(f) => fold = Some(f),
                None if db.fold_due() => match db.begin_fold() {
                    Ok(f) => fold = f.map(|f| (f, k)),
                    Err(_) => return acked,
                },
                None => {}
            }
        }
        if k % 5 == 4 {
            if db.flush().is_err() {
                return acked;
            }
            acked.committed = acked.rows.len();
        }
    }
    if let Some((c, _)) = delta {
        if db.finish_delta(c.run()).is_err() {
            return acked;
        }
    }
    if let Some((f, _)) = fold {
        if finish(&mut db, f, &mut acked).is_err() {
            return acked;
        }
    }
    if db.close().is_ok() {
        acked.committed = acked.rows.len();
    }
    acked
}

thread_local! {
    static TABLE_SCHEMA: TableSchema =
        TableSchema::new(TABLE, vec![PkColumn::new("k", PkType::Integer)]);
}

/// Keys present after reopening, checking every value.
fn present(fs: &SimFs, sync: SyncPolicy) -> Vec<i64> {
    present_bg(fs, sync, Bg::Off)
}

/// [`present`], reopening the way [`open_bg`] opens.
fn present_bg(fs: &SimFs, sync: SyncPolicy, bg: Bg) -> Vec<i64> {
    let db =
        open_bg(fs, sync, bg).unwrap_or_else(|e| panic!("reopen after a power loss failed: {e}"));
    assert_eq!(db.is_paged(), bg == Bg::Paged);
    present_in(&db)
}

/// Keys present in `db`, checking every value.
fn present_in(db: &Database) -> Vec<i64> {
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
        k
    })
    .collect()
}

/// Disk operations of the whole workload without a cut.
fn total_ops(sync: SyncPolicy) -> u64 {
    total_ops_with(sync, Bg::Off)
}

fn total_ops_with(sync: SyncPolicy, bg: Bg) -> u64 {
    let fs = SimFs::new(1);
    let acked = workload_with(&fs, sync, bg);
    assert_eq!(acked.rows.len() as i64, rows(bg));
    fs.stats().ops
}

/// Cut power after each operation of the workload, in every crash mode;
/// returns (crash points tried, cuts that lost an acknowledged row).
fn cut_everywhere(sync: SyncPolicy, claimed: impl Fn(&Acked) -> usize) -> (u64, Vec<String>) {
    cut_everywhere_with(sync, Bg::Off, claimed)
}

fn cut_everywhere_with(
    sync: SyncPolicy,
    bg: Bg,
    claimed: impl Fn(&Acked) -> usize,
) -> (u64, Vec<String>) {
    let ops = total_ops_with(sync, bg);
    let mut losses = Vec::new();
    let mut points = 0;
    for n in 1..=ops {
        for (m, mode) in MODES.into_iter().enumerate() {
            let fs = SimFs::new(n * 3 + m as u64);
            fs.crash_after(n);
            let acked = workload_with(&fs, sync, bg);
            fs.crash(mode);
            points += 1;
            let keys = present_bg(&fs, sync, bg);
            // Whatever came back is a prefix of what was written, in order.
            let expected: Vec<i64> = (0..keys.len() as i64).collect();
            assert_eq!(keys, expected, "{sync:?} cut after op {n} ({mode:?})");
            let must = claimed(&acked);
            if keys.len() < must {
                losses.push(format!(
                    "cut after op {n} ({mode:?}): {} rows acknowledged, {} recovered",
                    must,
                    keys.len()
                ));
            }
        }
    }
    (points, losses)
}

#[test]
fn always_keeps_every_acknowledged_write_at_every_crash_point() {
    let (points, losses) = cut_everywhere(SyncPolicy::Always, |a| a.rows.len());
    assert!(points > 100, "only {points} crash points");
    assert!(losses.is_empty(), "acknowledged writes lost: {losses:#?}");
    eprintln!("always: {points} crash points (ops × 3 crash modes), no loss");
}

/// Issue 11/13: the same with background folds in flight (begun, left
/// running while more rows and delta checkpoints commit, then run and
/// installed): every read of the chain, write of the folded checkpoint,
/// rename, directory sync and removal of what it replaced is a crash point,
/// and every acknowledged write survives each.
#[test]
fn always_keeps_every_acknowledged_write_through_background_folds() {
    let (points, losses) = cut_everywhere_with(SyncPolicy::Always, Bg::Folds, |a| a.rows.len());
    assert!(points > 100, "only {points} crash points");
    assert!(losses.is_empty(), "acknowledged writes lost: {losses:#?}");
    eprintln!("always with background folds: {points} crash points, no loss");
}

/// Issue 11 item 3: the same with background delta checkpoints too (begun
/// when due, left in flight while rows — some of them its own — commit,
/// then run and installed; folds in flight meanwhile): every write, fsync,
/// rename and directory sync of the delta file, and every removal of the
/// log segments it covers, is a crash point, and every acknowledged write
/// survives each (the segments go only after the delta is installed).
/// The region's first checkpoint is a background full one (issue 13): its
/// file's writes, rename, directory sync and the removals after its
/// install are crash points too.
#[test]
fn always_keeps_every_acknowledged_write_through_background_deltas() {
    let (points, losses) =
        cut_everywhere_with(SyncPolicy::Always, Bg::FoldsAndDeltas, |a| a.rows.len());
    assert!(points > 100, "only {points} crash points");
    assert!(losses.is_empty(), "acknowledged writes lost: {losses:#?}");
    eprintln!("always with background deltas and folds: {points} crash points, no loss");
}

/// The delta workload above installs background deltas and folds, writes
/// no delta inside a commit, and reopens with every row.
/// Issue 11: the same on a paged region — each page-store commit
/// (redb's writes, fsyncs and header flips), each removal of covered
/// segments and the manifest's creation are crash points.
#[test]
fn always_keeps_every_acknowledged_write_in_a_paged_region() {
    let (points, losses) = cut_everywhere_with(SyncPolicy::Always, Bg::Paged, |a| a.rows.len());
    assert!(points > 100, "only {points} crash points");
    assert!(losses.is_empty(), "acknowledged writes lost: {losses:#?}");
    eprintln!("always, paged: {points} crash points, no loss");
}

/// The paged workload checkpoints into its page store (so the cuts above
/// land inside page-store commits) and evicts.
#[test]
fn the_paged_workload_checkpoints_into_its_page_store() {
    let fs = SimFs::new(1);
    let acked = workload_with(&fs, SyncPolicy::Always, Bg::Paged);
    assert_eq!(acked.rows.len() as i64, ROWS);
    use tablesync::storage::vfs::Vfs;
    let files = fs.list(Path::new(DIR)).unwrap();
    assert!(files.iter().any(|f| f == "pages.redb"), "{files:?}");
    assert!(
        !files.iter().any(|f| f == "wal-00000000000000000001.log"),
        "a page checkpoint covered the first segment: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.starts_with("checkpoint-")),
        "{files:?}"
    );
    let db = open_bg(&fs, SyncPolicy::Always, Bg::Paged).unwrap();
    assert!(db.is_paged());
    assert_eq!(present_in(&db), (0..ROWS).collect::<Vec<_>>());
}

#[test]
fn the_delta_workload_installs_background_deltas() {
    let fs = SimFs::new(1);
    let acked = workload_with(&fs, SyncPolicy::Always, Bg::FoldsAndDeltas);
    assert_eq!(acked.rows.len() as i64, FOLD_ROWS);
    assert!(acked.deltas >= 5, "{} deltas installed", acked.deltas);
    // The region's first full checkpoint is a background one too.
    assert!(
        acked.fulls >= 1,
        "{} full checkpoints installed",
        acked.fulls
    );
    assert!(acked.folds >= 1, "{} folds installed", acked.folds);
    let db = open(&fs, SyncPolicy::Always).unwrap();
    assert_eq!(present_in(&db), (0..FOLD_ROWS).collect::<Vec<_>>());
}

/// The fold workload above does install folds (and writes deltas on top of
/// a folded checkpoint), so its cuts land inside them.
#[test]
fn the_fold_workload_installs_folds() {
    let fs = SimFs::new(1);
    let acked = workload_with(&fs, SyncPolicy::Always, Bg::Folds);
    assert_eq!(acked.rows.len() as i64, FOLD_ROWS);
    let names: Vec<String> = fs
        .files()
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        acked.folds >= 3,
        "{} folds installed: {names:?}",
        acked.folds
    );
    let db = open(&fs, SyncPolicy::Always).unwrap();
    assert_eq!(present_in(&db), (0..FOLD_ROWS).collect::<Vec<_>>());
}

/// The same check must detect the loss when the policy is weakened.
#[test]
fn the_check_detects_loss_under_never() {
    let (_, losses) = cut_everywhere(SyncPolicy::Never, |a| a.rows.len());
    assert!(
        !losses.is_empty(),
        "with sync=never no acknowledged write was lost: the power-loss check cannot fail"
    );
}

/// Under `batch` only what a group commit covered is claimed; the rest
/// may go, but what comes back is a prefix (checked in `cut_everywhere`).
#[test]
fn batch_keeps_every_group_commit() {
    let (points, losses) = cut_everywhere(SyncPolicy::Batch, |a| a.committed);
    assert!(points > 50, "only {points} crash points");
    assert!(
        losses.is_empty(),
        "group-committed writes lost: {losses:#?}"
    );
    // And batch does lose unflushed acknowledged writes somewhere (else the
    // prefix rule above would be vacuous).
    let (_, unflushed) = cut_everywhere(SyncPolicy::Batch, |a| a.rows.len());
    assert!(!unflushed.is_empty());
}

/// Most disk operations one recovery may take before the second cut is
/// given up as "recovery never finishes" (a bug in itself).
const MAX_RECOVERY_OPS: u64 = 64;

/// Cut power after each operation of the workload, then again after each
/// operation of the recovery that follows (the reopen cuts torn tails into
/// side files, rewrites a segment after a failed fsync, starts a new
/// segment, …), then recover a third time. Returns (crash-point pairs tried,
/// longest recovery seen in disk operations, cuts that lost a claimed row).
fn cut_during_recovery(
    sync: SyncPolicy,
    every: u64,
    claimed: impl Fn(&Acked) -> usize,
) -> (u64, u64, Vec<String>) {
    let ops = total_ops(sync);
    let mut losses = Vec::new();
    let (mut points, mut longest) = (0, 0);
    for n in (1..=ops).filter(|n| n % every == 0) {
        for (m, mode) in MODES.into_iter().enumerate() {
            // The second cut's mode rotates so every pair of modes is met.
            let second = MODES[(m + n as usize) % MODES.len()];
            for j in 1..=MAX_RECOVERY_OPS {
                // The same seed replays the same workload and first cut.
                let fs = SimFs::new(n * 3 + m as u64);
                fs.crash_after(n);
                let acked = workload(&fs, sync);
                fs.crash(mode);
                let before = fs.stats().ops;
                fs.crash_after(j);
                let first = open(&fs, sync);
                if !fs.halted() {
                    // The recovery took fewer than `j` operations: every
                    // point inside it was cut.
                    if let Err(e) = first {
                        panic!("{sync:?} cut after op {n} ({mode:?}): reopen failed: {e}");
                    }
                    longest = longest.max(fs.stats().ops - before);
                    break;
                }
                assert!(j < MAX_RECOVERY_OPS, "recovery after op {n} never ends");
                drop(first);
                fs.crash(second);
                points += 1;
                let keys = present(&fs, sync);
                let expected: Vec<i64> = (0..keys.len() as i64).collect();
                assert_eq!(
                    keys, expected,
                    "{sync:?} cut after op {n} ({mode:?}), then after recovery op {j} ({second:?})"
                );
                let must = claimed(&acked);
                if keys.len() < must {
                    losses.push(format!(
                        "cut after op {n} ({mode:?}), then after recovery op {j} ({second:?}): \
                         {must} rows acknowledged, {} recovered",
                        keys.len()
                    ));
                }
            }
        }
    }
    (points, longest, losses)
}

/// Issue 12, Deliver 4 (power-loss tests): a second power loss while the
/// region recovers from the first. Under `always` every acknowledged write
/// is still there after the third open, and what comes back is a prefix.
///
/// Found with it: a region created under a new `/data` synced `/data` but
/// never `/`, so `/data` itself was not durable; the simulated disk hid it
/// in one crash (it kept files under a lost directory) and lost every
/// acknowledged write in the second. Both are fixed: opening syncs the
/// parent of every directory it creates, and a crash drops whatever sits
/// under a directory whose entry was not durable (which makes the single
/// crash test above fail on the old open as well).
#[test]
fn always_survives_a_second_crash_during_recovery() {
    let (points, longest, losses) = cut_during_recovery(SyncPolicy::Always, 1, |a| a.rows.len());
    assert!(points > 100, "only {points} crash points inside recoveries");
    assert!(losses.is_empty(), "acknowledged writes lost: {losses:#?}");
    eprintln!(
        "always: {points} second crash points inside recoveries (longest recovery {longest} ops), no loss"
    );
}

/// The same under `batch`: every group commit survives a crash during
/// recovery.
#[test]
fn batch_survives_a_second_crash_during_recovery() {
    let (points, longest, losses) = cut_during_recovery(SyncPolicy::Batch, 1, |a| a.committed);
    assert!(points > 20, "only {points} crash points inside recoveries");
    assert!(
        losses.is_empty(),
        "group-committed writes lost: {losses:#?}"
    );
    eprintln!(
        "batch: {points} second crash points inside recoveries (longest recovery {longest} ops), no loss"
    );
}

/// The fsyncgate lesson: after a failed fsync the region refuses writes
/// (`StorageStopped`) until reopened, and the reopened region holds every
/// acknowledged write.
#[test]
fn failed_fsync_stops_the_region_until_reopened() {
    let mut stopped = 0;
    for fail_at in 1..12 {
        let fs = SimFs::new(fail_at);
        let mut db = open(&fs, SyncPolicy::Always).unwrap();
        db.create_table(TABLE_SCHEMA.with(|s| s.clone())).unwrap();
        fs.set_faults(FaultPlan {
            fail_fsync_at: Some(fail_at),
            ..FaultPlan::default()
        });
        let mut acked = Vec::new();
        let mut failed_at = None;
        for k in 0..ROWS {
            match put(&mut db, k) {
                Ok(()) => {
                    assert!(
                        failed_at.is_none(),
                        "write {k} accepted after a failed fsync"
                    );
                    acked.push(k);
                }
                Err(e) if failed_at.is_none() => {
                    assert_eq!(e.code(), "StorageIo", "first failure: {e}");
                    failed_at = Some(k);
                }
                Err(e) => assert_eq!(e.code(), "StorageStopped", "write {k}: {e}"),
            }
        }
        match failed_at {
            Some(_) => {
                stopped += 1;
                assert_eq!(db.flush().unwrap_err().code(), "StorageStopped");
            }
            // The failed fsync was a background checkpoint's (its file is
            // discarded): reported through health, the log is intact.
            None => assert!(db.health().background_failures > 0, "fsync {fail_at}"),
        }
        drop(db);
        if fail_at % 2 == 0 {
            // Power loss, then reopen.
            fs.crash(CrashMode::DropUnsynced);
            let keys = present(&fs, SyncPolicy::Always);
            assert_eq!(keys, acked, "fsync {fail_at} failed");
            let mut db = open(&fs, SyncPolicy::Always).unwrap();
            put(&mut db, 1000).expect("the reopened region takes writes again");
        } else {
            // Reopen in the same boot: the page cache still shows the
            // bytes whose fsync failed (and the kernel marked them clean,
            // so a new fsync would not write them). Reopening must make
            // what it replays durable: a later power loss keeps it all.
            let mut db = open(&fs, SyncPolicy::Always).unwrap();
            put(&mut db, 1000).expect("the reopened region takes writes again");
            let seen = present_in(&db);
            drop(db);
            fs.crash(CrashMode::DropUnsynced);
            let keys = present(&fs, SyncPolicy::Always);
            assert_eq!(
                keys, seen,
                "fsync {fail_at} failed, reopened, then power loss"
            );
            for k in &acked {
                assert!(keys.contains(k), "acknowledged row {k} lost");
            }
        }
    }
    assert!(stopped >= 8, "only {stopped} failed fsyncs hit the log");
}

/// ENOSPC in the middle of a full checkpoint: the write that triggered it is
/// still reported as durable, the old checkpoint is kept, and the region
/// reopens with every row.
#[test]
fn enospc_mid_checkpoint_keeps_the_old_checkpoint() {
    let fs = SimFs::new(7);
    let mut db = open(&fs, SyncPolicy::Always).unwrap();
    db.create_table(TABLE_SCHEMA.with(|s| s.clone())).unwrap();
    for k in 0..10 {
        put(&mut db, k).unwrap();
    }
    db.checkpoint_full().unwrap();
    let checkpoints = |fs: &SimFs| -> Vec<String> {
        fs.files()
            .into_iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("checkpoint-"))
            .collect()
    };
    let before = checkpoints(&fs);
    assert_eq!(before.len(), 1);
    for k in 10..14 {
        put(&mut db, k).unwrap();
    }
    let used: u64 = fs.files().iter().map(|(_, b)| b.len() as u64).sum();
    // Room for a few more log records but not for a new snapshot.
    fs.set_faults(FaultPlan {
        capacity: Some(used + 300),
        ..FaultPlan::default()
    });
    let e = db.checkpoint_full().unwrap_err();
    assert_eq!(e.code(), "StorageIo", "{e}");
    assert!(fs.stats().enospc > 0);
    assert_eq!(checkpoints(&fs), before, "the old checkpoint must stay");
    // Writes still work (they fit), and automatic checkpoints that fail
    // go to health(), not to the write.
    let mut acked: Vec<i64> = (0..14).collect();
    for k in 14..40 {
        match put(&mut db, k) {
            Ok(()) => acked.push(k),
            Err(e) => {
                assert!(
                    matches!(e.code(), "StorageIo" | "StorageStopped"),
                    "write {k}: {e}"
                );
                break;
            }
        }
    }
    assert!(
        acked.len() > 14,
        "no write fitted after the failed checkpoint"
    );
    drop(db);
    fs.set_faults(FaultPlan::default());
    fs.crash(CrashMode::DropUnsynced);
    assert_eq!(present(&fs, SyncPolicy::Always), acked);
    assert_eq!(checkpoints(&fs), before);
    let mut db = open(&fs, SyncPolicy::Always).unwrap();
    db.checkpoint()
        .expect("with space again a checkpoint succeeds");
}

/// The workload every cut runs through writes a full checkpoint and delta
/// checkpoints on it, so the cuts land in every step of both.
#[test]
fn the_workload_writes_full_and_delta_checkpoints() {
    let fs = SimFs::new(1);
    let acked = workload(&fs, SyncPolicy::Always);
    assert_eq!(acked.rows.len() as i64, ROWS);
    let names: Vec<String> = fs
        .files()
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".snap")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".delta")), "{names:?}");
}

/// ENOSPC while writing a delta checkpoint: the checkpoint fails, the
/// chain on disk is what it was, and the region reopens with every row; a
/// later checkpoint (with room again) covers what the failed one held.
#[test]
fn enospc_mid_delta_checkpoint_keeps_the_chain() {
    let fs = SimFs::new(11);
    let mut db = open(&fs, SyncPolicy::Always).unwrap();
    db.create_table(TABLE_SCHEMA.with(|s| s.clone())).unwrap();
    for k in 0..6 {
        put(&mut db, k).unwrap();
    }
    db.checkpoint().unwrap();
    for k in 6..9 {
        put(&mut db, k).unwrap();
    }
    db.checkpoint().unwrap();
    let checkpoints = |fs: &SimFs| -> Vec<String> {
        let mut v: Vec<String> = fs
            .files()
            .into_iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("checkpoint-"))
            .collect();
        v.sort();
        v
    };
    let before = checkpoints(&fs);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(before[1].ends_with(".delta"), "{before:?}");
    for k in 9..12 {
        put(&mut db, k).unwrap();
    }
    let used: u64 = fs.files().iter().map(|(_, b)| b.len() as u64).sum();
    // Not even room for a delta's header.
    fs.set_faults(FaultPlan {
        capacity: Some(used + 20),
        ..FaultPlan::default()
    });
    let e = db.checkpoint().unwrap_err();
    assert_eq!(e.code(), "StorageIo", "{e}");
    assert_eq!(checkpoints(&fs), before, "the chain must stay as it was");
    fs.set_faults(FaultPlan::default());
    // The failed delta's rows go into the next one.
    put(&mut db, 12).unwrap();
    db.checkpoint().unwrap();
    let after = checkpoints(&fs);
    assert!(after.last() > before.last(), "{after:?}");
    drop(db);
    fs.crash(CrashMode::DropUnsynced);
    assert_eq!(
        present(&fs, SyncPolicy::Always),
        (0..13).collect::<Vec<_>>()
    );
}

/// A short write is taken back: later records do not sit after garbage.
#[test]
fn short_write_is_taken_back() {
    let fs = SimFs::new(3);
    let mut db = open(&fs, SyncPolicy::Always).unwrap();
    db.create_table(TABLE_SCHEMA.with(|s| s.clone())).unwrap();
    put(&mut db, 0).unwrap();
    fs.set_faults(FaultPlan {
        short_write_at: Some(1),
        ..FaultPlan::default()
    });
    assert_eq!(put(&mut db, 1).unwrap_err().code(), "StorageIo");
    assert_eq!(fs.stats().short_writes, 1);
    put(&mut db, 2).unwrap();
    drop(db);
    fs.crash(CrashMode::DropUnsynced);
    assert_eq!(present(&fs, SyncPolicy::Always), vec![0, 2]);
}

/// A bit flipped on read is caught by the checksums: open fails with
/// `CorruptData` instead of replaying damaged data, and the disk itself
/// is intact for the next attempt.
#[test]
fn bit_flip_on_read_is_detected() {
    let fs = SimFs::new(5);
    let mut db = open(&fs, SyncPolicy::Always).unwrap();
    db.create_table(TABLE_SCHEMA.with(|s| s.clone())).unwrap();
    for k in 0..5 {
        put(&mut db, k).unwrap();
    }
    drop(db);
    let mut detected = 0;
    for nth in 1..=4 {
        fs.set_faults(FaultPlan {
            flip_read_at: Some(nth),
            ..FaultPlan::default()
        });
        match open(&fs, SyncPolicy::Always) {
            Err(e) => {
                assert_eq!(e.code(), "CorruptData", "{e}");
                detected += 1;
            }
            Ok(_) => assert_eq!(fs.stats().bit_flips as usize, detected),
        }
    }
    assert!(detected > 0);
    fs.set_faults(FaultPlan::default());
    assert_eq!(present(&fs, SyncPolicy::Always), vec![0, 1, 2, 3, 4]);
}
