//! The rows of a table as a page-structured ordered index: leaf pages that
//! hold their rows' keys and encoded states inline, back to back in key
//! order (one buffer per page, no heap block per row), under an ordered
//! index of the pages' lower fences. See docs/ENGINE.md "Rows in pages".
//!
//! A leaf holds about [`PAGE_BYTES`] of keys and states: a row that does
//! not fit starts a new page (after a sequential load every page is full),
//! a page grown past the limit splits at its byte midpoint, and a page
//! that purges left below a quarter merges into a neighbour. A row larger
//! than a page has a page to itself. Pages are shared (`Arc`) and copied
//! on write, so a checkpoint capture holds pages, not row copies: a page
//! is copied only when a capture still holds it and a write lands on it.

pub use super::page_index::IndexShape;
use super::page_index::{BlockLoader, Index};
use crate::codec::row_state::decode_row_state;
use crate::model::error::{Error, Result};
use crate::model::row_state::RowState;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Bytes of keys and states a leaf page holds before it splits.
pub const PAGE_BYTES: usize = 8 * 1024;

/// Row entries a stored page may have (rows changed since it was last
/// stored whole, stored one by one by checkpoints) before a checkpoint
/// stores it whole again: a checkpoint costs the rows that changed, and a
/// fault applies at most this many entries to the page it reads.
pub const ROW_ENTRIES_MAX: usize = 8;

/// A row as held, borrowed from its page: its digest (if it exists), its
/// encoded state and its state id.
#[derive(Clone, Copy, Debug)]
pub struct StoredRow<'a> {
    /// Row digest; `None` when the row does not exist (a tombstone).
    pub digest: Option<&'a [u8; 32]>,
    /// Encoded [`RowState`] (FORMAT.md §5).
    pub state: &'a [u8],
    /// State id of the key and `state` (FORMAT.md §13.1), kept so writes
    /// and reconcile need not rehash stored states.
    pub state_id: u64,
}

impl StoredRow<'_> {
    /// Decode the state. Stored bytes were produced by this process, so a
    /// failure means memory corruption; it is still reported, not panicked on.
    pub fn decode(&self) -> Result<RowState> {
        decode_row_state(self.state)
    }
}

/// What [`PageMap::set`] stores for a key.
#[derive(Clone, Copy, Debug)]
pub struct NewRow<'a> {
    /// Row digest (`None`: a tombstone).
    pub digest: Option<[u8; 32]>,
    /// Encoded state.
    pub state: &'a [u8],
    /// State id.
    pub state_id: u64,
}

/// What [`PageMap::upsert`] stores: [`NewRow`] with its state owned.
#[derive(Clone, Debug)]
pub struct OwnedRow {
    /// Row digest (`None`: a tombstone).
    pub digest: Option<[u8; 32]>,
    /// Encoded state.
    pub state: Vec<u8>,
    /// State id.
    pub state_id: u64,
}

impl OwnedRow {
    fn as_new(&self) -> NewRow<'_> {
        NewRow {
            digest: self.digest,
            state: &self.state,
            state_id: self.state_id,
        }
    }
}

/// Bit of [`Slot::key_len`] set when the row exists (has a digest).
const EXISTS: u32 = 1 << 31;

/// One row's place in its page: where its bytes end, its key's length
/// (and whether it exists), its state id, and the 8 bytes of its key after
/// the prefix every key of the page shares (so a search compares integers
/// and touches the data only on a tie). 24 bytes.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Slot {
    /// The key's 8 bytes after the page's shared prefix, big-endian,
    /// zero-padded.
    pub(super) prefix: u64,
    /// End of the row's bytes (key then state) in the page's data.
    pub(super) end: u32,
    /// Key length, with [`EXISTS`].
    pub(super) key_len: u32,
    /// State id.
    pub(super) id: u64,
}

/// A key's first 8 bytes as a big-endian integer, zero-padded: where two
/// prefixes differ they order as their keys do; where they are equal the
/// keys must be compared.
pub(super) fn prefix(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

impl Slot {
    /// The [`Slot::key_len`] field for a key of `len` bytes.
    pub(super) fn key_field(len: usize, exists: bool) -> u32 {
        len as u32 | if exists { EXISTS } else { 0 }
    }
    pub(super) fn key_len(&self) -> usize {
        (self.key_len & !EXISTS) as usize
    }
    pub(super) fn exists(&self) -> bool {
        self.key_len & EXISTS != 0
    }
    fn state_id(&self) -> u64 {
        self.id
    }
}

/// Reserve room for `extra` more elements, growing by a quarter at a time
/// (a page's buffers track what it holds, not powers of two).
fn grow<T>(v: &mut Vec<T>, extra: usize) {
    if v.capacity() - v.len() < extra {
        v.reserve_exact(extra.max(v.len() / 4 + 4));
    }
}

/// Length of the longest common prefix of two keys.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A vector holding `items`, sized to them plus a quarter.
fn sized<T: Clone>(items: &[T]) -> Vec<T> {
    let mut v = Vec::with_capacity(items.len() + items.len() / 4);
    v.extend_from_slice(items);
    v
}

/// A leaf page: rows in key order, their keys and states back to back.
#[derive(Debug, Default)]
pub struct Leaf {
    /// Length of a prefix every key of the page shares (at most their
    /// longest common prefix; slots hold the bytes after it).
    pub(super) shared: usize,
    pub(super) data: Vec<u8>,
    pub(super) slots: Vec<Slot>,
    /// Row digests, one per slot (zero for a tombstone).
    pub(super) digests: Vec<[u8; 32]>,
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Leaf {
            shared: self.shared,
            data: sized(&self.data),
            slots: sized(&self.slots),
            digests: sized(&self.digests),
        }
    }
}

impl Leaf {
    /// Bytes the page's buffers hold allocated.
    pub fn allocated(&self) -> usize {
        self.data.capacity()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.digests.capacity() * 32
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the page holds no row.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(super) fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.slots[i - 1].end as usize
        }
    }

    /// The key of row `i`.
    pub fn key(&self, i: usize) -> &[u8] {
        let s = self.start(i);
        &self.data[s..s + self.slots[i].key_len()]
    }

    /// Row `i`'s key and stored row.
    pub fn entry(&self, i: usize) -> (&[u8], StoredRow<'_>) {
        let slot = &self.slots[i];
        let s = self.start(i);
        let k = s + slot.key_len();
        let row = StoredRow {
            digest: slot.exists().then(|| &self.digests[i]),
            state: &self.data[k..slot.end as usize],
            state_id: slot.state_id(),
        };
        (&self.data[s..k], row)
    }

    /// Index of `key`, or where it would go.
    fn search(&self, key: &[u8]) -> std::result::Result<usize, usize> {
        if self.is_empty() {
            return Err(0);
        }
        // Outside the shared prefix the key sorts before or after them all.
        let n = self.shared.min(key.len());
        match key[..n].cmp(&self.key(0)[..n]) {
            std::cmp::Ordering::Less => return Err(0),
            std::cmp::Ordering::Greater => return Err(self.len()),
            std::cmp::Ordering::Equal if key.len() < self.shared => return Err(0),
            std::cmp::Ordering::Equal => {}
        }
        let p = prefix(&key[self.shared..]);
        let (mut lo, mut hi) = (0, self.slots.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let order = match self.slots[mid].prefix.cmp(&p) {
                std::cmp::Ordering::Equal => self.key(mid).cmp(key),
                o => o,
            };
            match order {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// First index whose key is at or after `b` as a lower bound.
    fn lower(&self, b: Bound<&[u8]>) -> usize {
        match b {
            Bound::Unbounded => 0,
            Bound::Included(k) => self.search(k).unwrap_or_else(|i| i),
            Bound::Excluded(k) => self.search(k).map_or_else(|i| i, |i| i + 1),
        }
    }

    /// First index past `b` as an upper bound.
    fn upper(&self, b: Bound<&[u8]>) -> usize {
        match b {
            Bound::Unbounded => self.len(),
            Bound::Included(k) => self.search(k).map_or_else(|i| i, |i| i + 1),
            Bound::Excluded(k) => self.search(k).unwrap_or_else(|i| i),
        }
    }

    fn slot_for(&self, key: &[u8], end: usize, row: &NewRow<'_>) -> Slot {
        Slot {
            prefix: prefix(&key[self.shared..]),
            end: end as u32,
            key_len: Slot::key_field(key.len(), row.digest.is_some()),
            id: row.state_id,
        }
    }

    /// Make the shared prefix at most `len` bytes (re-deriving the slots'
    /// prefixes when it shrinks).
    fn narrow(&mut self, len: usize) {
        if len >= self.shared {
            return;
        }
        self.shared = len;
        self.reprefix(0);
    }

    /// Re-derive the prefixes of slots `from..` from the shared prefix.
    fn reprefix(&mut self, from: usize) {
        for i in from..self.len() {
            let p = prefix(&self.key(i)[self.shared..]);
            self.slots[i].prefix = p;
        }
    }

    /// Put `row` under `key` at index `i` (a new key).
    fn insert(&mut self, i: usize, key: &[u8], row: &NewRow<'_>) {
        if self.is_empty() {
            self.shared = key.len();
        } else {
            let common = common_prefix(key, self.key(0));
            self.narrow(common);
        }
        let at = self.start(i);
        let add = key.len() + row.state.len();
        grow(&mut self.data, add);
        grow(&mut self.slots, 1);
        grow(&mut self.digests, 1);
        self.data
            .splice(at..at, key.iter().chain(row.state).copied());
        for s in &mut self.slots[i..] {
            s.end += add as u32;
        }
        let slot = self.slot_for(key, at + add, row);
        self.slots.insert(i, slot);
        self.digests.insert(i, row.digest.unwrap_or_default());
    }

    /// Replace row `i`'s state (its key stays).
    fn replace(&mut self, i: usize, row: &NewRow<'_>) {
        let slot = self.slots[i];
        let from = self.start(i) + slot.key_len();
        let to = slot.end as usize;
        let new_len = row.state.len();
        if new_len == to - from {
            self.data[from..to].copy_from_slice(row.state);
        } else {
            if new_len > to - from {
                grow(&mut self.data, new_len - (to - from));
            }
            self.data.splice(from..to, row.state.iter().copied());
            let shift = new_len as i64 - (to - from) as i64;
            for s in &mut self.slots[i + 1..] {
                s.end = (i64::from(s.end) + shift) as u32;
            }
        }
        self.slots[i] = Slot {
            end: (from + new_len) as u32,
            key_len: Slot::key_field(slot.key_len(), row.digest.is_some()),
            id: row.state_id,
            ..slot
        };
        self.digests[i] = row.digest.unwrap_or_default();
    }

    /// Take row `i` out.
    fn remove(&mut self, i: usize) {
        let from = self.start(i);
        let to = self.slots[i].end as usize;
        self.data.drain(from..to);
        let gone = (to - from) as u32;
        for s in &mut self.slots[i + 1..] {
            s.end -= gone;
        }
        self.slots.remove(i);
        self.digests.remove(i);
    }

    /// Move rows `i..` into a new page.
    fn split_off(&mut self, i: usize) -> Leaf {
        let base = self.start(i);
        let mut right = Leaf {
            shared: self.shared,
            data: sized(&self.data[base..]),
            slots: sized(&self.slots[i..]),
            digests: sized(&self.digests[i..]),
        };
        for s in &mut right.slots {
            s.end -= base as u32;
        }
        self.data.truncate(base);
        self.slots.truncate(i);
        self.digests.truncate(i);
        self.data.shrink_to(base + base / 4);
        self.slots.shrink_to(i + i / 4);
        self.digests.shrink_to(i + i / 4);
        right
    }

    /// Append every row of `right` (whose keys all sort after ours).
    fn append(&mut self, right: &Leaf) {
        if right.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = right.clone();
            return;
        }
        let common = common_prefix(self.key(0), right.key(0))
            .min(self.shared)
            .min(right.shared);
        self.narrow(common);
        let base = self.data.len() as u32;
        grow(&mut self.data, right.data.len());
        grow(&mut self.slots, right.len());
        grow(&mut self.digests, right.len());
        self.data.extend_from_slice(&right.data);
        self.slots.extend(right.slots.iter().map(|s| Slot {
            end: s.end + base,
            ..*s
        }));
        self.digests.extend_from_slice(&right.digests);
        if right.shared != common {
            self.reprefix(self.len() - right.len());
        }
    }

    /// The index of the row where a page over [`PAGE_BYTES`] splits: the
    /// first row ending past half its bytes, keeping both halves non-empty.
    fn split_point(&self) -> usize {
        let half = (self.data.len() / 2) as u32;
        let i = self.slots.partition_point(|s| s.end <= half);
        i.clamp(1, self.len() - 1)
    }
}

/// What [`PageSource::rows`] hands each row entry to: (row key, entry).
pub type RowEntries<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> Result<()>;

/// Where pages that are not in memory are read back from: a durable
/// region's page store. A page is loaded as its encoding
/// ([`super::page_codec`]) by the id it was stored under.
pub trait PageSource: Send + Sync + std::fmt::Debug {
    /// The encoding of page `id` as last stored.
    fn load(&self, id: u64) -> Result<Vec<u8>>;
    /// Hand the encoding of page `id` to `f` (what a page fault decodes):
    /// a source that can lend the stored bytes without copying them
    /// overrides this; `f`'s error is returned as is.
    fn read(&self, id: u64, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        f(&self.load(id)?)
    }
    /// A source that keeps reading the pages as stored now, whatever is
    /// stored later (`None`: this source never changes what it returns).
    /// A map shared with a read view pins its source when the writer's
    /// copy diverges from it (see [`PageMap`]'s `Clone`), so the view
    /// never faults in a page a later checkpoint rewrote.
    fn pinned(&self) -> Option<Arc<dyn PageSource>> {
        None
    }
    /// Hand each row entry stored for page `id` to `f` as (row key,
    /// entry), in key order: rows that changed since the page was stored
    /// whole ([`super::page_codec::encode_row_entry`]). A source that
    /// stores none has none.
    fn rows(&self, id: u64, f: RowEntries<'_>) -> Result<()> {
        let _ = (id, f);
        Ok(())
    }
    /// Hand each stored index entry with a fence in `[from, to)` (`to`
    /// `None`: to the end) to `f` as (fence, page id), in fence order:
    /// what a block of the index is read back from
    /// ([`PageMap::attach_shape`]). A source without a stored index has
    /// none to read.
    fn index(&self, from: &[u8], to: Option<&[u8]>, f: IndexEntries<'_>) -> Result<()> {
        let _ = (from, to, f);
        Err(Error::corrupt(
            "this page store keeps no index to read back",
        ))
    }
}

/// What [`PageSource::index`] hands each index entry to: (fence, page id).
pub type IndexEntries<'a> = &'a mut dyn FnMut(&[u8], u64) -> Result<()>;

/// An empty page, lent out for a page that could not be read back (the
/// read's error is recorded; see [`PageMap::faults_since`]).
static NO_LEAF: Leaf = Leaf {
    shared: 0,
    data: Vec::new(),
    slots: Vec::new(),
    digests: Vec::new(),
};

/// A page as the index holds it: the leaf when it is in memory, the id it
/// is stored under, and whether it changed since it was last stored.
#[derive(Debug)]
struct PageRef {
    /// The page, when resident. A read under `&self` faults it in here; an
    /// eviction (under `&mut`) takes it out.
    leaf: OnceLock<Arc<Leaf>>,
    /// The page's id in the page store.
    id: u64,
    /// Whether the page differs from its stored copy (always true for a
    /// page never stored): a dirty page is never evicted.
    dirty: bool,
    /// Of a dirty page: the keys of the rows that changed since it was
    /// stored, when nothing else changed (the next flush stores their row
    /// entries); `None`: it is stored whole.
    rows: Option<Vec<Box<[u8]>>>,
    /// Row entries stored for the page since it was stored whole, as
    /// counted when it was last read back (so exact while it is resident).
    entries: AtomicU32,
    /// Set by every read of the page, cleared by the eviction clock.
    used: AtomicBool,
}

impl Clone for PageRef {
    fn clone(&self) -> Self {
        PageRef {
            leaf: self.leaf.clone(),
            id: self.id,
            dirty: self.dirty,
            rows: self.rows.clone(),
            entries: AtomicU32::new(self.entries.load(Ordering::Relaxed)),
            used: AtomicBool::new(self.used.load(Ordering::Relaxed)),
        }
    }
}

impl PageRef {
    /// A page as stored, not in memory.
    fn stored(id: u64) -> PageRef {
        PageRef {
            leaf: OnceLock::new(),
            id,
            dirty: false,
            rows: None,
            entries: AtomicU32::new(0),
            used: AtomicBool::new(false),
        }
    }

    fn new(leaf: Leaf, id: u64) -> PageRef {
        PageRef {
            leaf: OnceLock::from(Arc::new(leaf)),
            id,
            dirty: true,
            rows: None,
            entries: AtomicU32::new(0),
            used: AtomicBool::new(true),
        }
    }

    /// The leaf, read back from `source` if it is not resident.
    fn resident(&mut self, source: &Source, cache: &Cache) -> Result<&mut Arc<Leaf>> {
        if self.leaf.get().is_none() {
            let leaf = load(source, self.id, &self.entries, cache.take_spare())?;
            cache.faulted(leaf.allocated());
            let _ = self.leaf.set(leaf);
        }
        self.leaf
            .get_mut()
            .ok_or_else(|| Error::corrupt(format!("page {} not resident", self.id)))
    }

    /// Change the resident leaf with `f` (resident, unshared and marked
    /// dirty first), keeping `cache`'s count of resident bytes.
    fn write<T>(
        &mut self,
        source: &Source,
        cache: &Cache,
        f: impl FnOnce(&mut Leaf) -> T,
    ) -> Result<T> {
        let current = self.resident(source, cache)?;
        let before = current.allocated();
        self.dirty = true;
        self.rows = None;
        let leaf = Arc::make_mut(
            self.leaf
                .get_mut()
                .ok_or_else(|| Error::corrupt(format!("page {} not resident", self.id)))?,
        );
        let out = f(leaf);
        cache.resized(before, leaf.allocated());
        Ok(out)
    }

    /// [`write`](Self::write) that changes only the row under `key`: with
    /// a page store, the next flush may store that row's entry rather than
    /// the page (while the page has at most [`ROW_ENTRIES_MAX`] of them).
    fn write_row<T>(
        &mut self,
        source: &Source,
        cache: &Cache,
        key: &[u8],
        f: impl FnOnce(&mut Leaf) -> T,
    ) -> Result<T> {
        let rows = if self.dirty {
            self.rows.take()
        } else {
            Some(Vec::new())
        };
        let out = self.write(source, cache, f)?;
        self.rows = rows
            .filter(|_| source.source.is_some())
            .and_then(|mut keys| {
                if !keys.iter().any(|k| **k == *key) {
                    keys.push(key.into());
                }
                let stored = self.entries.load(Ordering::Relaxed) as usize;
                (stored + keys.len() <= ROW_ENTRIES_MAX).then_some(keys)
            });
        Ok(out)
    }
}

/// What a map's resident pages take, and buffers of evicted pages kept
/// for the next faults (so a steady stream of faults and evictions neither
/// allocates nor frees: an allocator that returns freed memory to the OS
/// would otherwise zero fresh pages on every fault).
#[derive(Debug, Default)]
struct Cache {
    /// Bytes the resident pages' buffers hold allocated
    /// ([`Leaf::allocated`] summed; a page shared with a copy of the map
    /// counts in both).
    resident: AtomicUsize,
    /// Bytes of pages read back from the source so far (ever growing).
    faulted: AtomicUsize,
    /// Evicted pages' buffers (each unshared), with their bytes.
    spare: Mutex<(Vec<Arc<Leaf>>, usize)>,
}

impl Clone for Cache {
    fn clone(&self) -> Self {
        Cache {
            resident: AtomicUsize::new(self.resident.load(Ordering::Relaxed)),
            // Kept, so a host comparing it with an earlier reading (when a
            // trim is due) never sees it go back.
            faulted: AtomicUsize::new(self.faulted.load(Ordering::Relaxed)),
            spare: Mutex::default(),
        }
    }
}

impl Cache {
    /// A page of `bytes` was read back and is resident.
    fn faulted(&self, bytes: usize) {
        self.resident.fetch_add(bytes, Ordering::Relaxed);
        self.faulted.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A resident page went from `before` to `after` bytes.
    fn resized(&self, before: usize, after: usize) {
        if after >= before {
            self.resident.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.resident.fetch_sub(before - after, Ordering::Relaxed);
        }
    }

    fn spare(&self) -> std::sync::MutexGuard<'_, (Vec<Arc<Leaf>>, usize)> {
        self.spare
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An evicted page's buffers to decode a fault into, or a new page.
    fn take_spare(&self) -> Arc<Leaf> {
        let mut spare = self.spare();
        match spare.0.pop() {
            Some(leaf) => {
                spare.1 -= leaf.allocated();
                leaf
            }
            None => Arc::default(),
        }
    }
}

/// Where a map's pages are read back from, and how many were.
#[derive(Debug, Default)]
struct Source {
    source: Option<Arc<dyn PageSource>>,
    /// Set when a copy of the map was made for a writer (the map is a
    /// read view's from then on): pages are read as stored at that moment.
    pin: OnceLock<Arc<dyn PageSource>>,
    loads: AtomicU64,
}

impl Clone for Source {
    /// The copy follows the store; this one is pinned to what is stored
    /// now (a map is copied when a writer changes one a read view shares:
    /// the writer gets the copy, the view keeps this map, whose pages not
    /// in memory are as stored now — pages change only by a write, which
    /// copies first, and a checkpoint rewrites only pages a write changed).
    fn clone(&self) -> Self {
        if let Some(pinned) = self.source.as_ref().and_then(|s| s.pinned()) {
            let _ = self.pin.set(pinned);
        }
        Source {
            source: self.source.clone(),
            pin: OnceLock::new(),
            loads: AtomicU64::new(0),
        }
    }
}

/// Read page `id` back from `source`, decoded into `into`'s buffers
/// (an unshared page: a spare one, or a new one), with the row entries
/// stored for it since applied (their number goes to `entries`).
fn load(source: &Source, id: u64, entries: &AtomicU32, mut into: Arc<Leaf>) -> Result<Arc<Leaf>> {
    source.loads.fetch_add(1, Ordering::Relaxed);
    let source = source.pin.get().or(source.source.as_ref()).ok_or_else(|| {
        Error::corrupt(format!(
            "page {id} is not in memory and there is no page store"
        ))
    })?;
    if Arc::get_mut(&mut into).is_none() {
        into = Arc::default();
    }
    let leaf = Arc::get_mut(&mut into)
        .ok_or_else(|| Error::corrupt(format!("page {id}: no buffer to read it into")))?;
    source.read(id, &mut |bytes| {
        super::page_codec::decode_leaf_into(bytes, leaf)
            .map_err(|e| Error::corrupt(format!("page {id}: {}", e.message())))
    })?;
    let mut n = 0;
    source.rows(id, &mut |key, bytes| {
        let row = super::page_codec::decode_row_entry(key, bytes)
            .map_err(|e| Error::corrupt(format!("page {id}: {}", e.message())))?;
        match (leaf.search(key), row) {
            (Ok(i), Some(r)) => leaf.replace(i, &r),
            (Err(i), Some(r)) => leaf.insert(i, key, &r),
            (Ok(i), None) => leaf.remove(i),
            (Err(_), None) => {}
        }
        n += 1;
        Ok(())
    })?;
    entries.store(n, Ordering::Relaxed);
    Ok(into)
}

/// Failed page or index reads under `&self`: how many, and the last error.
type Faults = Mutex<(u64, Option<Error>)>;

/// Record a read under `&self` that failed.
fn record_fault(fault: &Faults, e: Error) {
    let mut f = fault
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *f = (f.0 + 1, Some(e));
}

/// Reads blocks of a map's index back from its source.
#[derive(Clone, Copy)]
struct IndexLoader<'a> {
    source: &'a Source,
    fault: &'a Faults,
}

impl<'a> IndexLoader<'a> {
    /// A loader over a map's source and fault record (taken as fields, so
    /// the map's index can be borrowed mutably beside it).
    fn of(source: &'a Source, fault: &'a Faults) -> IndexLoader<'a> {
        IndexLoader { source, fault }
    }
}

impl BlockLoader<PageRef> for IndexLoader<'_> {
    fn load(&self, from: &[u8], to: Option<&[u8]>) -> Result<BTreeMap<Box<[u8]>, PageRef>> {
        let source = self
            .source
            .pin
            .get()
            .or(self.source.source.as_ref())
            .ok_or_else(|| {
                Error::corrupt(
                    "a block of the page index is not in memory and there is no page store",
                )
            })?;
        let mut entries: Vec<(Box<[u8]>, PageRef)> = Vec::new();
        source.index(from, to, &mut |fence, id| {
            if entries.last().is_some_and(|(last, _)| **last >= *fence) {
                return Err(Error::corrupt("page index: fences out of order"));
            }
            entries.push((fence.into(), PageRef::stored(id)));
            Ok(())
        })?;
        // Built from a sorted list in one go, the block's nodes are full.
        Ok(entries.into_iter().collect())
    }

    fn failed(&self, e: Error) {
        record_fault(self.fault, e);
    }
}

/// The rows of a table: leaf pages under an ordered index of their lower
/// fences. The first page's fence is the empty key; every other page's is
/// the first key it held when it was split off, and it holds the keys from
/// its fence up to the next page's.
///
/// With a [`PageSource`] attached ([`PageMap::attach`]) pages need not be
/// in memory: a read faults a page in (under `&self`), a write dirties it,
/// [`PageMap::flush`] hands out the dirty pages for storing and
/// [`PageMap::evict`] drops clean pages the clock did not see used.
#[derive(Debug, Default)]
pub struct PageMap {
    /// The pages by fence, in blocks read back on demand
    /// ([`super::page_index`]).
    index: Index<PageRef>,
    len: usize,
    /// The id the next new page gets.
    next_id: u64,
    /// Where non-resident pages are read back from (none: all resident).
    source: Source,
    /// Pages removed (merged away) since the last flush: fence and id.
    dropped: Vec<(Box<[u8]>, u64)>,
    /// With a page store: the fences of pages that became dirty since the
    /// last flush (some may have merged away since), so a flush costs the
    /// pages that changed, not the table.
    dirtied: Vec<Box<[u8]>>,
    /// Fence where the eviction clock resumes.
    hand: Box<[u8]>,
    /// Page reads under `&self` that failed: how many, and the last error.
    fault: Faults,
    /// Resident bytes and spare buffers.
    cache: Cache,
}

impl Clone for PageMap {
    fn clone(&self) -> Self {
        PageMap {
            index: self.index.clone(),
            len: self.len,
            next_id: self.next_id,
            source: self.source.clone(),
            dropped: self.dropped.clone(),
            dirtied: self.dirtied.clone(),
            hand: self.hand.clone(),
            fault: Mutex::new((0, None)),
            cache: self.cache.clone(),
        }
    }
}

/// What a [`PageMap`] holds and what it takes (docs/ENGINE.md figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    /// Rows held.
    pub rows: usize,
    /// Leaf pages.
    pub pages: usize,
    /// Pages in memory (all of them without a page store).
    pub resident_pages: usize,
    /// Key bytes of the resident pages.
    pub key_bytes: usize,
    /// Encoded state bytes of the resident pages.
    pub state_bytes: usize,
    /// Bytes the resident pages' buffers hold allocated (data, slots, digests).
    pub allocated: usize,
}

/// Where a range starts or ends: the page's fence and the row index in
/// it (`None`: the table's first or last page, whole).
type RangeEnd<'a> = Option<(&'a [u8], usize)>;

/// A row of a capture: the page it sits in (shared) and its index there.
pub type SharedRow = (Arc<Leaf>, u32);

/// The dirty pages of a [`PageMap`], encoded for storing, and what left
/// its index ([`PageMap::flush`]).
#[derive(Clone, Debug, Default)]
pub struct PageFlush {
    /// Pages to store whole: fence, id and encoding.
    pub pages: Vec<(Box<[u8]>, u64, Vec<u8>)>,
    /// Of `pages`, those that had row entries stored: the store removes
    /// them (the page now holds their rows).
    pub cleared: Vec<u64>,
    /// Pages that changed only in some rows: their row entries to store
    /// (the page stays as stored).
    pub rows: Vec<PageRows>,
    /// Pages removed: fence and id (a fence may come back with a new page,
    /// listed in `pages`); their row entries go too.
    pub dropped: Vec<(Box<[u8]>, u64)>,
    /// The index's block list, when it changed since it was last stored
    /// (pages came or went): stored with the index entries, it is what
    /// [`PageMap::attach_shape`] opens the map from.
    pub shape: Option<IndexShape>,
}

/// The row entries a flush stores for one page ([`PageFlush::rows`]).
#[derive(Clone, Debug, Default)]
pub struct PageRows {
    /// The page's fence.
    pub fence: Box<[u8]>,
    /// The page's id.
    pub id: u64,
    /// Each changed row's key and entry ([`super::page_codec::encode_row_entry`]).
    pub rows: Vec<(Box<[u8]>, Vec<u8>)>,
}

impl PageMap {
    /// A map over pages already stored: `pages` are the fences (ascending,
    /// the first empty) and ids of a table's pages, read back from
    /// `source` when first used; `len` is the rows they hold.
    pub fn attach(
        source: Arc<dyn PageSource>,
        pages: impl IntoIterator<Item = (Box<[u8]>, u64)>,
        len: usize,
    ) -> Result<PageMap> {
        let mut map = PageMap {
            source: Source {
                source: Some(source),
                pin: OnceLock::new(),
                loads: AtomicU64::new(0),
            },
            len,
            ..PageMap::default()
        };
        let mut entries: Vec<(Box<[u8]>, PageRef)> = Vec::new();
        for (fence, id) in pages {
            if entries.is_empty() != fence.is_empty() {
                return Err(Error::corrupt(
                    "page index: the first fence must be empty, no other",
                ));
            }
            if entries.last().is_some_and(|(last, _)| *last >= fence) {
                return Err(Error::corrupt("page index: fences out of order"));
            }
            map.next_id = map.next_id.max(id + 1);
            entries.push((fence, PageRef::stored(id)));
        }
        map.index = Index::from_sorted(entries, super::page_index::BLOCK_ENTRIES);
        Ok(map)
    }

    /// Split the index's blocks at `entries` pages (tests: many blocks
    /// from few pages).
    #[doc(hidden)]
    pub fn set_block_entries(&mut self, entries: usize) {
        self.index.reblock(entries);
    }

    /// Put the index in the blocks a page store keeps (a map without one
    /// holds a single block): what the first flush into a store stores.
    pub fn split_index_for_store(&mut self) {
        self.index.reblock(super::page_index::BLOCK_ENTRIES);
    }

    /// A map over pages already stored whose index is stored in blocks
    /// (`shape`, as [`flush`](Self::flush) handed it out): nothing of the
    /// index is read until a lookup needs a block, which is read back
    /// through [`PageSource::index`]. `len` is the rows the pages hold.
    pub fn attach_shape(
        source: Arc<dyn PageSource>,
        shape: &IndexShape,
        len: usize,
    ) -> Result<PageMap> {
        Ok(PageMap {
            source: Source {
                source: Some(source),
                pin: OnceLock::new(),
                loads: AtomicU64::new(0),
            },
            len,
            next_id: shape.next_id,
            index: Index::from_shape(shape)?,
            ..PageMap::default()
        })
    }

    /// Reads blocks of the index back.
    fn loader(&self) -> IndexLoader<'_> {
        IndexLoader::of(&self.source, &self.fault)
    }

    /// Read pages back from `source` from now on (every page resident now
    /// stays until it is stored and evicted).
    pub fn set_source(&mut self, source: Arc<dyn PageSource>) {
        self.source.source = Some(source);
        // A map without a store keeps its index in one block.
        self.split_index_for_store();
        self.dirtied = self
            .index
            .loaded()
            .filter(|(_, p)| p.dirty)
            .map(|(f, _)| f.clone())
            .collect();
    }

    /// Note that the page at `fence` became dirty (with a page store).
    fn dirtied(&mut self, fence: &[u8], was_dirty: bool) {
        if !was_dirty && self.source.source.is_some() {
            self.dirtied.push(fence.into());
        }
    }

    /// Where pages are read back from, when attached to a page store.
    pub fn source(&self) -> Option<&Arc<dyn PageSource>> {
        self.source.source.as_ref()
    }

    /// Pages read back from the source so far (under `&self`).
    pub fn loads(&self) -> u64 {
        self.source.loads.load(Ordering::Relaxed)
    }

    /// Rows held (tombstones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages held.
    pub fn page_count(&self) -> usize {
        self.index.len()
    }

    /// How many page reads under `&self` failed so far: take it before a
    /// read and pass it to [`faults_since`](Self::faults_since) after.
    pub fn fault_mark(&self) -> u64 {
        self.fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    /// The error of a page read that failed since `mark`: a read that met
    /// one saw that page as empty, so its result must be discarded (a
    /// failure met by a concurrent reader counts too: discarding is the
    /// safe side). A failed page is not kept, so the next read of it
    /// fails again.
    pub fn faults_since(&self, mark: u64) -> Result<()> {
        let f = self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (&f.1, f.0 == mark) {
            (Some(e), false) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// A page's leaf for reading, faulted in if it is not resident.
    fn leaf<'a>(&'a self, page: &'a PageRef) -> &'a Leaf {
        page.used.store(true, Ordering::Relaxed);
        if let Some(leaf) = page.leaf.get() {
            return leaf;
        }
        match load(
            &self.source,
            page.id,
            &page.entries,
            self.cache.take_spare(),
        ) {
            Ok(leaf) => {
                let bytes = leaf.allocated();
                // A concurrent reader may have faulted the page in first.
                if page.leaf.set(leaf).is_ok() {
                    self.cache.faulted(bytes);
                }
                page.leaf.get().map_or(&NO_LEAF, |l| &**l)
            }
            Err(e) => {
                record_fault(&self.fault, e);
                &NO_LEAF
            }
        }
    }

    /// A page's leaf, shared, faulted in if it is not resident.
    fn shared(&self, page: &PageRef) -> Arc<Leaf> {
        self.leaf(page);
        page.leaf
            .get()
            .cloned()
            .unwrap_or_else(|| Arc::new(Leaf::default()))
    }

    /// A new page's id.
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    /// What the pages hold and take (resident pages only for bytes).
    pub fn stats(&self) -> PageStats {
        let mut s = PageStats {
            rows: self.len,
            pages: self.index.len(),
            ..PageStats::default()
        };
        for leaf in self.index.loaded().filter_map(|(_, p)| p.leaf.get()) {
            let keys: usize = leaf.slots.iter().map(Slot::key_len).sum();
            s.resident_pages += 1;
            s.key_bytes += keys;
            s.state_bytes += leaf.data.len() - keys;
            s.allocated += leaf.allocated();
        }
        s
    }

    /// The page that holds (or would hold) `key`, with its fence.
    fn page(&self, key: &[u8]) -> Option<(&[u8], &Leaf)> {
        self.index
            .floor(key, self.loader())
            .map(|(f, p)| (f, self.leaf(p)))
    }

    /// The stored row under `key`.
    pub fn get(&self, key: &[u8]) -> Option<StoredRow<'_>> {
        self.get_entry(key).map(|(_, r)| r)
    }

    /// The stored row under `key`, with the key as held.
    pub fn get_entry(&self, key: &[u8]) -> Option<(&[u8], StoredRow<'_>)> {
        let (_, leaf) = self.page(key)?;
        let i = leaf.search(key).ok()?;
        Some(leaf.entry(i))
    }

    /// The page and index of the row under `key`, shared (a capture).
    pub fn get_shared(&self, key: &[u8]) -> Option<SharedRow> {
        let (_, page) = self.index.floor(key, self.loader())?;
        let leaf = self.shared(page);
        let i = leaf.search(key).ok()?;
        Some((leaf, i as u32))
    }

    /// Every page, shared, in key order (a capture of the whole table;
    /// pages not resident are read back).
    pub fn pages(&self) -> Vec<Arc<Leaf>> {
        self.index
            .range(Bound::Unbounded, Bound::Unbounded, self.loader())
            .map(|(_, p)| self.shared(p))
            .collect()
    }

    /// Store `row` under `key`; `old` sees what it replaces first (`None`:
    /// a new key).
    pub fn set(
        &mut self,
        key: &[u8],
        row: NewRow<'_>,
        old: impl FnOnce(Option<StoredRow<'_>>),
    ) -> Result<()> {
        self.upsert(key, |was| -> Result<Option<OwnedRow>> {
            old(was);
            Ok(Some(OwnedRow {
                digest: row.digest,
                state: row.state.to_vec(),
                state_id: row.state_id,
            }))
        })
        .map(|_| ())
    }

    /// One lookup for a read-modify-write: `make` sees the row under `key`
    /// (`None`: a new key) and returns what to store there, or `None` to
    /// leave it. Returns whether a row was stored; an error from `make` (or
    /// from reading the page back) changes nothing.
    pub fn upsert<E: From<Error>>(
        &mut self,
        key: &[u8],
        make: impl FnOnce(Option<StoredRow<'_>>) -> std::result::Result<Option<OwnedRow>, E>,
    ) -> std::result::Result<bool, E> {
        let source = &self.source;
        let loader = IndexLoader::of(source, &self.fault);
        let Some((fence, page)) = self.index.floor_mut(key, &loader)? else {
            let Some(new) = make(None)? else {
                return Ok(false);
            };
            let mut leaf = Leaf::default();
            leaf.insert(0, key, &new.as_new());
            let bytes = leaf.allocated();
            let id = self.next_id;
            self.index
                .insert(Box::default(), PageRef::new(leaf, id), &loader)?;
            self.next_id += 1;
            self.cache.resized(0, bytes);
            self.dirtied(&[], false);
            self.len += 1;
            return Ok(true);
        };
        let cache = &self.cache;
        page.used.store(true, Ordering::Relaxed);
        let was_dirty = page.dirty;
        let current = page.resident(source, cache)?;
        let found = current.search(key);
        let Some(new) = make(found.ok().map(|i| current.entry(i).1))? else {
            return Ok(false);
        };
        let row = new.as_new();
        let fence: Box<[u8]> = fence.into();
        let over = |leaf: &mut Leaf| leaf.data.len() > PAGE_BYTES && leaf.len() > 1;
        let over = match found {
            Ok(i) => page.write_row(source, cache, key, |leaf| {
                leaf.replace(i, &row);
                over(leaf)
            })?,
            Err(i) => {
                let add = key.len() + row.state.len();
                // A row past the end of a full page starts the next page:
                // pages stay full after a sequential load.
                if i == current.len()
                    && !current.is_empty()
                    && current.data.len() + add > PAGE_BYTES
                {
                    let mut leaf = Leaf::default();
                    leaf.insert(0, key, &row);
                    let bytes = leaf.allocated();
                    let id = self.next_id;
                    self.index
                        .insert(key.into(), PageRef::new(leaf, id), &loader)?;
                    self.next_id += 1;
                    self.cache.resized(0, bytes);
                    self.dirtied(key, false);
                    self.len += 1;
                    return Ok(true);
                }
                page.write_row(source, cache, key, |leaf| {
                    leaf.insert(i, key, &row);
                    over(leaf)
                })?
            }
        };
        self.dirtied(&fence, was_dirty);
        if found.is_err() {
            self.len += 1;
        }
        if over {
            self.split(&fence);
        }
        Ok(true)
    }

    /// Split the page at `fence` at its byte midpoint, and the halves again
    /// while one is over [`PAGE_BYTES`] with more than one row (a large row
    /// among small ones). The page is resident and dirty (just written).
    ///
    /// The block of the index a new page goes to is read back first; if
    /// that fails the page stays whole (over size, but whole and correct)
    /// until a later write splits it.
    fn split(&mut self, fence: &[u8]) {
        let mut todo: Vec<Box<[u8]>> = vec![fence.into()];
        while let Some(fence) = todo.pop() {
            let Some(leaf) = self
                .index
                .get_loaded(&fence)
                .and_then(|(_, p)| p.leaf.get())
            else {
                continue;
            };
            if leaf.data.len() <= PAGE_BYTES || leaf.len() < 2 {
                continue;
            }
            let right_fence: Box<[u8]> = leaf.key(leaf.split_point()).into();
            let loader = IndexLoader::of(&self.source, &self.fault);
            if self.index.prepare(&right_fence, &loader).is_err() {
                continue;
            }
            let Some(page) = self.index.get_loaded_mut(&fence) else {
                continue;
            };
            let Some(leaf) = page.leaf.get_mut() else {
                continue;
            };
            page.dirty = true;
            page.rows = None;
            let before = leaf.allocated();
            let leaf = Arc::make_mut(leaf);
            let at = leaf.split_point();
            let right = leaf.split_off(at);
            self.cache
                .resized(before, leaf.allocated() + right.allocated());
            let id = self.new_id();
            let loader = IndexLoader::of(&self.source, &self.fault);
            // Its block is in memory (read back above): this cannot fail.
            let _ = self
                .index
                .insert(right_fence.clone(), PageRef::new(right, id), &loader);
            self.dirtied(&right_fence, false);
            todo.push(fence);
            todo.push(right_fence);
        }
    }

    /// Take the row under `key` out; `old` sees it first. Returns whether
    /// a row was there. A page left below a quarter full merges with a
    /// neighbour when both fit in one page.
    pub fn remove(&mut self, key: &[u8], old: impl FnOnce(StoredRow<'_>)) -> Result<bool> {
        let (source, cache) = (&self.source, &self.cache);
        let loader = IndexLoader::of(source, &self.fault);
        let Some((fence, page)) = self.index.floor_mut(key, &loader)? else {
            return Ok(false);
        };
        let current = page.resident(source, cache)?;
        let Ok(i) = current.search(key) else {
            return Ok(false);
        };
        old(current.entry(i).1);
        let fence: Box<[u8]> = fence.into();
        let was_dirty = page.dirty;
        let small = page.write_row(source, cache, key, |leaf| {
            leaf.remove(i);
            leaf.data.len() < PAGE_BYTES / 4
        })?;
        self.dirtied(&fence, was_dirty);
        self.len -= 1;
        if small {
            self.merge(&fence)?;
        }
        Ok(true)
    }

    /// Merge the page at `fence` with its right neighbour (or, for the last
    /// page, its left one) when both fit in one page; drop it when empty.
    fn merge(&mut self, fence: &[u8]) -> Result<()> {
        let mark = self.fault_mark();
        let right = self
            .index
            .range(Bound::Excluded(fence), Bound::Unbounded, self.loader())
            .next()
            .map(|(f, _)| f.clone());
        let left = self
            .index
            .range(Bound::Unbounded, Bound::Excluded(fence), self.loader())
            .next_back()
            .map(|(f, _)| f.clone());
        // A block that could not be read back hid a neighbour.
        self.faults_since(mark)?;
        let (a, b) = match (left, right) {
            (_, Some(r)) => (Box::<[u8]>::from(fence), r),
            (Some(l), None) => (l, Box::<[u8]>::from(fence)),
            (None, None) => {
                let empty = self
                    .index
                    .get_loaded(fence)
                    .and_then(|(_, p)| p.leaf.get())
                    .is_some_and(|l| l.is_empty());
                if empty {
                    let loader = IndexLoader::of(&self.source, &self.fault);
                    let dropped: Vec<_> = self
                        .index
                        .drain(&loader)?
                        .into_iter()
                        .map(|(f, p)| (f, p.id))
                        .collect();
                    self.dropped.extend(dropped);
                    *self.cache.resident.get_mut() = 0;
                }
                return Ok(());
            }
        };
        let (source, cache) = (&self.source, &self.cache);
        let loader = IndexLoader::of(source, &self.fault);
        let mut sizes = [(0, false); 2];
        for (n, f) in [&a, &b].into_iter().enumerate() {
            let Some(page) = self.index.get_mut(f, &loader)? else {
                return Ok(());
            };
            let leaf = page.resident(source, cache)?;
            sizes[n] = (leaf.data.len(), leaf.is_empty());
        }
        let fits = sizes[0].0 + sizes[1].0 <= PAGE_BYTES || sizes[0].1 || sizes[1].1;
        if !fits {
            return Ok(());
        }
        let Some(pb) = self.index.remove(&b, &loader)? else {
            return Ok(());
        };
        self.dropped.push((b, pb.id));
        if let Some(right) = pb.leaf.get() {
            cache.resized(right.allocated(), 0);
            if let Some(pa) = self.index.get_loaded_mut(&a) {
                let was_dirty = pa.dirty;
                pa.write(source, cache, |leaf| leaf.append(right))?;
                self.dirtied(&a, was_dirty);
            }
        }
        Ok(())
    }

    /// Rows between two bounds, ascending (reversible).
    pub fn range<'a>(
        &'a self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
    ) -> impl DoubleEndedIterator<Item = (&'a [u8], StoredRow<'a>)> + 'a {
        let empty = match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        // Where the range starts: the page holding `lo` and the row of it
        // to start from (`None`: the first page, from its first row — not
        // read to learn that); where it ends likewise (`None`: the last).
        let span = (!empty).then(|| {
            let first = match lo {
                Bound::Unbounded => None,
                Bound::Included(k) | Bound::Excluded(k) => {
                    let (f, leaf) = self.page(k)?;
                    Some((f, leaf.lower(lo)))
                }
            };
            let last = match hi {
                Bound::Unbounded => None,
                Bound::Included(k) | Bound::Excluded(k) => {
                    let (f, leaf) = self.page(k)?;
                    Some((f, leaf.upper(hi)))
                }
            };
            Some((first, last))
        });
        span.flatten().into_iter().flat_map(move |(first, last)| {
            let (first, last): (RangeEnd<'a>, RangeEnd<'a>) = (first, last);
            let from = first.map_or(Bound::Unbounded, |(f, _)| Bound::Included(f));
            let to = last.map_or(Bound::Unbounded, |(f, _)| Bound::Included(f));
            self.index
                .range(from, to, self.loader())
                .flat_map(move |(f, page)| {
                    let leaf = self.leaf(page);
                    let a = match first {
                        Some((ff, start)) if **f == *ff => start,
                        _ => 0,
                    };
                    let b = match last {
                        Some((lf, end)) if **f == *lf => end,
                        _ => leaf.len(),
                    };
                    (a..b.max(a)).map(move |i| leaf.entry(i))
                })
        })
    }

    /// Every row in key order (reversible).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
        self.index
            .range(Bound::Unbounded, Bound::Unbounded, self.loader())
            .flat_map(|(_, p)| page_rows(self.leaf(p)))
    }

    /// Recompute every row's digest and id with `f` (key, state → digest,
    /// id); `changed` sees each old and new row.
    pub fn refingerprint(
        &mut self,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(Option<[u8; 32]>, u64)>,
        mut changed: impl FnMut(&[u8], StoredRow<'_>, StoredRow<'_>),
    ) -> Result<()> {
        let (source, cache) = (&self.source, &self.cache);
        self.index.load_all(&IndexLoader::of(source, &self.fault))?;
        for (fence, page) in self.index.loaded_mut() {
            if !page.dirty && source.source.is_some() {
                self.dirtied.push(fence.clone());
            }
            page.write(source, cache, |leaf| -> Result<()> {
                for i in 0..leaf.len() {
                    let (key, old) = leaf.entry(i);
                    let (digest, state_id) = f(key, old.state)?;
                    let new = StoredRow {
                        digest: digest.as_ref(),
                        state: old.state,
                        state_id,
                    };
                    changed(key, old, new);
                    let slot = &mut leaf.slots[i];
                    slot.key_len = Slot::key_field(slot.key_len(), digest.is_some());
                    slot.id = state_id;
                    leaf.digests[i] = digest.unwrap_or_default();
                }
                Ok(())
            })??;
        }
        Ok(())
    }

    /// Whether any page changed since the last [`flush`](Self::flush).
    pub fn is_dirty(&self) -> bool {
        !self.dropped.is_empty() || self.dirty_pages().next().is_some()
    }

    /// The dirty pages, by fence, in key order: with a page store those
    /// noted since the last flush (O(pages that changed)), else all.
    fn dirty_pages(&self) -> impl Iterator<Item = (&[u8], &PageRef)> {
        let noted = self.source.source.is_some().then(|| {
            let mut fences: Vec<&[u8]> = self.dirtied.iter().map(|f| &**f).collect();
            fences.sort_unstable();
            fences.dedup();
            fences
                .into_iter()
                .filter_map(|f| self.index.get_loaded(f))
                .filter(|(_, p)| p.dirty)
        });
        // Without a page store every block is in memory.
        let all = noted.is_none().then(|| {
            self.index
                .loaded()
                .filter(|(_, p)| p.dirty)
                .map(|(f, p)| (&**f, p))
        });
        noted.into_iter().flatten().chain(all.into_iter().flatten())
    }

    /// The dirty pages, encoded, and the pages dropped since the last
    /// flush. Nothing is marked: call [`flushed`](Self::flushed) once the
    /// flush is stored (a failed store changes nothing).
    pub fn flush(&self) -> PageFlush {
        let (blocks, changed) = self.index.shape();
        let mut out = PageFlush {
            dropped: self.dropped.clone(),
            shape: changed.then_some(IndexShape {
                next_id: self.next_id,
                blocks,
            }),
            ..PageFlush::default()
        };
        for (fence, page) in self.dirty_pages() {
            let Some(leaf) = page.leaf.get() else {
                continue;
            };
            let entries = page.entries.load(Ordering::Relaxed);
            match &page.rows {
                Some(keys) => out.rows.push(PageRows {
                    fence: fence.into(),
                    id: page.id,
                    rows: keys
                        .iter()
                        .map(|k| {
                            let row = leaf.search(k).ok().map(|i| leaf.entry(i).1);
                            (k.clone(), super::page_codec::encode_row_entry(k, row))
                        })
                        .collect(),
                }),
                None => {
                    if entries > 0 {
                        out.cleared.push(page.id);
                    }
                    let bytes = super::page_codec::encode_leaf(leaf);
                    out.pages.push((fence.into(), page.id, bytes));
                }
            }
        }
        out
    }

    /// The last [`flush`](Self::flush) is stored (no write came between):
    /// its pages are clean (evictable) from now on.
    pub fn flushed(&mut self) {
        self.dropped.clear();
        self.index.stored();
        let mut fences: Vec<Box<[u8]>> = if self.source.source.is_some() {
            std::mem::take(&mut self.dirtied)
        } else {
            self.index
                .loaded()
                .filter(|(_, p)| p.dirty)
                .map(|(f, _)| f.clone())
                .collect()
        };
        fences.sort_unstable();
        fences.dedup();
        for f in &fences {
            let Some(page) = self.index.get_loaded_mut(f).filter(|p| p.dirty) else {
                continue;
            };
            let stored = page.entries.get_mut();
            *stored = match page.rows.take() {
                Some(keys) => *stored + keys.len() as u32,
                None => 0,
            };
            page.dirty = false;
        }
    }

    /// Bytes the resident pages' buffers hold allocated (kept as pages
    /// come and go and change: O(1)).
    pub fn resident_bytes(&self) -> usize {
        self.cache.resident.load(Ordering::Relaxed)
    }

    /// Bytes of pages read back from the source so far (ever growing: the
    /// difference between two calls is what reads faulted in between).
    pub fn faulted_bytes(&self) -> usize {
        self.cache.faulted.load(Ordering::Relaxed)
    }

    /// Bytes of evicted pages' buffers kept for the next faults (see
    /// [`evict_keeping`](Self::evict_keeping)).
    pub fn spare_bytes(&self) -> usize {
        self.cache.spare().1
    }

    /// What the index of pages takes in memory, estimated: every entry (a
    /// fence and a page reference) in B-tree nodes about two thirds full,
    /// and each fence's own allocation. Resident with the map whatever
    /// the cache: a paged region counts it in its budget.
    pub fn index_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Box<[u8]>, PageRef)>();
        let (blocks, entries) = self.index.in_memory();
        entries * (entry * 3 / 2 + 24) + blocks * 128
    }

    /// Evict clean pages (stored, not changed since) until at most `keep`
    /// bytes of pages stay resident or no clean page is left, by a clock:
    /// a page read since the hand last passed gets a second chance.
    /// Returns the bytes freed. Without a page source nothing is evicted.
    pub fn evict(&mut self, keep: usize) -> usize {
        self.evict_keeping(keep, 0)
    }

    /// [`evict`](Self::evict), keeping up to `spare` bytes of the evicted
    /// pages' buffers (those no capture shares) for the next faults to
    /// decode into, instead of freeing them: a host that trims its cache
    /// every `spare` bytes of faults then neither allocates nor frees in
    /// between. Spare buffers past `spare` are freed first. The walk visits
    /// index entries from the hand only until enough is evicted.
    pub fn evict_keeping(&mut self, keep: usize, spare: usize) -> usize {
        {
            let mut pool = self.cache.spare();
            while pool.1 > spare {
                match pool.0.pop() {
                    Some(leaf) => pool.1 -= leaf.allocated(),
                    None => pool.1 = 0,
                }
            }
        }
        if self.source.source.is_none() {
            return 0;
        }
        let mut resident = *self.cache.resident.get_mut();
        if resident <= keep {
            return 0;
        }
        let mut freed = 0;
        let hand = std::mem::take(&mut self.hand);
        let pool = self
            .cache
            .spare
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stop = None;
        // Two turns of the clock from the hand: the first clears use bits,
        // the second finds them clear.
        'sweeps: for _ in 0..2 {
            for half in 0..2 {
                let (lo, hi) = if half == 0 {
                    (Bound::Included(&*hand), Bound::Unbounded)
                } else {
                    (Bound::Unbounded, Bound::Excluded(&*hand))
                };
                // Pages of blocks not in memory are not resident either.
                let part = self.index.loaded_range_mut(lo, hi);
                for (fence, page) in part {
                    if page.dirty || page.leaf.get().is_none() {
                        continue;
                    }
                    if page.used.swap(false, Ordering::Relaxed) {
                        continue;
                    }
                    if let Some(mut leaf) = page.leaf.take() {
                        let bytes = leaf.allocated();
                        resident -= bytes;
                        freed += bytes;
                        if pool.1 + bytes <= spare && Arc::get_mut(&mut leaf).is_some() {
                            pool.1 += bytes;
                            pool.0.push(leaf);
                        }
                    }
                    if resident <= keep {
                        stop = Some(fence.clone());
                        break 'sweeps;
                    }
                }
            }
        }
        *self.cache.resident.get_mut() = resident;
        self.hand = stop.unwrap_or(hand);
        freed
    }

    /// Check the structure (tests): pages in order, fences below their
    /// keys, keys ascending, no empty page, sizes within the rules (pages
    /// not resident are read back).
    #[doc(hidden)]
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut prev: Option<&[u8]> = None;
        let mut count = 0;
        let mark = self.fault_mark();
        self.index.check()?;
        let all = self
            .index
            .range(Bound::Unbounded, Bound::Unbounded, self.loader());
        for (n, (fence, page)) in all.enumerate() {
            let leaf = self.leaf(page);
            self.faults_since(mark).map_err(|e| e.to_string())?;
            if n == 0 && !fence.is_empty() {
                return Err("first fence not empty".into());
            }
            if leaf.is_empty() {
                return Err(format!("page {n} empty"));
            }
            if leaf.len() > 1 && leaf.data.len() > PAGE_BYTES {
                return Err(format!("page {n} over size: {}", leaf.data.len()));
            }
            if leaf.slots.len() != leaf.digests.len()
                || leaf.slots.last().map(|s| s.end as usize) != Some(leaf.data.len())
            {
                return Err(format!("page {n} inconsistent"));
            }
            for i in 0..leaf.len() {
                let k = leaf.key(i);
                if k.len() < leaf.shared
                    || k[..leaf.shared] != leaf.key(0)[..leaf.shared]
                    || leaf.slots[i].prefix != prefix(&k[leaf.shared..])
                {
                    return Err(format!("page {n} row {i}: shared prefix broken"));
                }
                if k < &**fence || prev.is_some_and(|p| p >= k) {
                    return Err(format!("page {n} row {i} out of order"));
                }
                prev = Some(k);
                count += 1;
            }
        }
        if count != self.len {
            return Err(format!("len {} but {count} rows", self.len));
        }
        if self.source.source.is_some() {
            for (fence, page) in self.index.loaded() {
                if page.dirty && !self.dirtied.iter().any(|f| f == fence) {
                    return Err(format!("dirty page at {fence:?} not noted for the flush"));
                }
            }
        }
        let resident: usize = self
            .index
            .loaded()
            .filter_map(|(_, p)| p.leaf.get())
            .map(|l| l.allocated())
            .sum();
        if resident != self.resident_bytes() {
            return Err(format!(
                "resident bytes counted {} but {resident} held",
                self.resident_bytes()
            ));
        }
        Ok(())
    }
}

/// A page's rows in key order (a capture).
pub fn page_rows(leaf: &Leaf) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
    (0..leaf.len()).map(move |i| leaf.entry(i))
}
