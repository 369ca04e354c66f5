//! Snapshot deltas (FORMAT.md §11.1): what a region changed since a log
//! cursor, as the records since it plus the state every table must reach,
//! so a copy of the region kept from an earlier snapshot (a continuous
//! backup's mirror) follows it without the whole snapshot again.

use super::database::Database;
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame_version, try_encode_frame_version};
use crate::codec::record::read_record;
use crate::codec::schema::{put_schema, read_schema};
use crate::digest::Digest;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::log::vv_codec::{put_vv, read_vv};
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;

/// Magic of a snapshot-delta frame.
pub const MAGIC_SNAPSHOT_DELTA: [u8; 4] = *b"TSSD";
/// Format version of snapshot-delta frames.
pub const SNAPSHOT_DELTA_VERSION: u8 = 1;
/// Largest uncompressed delta accepted (a frame's length is 32 bits).
const MAX_DELTA_BYTES: usize = u32::MAX as usize;

/// One table's state in a delta: what a copy must hold after the records.
struct TableState {
    schema: TableSchema,
    rows: u64,
    digest: Digest,
    state_sum: u64,
}

/// A decoded delta.
struct Delta {
    region: String,
    hlc_last: u64,
    after: u64,
    first_cursor: u64,
    next_cursor: u64,
    vv: VersionVector,
    tables: Vec<TableState>,
    records: Vec<ChangeRecord>,
}

impl Database {
    /// What changed since log cursor `after`, as one frame (FORMAT.md
    /// §11.1): the records with cursor ≥ `after`, the clocks, cursors and
    /// version vector, and each table's schema, row count, digest and state
    /// sum. `LogGap` when records from `after` on were dropped (retention);
    /// `OTSParameterInvalid` when `after` is beyond the log's end.
    pub fn export_snapshot_delta(&self, after: u64) -> Result<Vec<u8>> {
        self.check_open()?;
        let (first, next) = (self.log.first_cursor(), self.log.next_cursor());
        if after > next {
            return Err(Error::invalid(format!(
                "cursor {after} is beyond the log's end ({next})"
            )));
        }
        if after < first {
            return Err(Error::LogGap(format!(
                "records before cursor {first} were dropped (asked from {after})"
            )));
        }
        let mut p = Vec::with_capacity(1024);
        put_bytes(&mut p, self.region.as_bytes());
        p.extend_from_slice(&self.log.hlc_last().to_le_bytes());
        put_varint(&mut p, after);
        put_varint(&mut p, first);
        put_varint(&mut p, next);
        put_vv(&mut p, self.log.version_vector());
        put_varint(&mut p, self.tables.len() as u64);
        for t in self.tables.values() {
            put_schema(&mut p, &t.schema);
            put_varint(&mut p, t.row_count());
            p.extend_from_slice(&t.digest().0);
            p.extend_from_slice(&t.state_sum().to_le_bytes());
        }
        // The records from `after` on, those a paged region keeps in its
        // store included (read back a chunk at a time).
        let mut records = Vec::new();
        let mut count = 0u64;
        self.log.records().visit_from(after, |r| {
            put_varint(&mut records, r.cursor);
            put_bytes(&mut records, r.bytes);
            count += 1;
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        put_varint(&mut p, count);
        p.extend_from_slice(&records);
        try_encode_frame_version(
            MAGIC_SNAPSHOT_DELTA,
            SNAPSHOT_DELTA_VERSION,
            &p,
            true,
            MAX_DELTA_BYTES,
        )
    }

    /// Bring this copy of a region (imported from its snapshot, then kept
    /// up to date by earlier deltas) to the state of a delta taken at this
    /// copy's next cursor. Returns `Ok(true)` when afterwards every table's
    /// row count, digest and state sum, the next cursor and the version
    /// vector equal the delta's; `Ok(false)` when they do not (rows reached
    /// the region outside its log, e.g. by reconcile sync, or the delta is
    /// for another cursor, region or set of tables): the copy is then in an
    /// unspecified state and must be replaced by a fresh snapshot. Bytes
    /// that do not decode are `Corrupt`, and nothing is changed.
    pub fn apply_snapshot_delta(&mut self, bytes: &[u8]) -> Result<bool> {
        self.check_open()?;
        let d = decode_delta(bytes)?;
        let same_tables = d.tables.len() == self.tables.len()
            && d.tables
                .iter()
                .zip(self.tables.values())
                .all(|(a, b)| a.schema == b.schema);
        if d.region != self.region || d.after != self.log.next_cursor() || !same_tables {
            return Ok(false);
        }
        let n = d.records.len() as u64;
        // The region's own history: no clock-drift limit on its stamps.
        let drift = self.max_drift_ms;
        self.max_drift_ms = i64::MAX;
        let applied = self.apply_changes_owned(d.records);
        self.max_drift_ms = drift;
        if applied?.applied != n {
            return Ok(false);
        }
        self.log.observe(d.hlc_last);
        self.log.truncate_before(d.first_cursor)?;
        if self.log.next_cursor() != d.next_cursor || self.log.version_vector() != &d.vv {
            return Ok(false);
        }
        for (want, t) in d.tables.iter().zip(self.tables.values()) {
            if t.row_count() != want.rows
                || t.digest() != want.digest
                || t.state_sum() != want.state_sum
            {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn decode_delta(bytes: &[u8]) -> Result<Delta> {
    let payload = decode_frame_version(
        MAGIC_SNAPSHOT_DELTA,
        SNAPSHOT_DELTA_VERSION,
        bytes,
        MAX_DELTA_BYTES,
    )?;
    let mut r = Reader::new(&payload, "snapshot delta");
    let region = r.string()?.to_string();
    let hlc_last = r.u64_le()?;
    let after = r.varint()?;
    let first_cursor = r.varint()?;
    let next_cursor = r.varint()?;
    if first_cursor > after || after > next_cursor {
        return Err(r.error("cursors out of order"));
    }
    let vv = read_vv(&mut r)?;
    let mut tables: Vec<TableState> = Vec::new();
    for _ in 0..r.count()? {
        let schema = read_schema(&mut r)?;
        if tables.last().is_some_and(|t| t.schema.name >= schema.name) {
            return Err(r.error("tables out of name order"));
        }
        let rows = r.varint()?;
        let digest = Digest(r.take(32)?.try_into().expect("32"));
        let state_sum = r.u64_le()?;
        tables.push(TableState {
            schema,
            rows,
            digest,
            state_sum,
        });
    }
    let mut last: Option<u64> = None;
    let records = r.read_vec(16, |r| {
        let cursor = r.varint()?;
        let b = r.bytes()?;
        let mut rr = Reader::new(b, "change record");
        let mut rec = read_record(&mut rr)?;
        rr.finish()?;
        if cursor < after || cursor >= next_cursor || last.is_some_and(|p| p >= cursor) {
            return Err(r.error("log records out of order"));
        }
        last = Some(cursor);
        rec.cursor = cursor;
        Ok(rec)
    })?;
    r.finish()?;
    Ok(Delta {
        region,
        hlc_last,
        after,
        first_cursor,
        next_cursor,
        vv,
        tables,
        records,
    })
}
