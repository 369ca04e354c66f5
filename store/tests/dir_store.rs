//! The directory store: the object-store contract, leftovers of interrupted
//! writes, refused names, and a backup round trip through real files.

use std::sync::Arc;
use tablesync::backup::{BackupOptions, ObjectStore, Repository, RestoreOptions, INIT_RANDOM_LEN};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    TableSchema,
};
use tablesync_store::{open_store, DirStore};

#[test]
fn objects_round_trip_and_list_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let s = DirStore::open(dir.path()).unwrap();
    assert_eq!(s.get("config").unwrap(), None);
    s.put("config", b"c").unwrap();
    s.put("chunks/ab/ab01", b"1").unwrap();
    s.put("chunks/cd/cd02", b"2").unwrap();
    s.put("manifests/ff", b"m").unwrap();
    s.put("config", b"c2").unwrap();
    assert_eq!(s.get("config").unwrap().as_deref(), Some(&b"c2"[..]));
    assert_eq!(
        s.list("chunks/").unwrap(),
        vec!["chunks/ab/ab01", "chunks/cd/cd02"]
    );
    assert_eq!(s.list("chunks/cd").unwrap(), vec!["chunks/cd/cd02"]);
    assert_eq!(s.list("manifests/").unwrap(), vec!["manifests/ff"]);
    assert!(s.exists("manifests/ff").unwrap());
    s.delete("manifests/ff").unwrap();
    s.delete("manifests/ff").unwrap();
    assert!(!s.exists("manifests/ff").unwrap());
    for bad in ["", "/abs", "../up", "a/../b", "x.tmp", "sp ace", "a//b"] {
        assert_eq!(
            s.put(bad, b"x").unwrap_err().code(),
            "OTSParameterInvalid",
            "{bad:?}"
        );
    }
    // A write cut short leaves only a .tmp file, which is never listed and
    // goes on open once it is stale; a fresh one (another process writing
    // right now, e.g. a continuous backup while `backup list` runs) stays.
    let old = dir.path().join("chunks/ab/ab03.1-0.tmp");
    let live = dir.path().join("chunks/ab/ab04.2-0.tmp");
    std::fs::write(&old, b"half").unwrap();
    std::fs::write(&live, b"being written").unwrap();
    let long_ago = std::time::SystemTime::now() - tablesync_store::STALE_TMP * 2;
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    assert_eq!(s.list("chunks/ab").unwrap(), vec!["chunks/ab/ab01"]);
    DirStore::open(dir.path()).unwrap();
    assert!(!old.exists());
    assert!(live.exists());
    assert_eq!(s.list("chunks/ab").unwrap(), vec!["chunks/ab/ab01"]);
    assert_eq!(
        open_store("ftp://bucket/x").err().map(|e| e.code()),
        Some("OTSParameterInvalid")
    );
}

#[test]
fn deferred_writes_stay_out_of_sight_until_synced() {
    let dir = tempfile::tempdir().unwrap();
    let s = DirStore::open(dir.path()).unwrap();
    s.put_deferred("chunks/ab/ab01", b"one").unwrap();
    s.put_deferred("chunks/cd/cd02", b"two").unwrap();
    // Before the sync (a crash here): only temporary files, never listed,
    // so a later backup writes those chunks again instead of trusting them.
    assert!(!s.exists("chunks/ab/ab01").unwrap());
    assert_eq!(s.get("chunks/cd/cd02").unwrap(), None);
    assert!(s.list("chunks/").unwrap().is_empty());
    let tmp = std::fs::read_dir(dir.path().join("chunks/ab"))
        .unwrap()
        .count();
    assert_eq!(tmp, 1, "one temporary file");
    // A clone shares the pending writes (the backup's workers hold clones).
    s.clone().sync_deferred().unwrap();
    assert_eq!(
        s.list("chunks/").unwrap(),
        vec!["chunks/ab/ab01", "chunks/cd/cd02"]
    );
    assert_eq!(
        s.get("chunks/ab/ab01").unwrap().as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("chunks/ab"))
            .unwrap()
            .count(),
        1
    );
    s.sync_deferred().unwrap();
}

#[test]
fn a_backup_restores_through_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut db = Database::memory(DatabaseOptions::with_clock("eu", clock.clone())).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    for i in 0..100i64 {
        db.put_row(
            "t",
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", i * 7)],
            Condition::ignore(),
        )
        .unwrap();
    }
    let url = format!("file://{}", dir.path().display());
    let repo = Repository::init(open_store(&url).unwrap(), None, &[1; INIT_RANDOM_LEN]).unwrap();
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    // The chunks were written deferred and synced before the manifest:
    // none is left under a temporary name.
    fn tmp_files(d: &std::path::Path) -> usize {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    tmp_files(&p)
                } else {
                    usize::from(p.to_string_lossy().ends_with(".tmp"))
                }
            })
            .sum()
    }
    assert_eq!(tmp_files(dir.path()), 0);
    let repo = Repository::open(open_store(dir.path().to_str().unwrap()).unwrap(), None).unwrap();
    let (r, _) = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("eu", clock),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
}
