//! Local purges (`Database::purge_rows` / `purge_where`, FORMAT.md §9
//! `PURGE_ROWS`): rows leave this region without tombstones and without
//! change records, the digest drops them, and the purge survives a reopen
//! (WAL replay), a delta checkpoint and a full checkpoint.

use std::path::Path;
use std::sync::Arc;
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, ManualClock, PkColumn, PkType,
    PrimaryKey, SyncPolicy, TableSchema,
};

const T0: i64 = 1_700_000_000_000;

fn options(region: &str, clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock(region, Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX)
}

fn pk(k: i64) -> PrimaryKey {
    PrimaryKey::new([("k", k)])
}

/// A region with table `t` holding `keys` (value `v{k}`, fixed clock).
fn fill(db: &mut Database, keys: impl IntoIterator<Item = i64>) {
    if db.table_digest("t").is_err() {
        db.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    }
    for k in keys {
        db.put_row(
            "t",
            pk(k),
            vec![Column::new("v", format!("v{k}"))],
            Condition::ignore(),
        )
        .unwrap();
    }
}

fn held(db: &Database) -> Vec<i64> {
    (0..40)
        .filter(|k| {
            db.get_row("t", &pk(*k), &GetOptions::default())
                .unwrap()
                .is_some()
        })
        .collect()
}

fn odd(k: &i64) -> bool {
    k % 2 == 1
}

fn even_rows() -> Vec<i64> {
    (0..40).filter(|k| !odd(k)).collect()
}

fn purge_odd(db: &mut Database) -> u64 {
    let keys: Vec<PrimaryKey> = (0..40).filter(odd).map(pk).collect();
    db.purge_rows("t", &keys).unwrap()
}

#[test]
fn a_purge_removes_rows_without_records_and_the_digest_drops_them() {
    let clock = ManualClock::new(T0);
    let mut db = Database::memory(options("eu", &clock)).unwrap();
    fill(&mut db, 0..40);
    let cursor = db.next_cursor().unwrap();
    let vv = db.version_vector().unwrap();
    assert_eq!(purge_odd(&mut db), 20);
    assert_eq!(held(&db), even_rows());
    // No change record, no version-vector movement: nothing replicates.
    assert_eq!(db.next_cursor().unwrap(), cursor);
    assert_eq!(db.version_vector().unwrap(), vv);
    // The maintained digest equals a rescan and a region that never had them.
    let d = db.verify_table_digest("t").unwrap();
    let mut reference = Database::memory(options("eu", &clock)).unwrap();
    fill(&mut reference, even_rows());
    assert_eq!(d, reference.table_digest("t").unwrap());
    // Purging again (or keys never held) removes nothing.
    assert_eq!(purge_odd(&mut db), 0);
    // A purged key can be written again.
    fill(&mut db, [1]);
    assert!(held(&db).contains(&1));
    db.verify_table_digest("t").unwrap();
}

#[test]
fn purge_where_selects_by_encoded_key() {
    let clock = ManualClock::new(T0);
    let mut db = Database::memory(options("eu", &clock)).unwrap();
    fill(&mut db, 0..40);
    // Encoded integer keys end with the value's last byte.
    let n = db
        .purge_where("t", |k| k.last().is_some_and(|b| b % 2 == 1))
        .unwrap();
    assert_eq!(n, 20);
    assert_eq!(held(&db), even_rows());
    assert_eq!(
        db.purge_rows("missing", &[pk(1)]).unwrap_err().code(),
        "OTSObjectNotExist"
    );
}

#[test]
fn a_purge_does_not_replicate_as_deletes() {
    let clock = ManualClock::new(T0);
    let mut a = Database::memory(options("eu", &clock)).unwrap();
    let mut b = Database::memory(options("us", &clock)).unwrap();
    fill(&mut a, 0..40);
    a.sync_with(
        &mut b,
        SyncConfig::new(SyncMode::Incremental, SyncDirection::Push),
    )
    .unwrap();
    assert_eq!(held(&b).len(), 40);
    purge_odd(&mut a);
    fill(&mut a, [40]);
    for mode in [SyncMode::Incremental, SyncMode::Reconcile] {
        a.sync_with(&mut b, SyncConfig::new(mode, SyncDirection::Push))
            .unwrap();
        assert_eq!(held(&b).len(), 40, "{mode:?}: the peer lost rows");
    }
}

fn open(dir: &Path, clock: &ManualClock) -> Database {
    Database::open(dir, options("eu", clock)).unwrap()
}

/// Purged rows stay gone after: a reopen replaying the WAL entry, a delta
/// checkpoint (which lists them as purged keys) and a full checkpoint.
#[test]
fn a_purge_survives_reopen_and_checkpoints() {
    let clock = ManualClock::new(T0);
    for how in ["wal", "delta", "delta-fresh-table", "full"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let mut db = open(&dir, &clock);
        fill(&mut db, 0..40);
        if how != "delta-fresh-table" {
            // The rows are in the full checkpoint the delta builds on.
            db.checkpoint_full().unwrap();
        }
        fill(&mut db, [3]); // a row changed since: in the delta as a key too
        purge_odd(&mut db);
        fill(&mut db, [41]);
        let digest = db.table_digest("t").unwrap();
        match how {
            "wal" => {}
            "delta" | "delta-fresh-table" => db.checkpoint().unwrap(),
            _ => db.checkpoint_full().unwrap(),
        }
        drop(db);
        let deltas = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".delta")
            })
            .count();
        assert_eq!(deltas, usize::from(how == "delta"), "{how}: delta files");
        let mut db = open(&dir, &clock);
        assert_eq!(held(&db), even_rows(), "{how}");
        assert_eq!(db.table_digest("t").unwrap(), digest, "{how}");
        db.verify_table_digest("t").unwrap();
        // And after one more delta on top, and a reopen.
        fill(&mut db, [42]);
        db.checkpoint().unwrap();
        drop(db);
        let db = open(&dir, &clock);
        assert_eq!(held(&db), even_rows(), "{how}, second reopen");
        db.verify_table_digest("t").unwrap();
    }
}

/// A mirror kept by snapshot deltas (FORMAT.md §11.1) learns of a purge
/// only through the tables' digests: applying the delta answers that a
/// whole snapshot is needed, and that snapshot has no purged row.
#[test]
fn a_snapshot_delta_mirror_is_told_to_take_a_whole_snapshot() {
    let clock = ManualClock::new(T0);
    let mut db = Database::memory(options("eu", &clock)).unwrap();
    fill(&mut db, 0..40);
    let mut mirror =
        Database::import_snapshot(&db.export_snapshot().unwrap(), Arc::new(clock.clone())).unwrap();
    let after = db.next_cursor().unwrap();
    fill(&mut db, [0]);
    assert!(mirror
        .apply_snapshot_delta(&db.export_snapshot_delta(after).unwrap())
        .unwrap());
    let after = db.next_cursor().unwrap();
    purge_odd(&mut db);
    assert!(!mirror
        .apply_snapshot_delta(&db.export_snapshot_delta(after).unwrap())
        .unwrap());
    let mirror =
        Database::import_snapshot(&db.export_snapshot().unwrap(), Arc::new(clock.clone())).unwrap();
    assert_eq!(held(&mirror), even_rows());
}
