//! A repository written by format 1 (no row ids; `fixtures/backup_repo_v1`,
//! made by the CLI before format 2: region `r1`, table `t`, a full backup of
//! rows 1–5 and an incremental that rewrote 3, added 6 and deleted 1) is
//! still listed, verified and restored, and continued: the next automatic
//! backup is a full one (a format 1 parent has no row ids), a required
//! incremental is refused, and incrementals then continue the new full.

use std::path::Path;
use std::sync::Arc;
use tablesync::backup::{
    BackupKind, BackupMode, BackupOptions, MemoryStore, ObjectStore, Repository, RestoreOptions,
    VerifyOptions, MANIFEST_VERSION,
};
use tablesync::{Column, Database, DatabaseOptions, ManualClock, PrimaryKey};

/// Table digest of `t` in the fixture's source region after both backups.
const DIGEST: &str = "613fad0b032d990b182f14887b9867175dbc42d9d5f07f7f1e470f5295bffb51";

fn load(dir: &Path, root: &Path, store: &MemoryStore) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            load(&p, root, store);
        } else {
            let name = p.strip_prefix(root).unwrap().to_str().unwrap();
            store.put(name, &std::fs::read(&p).unwrap()).unwrap();
        }
    }
}

fn fixture() -> Repository {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backup_repo_v1");
    let store = Arc::new(MemoryStore::new());
    load(&root, &root, &store);
    Repository::open(Box::new(store), None).unwrap()
}

fn restore(repo: &Repository, clock: &ManualClock) -> Database {
    Database::restore_from(
        repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("r1", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap()
    .0
}

#[test]
fn a_format_1_repository_is_read_and_continued() {
    let repo = fixture();
    let list = repo.list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].kind, BackupKind::Full);
    assert_eq!(list[1].kind, BackupKind::Incremental);
    let v = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: true,
            sample: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(v.ok(), "{:?}", v.problems);

    let clock = ManualClock::new(i64::MAX / 4);
    let mut db = restore(&repo, &clock);
    assert_eq!(db.table_digest("t").unwrap().to_hex(), DIGEST);

    db.put_row(
        "t",
        PrimaryKey::new([("k", 7)]),
        vec![Column::new("v", "c7")],
        tablesync::Condition::ignore(),
    )
    .unwrap();
    let opts = |mode| BackupOptions {
        mode,
        ..Default::default()
    };
    let err = db
        .backup(&repo, &opts(BackupMode::Incremental), &mut |_| {})
        .unwrap_err();
    assert_eq!(err.code(), "OTSParameterInvalid", "{err}");
    let full = db
        .backup(&repo, &opts(BackupMode::Auto), &mut |_| {})
        .unwrap();
    assert_eq!(full.info.kind, BackupKind::Full);
    assert_eq!(
        repo.manifest(&tablesync::Digest::from_hex(&full.info.id).unwrap().0)
            .unwrap()
            .version,
        MANIFEST_VERSION
    );
    db.put_row(
        "t",
        PrimaryKey::new([("k", 8)]),
        vec![Column::new("v", "c8")],
        tablesync::Condition::ignore(),
    )
    .unwrap();
    let inc = db
        .backup(&repo, &opts(BackupMode::Incremental), &mut |_| {})
        .unwrap();
    assert_eq!(inc.info.kind, BackupKind::Incremental);
    assert_eq!(
        restore(&repo, &clock).table_digest("t").unwrap(),
        db.table_digest("t").unwrap()
    );
    let v = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: true,
            sample: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.manifests, 4);
}
