//! Finding (issue 12): decoders reserved memory by count, not by bytes —
//! `Vec::with_capacity(n)` with `n` bounded only by the bytes left, times an
//! item size of up to ~128 B, so a small lz4 frame could ask for gigabytes
//! (an abort in a wasm client). Every decoder of outside bytes now reads its
//! lists through `Reader::read_vec`; this test counts the bytes each hostile
//! input makes the decoder allocate at its peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tablesync::cluster::map_codec::read_map_payload;
use tablesync::codec::buf::put_varint;
use tablesync::codec::frame::{encode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION};
use tablesync::codec::record::decode_record;
use tablesync::codec::row_state::decode_row_state;
use tablesync::storage::WalEntry;
use tablesync::sync::message::SYNC_FRAME_VERSION;
use tablesync::sync::message::{decode_reply, decode_request, MAGIC_SYNC};
use tablesync::{Database, ManualClock};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated at the peak while running `f`, above what was live before.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - base
}

/// `prefix` then a count of `n` then `n` zero bytes: the largest count the
/// old `count()` check let through.
fn hostile(prefix: &[u8], n: usize) -> Vec<u8> {
    let mut p = prefix.to_vec();
    put_varint(&mut p, n as u64);
    p.resize(p.len() + n, 0);
    p
}

const N: usize = 256 * 1024;

fn assert_bounded(what: &str, input_len: usize, f: impl FnOnce()) {
    let peak = peak_of(f);
    // The decompressed input itself plus a few times its size, never count × item size.
    let bound = 4 * input_len + 64 * 1024;
    assert!(
        peak <= bound,
        "{what}: decoding {input_len} bytes allocated {peak} bytes at the peak (bound {bound})"
    );
}

#[test]
fn hostile_counts_reserve_at_most_a_few_times_the_input() {
    // A sync request: session ‖ index ‖ reply cap ‖ kind 3 (PushChanges) ‖ count ‖ zeros.
    let mut head = Vec::new();
    head.extend_from_slice(&1u64.to_le_bytes());
    head.extend_from_slice(&1u32.to_le_bytes());
    head.extend_from_slice(&(1u32 << 20).to_le_bytes());
    for kind in [3u8, 5, 8, 9] {
        let mut prefix = head.clone();
        prefix.push(kind);
        if kind == 5 || kind == 8 {
            prefix.extend_from_slice(&[1, b't']); // table name
        }
        let payload = hostile(&prefix, N);
        let frame = encode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, &payload, true);
        assert!(frame.len() < 4096, "a small frame: {} bytes", frame.len());
        assert_bounded(&format!("sync request kind {kind}"), payload.len(), || {
            assert!(decode_request(&frame, 1 << 22).is_err());
        });
    }
    // A sync reply: session ‖ index ‖ kind 102 (Changes) ‖ count ‖ zeros.
    let mut prefix = Vec::new();
    prefix.extend_from_slice(&1u64.to_le_bytes());
    prefix.extend_from_slice(&1u32.to_le_bytes());
    prefix.push(102);
    let payload = hostile(&prefix, N);
    let frame = encode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, &payload, true);
    assert_bounded("sync reply", payload.len(), || {
        assert!(decode_reply(&frame, 1 << 22, 1, 1).is_err());
    });

    // A change record whose key-column count claims every byte left.
    let mut rec = vec![1, 1, b'a', 1];
    rec.extend_from_slice(&1u64.to_le_bytes());
    rec.extend_from_slice(&[1, b't', 1]);
    let rec = hostile(&rec, N);
    assert_bounded("change record", rec.len(), || {
        assert!(decode_record(&rec).is_err());
    });

    // A row state whose column count claims every byte left.
    let state = hostile(&[0, 0, 0], N);
    assert_bounded("row state", state.len(), || {
        assert!(decode_row_state(&state).is_err());
    });

    // WAL entries: MERGE_ROWS and MARK_HELD with huge counts.
    for prefix in [&[6u8, 1, b't'][..], &[7u8][..]] {
        let entry = hostile(prefix, N);
        assert_bounded("wal entry", entry.len(), || {
            assert!(WalEntry::decode(&entry).is_err());
        });
    }

    // A snapshot whose log-record count claims every byte left.
    let mut snap = vec![1, b'r'];
    snap.extend_from_slice(&0u64.to_le_bytes());
    snap.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0]); // seq, cursor, two empty vectors, no tables
    let snap = hostile(&snap, N);
    let frame = encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, &snap, true);
    assert_bounded("snapshot", snap.len(), || {
        assert!(Database::import_snapshot(&frame, Arc::new(ManualClock::new(0))).is_err());
    });

    // A cluster map whose datacenter count claims every byte left (it was
    // reserved as count × the size of a datacenter).
    let map = hostile(&1u64.to_le_bytes(), N);
    assert_bounded("cluster map", map.len(), || {
        assert!(read_map_payload(&map).is_err());
    });
}
