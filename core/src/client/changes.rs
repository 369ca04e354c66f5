//! The change log as seen from the façade: reading it, and merging records
//! from other regions.

use super::database::Database;
use crate::codec::key::normalize_key;
use crate::engine::write::check_cell_size;
use crate::log::record::{ChangeKind, ChangeRecord, ColumnOp};
use crate::log::version_vector::VersionVector;
use crate::log::ChangePage;
use crate::model::error::{Error, Result};
use crate::model::schema::validate_name;
use crate::storage::WalEntry;
use std::collections::{BTreeMap, HashSet};

/// What [`Database::apply_changes`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Records merged.
    pub applied: u64,
    /// Records skipped because this region already had them.
    pub skipped: u64,
}

impl Database {
    /// Records with cursor ≥ `cursor` (0: from the oldest kept), at most `limit`.
    pub fn changes_since(&self, cursor: u64, limit: usize) -> Result<ChangePage> {
        self.check_open()?;
        self.log.since(cursor, limit)
    }

    /// `{origin region: highest contiguous sequence}` this region holds.
    pub fn version_vector(&self) -> Result<BTreeMap<String, u64>> {
        self.check_open()?;
        Ok(self.log.version_vector().contiguous().clone())
    }

    /// The full version vector, including sequence numbers held out of order.
    pub fn version_vector_full(&self) -> Result<VersionVector> {
        self.check_open()?;
        Ok(self.log.version_vector().clone())
    }

    /// Records retention dropped from this region's log.
    pub fn dropped_records(&self) -> Result<VersionVector> {
        self.check_open()?;
        Ok(self.log.dropped().clone())
    }

    /// Cursor the next record will get.
    pub fn next_cursor(&self) -> Result<u64> {
        self.check_open()?;
        Ok(self.log.next_cursor())
    }

    fn validate_record(&self, r: &ChangeRecord) -> Result<ChangeRecord> {
        if r.origin.is_empty() || r.origin.len() > 255 {
            return Err(Error::invalid("record origin must be 1–255 bytes"));
        }
        if r.seq == 0 {
            return Err(Error::invalid("record sequence numbers start at 1"));
        }
        if r.stamp == 0 {
            return Err(Error::invalid("record stamp must be non-zero"));
        }
        let t = self.table(&r.table)?;
        let primary_key = normalize_key(&t.schema, &r.primary_key)?;
        if r.kind == ChangeKind::Delete && !r.columns.is_empty() {
            return Err(Error::invalid(
                "a DELETE record carries no column operations",
            ));
        }
        if r.columns.len() > crate::model::limits::MAX_COLUMNS_PER_WRITE {
            return Err(Error::OutOfColumnCountLimit(format!(
                "record with {} column operations",
                r.columns.len()
            )));
        }
        for op in &r.columns {
            validate_name(op.name(), "column")?;
            if t.schema.primary_key.iter().any(|c| c.name == op.name()) {
                return Err(Error::invalid(format!(
                    "'{}' is a primary-key column",
                    op.name()
                )));
            }
            match op {
                ColumnOp::Put {
                    name,
                    value,
                    timestamp,
                } => {
                    check_cell_size(name, value)?;
                    if *timestamp < 0 {
                        return Err(Error::invalid("negative timestamp in record"));
                    }
                }
                ColumnOp::DeleteOneVersion { timestamp, .. } if *timestamp < 0 => {
                    return Err(Error::invalid("negative timestamp in record"));
                }
                _ if r.kind == ChangeKind::Put => {
                    return Err(Error::invalid(
                        "a PUT record carries only PUT column operations",
                    ));
                }
                _ => {}
            }
        }
        Ok(ChangeRecord {
            primary_key,
            ..r.clone()
        })
    }

    /// Merge records from other regions (or this one). Records this region
    /// already holds are skipped; the rest are validated first, and if any is
    /// invalid nothing is applied. Any order, any duplicates: same state.
    pub fn apply_changes(&mut self, records: &[ChangeRecord]) -> Result<ApplyStats> {
        self.check_open()?;
        let mut seen = HashSet::with_capacity(records.len());
        let mut fresh = Vec::new();
        let mut stats = ApplyStats::default();
        for r in records {
            if self.log.contains(&r.origin, r.seq) || !seen.insert((r.origin.as_str(), r.seq)) {
                stats.skipped += 1;
                continue;
            }
            fresh.push(self.validate_record(r)?);
        }
        if fresh.is_empty() {
            return Ok(stats);
        }
        stats.applied = fresh.len() as u64;
        let mut cursor = self.log.next_cursor();
        let entries = fresh
            .into_iter()
            .map(|mut r| {
                r.cursor = cursor;
                cursor += 1;
                WalEntry::Record(r)
            })
            .collect();
        self.commit_entries(entries)?;
        Ok(stats)
    }
}
