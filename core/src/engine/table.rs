//! One table in memory: rows as encoded states in key order, and the merge
//! of records and whole states into them. What is kept in step with the
//! rows (digests, state ids and their sums) is a [`RowBook`] the table
//! calls, implemented above the engine (`crate::table`), so the engine
//! imports nothing of the digest.

use super::fresh_put::fresh_put_state;
use super::row_state::RowState;
use crate::codec::row_state::{decode_row_state, encode_row_state};
use crate::log::hlc::Stamp;
use crate::log::record::{ChangeKind, ColumnOp, OpRef};
use crate::model::error::Result;
use crate::model::schema::{TableOptions, TableSchema};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

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
    fn replaced(&mut self, key: &[u8], old: Option<&StoredRow>, new: &StoredRow);
    /// The row at `key` was purged: `old` is gone, nothing replaces it.
    fn removed(&mut self, key: &[u8], old: &StoredRow);
}

/// A row as held: its digest (if it exists) and its encoded state.
#[derive(Clone, Debug)]
pub struct StoredRow {
    /// Row digest; `None` when the row does not exist (a tombstone).
    pub digest: Option<[u8; 32]>,
    /// Encoded [`RowState`].
    pub state: std::sync::Arc<[u8]>,
    /// [`state_id`] of the key and `state` (FORMAT.md §13.1), kept so writes
    /// and reconcile need not rehash stored states.
    pub state_id: u64,
}

impl StoredRow {
    /// Decode the state. Stored bytes were produced by this process, so a
    /// failure means memory corruption; it is still reported, not panicked on.
    pub fn decode(&self) -> Result<RowState> {
        decode_row_state(&self.state)
    }
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
    rows: BTreeMap<Box<[u8]>, StoredRow>,
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
            rows: BTreeMap::new(),
            book: B::default(),
            changed: None,
            fresh: true,
        }
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

    /// The stored row under an encoded key.
    pub fn stored(&self, key: &[u8]) -> Option<&StoredRow> {
        self.rows.get(key)
    }

    /// The stored row under an encoded key, with the key as the table holds it.
    pub fn stored_entry(&self, key: &[u8]) -> Option<(&[u8], &StoredRow)> {
        self.rows.get_key_value(key).map(|(k, v)| (&**k, v))
    }

    /// The decoded state under an encoded key.
    pub fn state(&self, key: &[u8]) -> Result<Option<RowState>> {
        self.rows.get(key).map(|s| s.decode()).transpose()
    }

    fn store(&mut self, key: &[u8], state: &RowState) -> Result<()> {
        self.store_encoded(key, encode_row_state(state))
    }

    /// Put `new` under `key` (replacing what was there) and tell the book.
    fn replace(&mut self, key: &[u8], new: StoredRow) {
        // A fresh table's changes are all its rows: no need to list them.
        if let Some(c) = self.changed.as_mut().filter(|_| !self.fresh) {
            if !c.contains(key) {
                c.insert(key.into());
            }
        }
        if let Some(old) = self.rows.get_mut(key) {
            self.book.replaced(key, Some(old), &new);
            *old = new;
        } else {
            self.book.replaced(key, None, &new);
            self.rows.insert(key.into(), new);
        }
    }

    /// Remove the row at `key` without leaving a tombstone (a local purge:
    /// the row is forgotten, not deleted). Returns whether a row was there.
    pub fn purge(&mut self, key: &[u8]) -> bool {
        let Some(old) = self.rows.remove(key) else {
            return false;
        };
        if let Some(c) = self.changed.as_mut().filter(|_| !self.fresh) {
            if !c.contains(key) {
                c.insert(key.into());
            }
        }
        self.book.removed(key, &old);
        true
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
        let old = self.rows.get(key);
        let replaces = kind == ChangeKind::Put
            && match old {
                None => true,
                Some(old) => newer_than_all(&old.state, stamp)?,
            };
        if replaces {
            if let Some(bytes) = fresh_put_state(stamp, ops, max_versions) {
                return self.store_encoded(key, bytes);
            }
        }
        let mut state = match old {
            // Nothing of the old row survives the put's row tombstone.
            Some(_) if replaces => RowState::default(),
            Some(old) => decode_row_state(&old.state)?,
            None => RowState::default(),
        };
        state.apply_refs(stamp, kind, ops.iter().copied());
        state.trim(max_versions);
        self.store(key, &state)
    }

    /// Store an encoded, normalized and trimmed state under `key`, its
    /// fingerprint from the book.
    fn store_encoded(&mut self, key: &[u8], bytes: Vec<u8>) -> Result<()> {
        let max_versions = self.schema.options.max_versions;
        let (digest, state_id) = self.book.fingerprint(key, &bytes, max_versions)?;
        let new = StoredRow {
            digest,
            state_id,
            state: bytes.into(),
        };
        self.replace(key, new);
        Ok(())
    }

    /// Merge a whole row state into the row at `key`.
    pub fn merge_state(&mut self, key: &[u8], incoming: &RowState) -> Result<()> {
        let mut state = self.state(key)?.unwrap_or_default();
        state.merge(incoming);
        state.trim(self.schema.options.max_versions);
        if state.is_empty() {
            return Ok(());
        }
        self.store(key, &state)
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
    ) -> impl DoubleEndedIterator<Item = (&[u8], &StoredRow)> {
        let r = if start < end {
            Some(
                self.rows
                    .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end))),
            )
        } else {
            None
        };
        r.into_iter().flatten().map(|(k, v)| (&**k, v))
    }

    /// Rows with `end < key ≤ start` (encoded keys), descending.
    pub fn range_desc(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> impl Iterator<Item = (&[u8], &StoredRow)> {
        let r = if end < start {
            Some(
                self.rows
                    .range::<[u8], _>((Bound::Excluded(end), Bound::Included(start)))
                    .rev(),
            )
        } else {
            None
        };
        r.into_iter().flatten().map(|(k, v)| (&**k, v))
    }

    /// Rows from a lower bound on, ascending.
    pub fn range_from(&self, lower: Bound<&[u8]>) -> impl Iterator<Item = (&[u8], &StoredRow)> {
        self.rows
            .range::<[u8], _>((lower, Bound::Unbounded))
            .map(|(k, v)| (&**k, v))
    }

    /// Every stored row in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], &StoredRow)> {
        self.rows.iter().map(|(k, v)| (&**k, v))
    }

    /// Number of stored entries including tombstones.
    pub fn stored_count(&self) -> usize {
        self.rows.len()
    }

    /// Change options; row digests are recomputed since `max_versions` shapes them.
    pub fn set_options(&mut self, options: TableOptions) -> Result<()> {
        let recompute = options.max_versions != self.schema.options.max_versions;
        self.schema.options = options;
        if recompute {
            for (k, row) in self.rows.iter_mut() {
                let (digest, state_id) =
                    self.book.fingerprint(k, &row.state, options.max_versions)?;
                let new = StoredRow {
                    digest,
                    state_id,
                    state: row.state.clone(),
                };
                self.book.replaced(k, Some(row), &new);
                *row = new;
            }
        }
        Ok(())
    }
}
