//! Rows that arrive by reconcile sync carry no change records and leave the
//! version vector as it was. Incremental backups (format 2) still hold them:
//! each stores the rows whose state changed since its parent (found by the
//! row-id map), so restoring the latest backup, or any stamp from its point
//! on, rebuilds the region exactly, and a deep verify checks out.

use std::sync::Arc;
use tablesync::backup::{
    BackupInfo, BackupKind, BackupMode, BackupOptions, MemoryStore, Repository, RestoreOptions,
    RestorePoint, VerifyOptions, INIT_RANDOM_LEN,
};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::{Condition, Database, DatabaseOptions, Digest, ManualClock, PrimaryKey};

mod common;
use common::{put, region};

fn backup(db: &Database, repo: &Repository) -> BackupInfo {
    let opts = BackupOptions {
        mode: BackupMode::Auto,
        ..Default::default()
    };
    db.backup(repo, &opts, &mut |_| {}).unwrap().info
}

fn restored(repo: &Repository, clock: &ManualClock, point: RestorePoint) -> Digest {
    let (r, _) = Database::restore_from(
        repo,
        &RestoreOptions {
            point,
            ..Default::default()
        },
        DatabaseOptions::with_clock("b", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap();
    r.table_digest("t").unwrap()
}

fn delete(db: &mut Database, k: i64) {
    db.delete_row("t", PrimaryKey::new([("k", k)]), Condition::ignore())
        .unwrap();
}

#[test]
fn reconciled_rows_get_into_incremental_backups() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    let repo = Repository::init(
        Box::new(Arc::new(MemoryStore::new())),
        None,
        &[7; INIT_RANDOM_LEN],
    )
    .unwrap();
    for i in 0..200 {
        put(&mut b, i, "b");
    }
    let full = backup(&b, &repo);
    assert_eq!(full.kind, BackupKind::Full);

    // `a` writes new rows, overwrites some of b's and deletes one; `b` writes
    // locally both on keys `a` touches (rows with records and reconciled
    // state) and on others.
    clock.advance(10);
    for i in 150..260 {
        put(&mut a, i, "a");
    }
    delete(&mut a, 160);
    put(&mut b, 155, "local-before");
    put(&mut b, 5, "local-before");
    clock.advance(10);
    let vv_before = b.version_vector_full().unwrap();
    let report = a
        .sync_with(
            &mut b,
            SyncConfig::new(SyncMode::Reconcile, SyncDirection::Push),
        )
        .unwrap();
    assert!(report.verified || b.table_digest("t").is_ok());
    assert_eq!(
        b.version_vector_full().unwrap(),
        vv_before,
        "reconcile is expected to leave the version vector alone (the case this test is about)"
    );
    assert_ne!(
        a.table_digest("t").unwrap(),
        b.table_digest("t").unwrap(),
        "b keeps rows a does not have"
    );
    clock.advance(10);
    put(&mut b, 156, "local-after");
    put(&mut b, 7, "local-after");

    let first = backup(&b, &repo);
    assert_eq!(first.kind, BackupKind::Incremental);
    let at_first = b.table_digest("t").unwrap();
    assert_eq!(restored(&repo, &clock, RestorePoint::Latest), at_first);

    // Another round: only a reconcile (no local record at all), then a
    // local write, each followed by an incremental.
    clock.advance(10);
    for i in 300..320 {
        put(&mut a, i, "a2");
    }
    put(&mut a, 3, "a2");
    a.sync_with(
        &mut b,
        SyncConfig::new(SyncMode::Reconcile, SyncDirection::Push),
    )
    .unwrap();
    let second = backup(&b, &repo);
    assert_eq!(second.kind, BackupKind::Incremental);
    assert_eq!(second.records, 0, "the rows came without records");
    let at_second = b.table_digest("t").unwrap();
    assert_ne!(at_second, at_first, "the reconcile changed the table");
    clock.advance(10);
    put(&mut b, 400, "local");
    let third = backup(&b, &repo);
    assert_eq!(third.kind, BackupKind::Incremental);
    let at_third = b.table_digest("t").unwrap();

    assert_eq!(restored(&repo, &clock, RestorePoint::Latest), at_third);
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Backup(first.id.clone())),
        at_first
    );
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Backup(second.id.clone())),
        at_second
    );
    // Point in time: every stamp from a backup's point on.
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Stamp(second.point)),
        at_second
    );
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Stamp(third.point)),
        at_third
    );
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Stamp(u64::MAX - 1)),
        at_third
    );

    let rep = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: true,
            sample: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(rep.ok(), "{:?}", rep.problems);
    assert_eq!(rep.backups_replayed, 4);
}

#[test]
fn an_incremental_holds_only_the_rows_that_changed() {
    let clock = ManualClock::new(1_000_000);
    let mut b = region("b", &clock);
    let store = Arc::new(MemoryStore::new());
    let repo = Repository::init(Box::new(store.clone()), None, &[9; INIT_RANDOM_LEN]).unwrap();
    for i in 0..5000 {
        put(
            &mut b,
            i,
            "a fairly long value so that rows have some size to them",
        );
    }
    let full = backup(&b, &repo);
    put(&mut b, 17, "changed");
    let inc = backup(&b, &repo);
    assert_eq!(inc.kind, BackupKind::Incremental);
    assert_eq!(inc.records, 1);
    assert!(
        inc.new_bytes * 50 < full.new_bytes,
        "incremental {} bytes, full {} bytes",
        inc.new_bytes,
        full.new_bytes
    );
    assert_eq!(
        restored(&repo, &clock, RestorePoint::Latest),
        b.table_digest("t").unwrap()
    );
}
