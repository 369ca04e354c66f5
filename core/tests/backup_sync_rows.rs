//! Rows a region received by full or hybrid sync carry no change
//! records: an automatic backup notices (the version vector holds more than
//! the parent's plus the records since) and takes a full backup that restores
//! them, while an incremental sync (records shipped) keeps backups
//! incremental. A required incremental is refused with `LogGap`.

use std::sync::Arc;
use tablesync::backup::{
    BackupKind, BackupMode, BackupOptions, MemoryStore, Repository, RestoreOptions, INIT_RANDOM_LEN,
};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::{Database, DatabaseOptions, ManualClock};

mod common;
use common::{put, region};

fn backup(db: &Database, repo: &Repository, mode: BackupMode) -> tablesync::Result<BackupKind> {
    let opts = BackupOptions {
        mode,
        ..Default::default()
    };
    db.backup(repo, &opts, &mut |_| {}).map(|o| o.info.kind)
}

fn restored_digest(repo: &Repository, clock: &ManualClock) -> tablesync::Digest {
    let (r, _) = Database::restore_from(
        repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("b", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap();
    r.table_digest("t").unwrap()
}

#[test]
fn rows_received_without_records_get_into_the_next_backup() {
    // Reconcile moves rows without marking their records held (the version
    // vector does not change): incrementals keep those rows as changed rows
    // (tests/backup_reconcile.rs).
    for mode in [SyncMode::Full, SyncMode::Hybrid] {
        let clock = ManualClock::new(1_000_000);
        let mut a = region("a", &clock);
        let mut b = region("b", &clock);
        let store = Arc::new(MemoryStore::new());
        let repo = Repository::init(Box::new(store.clone()), None, &[3; INIT_RANDOM_LEN]).unwrap();
        for i in 0..50 {
            put(&mut b, i, "b");
        }
        assert_eq!(
            backup(&b, &repo, BackupMode::Auto).unwrap(),
            BackupKind::Full
        );
        clock.advance(5);
        for i in 40..140 {
            put(&mut a, i, "a");
        }
        a.sync_with(&mut b, SyncConfig::new(mode, SyncDirection::Push))
            .unwrap();
        put(&mut b, 1000, "local");
        assert_eq!(
            backup(&b, &repo, BackupMode::Incremental)
                .unwrap_err()
                .code(),
            "LogGap",
            "{mode:?}"
        );
        assert_eq!(
            backup(&b, &repo, BackupMode::Auto).unwrap(),
            BackupKind::Full,
            "{mode:?}"
        );
        assert_eq!(restored_digest(&repo, &clock), b.table_digest("t").unwrap());
        // Local writes since are records again: incremental.
        put(&mut b, 1001, "local");
        assert_eq!(
            backup(&b, &repo, BackupMode::Auto).unwrap(),
            BackupKind::Incremental
        );
        assert_eq!(restored_digest(&repo, &clock), b.table_digest("t").unwrap());
    }
}

#[test]
fn records_shipped_by_incremental_sync_keep_backups_incremental() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    let store = Arc::new(MemoryStore::new());
    let repo = Repository::init(Box::new(store.clone()), None, &[3; INIT_RANDOM_LEN]).unwrap();
    put(&mut b, 1, "b");
    assert_eq!(
        backup(&b, &repo, BackupMode::Auto).unwrap(),
        BackupKind::Full
    );
    for i in 0..30 {
        put(&mut a, i, "a");
    }
    a.sync_with(
        &mut b,
        SyncConfig::new(SyncMode::Incremental, SyncDirection::Push),
    )
    .unwrap();
    assert_eq!(
        backup(&b, &repo, BackupMode::Auto).unwrap(),
        BackupKind::Incremental
    );
    assert_eq!(restored_digest(&repo, &clock), b.table_digest("t").unwrap());
}
