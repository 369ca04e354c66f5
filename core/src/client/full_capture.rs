//! What a full checkpoint holds, taken from the live database without
//! copying row or record bytes (the full-snapshot counterpart of
//! `delta_capture.rs`): the region head, every table's schema and its
//! (key, shared state) pairs, and the log records' shared bytes.
//! [`FullCapture::encode`] lays them out as the snapshot frame (FORMAT.md
//! §11) — off the database's lock for a background full checkpoint, inline
//! for [`Database::export_snapshot`]: one layout for both, so both produce
//! the same bytes.

use super::database::Database;
use super::delta_capture::{put_row, row_bytes};
use super::snapshot::MAX_SNAPSHOT_BYTES;
use crate::codec::buf::{put_bytes, put_varint};
use crate::codec::frame::{try_encode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION};
use crate::codec::schema::put_schema;
use crate::engine::pages::{page_rows, Leaf};
use crate::model::error::{Error, Result};
use std::sync::Arc;

/// The whole region, shared with the live database.
pub(crate) struct FullCapture {
    /// Region head and the table count, encoded.
    head: Vec<u8>,
    /// Each table's encoded schema and its row pages in key order.
    tables: Vec<(Vec<u8>, Vec<Arc<Leaf>>)>,
    /// The change log's records: cursor and encoding.
    records: Vec<(u64, Arc<[u8]>)>,
}

impl Database {
    /// Take the whole region (a reference count per page of rows and per record).
    pub(crate) fn capture_full(&self) -> Result<FullCapture> {
        self.check_open()?;
        let mark = self.fault_mark();
        let mut head = Vec::with_capacity(256);
        self.put_region_head(&mut head);
        put_varint(&mut head, self.tables.len() as u64);
        let tables = self
            .tables
            .values()
            .map(|t| {
                let mut schema = Vec::new();
                put_schema(&mut schema, &t.schema);
                (schema, t.pages())
            })
            .collect();
        // Records in memory are shared (a reference count each); those a
        // paged region keeps in its store are read back (an export holds
        // the whole log).
        let mut records = Vec::with_capacity(self.log.len());
        if self.log.len_in_store() > 0 {
            let in_memory = self
                .log
                .entries()
                .next()
                .map_or(self.log.next_cursor(), |e| e.cursor);
            self.log.records().visit_from(0, |r| {
                if r.cursor >= in_memory {
                    return Ok(std::ops::ControlFlow::Break(()));
                }
                records.push((r.cursor, std::sync::Arc::<[u8]>::from(r.bytes)));
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
        }
        records.extend(self.log.entries().map(|e| (e.cursor, e.bytes.clone())));
        self.faults_since(mark)?;
        Ok(FullCapture {
            head,
            tables,
            records,
        })
    }
}

impl FullCapture {
    /// The snapshot frame (lz4-compressed, checksummed), byte-identical to
    /// what `export_snapshot` gives for the captured state.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        let rows: usize = self
            .tables
            .iter()
            .flat_map(|(_, pages)| pages)
            .flat_map(|p| page_rows(p))
            .map(|(k, r)| row_bytes(k, r))
            .sum();
        let records: usize = self.records.iter().map(|(_, b)| b.len() + 15).sum();
        let mut p = Vec::with_capacity(self.head.len() + rows + records + 64);
        p.extend_from_slice(&self.head);
        for (schema, pages) in &self.tables {
            p.extend_from_slice(schema);
            let rows: usize = pages.iter().map(|p| p.len()).sum();
            put_varint(&mut p, rows as u64);
            for (k, r) in pages.iter().flat_map(|p| page_rows(p)) {
                put_row(&mut p, k, r);
            }
        }
        put_varint(&mut p, self.records.len() as u64);
        for (cursor, bytes) in &self.records {
            put_varint(&mut p, *cursor);
            put_bytes(&mut p, bytes);
        }
        // A frame's length is 32 bits: refuse what could not be read back.
        if p.len() as u64 > MAX_SNAPSHOT_BYTES as u64 {
            return Err(Error::invalid(format!(
                "the region's snapshot of {} bytes exceeds the {MAX_SNAPSHOT_BYTES}-byte limit",
                p.len()
            )));
        }
        try_encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, &p, true, usize::MAX)
    }
}
