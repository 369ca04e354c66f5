//! Background folds (issues 11 and 13, FORMAT.md §12 "Background fold"):
//! the delta chain is folded into a full checkpoint in three steps —
//! `begin_fold` (cheap), `Fold::run` (heavy, no database), `finish_fold`
//! (cheap) — so no commit pays for serializing the whole region, while
//! every write and checkpoint goes on in between. Directory format 4.

mod vectors_gen;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::{read_manifest_format, DIR_FORMAT, MANIFEST_FILE};
use tablesync::storage::vfs::RealFs;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema,
};

const T0: i64 = 1_700_000_000_000;

/// A checkpoint every ~2 KB of log, so a few hundred rows make a chain.
fn options(clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(2_000)
}

fn open(dir: &Path, clock: &ManualClock) -> Database {
    Database::open(dir, options(clock)).unwrap()
}

fn put(db: &mut Database, k: i64, v: &str) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .unwrap();
}

/// A region with table `t` and background folds on (or off).
fn region(dir: &Path, clock: &ManualClock, folds: bool) -> Database {
    let mut db = open(dir, clock);
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db.set_background_folds(folds);
    db
}

/// Checkpoint files of `dir`: name → bytes.
fn checkpoint_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn snaps(dir: &Path) -> Vec<String> {
    checkpoint_files(dir)
        .into_keys()
        .filter(|n| n.ends_with(".snap"))
        .collect()
}

fn deltas(dir: &Path) -> Vec<String> {
    checkpoint_files(dir)
        .into_keys()
        .filter(|n| n.ends_with(".delta"))
        .collect()
}

/// Write rows until a fold is due (each row 40 bytes of value, keys cycling
/// over 50 so rows are also replaced); returns the next key.
fn write_until_due(db: &mut Database, clock: &ManualClock, mut k: i64) -> i64 {
    for _ in 0..10_000 {
        if db.fold_due() {
            return k;
        }
        clock.advance(1);
        put(db, k % 50, &format!("value-{k:036}"));
        k += 1;
    }
    panic!("no fold became due");
}

/// Property: with a driver that folds whenever one is due (keeping each
/// fold in flight while more rows and delta checkpoints commit), no commit
/// ever writes a full checkpoint once the first one exists — only
/// `finish_fold` changes which full checkpoint is current — and the region
/// reopens as it was. The same run with background folds off has commits
/// that do (so the check can fail).
#[test]
fn commits_never_fold_while_background_folds_keep_up() {
    fn run(folds: bool) -> (usize, usize) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock, folds);
        let (mut inline, mut installed) = (0, 0);
        let mut fold = None;
        for k in 0..1_500i64 {
            let before = snaps(&dir);
            clock.advance(1);
            put(&mut db, k % 200, &format!("value-{k:036}"));
            let after = snaps(&dir);
            if !before.is_empty() && after != before {
                inline += 1;
            }
            if folds {
                match fold.take() {
                    Some((f, since)) if k >= since + 40 => {
                        let f: tablesync::Fold = f;
                        if db.finish_fold(f.run()).unwrap() {
                            installed += 1;
                        }
                    }
                    Some(f) => fold = Some(f),
                    None if db.fold_due() => fold = db.begin_fold().unwrap().map(|f| (f, k)),
                    None => {}
                }
            }
        }
        if let Some((f, _)) = fold {
            db.finish_fold(f.run()).unwrap();
        }
        assert!(!deltas(&dir).is_empty() || !folds);
        let want = db.export_snapshot().unwrap();
        drop(db);
        let db = open(&dir, &clock);
        assert_eq!(
            db.export_snapshot().unwrap(),
            want,
            "reopened region differs"
        );
        (inline, installed)
    }
    let (inline, installed) = run(true);
    assert_eq!(inline, 0, "commits wrote full checkpoints");
    assert!(installed >= 3, "only {installed} folds installed");
    let (inline_off, _) = run(false);
    assert!(
        inline_off >= 3,
        "without background folds only {inline_off} inline folds"
    );
}

/// The fold merges the files at the byte level; its checkpoint is byte
/// for byte the snapshot that loading the chain gives (the path open
/// takes): over the golden chain of `storage_delta.json` (changed and
/// deleted rows, purged rows, a deleted table, a new table, a truncated
/// log) and over a long chain of replaced and purged rows.
#[test]
fn the_byte_level_fold_equals_loading_the_chain() {
    // The golden chain: a full checkpoint and two deltas with every kind of change.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let (_, want) = vectors_gen::storage_delta::chain(&dir);
    let clock = ManualClock::new(T0);
    let mut db = Database::open(
        &dir,
        DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
            .rows_in_memory()
            .checkpoint_bytes(u64::MAX),
    )
    .unwrap();
    assert_eq!(db.export_snapshot().unwrap(), want);
    let fold = db.begin_fold().unwrap().unwrap();
    let covers = fold.covers();
    assert!(db.finish_fold(fold.run()).unwrap());
    let file = std::fs::read(dir.join(format!("checkpoint-{covers:020}.snap"))).unwrap();
    assert_eq!(
        &file[28..],
        &want[..],
        "folded checkpoint differs from the loaded chain"
    );
    drop(db);
    // A long chain of replaced, new and purged rows, folded several times.
    let dir = tmp.path().join("long");
    let mut db = region(&dir, &clock, true);
    let mut k = 0;
    for _ in 0..4 {
        k = write_until_due(&mut db, &clock, k);
        // Purged rows (delta frames version 2) leave the folded checkpoint too.
        let gone = [
            PrimaryKey::new([("k", (k - 1) % 50)]),
            PrimaryKey::new([("k", (k - 2) % 50)]),
        ];
        assert_eq!(db.purge_rows("t", &gone).unwrap(), 2);
        db.checkpoint().unwrap();
        let want = db.export_snapshot().unwrap();
        let fold = db.begin_fold().unwrap().unwrap();
        let covers = fold.covers();
        assert!(db.finish_fold(fold.run()).unwrap());
        let file = std::fs::read(dir.join(format!("checkpoint-{covers:020}.snap"))).unwrap();
        assert_eq!(&file[28..], &want[..]);
    }
}

/// The chain after an install: the folded checkpoint is the only full one,
/// the folded deltas are gone, deltas written while the fold ran stay (and
/// name the older base), and reopening gives the region back.
#[test]
fn an_installed_fold_replaces_the_chain_it_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = region(&dir, &clock, true);
    let k = write_until_due(&mut db, &clock, 0);
    let old_snap = snaps(&dir);
    let fold = db.begin_fold().unwrap().expect("a fold");
    assert!(db.begin_fold().unwrap().is_none(), "one fold at a time");
    assert!(!db.fold_due());
    let covers = fold.covers();
    // Writes and delta checkpoints go on while it is in flight.
    for i in 0..100 {
        clock.advance(1);
        put(&mut db, 1_000 + i, "written during the fold");
    }
    db.checkpoint().unwrap();
    let later: Vec<String> = deltas(&dir)
        .into_iter()
        .filter(|n| n[11..31].parse::<u64>().unwrap() > covers)
        .collect();
    assert!(!later.is_empty());
    let done = fold.run();
    assert!(done.result().unwrap() > 0);
    assert!(db.finish_fold(done).unwrap());
    let folded = format!("checkpoint-{covers:020}.snap");
    assert_eq!(snaps(&dir), vec![folded.clone()]);
    assert_ne!(snaps(&dir), old_snap);
    assert_eq!(
        deltas(&dir),
        later,
        "folded deltas removed, later ones kept"
    );
    // More deltas chain on the folded checkpoint.
    for i in 0..50 {
        clock.advance(1);
        put(&mut db, k + i, "after the fold");
    }
    db.checkpoint().unwrap();
    let want = db.export_snapshot().unwrap();
    drop(db);
    let db = open(&dir, &clock);
    assert_eq!(db.export_snapshot().unwrap(), want);
    let (m, format) = read_manifest_format(&RealFs, &dir).unwrap().unwrap();
    assert_eq!((format, m.migrated_from), (DIR_FORMAT, None));
    assert_eq!(DIR_FORMAT, 4);
}

/// A full checkpoint written while a fold runs wins: the fold is dropped
/// (`finish_fold` is `false`, its file removed), whether it finished
/// writing before the full checkpoint or found its chain gone.
#[test]
fn a_fold_overtaken_by_a_full_checkpoint_is_dropped() {
    for run_first in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock, true);
        write_until_due(&mut db, &clock, 0);
        let fold = db.begin_fold().unwrap().unwrap();
        let done = if run_first {
            let d = fold.run();
            assert!(d.result().is_ok());
            clock.advance(1);
            put(&mut db, 7, "x");
            db.checkpoint_full().unwrap();
            d
        } else {
            clock.advance(1);
            put(&mut db, 7, "x");
            db.checkpoint_full().unwrap();
            fold.run()
        };
        let full = snaps(&dir);
        assert!(!db.finish_fold(done).unwrap(), "run_first {run_first}");
        let after = snaps(&dir);
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after.last(), full.last());
        assert!(deltas(&dir).is_empty());
        assert_eq!(db.health().background_failures, 0);
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(open(&dir, &clock).export_snapshot().unwrap(), want);
    }
}

/// A damaged or missing file of the chain fails the fold with
/// `CorruptData`: nothing on disk changes, the failure is counted in
/// `health()`, and the next fold can start.
#[test]
fn a_damaged_or_missing_chain_file_fails_the_fold_and_changes_nothing() {
    for damage in ["flip", "remove"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock, true);
        write_until_due(&mut db, &clock, 0);
        let victim = dir.join(deltas(&dir).last().unwrap());
        let original = std::fs::read(&victim).unwrap();
        if damage == "flip" {
            let mut b = original.clone();
            let n = b.len();
            b[n / 2] ^= 0x01;
            std::fs::write(&victim, b).unwrap();
        } else {
            std::fs::remove_file(&victim).unwrap();
        }
        let before = checkpoint_files(&dir);
        let fold = db.begin_fold().unwrap().unwrap();
        let done = fold.run();
        assert_eq!(done.result().unwrap_err().code(), "CorruptData", "{damage}");
        let e = db.finish_fold(done).unwrap_err();
        assert_eq!(e.code(), "CorruptData", "{damage}: {e}");
        assert_eq!(
            checkpoint_files(&dir),
            before,
            "{damage}: the fold changed files"
        );
        assert_eq!(db.health().background_failures, 1);
        // Put the file back: the next fold succeeds.
        std::fs::write(&victim, &original).unwrap();
        assert!(db.fold_due());
        let fold = db.begin_fold().unwrap().unwrap();
        assert!(db.finish_fold(fold.run()).unwrap());
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(open(&dir, &clock).export_snapshot().unwrap(), want);
    }
}

/// A crash after the folded checkpoint is in place but before it is
/// installed: reopening takes it as the newest full checkpoint, drops the
/// chain it replaced, and chains the later deltas on it.
#[test]
fn a_crash_before_the_install_recovers_from_the_folded_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = region(&dir, &clock, true);
    write_until_due(&mut db, &clock, 0);
    let fold = db.begin_fold().unwrap().unwrap();
    let covers = fold.covers();
    for i in 0..100 {
        clock.advance(1);
        put(&mut db, 500 + i, "during");
    }
    db.checkpoint().unwrap();
    assert!(fold.run().result().is_ok());
    // The process dies here: no finish_fold.
    let want = db.export_snapshot().unwrap();
    drop(db);
    assert_eq!(snaps(&dir).len(), 2);
    let db = open(&dir, &clock);
    assert_eq!(db.export_snapshot().unwrap(), want);
    assert_eq!(snaps(&dir), vec![format!("checkpoint-{covers:020}.snap")]);
    assert!(deltas(&dir)
        .iter()
        .all(|n| n[11..31].parse::<u64>().unwrap() > covers));
}

/// On a chain that starts below its full checkpoint (after a fold), a
/// missing or damaged delta is `CorruptData` on open, nothing changed.
#[test]
fn a_broken_chain_on_a_folded_checkpoint_is_corrupt_data() {
    for damage in ["remove-first", "flip-last"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock, true);
        write_until_due(&mut db, &clock, 0);
        let fold = db.begin_fold().unwrap().unwrap();
        for round in 0..2 {
            for i in 0..60 {
                clock.advance(1);
                put(&mut db, 700 + i + 100 * round, "during");
            }
            db.checkpoint().unwrap();
        }
        assert!(db.finish_fold(fold.run()).unwrap());
        drop(db);
        let ds = deltas(&dir);
        assert!(ds.len() >= 2, "{ds:?}");
        if damage == "remove-first" {
            std::fs::remove_file(dir.join(&ds[0])).unwrap();
        } else {
            let p = dir.join(ds.last().unwrap());
            let mut b = std::fs::read(&p).unwrap();
            b[20] ^= 0x01;
            std::fs::write(&p, b).unwrap();
        }
        let before = checkpoint_files(&dir);
        let e = Database::open(&dir, options(&clock)).unwrap_err();
        assert_eq!(e.code(), "CorruptData", "{damage}: {e}");
        assert_eq!(checkpoint_files(&dir), before, "{damage}");
    }
}

/// A format-3 directory (a delta chain, whose bytes formats 3 and 4 share)
/// opens, and its manifest is rewritten as format 4 with
/// `migrated_from = 3` before any fold can leave a chain a format-3 build
/// would refuse; a format-3 build then refuses it (`UnsupportedVersion`)
/// instead of misreading it.
#[test]
fn a_format_3_directory_is_migrated_before_any_fold() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = region(&dir, &clock, false);
    for k in 0..300 {
        clock.advance(1);
        put(&mut db, k, "format 3");
    }
    db.checkpoint().unwrap();
    let want = db.export_snapshot().unwrap();
    drop(db);
    assert!(!deltas(&dir).is_empty());
    // Make it what the format-3 build left: the same files, manifest format 3.
    let p = dir.join(MANIFEST_FILE);
    let mut b = std::fs::read(&p).unwrap();
    b[4] = 3;
    let c = crc32fast::hash(&b[..8]);
    b[8..12].copy_from_slice(&c.to_le_bytes());
    std::fs::write(&p, b).unwrap();
    assert_eq!(read_manifest_format(&RealFs, &dir).unwrap().unwrap().1, 3);
    let mut db = open(&dir, &clock);
    assert_eq!(db.export_snapshot().unwrap(), want);
    let (m, format) = read_manifest_format(&RealFs, &dir).unwrap().unwrap();
    assert_eq!((format, m.migrated_from), (4, Some(3)));
    db.set_background_folds(true);
    let k = write_until_due(&mut db, &clock, 300);
    let fold = db.begin_fold().unwrap().unwrap();
    assert!(db.finish_fold(fold.run()).unwrap());
    put(&mut db, k, "after");
    let want = db.export_snapshot().unwrap();
    drop(db);
    assert_eq!(open(&dir, &clock).export_snapshot().unwrap(), want);
}

/// `tests/vectors/storage_fold.json`: a chain after a background fold (the
/// folded full checkpoint, deltas on it naming the older base) opens as the
/// region whose snapshot the file lists; a flipped byte in any file is
/// `CorruptData`.
#[test]
fn the_fold_golden_vectors_replay() {
    use tablesync::storage::fs::decode_delta;
    use vectors_gen::json::unhex;
    let p = vectors_gen::vectors_dir().join("storage_fold.json");
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
            }
            (name, bytes)
        })
        .collect();
    // One full checkpoint, and a delta on it whose base is older.
    let snap: Vec<u64> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".snap"))
        .map(|(n, _)| n[11..31].parse().unwrap())
        .collect();
    assert_eq!(snap.len(), 1);
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["link"].is_null())
        .any(|f| f["link"]["base"].as_str().unwrap().parse::<u64>().unwrap() < snap[0]));
    let want = unhex(v["snapshot_hex"].as_str().unwrap());
    let manifest = unhex(v["manifest_hex"].as_str().unwrap());
    let clock = ManualClock::new(T0);
    let write = |dir: &Path, damage: Option<(usize, usize)>| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(MANIFEST_FILE), &manifest).unwrap();
        for (i, (n, b)) in files.iter().enumerate() {
            let mut b = b.clone();
            if let Some((_, at)) = damage.filter(|(f, _)| *f == i) {
                let n = b.len();
                b[at % n] ^= 0x01;
            }
            std::fs::write(dir.join(n), b).unwrap();
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    write(&dir, None);
    let db = Database::open(&dir, options(&clock)).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), want);
    drop(db);
    for (f, (_, b)) in files.iter().enumerate() {
        for at in [0, 9, 20, 43, b.len() / 2, b.len() - 1] {
            let dir = tmp.path().join(format!("damaged-{f}-{at}"));
            write(&dir, Some((f, at)));
            let e = Database::open(&dir, options(&clock)).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "file {f} byte {at}: {e}");
        }
    }
}
