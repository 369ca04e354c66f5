//! The index of a table's pages ([`super::pages::PageMap`]) in two levels:
//! blocks of consecutive index entries under an ordered map of the blocks'
//! lower bounds. A block holds every entry whose key lies between its
//! bound and the next block's. A block of a map over a page store is read
//! back when a lookup first needs it, so opening a table reads its block
//! list (one entry per [`BLOCK_ENTRIES`] pages), not one entry per page:
//! `tablesync get` on a large region reads one block and one page.
//!
//! The list of bounds is stored with the entries ([`IndexShape`]); a
//! block's bounds are only where it starts, not keys that must exist, so a
//! bound outlives the page it was taken from.

use crate::model::error::{Error, Result};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::OnceLock;

/// Entries a block holds after a split (a block splits in two when it
/// grows past twice this).
pub const BLOCK_ENTRIES: usize = 512;

type Map<V> = BTreeMap<Box<[u8]>, V>;

/// Blocks as listed: each one's lower bound and entries.
type Blocks = Vec<(Box<[u8]>, u64)>;

/// A table's index as stored beside its entries: the id the next new page
/// gets, and each block's lower bound (the first empty, ascending) with
/// the entries it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexShape {
    /// The id the next new page gets (above every page's).
    pub next_id: u64,
    /// Each block's lower bound and number of entries.
    pub blocks: Vec<(Box<[u8]>, u64)>,
}

/// Where blocks that are not in memory are read from.
pub(super) trait BlockLoader<V> {
    /// The stored entries with keys in `[from, to)` (`to` `None`: to the
    /// end).
    fn load(&self, from: &[u8], to: Option<&[u8]>) -> Result<Map<V>>;
    /// A load under `&self` failed: the lookup saw the block as empty, so
    /// the error must reach whoever reads its result.
    fn failed(&self, e: Error);
}

#[derive(Debug)]
struct Block<V> {
    /// The entries, once in memory.
    map: OnceLock<Map<V>>,
    /// Entries stored, while the block is not in memory (checked when it
    /// is read back).
    stored: usize,
}

impl<V: Clone> Clone for Block<V> {
    fn clone(&self) -> Self {
        Block {
            map: self.map.clone(),
            stored: self.stored,
        }
    }
}

impl<V> Block<V> {
    fn loaded(map: Map<V>) -> Block<V> {
        Block {
            map: OnceLock::from(map),
            stored: 0,
        }
    }

    fn len(&self) -> usize {
        self.map.get().map_or(self.stored, BTreeMap::len)
    }
}

/// The ordered index: entries by key, in blocks.
#[derive(Debug)]
pub(super) struct Index<V> {
    /// Blocks by lower bound; the first bound is empty.
    blocks: BTreeMap<Box<[u8]>, Block<V>>,
    /// Entries held (in memory or not).
    len: usize,
    /// Whether the block list changed since it was last stored (every
    /// insert and removal counts: the entries' number is part of it).
    changed: bool,
    /// Entries a block holds after a split ([`BLOCK_ENTRIES`]; tests set
    /// fewer).
    split: usize,
}

impl<V: Clone> Clone for Index<V> {
    fn clone(&self) -> Self {
        Index {
            blocks: self.blocks.clone(),
            len: self.len,
            changed: self.changed,
            split: self.split,
        }
    }
}

impl<V> Default for Index<V> {
    /// An empty index of one block that never splits: the index of a map
    /// without a page store, where blocks would only add a level to every
    /// lookup ([`reblock`](Index::reblock) splits it when a store comes).
    fn default() -> Self {
        Index::from_sorted(Vec::new(), usize::MAX)
    }
}

/// The first key a block with lower bound `bound` ends before: the next
/// block's bound.
fn upper<'a, V>(blocks: &'a BTreeMap<Box<[u8]>, Block<V>>, bound: &[u8]) -> Option<&'a [u8]> {
    blocks
        .range::<[u8], _>((Bound::Excluded(bound), Bound::Unbounded))
        .next()
        .map(|(b, _)| &**b)
}

/// The block bounds a search between `lo` and `hi` visits: from the block
/// holding `lo` to the one holding `hi`.
fn block_span<'a, V>(
    blocks: &'a BTreeMap<Box<[u8]>, Block<V>>,
    lo: Bound<&'a [u8]>,
    hi: Bound<&'a [u8]>,
) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    let from = match lo {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(k) | Bound::Excluded(k) => blocks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(k)))
            .next_back()
            .map_or(Bound::Unbounded, |(b, _)| Bound::Included(&**b)),
    };
    (from, hi)
}

impl<V> Index<V> {
    /// An index over `entries` (sorted, distinct keys), all in memory, in
    /// blocks of `split` entries (at least 1). The block list is unstored.
    pub(super) fn from_sorted(entries: Vec<(Box<[u8]>, V)>, split: usize) -> Index<V> {
        let split = split.max(1);
        let len = entries.len();
        let mut blocks = BTreeMap::new();
        let mut current: (Box<[u8]>, Map<V>) = (Box::default(), BTreeMap::new());
        for (k, v) in entries {
            if current.1.len() == split {
                let done = std::mem::replace(&mut current, (k.clone(), BTreeMap::new()));
                blocks.insert(done.0, Block::loaded(done.1));
            }
            current.1.insert(k, v);
        }
        blocks.insert(current.0, Block::loaded(current.1));
        Index {
            blocks,
            len,
            changed: true,
            split,
        }
    }

    /// An index whose blocks are all stored, read back when first needed.
    /// Empty blocks are left out (the store holds nothing between their
    /// bounds). The block list is as stored.
    pub(super) fn from_shape(shape: &IndexShape) -> Result<Index<V>> {
        let bad = |m: &str| Error::corrupt(format!("page index blocks: {m}"));
        let mut blocks: BTreeMap<Box<[u8]>, Block<V>> = BTreeMap::new();
        let mut len = 0usize;
        let mut last: Option<&[u8]> = None;
        for (bound, n) in &shape.blocks {
            if last.is_none() != bound.is_empty() {
                return Err(bad("the first bound must be empty, no other"));
            }
            if last.is_some_and(|l| l >= &**bound) {
                return Err(bad("bounds out of order"));
            }
            last = Some(bound);
            let n = usize::try_from(*n).map_err(|_| bad("a block too large"))?;
            len = len.checked_add(n).ok_or_else(|| bad("too many entries"))?;
            if n > 0 || bound.is_empty() {
                blocks.insert(
                    bound.clone(),
                    Block {
                        map: OnceLock::new(),
                        stored: n,
                    },
                );
            }
        }
        if blocks.is_empty() {
            return Err(bad("no block"));
        }
        Ok(Index {
            blocks,
            len,
            changed: false,
            split: BLOCK_ENTRIES,
        })
    }

    /// Split blocks at `split` entries (at least 1) from now on; when
    /// every block is in memory they are regrouped in blocks of `split`
    /// now (the block list is then unstored). Nothing changes when blocks
    /// already split at `split`.
    pub(super) fn reblock(&mut self, split: usize) {
        let split = split.max(1);
        if self.split == split {
            return;
        }
        self.split = split;
        if self.blocks.values().any(|b| b.map.get().is_none()) {
            return;
        }
        let blocks = std::mem::take(&mut self.blocks);
        let entries: Vec<(Box<[u8]>, V)> = blocks
            .into_values()
            .filter_map(|b| b.map.into_inner())
            .flatten()
            .collect();
        *self = Index::from_sorted(entries, split);
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Blocks, and entries in memory (what the index takes).
    pub(super) fn in_memory(&self) -> (usize, usize) {
        let entries = self
            .blocks
            .values()
            .filter_map(|b| b.map.get())
            .map(BTreeMap::len)
            .sum();
        (self.blocks.len(), entries)
    }

    /// The block list as it is now when it changed since
    /// [`stored`](Self::stored) was last called (else empty), and whether
    /// it did.
    pub(super) fn shape(&self) -> (Blocks, bool) {
        if !self.changed {
            return (Vec::new(), false);
        }
        let blocks = self
            .blocks
            .iter()
            .map(|(b, blk)| (b.clone(), blk.len() as u64))
            .collect();
        (blocks, true)
    }

    /// The block list as it is now is stored.
    pub(super) fn stored(&mut self) {
        self.changed = false;
    }

    /// A block's entries, read back first if need be (a failure goes to
    /// `loader` and the block reads as absent).
    fn block<'a>(
        &'a self,
        bound: &[u8],
        block: &'a Block<V>,
        loader: &impl BlockLoader<V>,
    ) -> Option<&'a Map<V>> {
        if let Some(m) = block.map.get() {
            return Some(m);
        }
        match load(&self.blocks, bound, block, loader) {
            Ok(m) => {
                // A concurrent reader may have read it first: keep theirs.
                let _ = block.map.set(m);
                block.map.get()
            }
            Err(e) => {
                loader.failed(e);
                None
            }
        }
    }

    /// Entries with keys between `lo` and `hi`, in key order (reversible),
    /// reading blocks back as the walk reaches them.
    pub(super) fn range<'a: 'k, 'k, L: BlockLoader<V> + Copy + 'k>(
        &'a self,
        lo: Bound<&'k [u8]>,
        hi: Bound<&'k [u8]>,
        loader: L,
    ) -> impl DoubleEndedIterator<Item = (&'a Box<[u8]>, &'a V)> + 'k {
        let empty = match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        let span = (!empty).then(|| block_span(&self.blocks, lo, hi));
        span.into_iter().flat_map(move |span| {
            self.blocks
                .range::<[u8], _>(span)
                .flat_map(move |(bound, block)| {
                    self.block(bound, block, &loader)
                        .into_iter()
                        .flat_map(move |m| m.range::<[u8], _>((lo, hi)))
                })
        })
    }

    /// The entry with the greatest key at or before `key`.
    pub(super) fn floor<'a, L: BlockLoader<V> + Copy>(
        &'a self,
        key: &[u8],
        loader: L,
    ) -> Option<(&'a [u8], &'a V)> {
        // A walk back from the block holding `key`: the entry is in it
        // unless the block starts after `key`'s floor (a bound that is not
        // a fence). A block that cannot be read back ends the walk (the
        // failure is recorded for the reader).
        for (bound, block) in self
            .blocks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .rev()
        {
            let m = self.block(bound, block, &loader)?;
            if let Some((k, v)) = m
                .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
                .next_back()
            {
                return Some((k, v));
            }
        }
        None
    }

    /// [`floor`](Self::floor) for a change: blocks read back on the way,
    /// failures returned.
    pub(super) fn floor_mut(
        &mut self,
        key: &[u8],
        loader: &impl BlockLoader<V>,
    ) -> Result<Option<(&[u8], &mut V)>> {
        let first_upper: Option<Box<[u8]>> = self
            .blocks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .filter(|(_, b)| b.map.get().is_none())
            .and_then(|(b, _)| upper(&self.blocks, b).map(Box::from));
        let mut to: Option<&[u8]> = first_upper.as_deref();
        for (bound, block) in self
            .blocks
            .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .rev()
        {
            let map = load_mut(bound, to, block, loader)?;
            if let Some(found) = map
                .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
                .next_back()
            {
                return Ok(Some((&**found.0, found.1)));
            }
            to = Some(&**bound);
        }
        Ok(None)
    }

    /// The block holding `key`, read back first if need be.
    fn block_mut(&mut self, key: &[u8], loader: &impl BlockLoader<V>) -> Result<&mut Map<V>> {
        let (bound, block) = self
            .blocks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .ok_or_else(|| Error::corrupt("page index: no first block"))?;
        if block.map.get().is_none() {
            let m = load(&self.blocks, bound, block, loader)?;
            let bound = bound.clone();
            if let Some(b) = self.blocks.get_mut(&bound) {
                let _ = b.map.set(m);
            }
        }
        self.blocks
            .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .and_then(|(_, b)| b.map.get_mut())
            .ok_or_else(|| Error::corrupt("page index: a block not read back"))
    }

    /// Read back the block that holds `key`, so a later
    /// [`insert`](Self::insert) there cannot fail.
    pub(super) fn prepare(&mut self, key: &[u8], loader: &impl BlockLoader<V>) -> Result<()> {
        self.block_mut(key, loader).map(|_| ())
    }

    /// Put `value` under `key` (whose block is in memory: read back with
    /// [`prepare`](Self::prepare) or by a lookup of a key it holds). A
    /// block grown past twice [`BLOCK_ENTRIES`] splits in two.
    pub(super) fn insert(
        &mut self,
        key: Box<[u8]>,
        value: V,
        loader: &impl BlockLoader<V>,
    ) -> Result<()> {
        let most = self.split.saturating_mul(2);
        let map = self.block_mut(&key, loader)?;
        let split = map.len() >= most;
        if map.insert(key.clone(), value).is_none() {
            self.len += 1;
        }
        self.changed = true;
        if split {
            let map = self.block_mut(&key, loader)?;
            let Some(at) = map.keys().nth(map.len() / 2).cloned() else {
                return Ok(());
            };
            let right = map.split_off(&at);
            self.blocks.insert(at, Block::loaded(right));
        }
        Ok(())
    }

    /// Take the entry under `key` out. A block left empty goes when the
    /// one before it is in memory (its range joins that one's).
    pub(super) fn remove(&mut self, key: &[u8], loader: &impl BlockLoader<V>) -> Result<Option<V>> {
        let map = self.block_mut(key, loader)?;
        let out = map.remove(key);
        let emptied = map.is_empty();
        if out.is_some() {
            self.len -= 1;
            self.changed = true;
        }
        if emptied {
            let mut around = self
                .blocks
                .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
                .rev();
            let this = around.next().map(|(b, _)| b.clone());
            let before_loaded = around.next().is_some_and(|(_, b)| b.map.get().is_some());
            if let Some(bound) = this.filter(|b| !b.is_empty() && before_loaded) {
                self.blocks.remove(&bound);
            }
        }
        Ok(out)
    }

    /// The entry under `key`, if its block is in memory.
    pub(super) fn get_loaded(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        self.blocks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()?
            .1
            .map
            .get()?
            .get_key_value(key)
            .map(|(k, v)| (&**k, v))
    }

    /// The entry under `key` for a change, if its block is in memory.
    pub(super) fn get_loaded_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.blocks
            .range_mut::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()?
            .1
            .map
            .get_mut()?
            .get_mut(key)
    }

    /// The entry under `key` for a change, its block read back if need be.
    pub(super) fn get_mut(
        &mut self,
        key: &[u8],
        loader: &impl BlockLoader<V>,
    ) -> Result<Option<&mut V>> {
        Ok(self.block_mut(key, loader)?.get_mut(key))
    }

    /// Every entry of the blocks in memory, in key order.
    pub(super) fn loaded(&self) -> impl Iterator<Item = (&Box<[u8]>, &V)> {
        self.blocks
            .values()
            .filter_map(|b| b.map.get())
            .flat_map(BTreeMap::iter)
    }

    /// Entries of the blocks in memory with keys between `lo` and `hi`,
    /// for a change.
    pub(super) fn loaded_range_mut<'a>(
        &'a mut self,
        lo: Bound<&'a [u8]>,
        hi: Bound<&'a [u8]>,
    ) -> impl Iterator<Item = (&'a Box<[u8]>, &'a mut V)> + 'a {
        let span = block_span(&self.blocks, lo, hi);
        let span = (clone_bound(span.0), clone_bound(span.1));
        self.blocks
            .range_mut::<[u8], _>((as_ref(&span.0), as_ref(&span.1)))
            .filter_map(|(_, b)| b.map.get_mut())
            .flat_map(move |m| m.range_mut::<[u8], _>((lo, hi)))
    }

    /// Read every block back (a walk that changes every entry).
    pub(super) fn load_all(&mut self, loader: &impl BlockLoader<V>) -> Result<()> {
        let missing: Vec<Box<[u8]>> = self
            .blocks
            .iter()
            .filter(|(_, b)| b.map.get().is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for bound in missing {
            self.block_mut(&bound, loader)?;
        }
        Ok(())
    }

    /// Every entry for a change (blocks not in memory are skipped: call
    /// [`load_all`](Self::load_all) first to reach them all).
    pub(super) fn loaded_mut(&mut self) -> impl Iterator<Item = (&Box<[u8]>, &mut V)> {
        self.blocks
            .values_mut()
            .filter_map(|b| b.map.get_mut())
            .flat_map(BTreeMap::iter_mut)
    }

    /// Take every entry out (every block read back first), leaving an
    /// empty index.
    pub(super) fn drain(&mut self, loader: &impl BlockLoader<V>) -> Result<Vec<(Box<[u8]>, V)>> {
        self.load_all(loader)?;
        let blocks = std::mem::take(&mut self.blocks);
        let out = blocks
            .into_values()
            .filter_map(|b| b.map.into_inner())
            .flatten()
            .collect();
        self.blocks
            .insert(Box::default(), Block::loaded(BTreeMap::new()));
        self.len = 0;
        self.changed = true;
        Ok(out)
    }

    /// Check the blocks (tests): the first bound empty, every entry of a
    /// block in memory within its bounds, the count kept. (A block's size
    /// is not checked: one read back may be larger than this index splits
    /// at, until an insert splits it.)
    pub(super) fn check(&self) -> std::result::Result<(), String> {
        if self.blocks.keys().next().is_none_or(|b| !b.is_empty()) {
            return Err("index: no empty first bound".into());
        }
        let mut total = 0;
        for (bound, block) in &self.blocks {
            total += block.len();
            let Some(m) = block.map.get() else { continue };
            let to = upper(&self.blocks, bound);
            if m.keys()
                .any(|k| **k < **bound || to.is_some_and(|t| **k >= *t))
            {
                return Err(format!("index: an entry outside block {bound:?}"));
            }
        }
        if total != self.len {
            return Err(format!("index: len {} but {total} entries", self.len));
        }
        Ok(())
    }
}

fn clone_bound(b: Bound<&[u8]>) -> Bound<Box<[u8]>> {
    b.map(Box::from)
}

fn as_ref(b: &Bound<Box<[u8]>>) -> Bound<&[u8]> {
    b.as_ref().map(|k| &**k)
}

/// Read a block back through `loader`, checking it holds what the block
/// list says.
fn load<V>(
    blocks: &BTreeMap<Box<[u8]>, Block<V>>,
    bound: &[u8],
    block: &Block<V>,
    loader: &impl BlockLoader<V>,
) -> Result<Map<V>> {
    read(bound, upper(blocks, bound), block.stored, loader)
}

fn read<V>(
    bound: &[u8],
    to: Option<&[u8]>,
    stored: usize,
    loader: &impl BlockLoader<V>,
) -> Result<Map<V>> {
    let m = loader.load(bound, to)?;
    if m.len() != stored {
        return Err(Error::corrupt(format!(
            "page index: a block of {stored} entries reads back {}",
            m.len()
        )));
    }
    Ok(m)
}

/// A block for a change, read back first if need be (`to`: the next
/// block's bound).
fn load_mut<'a, V>(
    bound: &[u8],
    to: Option<&[u8]>,
    block: &'a mut Block<V>,
    loader: &impl BlockLoader<V>,
) -> Result<&'a mut Map<V>> {
    if block.map.get().is_none() {
        let m = read(bound, to, block.stored, loader)?;
        let _ = block.map.set(m);
    }
    block
        .map
        .get_mut()
        .ok_or_else(|| Error::corrupt("page index: a block not read back"))
}
