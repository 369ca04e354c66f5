//! Delta checkpoints (issue 11 item 3, FORMAT.md §12.3): a checkpoint
//! writes only what changed since the last one, on top of a full
//! checkpoint; reopening applies the chain and gives back exactly the
//! state that was checkpointed. Directory format 3; format-2 directories
//! are migrated (fixture `fixtures/dir_v2_checkpoint/`, made by the
//! `tablesync` CLI of the build before deltas: region `eu`, table `users`,
//! puts of uid 1, 2, 3 and a delete of 2, restored from a backup into a new
//! directory (a checkpoint), then puts of uid 4, 5 and one replacing uid 1).

mod vectors_gen;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tablesync::client::offline::check_dir;
use tablesync::storage::fs::{
    read_manifest_format, FsOptions, FsStorage, DIR_FORMAT, MANIFEST_FILE, MAX_DELTAS,
};
use tablesync::storage::Storage;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableOptions, TableSchema,
};

const T0: i64 = 1_700_000_000_000;
const V2_DIGEST: &str = "0a238510009e10952e1da5cf669417b845a6b0231272ddb27fb30a2096cbd2fa";

fn options(region: &str, clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock(region, Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX)
}

fn open(dir: &Path, clock: &ManualClock) -> Database {
    Database::open(dir, options("eu", clock)).unwrap()
}

fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("k", PkType::Integer)])
}

fn put(db: &mut Database, table: &str, k: i64, v: &str) {
    db.put_row(
        table,
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .unwrap();
}

fn del(db: &mut Database, table: &str, k: i64) {
    db.delete_row(table, PrimaryKey::new([("k", k)]), Condition::ignore())
        .unwrap();
}

/// Checkpoint files of `dir`, name → size.
fn checkpoints(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

fn deltas(dir: &Path) -> Vec<String> {
    checkpoints(dir)
        .into_keys()
        .filter(|n| n.ends_with(".delta"))
        .collect()
}

/// The whole state (tables, rows, log, clocks) as bytes: equal bytes,
/// equal regions.
fn state(db: &Database) -> Vec<u8> {
    db.export_snapshot().unwrap()
}

/// Drop (no close: as a crash after the last write) and reopen.
fn reopen(db: Database, dir: &Path, clock: &ManualClock) -> Database {
    let before = state(&db);
    drop(db);
    let db = open(dir, clock);
    assert_eq!(state(&db), before, "the reopened region differs");
    db
}

#[test]
fn a_checkpoint_writes_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = open(&dir, &clock);
    db.create_table(schema("t")).unwrap();
    for k in 0..20_000 {
        put(
            &mut db,
            "t",
            k,
            &format!("value number {k} {}", k * 7919 % 1009),
        );
    }
    db.checkpoint().unwrap();
    let full = checkpoints(&dir);
    assert_eq!(full.len(), 1);
    let full_bytes = *full.values().next().unwrap();
    assert!(full_bytes > 200_000, "{full:?}");
    for round in 0..5i64 {
        for k in 0..20 {
            put(&mut db, "t", round * 1000 + k, &format!("changed {round}"));
        }
        db.checkpoint().unwrap();
        let d = deltas(&dir);
        assert_eq!(d.len() as i64, round + 1, "{d:?}");
        let size = checkpoints(&dir)[d.last().unwrap()];
        // 20 rows and 20 log records, not the 20,000-row region.
        assert!(size < 6_000, "delta of {size} bytes for 20 changes");
    }
    // The full checkpoint was not rewritten.
    assert_eq!(
        checkpoints(&dir).iter().find(|(n, _)| n.ends_with(".snap")),
        full.iter().next()
    );
    reopen(db, &dir, &clock);
}

#[test]
fn reopening_applies_the_chain_of_every_kind_of_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = open(&dir, &clock);
    db.create_table(schema("a")).unwrap();
    db.create_table(schema("b")).unwrap();
    for k in 0..50 {
        put(&mut db, "a", k, "a0");
        put(&mut db, "b", k, "b0");
    }
    db.checkpoint().unwrap();
    let mut db = reopen(db, &dir, &clock);
    // Rows changed and deleted, a table deleted and one created.
    clock.advance(5);
    put(&mut db, "a", 3, "a1");
    del(&mut db, "a", 4);
    db.delete_table("b").unwrap();
    db.create_table(schema("c")).unwrap();
    put(&mut db, "c", 1, "c0");
    db.checkpoint().unwrap();
    assert_eq!(deltas(&dir).len(), 1);
    let mut db = reopen(db, &dir, &clock);
    // A table deleted and created again under the same name between two
    // checkpoints; options changed; the log truncated.
    clock.advance(5);
    db.delete_table("c").unwrap();
    db.create_table(schema("c")).unwrap();
    put(&mut db, "c", 2, "c1");
    db.update_table(
        "a",
        TableOptions {
            max_versions: 3,
            time_to_live: -1,
        },
    )
    .unwrap();
    put(&mut db, "a", 5, "a2");
    let cut = db.next_cursor().unwrap() - 3;
    db.truncate_log(cut).unwrap();
    db.checkpoint().unwrap();
    assert_eq!(deltas(&dir).len(), 2);
    let mut db = reopen(db, &dir, &clock);
    // Records that arrive from another region.
    let mut other = Database::memory(options("us", &clock)).unwrap();
    other.create_table(schema("a")).unwrap();
    put(&mut other, "a", 77, "from us");
    put(&mut other, "a", 3, "from us");
    let page = other.changes_since(0, 100).unwrap();
    db.apply_changes(&page.records).unwrap();
    db.checkpoint().unwrap();
    // A log tail after the chain, replayed on top of it.
    put(&mut db, "a", 6, "tail");
    let db = reopen(db, &dir, &clock);
    assert_eq!(deltas(&dir).len(), 3);
    let rep = check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    drop(db);
}

#[test]
fn a_checkpoint_with_nothing_new_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = open(&dir, &clock);
    db.create_table(schema("t")).unwrap();
    for k in 0..200 {
        put(&mut db, "t", k, "x");
    }
    db.checkpoint().unwrap();
    put(&mut db, "t", 2, "y");
    db.checkpoint().unwrap();
    let before = checkpoints(&dir);
    assert_eq!(before.len(), 2, "{before:?}");
    db.checkpoint().unwrap();
    assert_eq!(checkpoints(&dir), before);
}

#[test]
fn the_chain_is_folded_into_a_full_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = open(&dir, &clock);
    db.create_table(schema("t")).unwrap();
    for k in 0..5_000 {
        put(&mut db, "t", k, &format!("row {k} {}", k * 31 % 97));
    }
    db.checkpoint().unwrap();
    // Small deltas: at most MAX_DELTAS of them, then a full checkpoint.
    let mut most = 0;
    for i in 0..(MAX_DELTAS as i64 + 3) {
        put(&mut db, "t", i, "small change");
        db.checkpoint().unwrap();
        most = most.max(deltas(&dir).len());
    }
    assert_eq!(most, MAX_DELTAS);
    assert!(deltas(&dir).len() < MAX_DELTAS);
    let mut db = reopen(db, &dir, &clock);
    // Deltas that add up to half the full checkpoint: a full one follows.
    for k in 0..5_000 {
        put(&mut db, "t", k, &format!("rewritten {k}"));
        if k % 1_000 == 999 {
            db.checkpoint().unwrap();
        }
    }
    let snaps: Vec<String> = checkpoints(&dir)
        .into_keys()
        .filter(|n| n.ends_with(".snap"))
        .collect();
    assert_eq!(snaps.len(), 1);
    assert!(deltas(&dir).len() < 5, "{:?}", checkpoints(&dir));
    db.checkpoint_full().unwrap();
    assert_eq!(deltas(&dir).len(), 0);
    reopen(db, &dir, &clock);
}

fn chain(dir: &Path, clock: &ManualClock) -> Vec<u8> {
    let mut db = open(dir, clock);
    db.create_table(schema("t")).unwrap();
    for k in 0..30 {
        put(&mut db, "t", k, "v");
    }
    db.checkpoint().unwrap();
    for round in 0..3 {
        put(&mut db, "t", round, "changed");
        db.checkpoint().unwrap();
    }
    assert_eq!(deltas(dir).len(), 3);
    let s = state(&db);
    drop(db);
    s
}

#[test]
fn a_damaged_or_missing_delta_is_corruption_and_changes_nothing() {
    let clock = ManualClock::new(T0);
    for case in ["flip", "truncate", "remove middle"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        chain(&dir, &clock);
        let d = deltas(&dir);
        let victim = dir.join(&d[1]);
        match case {
            "flip" => {
                let mut b = std::fs::read(&victim).unwrap();
                let n = b.len() - 3;
                b[n] ^= 0x10;
                std::fs::write(&victim, b).unwrap();
            }
            "truncate" => {
                let b = std::fs::read(&victim).unwrap();
                std::fs::write(&victim, &b[..b.len() - 1]).unwrap();
            }
            _ => std::fs::remove_file(&victim).unwrap(),
        }
        let before = checkpoints(&dir);
        let e = Database::open(&dir, options("eu", &clock)).unwrap_err();
        assert_eq!(e.code(), "CorruptData", "{case}: {e}");
        assert_eq!(checkpoints(&dir), before, "{case}");
        let rep = check_dir(&dir).unwrap();
        assert!(!rep.is_ok(), "{case}: {rep:?}");
    }
}

#[test]
fn deltas_older_than_the_full_checkpoint_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let want = chain(&dir, &clock);
    // As if a crash came after a full checkpoint was written but before
    // the deltas it replaces were removed.
    let stale = deltas(&dir);
    let kept: Vec<(String, Vec<u8>)> = stale
        .iter()
        .map(|n| (n.clone(), std::fs::read(dir.join(n)).unwrap()))
        .collect();
    let mut db = open(&dir, &clock);
    db.checkpoint_full().unwrap();
    drop(db);
    for (n, b) in &kept {
        std::fs::write(dir.join(n), b).unwrap();
    }
    let db = open(&dir, &clock);
    assert_eq!(state(&db), want);
    assert!(deltas(&dir).is_empty(), "{:?}", checkpoints(&dir));
}

#[test]
fn the_storage_reports_its_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    chain(&dir, &clock);
    let mut s = FsStorage::open_with(&dir, FsOptions::new(SyncPolicy::Never, u64::MAX)).unwrap();
    assert_eq!(s.delta_checkpoints().len(), 3);
    assert_eq!(
        s.checkpoint_seq(),
        Some(*s.delta_checkpoints().last().unwrap())
    );
    let r = s.recover().unwrap();
    assert!(r.snapshot.is_some());
    assert_eq!(r.deltas.len(), 3);
    assert!(s.delta_allowed());
}

fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

#[test]
fn the_v2_fixture_is_format_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("dir_v2_checkpoint");
    let (m, format) = read_manifest_format(&tablesync::storage::vfs::RealFs, &dir)
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.region.as_str(), format, m.migrated_from),
        ("eu", 2, None)
    );
    assert!(deltas(&dir).is_empty());
}

#[test]
fn a_format_2_directory_is_migrated() {
    let (_tmp, dir) = copy_fixture("dir_v2_checkpoint");
    let clock = ManualClock::new(T0);
    let manifest_before = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    let (old, _) = read_manifest_format(&tablesync::storage::vfs::RealFs, &dir)
        .unwrap()
        .unwrap();
    // Another region is refused, and the refused open migrates nothing.
    let e = Database::open(&dir, options("us", &clock)).unwrap_err();
    assert_eq!(e.code(), "RegionMismatch", "{e}");
    assert_eq!(
        std::fs::read(dir.join(MANIFEST_FILE)).unwrap(),
        manifest_before
    );
    let mut db = open(&dir, &clock);
    assert_eq!(db.table_digest("users").unwrap().to_hex(), V2_DIGEST);
    assert_eq!(db.describe_table("users").unwrap().row_count, 4);
    let (m, format) = read_manifest_format(&tablesync::storage::vfs::RealFs, &dir)
        .unwrap()
        .unwrap();
    assert_eq!((m.region.as_str(), format), ("eu", DIR_FORMAT));
    assert_eq!(m.migrated_from, Some(2));
    assert_eq!(m.created_ms, old.created_ms, "the creation time is kept");
    // The migrated directory takes delta checkpoints.
    db.put_row(
        "users",
        PrimaryKey::new([("uid", 6)]),
        vec![Column::new("name", "six")],
        Condition::ignore(),
    )
    .unwrap();
    db.checkpoint().unwrap();
    assert_eq!(deltas(&dir).len(), 1, "{:?}", checkpoints(&dir));
    db.put_row(
        "users",
        PrimaryKey::new([("uid", 7)]),
        vec![Column::new("name", "seven")],
        Condition::ignore(),
    )
    .unwrap();
    db.checkpoint().unwrap();
    let before = state(&db);
    drop(db);
    let db = open(&dir, &clock);
    assert_eq!(state(&db), before);
}

/// `tests/vectors/storage_delta.json`: each delta file's header decodes to
/// its link, and a directory holding exactly the chain's files opens as the
/// region whose snapshot the file lists; a flipped byte in any file of the
/// chain is `CorruptData`.
#[test]
fn the_golden_vectors_replay() {
    replay_chain_file(&vectors_gen::vectors_dir().join("storage_delta.json"));
}

/// A chain written before purges (delta frames version 1, directory
/// format 3: the previous `storage_delta.json`) still opens.
#[test]
fn a_version_1_delta_chain_still_opens() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/storage_delta_v1.json");
    replay_chain_file(&p);
}

fn replay_chain_file(p: &Path) {
    use tablesync::storage::fs::decode_delta;
    use vectors_gen::json::unhex;
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).expect("vector file")).expect("json");
    let files: Vec<(String, Vec<u8>)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap().to_string();
            let bytes = unhex(f["hex"].as_str().unwrap());
            if name.ends_with(".delta") {
                let next: u64 = name[11..31].parse().unwrap();
                let (link, _) = decode_delta(bytes.clone(), &name, next).unwrap();
                assert_eq!(link.base.to_string(), f["link"]["base"].as_str().unwrap());
                assert_eq!(link.prev.to_string(), f["link"]["prev"].as_str().unwrap());
                assert_eq!(link.next_seq, next);
            } else {
                assert!(f["link"].is_null());
            }
            (name, bytes)
        })
        .collect();
    assert_eq!(files.len(), 3);
    assert_eq!(
        files.iter().filter(|(n, _)| n.ends_with(".delta")).count(),
        2
    );
    let want = unhex(v["snapshot_hex"].as_str().unwrap());
    let clock = ManualClock::new(T0);
    let write_chain = |dir: &Path, damage: Option<(usize, usize)>| {
        std::fs::create_dir_all(dir).unwrap();
        for (i, (n, b)) in files.iter().enumerate() {
            let mut b = b.clone();
            if let Some((f, at)) = damage {
                if f == i {
                    let n = b.len();
                    b[at % n] ^= 0x01;
                }
            }
            std::fs::write(dir.join(n), b).unwrap();
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    write_chain(&dir, None);
    let db = Database::open(&dir, options("eu", &clock)).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), want);
    drop(db);
    for (f, (_, b)) in files.iter().enumerate() {
        for at in [0, 9, 20, 43, b.len() / 2, b.len() - 1] {
            let dir = tmp.path().join(format!("damaged-{f}-{at}"));
            write_chain(&dir, Some((f, at)));
            let e = Database::open(&dir, options("eu", &clock)).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "file {f} byte {at}: {e}");
        }
    }
}
