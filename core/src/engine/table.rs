//! One table in memory: rows as encoded states in key order, and the merge
//! of records and whole states into them. What is kept in step with the
//! rows (digests, state ids and their sums) is a [`RowBook`] the table
//! calls, implemented above the engine (`crate::table`), so the engine
//! imports nothing of the digest.

use super::fresh_put::fresh_put_state;
pub use super::pages::StoredRow;
use super::pages::{OwnedRow, PageMap, SharedRow};
use super::row_state::RowState;
use crate::codec::row_state::{decode_row_state, encode_row_state};
use crate::model::error::Result;
use crate::model::record::{ChangeKind, ColumnOp, OpRef};
use crate::model::schema::{TableOptions, TableSchema};
use crate::model::stamp::Stamp;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

/// What a table keeps in step with its rows. The table asks it for each
/// new state's fingerprint and tells it of every stored row it replaces.
pub trait RowBook: Clone + std::fmt::Debug + Default {
    /// The row digest (`None` when the row does not exist) and the state id
    /// of the encoded, normalized state `state` stored under `key`.
    fn fingerprint(
        &mut self,
        key: &[u8],
        state: &[u8],
        max_versions: u32,
    ) -> Result<(Option<[u8; 32]>, u64)>;
    /// The row at `key` became `new`; `old` is what it replaced (`None`: a
    /// new key).
    fn replaced(&mut self, key: &[u8], old: Option<StoredRow<'_>>, new: StoredRow<'_>);
    /// The row at `key` was purged: `old` is gone, nothing replaces it.
    fn removed(&mut self, key: &[u8], old: StoredRow<'_>);
}

/// Whether `stamp` is greater than every stamp in an encoded row state
/// (FORMAT.md §5: the stamp table comes first, so nothing else is read).
fn newer_than_all(state: &[u8], stamp: Stamp) -> Result<bool> {
    let mut r = crate::codec::buf::Reader::new(state, "row state");
    let n = r.count()?;
    let table = r.take(
        n.checked_mul(16)
            .ok_or_else(|| r.error("stamp table too large"))?,
    )?;
    Ok(table.chunks_exact(16).all(|c| {
        let (hlc, origin) = c.split_at(8);
        Stamp {
            hlc: u64::from_le_bytes(hlc.try_into().unwrap_or_default()),
            origin: u64::from_le_bytes(origin.try_into().unwrap_or_default()),
        } < stamp
    }))
}

/// A table: schema, rows, and the book kept in step with them.
#[derive(Clone, Debug)]
pub struct Table<B: RowBook> {
    /// The schema.
    pub schema: TableSchema,
    /// Shared with the read views taken of the table: a write copies the
    /// page index (then only the pages it touches) when a view holds it.
    rows: Arc<PageMap>,
    book: B,
    /// Keys whose row changed since [`clear_changes`](Self::clear_changes),
    /// when changes are tracked (durable regions: incremental checkpoints).
    changed: Option<BTreeSet<Box<[u8]>>>,
    /// Whether the table was created since changes were last cleared.
    fresh: bool,
}

impl<B: RowBook> Table<B> {
    /// An empty table.
    pub fn new(schema: TableSchema) -> Self {
        Table {
            schema,
            rows: Arc::default(),
            book: B::default(),
            changed: None,
            fresh: true,
        }
    }

    /// A table over rows already held (a paged region's attached pages)
    /// and the book kept in step with them.
    pub fn from_parts(schema: TableSchema, rows: PageMap, book: B) -> Self {
        Table {
            schema,
            rows: Arc::new(rows),
            book,
            changed: None,
            fresh: false,
        }
    }

    /// The rows' pages.
    pub fn page_map(&self) -> &PageMap {
        &self.rows
    }

    /// The rows' pages, for flushing and eviction (a paged region's
    /// checkpoint); writes go through the table.
    pub fn page_map_mut(&mut self) -> &mut PageMap {
        Arc::make_mut(&mut self.rows)
    }

    /// Start remembering which keys change (kept until
    /// [`clear_changes`](Self::clear_changes)); what changed before is not known.
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(BTreeSet::new);
    }

    /// The keys changed since changes were last cleared, ascending (empty
    /// for a [fresh](Self::is_fresh) table, all of whose rows are changes);
    /// `None` when changes are not tracked.
    pub fn changed_keys(&self) -> Option<&BTreeSet<Box<[u8]>>> {
        self.changed.as_ref()
    }

    /// Whether the table was created after changes were last cleared (so
    /// every row it holds is a change).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Forget the changes so far (they were checkpointed); tracking goes on.
    pub fn clear_changes(&mut self) {
        if let Some(c) = &mut self.changed {
            c.clear();
        }
        self.fresh = false;
    }

    /// What is kept in step with the rows.
    pub fn book(&self) -> &B {
        &self.book
    }

    /// The rows, shared (a read view: one reference count; a later write
    /// copies the page index and the pages it touches, never the others).
    pub fn shared_rows(&self) -> Arc<PageMap> {
        self.rows.clone()
    }

    /// The rows.
    pub fn rows(&self) -> &PageMap {
        &self.rows
    }

    /// The stored row under an encoded key.
    pub fn stored(&self, key: &[u8]) -> Option<StoredRow<'_>> {
        self.rows.get(key)
    }

    /// The stored row under an encoded key with the page holding it,
    /// shared (a checkpoint capture: no row bytes copied).
    pub fn stored_shared(&self, key: &[u8]) -> Option<SharedRow> {
        self.rows.get_shared(key)
    }

    /// Every page of rows, shared, in key order (a checkpoint capture).
    pub fn pages(&self) -> Vec<std::sync::Arc<super::pages::Leaf>> {
        self.rows.pages()
    }

    /// The stored row under an encoded key, with the key as the table holds it.
    pub fn stored_entry(&self, key: &[u8]) -> Option<(&[u8], StoredRow<'_>)> {
        self.rows.get_entry(key)
    }

    /// The decoded state under an encoded key.
    pub fn state(&self, key: &[u8]) -> Result<Option<RowState>> {
        self.rows.get(key).map(|s| s.decode()).transpose()
    }

    fn store(&mut self, key: &[u8], state: &RowState) -> Result<()> {
        let bytes = encode_row_state(state);
        self.write_row(key, |_| Ok(Some(bytes)))
    }

    /// Note `key` as changed (durable regions: incremental checkpoints).
    fn note_change(&mut self, key: &[u8]) {
        // A fresh table's changes are all its rows: no need to list them.
        if let Some(c) = self.changed.as_mut().filter(|_| !self.fresh) {
            if !c.contains(key) {
                c.insert(key.into());
            }
        }
    }

    /// Read-modify-write of the row at `key` in one lookup: `compute`
    /// sees the stored row and returns the new encoded, normalized and
    /// trimmed state (or `None` to leave the row); the book gives its
    /// fingerprint and hears of the replacement. An error changes nothing.
    fn write_row(
        &mut self,
        key: &[u8],
        compute: impl FnOnce(Option<StoredRow<'_>>) -> Result<Option<Vec<u8>>>,
    ) -> Result<()> {
        let max_versions = self.schema.options.max_versions;
        let book = &mut self.book;
        let stored =
            Arc::make_mut(&mut self.rows).upsert(key, |old| -> Result<Option<OwnedRow>> {
                let Some(state) = compute(old)? else {
                    return Ok(None);
                };
                let (digest, state_id) = book.fingerprint(key, &state, max_versions)?;
                let new = StoredRow {
                    digest: digest.as_ref(),
                    state: &state,
                    state_id,
                };
                book.replaced(key, old, new);
                Ok(Some(OwnedRow {
                    digest,
                    state,
                    state_id,
                }))
            })?;
        if stored {
            self.note_change(key);
        }
        Ok(())
    }

    /// Remove the row at `key` without leaving a tombstone (a local purge:
    /// the row is forgotten, not deleted). Returns whether a row was there;
    /// an error (a page that could not be read back) changes nothing.
    pub fn purge(&mut self, key: &[u8]) -> Result<bool> {
        let book = &mut self.book;
        if !Arc::make_mut(&mut self.rows).remove(key, |old| book.removed(key, old))? {
            return Ok(false);
        }
        self.note_change(key);
        Ok(true)
    }

    /// Merge a record's effect into the row at `key`.
    pub fn apply(
        &mut self,
        key: &[u8],
        stamp: Stamp,
        kind: ChangeKind,
        ops: &[ColumnOp],
    ) -> Result<()> {
        let refs: Vec<OpRef<'_>> = ops.iter().map(ColumnOp::as_op_ref).collect();
        self.apply_refs(key, stamp, kind, &refs)
    }

    /// Merge a record's effect, from borrowed operations, into the row at
    /// `key`. A whole-row PUT newer than everything the row holds (every
    /// local put) is encoded straight from its operations: no decode of the
    /// old row and no [`RowState`] for the new one.
    pub fn apply_refs(
        &mut self,
        key: &[u8],
        stamp: Stamp,
        kind: ChangeKind,
        ops: &[OpRef<'_>],
    ) -> Result<()> {
        let max_versions = self.schema.options.max_versions;
        self.write_row(key, |old| {
            let replaces = kind == ChangeKind::Put
                && match old {
                    None => true,
                    Some(old) => newer_than_all(old.state, stamp)?,
                };
            if replaces {
                if let Some(bytes) = fresh_put_state(stamp, ops, max_versions) {
                    return Ok(Some(bytes));
                }
            }
            let mut state = match old {
                // Nothing of the old row survives the put's row tombstone.
                Some(_) if replaces => RowState::default(),
                Some(old) => decode_row_state(old.state)?,
                None => RowState::default(),
            };
            state.apply_refs(stamp, kind, ops.iter().copied());
            state.trim(max_versions);
            Ok(Some(encode_row_state(&state)))
        })
    }

    /// Merge a whole row state into the row at `key`.
    pub fn merge_state(&mut self, key: &[u8], incoming: &RowState) -> Result<()> {
        let max_versions = self.schema.options.max_versions;
        self.write_row(key, |old| {
            let mut state = old.map(|o| o.decode()).transpose()?.unwrap_or_default();
            state.merge(incoming);
            state.trim(max_versions);
            Ok((!state.is_empty()).then(|| encode_row_state(&state)))
        })
    }

    /// Insert an encoded state as is (snapshot load); validates it by decoding.
    pub fn insert_encoded(&mut self, key: &[u8], state_bytes: &[u8]) -> Result<()> {
        let state = decode_row_state(state_bytes)?;
        self.store(key, &state)
    }

    /// Rows (existing or tombstones) between two encoded bounds, `start`
    /// inclusive, `end` exclusive, ascending.
    pub fn range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
        self.rows
            .range(Bound::Included(start), Bound::Excluded(end))
    }

    /// Rows with `end < key ≤ start` (encoded keys), descending.
    pub fn range_desc(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> impl Iterator<Item = (&[u8], StoredRow<'_>)> {
        self.rows
            .range(Bound::Excluded(end), Bound::Included(start))
            .rev()
    }

    /// Rows from a lower bound on, ascending.
    pub fn range_from(&self, lower: Bound<&[u8]>) -> impl Iterator<Item = (&[u8], StoredRow<'_>)> {
        self.rows.range(lower, Bound::Unbounded)
    }

    /// Every stored row in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], StoredRow<'_>)> {
        self.rows.iter()
    }

    /// Number of stored entries including tombstones.
    pub fn stored_count(&self) -> usize {
        self.rows.len()
    }

    /// What the row pages hold and take.
    pub fn page_stats(&self) -> super::pages::PageStats {
        self.rows.stats()
    }

    /// Check the row pages' structure (tests).
    #[doc(hidden)]
    pub fn check_pages(&self) -> std::result::Result<(), String> {
        self.rows.check()
    }

    /// Change options; row digests are recomputed since `max_versions` shapes them.
    pub fn set_options(&mut self, options: TableOptions) -> Result<()> {
        let recompute = options.max_versions != self.schema.options.max_versions;
        self.schema.options = options;
        if recompute {
            // The book computes the fingerprints and hears of the change:
            // two uses of it, so it is taken out for the pass.
            let book = std::cell::RefCell::new(std::mem::take(&mut self.book));
            let result = Arc::make_mut(&mut self.rows).refingerprint(
                |k, state| {
                    book.borrow_mut()
                        .fingerprint(k, state, options.max_versions)
                },
                |k, old, new| book.borrow_mut().replaced(k, Some(old), new),
            );
            self.book = book.into_inner();
            result?;
        }
        Ok(())
    }
}
