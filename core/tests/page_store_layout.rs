//! The page store's layout (FORMAT.md §12 "Page store", store format 4,
//! directory format 8): the change log in chunks of consecutive records,
//! a CRC on every `meta` and `index` value, pages LZ4-compressed, a block
//! list per table's index, and the migration of directories written in
//! formats 5, 6 and 7.
//!
//! Fixture `fixtures/dir_v5_paged/`: made by the build before format 6
//! (commit 7219b91) — region `eu`, sync `always`, a 1 MiB cache, a
//! `ManualClock` at 1,700,000,000,000 ms advanced 1 ms after each batch:
//! table `users` (uid INTEGER) got uid 0–2,499 (`name` = "user-<uid>",
//! `n` = uid) in 25 batches of 100, a checkpoint; retention of 1,000
//! records, a put of uid 0 (`name` = "again"), a checkpoint (records below
//! 1,502 dropped); table `events` (id STRING) with rows a, b, c, a
//! checkpoint; then a delete of uid 5 and a put of uid 7 (`name` =
//! "seven") that only the log segment holds (the process ended without
//! closing). `pages.redb.lz4` is its page store compressed with
//! `lz4_flex::compress_prepend_size`; `snapshot.bin` and
//! `delta_from_1502.bin` are what that build's `export_snapshot()` and
//! `export_snapshot_delta(1502)` returned at the end.
//!
//! Fixture `fixtures/dir_v6_paged/`: the same story written by the last
//! format-6 build (commit 4bc197d; its pages are uncompressed), except
//! that the users were written with `batch_write` and the events have a
//! column `v` = their id (hence other digests).
//!
//! Fixture `fixtures/dir_v7_paged/`: the v6 story written by the last
//! format-7 build (commit 8707ea9; pages compressed, no block lists), the
//! users with a column `n` = uid too.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tablesync::storage::fs::{read_manifest_format, PAGED_DIR_FORMAT, PAGE_STORE_FILE};
use tablesync::storage::kv::layout::{self, LogChunk, LOG_CHUNK_RECORDS};
use tablesync::storage::kv::{open_page_store, KvBatch, KvStore, Space};
use tablesync::storage::vfs::RealFs;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, ManualClock, PkColumn, PkType,
    PrimaryKey, Retention, SyncPolicy, TableSchema, Value,
};

const T0: i64 = 1_700_000_000_000;
/// A fixture: its directory name and the table digests it holds.
struct Fixture {
    name: &'static str,
    users: &'static str,
    events: &'static str,
}

const V5: Fixture = Fixture {
    name: "dir_v5_paged",
    users: "2ec0f45aa6ef2a48f483af07154ba181e586fa79d04e08c0d0892fbe41d05672",
    events: "7d5063d8e7e84ac9f49ec7b8c7aedc860fc96f50621c0318a67bf13c75d2bea1",
};

const V6: Fixture = Fixture {
    name: "dir_v6_paged",
    users: "2d7447462f16896b80abbd027e48e56e2fdd90aec3a38a2e83ecd0254f622f41",
    events: "12b6b2db1a43b0f95220798f4ae2c9336e449b60f02c452adb5efb63fef390ed",
};

const V7: Fixture = Fixture {
    name: "dir_v7_paged",
    users: "f55922f64079e44a293c7d3a1e1109973f108e796cb330576ff8ff43f67c32d4",
    events: "89d4ee0717060f9835e92b4b0276ea5f6b69a60ec592a8d753581d581f9d07d5",
};

impl Fixture {
    fn path(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(self.name)
    }
}

/// The fixture's directory, unpacked into `dir`.
fn unpack(fixture: &Fixture, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(fixture.path()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let bytes = std::fs::read(e.path()).unwrap();
        if name == "pages.redb.lz4" {
            let raw = lz4_flex::decompress_size_prepended(&bytes).unwrap();
            std::fs::write(dir.join(PAGE_STORE_FILE), raw).unwrap();
        } else if name == "MANIFEST" || name.starts_with("wal-") {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

fn options(clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX)
        .cache_bytes(1 << 20)
}

fn name(db: &Database, uid: i64) -> Option<String> {
    db.get_row(
        "users",
        &PrimaryKey::new([("uid", uid)]),
        &GetOptions::default(),
    )
    .unwrap()
    .map(|r| match r.get("name").unwrap() {
        Value::String(s) => s.clone(),
        v => panic!("unexpected {v:?}"),
    })
}

/// What the fixture's region holds, asserted of `db`.
fn assert_fixture_region(fixture: &Fixture, db: &Database) {
    let expected = std::fs::read(fixture.path().join("snapshot.bin")).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), expected);
    let delta = std::fs::read(fixture.path().join("delta_from_1502.bin")).unwrap();
    assert_eq!(db.export_snapshot_delta(1502).unwrap(), delta);
    assert_eq!(db.table_digest("users").unwrap().to_hex(), fixture.users);
    assert_eq!(db.table_digest("events").unwrap().to_hex(), fixture.events);
    assert_eq!(db.next_cursor().unwrap(), 2507);
    assert_eq!(db.changes_since(0, 1).unwrap().records[0].cursor, 1502);
    assert_eq!(db.changes_since(1, 1).unwrap_err().code(), "LogGap");
    assert_eq!(name(db, 0).as_deref(), Some("again"));
    assert_eq!(name(db, 5), None);
    assert_eq!(name(db, 7).as_deref(), Some("seven"));
    assert_eq!(name(db, 2499).as_deref(), Some("user-2499"));
}

#[test]
fn a_format_5_directory_is_migrated_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eu");
    unpack(&V5, &dir);
    assert_eq!(read_manifest_format(&RealFs, &dir).unwrap().unwrap().1, 5);

    // A check migrates nothing, and says the directory wants an open first.
    let manifest = std::fs::read(dir.join("MANIFEST")).unwrap();
    let rep = tablesync::client::offline::check_dir(&dir).unwrap();
    assert!(
        rep.problems
            .iter()
            .any(|p| p.contains("directory format 5")),
        "{:?}",
        rep.problems
    );
    assert_eq!(std::fs::read(dir.join("MANIFEST")).unwrap(), manifest);
    let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
    assert_eq!(
        layout::store_format(&*store.snapshot().unwrap()).unwrap(),
        1
    );
    drop(store);

    let clock = ManualClock::new(T0 + 1000);
    let mut db = Database::open(&dir, options(&clock)).unwrap();
    let (m, format) = read_manifest_format(&RealFs, &dir).unwrap().unwrap();
    assert_eq!(
        (format, m.migrated_from, m.paged),
        (PAGED_DIR_FORMAT, Some(5), true)
    );
    assert_fixture_region(&V5, &db);

    // It goes on as a format-8 region: writes, a checkpoint, a reopen.
    db.put_row(
        "users",
        PrimaryKey::new([("uid", 9)]),
        vec![Column::new("name", "nine")],
        Condition::ignore(),
    )
    .unwrap();
    db.close().unwrap();
    let db = Database::open(&dir, options(&clock)).unwrap();
    assert_eq!(name(&db, 9).as_deref(), Some("nine"));
    assert_eq!(name(&db, 7).as_deref(), Some("seven"));
    assert_eq!(db.changes_since(0, 1).unwrap().records[0].cursor, 1502);
    assert_eq!(db.next_cursor().unwrap(), 2508);
    drop(db);
    let rep = tablesync::client::offline::check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    assert_eq!(rep.log_records, 2508 - 1502);
}

/// A crash after the store's migration commit but before the manifest
/// said format 8: the next open finds the store migrated (its format
/// mark) and only rewrites the manifest.
#[test]
fn a_migration_interrupted_before_the_manifest_completes_on_the_next_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eu");
    unpack(&V5, &dir);
    let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
    assert!(layout::migrate(&*store).unwrap(), "format 1 is rewritten");
    assert!(
        !layout::migrate(&*store).unwrap(),
        "a second run changes nothing"
    );
    drop(store);
    assert_eq!(read_manifest_format(&RealFs, &dir).unwrap().unwrap().1, 5);

    let db = Database::open(&dir, options(&ManualClock::new(T0 + 1000))).unwrap();
    assert_eq!(
        read_manifest_format(&RealFs, &dir).unwrap().unwrap().1,
        PAGED_DIR_FORMAT
    );
    assert_fixture_region(&V5, &db);
}

/// The fixture unpacked into `dir`, whose manifest says `format`; a check
/// reads it as it is, finds nothing wrong and changes nothing. Its
/// manifest.
fn unpacked_and_checked(
    fixture: &Fixture,
    format: u8,
    dir: &Path,
) -> tablesync::storage::fs::Manifest {
    unpack(fixture, dir);
    let (before, found) = read_manifest_format(&RealFs, dir).unwrap().unwrap();
    assert_eq!(found, format);
    let manifest = std::fs::read(dir.join("MANIFEST")).unwrap();
    let rep = tablesync::client::offline::check_dir(dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    assert_eq!(std::fs::read(dir.join("MANIFEST")).unwrap(), manifest);
    before
}

/// How many stored pages have each version byte (index: the version).
fn page_versions(dir: &Path) -> [usize; 3] {
    let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
    let mut n = [0; 3];
    store
        .snapshot()
        .unwrap()
        .range(Space::Pages, &[], None, &mut |_, v| {
            n[usize::from(v[0]).min(2)] += 1;
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
    n
}

/// A format-6 directory (store format 2, every page uncompressed) opens
/// as format 8 with block lists, a new format mark and manifest: its pages stay as
/// they are, readable, and are compressed as they are next stored. A
/// check reads it as it is, before and after, and changes nothing.
#[test]
fn a_format_6_directory_is_migrated_on_open_and_its_pages_compressed_as_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eu");
    let before = unpacked_and_checked(&V6, 6, &dir);
    let [_, v1, v2] = page_versions(&dir);
    assert!(v1 > 0 && v2 == 0, "{v1} {v2}");

    let clock = ManualClock::new(T0 + 1000);
    let mut db = Database::open(&dir, options(&clock)).unwrap();
    let (m, format) = read_manifest_format(&RealFs, &dir).unwrap().unwrap();
    // (That build made a new directory in format 4 and converted it at its
    // first checkpoint: the oldest format it came from stays 4.)
    assert_eq!(
        (format, m.migrated_from, m.paged),
        (PAGED_DIR_FORMAT, before.migrated_from.or(Some(6)), true)
    );
    assert_fixture_region(&V6, &db);
    // More changed rows than a page keeps as entries: the page that holds
    // them is stored whole again, compressed.
    for uid in 100..120 {
        db.put_row(
            "users",
            PrimaryKey::new([("uid", uid)]),
            vec![Column::new("name", format!("renamed {uid}"))],
            Condition::ignore(),
        )
        .unwrap();
    }
    db.close().unwrap();
    let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
    assert_eq!(
        layout::store_format(&*store.snapshot().unwrap()).unwrap(),
        layout::STORE_FORMAT
    );
    drop(store);
    let [_, v1_after, v2_after] = page_versions(&dir);
    assert!(v2_after > 0 && v1_after < v1, "{v1_after} {v2_after}");

    let db = Database::open(&dir, options(&clock)).unwrap();
    assert_eq!(name(&db, 110).as_deref(), Some("renamed 110"));
    assert_eq!(name(&db, 7).as_deref(), Some("seven"));
    assert_eq!(name(&db, 2499).as_deref(), Some("user-2499"));
    assert_eq!(db.changes_since(0, 1).unwrap().records[0].cursor, 1502);
    drop(db);
    let rep = tablesync::client::offline::check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
}

fn schema() -> TableSchema {
    TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)])
}

/// A region in `dir` whose table `t` got rows 0..`n`, closed.
fn closed_with_rows(dir: &Path, clock: &ManualClock, n: i64) {
    let mut db = Database::open(dir, options(clock)).unwrap();
    db.create_table(schema()).unwrap();
    for k in 0..n {
        put(&mut db, k);
    }
    db.close().unwrap();
}

fn put(db: &mut Database, k: i64) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", format!("value {k}"))],
        Condition::ignore(),
    )
    .unwrap();
}

/// `(first cursor, records)` of every chunk in the store's log.
fn chunks(store: &dyn KvStore) -> Vec<(u64, usize)> {
    let snap = store.snapshot().unwrap();
    let mut out = Vec::new();
    snap.range(Space::Log, &[], None, &mut |k, v| {
        let c = LogChunk::decode(k, v)?;
        out.push((c.first, c.records.len()));
        Ok(ControlFlow::Continue(()))
    })
    .unwrap();
    out
}

/// The `log-first` meta value: where the store's log starts.
fn log_first(store: &dyn KvStore) -> u64 {
    let v = store
        .snapshot()
        .unwrap()
        .get(Space::Meta, b"log-first")
        .unwrap()
        .expect("log-first");
    let v = layout::unseal(Space::Meta, b"log-first", &v).unwrap();
    u64::from_le_bytes(v.try_into().unwrap())
}

#[test]
fn the_log_is_stored_in_chunks_that_retention_trims() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(tmp.path(), options(&clock)).unwrap();
    db.create_table(schema()).unwrap();
    for k in 0..3000 {
        put(&mut db, k);
    }
    db.checkpoint().unwrap();
    for k in 0..10 {
        put(&mut db, k);
    }
    db.close().unwrap();
    let path = tmp.path().join(PAGE_STORE_FILE);
    let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
    // Cursor 1 is the table's creation; chunks end at multiples of 1,024
    // and where a checkpoint ended.
    assert_eq!(
        chunks(&*store),
        [(1, 1023), (1024, 1024), (2048, 953), (3001, 10)]
    );
    assert_eq!(log_first(&*store), 1);
    drop(store);

    let mut db = Database::open(tmp.path(), options(&clock)).unwrap();
    db.set_retention(Retention {
        max_records: Some(1500),
        max_age_ms: None,
    })
    .unwrap();
    put(&mut db, 1);
    let first = db.changes_since(0, 1).unwrap().records[0].cursor;
    assert!(first > 1024 && first % LOG_CHUNK_RECORDS != 0, "{first}");
    let next = db.next_cursor().unwrap();
    db.close().unwrap();
    let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
    let stored = chunks(&*store);
    // The chunk retention cut into starts at the first record kept.
    assert_eq!(stored[0], (first, (2048 - first) as usize));
    assert_eq!(stored.iter().map(|c| c.1 as u64).sum::<u64>(), next - first);
    assert_eq!(
        log_first(&*store),
        first,
        "where an open finds the log's start"
    );
    drop(store);
    let db = Database::open(tmp.path(), options(&clock)).unwrap();
    assert_eq!(db.changes_since(0, 1).unwrap().records[0].cursor, first);
    assert_eq!(db.changes_since(first - 1, 1).unwrap_err().code(), "LogGap");
}

/// Damage to a `meta` or `index` value — a flipped byte, or a value moved
/// under another key — is `CorruptData` on open (an `index` value: on the
/// first read of its block), never a region read wrong.
#[test]
fn a_damaged_meta_or_index_value_is_corrupt_data() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    closed_with_rows(tmp.path(), &clock, 2000);
    let path = tmp.path().join(PAGE_STORE_FILE);
    let good = std::fs::read(&path).unwrap();
    let entries = |space: Space| {
        let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
        let mut out = Vec::new();
        store
            .snapshot()
            .unwrap()
            .range(space, &[], None, &mut |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
        out
    };
    let index = entries(Space::Index);
    assert!(index.len() > 2, "{}", index.len());
    let mut damages: Vec<(&str, Space, Vec<u8>, Vec<u8>)> = Vec::new();
    for (k, v) in entries(Space::Meta) {
        let mut flipped = v.clone();
        flipped[v.len() / 2] ^= 0x10;
        let name = String::from_utf8(k.clone()).unwrap();
        if name != "format" {
            damages.push(("a meta value flipped", Space::Meta, k, flipped));
        }
    }
    let mut flipped = index[1].1.clone();
    flipped[3] ^= 1;
    damages.push((
        "an index value flipped",
        Space::Index,
        index[1].0.clone(),
        flipped,
    ));
    // Page 2's id under page 1's fence: well formed, but not its entry.
    damages.push((
        "an index value moved",
        Space::Index,
        index[1].0.clone(),
        index[2].1.clone(),
    ));
    for (what, space, key, value) in damages {
        std::fs::write(&path, &good).unwrap();
        let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
        let mut batch = KvBatch::default();
        batch.put(space, key, value);
        store.commit(&batch, true).unwrap();
        drop(store);
        let e = match space {
            // The index is read block by block when first needed: the
            // open succeeds, a read of the damaged block fails.
            Space::Index => {
                let db = Database::open(tmp.path(), options(&clock)).unwrap();
                db.export_snapshot().unwrap_err()
            }
            _ => Database::open(tmp.path(), options(&clock)).unwrap_err(),
        };
        assert_eq!(e.code(), "CorruptData", "{what}: {e}");
    }
    std::fs::write(&path, &good).unwrap();
    let db = Database::open(tmp.path(), options(&clock)).unwrap();
    let row = db.get_row("t", &PrimaryKey::new([("k", 1999)]), &GetOptions::default());
    assert!(row.unwrap().is_some());
}

/// A checkpoint after a few changed rows stores their row entries, not
/// their pages; they are read back after a reopen, and a damaged entry is
/// `CorruptData` for a read of its page, never a wrong row.
#[test]
fn changed_rows_are_stored_as_row_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    closed_with_rows(tmp.path(), &clock, 5000);
    let mut db = Database::open(tmp.path(), options(&clock)).unwrap();
    for k in [10, 2500, 4990] {
        db.put_row(
            "t",
            PrimaryKey::new([("k", k)]),
            vec![Column::new("v", "changed")],
            Condition::ignore(),
        )
        .unwrap();
    }
    db.delete_row("t", PrimaryKey::new([("k", 11)]), Condition::ignore())
        .unwrap();
    db.checkpoint().unwrap();
    assert_eq!(db.paged_stats().unwrap().checkpoint_pages, 0);
    let digest = db.table_digest("t").unwrap();
    db.close().unwrap();

    let path = tmp.path().join(PAGE_STORE_FILE);
    let good = std::fs::read(&path).unwrap();
    let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
    let mut entries = Vec::new();
    store
        .snapshot()
        .unwrap()
        .range(Space::Rows, &[], None, &mut |k, v| {
            entries.push((k.to_vec(), v.to_vec()));
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
    drop(store);
    assert_eq!(entries.len(), 4, "three puts and a delete");

    let v = |db: &Database, k: i64| {
        db.get_row("t", &PrimaryKey::new([("k", k)]), &GetOptions::default())
            .map(|r| r.map(|r| r.get("v").cloned()))
    };
    let db = Database::open(tmp.path(), options(&clock)).unwrap();
    assert_eq!(
        v(&db, 2500).unwrap(),
        Some(Some(Value::String("changed".into())))
    );
    assert_eq!(v(&db, 11).unwrap(), None);
    assert_eq!(db.table_digest("t").unwrap(), digest);
    drop(db);
    let rep = tablesync::client::offline::check_dir(tmp.path()).unwrap();
    assert!(rep.is_ok(), "{:?}", rep.problems);

    // The entry of row 2500, one byte flipped.
    let (key, mut value) = entries
        .into_iter()
        .find(|(k, _)| {
            k.ends_with(&tablesync::codec::key::encode_key_values([
                &tablesync::PkValue::Integer(2500),
            ]))
        })
        .unwrap();
    let at = value.len() / 2;
    value[at] ^= 0x20;
    let store = open_page_store(&RealFs, &path, 4 << 20).unwrap();
    let mut batch = KvBatch::default();
    batch.put(Space::Rows, key, value);
    store.commit(&batch, true).unwrap();
    drop(store);
    let db = Database::open(tmp.path(), options(&clock)).unwrap();
    assert_eq!(v(&db, 2500).unwrap_err().code(), "CorruptData");
    drop(db);
    std::fs::write(&path, good).unwrap();
}

/// Every truncation and every flipped byte of a log chunk or a row entry
/// is refused (`CorruptData`), never read as other records or another row.
#[test]
fn damaged_chunks_and_row_entries_are_refused() {
    use tablesync::engine::page_codec::{decode_row_entry, encode_row_entry};
    use tablesync::engine::pages::StoredRow;
    let records: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
    let key = layout::chunk_key(2048);
    let chunk = layout::encode_chunk(2048, records.iter().map(Vec::as_slice));
    let decoded = LogChunk::decode(&key, &chunk).unwrap();
    assert_eq!((decoded.first, decoded.records.len()), (2048, 5));
    assert_eq!(decoded.records[4], &records[4][..]);
    // A chunk under another key (moved) fails its CRC too.
    assert!(LogChunk::decode(&layout::chunk_key(2049), &chunk).is_err());

    let digest = [9u8; 32];
    let row = StoredRow {
        digest: Some(&digest),
        state: b"a row state",
        state_id: 77,
    };
    let entry = encode_row_entry(b"row key", Some(row));
    let back = decode_row_entry(b"row key", &entry).unwrap().unwrap();
    assert_eq!(
        (back.state, back.state_id, back.digest),
        (&b"a row state"[..], 77, Some(digest))
    );
    let removed = encode_row_entry(b"row key", None);
    assert!(decode_row_entry(b"row key", &removed).unwrap().is_none());
    assert!(decode_row_entry(b"other key", &entry).is_err());

    for (what, bytes) in [("chunk", &chunk), ("entry", &entry), ("removal", &removed)] {
        let decode = |b: &[u8]| match what {
            "chunk" => LogChunk::decode(&key, b).map(|_| ()),
            _ => decode_row_entry(b"row key", b).map(|_| ()),
        };
        for n in 0..bytes.len() {
            let e = decode(&bytes[..n]).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "{what} truncated to {n}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let e = decode(&b).unwrap_err();
                assert_eq!(e.code(), "CorruptData", "{what}: byte {i} bit {bit}");
            }
        }
    }
}

/// Each table's block list in `dir`'s store, checked against its index:
/// (table number, next page id, blocks), and every table with index
/// entries has one whose counts add up to them.
fn block_lists(dir: &Path) -> Vec<(u32, u64, layout::Blocks)> {
    let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
    let snap = store.snapshot().unwrap();
    let mut entries: std::collections::BTreeMap<u32, (u64, u64)> = Default::default();
    snap.range(Space::Index, &[], None, &mut |k, v| {
        let table = u32::from_be_bytes(k[..4].try_into().unwrap());
        let id = u64::from_be_bytes(layout::unseal(Space::Index, k, v)?.try_into().unwrap());
        let e = entries.entry(table).or_default();
        e.0 += 1;
        e.1 = e.1.max(id + 1);
        Ok(ControlFlow::Continue(()))
    })
    .unwrap();
    let mut out = Vec::new();
    for (table, (n, next)) in entries {
        let key = layout::blocks_key(table);
        let value = snap.get(Space::Meta, &key).unwrap().expect("a block list");
        let (next_id, blocks) = layout::decode_blocks(&key, &value).unwrap();
        assert_eq!(
            blocks.iter().map(|(_, c)| c).sum::<u64>(),
            n,
            "table {table}"
        );
        assert!(next_id >= next, "table {table}: next id {next_id} < {next}");
        assert!(blocks[0].0.is_empty());
        out.push((table, next_id, blocks));
    }
    out
}

/// A format-7 directory (store format 3, no block lists) is read as it is
/// by a check, which changes nothing; an open writes each table's block
/// list and the new format mark in one commit, then the manifest says
/// format 8. Later checkpoints keep the lists in step with the index.
#[test]
fn a_format_7_directory_gets_block_lists_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eu");
    let before = unpacked_and_checked(&V7, 7, &dir);
    {
        let store = open_page_store(&RealFs, &dir.join(PAGE_STORE_FILE), 4 << 20).unwrap();
        let snap = store.snapshot().unwrap();
        assert_eq!(layout::store_format(&*snap).unwrap(), 3);
        assert!(snap
            .get(Space::Meta, &layout::blocks_key(0))
            .unwrap()
            .is_none());
    }

    let clock = ManualClock::new(T0 + 1000);
    let mut db = Database::open(&dir, options(&clock)).unwrap();
    let (m, format) = read_manifest_format(&RealFs, &dir).unwrap().unwrap();
    assert_eq!(
        (format, m.migrated_from, m.paged),
        (PAGED_DIR_FORMAT, before.migrated_from.or(Some(7)), true)
    );
    assert_fixture_region(&V7, &db);
    let lists = block_lists(&dir);
    assert_eq!(lists.iter().map(|(t, _, _)| *t).collect::<Vec<_>>(), [0, 1]);

    // New rows split pages; the next checkpoint stores the list that
    // counts them, and the region reopened from it reads them all.
    for uid in 10_000..12_000 {
        db.put_row(
            "users",
            PrimaryKey::new([("uid", uid)]),
            vec![Column::new("name", format!("new {uid}"))],
            Condition::ignore(),
        )
        .unwrap();
    }
    db.close().unwrap();
    let after = block_lists(&dir);
    assert!(after[0].1 > lists[0].1, "new pages got new ids");
    let db = Database::open(&dir, options(&clock)).unwrap();
    assert_eq!(name(&db, 11_999).as_deref(), Some("new 11999"));
    assert_eq!(name(&db, 7).as_deref(), Some("seven"));
    assert_eq!(name(&db, 2499).as_deref(), Some("user-2499"));
    assert!(db.export_snapshot().unwrap().len() > 65_000);
    drop(db);
    let rep = tablesync::client::offline::check_dir(&dir).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
}
