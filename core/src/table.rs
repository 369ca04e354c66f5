//! A table as the database holds it: the engine's rows
//! ([`crate::engine::table::Table`]) with the digest bookkeeping
//! ([`TableBook`]) kept in step. This layer sits above both the engine and
//! the digest, so neither imports the other's table code.

use crate::digest::riblt::{Symbol, SymbolCache};
use crate::digest::{row_digest_encoded, Accumulator, Digest, IdIndex, TableBook};
use crate::engine::table::StoredRow;
use crate::model::error::Result;
use std::collections::HashSet;

/// A table: schema, rows, running digest, state sum and reconcile symbols.
pub type Table = crate::engine::table::Table<TableBook>;

impl crate::engine::table::Table<TableBook> {
    /// Number of rows that exist.
    pub fn row_count(&self) -> u64 {
        self.book().acc.count
    }

    /// The table digest, from the running accumulator (O(1)).
    pub fn digest(&self) -> Digest {
        self.book().acc.digest()
    }

    /// Wrapping sum of the state ids (FORMAT.md §13.1) of every stored row,
    /// tombstones included (O(1)): equal sums mean equal merged states.
    pub fn state_sum(&self) -> u64 {
        self.book().state_sum
    }

    /// Reconcile symbols `[from, to)` of the stored rows' state ids (every
    /// stored row, tombstones included), when `to` is within the symbols a
    /// table keeps up to date ([`SymbolCache::LEN`]); `None` beyond. The
    /// first call builds them (and the id index, in the same pass) from
    /// every row; later writes keep them.
    pub fn state_symbols(&self, from: usize, to: usize) -> Option<Vec<Symbol>> {
        if to > SymbolCache::LEN || from > to {
            return None;
        }
        let book = self.book();
        let cache = book.symbols.get_or_init(|| {
            if book.ids.get().is_some() {
                return SymbolCache::new(self.iter().map(|(_, r)| r.state_id));
            }
            // One pass over the rows builds the id index too: a reconcile
            // that needs the symbols looks its differing rows up next.
            let pairs: Vec<(u64, &[u8])> = self.iter().map(|(k, r)| (r.state_id, k)).collect();
            let symbols = SymbolCache::new(pairs.iter().map(|(id, _)| *id));
            let _ = book.ids.set(IdIndex::new(pairs));
            symbols
        });
        cache.get(from, to).map(<[Symbol]>::to_vec)
    }

    /// The stored rows (tombstones included) whose state ids are in `ids`,
    /// in key order, found through the table's id index: the first call
    /// builds it from every row; later writes keep it, so a reconcile that
    /// decoded a few differing ids does not scan the table. Each candidate
    /// key is checked against its row's current state id.
    pub fn rows_with_state_ids(&self, ids: &HashSet<u64>) -> Vec<(&[u8], StoredRow<'_>)> {
        if ids.is_empty() {
            return Vec::new();
        }
        let index = self
            .book()
            .ids
            .get_or_init(|| IdIndex::new(self.iter().map(|(k, r)| (r.state_id, k))));
        let mut out: Vec<(&[u8], StoredRow<'_>)> = ids
            .iter()
            .flat_map(|&id| index.candidates(id).map(move |k| (id, k)))
            .filter_map(|(id, k)| self.stored_entry(k).filter(|(_, r)| r.state_id == id))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// The running accumulator.
    pub fn accumulator(&self) -> Accumulator {
        self.book().acc
    }

    /// Recompute every row digest from the states (a full rescan).
    pub fn rescan(&self) -> Result<Accumulator> {
        let mut acc = Accumulator::default();
        let mut scratch = Vec::with_capacity(256);
        let max_versions = self.schema.options.max_versions;
        for (k, row) in self.iter() {
            if let Some(d) = row_digest_encoded(k, row.state, max_versions, &mut scratch)? {
                acc.add(&d);
            }
        }
        Ok(acc)
    }
}
