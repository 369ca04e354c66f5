//! The rows a partition move copies: pages of whole row states (tombstones
//! and stamps included, FORMAT.md §13) selected by a [`KeyFilter`], merged
//! at the target with [`Database::merge_rows`] — the same row states a
//! `full` sync moves, restricted to one partition's key range or buckets.

use super::rebalance::KeyFilter;
use crate::client::database::Database;
use crate::model::error::Result;
use std::ops::Bound;

/// A page of row states: `(encoded key, state)` pairs and where to continue.
pub type RowsPage = (Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>);

impl Database {
    /// A page of `table`'s row states selected by `filter`, in key order,
    /// after `after` (empty: from the first), about `max_bytes` long.
    /// Returns the rows and where to continue (empty when done).
    pub fn partition_rows_page(
        &self,
        table: &str,
        filter: &KeyFilter,
        after: &[u8],
        max_bytes: usize,
    ) -> Result<RowsPage> {
        let t = self.table(table)?;
        let lower = match (after.is_empty(), filter) {
            (false, _) => Bound::Excluded(after),
            (true, KeyFilter::Range { start, .. }) if !start.is_empty() => {
                Bound::Included(start.as_slice())
            }
            _ => Bound::Unbounded,
        };
        let mut rows = Vec::new();
        let mut size = 0usize;
        for (k, r) in t.range_from(lower) {
            if let KeyFilter::Range { end, .. } = filter {
                // Keys sort by their partition key first: past the end, done.
                if !end.is_empty() && !filter.contains(k) && k >= end.as_slice() {
                    return Ok((rows, Vec::new()));
                }
            }
            if !filter.contains(k) {
                continue;
            }
            if size >= max_bytes.max(1) {
                // Continue after the last row returned.
                let next = rows
                    .last()
                    .map(|(k, _): &(Vec<u8>, Vec<u8>)| k.clone())
                    .unwrap_or_default();
                return Ok((rows, next));
            }
            size += k.len() + r.state.len() + 8;
            rows.push((k.to_vec(), r.state.to_vec()));
        }
        Ok((rows, Vec::new()))
    }
}

impl Database {
    /// Purge (FORMAT.md §9 `PURGE_ROWS`: no tombstones, no change records)
    /// the rows of `table` selected by `filter` that `moves` — this
    /// region's map — does not give this region: the rows of partitions it
    /// lost in a map change. Refused unless the map is at `epoch` or newer.
    /// Returns rows removed.
    pub fn purge_lost_rows(
        &mut self,
        table: &str,
        filter: &KeyFilter,
        moves: &super::rebalance::RegionMoves,
        epoch: u64,
    ) -> Result<u64> {
        moves.check_purge(epoch)?;
        match self.table(table) {
            Err(crate::model::error::Error::ObjectNotExist(_)) => return Ok(0), // nothing held
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        self.purge_where(table, |k| filter.contains(k) && !moves.holds(table, k))
    }
}

impl Database {
    /// Create `schema`'s table unless this region has a table of that name
    /// (the target of a copy that lacks the table — a region of a new
    /// datacenter — gets it from the source). Returns whether it was
    /// created. An existing table with other primary-key columns is
    /// `InvalidArgument`: the copied keys would not decode.
    pub fn ensure_table(&mut self, schema: crate::model::schema::TableSchema) -> Result<bool> {
        match self.table(&schema.name) {
            Ok(t) if t.schema.primary_key == schema.primary_key => Ok(false),
            Ok(_) => Err(crate::model::error::Error::invalid(format!(
                "table '{}' exists here with other primary-key columns than the cluster's",
                schema.name
            ))),
            Err(crate::model::error::Error::ObjectNotExist(_)) => {
                self.create_table(schema)?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }
}
