//! Read views (issue 11 item 5): `Database::read_view` is a consistent,
//! owned snapshot at one commit that answers every `RegionRead` read as the
//! database did when it was taken — while other threads write — and taking
//! one copies no row or record.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tablesync::*;

/// Counts this thread's allocations (other tests of this file run in
/// parallel, so the count is per thread).
struct Counting;

thread_local! {
    static COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn allocs() -> usize {
    COUNT.with(|c| c.get())
}

fn count() {
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const T0: i64 = 1_700_000_000_000;

fn open(region: &str) -> Database {
    Database::memory(DatabaseOptions::with_clock(
        region,
        Arc::new(ManualClock::new(T0)),
    ))
    .unwrap()
}

fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("id", PkType::Integer)])
}

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("id", i)])
}

fn put_op(table: &str, i: i64, columns: Vec<Column>) -> WriteOp {
    WriteOp::Put {
        table: table.into(),
        primary_key: pk(i),
        columns,
        condition: Condition::ignore(),
    }
}

fn put_many(db: &mut Database, table: &str, ids: impl IntoIterator<Item = i64>, tag: &str) {
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(200) {
        let ops = chunk
            .iter()
            .map(|&i| put_op(table, i, vec![Column::new("v", format!("{tag}{i}"))]))
            .collect();
        for r in db.batch_write(ops).unwrap() {
            r.unwrap();
        }
    }
}

fn all(s: &TableSchema, d: Direction) -> (RangeBound, RangeBound) {
    (
        RangeBound::all(s, d.first_bound()),
        RangeBound::all(s, d.last_bound()),
    )
}

/// Everything a reader can ask, answered by `r`, as text (every answer
/// type is `Debug`; errors are compared too).
fn answers(r: &dyn RegionRead) -> Vec<String> {
    let mut out = vec![format!("{:?}", r.list_tables())];
    out.push(format!("{:?}", r.next_cursor()));
    for t in ["t", "u", "w"] {
        out.push(format!("{:?}", r.describe_table(t)));
        out.push(format!("{:?}", r.table_digest(t)));
        let Ok(d) = r.describe_table(t) else {
            continue;
        };
        let s = d.schema;
        for i in [0, 1, 17, 499, 500, 1500, 2999, 5000] {
            out.push(format!(
                "{:?}",
                r.get_row(t, &pk(i), &GetOptions::default())
            ));
        }
        for d in [Direction::Forward, Direction::Backward] {
            let (a, b) = all(&s, d);
            let o = RangeOptions {
                direction: d,
                limit: Some(700),
                ..RangeOptions::default()
            };
            out.push(format!("{:?}", r.get_range(t, &a, &b, &o)));
            let rows: Vec<_> = Scan::new(r, ScanCursor::new(t, a, b, o)).collect();
            out.push(format!("{rows:?}"));
        }
        let lo = RangeBound::from(pk(100));
        let hi = RangeBound::from(pk(1200));
        out.push(format!("{:?}", r.range_digest(t, &lo, &hi)));
    }
    for c in [0, 1, 2, 255, 256, 257, 600, 3000, 3001, 9000] {
        for limit in [1, 300, 1000] {
            out.push(format!("{:?}", r.changes_since(c, limit)));
            let raw = r.log_since(c, limit).map(|p| {
                let b: Vec<_> = p
                    .records
                    .iter()
                    .map(|e| (e.cursor, e.origin, e.table, e.bytes))
                    .collect();
                format!("{b:?} {}", p.next_cursor)
            });
            out.push(format!("{raw:?}"));
        }
    }
    out
}

#[test]
fn a_view_answers_as_the_database_did_when_it_was_taken() {
    let mut db = open("eu");
    db.create_table(schema("t")).unwrap();
    db.create_table(schema("u")).unwrap();
    put_many(&mut db, "t", 0..3000, "a");
    put_many(&mut db, "u", 0..50, "u");
    let before = answers(&db);
    let view = db.read_view().unwrap();
    assert!(view.is_current(&db));
    assert_eq!(
        answers(&view),
        before,
        "a fresh view answers as the database"
    );

    // Every kind of change after the view: overwrites that grow rows (page
    // splits), deletes (merges), table options, a deleted and a new table,
    // log retention across chunks.
    let ops = (0..200)
        .map(|i| put_op("t", i * 3, vec![Column::new("v", "x".repeat(300))]))
        .collect();
    db.batch_write(ops).unwrap();
    assert!(!view.is_current(&db));
    for i in 1000..1400 {
        db.delete_row("t", pk(i), Condition::ignore()).unwrap();
    }
    for i in 2000..2100 {
        db.purge_rows("t", &[pk(i)]).unwrap();
    }
    db.update_table(
        "t",
        TableOptions {
            max_versions: 2,
            time_to_live: 86_400,
        },
    )
    .unwrap();
    db.delete_table("u").unwrap();
    db.create_table(schema("w")).unwrap();
    put_many(&mut db, "w", 0..10, "w");
    db.truncate_log(600).unwrap();

    let moved = std::thread::spawn(move || answers(&view)).join().unwrap();
    assert_eq!(moved, before, "the view still answers as of its commit");
    let after = answers(&db);
    assert_ne!(after, before);
    let fresh = db.read_view().unwrap();
    assert_eq!(answers(&fresh), after);
    assert!(fresh.is_current(&db));
    db.close().unwrap();
    assert!(!fresh.is_current(&db));
    assert_eq!(db.read_view().unwrap_err().code(), Error::Closed.code());
}

/// The change log held in shared chunks answers `changes_since` exactly as
/// a flat list of its records would, across chunk boundaries and
/// truncations at every position; a view keeps the records it held.
#[test]
fn changes_since_matches_a_flat_model_across_chunks_and_retention() {
    let mut db = open("eu");
    db.create_table(schema("t")).unwrap();
    for i in 0..1100 {
        db.put_row(
            "t",
            pk(i % 97),
            vec![Column::new("v", i)],
            Condition::ignore(),
        )
        .unwrap();
    }
    let model = db.changes_since(0, 1000).unwrap().records;
    let model: Vec<_> = model
        .into_iter()
        .chain(db.changes_since(1001, 1000).unwrap().records)
        .collect();
    assert_eq!(model.len(), 1100);
    let next = db.next_cursor().unwrap();
    let early = db.read_view().unwrap();
    for cut in [1u64, 2, 255, 256, 257, 300, 512, 513, 700, 1100, 1101] {
        db.truncate_log(cut).unwrap();
        let first = cut.min(next);
        for c in [
            0u64,
            1,
            cut.saturating_sub(1),
            cut,
            cut + 1,
            511,
            512,
            769,
            1100,
            1101,
            1200,
        ] {
            for limit in [1usize, 7, 256, 300, 1000] {
                let got = db.changes_since(c, limit);
                if c != 0 && c < first {
                    assert_eq!(got.unwrap_err().code(), "LogGap", "cut {cut} from {c}");
                    continue;
                }
                let start = c.max(first);
                let want: Vec<_> = model
                    .iter()
                    .filter(|r| r.cursor >= start)
                    .take(limit)
                    .cloned()
                    .collect();
                let want_next = want.last().map_or(start.min(next), |r| r.cursor + 1);
                let got = got.unwrap();
                assert_eq!(got.records, want, "cut {cut} from {c} limit {limit}");
                assert_eq!(
                    got.next_cursor, want_next,
                    "cut {cut} from {c} limit {limit}"
                );
            }
        }
    }
    let kept = early.changes_since(0, 1000).unwrap();
    assert_eq!(kept.records, model[..1000]);
    // Appends after truncating everything start a fresh chunk.
    db.put_row("t", pk(1), vec![Column::new("v", -1)], Condition::ignore())
        .unwrap();
    let tail = db.changes_since(0, 10).unwrap();
    assert_eq!(tail.records.len(), 1);
    assert_eq!(tail.records[0].cursor, next);
}

/// Cost rules: taking a view allocates a bounded number of blocks whatever
/// the row and record counts (no row or record copied); the first write
/// after it copies the page index of the table it writes (a fence key per
/// page and the index's nodes) and the pages it touches, not the rows.
#[test]
fn a_view_copies_no_rows_and_a_write_after_it_copies_only_an_index_and_its_pages() {
    let mut db = open("eu");
    db.create_table(schema("t")).unwrap();
    db.create_table(schema("u")).unwrap();
    put_many(&mut db, "t", 0..20_000, "row-");
    put_many(&mut db, "u", 0..100, "row-");
    let pages = db.page_stats("t").unwrap().pages;
    assert!(pages > 50, "{pages}");

    let a = allocs();
    let view = db.read_view().unwrap();
    let taken = allocs() - a;
    assert!(
        taken < 40,
        "a view of 20,100 rows and records took {taken} allocations"
    );

    let a = allocs();
    db.put_row(
        "t",
        pk(7),
        vec![Column::new("v", "changed")],
        Condition::ignore(),
    )
    .unwrap();
    let first_write = allocs() - a;
    let a = allocs();
    db.put_row(
        "t",
        pk(8),
        vec![Column::new("v", "changed")],
        Condition::ignore(),
    )
    .unwrap();
    let second_write = allocs() - a;
    assert!(
        // A fence key per page, the index's nodes (≥ 6 entries each), the
        // touched page's three buffers and the log's last chunk.
        first_write <= second_write + pages + pages / 5 + 16,
        "first write after a view: {first_write} allocations ({pages} pages, a write alone {second_write})"
    );
    assert!(
        first_write > pages,
        "the index was not copied: {first_write}"
    );
    println!(
        "view: {taken} allocations; first write after it: {first_write}, next write: {second_write}, pages: {pages}"
    );
    // A table the write did not touch is still shared with the view.
    let a = allocs();
    db.put_row(
        "u",
        pk(8),
        vec![Column::new("v", "changed")],
        Condition::ignore(),
    )
    .unwrap();
    let other = allocs() - a;
    assert!(other < 64, "{other}");
    assert_eq!(
        view.get_row("t", &pk(7), &GetOptions::default())
            .unwrap()
            .unwrap()
            .cells[0]
            .value,
        Value::String("row-7".into())
    );
}

const ROWS: i64 = 48;
const BATCHES: i64 = 150;

/// Batch `g`: rows 0..ROWS with `a` = `b` = g, a payload whose size moves
/// with g (pages split and merge), version timestamps from g (so a rebuilt
/// copy of the rows has the same digest).
fn batch(g: i64) -> Vec<WriteOp> {
    (0..ROWS)
        .map(|i| {
            let ts = 1_000 + g;
            put_op(
                "t",
                i,
                vec![
                    Column::new("a", g).at(ts),
                    Column::new("b", g).at(ts),
                    Column::new("p", "x".repeat(((g * 37 + i * 11) % 400) as usize)).at(ts),
                ],
            )
        })
        .collect()
}

fn int(r: &Row, col: &str) -> i64 {
    let v = r.cells.iter().find(|c| c.name == col).map(|c| &c.value);
    match v {
        Some(Value::Integer(i)) => *i,
        other => panic!("column {col} of {r:?} is {other:?}"),
    }
}

/// The digest of a table holding exactly `rows` (rebuilt in a scratch region).
fn rebuilt_digest(rows: &[Row]) -> Digest {
    let mut db = open("scratch");
    db.create_table(schema("t")).unwrap();
    let ops: Vec<_> = rows
        .iter()
        .map(|r| WriteOp::Put {
            table: "t".into(),
            primary_key: r.primary_key.clone(),
            columns: r
                .cells
                .iter()
                .map(|c| Column::new(c.name.clone(), c.value.clone()).at(c.timestamp))
                .collect(),
            condition: Condition::ignore(),
        })
        .collect();
    db.batch_write(ops).unwrap();
    db.table_digest("t").unwrap()
}

/// One reader's checks on one view: every read agrees on one whole batch.
fn check_view(view: &ReadView, digests: &mut HashMap<i64, Digest>, seen: &mut Vec<i64>) {
    let s = view.describe_table("t").unwrap().schema;
    let (lo, hi) = all(&s, Direction::Forward);
    let page = view
        .get_range("t", &lo, &hi, &RangeOptions::default())
        .unwrap();
    assert_eq!(page.rows.len() as i64, ROWS, "a torn batch: {page:?}");
    let g = int(&page.rows[0], "a");
    for r in &page.rows {
        assert_eq!(
            (int(r, "a"), int(r, "b")),
            (g, g),
            "mixed generations in {r:?}"
        );
    }
    let (blo, bhi) = all(&s, Direction::Backward);
    let back = view
        .get_range(
            "t",
            &blo,
            &bhi,
            &RangeOptions {
                direction: Direction::Backward,
                ..RangeOptions::default()
            },
        )
        .unwrap();
    let mut fwd = page.rows.clone();
    fwd.reverse();
    assert_eq!(back.rows, fwd);
    for i in [0, ROWS / 2, ROWS - 1] {
        let r = view
            .get_row("t", &pk(i), &GetOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(r, page.rows[i as usize]);
    }
    let digest = view.table_digest("t").unwrap();
    assert_eq!(view.range_digest("t", &lo, &hi).unwrap().digest, digest);
    let want = *digests
        .entry(g)
        .or_insert_with(|| rebuilt_digest(&page.rows));
    assert_eq!(digest, want, "digest of generation {g}");
    // The log holds whole batches, the last one generation g.
    let next = view.next_cursor().unwrap();
    assert_eq!(
        (next - 1) % ROWS as u64,
        0,
        "a torn batch in the log: next {next}"
    );
    assert_eq!((next - 1) / ROWS as u64, g as u64 + 1);
    let last = view.changes_since(next - ROWS as u64, 1000).unwrap();
    assert_eq!(last.records.len() as i64, ROWS);
    for rec in &last.records {
        let a = rec.columns.iter().find_map(|c| match c {
            ColumnOp::Put { name, value, .. } if name == "a" => Some(value.clone()),
            _ => None,
        });
        assert_eq!(a, Some(Value::Integer(g)), "{rec:?}");
    }
    seen.push(g);
}

/// Issue 11's concurrent reader/writer test: one writer commits batches
/// that rewrite every row with one generation in two columns (and now and
/// then truncates the log); readers on other threads take views and only
/// ever see whole committed batches — rows, digests and the change log all
/// of one generation.
#[test]
fn readers_on_views_see_only_whole_committed_batches() {
    let mut db = open("eu");
    db.create_table(schema("t")).unwrap();
    db.batch_write(batch(0)).unwrap();
    let db = Arc::new(RwLock::new(db));
    let done = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (db, done, checked) = (db.clone(), done.clone(), checked.clone());
            std::thread::spawn(move || {
                let mut digests = HashMap::new();
                let mut seen = Vec::new();
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    // The lock is held only to take the view.
                    let view = db.read().unwrap().read_view().unwrap();
                    check_view(&view, &mut digests, &mut seen);
                    checked.fetch_add(1, Ordering::SeqCst);
                    if finished {
                        break;
                    }
                }
                assert!(seen.windows(2).all(|w| w[0] <= w[1]), "went back: {seen:?}");
                seen
            })
        })
        .collect();
    for g in 1..BATCHES {
        let mut w = db.write().unwrap();
        for r in w.batch_write(batch(g)).unwrap() {
            r.unwrap();
        }
        if g % 7 == 0 {
            // Retention mid-run: keep the last two batches and a half (the
            // cut falls inside a chunk and inside a batch).
            let next = w.next_cursor().unwrap();
            w.truncate_log(next - (5 * ROWS / 2) as u64).unwrap();
        }
        drop(w);
        if g % 10 == 0 {
            // Let readers in between commits now and then.
            std::thread::yield_now();
        }
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        let seen = r.join().unwrap();
        assert_eq!(seen.last(), Some(&(BATCHES - 1)));
    }
    assert!(checked.load(Ordering::SeqCst) >= 3);
}

/// Blocks every local write until released: holds a writer inside its
/// commit, with the database's write lock held.
struct Gate {
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl WriteGuard for Gate {
    fn check(&self, _now_ms: i64) -> Result<()> {
        let _ = self.entered.lock().unwrap().send(());
        let _ = self.release.lock().unwrap().recv();
        Ok(())
    }
}

#[test]
fn reads_on_a_view_complete_while_a_writer_is_held_inside_its_commit() {
    let mut db = open("eu");
    db.create_table(schema("t")).unwrap();
    put_many(&mut db, "t", 0..100, "v");
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    db.set_write_guard(Some(Arc::new(Gate {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    })));
    let db = Arc::new(RwLock::new(db));
    let view = Arc::new(db.read().unwrap().read_view().unwrap());
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.write()
                .unwrap()
                .put_row(
                    "t",
                    pk(5),
                    vec![Column::new("v", "new")],
                    Condition::ignore(),
                )
                .unwrap();
        })
    };
    entered.recv_timeout(Duration::from_secs(60)).unwrap();
    // The writer holds the write lock inside its commit now.
    assert!(db.try_read().is_err());
    let (tx, rx) = mpsc::channel();
    for _ in 0..4 {
        let (view, tx) = (view.clone(), tx.clone());
        std::thread::spawn(move || {
            let s = view.describe_table("t").unwrap().schema;
            let (lo, hi) = all(&s, Direction::Forward);
            let row = view.get_row("t", &pk(5), &GetOptions::default()).unwrap();
            let page = view
                .get_range("t", &lo, &hi, &RangeOptions::default())
                .unwrap();
            let digest = view.table_digest("t").unwrap();
            let changes = view.changes_since(0, 1000).unwrap();
            let _ = tx.send((row, page.rows.len(), digest, changes.records.len()));
        });
    }
    for _ in 0..4 {
        // Bounded only so a regression fails instead of hanging.
        let (row, n, _, records) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(row.unwrap().cells[0].value, Value::String("v5".into()));
        assert_eq!((n, records), (100, 100));
    }
    assert!(
        !writer.is_finished(),
        "the reads finished while the writer was held"
    );
    release.send(()).unwrap();
    writer.join().unwrap();
    let db = db.read().unwrap();
    let row = db
        .get_row("t", &pk(5), &GetOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(row.cells[0].value, Value::String("new".into()));
    assert_ne!(
        db.table_digest("t").unwrap(),
        view.table_digest("t").unwrap()
    );
}
