//! The directory manifest (FORMAT.md §12 "Manifest", issue 11 item 4):
//! written when a directory is created, checked on every open before any
//! file changes; a directory made before manifests existed is migrated.
//!
//! Fixtures (made by the `tablesync` CLI of the build before manifests, so
//! each also holds the CLI's old `REGION` file, which core ignores):
//! - `fixtures/dir_v1_log_only/`: region `eu`, table `users`, puts of uid
//!   1, 2, 3 and a delete of 2 — a log segment and no checkpoint (the case
//!   where nothing in the directory named its region).
//! - `fixtures/dir_v1_checkpoint/`: `tablesync restore` of that region into
//!   a new directory (a checkpoint), then puts of uid 4, 5 and a put that
//!   replaces uid 1 — a checkpoint plus a log tail after it.

mod vectors_gen;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tablesync::storage::fs::{
    decode_manifest, encode_manifest, read_manifest, FsOptions, FsStorage, Manifest, VfsStorage,
    DIR_FORMAT, MANIFEST_FILE,
};
use tablesync::storage::vfs::{CrashMode, RealFs, SimFs};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema,
};

const T0: i64 = 1_700_000_000_000;
const LOG_ONLY_DIGEST: &str = "f7773ec462a943975a52fa0b925fb679e01969d1154e9fca00a972014a92fbc2";
const CHECKPOINT_DIGEST: &str = "d36259d873b3b6f5f5132ff63dc0ed855af5844a52de15ad539dc92c43a36c1e";

fn options(region: &str, clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock(region, Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Batch)
        .checkpoint_bytes(1 << 20)
}

fn open(dir: &Path, region: &str, clock: &ManualClock) -> tablesync::Result<Database> {
    Database::open(dir, options(region, clock))
}

fn put(db: &mut Database, k: i64) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", format!("v{k}"))],
        Condition::ignore(),
    )
    .unwrap();
}

fn new_region(dir: &Path, clock: &ManualClock) -> Database {
    let mut db = open(dir, "eu", clock).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    put(&mut db, 1);
    db
}

/// Every file of `dir` but the lock, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "LOCK")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn manifest_of(dir: &Path) -> Manifest {
    read_manifest(&RealFs, dir).unwrap().expect("a manifest")
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

/// Rewrite `dir`'s manifest as directory format `format` (header CRC fixed,
/// so only the version is wrong).
fn set_format(dir: &Path, format: u8) {
    let p = dir.join(MANIFEST_FILE);
    let mut b = std::fs::read(&p).unwrap();
    b[4] = format;
    let c = crc32fast::hash(&b[..8]);
    b[8..12].copy_from_slice(&c.to_le_bytes());
    std::fs::write(&p, b).unwrap();
}

#[test]
fn a_new_directory_gets_its_manifest_at_creation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    let db = new_region(&dir, &clock);
    let m = manifest_of(&dir);
    assert_eq!(m.region, "eu");
    assert_eq!(m.created_ms, T0);
    assert_eq!(m.migrated_from, None);
    assert_eq!(m.sync, SyncPolicy::Batch);
    assert_eq!(m.checkpoint_bytes, 1 << 20);
    assert_eq!(m.region_id(), db.region_id());
    assert_eq!(
        std::fs::read(dir.join(MANIFEST_FILE)).unwrap()[4],
        DIR_FORMAT
    );
    drop(db);
    // Reopening later (and with other options) keeps the creation record.
    clock.set(T0 + 86_400_000);
    let db = Database::open(&dir, options("eu", &clock).sync(SyncPolicy::Always)).unwrap();
    assert!(db
        .get_row("t", &PrimaryKey::new([("k", 1)]), &Default::default())
        .unwrap()
        .is_some());
    drop(db);
    assert_eq!(manifest_of(&dir), m);
}

#[test]
fn another_region_is_refused_from_the_first_open_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    // Before any checkpoint: nothing but the manifest names the region.
    new_region(&dir, &clock).close().unwrap();
    let before = files(&dir);
    assert!(!before.keys().any(|n| n.starts_with("checkpoint-")));
    let e = open(&dir, "us", &clock).unwrap_err();
    assert_eq!(e.code(), "RegionMismatch", "{e}");
    assert!(
        e.message().contains("'eu'") && e.message().contains("'us'"),
        "{e}"
    );
    assert_eq!(files(&dir), before, "a refused open changed the directory");
    // After a checkpoint too; and the storage alone (no database) refuses.
    let mut db = open(&dir, "eu", &clock).unwrap();
    db.checkpoint().unwrap();
    db.close().unwrap();
    let before = files(&dir);
    assert_eq!(
        open(&dir, "us", &clock).unwrap_err().code(),
        "RegionMismatch"
    );
    let e = FsStorage::open_region(&dir, FsOptions::default(), "us", T0).unwrap_err();
    assert_eq!(e.code(), "RegionMismatch");
    assert_eq!(files(&dir), before);
    // The right region still opens.
    open(&dir, "eu", &clock).unwrap();
}

#[test]
fn a_newer_directory_format_is_refused_before_anything_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    new_region(&dir, &clock).close().unwrap();
    set_format(&dir, tablesync::storage::fs::PAGED_DIR_FORMAT + 1);
    // Leave what recovery would clean up: a temp file and a torn tail.
    std::fs::write(dir.join("wal-00000000000000000009.log.tmp"), b"x").unwrap();
    let seg = dir.join("wal-00000000000000000001.log");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[7, 0, 0]);
    std::fs::write(&seg, bytes).unwrap();
    let before = files(&dir);
    for e in [
        open(&dir, "eu", &clock).unwrap_err(),
        open(&dir, "us", &clock).unwrap_err(),
        FsStorage::open_with(&dir, FsOptions::default()).unwrap_err(),
    ] {
        assert_eq!(e.code(), "UnsupportedVersion", "{e}");
        assert!(e.message().contains("formats 4 and 8"), "{e}");
    }
    assert_eq!(files(&dir), before, "a refused open changed the directory");
}

#[test]
fn a_damaged_manifest_is_corrupt_data_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    new_region(&dir, &clock).close().unwrap();
    let p = dir.join(MANIFEST_FILE);
    let good = std::fs::read(&p).unwrap();
    for i in [0, 9, 13, 20, good.len() - 3, good.len() - 1] {
        let mut b = good.clone();
        b[i] ^= 0x10;
        std::fs::write(&p, &b).unwrap();
        let before = files(&dir);
        let e = open(&dir, "eu", &clock).unwrap_err();
        assert_eq!(e.code(), "CorruptData", "byte {i}: {e}");
        assert!(e.message().contains(MANIFEST_FILE), "{e}");
        assert_eq!(files(&dir), before);
    }
    std::fs::write(&p, &good[..good.len() - 1]).unwrap();
    assert_eq!(open(&dir, "eu", &clock).unwrap_err().code(), "CorruptData");
    std::fs::write(&p, &good).unwrap();
    open(&dir, "eu", &clock).unwrap();
}

#[test]
fn a_format_1_directory_with_only_a_log_is_migrated() {
    let (_tmp, dir) = copy_fixture("dir_v1_log_only");
    assert!(!dir.join(MANIFEST_FILE).exists());
    let clock = ManualClock::new(T0);
    let db = open(&dir, "eu", &clock).unwrap();
    assert_eq!(db.table_digest("users").unwrap().to_hex(), LOG_ONLY_DIGEST);
    assert_eq!(db.describe_table("users").unwrap().row_count, 2);
    drop(db);
    let m = manifest_of(&dir);
    assert_eq!(m.region, "eu");
    assert_eq!(m.migrated_from, Some(1));
    assert_eq!(
        m.created_ms, T0,
        "the migration time (the creation time is unknown)"
    );
    // Before the migration this directory opened as any region; now it is eu's.
    assert_eq!(
        open(&dir, "us", &clock).unwrap_err().code(),
        "RegionMismatch"
    );
    let db = open(&dir, "eu", &clock).unwrap();
    assert_eq!(db.table_digest("users").unwrap().to_hex(), LOG_ONLY_DIGEST);
}

#[test]
fn a_format_1_directory_with_a_checkpoint_is_migrated_only_as_its_region() {
    let (_tmp, dir) = copy_fixture("dir_v1_checkpoint");
    let clock = ManualClock::new(T0);
    let before = files(&dir);
    // The checkpoint names the region: a wrong name is refused, and the
    // refused open writes no manifest.
    let e = open(&dir, "us", &clock).unwrap_err();
    assert_eq!(e.code(), "RegionMismatch", "{e}");
    assert_eq!(files(&dir), before);
    let mut db = open(&dir, "eu", &clock).unwrap();
    assert_eq!(
        db.table_digest("users").unwrap().to_hex(),
        CHECKPOINT_DIGEST
    );
    assert_eq!(db.describe_table("users").unwrap().row_count, 4);
    assert_eq!(manifest_of(&dir).migrated_from, Some(1));
    // The migrated directory keeps working: write, checkpoint, reopen.
    db.put_row(
        "users",
        PrimaryKey::new([("uid", 6)]),
        vec![Column::new("name", "six")],
        Condition::ignore(),
    )
    .unwrap();
    db.checkpoint().unwrap();
    let digest = db.table_digest("users").unwrap();
    db.close().unwrap();
    let db = open(&dir, "eu", &clock).unwrap();
    assert_eq!(db.table_digest("users").unwrap(), digest);
    assert_eq!(manifest_of(&dir).region, "eu");
}

/// The fixtures are what the old build wrote: no manifest, and they are
/// opened read-only here (every test works on a copy).
#[test]
fn the_fixtures_are_format_1() {
    for name in ["dir_v1_log_only", "dir_v1_checkpoint"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("fixtures")
            .join(name);
        let names: Vec<String> = files(&dir).into_keys().collect();
        assert!(
            !names.iter().any(|n| n == MANIFEST_FILE),
            "{name}: {names:?}"
        );
        assert!(
            names.iter().any(|n| n.starts_with("wal-")),
            "{name}: {names:?}"
        );
    }
}

/// Power cut after every disk operation of creating a region: the
/// directory reopens as its region, and any manifest that reached the
/// disk names it (a new directory never comes back as another region's).
#[test]
fn a_power_loss_while_creating_leaves_a_directory_of_its_region() {
    let dir = Path::new("/data/r");
    let create = |fs: &SimFs| -> tablesync::Result<()> {
        let clock = ManualClock::new(T0);
        let storage = VfsStorage::open_region_in(fs.clone(), dir, FsOptions::default(), "eu", T0)?;
        let mut db = Database::with_storage(options("eu", &clock), Box::new(storage))?;
        db.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))?;
        db.close()
    };
    let whole = SimFs::new(1);
    create(&whole).unwrap();
    let ops = whole.stats().ops;
    assert!(ops > 5, "only {ops} disk operations");
    for n in 1..=ops {
        for mode in [CrashMode::DropUnsynced, CrashMode::Torn, CrashMode::Reorder] {
            let fs = SimFs::new(n);
            fs.crash_after(n);
            let _ = create(&fs);
            fs.crash(mode);
            if let Some(m) = read_manifest(&fs, dir).unwrap() {
                assert_eq!(m.region, "eu", "cut after op {n} ({mode:?})");
                let e = VfsStorage::open_region_in(fs.clone(), dir, FsOptions::default(), "us", T0)
                    .unwrap_err();
                assert_eq!(e.code(), "RegionMismatch", "cut after op {n} ({mode:?})");
            }
            let storage =
                VfsStorage::open_region_in(fs.clone(), dir, FsOptions::default(), "eu", T0)
                    .unwrap_or_else(|e| panic!("cut after op {n} ({mode:?}): {e}"));
            let clock = ManualClock::new(T0);
            Database::with_storage(options("eu", &clock), Box::new(storage))
                .unwrap_or_else(|e| panic!("cut after op {n} ({mode:?}): {e}"));
            assert_eq!(read_manifest(&fs, dir).unwrap().unwrap().region, "eu");
        }
    }
}

/// `tests/vectors/storage_manifest.json`: every manifest decodes to its
/// fields and encodes back to its bytes; every refused one fails with its code.
#[test]
fn the_golden_vectors_replay() {
    let p = vectors_gen::vectors_dir().join("storage_manifest.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).expect("vector file")).expect("json");
    let cases = v["manifests"].as_array().unwrap();
    assert_eq!(cases.len(), vectors_gen::storage_manifest::samples().len());
    for c in cases {
        let bytes = vectors_gen::json::unhex(c["hex"].as_str().unwrap());
        let m = decode_manifest(&bytes).unwrap();
        assert_eq!(
            vectors_gen::storage_manifest::manifest_json(&m),
            c["manifest"]
        );
        assert_eq!(encode_manifest(&m).unwrap(), bytes);
    }
    let invalid = v["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 10);
    for c in invalid {
        let bytes = vectors_gen::json::unhex(c["hex"].as_str().unwrap());
        let e = decode_manifest(&bytes).unwrap_err();
        assert_eq!(e.code(), c["error"].as_str().unwrap(), "{}: {e}", c["why"]);
    }
}

/// `tablesync check` (offline) reads the manifest: the region comes from
/// it even before a checkpoint exists, and a damaged one is a problem.
#[test]
fn the_offline_check_reads_the_manifest() {
    use tablesync::client::offline::check_dir;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    new_region(&dir, &clock).close().unwrap();
    let rep = check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    assert_eq!(rep.region.as_deref(), Some("eu"));
    set_format(&dir, tablesync::storage::fs::PAGED_DIR_FORMAT + 1);
    let rep = check_dir(&dir).unwrap();
    assert!(
        rep.problems
            .iter()
            .any(|p| p.contains("UnsupportedVersion")),
        "{rep:?}"
    );
}

/// A manifest that cannot be read is an error, never taken for a missing
/// one (which would migrate the directory and write a manifest over it).
#[test]
fn an_unreadable_manifest_is_an_error_not_a_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    new_region(&dir, &clock).close().unwrap();
    std::fs::remove_file(dir.join(MANIFEST_FILE)).unwrap();
    std::fs::create_dir(dir.join(MANIFEST_FILE)).unwrap();
    let e = open(&dir, "us", &clock).unwrap_err();
    assert_eq!(e.code(), "StorageIo", "{e}");
    assert!(dir.join(MANIFEST_FILE).is_dir());
}

/// An invalid region name is refused before a new directory records it.
#[test]
fn an_invalid_region_name_is_never_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let clock = ManualClock::new(T0);
    for bad in ["", "a\nb"] {
        let e = open(&dir, bad, &clock).unwrap_err();
        assert_eq!(e.code(), "OTSParameterInvalid", "{bad:?}: {e}");
    }
    assert!(read_manifest(&RealFs, &dir).unwrap().is_none());
    new_region(&dir, &clock);
    assert_eq!(manifest_of(&dir).region, "eu");
}
