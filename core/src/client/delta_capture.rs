//! What a delta checkpoint holds, taken from the live database without
//! copying row or record bytes: the pages holding the changed rows and
//! the log records are shared (`Arc`, pages copied on write), so taking it
//! costs a lookup and a reference count per changed row, whatever the
//! rows' size. [`DeltaCapture::payload`]
//! lays it out as the delta frame's payload (FORMAT.md §12.3) — off the
//! database's lock for a background delta, inline otherwise: one layout
//! for both, so both write the same bytes.

use super::database::Database;
use crate::codec::buf::{put_bytes, put_varint};
use crate::codec::schema::put_schema;
use crate::engine::pages::{SharedRow, StoredRow};
use crate::model::error::Result;
use crate::table::Table;
use std::collections::BTreeSet;
use std::sync::Arc;

/// One table's part of a delta.
struct TableDelta {
    /// Its schema, encoded (small).
    schema: Vec<u8>,
    /// Created since the last checkpoint: `rows` holds all of it.
    fresh: bool,
    /// Changed rows it holds, in key order: key and stored state.
    rows: Vec<SharedRow>,
    /// Changed keys it no longer holds (purged), in key order.
    purged: Vec<Box<[u8]>>,
}

/// What changed since the last checkpoint, shared with the live database.
pub(crate) struct DeltaCapture {
    /// Region head, the log's first cursor and the table count, encoded.
    head: Vec<u8>,
    tables: Vec<TableDelta>,
    /// Records appended since the last checkpoint: cursor and encoding.
    records: Vec<(u64, Arc<[u8]>)>,
}

/// The changed keys `table` still holds, with their pages, and those it
/// no longer holds (purged), both in key order.
fn changed_rows(table: &Table, changed: &BTreeSet<Box<[u8]>>) -> (Vec<SharedRow>, Vec<Box<[u8]>>) {
    let mut held = Vec::with_capacity(changed.len());
    let mut purged = Vec::new();
    for k in changed {
        match table.stored_shared(k) {
            Some(r) => held.push(r),
            None => purged.push(k.clone()),
        }
    }
    (held, purged)
}

/// Every row of `table`, shared: its pages, each row by index.
pub(crate) fn all_rows(table: &Table) -> Vec<SharedRow> {
    let pages = table.pages();
    let mut rows = Vec::with_capacity(table.stored_count());
    for page in pages {
        rows.extend((0..page.len() as u32).map(|i| (page.clone(), i)));
    }
    rows
}

/// Bytes a row takes in a payload, about (for sizing the buffer).
pub(crate) fn row_bytes(key: &[u8], row: StoredRow<'_>) -> usize {
    key.len() + row.state.len() + 10
}

/// Put a row into a payload: key, then state (FORMAT.md §11, §12.3).
pub(crate) fn put_row(p: &mut Vec<u8>, key: &[u8], row: StoredRow<'_>) {
    put_bytes(p, key);
    put_bytes(p, row.state);
}

/// A captured row, from its shared page.
fn entry((page, i): &SharedRow) -> (&[u8], StoredRow<'_>) {
    page.entry(*i as usize)
}

impl Database {
    /// Take what changed since the last checkpoint; `None` when some table
    /// does not track its changes (then only a full snapshot is right).
    pub(crate) fn capture_delta(&self) -> Result<Option<DeltaCapture>> {
        self.check_open()?;
        let mut head = Vec::with_capacity(256);
        self.put_region_head(&mut head);
        put_varint(&mut head, self.log.first_cursor());
        put_varint(&mut head, self.tables.len() as u64);
        let mut tables = Vec::with_capacity(self.tables.len());
        for t in self.tables.values() {
            let Some(changed) = t.changed_keys() else {
                return Ok(None);
            };
            let mut schema = Vec::new();
            put_schema(&mut schema, &t.schema);
            let fresh = t.is_fresh();
            let (rows, purged) = if fresh {
                (all_rows(t), Vec::new())
            } else {
                changed_rows(t, changed)
            };
            tables.push(TableDelta {
                schema,
                fresh,
                rows,
                purged,
            });
        }
        // The records appended since the last checkpoint (those retention
        // kept): cursors are consecutive from the log's first one.
        let first = self.log.first_cursor();
        let from = self.checkpointed_cursor.max(first);
        let skip = (from - first) as usize;
        let records = self
            .log
            .entries_from(skip)
            .map(|e| (e.cursor, e.bytes.clone()))
            .collect();
        Ok(Some(DeltaCapture {
            head,
            tables,
            records,
        }))
    }
}

impl DeltaCapture {
    /// The delta frame's payload (before compression).
    pub(crate) fn payload(&self) -> Vec<u8> {
        let rows: usize = self
            .tables
            .iter()
            .flat_map(|t| &t.rows)
            .map(|r| {
                let (k, row) = entry(r);
                row_bytes(k, row)
            })
            .sum();
        let records: usize = self.records.iter().map(|(_, b)| b.len() + 15).sum();
        let mut p = Vec::with_capacity(self.head.len() + rows + records + 64);
        p.extend_from_slice(&self.head);
        for t in &self.tables {
            p.extend_from_slice(&t.schema);
            p.push(u8::from(t.fresh));
            put_varint(&mut p, t.rows.len() as u64);
            for r in &t.rows {
                let (k, row) = entry(r);
                put_row(&mut p, k, row);
            }
            put_varint(&mut p, t.purged.len() as u64);
            for k in &t.purged {
                put_bytes(&mut p, k);
            }
        }
        put_varint(&mut p, self.records.len() as u64);
        for (cursor, bytes) in &self.records {
            put_varint(&mut p, *cursor);
            put_bytes(&mut p, bytes);
        }
        p
    }
}
