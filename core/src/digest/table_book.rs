//! The digest bookkeeping of one table: what [`crate::engine::table::Table`]
//! keeps in step with its rows through the [`RowBook`] it calls.

use super::accumulator::Accumulator;
use super::id_index::IdIndex;
use super::riblt::SymbolCache;
use super::row_hash::row_digest_encoded;
use super::state_id::state_id;
use crate::engine::table::{RowBook, StoredRow};
use crate::model::error::Result;
use std::sync::OnceLock;

/// A table's running digest, state sum and reconcile symbols.
#[derive(Clone, Debug, Default)]
pub struct TableBook {
    /// Sum of the row digests of the rows that exist.
    pub(crate) acc: Accumulator,
    /// Wrapping sum of every stored row's state id (tombstones included).
    pub(crate) state_sum: u64,
    /// Reconcile symbols of the stored rows' state ids, built on first use
    /// and then kept up to date by every write.
    pub(crate) symbols: OnceLock<SymbolCache>,
    /// Keys by state id, built on first use (the first reconcile) and then
    /// kept up to date by every write.
    pub(crate) ids: OnceLock<IdIndex>,
    /// Reused buffer for row-digest input.
    scratch: Vec<u8>,
}

impl TableBook {
    /// The book of rows already held elsewhere (a paged region's pages):
    /// their digest sum and state-id sum as last stored.
    pub(crate) fn restored(acc: Accumulator, state_sum: u64) -> TableBook {
        TableBook {
            acc,
            state_sum,
            ..TableBook::default()
        }
    }
}

impl RowBook for TableBook {
    fn fingerprint(
        &mut self,
        key: &[u8],
        state: &[u8],
        max_versions: u32,
    ) -> Result<(Option<[u8; 32]>, u64)> {
        let digest = row_digest_encoded(key, state, max_versions, &mut self.scratch)?;
        Ok((digest, state_id(key, state)))
    }

    fn replaced(&mut self, key: &[u8], old: Option<StoredRow<'_>>, new: StoredRow<'_>) {
        if let Some(d) = old.and_then(|o| o.digest) {
            self.acc.remove(d);
        }
        if let Some(d) = new.digest {
            self.acc.add(d);
        }
        let old_id = old.map(|o| o.state_id);
        self.state_sum = self
            .state_sum
            .wrapping_sub(old_id.unwrap_or(0))
            .wrapping_add(new.state_id);
        if old_id == Some(new.state_id) {
            return;
        }
        if let Some(index) = self.ids.get_mut() {
            if let Some(old) = old_id {
                index.remove(old, key);
            }
            index.add(new.state_id, key);
            if index.is_oversized() {
                // Many rows changed since the build: the next reconcile
                // rebuilds it compactly.
                self.ids = OnceLock::new();
            }
        }
        if let Some(cache) = self.symbols.get_mut() {
            if let Some(old) = old_id {
                cache.remove(old);
            }
            cache.add(new.state_id);
        }
    }

    fn removed(&mut self, key: &[u8], old: StoredRow<'_>) {
        if let Some(d) = old.digest {
            self.acc.remove(d);
        }
        self.state_sum = self.state_sum.wrapping_sub(old.state_id);
        if let Some(index) = self.ids.get_mut() {
            index.remove(old.state_id, key);
        }
        if let Some(cache) = self.symbols.get_mut() {
            cache.remove(old.state_id);
        }
    }
}
