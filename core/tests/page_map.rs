//! The page-structured row index (`engine::pages::PageMap`) against a
//! `BTreeMap` model: random inserts, replacements that grow and shrink
//! rows, purges that empty and merge pages, rows larger than a page, and
//! captures (shared pages) taken in between, which must keep showing what
//! they held while the map changes (copy on write). The same runs go
//! again with a page store: pages flushed, evicted under a tiny cache,
//! faulted back in, and the map re-attached from the store alone: from
//! the whole index, or from its block list with blocks read back on
//! demand (blocks of a few pages, so they split, empty and load often).

use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};
use tablesync::engine::page_codec::{decode_leaf, encode_leaf};
use tablesync::engine::pages::{
    page_rows, IndexEntries, IndexShape, Leaf, NewRow, PageMap, PageSource, RowEntries, PAGE_BYTES,
};
use tablesync::Error;

/// A row entry's place: page id and row key.
type EntryKey = (u64, Box<[u8]>);

/// A page store in memory: encoded pages by id, and the index of fences.
#[derive(Debug, Default)]
struct Store {
    pages: Mutex<HashMap<u64, Vec<u8>>>,
    /// Row entries by page id and row key (rows changed since the page was
    /// stored whole).
    rows: Mutex<BTreeMap<EntryKey, Vec<u8>>>,
    /// Fence → page id.
    index: Mutex<BTreeMap<Box<[u8]>, u64>>,
    /// The index's block list as last flushed.
    shape: Mutex<Option<IndexShape>>,
    /// Index blocks read back.
    index_reads: Mutex<usize>,
    /// Loads served (page faults).
    loads: Mutex<usize>,
}

impl PageSource for Store {
    fn load(&self, id: u64) -> tablesync::Result<Vec<u8>> {
        *self.loads.lock().unwrap() += 1;
        self.pages
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::corrupt(format!("no page {id}")))
    }

    fn index(&self, from: &[u8], to: Option<&[u8]>, f: IndexEntries<'_>) -> tablesync::Result<()> {
        *self.index_reads.lock().unwrap() += 1;
        let index = self.index.lock().unwrap();
        let hi = to.map_or(Bound::Unbounded, Bound::Excluded);
        for (fence, id) in index.range::<[u8], _>((Bound::Included(from), hi)) {
            f(fence, *id)?;
        }
        Ok(())
    }

    fn rows(&self, id: u64, f: RowEntries<'_>) -> tablesync::Result<()> {
        let rows = self.rows.lock().unwrap();
        for ((_, key), entry) in rows
            .range((id, Box::<[u8]>::default())..)
            .take_while(|((p, _), _)| *p == id)
        {
            f(key, entry)?;
        }
        Ok(())
    }
}

impl Store {
    /// A store holding `loaded(n, value)`, and the map it was flushed from.
    fn loaded(n: u32, value: usize) -> (Arc<Store>, PageMap) {
        let store = Arc::new(Store::default());
        let mut map = loaded(n, value);
        map.set_source(store.clone());
        store.flush(&mut map);
        (store, map)
    }

    /// The stored index: fences and page ids, in order.
    fn index_list(&self) -> Vec<(Box<[u8]>, u64)> {
        let index = self.index.lock().unwrap();
        index.iter().map(|(f, id)| (f.clone(), *id)).collect()
    }

    /// Store the map's dirty pages (as a region's checkpoint would).
    fn flush(&self, map: &mut PageMap) {
        let flush = map.flush();
        let mut pages = self.pages.lock().unwrap();
        let mut rows = self.rows.lock().unwrap();
        let mut index = self.index.lock().unwrap();
        let gone: Vec<u64> = flush
            .dropped
            .iter()
            .map(|(_, id)| *id)
            .chain(flush.cleared.iter().copied())
            .collect();
        rows.retain(|(id, _), _| !gone.contains(id));
        for (fence, id) in &flush.dropped {
            pages.remove(id);
            if index.get(fence) == Some(id) {
                index.remove(fence);
            }
        }
        for (fence, id, bytes) in flush.pages {
            pages.insert(id, bytes);
            index.insert(fence, id);
        }
        for page in flush.rows {
            assert!(
                pages.contains_key(&page.id),
                "row entries of a page never stored"
            );
            for (key, entry) in page.rows {
                rows.insert((page.id, key), entry);
            }
            assert_eq!(index.get(&page.fence), Some(&page.id));
        }
        if let Some(shape) = flush.shape {
            *self.shape.lock().unwrap() = Some(shape);
        }
        map.flushed();
        assert!(!map.is_dirty());
    }

    /// The map opened again from the stored block list alone.
    fn attach_shape(self: &Arc<Self>, len: usize) -> PageMap {
        let shape = self.shape.lock().unwrap().clone().expect("a block list");
        PageMap::attach_shape(self.clone(), &shape, len).unwrap()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Set a key to a state of this many bytes (exists or tombstone).
    Set(u16, usize, bool),
    /// Purge a key.
    Remove(u16),
    /// Take a capture of every page now; checked at the end.
    Capture,
    /// Check a range against the model.
    Range(u16, u16, bool),
    /// With a page store: store the dirty pages, then evict down to this
    /// many bytes.
    Flush(usize),
    /// With a page store: store the dirty pages and open the map again
    /// from the store alone, nothing resident.
    Reattach,
}

fn key(k: u16) -> Vec<u8> {
    // Keys of varied length, ordered by value then length.
    let mut v = k.to_be_bytes().to_vec();
    v.extend(std::iter::repeat_n(b'k', usize::from(k % 7)));
    v
}

fn state(k: u16, len: usize, salt: u64) -> Vec<u8> {
    (0..len)
        .map(|i| (u64::from(k) ^ salt ^ i as u64) as u8)
        .collect()
}

type Model = BTreeMap<Vec<u8>, (Vec<u8>, u64, Option<[u8; 32]>)>;
/// A capture: the rows the model held, and the pages taken then.
type Capture = (Vec<(Vec<u8>, Vec<u8>)>, Vec<std::sync::Arc<Leaf>>);

fn ops(max_key: u16) -> impl Strategy<Value = Vec<Op>> {
    let size = prop_oneof![
        8 => 0usize..200,
        2 => 200usize..3000,
        1 => (PAGE_BYTES - 100)..(PAGE_BYTES * 2),
    ];
    let op = prop_oneof![
        10 => (0..max_key, size, any::<bool>()).prop_map(|(k, n, e)| Op::Set(k, n, e)),
        5 => (0..max_key).prop_map(Op::Remove),
        1 => Just(Op::Capture),
        2 => (0..max_key, 0..max_key, any::<bool>()).prop_map(|(a, b, r)| Op::Range(a, b, r)),
        2 => (0usize..40_000).prop_map(Op::Flush),
        1 => Just(Op::Reattach),
    ];
    prop::collection::vec(op, 1..600)
}

fn same(map: &PageMap, model: &Model) {
    map.check().unwrap();
    assert_eq!(map.len(), model.len());
    let got: Vec<_> = map
        .iter()
        .map(|(k, r)| (k.to_vec(), r.state.to_vec(), r.state_id, r.digest.copied()))
        .collect();
    let want: Vec<_> = model
        .iter()
        .map(|(k, (s, id, d))| (k.clone(), s.clone(), *id, *d))
        .collect();
    assert_eq!(got, want);
    let back: Vec<_> = map.iter().rev().map(|(k, _)| k.to_vec()).collect();
    let mut keys: Vec<_> = model.keys().cloned().collect();
    keys.reverse();
    assert_eq!(back, keys);
}

fn run(ops: Vec<Op>, paged: bool) {
    let store = Arc::new(Store::default());
    let mut map = PageMap::default();
    let mut reattached = 0;
    if paged {
        map.set_source(store.clone());
    }
    // Index blocks of three pages: they split, empty and (paged) load.
    map.set_block_entries(3);
    let mut model = Model::new();
    let mut captures: Vec<Capture> = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Set(k, len, exists) => {
                let key = key(k);
                let st = state(k, len, n as u64);
                let digest = exists.then_some([n as u8; 32]);
                let id = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let mut seen = None;
                map.set(
                    &key,
                    NewRow {
                        digest,
                        state: &st,
                        state_id: id,
                    },
                    |old| seen = Some(old.map(|o| (o.state.to_vec(), o.state_id))),
                )
                .unwrap();
                let was = model.insert(key, (st, id, digest));
                assert_eq!(seen, Some(was.map(|(s, id, _)| (s, id))));
            }
            Op::Remove(k) => {
                let key = key(k);
                let mut seen = None;
                let removed = map.remove(&key, |o| seen = Some(o.state.to_vec())).unwrap();
                let was = model.remove(&key);
                assert_eq!(removed, was.is_some());
                assert_eq!(seen, was.map(|(s, _, _)| s));
            }
            Op::Capture => {
                let rows = model
                    .iter()
                    .map(|(k, (s, _, _))| (k.clone(), s.clone()))
                    .collect();
                captures.push((rows, map.pages()));
            }
            Op::Range(a, b, rev) => {
                let (a, b) = (key(a), key(b));
                let bounds = [
                    (Bound::Included(&a[..]), Bound::Excluded(&b[..])),
                    (Bound::Excluded(&a[..]), Bound::Included(&b[..])),
                    (Bound::Included(&a[..]), Bound::Unbounded),
                    (Bound::Unbounded, Bound::Excluded(&b[..])),
                ];
                for (lo, hi) in bounds {
                    let valid = match (lo, hi) {
                        (Bound::Included(x), Bound::Excluded(y))
                        | (Bound::Excluded(x), Bound::Included(y)) => x < y,
                        _ => true,
                    };
                    let mut want: Vec<Vec<u8>> = if valid {
                        model
                            .range::<[u8], _>((lo, hi))
                            .map(|(k, _)| k.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let mut got: Vec<Vec<u8>> = if rev {
                        map.range(lo, hi).rev().map(|(k, _)| k.to_vec()).collect()
                    } else {
                        map.range(lo, hi).map(|(k, _)| k.to_vec()).collect()
                    };
                    if rev {
                        got.reverse();
                    }
                    want.dedup();
                    assert_eq!(got, want);
                }
            }
            Op::Flush(keep) if paged => {
                store.flush(&mut map);
                map.evict(keep);
                assert!(map.resident_bytes() <= keep);
            }
            Op::Reattach if paged => {
                store.flush(&mut map);
                reattached += 1;
                map = if reattached % 2 == 0 {
                    PageMap::attach(store.clone(), store.index_list(), model.len()).unwrap()
                } else {
                    store.attach_shape(model.len())
                };
                map.set_block_entries(3);
                assert_eq!(map.stats().resident_pages, 0);
                assert_eq!(map.page_count(), store.index_list().len());
            }
            Op::Flush(_) | Op::Reattach => {}
        }
        map.faults_since(0).unwrap();
        if n % 50 == 0 {
            same(&map, &model);
        }
        for (k, (s, id, d)) in model.iter().take(3) {
            let r = map.get(k).unwrap();
            assert_eq!((r.state, r.state_id, r.digest.copied()), (&s[..], *id, *d));
        }
    }
    same(&map, &model);
    // Every capture still shows what the map held when it was taken.
    for (rows, pages) in captures {
        let got: Vec<_> = pages
            .iter()
            .flat_map(|p| {
                page_rows(p)
                    .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, rows);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Few keys: the same rows rewritten, grown, shrunk, purged, reinserted.
    #[test]
    fn hot_keys(ops in ops(40)) {
        run(ops, false);
    }

    /// Many keys: pages split and merge all over the key space.
    #[test]
    fn wide_keys(ops in ops(2000)) {
        run(ops, false);
    }

    /// Few keys, with a page store: pages stored, evicted, faulted back.
    #[test]
    fn hot_keys_paged(ops in ops(40)) {
        run(ops, true);
    }

    /// Many keys, with a page store.
    #[test]
    fn wide_keys_paged(ops in ops(2000)) {
        run(ops, true);
    }
}

/// A sequential load leaves full pages; purging every other row and then
/// the rest merges them back down to nothing.
#[test]
fn sequential_load_fills_pages_and_purges_merge_them() {
    let mut map = PageMap::default();
    let n = 20_000u32;
    for i in 0..n {
        let k = i.to_be_bytes();
        let st = [7u8; 90];
        map.set(
            &k,
            NewRow {
                digest: Some([1; 32]),
                state: &st,
                state_id: u64::from(i),
            },
            |o| assert!(o.is_none()),
        )
        .unwrap();
    }
    map.check().unwrap();
    let per_page = PAGE_BYTES / 94;
    let full = (n as usize).div_ceil(per_page);
    assert_eq!(map.page_count(), full, "sequential load: every page full");
    for i in (0..n).step_by(2) {
        assert!(map.remove(&i.to_be_bytes(), |_| {}).unwrap());
    }
    map.check().unwrap();
    assert_eq!(map.len(), n as usize / 2);
    for i in (1..n).step_by(2) {
        assert!(map.remove(&i.to_be_bytes(), |_| {}).unwrap());
    }
    map.check().unwrap();
    assert_eq!((map.len(), map.page_count()), (0, 0));
    assert!(map.iter().next().is_none());
}

fn loaded(n: u32, value: usize) -> PageMap {
    let mut map = PageMap::default();
    for i in 0..n {
        let st = vec![(i % 251) as u8; value];
        map.set(
            &i.to_be_bytes(),
            NewRow {
                digest: (i % 3 != 0).then_some([i as u8; 32]),
                state: &st,
                state_id: u64::from(i),
            },
            |_| {},
        )
        .unwrap();
    }
    map
}

/// A map attached to its store reads back only the pages a read touches,
/// evicts clean pages down to the budget, never evicts a dirty one, and
/// a page that cannot be read back is an error, not a wrong answer.
#[test]
fn attached_map_faults_in_only_what_it_reads() {
    let (store, map) = Store::loaded(20_000, 90);
    let pages = map.page_count();
    let index = store.index_list();
    assert_eq!(index.len(), pages);
    let mut map = PageMap::attach(store.clone(), index.clone(), 20_000).unwrap();
    assert_eq!(map.resident_bytes(), 0);

    // One get: one page.
    let r = map.get(&12_345u32.to_be_bytes()).unwrap();
    assert_eq!((r.state_id, r.state.len()), (12_345, 90));
    assert_eq!(*store.loads.lock().unwrap(), 1);
    assert_eq!(map.stats().resident_pages, 1);
    // A short range: the pages it spans.
    let lo = 1000u32.to_be_bytes();
    let hi = 1300u32.to_be_bytes();
    let n = map
        .range(Bound::Included(&lo[..]), Bound::Excluded(&hi[..]))
        .count();
    assert_eq!(n, 300);
    assert!(*store.loads.lock().unwrap() <= 1 + 300 / (PAGE_BYTES / 94) + 2);

    // Dirty pages stay whatever the budget; clean ones go.
    map.set(
        &5u32.to_be_bytes(),
        NewRow {
            digest: None,
            state: b"changed",
            state_id: 1,
        },
        |_| {},
    )
    .unwrap();
    map.evict(0);
    assert_eq!(map.stats().resident_pages, 1, "only the dirty page stays");
    assert_eq!(map.get(&5u32.to_be_bytes()).unwrap().state, b"changed");
    store.flush(&mut map);
    map.evict(0);
    assert_eq!(map.resident_bytes(), 0);
    assert_eq!(map.get(&5u32.to_be_bytes()).unwrap().state, b"changed");
    assert_eq!(map.iter().count(), 20_000);
    map.check().unwrap();

    // A lost page: reads report it, writes refuse and change nothing.
    map.evict(0);
    let victim = *store.index.lock().unwrap().values().nth(3).unwrap();
    let fence_key = store.index.lock().unwrap().keys().nth(3).unwrap().to_vec();
    store.pages.lock().unwrap().remove(&victim);
    let mark = map.fault_mark();
    let full = map.iter().count();
    assert!(full < 20_000);
    let e = map.faults_since(mark).unwrap_err();
    assert_eq!(e.code(), "CorruptData");
    // The failed page is not kept: reading it again fails again, and
    // reads of other pages succeed.
    let mark = map.fault_mark();
    assert!(map.get(&fence_key).is_none());
    assert_eq!(map.faults_since(mark).unwrap_err(), e);
    let mark = map.fault_mark();
    assert!(map.get(&0u32.to_be_bytes()).is_some());
    map.faults_since(mark).unwrap();
    let (fence, _) = index[3].clone();
    let err = map
        .set(
            &fence,
            NewRow {
                digest: None,
                state: b"x",
                state_id: 2,
            },
            |_| {},
        )
        .unwrap_err();
    assert_eq!(err.code(), "CorruptData");
    assert_eq!(map.len(), 20_000);
    assert!(!map.is_dirty());
}

/// A map attached from its index's block list reads one block of the
/// index and one page for a get, the blocks a range spans for a range, and
/// the whole index only for a walk of every row; a write that splits and
/// merges pages changes the block list, which the next flush stores, and
/// the map opened from it again holds the same rows. A block that cannot
/// be read back, or reads back other than the list says, is an error.
#[test]
fn a_map_attached_from_its_block_list_reads_the_index_on_demand() {
    let store = Arc::new(Store::default());
    let mut map = loaded(20_000, 90);
    map.set_source(store.clone());
    map.set_block_entries(8);
    store.flush(&mut map);
    let pages = map.page_count();
    let shape = store.shape.lock().unwrap().clone().unwrap();
    assert!(
        shape.blocks.len() >= pages / 8,
        "{} blocks",
        shape.blocks.len()
    );
    assert_eq!(
        shape.blocks.iter().map(|(_, n)| *n as usize).sum::<usize>(),
        pages
    );

    let mut map = store.attach_shape(20_000);
    assert_eq!((map.page_count(), map.resident_bytes()), (pages, 0));
    let before = map.index_bytes();
    let r = map.get(&12_345u32.to_be_bytes()).unwrap();
    assert_eq!((r.state_id, r.state.len()), (12_345, 90));
    assert_eq!(
        *store.index_reads.lock().unwrap(),
        1,
        "one block of the index"
    );
    assert_eq!(*store.loads.lock().unwrap(), 1, "one page");
    assert!(map.index_bytes() > before);
    // A key before a block's first fence: found in the block before.
    let r = map.get(&0u32.to_be_bytes()).unwrap();
    assert_eq!(r.state_id, 0);
    let lo = 1000u32.to_be_bytes();
    let hi = 1300u32.to_be_bytes();
    let got = map
        .range(Bound::Included(&lo[..]), Bound::Excluded(&hi[..]))
        .count();
    assert_eq!(got, 300);
    assert!(*store.index_reads.lock().unwrap() <= 2 + 300 / 8);
    map.faults_since(0).unwrap();

    // Writes that split and merge pages (their blocks read back first).
    for i in (3000..9000u32).step_by(3) {
        assert!(map.remove(&i.to_be_bytes(), |_| {}).unwrap());
    }
    for i in 20_000..21_000u32 {
        let st = vec![7u8; 300];
        let row = NewRow {
            digest: None,
            state: &st,
            state_id: u64::from(i),
        };
        map.set(&(i * 7 % 20_000).to_be_bytes(), row, |_| {})
            .unwrap();
    }
    map.check().unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> = map
        .iter()
        .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
        .collect();
    store.flush(&mut map);
    let again = store.attach_shape(map.len());
    assert_eq!(again.page_count(), map.page_count());
    let got: Vec<(Vec<u8>, Vec<u8>)> = again
        .iter()
        .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
        .collect();
    assert_eq!(got, rows);
    again.check().unwrap();

    // A block that reads back short: reads report it, writes refuse.
    let map = store.attach_shape(rows.len());
    let fence = store.index.lock().unwrap().keys().nth(40).unwrap().clone();
    let id = store.index.lock().unwrap().remove(&fence).unwrap();
    let mark = map.fault_mark();
    let _ = map.get(&fence);
    let err = map.faults_since(mark).unwrap_err();
    assert_eq!(err.code(), "CorruptData", "{err}");
    let mut map = store.attach_shape(rows.len());
    let row = NewRow {
        digest: None,
        state: b"x",
        state_id: 1,
    };
    let err = map.set(&fence, row, |_| {}).unwrap_err();
    assert_eq!(err.code(), "CorruptData", "{err}");
    store.index.lock().unwrap().insert(fence.clone(), id);
    assert_ne!(
        map.get(&fence).unwrap().state,
        b"x",
        "the refused write changed nothing"
    );
}

/// Every truncation and every flipped byte of an encoded page is refused
/// with `CorruptData` (the checksum or the structure checks), never a panic.
#[test]
fn damaged_pages_are_refused() {
    let map = loaded(200, 30);
    let pages = map.pages();
    let bytes = encode_leaf(&pages[0]);
    let back = decode_leaf(&bytes).unwrap();
    assert_eq!(encode_leaf(&back), bytes);
    for cut in 0..bytes.len() {
        assert_eq!(
            decode_leaf(&bytes[..cut]).unwrap_err().code(),
            "CorruptData"
        );
    }
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x41;
        assert_eq!(decode_leaf(&bad).unwrap_err().code(), "CorruptData");
    }
    // Structure checks behind a valid checksum: rows out of order.
    let mut fake = PageMap::default();
    for k in [b"b", b"a"] {
        fake.set(
            k,
            NewRow {
                digest: None,
                state: b"s",
                state_id: 0,
            },
            |_| {},
        )
        .unwrap();
    }
    let mut enc = as_v1(&encode_leaf(&fake.pages()[0]));
    let body = enc.len() - 4;
    let (ka, kb) = (body - 4, body - 2);
    enc.swap(ka, kb);
    let crc = crc32(&enc[..body]);
    enc[body..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(decode_leaf(&enc).unwrap_err().code(), "CorruptData");
    // The same body compressed: the checks run after decompression too.
    let packed = lz4_flex::block::compress(&enc[1..body]);
    assert!(body - 1 < 0x80, "a one-byte length");
    let v2 = with_crc([&[2u8, (body - 1) as u8][..], &packed].concat());
    assert_eq!(decode_leaf(&v2).unwrap_err().code(), "CorruptData");
}

/// A page's bytes as version 1 (uncompressed), whatever it was encoded as.
fn as_v1(page: &[u8]) -> Vec<u8> {
    if page[0] == 1 {
        return page.to_vec();
    }
    let (len, packed) = unpack_v2(page);
    let body = lz4_flex::block::decompress(packed, len).unwrap();
    with_crc([&[1u8][..], &body].concat())
}

/// `bytes` with its trailing CRC recomputed.
fn with_crc(mut bytes: Vec<u8>) -> Vec<u8> {
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// A compressed page (version 2): `(body length, LZ4 block)`.
fn unpack_v2(page: &[u8]) -> (usize, &[u8]) {
    assert_eq!(page[0], 2);
    let (mut len, mut at, mut shift) = (0usize, 1, 0);
    loop {
        let b = page[at];
        at += 1;
        len |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 {
            break;
        }
    }
    (len, &page[at..page.len() - 4])
}

/// Pages whose rows repeat themselves are stored LZ4-compressed (version
/// 2); a version-1 page (what directory format 6 wrote) still decodes to
/// the same rows; a page compression would not shrink stays version 1;
/// and a compressed page that lies about its length or holds a broken
/// block is `CorruptData` with nothing reserved for the length it claims.
#[test]
fn pages_are_compressed_and_version_1_pages_still_read() {
    let page = &loaded(200, 30).pages()[0];
    let v2 = encode_leaf(page);
    let (len, packed) = unpack_v2(&v2);
    let v1 = as_v1(&v2);
    assert!(v2.len() * 2 < v1.len(), "{} vs {}", v2.len(), v1.len());
    let from_v1 = decode_leaf(&v1).unwrap();
    let rows = |leaf| {
        page_rows(leaf)
            .map(|(k, r)| (k.to_vec(), r.digest.copied(), r.state.to_vec(), r.state_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&from_v1), rows(page));
    assert_eq!(from_v1.len(), 200.min(page.len()));
    assert_eq!(encode_leaf(&from_v1), v2, "stored again, it is compressed");

    // Rows of bytes no run repeats: compression would not shrink the page.
    let mut noise = PageMap::default();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise_bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    };
    for i in 0u32..40 {
        let st = noise_bytes(64);
        let digest: [u8; 32] = noise_bytes(32).try_into().unwrap();
        let id = u64::from_le_bytes(noise_bytes(8).try_into().unwrap());
        let row = NewRow {
            digest: Some(digest),
            state: &st,
            state_id: id,
        };
        noise.set(&i.to_be_bytes(), row, |_| {}).unwrap();
    }
    let plain = encode_leaf(&noise.pages()[0]);
    assert_eq!(plain[0], 1);
    decode_leaf(&plain).unwrap();

    // Lengths that do not match the block, or that no block could reach.
    let header = 1 + (v2.len() - 4 - packed.len() - 1);
    for claim in [len - 1, len + 1, packed.len() * 255 + 1, 1 << 40] {
        let mut bad = vec![2u8];
        let mut c = claim as u64;
        while c >= 0x80 {
            bad.push(c as u8 | 0x80);
            c >>= 7;
        }
        bad.push(c as u8);
        bad.extend_from_slice(packed);
        let err = decode_leaf(&with_crc(bad)).unwrap_err();
        assert_eq!(err.code(), "CorruptData", "claim {claim}: {err}");
    }
    // A block cut short or scrambled behind a valid checksum.
    let cut = with_crc(v2[..v2.len() - 4 - 7].to_vec());
    assert_eq!(decode_leaf(&cut).unwrap_err().code(), "CorruptData");
    let mut scrambled = v2[..v2.len() - 4].to_vec();
    for b in &mut scrambled[header..] {
        *b = b.rotate_left(3) ^ 0x5a;
    }
    assert_eq!(
        decode_leaf(&with_crc(scrambled)).unwrap_err().code(),
        "CorruptData"
    );
}

/// CRC-32 (IEEE), as the page encoding uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Evicted pages' buffers are kept (up to the spare limit) and the next
/// faults decode into them; the resident count stays exact throughout.
#[test]
fn evicted_buffers_are_reused_by_the_next_faults() {
    let (store, _) = Store::loaded(20_000, 90);
    let mut map = PageMap::attach(store.clone(), store.index_list(), 20_000).unwrap();
    assert_eq!(map.iter().count(), 20_000);
    let all = map.resident_bytes();
    assert!(all > 0 && map.faulted_bytes() == all);
    // Evict everything, keeping half of it as spare buffers.
    map.evict_keeping(0, all / 2);
    assert_eq!(map.resident_bytes(), 0);
    let spare = map.spare_bytes();
    assert!(spare > 0 && spare <= all / 2, "{spare} of {all}");
    // A fault takes a spare buffer: spare goes down by what became resident
    // (the buffer may grow to fit the page, never shrink).
    assert!(map.get(&12_345u32.to_be_bytes()).is_some());
    let page = map.resident_bytes();
    assert!(page > 0);
    assert!(map.spare_bytes() < spare && spare - map.spare_bytes() <= page);
    // A smaller spare limit frees the rest.
    map.evict_keeping(usize::MAX, 0);
    assert_eq!(map.spare_bytes(), 0);
    assert_eq!(map.resident_bytes(), page);
    // The count matches the pages held (the check reads every page).
    map.check().unwrap();
}

/// Decoding into a page's buffers that held another page gives what a
/// fresh decode gives; a damaged page leaves the buffers holding no row.
#[test]
fn decoding_into_used_buffers_matches_a_fresh_decode() {
    use tablesync::engine::page_codec::decode_leaf_into;
    let small = loaded(40, 10).pages()[0].clone();
    let big = loaded(2000, 200).pages()[0].clone();
    let mut leaf = Leaf::default();
    for page in [&big, &small, &big, &small] {
        let bytes = encode_leaf(page);
        decode_leaf_into(&bytes, &mut leaf).unwrap();
        assert_eq!(encode_leaf(&leaf), bytes);
        assert_eq!(
            page_rows(&leaf)
                .map(|(k, _)| k.to_vec())
                .collect::<Vec<_>>(),
            page_rows(page).map(|(k, _)| k.to_vec()).collect::<Vec<_>>()
        );
    }
    let mut bad = encode_leaf(&big);
    bad[5] ^= 1;
    assert_eq!(
        decode_leaf_into(&bad, &mut leaf).unwrap_err().code(),
        "CorruptData"
    );
    assert!(leaf.is_empty());
}

/// A page that changed only in some rows is stored as those rows' entries
/// (the page itself stays as stored); a fault applies them, after an
/// eviction and after re-attaching from the store alone. Past
/// `ROW_ENTRIES_MAX` entries, or on a structural change, the page is
/// stored whole again and its entries go.
#[test]
fn changed_rows_are_stored_as_entries_and_faulted_back() {
    use tablesync::engine::pages::ROW_ENTRIES_MAX;
    let (store, mut map) = Store::loaded(20_000, 90);
    let set = |map: &mut PageMap, k: u32, state: &[u8]| {
        map.set(
            &k.to_be_bytes(),
            NewRow {
                digest: Some([7; 32]),
                state,
                state_id: 99,
            },
            |_| {},
        )
        .unwrap();
    };
    // Rows 100 and 101 replaced (one page), 5,000 removed, 7,000.5 added
    // (a key between two rows: 7000 ‖ 00).
    set(&mut map, 100, b"new 100");
    set(&mut map, 101, b"new 101");
    map.remove(&5_000u32.to_be_bytes(), |_| {}).unwrap();
    let between = [&7_000u32.to_be_bytes()[..], &[0]].concat();
    map.set(
        &between,
        NewRow {
            digest: None,
            state: b"between",
            state_id: 5,
        },
        |_| {},
    )
    .unwrap();
    let flush = map.flush();
    assert!(flush.pages.is_empty(), "no page stored whole");
    assert_eq!(flush.rows.len(), 3);
    assert_eq!(flush.rows.iter().map(|p| p.rows.len()).sum::<usize>(), 4);
    store.flush(&mut map);
    let check = |map: &PageMap| {
        assert_eq!(map.get(&100u32.to_be_bytes()).unwrap().state, b"new 100");
        assert_eq!(map.get(&101u32.to_be_bytes()).unwrap().state, b"new 101");
        assert!(map.get(&5_000u32.to_be_bytes()).is_none());
        let b = map.get(&between).unwrap();
        assert_eq!((b.state, b.state_id, b.digest), (&b"between"[..], 5, None));
        assert_eq!(map.iter().count(), 20_000);
        map.check().unwrap();
    };
    map.evict(0);
    assert_eq!(map.resident_bytes(), 0);
    check(&map);
    let index = store.index_list();
    let with_entries: std::collections::BTreeSet<u64> =
        store.rows.lock().unwrap().keys().map(|(p, _)| *p).collect();
    assert_eq!(with_entries.len(), 3);
    let mut map = PageMap::attach(store.clone(), index, 20_000).unwrap();
    check(&map);

    // More changed rows in the page of row 100 than it may keep as
    // entries: it is stored whole, and its entries go.
    for k in 102..102 + ROW_ENTRIES_MAX as u32 {
        set(&mut map, k, b"again");
    }
    let flush = map.flush();
    assert_eq!((flush.pages.len(), flush.cleared.len()), (1, 1));
    let id = flush.cleared[0];
    store.flush(&mut map);
    assert!(store.rows.lock().unwrap().keys().all(|(p, _)| *p != id));
    map.evict(0);
    check(&map);
    assert_eq!(map.get(&105u32.to_be_bytes()).unwrap().state, b"again");
}
