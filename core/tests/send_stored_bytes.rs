//! The sending side ships the log's stored record bytes (issue 10): sync
//! change pages (`changes_for`, the `PushChanges` requests and `Changes`
//! replies built from them) and replication push batches (`TSRP`) copy
//! each record's encoding into the frame; no record is decoded to be sent.
//! The frames are byte for byte those the decoded records encode to (the
//! golden vectors `sync_frames.json` / `replication_frames.json` pin them).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tablesync::codec::record::encode_record;
use tablesync::codec::record_page::RecordPage;
use tablesync::log::version_vector::VersionVector;
use tablesync::replication::push_frame::{decode_push, encode_push, encode_push_page, PushBatch};
use tablesync::sync::message::*;
use tablesync::sync::SyncStore;
use tablesync::*;

/// Counts allocations, to show paging decodes no record (a decoded record
/// takes several heap blocks: origin, table, key, column names, values).
/// Counted per thread: the other tests of this file run in parallel.
struct Counting;

thread_local! {
    static COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// This thread's allocations so far.
struct Allocs;
static ALLOCS: Allocs = Allocs;

impl Allocs {
    fn load(&self, _: Ordering) -> usize {
        COUNT.with(|c| c.get())
    }
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

const N: i64 = 2_000;

/// Region "a" with `N` local writes and, merged from region "b", a few
/// remote records (kept as the bytes they arrived in).
fn region() -> Database {
    let open = |name: &str| {
        let clock = ManualClock::new(1_700_000_000_000);
        let mut db = Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock))).unwrap();
        db.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
        db
    };
    let mut b = open("b");
    for i in 0..5 {
        b.put_row(
            "t",
            PrimaryKey::new([("k", 1_000_000 + i)]),
            vec![Column::new("s", format!("from b {i}"))],
            Condition::ignore(),
        )
        .unwrap();
    }
    let mut a = open("a");
    a.apply_changes(&b.changes_since(0, 100).unwrap().records)
        .unwrap();
    for i in 0..N {
        a.put_row(
            "t",
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", i), Column::new("name", format!("row {i}"))],
            Condition::ignore(),
        )
        .unwrap();
    }
    a
}

/// The log's records as `changes_since` decodes them (cursor 0: cursors
/// are local and do not travel).
fn decoded(db: &Database) -> Vec<ChangeRecord> {
    db.changes_since(0, 100_000)
        .unwrap()
        .records
        .into_iter()
        .map(|r| ChangeRecord { cursor: 0, ..r })
        .collect()
}

#[test]
fn change_pages_carry_the_stored_bytes_and_frame_identically() {
    let a = region();
    let records = decoded(&a);
    let batch = SyncStore::changes_for(&a, &VersionVector::new(), &None, usize::MAX).unwrap();
    assert!(!batch.more);
    let Records::Encoded(page) = &batch.records else {
        panic!("changes_for decoded its records: {:?}", batch.records.len())
    };
    // The page is the log's bytes, which are each record's encoding.
    let stored: Vec<u8> = a
        .log_since(0, 100_000)
        .unwrap()
        .records
        .iter()
        .flat_map(|e| e.bytes.iter().copied())
        .collect();
    assert_eq!(page.bytes(), &stored[..]);
    let expected: Vec<u8> = records.iter().flat_map(encode_record).collect();
    assert_eq!(page.bytes(), &expected[..]);
    assert_eq!(page.decode().unwrap(), records);

    // A Changes reply and a PushChanges request frame the same bytes in
    // either form, and decode to the decoded form.
    let reply = |records: Records| ReplyEnvelope {
        reply: Reply::Changes(ChangeBatch {
            records,
            more: false,
        }),
        infos: vec![],
    };
    let from_page = encode_reply(7, 1, &reply(batch.records.clone()), 1 << 24).unwrap();
    let from_records = encode_reply(7, 1, &reply(records.clone().into()), 1 << 24).unwrap();
    assert_eq!(from_page, from_records);
    let back = decode_reply(&from_page, 1 << 24, 7, 1).unwrap();
    assert_eq!(back, reply(records.clone().into()));
    let push = |records: Records| Request::PushChanges { records };
    let from_page = encode_request(7, 2, &push(batch.records.clone()), 1 << 24).unwrap();
    let from_records = encode_request(7, 2, &push(records.clone().into()), 1 << 24).unwrap();
    assert_eq!(from_page, from_records);
    let (_, _, back) = decode_request(&from_page, 1 << 24).unwrap();
    assert_eq!(back, push(records.into()));
}

#[test]
fn paging_the_log_decodes_no_record() {
    let a = region();
    let peer = VersionVector::new();
    let before = ALLOCS.load(Ordering::SeqCst);
    let batch = SyncStore::changes_for(&a, &peer, &None, usize::MAX).unwrap();
    let allocs = ALLOCS.load(Ordering::SeqCst) - before;
    assert_eq!(batch.records.len() as i64, N + 5);
    // Two growing vectors: O(log N) blocks. Decoding would take several
    // blocks per record.
    assert!(allocs < 100, "{allocs} allocations to page {N} records");
    // What the threshold tells apart: decoding the same records.
    let before = ALLOCS.load(Ordering::SeqCst);
    let page = a.changes_since(0, 100_000).unwrap();
    let decoding = ALLOCS.load(Ordering::SeqCst) - before;
    assert!(decoding > N as usize, "{decoding} allocations to decode");
    drop(page);
    // Reading the ids of what was sent reads record heads only.
    let mut ids = 0;
    let before = ALLOCS.load(Ordering::SeqCst);
    batch.records.for_each_id(|_, _| ids += 1).unwrap();
    assert_eq!(ALLOCS.load(Ordering::SeqCst) - before, 0);
    assert_eq!(ids, N + 5);
}

#[test]
fn a_push_batch_from_stored_bytes_is_the_same_frame() {
    let a = region();
    let records = decoded(&a);
    let mut page = RecordPage::new();
    for e in &a.log_since(0, 100_000).unwrap().records {
        page.push(e.bytes);
    }
    let framed = encode_push_page(3, 9, &page);
    let batch = PushBatch {
        session: 3,
        batch: 9,
        records,
    };
    assert_eq!(framed, encode_push(&batch));
    assert_eq!(decode_push(&framed, 1 << 24).unwrap(), batch);
}
