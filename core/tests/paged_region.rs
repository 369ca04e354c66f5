//! Paged regions (issue 11 item 1): a durable region whose rows live in
//! its page store behind `cache_bytes`. Open reads no row; a read faults in
//! only the pages it needs; a checkpoint writes only the pages that changed
//! and evicts down to the cache; reopening gives back the same region byte
//! for byte; a damaged page is `CorruptData`, never a wrong answer.

use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::{read_manifest_format, PAGED_DIR_FORMAT, PAGE_STORE_FILE};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, ManualClock, PkColumn, PkType,
    PrimaryKey, Retention, SyncPolicy, TableSchema,
};

const T0: i64 = 1_700_000_000_000;
const CACHE: u64 = 256 * 1024;

fn options(clock: &ManualClock, cache: Option<u64>) -> DatabaseOptions {
    let o = DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX);
    match cache {
        Some(c) => o.cache_bytes(c),
        None => o.rows_in_memory(),
    }
}

fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("k", PkType::Integer)])
}

fn pk(k: i64) -> PrimaryKey {
    PrimaryKey::new([("k", k)])
}

fn put(db: &mut Database, table: &str, k: i64, v: &str) {
    db.put_row(table, pk(k), vec![Column::new("v", v)], Condition::ignore())
        .unwrap();
}

fn value(db: &Database, table: &str, k: i64) -> Option<String> {
    db.get_row(table, &pk(k), &GetOptions::default())
        .unwrap()
        .map(|r| match r.get("v").unwrap() {
            tablesync::Value::String(s) => s.clone(),
            v => panic!("unexpected {v:?}"),
        })
}

fn load(db: &mut Database, table: &str, n: i64) {
    for k in 0..n {
        put(db, table, k, &format!("value {k:06} {}", "x".repeat(80)));
    }
}

/// A paged region in `dir` whose table `t` got `rows` rows, closed and
/// opened again with a cache of `cache` bytes (no page resident yet).
fn reopened_with_rows(dir: &Path, cache: u64, rows: i64) -> Database {
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir, options(&clock, Some(cache))).unwrap();
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", rows);
    db.close().unwrap();
    Database::open(dir, options(&clock, Some(cache))).unwrap()
}

#[test]
fn open_reads_no_row_and_a_get_faults_in_one_page() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert!(db.is_paged());
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 20_000);
    let digest = db.table_digest("t").unwrap();
    let snapshot = db.export_snapshot().unwrap();
    db.checkpoint().unwrap();
    // The checkpoint evicted down to the cache.
    assert!(db.resident_page_bytes() as u64 <= CACHE);
    db.close().unwrap();

    let (_, format) = read_manifest_format(&tablesync::storage::vfs::RealFs, dir.path())
        .unwrap()
        .unwrap();
    assert_eq!(format, PAGED_DIR_FORMAT);
    assert!(dir.path().join(PAGE_STORE_FILE).exists());
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("checkpoint-")));

    // Opened without cache_bytes: still paged (the directory says so).
    let db = Database::open(dir.path(), options(&clock, None)).unwrap();
    assert!(db.is_paged());
    assert_eq!(db.resident_page_bytes(), 0, "open reads no row");
    assert_eq!(
        db.table_digest("t").unwrap(),
        digest,
        "the digest is O(1) from the store"
    );
    assert_eq!(
        value(&db, "t", 12_345).unwrap(),
        format!("value 012345 {}", "x".repeat(80))
    );
    let one = db.resident_page_bytes();
    assert!(
        one > 0 && one < 3 * 8192,
        "one page resident, got {one} bytes"
    );
    assert_eq!(db.page_stats("t").unwrap().resident_pages, 1);
    assert_eq!(db.paged_stats().unwrap().page_loads, 1);
    // The whole region, byte for byte, and the rows hash to the digest.
    assert_eq!(db.export_snapshot().unwrap(), snapshot);
    assert_eq!(db.verify_table_digest("t").unwrap(), digest);
}

/// How many blocks table `table`'s stored block list has in `dir`.
fn stored_blocks(dir: &Path, table: u32) -> usize {
    use tablesync::storage::kv::{layout, open_page_store, Space};
    let path = dir.join(PAGE_STORE_FILE);
    let store = open_page_store(&tablesync::storage::vfs::RealFs, &path, 4 << 20).unwrap();
    let key = layout::blocks_key(table);
    let snap = store.snapshot().unwrap();
    let value = snap.get(Space::Meta, &key).unwrap().expect("a block list");
    layout::decode_blocks(&key, &value).unwrap().1.len()
}

/// A table filled before its first checkpoint into the page store (here:
/// an in-memory directory converted on open) is stored with its index in
/// blocks, like one that grew in the store.
#[test]
fn a_converted_table_is_stored_with_its_index_in_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, None)).unwrap();
    db.create_table(schema("t")).unwrap();
    let big = |k: i64| format!("value {k:06} {}", "z".repeat(1000));
    for k in 0..18_000 {
        put(&mut db, "t", k, &big(k));
    }
    db.close().unwrap();
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert!(db.is_paged());
    db.close().unwrap();
    let blocks = stored_blocks(dir.path(), 0);
    assert!(blocks >= 4, "{blocks} blocks");
    let db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert_eq!(value(&db, "t", 9_999).unwrap(), big(9_999));
    assert_eq!(db.paged_stats().unwrap().page_loads, 1);
}

/// Open reads a table's block list, not its index: a get reads one block
/// of the index (and one page); only a walk of every row reads it all.
#[test]
fn open_reads_the_index_block_by_block() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    // Rows of ~1 KB: eight to a page, so 2,000+ pages and several blocks.
    let big = |k: i64| format!("value {k:06} {}", "y".repeat(1000));
    for k in 0..18_000 {
        put(&mut db, "t", k, &big(k));
    }
    db.close().unwrap();
    // Its one checkpoint stored the index in blocks.
    let blocks = stored_blocks(dir.path(), 0);
    assert!(blocks >= 4, "{blocks} blocks");

    let db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    let pages = db.page_stats("t").unwrap().pages;
    assert!(pages > 2000, "{pages} pages");
    let opened = db.paged_stats().unwrap().index_bytes;
    assert_eq!(value(&db, "t", 12_345).unwrap(), big(12_345));
    let one = db.paged_stats().unwrap().index_bytes;
    assert_eq!(db.paged_stats().unwrap().page_loads, 1);
    assert!(!db.export_snapshot().unwrap().is_empty());
    let all = db.paged_stats().unwrap().index_bytes;
    assert!(
        opened * 20 < all && one > opened && one * 2 < all,
        "index bytes: {opened} opened, {one} after a get, {all} after a walk"
    );
    assert_eq!(value(&db, "t", 0).unwrap(), big(0));
    assert_eq!(value(&db, "t", 17_999).unwrap(), big(17_999));
}

#[test]
fn checkpoints_write_what_changed_and_reopen_keeps_every_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    db.create_table(schema("gone")).unwrap();
    db.create_table(schema("again")).unwrap();
    load(&mut db, "t", 5000);
    load(&mut db, "gone", 100);
    load(&mut db, "again", 100);
    db.checkpoint().unwrap();
    let full = db.paged_stats().unwrap();
    assert!(full.checkpoint_pages >= 5000 * 100 / 8192);

    // Every kind of change after the checkpoint: updates, deletes, purges,
    // a dropped table, a table dropped and created again, a new table.
    for k in (0..5000).step_by(97) {
        put(&mut db, "t", k, "changed");
    }
    db.delete_row("t", pk(3), Condition::ignore()).unwrap();
    db.purge_rows("t", &[pk(4), pk(5)]).unwrap();
    db.delete_table("gone").unwrap();
    db.delete_table("again").unwrap();
    db.create_table(schema("again")).unwrap();
    put(&mut db, "again", 7, "new life");
    db.create_table(schema("fresh")).unwrap();
    put(&mut db, "fresh", 1, "one");
    db.checkpoint().unwrap();
    // The checkpoint wrote the pages that changed, not the table.
    let delta = db.paged_stats().unwrap();
    assert!(
        delta.checkpoint_pages <= 5000 / 97 + 8 && delta.checkpoint_pages < full.checkpoint_pages,
        "{delta:?} after {full:?}"
    );
    put(&mut db, "t", 1, "after the checkpoint");
    let expected_tail = db.export_snapshot().unwrap();
    drop(db); // a crash: the last put is only in the log

    let db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), expected_tail);
    assert_eq!(value(&db, "t", 1).as_deref(), Some("after the checkpoint"));
    assert_eq!(value(&db, "t", 97).as_deref(), Some("changed"));
    assert_eq!(value(&db, "t", 3), None);
    assert!(db.get_row("gone", &pk(1), &GetOptions::default()).is_err());
    assert_eq!(value(&db, "again", 1), None);
    assert_eq!(value(&db, "again", 7).as_deref(), Some("new life"));
    assert_eq!(value(&db, "fresh", 1).as_deref(), Some("one"));
    for t in ["t", "again", "fresh"] {
        db.verify_table_digest(t).unwrap();
    }
}

#[test]
fn retention_removes_log_records_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let o = options(&clock, Some(CACHE)).retention(Retention {
        max_records: Some(100),
        max_age_ms: None,
    });
    let mut db = Database::open(dir.path(), o.clone()).unwrap();
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 1000);
    db.checkpoint().unwrap();
    load(&mut db, "t", 1000);
    db.checkpoint().unwrap();
    let first = db.changes_since(0, 10).unwrap();
    let expected = db.export_snapshot().unwrap();
    db.close().unwrap();
    let db = Database::open(dir.path(), o).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), expected);
    assert_eq!(db.changes_since(0, 10).unwrap(), first);
    assert!(first.records[0].cursor > 1800, "old records were dropped");
}

#[test]
fn a_damaged_page_is_corrupt_data_not_a_wrong_answer() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(8192))).unwrap();
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 3000);
    db.checkpoint().unwrap();
    db.close().unwrap();
    corrupt_a_page(dir.path());
    let db = Database::open(dir.path(), options(&clock, Some(8192))).unwrap();
    let mut seen = 0;
    let mut errors = 0;
    for k in 0..3000 {
        match db.get_row("t", &pk(k), &GetOptions::default()) {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("row {k} read as missing"),
            Err(e) => {
                assert_eq!(e.code(), "CorruptData");
                errors += 1;
            }
        }
    }
    assert!(errors > 0 && seen > 0, "seen {seen}, errors {errors}");
    assert_eq!(
        db.verify_table_digest("t").unwrap_err().code(),
        "CorruptData"
    );
}

/// Flip a byte in the middle of the page store file, inside a page (pages
/// are stored compressed: the page is found by its stored bytes).
fn corrupt_a_page(dir: &Path) {
    let path = dir.join(PAGE_STORE_FILE);
    let store =
        tablesync::storage::kv::open_page_store(&tablesync::storage::vfs::RealFs, &path, 1 << 20)
            .unwrap();
    let mut page = Vec::new();
    store
        .snapshot()
        .unwrap()
        .range(
            tablesync::storage::kv::Space::Pages,
            &[],
            None,
            &mut |_, v| {
                page = v.to_vec();
                Ok(std::ops::ControlFlow::Break(()))
            },
        )
        .unwrap();
    drop(store);
    assert!(page.len() > 64, "a stored page");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(page.len())
        .position(|w| w == page.as_slice())
        .expect("the page's bytes in the file");
    bytes[at + page.len() / 2] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn a_paged_directory_is_another_regions_from_the_first_open_on() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    db.close().unwrap();
    let other = DatabaseOptions::with_clock("us", Arc::new(clock.clone())).cache_bytes(CACHE);
    assert_eq!(
        Database::open(dir.path(), other).unwrap_err().code(),
        "RegionMismatch"
    );
}

#[test]
fn an_in_memory_directory_is_converted_to_pages_on_an_open_with_cache_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, None)).unwrap();
    assert!(!db.is_paged());
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 3000);
    db.checkpoint().unwrap(); // a full checkpoint file
    for k in 0..50 {
        put(&mut db, "t", k, "delta");
    }
    db.checkpoint().unwrap(); // a delta checkpoint file
    put(&mut db, "t", 60, "log tail");
    let expected = db.export_snapshot().unwrap();
    drop(db);
    let files = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("checkpoint-"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(files(dir.path()).len(), 2);

    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert!(db.is_paged());
    assert!(files(dir.path()).is_empty(), "the checkpoint files went");
    let (m, format) = read_manifest_format(&tablesync::storage::vfs::RealFs, dir.path())
        .unwrap()
        .unwrap();
    assert_eq!(
        (format, m.migrated_from, m.paged),
        (PAGED_DIR_FORMAT, Some(4), true)
    );
    assert_eq!(db.export_snapshot().unwrap(), expected);
    put(&mut db, "t", 61, "paged");
    let expected = db.export_snapshot().unwrap();
    drop(db);
    let db = Database::open(dir.path(), options(&clock, None)).unwrap();
    assert!(db.is_paged());
    // Replaying the one logged put read back its page, nothing else.
    assert_eq!(db.paged_stats().unwrap().page_loads, 1);
    assert_eq!(db.export_snapshot().unwrap(), expected);
}

#[test]
fn the_format_2_fixture_converts_to_pages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dir_v2_checkpoint");
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let clock = ManualClock::new(T0);
    let db = Database::open(tmp.path(), options(&clock, Some(CACHE))).unwrap();
    assert!(db.is_paged());
    assert_eq!(
        db.table_digest("users").unwrap().to_hex(),
        "0a238510009e10952e1da5cf669417b845a6b0231272ddb27fb30a2096cbd2fa"
    );
    drop(db);
    let (m, format) = read_manifest_format(&tablesync::storage::vfs::RealFs, tmp.path())
        .unwrap()
        .unwrap();
    assert_eq!((format, m.migrated_from), (PAGED_DIR_FORMAT, Some(2)));
    let db = Database::open(tmp.path(), options(&clock, None)).unwrap();
    assert_eq!(db.describe_table("users").unwrap().row_count, 4);
    db.verify_table_digest("users").unwrap();
}

/// A read view of a paged region keeps its snapshot while the writer
/// changes, checkpoints and evicts: pages the view had not read yet are
/// read as they were stored when the writer's copy diverged, never as a
/// later checkpoint rewrote them.
#[test]
fn a_read_view_of_a_paged_region_keeps_its_snapshot_across_checkpoints() {
    use tablesync::RegionRead;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 5000);
    db.close().unwrap();
    let mut db = Database::open(dir.path(), options(&clock, Some(8192))).unwrap();
    assert_eq!(db.resident_page_bytes(), 0);
    let view = db.read_view().unwrap();
    let digest = view.table_digest("t").unwrap();
    for round in 0..3 {
        for k in (0..5000).step_by(7) {
            put(&mut db, "t", k, &format!("round {round}"));
        }
        db.checkpoint().unwrap();
    }
    assert!(db.resident_page_bytes() <= 8192 + 16 * 1024);
    // Every row through the view: the values of before the writes.
    for k in (0..5000).step_by(3) {
        let row = view
            .get_row("t", &pk(k), &GetOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            row.get("v"),
            Some(&tablesync::Value::from(format!(
                "value {k:06} {}",
                "x".repeat(80)
            ))),
            "row {k}"
        );
    }
    assert_eq!(view.table_digest("t").unwrap(), digest);
    assert_eq!(value(&db, "t", 7).as_deref(), Some("round 2"));
}

/// Issue 11 item 2: a paged region's change log stays in its store — open
/// reads none of it, `changes_since` reads it back by cursor across the
/// stored and in-memory parts, retention drops stored records (counted as
/// dropped), and every sync mode serves a peer from it.
#[test]
fn the_change_log_is_read_back_from_the_store() {
    use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    let empty = db.export_snapshot().unwrap();
    load(&mut db, "t", 3000);
    let all = |db: &Database| {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = db.changes_since(cursor, 700).unwrap();
            if page.records.is_empty() {
                break out;
            }
            cursor = page.next_cursor;
            out.extend(page.records);
        }
    };
    let before = all(&db);
    assert_eq!(before.len(), 3000);
    db.checkpoint().unwrap();
    let stats = db.paged_stats().unwrap();
    assert_eq!(
        (stats.log_records_in_memory, stats.log_records_in_store),
        (0, 3000)
    );
    assert_eq!(all(&db), before);
    for k in 0..10 {
        put(&mut db, "t", k, "tail");
    }
    let with_tail = all(&db);
    assert_eq!(with_tail[..3000], before[..]);
    db.close().unwrap();

    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    let stats = db.paged_stats().unwrap();
    assert_eq!(
        (stats.log_records_in_memory, stats.log_records_in_store),
        (0, 3010)
    );
    assert_eq!(all(&db), with_tail);

    // Every sync mode serves a fresh peer from the stored log.
    for mode in [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Reconcile,
        SyncMode::Auto,
    ] {
        let mut peer =
            Database::memory(DatabaseOptions::with_clock("us", Arc::new(clock.clone()))).unwrap();
        let mut cfg = SyncConfig::new(mode, SyncDirection::Push);
        cfg.session_id = 9;
        let report = db.sync_with(&mut peer, cfg).unwrap();
        assert!(report.verified, "{mode:?}: {report:?}");
        assert_eq!(
            peer.table_digest("t").unwrap(),
            db.table_digest("t").unwrap(),
            "{mode:?}"
        );
    }

    // A snapshot delta (what a continuous backup fetches) carries the
    // stored records too: a copy taken before the load follows it.
    let mut copy = Database::import_snapshot(&empty, Arc::new(clock.clone())).unwrap();
    let delta = db
        .export_snapshot_delta(copy.next_cursor().unwrap())
        .unwrap();
    assert!(
        copy.apply_snapshot_delta(&delta).unwrap(),
        "the copy follows"
    );
    assert_eq!(
        copy.table_digest("t").unwrap(),
        db.table_digest("t").unwrap()
    );
    assert_eq!(copy.next_cursor().unwrap(), 3011);

    // Retention drops stored records, and they count as dropped.
    db.set_retention(Retention {
        max_records: Some(500),
        max_age_ms: None,
    })
    .unwrap();
    put(&mut db, "t", 1, "trigger retention");
    let kept = all(&db);
    assert!(kept.len() <= 500 + 500 / 16 + 1, "{}", kept.len());
    assert_eq!(kept.last().unwrap().cursor, 3011);
    assert_eq!(db.changes_since(1, 10).unwrap_err().code(), "LogGap");
    db.checkpoint().unwrap();
    let expected = db.export_snapshot().unwrap();
    db.close().unwrap();
    let db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert_eq!(db.export_snapshot().unwrap(), expected);
    assert_eq!(all(&db), kept);
}

/// `cache_bytes` bounds the whole footprint, not only the pages: after
/// every trim a host runs between reads, the resident pages and the spare
/// buffers kept for the next faults fit the page budget plus the slack,
/// and budget + slack + page index + the store's own cache fit the cache.
/// Faults after a trim decode into the evicted pages' buffers (the spare
/// bytes go down while the resident ones go up).
#[test]
fn the_cache_bounds_pages_index_store_cache_and_slack() {
    let dir = tempfile::tempdir().unwrap();
    let cache: u64 = 8 << 20;
    let mut db = reopened_with_rows(dir.path(), cache, 40_000);
    let first = db.paged_stats().unwrap();
    let store = tablesync::storage::fs::store_cache(cache) as usize;
    let slack = cache as usize / 16;
    assert!(first.index_bytes > 0 && first.page_budget > 0);
    assert!(
        first.page_budget + slack + first.index_bytes + store <= cache as usize,
        "{first:?}"
    );
    let mut reused = false;
    let mut prev = first;
    for step in 0..4000i64 {
        let k = (step * 7919) % 40_000;
        assert!(value(&db, "t", k).is_some());
        let read = db.paged_stats().unwrap();
        if read.page_loads > prev.page_loads && read.spare_bytes < prev.spare_bytes {
            reused = true;
        }
        db.maybe_trim_cache();
        let s = db.paged_stats().unwrap();
        if s != read {
            // A trim ran: pages and spare buffers fit budget + slack.
            assert!(s.resident_bytes <= s.page_budget, "{s:?}");
            assert!(
                s.resident_bytes + s.spare_bytes <= s.page_budget + slack,
                "{s:?}"
            );
        }
        // Between trims, reads add at most the slack and a page.
        assert!(
            s.resident_bytes + s.spare_bytes <= s.page_budget + slack + 3 * 8192,
            "{s:?}"
        );
        prev = s;
    }
    assert!(prev.page_loads > 1000, "{prev:?}");
    assert!(prev.resident_bytes > prev.page_budget / 2, "{prev:?}");
    assert!(reused, "no fault decoded into an evicted page's buffers");
}

/// A trim stays due after reads fault in the slack even when a read view
/// made the writer copy its page map (the copy keeps the count of bytes
/// faulted in; starting it again from zero would keep trims from coming
/// until the count caught up, and the cache would grow meanwhile).
#[test]
fn trims_stay_due_after_a_read_view_copies_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let cache: u64 = 8 << 20;
    let mut db = reopened_with_rows(dir.path(), cache, 40_000);
    // Fault in well past the slack, then trim.
    for k in (0..40_000).step_by(37) {
        assert!(value(&db, "t", k).is_some());
    }
    assert!(db.cache_trim_due());
    db.trim_cache();
    assert!(!db.cache_trim_due());
    // A view shares the map; the write copies it for the writer.
    let view = db.read_view().unwrap();
    put(&mut db, "t", 1, "after the view");
    drop(view);
    // Reads fault in more than the slack (a sixteenth of the cache, at
    // most ~10 KB a page): a trim is due again.
    let slack = cache as usize / 16;
    let start = db.paged_stats().unwrap().page_loads;
    let mut k = 11;
    while !db.cache_trim_due() {
        assert!(value(&db, "t", k % 40_000).is_some());
        k += 613;
        let faulted = db.paged_stats().unwrap().page_loads - start;
        // Pages take more than 4 KiB each: the slack is past by then.
        assert!(
            faulted <= (slack / 4096) as u64,
            "{faulted} pages faulted in since the write and no trim due"
        );
    }
}

#[test]
fn a_damaged_stored_log_record_is_found_by_check_and_is_corrupt_data() {
    use tablesync::storage::kv::{open_page_store, KvBatch, Space};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    db.create_table(schema("t")).unwrap();
    load(&mut db, "t", 300);
    db.close().unwrap();
    let rep = tablesync::client::offline::check_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep:?}");
    assert_eq!(rep.log_records, 300);

    // A byte of record 7 flipped where the page store keeps it (in the
    // chunk of records 1 to 300; redb checks no checksum on a read: the
    // chunk's CRC must).
    let store = open_page_store(
        &tablesync::storage::vfs::RealFs,
        &dir.path().join(PAGE_STORE_FILE),
        4 << 20,
    )
    .unwrap();
    let key = 1u64.to_be_bytes();
    let mut chunk = store
        .snapshot()
        .unwrap()
        .get(Space::Log, &key)
        .unwrap()
        .unwrap();
    let at = chunk.len() * 7 / 300;
    chunk[at] ^= 0x04;
    let mut batch = KvBatch::default();
    batch.put(Space::Log, key, chunk);
    store.commit(&batch, true).unwrap();
    drop(store);

    let rep = tablesync::client::offline::check_dir(dir.path()).unwrap();
    assert!(!rep.is_ok());
    assert!(
        rep.problems.iter().any(|p| p.starts_with("change log:")),
        "{:?}",
        rep.problems
    );
    // A reader of the log meets a typed error, never a wrong record (the
    // store's log is read in chunks: reads of the chunk holding it fail);
    // the rows are unaffected.
    let db = Database::open(dir.path(), options(&clock, Some(CACHE))).unwrap();
    assert_eq!(db.changes_since(0, 1000).unwrap_err().code(), "CorruptData");
    assert_eq!(
        value(&db, "t", 7).as_deref().map(|v| &v[..12]),
        Some("value 000007")
    );
}
