//! Local purges: rows removed from this region only, without tombstones
//! and without change records (FORMAT.md §9, `PURGE_ROWS`). A purge is not
//! a delete: nothing replicates from it, and the rows come back if a peer
//! merges them again. Its use is dropping the rows of partitions a region
//! no longer holds after a cluster map change (docs/CLUSTER.md).

use super::database::Database;
use crate::model::error::Result;
use crate::model::primary_key::PrimaryKey;
use crate::storage::WalEntry;

/// Keys purged per WAL commit, so one purge of a large partition never
/// makes one huge commit record.
const PURGE_KEYS_PER_COMMIT: usize = 4096;

impl Database {
    /// Remove the rows of `table` under `keys` from this region without
    /// tombstones or change records, durably (a WAL entry replayed on
    /// reopen; checkpoints carry it). Digests and state sums drop the rows.
    /// Keys the table does not hold are skipped. Returns rows removed.
    pub fn purge_rows(&mut self, table: &str, keys: &[PrimaryKey]) -> Result<u64> {
        let t = self.table(table)?;
        let mut encoded = Vec::with_capacity(keys.len());
        for pk in keys {
            encoded.push(crate::codec::key::encode_key(&t.schema, pk)?);
        }
        self.purge_encoded(table, encoded)
    }

    /// Remove every row of `table` whose encoded key (FORMAT.md §3)
    /// satisfies `select`, like [`purge_rows`](Self::purge_rows). Returns
    /// rows removed.
    pub fn purge_where(&mut self, table: &str, select: impl Fn(&[u8]) -> bool) -> Result<u64> {
        let keys: Vec<Vec<u8>> = self
            .table(table)?
            .iter()
            .filter(|(k, _)| select(k))
            .map(|(k, _)| k.to_vec())
            .collect();
        self.purge_encoded(table, keys)
    }

    /// Purge encoded keys (those the table holds), in commits of at most
    /// [`PURGE_KEYS_PER_COMMIT`] keys.
    pub(crate) fn purge_encoded(&mut self, table: &str, mut keys: Vec<Vec<u8>>) -> Result<u64> {
        let t = self.table(table)?;
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|k| t.stored(k).is_some());
        let n = keys.len() as u64;
        let mut rest = keys.as_slice();
        while !rest.is_empty() {
            let (now, later) = rest.split_at(rest.len().min(PURGE_KEYS_PER_COMMIT));
            self.commit_entries(vec![WalEntry::PurgeRows {
                table: table.to_string(),
                keys: now.to_vec(),
            }])?;
            rest = later;
        }
        Ok(n)
    }
}
