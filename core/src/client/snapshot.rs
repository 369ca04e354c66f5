//! Whole-database snapshots: checkpoints of durable regions, and
//! `export_snapshot` / `import_snapshot` for hosts without a file system.

use super::database::Database;
use crate::clock::Clock;
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{
    decode_frame_version, FRAME_HEADER_LEN, MAGIC_SNAPSHOT, SNAPSHOT_VERSION,
};
use crate::codec::record::read_record;
use crate::codec::schema::read_schema;
use crate::log::hlc::region_id;
use crate::log::vv_codec::{put_vv, read_vv, read_vv_v1};
use crate::log::{ChangeLog, Retention};
use crate::model::error::{Error, Result};
use crate::storage::{MemoryStorage, Storage};
use crate::table::Table;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest uncompressed snapshot accepted.
pub const MAX_SNAPSHOT_BYTES: usize = if usize::BITS >= 64 {
    1 << 36
} else {
    u32::MAX as usize
};

impl Database {
    /// The region's head as snapshots and delta checkpoints begin with it
    /// (FORMAT.md §11, §12): region, last HLC, local seq, next cursor,
    /// version vector and dropped vector.
    pub(crate) fn put_region_head(&self, p: &mut Vec<u8>) {
        put_bytes(p, self.region.as_bytes());
        p.extend_from_slice(&self.log.hlc_last().to_le_bytes());
        put_varint(p, self.log.local_seq());
        put_varint(p, self.log.next_cursor());
        put_vv(p, self.log.version_vector());
        put_vv(p, self.log.dropped());
    }

    /// The whole region (tables, rows, change log, clocks) as one frame:
    /// lz4-compressed, checksummed, byte-exact on import.
    pub fn export_snapshot(&self) -> Result<Vec<u8>> {
        // One layout with the background full checkpoint (full_capture.rs).
        self.capture_full()?.encode()
    }

    /// An in-memory region restored from [`export_snapshot`](Self::export_snapshot) bytes.
    pub fn import_snapshot(bytes: &[u8], clock: Arc<dyn Clock>) -> Result<Database> {
        decode(bytes, clock, Box::new(MemoryStorage))
    }
}

/// A region's head as [`Database::put_region_head`] writes it.
pub(crate) struct RegionHead {
    pub region: String,
    pub hlc_last: u64,
    pub local_seq: u64,
    pub next_cursor: u64,
    pub vv: crate::log::version_vector::VersionVector,
    pub dropped: crate::log::version_vector::VersionVector,
}

/// Read a region head; `read_vv` reads its version vectors (the layout
/// changed with snapshot version 2).
pub(crate) fn read_region_head(
    r: &mut Reader<'_>,
    read_vv: fn(&mut Reader<'_>) -> Result<crate::log::version_vector::VersionVector>,
) -> Result<RegionHead> {
    Ok(RegionHead {
        region: r.string()?.to_string(),
        hlc_last: r.u64_le()?,
        local_seq: r.varint()?,
        next_cursor: r.varint()?,
        vv: read_vv(r)?,
        dropped: read_vv(r)?,
    })
}

/// Rebuild a database from snapshot bytes over the given storage.
pub(crate) fn decode(
    bytes: &[u8],
    clock: Arc<dyn Clock>,
    storage: Box<dyn Storage>,
) -> Result<Database> {
    // Version 1 differs only in how version vectors are laid out: a
    // checkpoint written by an older build opens, and the next checkpoint
    // rewrites it as version 2.
    let legacy = bytes.len() >= FRAME_HEADER_LEN && bytes[4] == 1;
    let version = if legacy { 1 } else { SNAPSHOT_VERSION };
    let payload = decode_frame_version(MAGIC_SNAPSHOT, version, bytes, MAX_SNAPSHOT_BYTES)?;
    let read_vv = if legacy { read_vv_v1 } else { read_vv };
    let mut r = Reader::new(&payload, "snapshot");
    let RegionHead {
        region,
        hlc_last,
        local_seq,
        next_cursor,
        vv,
        dropped,
    } = read_region_head(&mut r, read_vv)?;
    let mut tables = BTreeMap::new();
    for _ in 0..r.count()? {
        let schema = read_schema(&mut r)?;
        let mut t = Table::new(schema);
        let mut prev: Option<Vec<u8>> = None;
        for _ in 0..r.count()? {
            let k = r.bytes()?;
            let st = r.bytes()?;
            if prev.as_deref().is_some_and(|p| p >= k) {
                return Err(r.error("rows out of key order"));
            }
            crate::codec::key::decode_key(&t.schema, k)?;
            t.insert_encoded(k, st)?;
            prev = Some(k.to_vec());
        }
        if tables.insert(t.schema.name.clone(), t).is_some() {
            return Err(r.error("duplicate table"));
        }
    }
    // Log entry: cursor ‖ record bytes (length ≥ 1 byte, record ≥ 15).
    let mut last_cursor: Option<u64> = None;
    let records = r.read_vec(16, |r| {
        let cursor = r.varint()?;
        let b = r.bytes()?;
        let mut rr = Reader::new(b, "change record");
        let mut rec = read_record(&mut rr)?;
        rr.finish()?;
        rec.cursor = cursor;
        if last_cursor.is_some_and(|p| p >= cursor) || cursor >= next_cursor {
            return Err(r.error("log records out of order"));
        }
        last_cursor = Some(cursor);
        Ok(rec)
    })?;
    r.finish()?;
    if region.is_empty() {
        return Err(Error::corrupt("snapshot has an empty region name"));
    }
    Ok(Database {
        region_id: region_id(&region),
        region,
        clock,
        tables,
        log: ChangeLog::restore(records, next_cursor, local_seq, hlc_last, vv, dropped),
        storage,
        retention: Retention::default(),
        closed: false,
        origin_ids: Default::default(),
        max_drift_ms: super::remote_checks::DEFAULT_MAX_CLOCK_DRIFT_MS,
        health: Default::default(),
        write_guard: None,
        checkpointed_cursor: next_cursor,
        paged: None,
    })
}
