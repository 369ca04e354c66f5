//! The change log as seen from the façade: reading it, and merging records
//! from other regions.

use super::database::Database;
use super::remote_checks::MAX_SEQ;
use crate::codec::key::normalize_key;
use crate::engine::write::check_cell_size;
use crate::log::record::{ChangeKind, ChangeRecord, ColumnOp};
use crate::log::version_vector::VersionVector;
use crate::log::ChangePage;
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;
use crate::model::schema::validate_column_name;
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

    fn validate_record(&self, r: &ChangeRecord, from_peer: bool) -> Result<(PrimaryKey, Vec<u8>)> {
        if r.origin.is_empty() || r.origin.len() > 255 {
            return Err(Error::invalid("record origin must be 1–255 bytes"));
        }
        if r.seq == 0 {
            return Err(Error::invalid("record sequence numbers start at 1"));
        }
        if r.stamp == 0 {
            return Err(Error::invalid("record stamp must be non-zero"));
        }
        // Findings of issue 12: no upper bound on seq (the next local
        // sequence number overflowed), claims of a peer on this region's own
        // records, and a far-future stamp that pinned the HLC.
        if from_peer {
            self.check_seq_claim(&r.origin, r.seq, r.seq)?;
        } else if r.seq > MAX_SEQ {
            return Err(Error::invalid(format!(
                "record sequence number {} exceeds {MAX_SEQ}",
                r.seq
            )));
        }
        self.check_remote_stamp(&r.origin, r.stamp)?;
        let t = self.table(&r.table)?;
        let primary_key = normalize_key(&t.schema, &r.primary_key)?;
        let key = crate::codec::key::encode_key(&t.schema, &primary_key)?;
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
            validate_column_name(op.name(), "column")?;
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
        Ok((primary_key, key))
    }

    /// Merge records from other regions (or this one). Records this region
    /// already holds are skipped; the rest are validated first, and if any is
    /// invalid nothing is applied. Any order, any duplicates: same state.
    pub fn apply_changes(&mut self, records: &[ChangeRecord]) -> Result<ApplyStats> {
        self.check_open()?;
        let keep = self.fresh_records(records.iter(), false)?;
        let fresh = keep
            .iter()
            .map(|(i, pk, k)| (records[*i].clone(), pk.clone(), k.clone()));
        let stats = ApplyStats {
            applied: keep.len() as u64,
            skipped: (records.len() - keep.len()) as u64,
        };
        self.commit_fresh(fresh.collect())?;
        Ok(stats)
    }

    /// [`apply_changes`](Self::apply_changes) taking the records by value
    /// (no copies; what the sync layer uses).
    pub fn apply_changes_owned(&mut self, records: Vec<ChangeRecord>) -> Result<ApplyStats> {
        self.apply_owned(records, false)
    }

    /// [`apply_changes_owned`](Self::apply_changes_owned) for records a
    /// peer sent: also refuses records of this region's own name above its
    /// last sequence number (a user may re-apply its own region's records,
    /// e.g. to seed a durable copy; a peer may not invent them).
    pub(crate) fn apply_peer_changes(&mut self, records: Vec<ChangeRecord>) -> Result<ApplyStats> {
        self.apply_owned(records, true)
    }

    fn apply_owned(&mut self, records: Vec<ChangeRecord>, from_peer: bool) -> Result<ApplyStats> {
        self.check_open()?;
        let keep = self.fresh_records(records.iter(), from_peer)?;
        let stats = ApplyStats {
            applied: keep.len() as u64,
            skipped: (records.len() - keep.len()) as u64,
        };
        let mut slots: Vec<Option<ChangeRecord>> = records.into_iter().map(Some).collect();
        let fresh = keep
            .into_iter()
            .map(|(i, pk, k)| (slots[i].take().expect("each index once"), pk, k))
            .collect();
        self.commit_fresh(fresh)?;
        Ok(stats)
    }

    /// Indexes of the records to apply (new to this region, first of their
    /// duplicates), each validated, with its normalized and encoded key.
    fn fresh_records<'a>(
        &self,
        records: impl Iterator<Item = &'a ChangeRecord>,
        from_peer: bool,
    ) -> Result<Vec<(usize, PrimaryKey, Vec<u8>)>> {
        let mut seen = HashSet::new();
        let mut keep = Vec::new();
        for (i, r) in records.enumerate() {
            if self.log.contains(&r.origin, r.seq) || !seen.insert((r.origin.as_str(), r.seq)) {
                continue;
            }
            let (pk, key) = self.validate_record(r, from_peer)?;
            keep.push((i, pk, key));
        }
        Ok(keep)
    }

    fn commit_fresh(&mut self, fresh: Vec<(ChangeRecord, PrimaryKey, Vec<u8>)>) -> Result<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let mut keys = Vec::with_capacity(fresh.len());
        let mut entries = Vec::with_capacity(fresh.len());
        for (cursor, (mut r, pk, key)) in (self.log.next_cursor()..).zip(fresh) {
            r.cursor = cursor;
            r.primary_key = pk;
            keys.push(key);
            entries.push(WalEntry::Record(r));
        }
        self.commit_keyed(entries, keys)
    }
}
