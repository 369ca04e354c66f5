//! Snapshot deltas (FORMAT.md §11.1): a copy imported from a region's
//! snapshot follows the region by deltas holding only the records since its
//! cursor; it then backs up exactly like the region. Rows that reached the
//! region outside its log (reconcile) make the delta refuse (`false`), so the
//! copy is replaced by a fresh snapshot; bad input changes nothing.

use std::sync::Arc;
use tablesync::backup::{
    BackupKind, BackupOptions, MemoryStore, Repository, RestoreOptions, INIT_RANDOM_LEN,
};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::{Database, DatabaseOptions, ManualClock};

mod common;
use common::{put, region};

fn mirror_of(db: &Database) -> Database {
    Database::import_snapshot(
        &db.export_snapshot().unwrap(),
        Arc::new(ManualClock::new(1_000_000)),
    )
    .unwrap()
}

#[test]
fn a_copy_follows_its_region_by_deltas_and_backs_up_the_same() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    for i in 0..300 {
        put(&mut a, i, "seed value with some length to it");
    }
    let mut mirror = mirror_of(&a);
    let full_len = a.export_snapshot().unwrap().len();
    let repo = Repository::init(
        Box::new(Arc::new(MemoryStore::new())),
        None,
        &[5; INIT_RANDOM_LEN],
    )
    .unwrap();
    let opts = BackupOptions::default();
    assert_eq!(
        mirror.backup(&repo, &opts, &mut |_| {}).unwrap().info.kind,
        BackupKind::Full
    );
    for round in 0..3 {
        clock.advance(3);
        put(&mut a, round, "changed");
        put(&mut a, 1000 + round, "new");
        let delta = a
            .export_snapshot_delta(mirror.next_cursor().unwrap())
            .unwrap();
        assert!(
            delta.len() * 10 < full_len,
            "delta {} bytes, snapshot {full_len}",
            delta.len()
        );
        assert!(
            mirror.apply_snapshot_delta(&delta).unwrap(),
            "round {round}"
        );
        assert_eq!(
            mirror.table_digest("t").unwrap(),
            a.table_digest("t").unwrap()
        );
        assert_eq!(mirror.next_cursor().unwrap(), a.next_cursor().unwrap());
        let out = mirror.backup(&repo, &opts, &mut |_| {}).unwrap();
        assert_eq!(out.info.kind, BackupKind::Incremental);
        assert_eq!(out.info.records, 2);
    }
    // An empty delta is fine too.
    let delta = a
        .export_snapshot_delta(mirror.next_cursor().unwrap())
        .unwrap();
    assert!(mirror.apply_snapshot_delta(&delta).unwrap());
    let (restored, _) = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("a", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        restored.table_digest("t").unwrap(),
        a.table_digest("t").unwrap()
    );
}

#[test]
fn rows_outside_the_log_or_a_wrong_cursor_make_the_copy_start_over() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut c = region("c", &clock);
    for i in 0..50 {
        put(&mut a, i, "a");
    }
    let mut mirror = mirror_of(&a);
    let cursor = mirror.next_cursor().unwrap();

    // A delta for another cursor is refused.
    put(&mut a, 1, "again");
    let stale = a.export_snapshot_delta(cursor - 1).unwrap();
    assert!(!mirror_of(&a).apply_snapshot_delta(&stale).unwrap());

    // Damage is an error and changes nothing.
    let good = a.export_snapshot_delta(cursor).unwrap();
    let digest = mirror.table_digest("t").unwrap();
    for i in [0, 5, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x04;
        assert!(mirror.apply_snapshot_delta(&bad).is_err(), "flip at {i}");
        assert_eq!(mirror.table_digest("t").unwrap(), digest);
        assert_eq!(mirror.next_cursor().unwrap(), cursor);
    }
    assert!(mirror.apply_snapshot_delta(&good).unwrap());

    // Reconcile brings rows without records: the delta's state differs.
    for i in 40..80 {
        put(&mut c, i, "c");
    }
    c.sync_with(
        &mut a,
        SyncConfig::new(SyncMode::Reconcile, SyncDirection::Push),
    )
    .unwrap();
    let delta = a
        .export_snapshot_delta(mirror.next_cursor().unwrap())
        .unwrap();
    assert!(!mirror.apply_snapshot_delta(&delta).unwrap());

    // A cursor beyond the log's end is refused by the region.
    let end = a.next_cursor().unwrap();
    assert_eq!(
        a.export_snapshot_delta(end + 1).unwrap_err().code(),
        "OTSParameterInvalid"
    );
}
