//! Table and range digests.

use super::database::Database;
pub use super::region_read::RangeDigest;
use super::region_read::RegionRead;
use crate::digest::{Accumulator, Digest};
use crate::model::error::{Error, Result};
use crate::model::primary_key::RangeBound;

impl Database {
    /// The table's SHA-256 digest: O(1), maintained on every write.
    pub fn table_digest(&self, table: &str) -> Result<Digest> {
        RegionRead::table_digest(self, table)
    }

    /// Recompute the digest from every row and check it against the
    /// maintained one; `CorruptData` if they differ.
    pub fn verify_table_digest(&self, table: &str) -> Result<Digest> {
        let mark = self.fault_mark();
        let t = self.table(table)?;
        let rescanned = t.rescan()?;
        self.faults_since(mark)?;
        if rescanned != t.accumulator() {
            return Err(Error::corrupt(format!(
                "table '{table}': maintained digest {} but rows hash to {}",
                t.digest(),
                rescanned.digest()
            )));
        }
        Ok(rescanned.digest())
    }

    /// The digest of the rows in `[start, end)` (forward order bounds).
    pub fn range_digest(
        &self,
        table: &str,
        start: &RangeBound,
        end: &RangeBound,
    ) -> Result<RangeDigest> {
        RegionRead::range_digest(self, table, start, end)
    }

    /// The accumulator of rows in `[start, end)` given encoded keys (for the sync layer).
    pub fn range_accumulator_encoded(
        &self,
        table: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Accumulator> {
        let t = self.table_read(table)?;
        let mark = t.rows.fault_mark();
        let acc = t.range_accumulator(start, end);
        t.rows.faults_since(mark)?;
        Ok(acc)
    }
}
