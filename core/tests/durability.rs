//! Durable directory storage: what a closed database hands back when it is
//! reopened, under every sync policy, across checkpoints, segment rotation
//! and log truncation, and how damage on disk is reported.
#![cfg(feature = "fs")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tablesync::storage::fs::{FsOptions, FsStorage};
use tablesync::{
    ChangeRecord, Column, Condition, Database, DatabaseOptions, Digest, ManualClock, PkBound,
    PkColumn, PkType, PkValue, PrimaryKey, RangeBound, RangeOptions, Row, RowUpdate, SyncPolicy,
    TableDescription, TableOptions, TableSchema, Value, WriteOp,
};

const T0: i64 = 1_700_000_000_000;

fn options(clock: &Arc<ManualClock>, sync: SyncPolicy) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", clock.clone())
        .rows_in_memory()
        .sync(sync)
}

fn open(dir: &Path, sync: SyncPolicy) -> Database {
    let clock = Arc::new(ManualClock::new(T0 + 1_000_000));
    Database::open(dir, options(&clock, sync)).expect("open")
}

fn open_small_segments(dir: &Path, segment_bytes: u64) -> Database {
    let clock = Arc::new(ManualClock::new(T0 + 1_000_000));
    let opts = options(&clock, SyncPolicy::Always);
    let fs = FsOptions::new(opts.sync, opts.checkpoint_bytes).segment_bytes(segment_bytes);
    let storage = FsStorage::open_with(dir, fs).expect("storage");
    Database::with_storage(opts, Box::new(storage)).expect("database")
}

fn users() -> TableSchema {
    TableSchema::new("users", vec![PkColumn::new("uid", PkType::Integer)])
}

fn put(db: &mut Database, table: &str, uid: i64, name: &str) {
    db.put_row(
        table,
        PrimaryKey::new([("uid", uid)]),
        vec![Column::new("name", name), Column::new("n", uid)],
        Condition::ignore(),
    )
    .expect("put_row");
}

/// Everything a reader can observe, to compare before close and after reopen.
#[derive(Debug, PartialEq)]
struct Observed {
    tables: Vec<(TableDescription, Vec<Row>, Digest)>,
    version_vector: BTreeMap<String, u64>,
    next_cursor: u64,
    log: Vec<ChangeRecord>,
    snapshot: Vec<u8>,
}

fn all_rows(db: &Database, table: &str) -> Vec<Row> {
    let d = db.describe_table(table).unwrap();
    let lo = RangeBound::new(
        d.schema
            .primary_key
            .iter()
            .map(|c| (c.name.clone(), PkBound::InfMin)),
    );
    let hi = RangeBound::new(
        d.schema
            .primary_key
            .iter()
            .map(|c| (c.name.clone(), PkBound::InfMax)),
    );
    db.scan(table, lo, hi, RangeOptions::default())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn observe(db: &Database) -> Observed {
    let tables = db
        .list_tables()
        .unwrap()
        .iter()
        .map(|t| {
            (
                db.describe_table(t).unwrap(),
                all_rows(db, t),
                db.table_digest(t).unwrap(),
            )
        })
        .collect();
    Observed {
        tables,
        version_vector: db.version_vector().unwrap(),
        next_cursor: db.next_cursor().unwrap(),
        log: db.changes_since(0, 100_000).unwrap().records,
        snapshot: db.export_snapshot().unwrap(),
    }
}

/// Writes of every kind the log carries.
fn write_everything(db: &mut Database, clock: Option<&ManualClock>) {
    let tick = |c: Option<&ManualClock>| {
        if let Some(c) = c {
            c.advance(3)
        }
    };
    db.create_table(users()).unwrap();
    db.create_table(TableSchema::new(
        "orders",
        vec![
            PkColumn::new("shop", PkType::String),
            PkColumn::new("id", PkType::Integer),
        ],
    ))
    .unwrap();
    db.create_table(TableSchema::new(
        "scratch",
        vec![PkColumn::new("k", PkType::Binary)],
    ))
    .unwrap();
    for uid in 0..30 {
        tick(clock);
        put(db, "users", uid, &format!("user-{uid}"));
    }
    db.update_row(
        "users",
        PrimaryKey::new([("uid", 3)]),
        RowUpdate::new()
            .put(Column::new("email", "three@example.org"))
            .increment("n", 100)
            .delete_all("name"),
        Condition::ignore(),
    )
    .unwrap();
    db.delete_row("users", PrimaryKey::new([("uid", 4)]), Condition::ignore())
        .unwrap();
    let ops = (0..10)
        .map(|i| WriteOp::Put {
            table: "orders".into(),
            primary_key: PrimaryKey::new([
                ("shop", PkValue::from("north")),
                ("id", PkValue::from(i as i64)),
            ]),
            columns: vec![
                Column::new("total", i as f64 * 1.5),
                Column::new("paid", i % 2 == 0),
            ],
            condition: Condition::ignore(),
        })
        .collect();
    for r in db.batch_write(ops).unwrap() {
        r.unwrap();
    }
    db.update_table(
        "users",
        TableOptions {
            max_versions: 3,
            time_to_live: -1,
        },
    )
    .unwrap();
    tick(clock);
    put(db, "users", 1, "renamed");
    db.put_row(
        "scratch",
        PrimaryKey::new([("k", PkValue::from(vec![0u8, 1, 2]))]),
        vec![Column::new("blob", Value::from(vec![9u8; 300]))],
        Condition::ignore(),
    )
    .unwrap();
    db.delete_table("scratch").unwrap();
}

#[test]
fn everything_written_comes_back_under_each_sync_policy() {
    for policy in [SyncPolicy::Always, SyncPolicy::Batch, SyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let mut db = Database::open(dir.path(), options(&clock, policy)).unwrap();
        assert!(db.is_durable());
        write_everything(&mut db, Some(&clock));
        let before = observe(&db);
        assert_eq!(before.tables.len(), 2, "{policy:?}");
        db.close().unwrap();

        let reopened = open(dir.path(), policy);
        let after = observe(&reopened);
        assert_eq!(after, before, "{policy:?}");
        // Spot checks, so a bug that loses everything symmetrically still fails.
        let row = reopened
            .get_row("users", &PrimaryKey::new([("uid", 1)]), &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(row.get("name"), Some(&Value::from("renamed")));
        assert!(reopened
            .get_row("users", &PrimaryKey::new([("uid", 4)]), &Default::default())
            .unwrap()
            .is_none());
        let three = reopened
            .get_row("users", &PrimaryKey::new([("uid", 3)]), &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(three.get("n"), Some(&Value::from(103)));
        assert_eq!(three.get("name"), None);
        assert_eq!(
            reopened
                .describe_table("users")
                .unwrap()
                .schema
                .options
                .max_versions,
            3
        );
        assert!(reopened.describe_table("scratch").is_err());
        assert_eq!(after.version_vector.get("eu"), Some(&44));
    }
}

#[test]
fn dropping_without_close_loses_nothing_under_each_policy() {
    for policy in [SyncPolicy::Always, SyncPolicy::Batch, SyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let mut db = open(dir.path(), policy);
            db.create_table(users()).unwrap();
            for uid in 0..25 {
                put(&mut db, "users", uid, "x");
            }
            observe(&db)
        };
        let after = observe(&open(dir.path(), policy));
        assert_eq!(after, before, "{policy:?}");
        assert_eq!(after.tables[0].0.row_count, 25);
    }
}

fn files(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

fn segments(dir: &Path) -> Vec<String> {
    files(dir, "wal-")
}

fn checkpoints(dir: &Path) -> Vec<String> {
    files(dir, "checkpoint-")
}

#[test]
fn checkpoint_then_more_writes_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path(), SyncPolicy::Always);
    db.create_table(users()).unwrap();
    for uid in 0..40 {
        put(&mut db, "users", uid, "before");
    }
    db.checkpoint().unwrap();
    assert_eq!(
        checkpoints(dir.path()),
        vec!["checkpoint-00000000000000000042.snap"]
    );
    // The log the checkpoint covers is gone; a fresh segment continues.
    assert_eq!(segments(dir.path()), vec!["wal-00000000000000000042.log"]);
    for uid in 30..60 {
        put(&mut db, "users", uid, "after");
    }
    db.truncate_log(10).unwrap();
    let before = observe(&db);
    db.close().unwrap();

    let mut db = open(dir.path(), SyncPolicy::Always);
    assert_eq!(observe(&db), before);
    // A second checkpoint is a delta on the first: only what changed.
    db.checkpoint().unwrap();
    assert_eq!(
        checkpoints(dir.path()),
        vec![
            "checkpoint-00000000000000000042.snap",
            "checkpoint-00000000000000000073.delta"
        ]
    );
    assert_eq!(segments(dir.path()).len(), 1);
    put(&mut db, "users", 99, "last");
    let before = observe(&db);
    drop(db);
    assert_eq!(observe(&open(dir.path(), SyncPolicy::Always)), before);
}

#[test]
fn automatic_checkpoints_keep_one_checkpoint_and_bounded_log() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let opts = options(&clock, SyncPolicy::Batch).checkpoint_bytes(4096);
    let mut db = Database::open(dir.path(), opts.clone()).unwrap();
    db.create_table(users()).unwrap();
    for uid in 0..500 {
        clock.advance(1);
        put(&mut db, "users", uid % 97, &format!("v{uid}"));
    }
    let before = observe(&db);
    db.close().unwrap();
    // One full checkpoint, and the deltas written since it (bounded).
    let cps = checkpoints(dir.path());
    assert_eq!(cps.iter().filter(|c| c.ends_with(".snap")).count(), 1);
    assert!(
        cps.len() <= 1 + tablesync::storage::fs::MAX_DELTAS,
        "{cps:?}"
    );
    assert_eq!(segments(dir.path()).len(), 1);
    let seg = dir.path().join(&segments(dir.path())[0]);
    assert!(std::fs::metadata(seg).unwrap().len() < 4096 + 1024);
    let db = Database::open(dir.path(), opts).unwrap();
    assert_eq!(observe(&db), before);
}

#[test]
fn segments_rotate_and_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open_small_segments(dir.path(), 600);
    db.create_table(users()).unwrap();
    for uid in 0..200 {
        put(&mut db, "users", uid, &format!("name number {uid}"));
    }
    let before = observe(&db);
    db.close().unwrap();
    let segs = segments(dir.path());
    assert!(segs.len() > 20, "{segs:?}");
    for s in &segs {
        // Each segment holds at least one record and stays near the limit.
        let len = std::fs::metadata(dir.path().join(s)).unwrap().len();
        assert!(len > 20 && len <= 600, "{s}: {len}");
    }
    // Reopen with small segments, and with the default size.
    assert_eq!(observe(&open_small_segments(dir.path(), 600)), before);
    let mut db = open(dir.path(), SyncPolicy::Always);
    assert_eq!(observe(&db), before);
    put(&mut db, "users", 500, "tail");
    let before = observe(&db);
    drop(db);
    assert_eq!(observe(&open(dir.path(), SyncPolicy::Always)), before);
}

#[test]
fn truncated_log_stays_truncated_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path(), SyncPolicy::Always);
    db.create_table(users()).unwrap();
    for uid in 0..20 {
        put(&mut db, "users", uid, "x");
    }
    db.truncate_log(15).unwrap();
    let page = db.changes_since(0, 100).unwrap();
    assert_eq!(page.records.first().map(|r| r.cursor), Some(15));
    db.close().unwrap();

    let mut db = open(dir.path(), SyncPolicy::Always);
    let page = db.changes_since(0, 100).unwrap();
    assert_eq!(page.records.first().map(|r| r.cursor), Some(15));
    assert_eq!(page.records.len(), 6);
    assert_eq!(db.describe_table("users").unwrap().row_count, 20);
    // Through a checkpoint as well.
    db.checkpoint().unwrap();
    db.truncate_log(18).unwrap();
    drop(db);
    let db = open(dir.path(), SyncPolicy::Always);
    let page = db.changes_since(0, 100).unwrap();
    assert_eq!(
        page.records.iter().map(|r| r.cursor).collect::<Vec<_>>(),
        vec![18, 19, 20]
    );
}

#[test]
fn a_second_open_is_refused_until_the_first_is_closed_or_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = open(dir.path(), SyncPolicy::Always);
    let clock = Arc::new(ManualClock::new(T0));
    let err = Database::open(dir.path(), options(&clock, SyncPolicy::Always)).unwrap_err();
    assert_eq!(err.code(), "StorageLocked");
    assert_eq!(
        FsStorage::open(dir.path(), SyncPolicy::Never, 1 << 20)
            .unwrap_err()
            .code(),
        "StorageLocked"
    );
    first.create_table(users()).unwrap();
    first.close().unwrap();
    assert_eq!(first.list_tables().unwrap_err().code(), "DatabaseClosed");

    let second = open(dir.path(), SyncPolicy::Always);
    assert_eq!(second.list_tables().unwrap(), vec!["users".to_string()]);
    assert_eq!(
        Database::open(dir.path(), options(&clock, SyncPolicy::Always))
            .unwrap_err()
            .code(),
        "StorageLocked"
    );
    drop(second);
    open(dir.path(), SyncPolicy::Always);
}

/// A closed directory with `rows` single-row commits in one segment.
fn directory_with_rows(rows: i64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path(), SyncPolicy::Always);
    db.create_table(users()).unwrap();
    for uid in 0..rows {
        put(&mut db, "users", uid, &format!("user-{uid}"));
    }
    db.close().unwrap();
    let segs = segments(dir.path());
    assert_eq!(segs.len(), 1);
    let seg = dir.path().join(&segs[0]);
    (dir, seg)
}

/// Rows of `users` after opening the directory again.
fn users_after_reopen(dir: &Path) -> u64 {
    open(dir, SyncPolicy::Always)
        .describe_table("users")
        .unwrap()
        .row_count
}

fn reopen_err(dir: &Path) -> tablesync::Error {
    let clock = Arc::new(ManualClock::new(T0));
    Database::open(dir, options(&clock, SyncPolicy::Always)).unwrap_err()
}

#[test]
fn a_byte_corrupted_in_the_middle_of_the_log_is_reported() {
    let (dir, seg) = directory_with_rows(50);
    let bytes = std::fs::read(&seg).unwrap();
    for at in [bytes.len() / 2, 30, bytes.len() * 3 / 4] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x20;
        std::fs::write(&seg, &damaged).unwrap();
        let err = reopen_err(dir.path());
        assert_eq!(err.code(), "CorruptData", "byte {at}: {err}");
        assert!(err.message().contains("wal-"), "{err}");
        // Nothing was repaired or dropped behind the user's back.
        assert_eq!(std::fs::read(&seg).unwrap(), damaged);
    }
    std::fs::write(&seg, &bytes).unwrap();
    assert_eq!(users_after_reopen(dir.path()), 50);
}

#[test]
fn a_torn_final_record_is_dropped_and_writing_continues() {
    for cut in [1u64, 3, 20, 25] {
        let (dir, seg) = directory_with_rows(20);
        let len = std::fs::metadata(&seg).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(len - cut).unwrap();
        drop(f);

        let mut db = open(dir.path(), SyncPolicy::Always);
        let rows = all_rows(&db, "users");
        assert_eq!(rows.len(), 19, "cut {cut}");
        for (uid, row) in rows.iter().enumerate() {
            assert_eq!(row.get("name"), Some(&Value::from(format!("user-{uid}"))));
        }
        assert!(db
            .get_row(
                "users",
                &PrimaryKey::new([("uid", 19)]),
                &Default::default()
            )
            .unwrap()
            .is_none());
        // The torn bytes were cut off on disk, so new records follow valid ones.
        put(&mut db, "users", 19, "again");
        put(&mut db, "users", 20, "new");
        let before = observe(&db);
        drop(db);
        assert_eq!(observe(&open(dir.path(), SyncPolicy::Always)), before);
        assert_eq!(before.tables[0].0.row_count, 21);
    }
}

#[test]
fn a_zero_filled_tail_is_dropped() {
    let (dir, seg) = directory_with_rows(10);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&seg, &bytes).unwrap();
    let db = open(dir.path(), SyncPolicy::Always);
    assert_eq!(db.describe_table("users").unwrap().row_count, 10);
}

#[test]
fn damage_in_an_earlier_segment_or_a_missing_segment_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open_small_segments(dir.path(), 400);
    db.create_table(users()).unwrap();
    for uid in 0..60 {
        put(&mut db, "users", uid, "some name");
    }
    db.close().unwrap();
    let segs = segments(dir.path());
    assert!(segs.len() >= 5);

    // A torn record at the end of a segment that is not the last.
    let victim = dir.path().join(&segs[1]);
    let original = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &original[..original.len() - 2]).unwrap();
    let err = reopen_err(dir.path());
    assert_eq!(err.code(), "CorruptData", "{err}");
    assert!(err.message().contains(&segs[1]), "{err}");
    std::fs::write(&victim, &original).unwrap();

    // A segment missing from the middle of the sequence.
    let middle = dir.path().join(&segs[2]);
    let saved = std::fs::read(&middle).unwrap();
    std::fs::remove_file(&middle).unwrap();
    let err = reopen_err(dir.path());
    assert_eq!(err.code(), "CorruptData", "{err}");
    assert!(err.message().contains("missing"), "{err}");
    std::fs::write(&middle, &saved).unwrap();

    // The first segment missing (no checkpoint covers its records).
    let first = dir.path().join(&segs[0]);
    let saved = std::fs::read(&first).unwrap();
    std::fs::remove_file(&first).unwrap();
    assert_eq!(reopen_err(dir.path()).code(), "CorruptData");
    std::fs::write(&first, &saved).unwrap();

    assert_eq!(users_after_reopen(dir.path()), 60);
}

#[test]
fn a_corrupted_newest_checkpoint_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path(), SyncPolicy::Always);
    db.create_table(users()).unwrap();
    for uid in 0..10 {
        put(&mut db, "users", uid, "x");
    }
    db.checkpoint().unwrap();
    put(&mut db, "users", 10, "y");
    db.close().unwrap();
    let ck = dir.path().join(&checkpoints(dir.path())[0]);
    let bytes = std::fs::read(&ck).unwrap();
    for at in [0, 9, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        std::fs::write(&ck, &damaged).unwrap();
        let err = reopen_err(dir.path());
        assert_eq!(err.code(), "CorruptData", "byte {at}: {err}");
        assert!(err.message().contains("checkpoint-"), "{err}");
    }
    std::fs::write(&ck, &bytes[..bytes.len() - 5]).unwrap();
    assert_eq!(reopen_err(dir.path()).code(), "CorruptData");
    std::fs::write(&ck, &bytes).unwrap();
    assert_eq!(users_after_reopen(dir.path()), 11);
}

#[test]
fn leftovers_of_an_interrupted_checkpoint_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path(), SyncPolicy::Always);
    db.create_table(users()).unwrap();
    for uid in 0..10 {
        put(&mut db, "users", uid, "x");
    }
    let snapshot_before_checkpoint = db.export_snapshot().unwrap();
    db.checkpoint().unwrap();
    put(&mut db, "users", 10, "y");
    let before = observe(&db);
    db.close().unwrap();
    // A half-written temp file, an older checkpoint and an old covered
    // segment, as a crash in the middle of checkpointing would leave them.
    let tmp = dir.path().join("checkpoint-00000000000000000099.snap.tmp");
    std::fs::write(&tmp, b"half a checkpoint").unwrap();
    let old_ck = dir.path().join("checkpoint-00000000000000000005.snap");
    std::fs::write(&old_ck, &snapshot_before_checkpoint).unwrap();
    let old_seg = dir.path().join("wal-00000000000000000001.log");
    std::fs::write(&old_seg, b"stale, never read").unwrap();
    let unrelated = dir.path().join("README.txt");
    std::fs::write(&unrelated, b"not ours").unwrap();

    let db = open(dir.path(), SyncPolicy::Always);
    assert_eq!(observe(&db), before);
    assert!(!tmp.exists());
    assert!(!old_ck.exists());
    assert!(!old_seg.exists());
    assert!(unrelated.exists());
}

#[test]
fn storage_reports_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    let fs = FsOptions::new(SyncPolicy::Batch, 1 << 20)
        .segment_bytes(300)
        .batch(4, 5);
    let storage = FsStorage::open_with(dir.path(), fs).unwrap();
    assert_eq!(storage.options(), fs);
    assert_eq!(storage.next_seq(), 1);
    assert_eq!(storage.segments(), &[1]);
    assert_eq!(storage.checkpoint_seq(), None);
    let clock = Arc::new(ManualClock::new(T0));
    let mut db =
        Database::with_storage(options(&clock, SyncPolicy::Batch), Box::new(storage)).unwrap();
    db.create_table(users()).unwrap();
    for uid in 0..30 {
        clock.advance(2);
        put(&mut db, "users", uid, "abc");
    }
    drop(db);
    let storage = FsStorage::open_with(dir.path(), fs).unwrap();
    assert_eq!(storage.next_seq(), 32);
    assert!(storage.segments().len() > 3);
    assert!(storage.torn_tail().is_none());
    assert_eq!(
        FsStorage::open_with(dir.path().join("x").as_path(), fs.segment_bytes(0))
            .unwrap_err()
            .code(),
        "OTSParameterInvalid"
    );
}

#[test]
fn each_sync_policy_fsyncs_when_it_promises() {
    use tablesync::storage::{Storage, WalEntry};
    let entry = |c: u64| WalEntry::TruncateLog { cursor: c };
    let dir = tempfile::tempdir().unwrap();

    // Always: one fsync per append, nothing left pending.
    let mut s = FsStorage::open(dir.path(), SyncPolicy::Always, 1 << 20).unwrap();
    s.recover().unwrap();
    for c in 1..=5 {
        s.append(&[entry(c)], T0).unwrap();
        assert_eq!(s.log_syncs(), c);
        assert!(!s.has_unsynced());
    }
    drop(s);

    // Batch: every 4 entries, or once the oldest pending one is 50 ms old.
    let fs = FsOptions::new(SyncPolicy::Batch, 1 << 20).batch(4, 50);
    let mut s = FsStorage::open_with(dir.path(), fs).unwrap();
    assert_eq!(s.recover().unwrap().entries.len(), 5);
    s.append(&[entry(6)], T0).unwrap();
    s.append(&[entry(7), entry(8)], T0 + 10).unwrap();
    assert_eq!(s.log_syncs(), 0);
    assert!(s.has_unsynced());
    s.append(&[entry(9)], T0 + 20).unwrap();
    assert_eq!(s.log_syncs(), 1, "4 entries pending");
    s.append(&[entry(10)], T0 + 30).unwrap();
    s.append(&[entry(11)], T0 + 79).unwrap();
    assert_eq!(s.log_syncs(), 1, "oldest pending is 49 ms old");
    s.append(&[entry(12)], T0 + 80).unwrap();
    assert_eq!(s.log_syncs(), 2, "oldest pending is 50 ms old");
    s.append(&[entry(13)], T0 + 81).unwrap();
    s.flush().unwrap();
    assert_eq!(s.log_syncs(), 3, "flush syncs the pending group");
    s.flush().unwrap();
    assert_eq!(s.log_syncs(), 3, "nothing pending, nothing to sync");
    drop(s);

    // Never: no fsync on append; flush still forces one.
    let mut s = FsStorage::open(dir.path(), SyncPolicy::Never, 1 << 20).unwrap();
    let got = s.recover().unwrap().entries;
    assert_eq!(got, (1..=13).map(entry).collect::<Vec<_>>());
    for c in 14..=30 {
        s.append(&[entry(c)], T0).unwrap();
    }
    assert_eq!(s.log_syncs(), 0);
    s.flush().unwrap();
    assert_eq!(s.log_syncs(), 1);
    assert_eq!(s.recover().unwrap_err().code(), "OTSParameterInvalid");
}

#[test]
fn one_append_is_recovered_whole_or_not_at_all() {
    use tablesync::storage::{Storage, WalEntry};
    let dir = tempfile::tempdir().unwrap();
    let mut s = FsStorage::open(dir.path(), SyncPolicy::Always, 1 << 20).unwrap();
    s.recover().unwrap();
    let first: Vec<WalEntry> = (1..=3)
        .map(|c| WalEntry::TruncateLog { cursor: c })
        .collect();
    let second: Vec<WalEntry> = (4..=9)
        .map(|c| WalEntry::TruncateLog { cursor: c })
        .collect();
    s.append(&first, T0).unwrap();
    s.append(&second, T0).unwrap();
    s.append(&[], T0).unwrap();
    drop(s);
    let seg = dir.path().join(&segments(dir.path())[0]);
    let len = std::fs::metadata(&seg).unwrap().len();
    // Cut the second commit anywhere: none of its six entries come back.
    for cut in [1, 5, 10] {
        let bytes = std::fs::read(&seg).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(len - cut).unwrap();
        drop(f);
        let mut s = FsStorage::open(dir.path(), SyncPolicy::Always, 1 << 20).unwrap();
        assert!(s.torn_tail().is_some());
        assert_eq!(s.recover().unwrap().entries, first, "cut {cut}");
        drop(s);
        std::fs::write(&seg, &bytes).unwrap();
    }
}
