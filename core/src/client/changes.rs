//! The change log as seen from the façade: reading it, and merging records
//! from other regions.

use super::database::{Database, Staged};
use super::region_read::RegionRead;
use super::remote_checks::MAX_SEQ;
use crate::codec::key::normalize_key;
use crate::engine::write::check_cell_size;
use crate::log::record::{ChangeKind, ChangeRecord, ColumnOp};
use crate::log::version_vector::VersionVector;
use crate::log::{ChangePage, LogPage};
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;
use crate::model::schema::validate_column_name;
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
        RegionRead::changes_since(self, cursor, limit)
    }

    /// [`changes_since`](Self::changes_since) without decoding: each
    /// record's stored encoding (FORMAT.md §7) with its cursor, stamp,
    /// origin and table, borrowed from the log. Senders copy these bytes
    /// into their frames as they are.
    pub fn log_since(&self, cursor: u64, limit: usize) -> Result<LogPage<'_>> {
        RegionRead::log_since(self, cursor, limit)
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
        self.apply_borrowed(records, Vec::new(), false)
    }

    /// [`apply_changes`](Self::apply_changes) taking the records by value
    /// (what the sync layer uses).
    pub fn apply_changes_owned(&mut self, records: Vec<ChangeRecord>) -> Result<ApplyStats> {
        self.apply_borrowed(&records, Vec::new(), false)
    }

    /// [`apply_changes`](Self::apply_changes) from encoded records (FORMAT.md
    /// §7, as `changes_since` pages, sync frames and backups carry them):
    /// each is decoded to be validated, and the given bytes themselves go to
    /// the WAL and the change log (no second encoding). Bytes that do not
    /// decode fail with `Corrupt` (or `UnsupportedVersion`) and nothing is
    /// applied.
    pub fn apply_change_bytes<B: AsRef<[u8]>>(&mut self, records: &[B]) -> Result<ApplyStats> {
        self.check_open()?;
        let decoded = records
            .iter()
            .map(|b| crate::codec::record::decode_record(b.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let bytes = records.iter().map(AsRef::as_ref).collect();
        self.apply_borrowed(&decoded, bytes, false)
    }

    /// [`apply_changes_owned`](Self::apply_changes_owned) for records a
    /// peer sent: also refuses records of this region's own name above its
    /// last sequence number (a user may re-apply its own region's records,
    /// e.g. to seed a durable copy; a peer may not invent them).
    pub(crate) fn apply_peer_changes(&mut self, records: Vec<ChangeRecord>) -> Result<ApplyStats> {
        self.apply_borrowed(&records, Vec::new(), true)
    }

    /// [`apply_peer_changes`](Self::apply_peer_changes) with each record's
    /// bytes as a sync frame carried them (`encoded` empty, or one entry per
    /// record): those bytes go to the WAL and the change log, so the record
    /// is not encoded again.
    pub(crate) fn apply_peer_change_bytes(
        &mut self,
        records: &[ChangeRecord],
        encoded: &[&[u8]],
    ) -> Result<ApplyStats> {
        let bytes = if encoded.len() == records.len() {
            encoded.to_vec()
        } else {
            Vec::new()
        };
        self.apply_borrowed(records, bytes, true)
    }

    /// Validate, then commit the fresh records. `bytes` is empty or holds
    /// each record's encoding, kept when the record's key is already in
    /// normal form (so the bytes say exactly what is applied).
    fn apply_borrowed(
        &mut self,
        records: &[ChangeRecord],
        bytes: Vec<&[u8]>,
        from_peer: bool,
    ) -> Result<ApplyStats> {
        self.check_open()?;
        let keep = self.fresh_records(records.iter(), from_peer)?;
        let stats = ApplyStats {
            applied: keep.len() as u64,
            skipped: (records.len() - keep.len()) as u64,
        };
        if keep.is_empty() {
            return Ok(stats);
        }
        let ids: Vec<u64> = keep
            .iter()
            .map(|(i, _, _)| self.origin_id(&records[*i].origin))
            .collect();
        let staged = keep
            .iter()
            .zip(ids)
            .map(|((i, pk, key), origin_id)| {
                let r = &records[*i];
                Staged {
                    origin: &r.origin,
                    origin_id,
                    seq: r.seq,
                    hlc: r.stamp,
                    table: &r.table,
                    kind: r.kind,
                    primary_key: pk,
                    key,
                    ops: r.columns.iter().map(ColumnOp::as_op_ref).collect(),
                    bytes: bytes
                        .get(*i)
                        .filter(|_| *pk == r.primary_key)
                        .map(|b| Box::<[u8]>::from(*b)),
                }
            })
            .collect();
        self.commit_staged(staged)?;
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
}
