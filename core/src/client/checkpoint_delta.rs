//! Delta checkpoints (FORMAT.md §12.3): only what changed since the last
//! checkpoint — the rows written since, the log records appended since and
//! the region's counters — written on top of a full snapshot
//! (`snapshot.rs`), so a checkpoint costs what changed, not the region's size.

use super::database::Database;
use crate::codec::buf::Reader;
use crate::codec::frame::{decode_frame_version, try_encode_frame_version};
use crate::codec::record::read_record;
use crate::codec::schema::read_schema;
use crate::log::vv_codec::read_vv;
use crate::log::LogCounters;
use crate::model::error::{Error, Result};
use crate::table::Table;
use std::collections::BTreeMap;

/// Magic of a delta frame.
pub const MAGIC_DELTA_FRAME: [u8; 4] = *b"TSDL";
/// Format version of delta frames (2: each table lists its purged keys;
/// version 1, without them, is still read).
pub const DELTA_FRAME_VERSION: u8 = 2;

/// The delta frame (lz4-compressed, checksummed) of a payload from
/// [`Database::delta_payload`].
pub(crate) fn encode_delta(payload: &[u8]) -> Result<Vec<u8>> {
    try_encode_frame_version(
        MAGIC_DELTA_FRAME,
        DELTA_FRAME_VERSION,
        payload,
        true,
        usize::MAX,
    )
}

impl Database {
    /// What changed since the last checkpoint, as a delta frame; `None` when
    /// some table does not track its changes (then only a full snapshot is
    /// right).
    pub(crate) fn export_delta(&self) -> Result<Option<Vec<u8>>> {
        self.capture_delta()?
            .map(|c| encode_delta(&c.payload()))
            .transpose()
    }

    /// Apply a delta frame on top of the state it was taken after.
    pub(crate) fn apply_delta(&mut self, bytes: &[u8]) -> Result<()> {
        // Version 1 (before purges) is read too: its tables list no purged keys.
        let legacy = bytes.get(4) == Some(&1);
        let version = if legacy { 1 } else { DELTA_FRAME_VERSION };
        let payload = decode_frame_version(
            MAGIC_DELTA_FRAME,
            version,
            bytes,
            super::snapshot::MAX_SNAPSHOT_BYTES,
        )?;
        let mut r = Reader::new(&payload, "delta checkpoint");
        let region = r.string()?;
        if region != self.region {
            return Err(Error::corrupt(format!(
                "a delta checkpoint of region '{region}' follows a checkpoint of region '{}'",
                self.region
            )));
        }
        let hlc_last = r.u64_le()?;
        let local_seq = r.varint()?;
        let next_cursor = r.varint()?;
        let vv = read_vv(&mut r)?;
        let dropped = read_vv(&mut r)?;
        let first_cursor = r.varint()?;
        let mut old = std::mem::take(&mut self.tables);
        let mut tables = BTreeMap::new();
        for _ in 0..r.count()? {
            let schema = read_schema(&mut r)?;
            let fresh = match r.u8()? {
                0 => false,
                1 => true,
                n => return Err(r.error(format!("fresh flag {n}"))),
            };
            let mut t = match old.remove(&schema.name) {
                Some(mut t) if !fresh => {
                    if t.schema.options != schema.options {
                        t.set_options(schema.options)?;
                    }
                    t.schema = schema;
                    t
                }
                None if !fresh => {
                    return Err(r.error(format!(
                        "table '{}' changed but the checkpoint before has none",
                        schema.name
                    )))
                }
                _ => Table::new(schema),
            };
            let mut prev: Option<&[u8]> = None;
            for _ in 0..r.count()? {
                let k = r.bytes()?;
                let st = r.bytes()?;
                if prev.is_some_and(|p| p >= k) {
                    return Err(r.error("rows out of key order"));
                }
                crate::codec::key::decode_key(&t.schema, k)?;
                t.insert_encoded(k, st)?;
                prev = Some(k);
            }
            if !legacy {
                let mut prev: Option<&[u8]> = None;
                for _ in 0..r.count()? {
                    let k = r.bytes()?;
                    if prev.is_some_and(|p| p >= k) {
                        return Err(r.error("purged keys out of key order"));
                    }
                    if fresh {
                        return Err(r.error("a fresh table lists purged keys"));
                    }
                    t.purge(k)?;
                    prev = Some(k);
                }
            }
            if tables.insert(t.schema.name.clone(), t).is_some() {
                return Err(r.error("duplicate table"));
            }
        }
        let held = self.log.next_cursor();
        let mut last: Option<u64> = None;
        let records = r.read_vec(16, |r| {
            let cursor = r.varint()?;
            let b = r.bytes()?;
            let mut rr = Reader::new(b, "change record");
            let mut rec = read_record(&mut rr)?;
            rr.finish()?;
            rec.cursor = cursor;
            if last.is_some_and(|p| p + 1 != cursor) || cursor >= next_cursor {
                return Err(r.error("log records out of order"));
            }
            last = Some(cursor);
            Ok(rec)
        })?;
        r.finish()?;
        if let Some(first) = records.first() {
            if first.cursor > held.max(first_cursor) {
                return Err(Error::corrupt(format!(
                    "a delta checkpoint's records start at cursor {}, the log before it ends before {held}",
                    first.cursor
                )));
            }
        }
        self.tables = tables;
        self.log.restore_tail(
            first_cursor,
            records,
            LogCounters {
                next_cursor,
                local_seq,
                hlc_last,
                vv,
                dropped,
            },
        )
    }

    /// Track row changes from now on in every table and forget the ones so
    /// far: the state up to here is checkpointed.
    pub(crate) fn changes_checkpointed(&mut self) {
        for t in self.tables.values_mut() {
            t.track_changes();
            t.clear_changes();
        }
        self.checkpointed_cursor = self.log.next_cursor();
    }
}
