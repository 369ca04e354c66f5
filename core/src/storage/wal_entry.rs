//! Entries of the write-ahead log (which is also the change log).

use crate::codec::buf::{put_varint, put_zigzag, Reader};
use crate::codec::record::{put_record, read_record};
use crate::codec::schema::{put_schema, read_schema};
use crate::log::record::ChangeRecord;
use crate::model::error::Result;
use crate::model::schema::{TableOptions, TableSchema};

/// One durable step of a database.
#[derive(Clone, Debug, PartialEq)]
pub enum WalEntry {
    /// A change record appended to the log at `record.cursor`.
    Record(ChangeRecord),
    /// A change record already encoded (FORMAT.md §7), appended to the log
    /// at `cursor`: the write path encodes each record once and hands these
    /// same bytes to the WAL and the change log. Written exactly as
    /// [`WalEntry::Record`] (decoding gives a `Record`).
    RecordBytes {
        /// Log cursor.
        cursor: u64,
        /// The record's encoding.
        bytes: Box<[u8]>,
    },
    /// A table was created.
    CreateTable(TableSchema),
    /// A table's options changed.
    UpdateTable {
        /// Table.
        name: String,
        /// New options.
        options: TableOptions,
    },
    /// A table was deleted.
    DeleteTable {
        /// Table.
        name: String,
    },
    /// Log records before `cursor` were dropped by retention.
    TruncateLog {
        /// First cursor kept.
        cursor: u64,
    },
    /// Whole row states merged into a table (full, hybrid and reconcile sync).
    MergeRows {
        /// Table.
        table: String,
        /// `(encoded key, encoded row state)` pairs.
        rows: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Records now reflected in the tables without being in the log (a
    /// snapshot brought their effects): added to the version vector and to
    /// the dropped set.
    MarkHeld {
        /// `(origin, first seq, last seq)` inclusive ranges.
        entries: Vec<(String, u64, u64)>,
    },
    /// Rows removed from a table without tombstones and without change
    /// records (a local purge: the rows of partitions this region no longer
    /// holds). Nothing replicates from it.
    PurgeRows {
        /// Table.
        table: String,
        /// Encoded keys, strictly increasing.
        keys: Vec<Vec<u8>>,
    },
}

const E_RECORD: u8 = 1;
const E_CREATE: u8 = 2;
const E_UPDATE: u8 = 3;
const E_DELETE: u8 = 4;
const E_TRUNCATE: u8 = 5;
const E_MERGE_ROWS: u8 = 6;
const E_MARK_HELD: u8 = 7;
const E_PURGE_ROWS: u8 = 8;

impl WalEntry {
    /// Encode (see FORMAT.md, "WAL entry").
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            WalEntry::Record(r) => {
                out.push(E_RECORD);
                put_varint(out, r.cursor);
                put_record(out, r);
            }
            WalEntry::RecordBytes { cursor, bytes } => {
                out.push(E_RECORD);
                put_varint(out, *cursor);
                out.extend_from_slice(bytes);
            }
            WalEntry::CreateTable(s) => {
                out.push(E_CREATE);
                put_schema(out, s);
            }
            WalEntry::UpdateTable { name, options } => {
                out.push(E_UPDATE);
                crate::codec::buf::put_bytes(out, name.as_bytes());
                put_varint(out, options.max_versions as u64);
                put_zigzag(out, options.time_to_live);
            }
            WalEntry::DeleteTable { name } => {
                out.push(E_DELETE);
                crate::codec::buf::put_bytes(out, name.as_bytes());
            }
            WalEntry::TruncateLog { cursor } => {
                out.push(E_TRUNCATE);
                put_varint(out, *cursor);
            }
            WalEntry::MergeRows { table, rows } => {
                out.push(E_MERGE_ROWS);
                crate::codec::buf::put_bytes(out, table.as_bytes());
                put_varint(out, rows.len() as u64);
                for (k, st) in rows {
                    crate::codec::buf::put_bytes(out, k);
                    crate::codec::buf::put_bytes(out, st);
                }
            }
            WalEntry::MarkHeld { entries } => {
                out.push(E_MARK_HELD);
                put_varint(out, entries.len() as u64);
                for (o, from, to) in entries {
                    crate::codec::buf::put_bytes(out, o.as_bytes());
                    put_varint(out, *from);
                    put_varint(out, *to);
                }
            }
            WalEntry::PurgeRows { table, keys } => {
                out.push(E_PURGE_ROWS);
                crate::codec::buf::put_bytes(out, table.as_bytes());
                put_varint(out, keys.len() as u64);
                for k in keys {
                    crate::codec::buf::put_bytes(out, k);
                }
            }
        }
    }

    /// Encode into a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decode one entry that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<WalEntry> {
        let mut r = Reader::new(bytes, "WAL entry");
        let e = match r.u8()? {
            E_RECORD => {
                let cursor = r.varint()?;
                let mut rec = read_record(&mut r)?;
                rec.cursor = cursor;
                WalEntry::Record(rec)
            }
            E_CREATE => WalEntry::CreateTable(read_schema(&mut r)?),
            E_UPDATE => {
                let name = r.string()?.to_string();
                let max_versions =
                    u32::try_from(r.varint()?).map_err(|_| r.error("max_versions out of range"))?;
                let time_to_live = r.zigzag()?;
                WalEntry::UpdateTable {
                    name,
                    options: TableOptions {
                        max_versions,
                        time_to_live,
                    },
                }
            }
            E_DELETE => WalEntry::DeleteTable {
                name: r.string()?.to_string(),
            },
            E_TRUNCATE => WalEntry::TruncateLog {
                cursor: r.varint()?,
            },
            E_MERGE_ROWS => {
                let table = r.string()?.to_string();
                let rows = r.read_vec(2, |r| {
                    let k = r.bytes()?.to_vec();
                    let st = r.bytes()?.to_vec();
                    Ok((k, st))
                })?;
                WalEntry::MergeRows { table, rows }
            }
            E_MARK_HELD => {
                let entries = r.read_vec(3, |r| {
                    let o = r.string()?.to_string();
                    let from = r.varint()?;
                    let to = r.varint()?;
                    if from == 0 || from > to {
                        return Err(r.error("empty or zero range"));
                    }
                    Ok((o, from, to))
                })?;
                WalEntry::MarkHeld { entries }
            }
            E_PURGE_ROWS => {
                let table = r.string()?.to_string();
                let mut prev: Option<Vec<u8>> = None;
                let keys = r.read_vec(1, |r| {
                    let k = r.bytes()?.to_vec();
                    if prev.as_ref().is_some_and(|p| *p >= k) {
                        return Err(r.error("purged keys must strictly increase"));
                    }
                    prev = Some(k.clone());
                    Ok(k)
                })?;
                WalEntry::PurgeRows { table, keys }
            }
            t => return Err(r.error(format!("unknown WAL entry type {t}"))),
        };
        r.finish()?;
        Ok(e)
    }
}
