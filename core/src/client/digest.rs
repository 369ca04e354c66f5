//! Table and range digests.

use super::database::Database;
use crate::codec::key::encode_bound;
use crate::digest::{Accumulator, Digest};
use crate::model::error::{Error, Result};
use crate::model::primary_key::RangeBound;

/// The digest of the rows in a key range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeDigest {
    /// Rows in the range.
    pub rows: u64,
    /// Digest (same construction as the table digest).
    pub digest: Digest,
}

impl Database {
    /// The table's SHA-256 digest: O(1), maintained on every write.
    pub fn table_digest(&self, table: &str) -> Result<Digest> {
        Ok(self.table(table)?.digest())
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
        let mark = self.fault_mark();
        let t = self.table(table)?;
        let s = encode_bound(&t.schema, start)?;
        let e = encode_bound(&t.schema, end)?;
        let acc = t.range_accumulator(&s, &e);
        self.faults_since(mark)?;
        Ok(RangeDigest {
            rows: acc.count,
            digest: acc.digest(),
        })
    }

    /// The accumulator of rows in `[start, end)` given encoded keys (for the sync layer).
    pub fn range_accumulator_encoded(
        &self,
        table: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Accumulator> {
        let mark = self.fault_mark();
        let acc = self.table(table)?.range_accumulator(start, end);
        self.faults_since(mark)?;
        Ok(acc)
    }
}
