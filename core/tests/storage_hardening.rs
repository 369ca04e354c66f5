//! Storage edge cases of issue 12: a damaged final record under
//! `sync=always`, the cut bytes kept under `batch`/`never`, and a failed
//! automatic checkpoint that must not fail a durable write.
#![cfg(feature = "fs")]

use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::segment_name;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, ManualClock, PkColumn, PkType,
    PrimaryKey, SyncPolicy, TableSchema,
};

const T0: i64 = 1_700_000_000_000;

fn open(dir: &Path, sync: SyncPolicy) -> tablesync::Result<Database> {
    let clock = Arc::new(ManualClock::new(T0));
    Database::open(
        dir,
        DatabaseOptions::with_clock("eu", clock)
            .rows_in_memory()
            .sync(sync),
    )
}

fn fill(dir: &Path, sync: SyncPolicy) {
    let mut db = open(dir, sync).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    for i in 0..3 {
        db.put_row(
            "t",
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", "x".repeat(40))],
            Condition::ignore(),
        )
        .unwrap();
    }
    db.close().unwrap();
}

/// Flip the last byte of the only segment: inside the final record's payload.
fn damage_final_record(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let seg = dir.join(segment_name(1));
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x5a;
    std::fs::write(&seg, &bytes).unwrap();
    (seg, bytes)
}

fn rows(db: &Database) -> usize {
    (0..3)
        .filter(|i| {
            db.get_row("t", &PrimaryKey::new([("k", *i)]), &GetOptions::default())
                .unwrap()
                .is_some()
        })
        .count()
}

/// Finding: damage inside the final record under `sync=always` was
/// truncated as if torn — an acknowledged write lost and the evidence
/// destroyed. It is now `CorruptData`, and the file is left untouched.
#[test]
fn a_damaged_final_record_under_always_is_corruption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    fill(&dir, SyncPolicy::Always);
    let (seg, damaged) = damage_final_record(&dir);
    let err = open(&dir, SyncPolicy::Always).unwrap_err();
    assert_eq!(err.code(), "CorruptData", "{err}");
    assert!(err.message().contains("sync=always"), "{err}");
    assert_eq!(std::fs::read(&seg).unwrap(), damaged, "nothing was cut");
}

/// Finding: under `batch`/`never` the cut bytes were destroyed. They are
/// now saved to a side file before the tail is truncated.
#[test]
fn under_batch_the_cut_bytes_are_kept_in_a_side_file() {
    for policy in [SyncPolicy::Batch, SyncPolicy::Never] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        fill(&dir, policy);
        let before = std::fs::read(dir.join(segment_name(1))).unwrap();
        let (_, damaged) = damage_final_record(&dir);
        let db = open(&dir, policy).unwrap();
        assert_eq!(rows(&db), 2, "{policy:?}: the torn final write is dropped");
        let sides: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains(".torn-"))
            .collect();
        assert_eq!(sides.len(), 1, "{policy:?}: {sides:?}");
        let kept = std::fs::read(dir.join(&sides[0])).unwrap();
        let cut_at = std::fs::read(dir.join(segment_name(1))).unwrap().len();
        assert_eq!(
            kept,
            damaged[cut_at..],
            "the side file holds exactly the cut bytes"
        );
        assert_eq!(before.len(), damaged.len());
        drop(db);
        // The side file is not a storage file: reopening leaves it alone.
        let db = open(&dir, policy).unwrap();
        assert_eq!(rows(&db), 2);
        assert!(dir.join(&sides[0]).exists());
    }
}

/// Finding: a failed automatic checkpoint returned an error for a write
/// that was already durable (a retried increment applied twice). Now the
/// write succeeds and the failure shows in `health()`.
#[cfg(unix)]
#[test]
fn a_failed_automatic_checkpoint_does_not_fail_the_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = Arc::new(ManualClock::new(T0));
    let mut db = Database::open(
        &dir,
        DatabaseOptions::with_clock("eu", clock)
            .rows_in_memory()
            .checkpoint_bytes(1),
    )
    .unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    // A directory where the checkpoint's temp file should go makes writing
    // it fail (EISDIR, as ENOSPC or EIO would), whoever runs the test.
    // (The checkpoint is a delta on the one the table creation wrote; the
    // full name is blocked too.)
    let blocker = dir.join("checkpoint-00000000000000000003.snap.tmp");
    std::fs::create_dir(&blocker).unwrap();
    let delta_blocker = dir.join("checkpoint-00000000000000000003.delta.tmp");
    std::fs::create_dir(&delta_blocker).unwrap();
    let r = db.put_row(
        "t",
        PrimaryKey::new([("k", 1)]),
        vec![Column::new("v", 1)],
        Condition::ignore(),
    );
    assert!(r.is_ok(), "the durable write is reported as done: {r:?}");
    let h = db.health();
    assert_eq!(h.background_failures, 1, "{h:?}");
    assert!(h.last_background_error.is_some());
    drop(db);
    std::fs::remove_dir_all(&blocker).unwrap();
    std::fs::remove_dir_all(&delta_blocker).unwrap();
    let db = open(&dir, SyncPolicy::Always).unwrap();
    assert!(db
        .get_row("t", &PrimaryKey::new([("k", 1)]), &GetOptions::default())
        .unwrap()
        .is_some());
}

/// Finding: there was no offline check or repair. `check_dir` reads every
/// file and digest without changing anything; `repair_dir` cuts a damaged
/// tail, keeping the bytes, after which the directory opens.
#[test]
fn offline_check_and_repair() {
    use tablesync::client::offline::{check_dir, repair_dir};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    fill(&dir, SyncPolicy::Always);
    let rep = check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    assert_eq!(rep.tables.len(), 1);
    assert_eq!(rep.records, 4);
    let (seg, damaged) = damage_final_record(&dir);
    let rep = check_dir(&dir).unwrap();
    assert!(!rep.is_ok(), "{rep:?}");
    assert_eq!(std::fs::read(&seg).unwrap(), damaged, "check is read-only");
    let fixed = repair_dir(&dir).unwrap();
    assert_eq!(fixed.actions.len(), 1, "{fixed:?}");
    assert!(fixed.after.is_ok(), "{fixed:?}");
    let side: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.contains(".torn-"))
        .collect();
    assert_eq!(side.len(), 1);
    let db = open(&dir, SyncPolicy::Always).unwrap();
    assert_eq!(rows(&db), 2);
}
