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

use crate::codec::row_state::decode_row_state;
use crate::model::error::Result;
use crate::model::row_state::RowState;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// Bytes of keys and states a leaf page holds before it splits.
pub const PAGE_BYTES: usize = 8 * 1024;

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
struct Slot {
    /// The key's 8 bytes after the page's shared prefix, big-endian,
    /// zero-padded.
    prefix: u64,
    /// End of the row's bytes (key then state) in the page's data.
    end: u32,
    /// Key length, with [`EXISTS`].
    key_len: u32,
    /// State id.
    id: u64,
}

/// A key's first 8 bytes as a big-endian integer, zero-padded: where two
/// prefixes differ they order as their keys do; where they are equal the
/// keys must be compared.
fn prefix(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

impl Slot {
    /// The [`Slot::key_len`] field for a key of `len` bytes.
    fn key_field(len: usize, exists: bool) -> u32 {
        len as u32 | if exists { EXISTS } else { 0 }
    }
    fn key_len(&self) -> usize {
        (self.key_len & !EXISTS) as usize
    }
    fn exists(&self) -> bool {
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
    shared: usize,
    data: Vec<u8>,
    slots: Vec<Slot>,
    /// Row digests, one per slot (zero for a tombstone).
    digests: Vec<[u8; 32]>,
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
    /// Rows held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the page holds no row.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn start(&self, i: usize) -> usize {
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

/// The rows of a table: leaf pages under an ordered index of their lower
/// fences. The first page's fence is the empty key; every other page's is
/// the first key it held when it was split off, and it holds the keys from
/// its fence up to the next page's.
#[derive(Clone, Debug, Default)]
pub struct PageMap {
    index: BTreeMap<Box<[u8]>, Arc<Leaf>>,
    len: usize,
}

/// What a [`PageMap`] holds and what it takes (docs/ENGINE.md figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    /// Rows held.
    pub rows: usize,
    /// Leaf pages.
    pub pages: usize,
    /// Key bytes.
    pub key_bytes: usize,
    /// Encoded state bytes.
    pub state_bytes: usize,
    /// Bytes the pages' buffers hold allocated (data, slots, digests).
    pub allocated: usize,
}

/// A row of a capture: the page it sits in (shared) and its index there.
pub type SharedRow = (Arc<Leaf>, u32);

impl PageMap {
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

    /// What the pages hold and take.
    pub fn stats(&self) -> PageStats {
        let mut s = PageStats {
            rows: self.len,
            pages: self.index.len(),
            ..PageStats::default()
        };
        for leaf in self.index.values() {
            let keys: usize = leaf.slots.iter().map(Slot::key_len).sum();
            s.key_bytes += keys;
            s.state_bytes += leaf.data.len() - keys;
            s.allocated += leaf.data.capacity()
                + leaf.slots.capacity() * std::mem::size_of::<Slot>()
                + leaf.digests.capacity() * 32;
        }
        s
    }

    /// The page that holds (or would hold) `key`, with its fence.
    fn page(&self, key: &[u8]) -> Option<(&[u8], &Arc<Leaf>)> {
        self.index
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .map(|(f, p)| (&**f, p))
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
        let (_, leaf) = self.page(key)?;
        let i = leaf.search(key).ok()?;
        Some((leaf.clone(), i as u32))
    }

    /// Every page, shared, in key order (a capture of the whole table).
    pub fn pages(&self) -> Vec<Arc<Leaf>> {
        self.index.values().cloned().collect()
    }

    /// Store `row` under `key`; `old` sees what it replaces first (`None`:
    /// a new key).
    pub fn set(&mut self, key: &[u8], row: NewRow<'_>, old: impl FnOnce(Option<StoredRow<'_>>)) {
        let done: std::result::Result<bool, std::convert::Infallible> = self.upsert(key, |was| {
            old(was);
            Ok(Some(OwnedRow {
                digest: row.digest,
                state: row.state.to_vec(),
                state_id: row.state_id,
            }))
        });
        let _ = done;
    }

    /// One lookup for a read-modify-write: `make` sees the row under `key`
    /// (`None`: a new key) and returns what to store there, or `None` to
    /// leave it. Returns whether a row was stored; an error from `make`
    /// changes nothing.
    pub fn upsert<E>(
        &mut self,
        key: &[u8],
        make: impl FnOnce(Option<StoredRow<'_>>) -> std::result::Result<Option<OwnedRow>, E>,
    ) -> std::result::Result<bool, E> {
        let Some((fence, page)) = self
            .index
            .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
        else {
            let Some(new) = make(None)? else {
                return Ok(false);
            };
            let mut leaf = Leaf::default();
            leaf.insert(0, key, &new.as_new());
            self.index.insert(Box::default(), Arc::new(leaf));
            self.len += 1;
            return Ok(true);
        };
        let found = page.search(key);
        let Some(new) = make(found.ok().map(|i| page.entry(i).1))? else {
            return Ok(false);
        };
        let row = new.as_new();
        let leaf = match found {
            Ok(i) => {
                let leaf = Arc::make_mut(page);
                leaf.replace(i, &row);
                leaf
            }
            Err(i) => {
                self.len += 1;
                let add = key.len() + row.state.len();
                // A row past the end of a full page starts the next page:
                // pages stay full after a sequential load.
                if i == page.len() && !page.is_empty() && page.data.len() + add > PAGE_BYTES {
                    let mut leaf = Leaf::default();
                    leaf.insert(0, key, &row);
                    self.index.insert(key.into(), Arc::new(leaf));
                    return Ok(true);
                }
                let leaf = Arc::make_mut(page);
                leaf.insert(i, key, &row);
                leaf
            }
        };
        if leaf.data.len() > PAGE_BYTES && leaf.len() > 1 {
            let fence = fence.clone();
            self.split(&fence);
        }
        Ok(true)
    }

    /// Split the page at `fence` at its byte midpoint, and the halves again
    /// while one is over [`PAGE_BYTES`] with more than one row (a large row
    /// among small ones).
    fn split(&mut self, fence: &[u8]) {
        let mut todo: Vec<Box<[u8]>> = vec![fence.into()];
        while let Some(fence) = todo.pop() {
            let Some(page) = self.index.get_mut(&fence) else {
                continue;
            };
            if page.data.len() <= PAGE_BYTES || page.len() < 2 {
                continue;
            }
            let leaf = Arc::make_mut(page);
            let at = leaf.split_point();
            let right = leaf.split_off(at);
            let right_fence: Box<[u8]> = right.key(0).into();
            self.index.insert(right_fence.clone(), Arc::new(right));
            todo.push(fence);
            todo.push(right_fence);
        }
    }

    /// Take the row under `key` out; `old` sees it first. Returns whether
    /// a row was there. A page left below a quarter full merges with a
    /// neighbour when both fit in one page.
    pub fn remove(&mut self, key: &[u8], old: impl FnOnce(StoredRow<'_>)) -> bool {
        let Some((fence, page)) = self
            .index
            .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
        else {
            return false;
        };
        let Ok(i) = page.search(key) else {
            return false;
        };
        old(page.entry(i).1);
        let fence = fence.clone();
        Arc::make_mut(page).remove(i);
        self.len -= 1;
        if page.data.len() < PAGE_BYTES / 4 {
            self.merge(&fence);
        }
        true
    }

    /// Merge the page at `fence` with its right neighbour (or, for the last
    /// page, its left one) when both fit in one page; drop it when empty.
    fn merge(&mut self, fence: &[u8]) {
        let right = self
            .index
            .range::<[u8], _>((Bound::Excluded(fence), Bound::Unbounded))
            .next()
            .map(|(f, _)| f.clone());
        let left = self
            .index
            .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(fence)))
            .next_back()
            .map(|(f, _)| f.clone());
        let (a, b) = match (left, right) {
            (_, Some(r)) => (Box::<[u8]>::from(fence), r),
            (Some(l), None) => (l, Box::<[u8]>::from(fence)),
            (None, None) => {
                if self.index.get(fence).is_some_and(|p| p.is_empty()) {
                    self.index.clear();
                }
                return;
            }
        };
        let fits = {
            let pa = &self.index[&a];
            let pb = &self.index[&b];
            pa.data.len() + pb.data.len() <= PAGE_BYTES || pa.is_empty() || pb.is_empty()
        };
        if !fits {
            return;
        }
        let Some(pb) = self.index.remove(&b) else {
            return;
        };
        if let Some(pa) = self.index.get_mut(&a) {
            Arc::make_mut(pa).append(&pb);
        }
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
        let span = (!empty).then(|| {
            let first = match lo {
                Bound::Unbounded => self.index.iter().next().map(|(f, p)| (&**f, p)),
                Bound::Included(k) | Bound::Excluded(k) => self.page(k),
            };
            let last = match hi {
                Bound::Unbounded => self.index.iter().next_back().map(|(f, p)| (&**f, p)),
                Bound::Included(k) | Bound::Excluded(k) => self.page(k),
            };
            first.zip(last).map(|((ff, fl), (lf, ll))| {
                let start = fl.lower(lo);
                let end = ll.upper(hi);
                (ff, lf, start, end)
            })
        });
        span.flatten()
            .into_iter()
            .flat_map(move |(ff, lf, start, end)| {
                let (ff, lf): (&'a [u8], &'a [u8]) = (ff, lf);
                self.index
                    .range::<[u8], _>((Bound::Included(ff), Bound::Included(lf)))
                    .flat_map(move |(f, leaf)| {
                        let a = if **f == *ff { start } else { 0 };
                        let b = if **f == *lf { end } else { leaf.len() };
                        (a..b.max(a)).map(move |i| leaf.entry(i))
                    })
            })
    }

    /// Every row in key order (reversible).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
        self.index.values().flat_map(|leaf| page_rows(leaf))
    }

    /// Recompute every row's digest and id with `f` (key, state → digest,
    /// id); `changed` sees each old and new row.
    pub fn refingerprint(
        &mut self,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(Option<[u8; 32]>, u64)>,
        mut changed: impl FnMut(&[u8], StoredRow<'_>, StoredRow<'_>),
    ) -> Result<()> {
        for page in self.index.values_mut() {
            let leaf = Arc::make_mut(page);
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
        }
        Ok(())
    }

    /// Check the structure (tests): pages in order, fences below their
    /// keys, keys ascending, no empty page, sizes within the rules.
    #[doc(hidden)]
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut prev: Option<&[u8]> = None;
        let mut count = 0;
        for (n, (fence, leaf)) in self.index.iter().enumerate() {
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
        Ok(())
    }
}

/// A page's rows in key order (a capture).
pub fn page_rows(leaf: &Leaf) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
    (0..leaf.len()).map(move |i| leaf.entry(i))
}
