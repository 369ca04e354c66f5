//! One table in memory: rows as encoded states in key order, plus the
//! running digest.

use super::row_state::RowState;
use crate::codec::row_state::{decode_row_state, encode_row_state};
use crate::digest::riblt::{Symbol, SymbolCache};
use crate::digest::{row_digest, row_digest_encoded, state_id, Accumulator, Digest};
use crate::log::hlc::Stamp;
use super::fresh_put::fresh_put_state;
use crate::log::record::{ChangeKind, ColumnOp, OpRef};
use crate::model::error::Result;
use crate::model::schema::{TableOptions, TableSchema};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::OnceLock;

/// A row as held: its digest (if it exists) and its encoded state.
#[derive(Clone, Debug)]
pub struct StoredRow {
    /// Row digest; `None` when the row does not exist (a tombstone).
    pub digest: Option<[u8; 32]>,
    /// Encoded [`RowState`].
    pub state: Box<[u8]>,
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

/// The stored form of a state: its digest and encoding.
fn make_row(key: &[u8], state: &RowState, max_versions: u32) -> StoredRow {
    let bytes = encode_row_state(state);
    StoredRow {
        digest: row_digest(key, state, max_versions),
        state_id: state_id(key, &bytes),
        state: bytes.into_boxed_slice(),
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

/// A table: schema, rows and digest.
#[derive(Clone, Debug)]
pub struct Table {
    /// The schema.
    pub schema: TableSchema,
    rows: BTreeMap<Box<[u8]>, StoredRow>,
    acc: Accumulator,
    /// Wrapping sum of every stored row's state id (tombstones included).
    state_sum: u64,
    /// Reconcile symbols of the stored rows' state ids, built on first use
    /// and then kept up to date by every write.
    symbols: OnceLock<SymbolCache>,
    /// Reused buffer for row-digest input.
    scratch: Vec<u8>,
}

impl Table {
    /// An empty table.
    pub fn new(schema: TableSchema) -> Self {
        Table {
            schema,
            rows: BTreeMap::new(),
            acc: Accumulator::default(),
            state_sum: 0,
            symbols: OnceLock::new(),
            scratch: Vec::new(),
        }
    }

    /// The stored row under an encoded key.
    pub fn stored(&self, key: &[u8]) -> Option<&StoredRow> {
        self.rows.get(key)
    }

    /// The decoded state under an encoded key.
    pub fn state(&self, key: &[u8]) -> Result<Option<RowState>> {
        self.rows.get(key).map(|s| s.decode()).transpose()
    }

    fn store(&mut self, key: &[u8], state: &RowState) {
        let new = make_row(key, state, self.schema.options.max_versions);
        self.replace(key, new);
    }

    /// Put `new` under `key` (replacing what was there), keeping the
    /// accumulator, the state sum and the symbols in step.
    fn replace(&mut self, key: &[u8], new: StoredRow) {
        if let Some(d) = &new.digest {
            self.acc.add(d);
        }
        let new_id = new.state_id;
        let old_id = if let Some(old) = self.rows.get_mut(key) {
            if let Some(d) = &old.digest {
                self.acc.remove(d);
            }
            let id = old.state_id;
            *old = new;
            Some(id)
        } else {
            self.rows.insert(key.into(), new);
            None
        };
        self.ids_changed(old_id, new_id);
    }

    /// Keep the state sum and the reconcile symbols in step with a row whose
    /// state id went from `old` (none: a new row) to `new`.
    fn ids_changed(&mut self, old: Option<u64>, new: u64) {
        self.state_sum = self
            .state_sum
            .wrapping_sub(old.unwrap_or(0))
            .wrapping_add(new);
        if let Some(cache) = self.symbols.get_mut() {
            if let Some(old) = old {
                cache.remove(old);
            }
            cache.add(new);
        }
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
        self.store(key, &state);
        Ok(())
    }

    /// Store an encoded, normalized and trimmed state under `key`, keeping
    /// the digest, the state sum and the symbols in step.
    fn store_encoded(&mut self, key: &[u8], bytes: Vec<u8>) -> Result<()> {
        let max_versions = self.schema.options.max_versions;
        let digest = row_digest_encoded(key, &bytes, max_versions, &mut self.scratch)?;
        let new = StoredRow {
            digest,
            state_id: state_id(key, &bytes),
            state: bytes.into_boxed_slice(),
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
        self.store(key, &state);
        Ok(())
    }

    /// Insert an encoded state as is (snapshot load); validates it by decoding.
    pub fn insert_encoded(&mut self, key: &[u8], state_bytes: &[u8]) -> Result<()> {
        let state = decode_row_state(state_bytes)?;
        self.store(key, &state);
        Ok(())
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

    /// Number of rows that exist.
    pub fn row_count(&self) -> u64 {
        self.acc.count
    }

    /// Number of stored entries including tombstones.
    pub fn stored_count(&self) -> usize {
        self.rows.len()
    }

    /// The table digest, from the running accumulator (O(1)).
    pub fn digest(&self) -> Digest {
        self.acc.digest()
    }

    /// Wrapping sum of the state ids (FORMAT.md §13.1) of every stored row,
    /// tombstones included (O(1)): equal sums mean equal merged states.
    pub fn state_sum(&self) -> u64 {
        self.state_sum
    }

    /// Reconcile symbols `[from, to)` of the stored rows' state ids (every
    /// stored row, tombstones included), when `to` is within the symbols a
    /// table keeps up to date ([`SymbolCache::LEN`]); `None` beyond. The
    /// first call builds them from every row; later writes keep them.
    pub fn state_symbols(&self, from: usize, to: usize) -> Option<Vec<Symbol>> {
        if to > SymbolCache::LEN || from > to {
            return None;
        }
        let cache = self
            .symbols
            .get_or_init(|| SymbolCache::new(self.rows.values().map(|r| r.state_id)));
        cache.get(from, to).map(<[Symbol]>::to_vec)
    }

    /// The running accumulator.
    pub fn accumulator(&self) -> Accumulator {
        self.acc
    }

    /// Recompute every row digest from the states (a full rescan).
    pub fn rescan(&self) -> Result<Accumulator> {
        let mut acc = Accumulator::default();
        let mut scratch = Vec::with_capacity(256);
        for (k, row) in &self.rows {
            if let Some(d) = row_digest_encoded(
                k,
                &row.state,
                self.schema.options.max_versions,
                &mut scratch,
            )? {
                acc.add(&d);
            }
        }
        Ok(acc)
    }

    /// The accumulator of rows in `[start, end)` (encoded keys), from cached row digests.
    pub fn range_accumulator(&self, start: &[u8], end: &[u8]) -> Accumulator {
        let mut acc = Accumulator::default();
        for (_, row) in self.range(start, end) {
            if let Some(d) = &row.digest {
                acc.add(d);
            }
        }
        acc
    }

    /// Change options; row digests are recomputed since `max_versions` shapes them.
    pub fn set_options(&mut self, options: TableOptions) -> Result<()> {
        let recompute = options.max_versions != self.schema.options.max_versions;
        self.schema.options = options;
        if recompute {
            let mut acc = Accumulator::default();
            for (k, row) in self.rows.iter_mut() {
                let st = decode_row_state(&row.state)?;
                row.digest = row_digest(k, &st, options.max_versions);
                if let Some(d) = &row.digest {
                    acc.add(d);
                }
            }
            self.acc = acc;
        }
        Ok(())
    }
}
