//! Per-partition digests of a cluster table: the rows a region holds,
//! grouped by the partition the map puts their key in, each group folded
//! into the same order-independent accumulator as a table digest. Two
//! replicas of a partition agree exactly when their accumulators do, for
//! hash-placed tables too (whose buckets differ per region).

use super::map::ClusterMap;
use crate::client::database::Database;
use crate::digest::Accumulator;
use crate::model::error::Result;
use std::collections::BTreeMap;

impl Database {
    /// The accumulator of each partition of `table` under `map` that has
    /// at least one row here, keyed by partition id (a hash bucket or a
    /// range partition). Reads every row: O(rows).
    pub fn partition_accumulators(
        &self,
        map: &ClusterMap,
        table: &str,
    ) -> Result<BTreeMap<u32, Accumulator>> {
        map.table(table)?;
        let t = self.table(table)?;
        let mut out: BTreeMap<u32, Accumulator> = BTreeMap::new();
        // Every encoded key sorts below a lone 0xff (type tags are smaller).
        for (key, row) in t.range(&[], &[0xff]) {
            if let Some(d) = &row.digest {
                out.entry(map.partition_of(table, key)?).or_default().add(d);
            }
        }
        Ok(out)
    }
}
