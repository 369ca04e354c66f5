//! Backup manifests: what one backup holds and where it sits in its chain
//! (FORMAT.md §19.6).

use crate::codec::buf::{put_bytes, put_varint, put_zigzag, Reader};
use crate::codec::schema::{put_schema, read_schema};
use crate::digest::Digest;
use crate::log::version_vector::VersionVector;
use crate::log::vv_codec::{put_vv, read_vv};
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;

/// Manifest encoding version this build writes (it reads 1 and 2).
/// Version 2 adds each table's row-id chunks and lets an incremental hold
/// row chunks (the rows that changed since its parent).
pub const MANIFEST_VERSION: u8 = 2;

/// A 32-byte object id (content hash).
pub type ObjectId = [u8; 32];

/// Hex of an id.
pub fn id_hex(id: &ObjectId) -> String {
    Digest(*id).to_hex()
}

/// Full or incremental.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupKind {
    /// Every row, plus the retained change log.
    Full,
    /// Only the change records since the parent.
    Incremental,
}

impl BackupKind {
    /// `full` / `incremental`.
    pub fn name(self) -> &'static str {
        match self {
            BackupKind::Full => "full",
            BackupKind::Incremental => "incremental",
        }
    }
}

/// One table in a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableEntry {
    /// Schema at the backup point.
    pub schema: TableSchema,
    /// Rows that exist at the backup point.
    pub rows: u64,
    /// Table digest at the backup point (FORMAT.md §10.2).
    pub digest: Digest,
    /// Chunks of `(key, row state)` in key order: every stored row in a
    /// full backup; in an incremental (version 2), the rows whose state
    /// changed since the parent, whether by records or outside the log.
    pub chunks: Vec<ObjectId>,
    /// Row-id chunks (version 2): in a full backup, the map of every row's
    /// key hash to its state id; in an incremental, the entries that changed
    /// since the parent (id 0: no row with that key hash any more).
    pub id_chunks: Vec<ObjectId>,
}

/// What one backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Encoding version (1: no row ids; 2: row ids and row-level incrementals).
    pub version: u8,
    /// Full or incremental.
    pub kind: BackupKind,
    /// The parent backup (incrementals only).
    pub parent: Option<ObjectId>,
    /// Wall-clock milliseconds when the backup was taken.
    pub created_ms: i64,
    /// Source region.
    pub region: String,
    /// First source log cursor whose record this backup holds.
    pub first_cursor: u64,
    /// Source log cursor after the last record this backup holds.
    pub next_cursor: u64,
    /// Earliest stamp the chain ending here can restore (0: all history).
    pub covers_from: u64,
    /// The backup point: the source's last HLC value; every record held has a stamp ≤ it.
    pub point: u64,
    /// Whether the full backup's records rebuild its rows from empty tables.
    pub history_complete: bool,
    /// The source's version vector at the point.
    pub version_vector: VersionVector,
    /// Records the source had dropped (retention) or held without records.
    pub dropped: VersionVector,
    /// Tables at the point, in name order.
    pub tables: Vec<TableEntry>,
    /// Change records held.
    pub records: u64,
    /// Chunks of change records, in cursor order.
    pub log_chunks: Vec<ObjectId>,
    /// Uncompressed bytes of every chunk this backup references.
    pub bytes: u64,
    /// Stored bytes of the chunks this backup wrote (not already in the repository).
    pub new_bytes: u64,
}

fn put_ids(out: &mut Vec<u8>, ids: &[ObjectId]) {
    put_varint(out, ids.len() as u64);
    for id in ids {
        out.extend_from_slice(id);
    }
}

fn read_ids(r: &mut Reader<'_>) -> Result<Vec<ObjectId>> {
    let n = r.count()?;
    if n.saturating_mul(32) > r.remaining() {
        return Err(r.error("chunk id list longer than the manifest"));
    }
    (0..n)
        .map(|_| Ok(r.take(32)?.try_into().expect("32")))
        .collect()
}

impl Manifest {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![self.version];
        p.push(match self.kind {
            BackupKind::Full => 1,
            BackupKind::Incremental => 2,
        });
        match &self.parent {
            Some(id) => put_bytes(&mut p, id),
            None => put_bytes(&mut p, &[]),
        }
        put_zigzag(&mut p, self.created_ms);
        put_bytes(&mut p, self.region.as_bytes());
        put_varint(&mut p, self.first_cursor);
        put_varint(&mut p, self.next_cursor);
        p.extend_from_slice(&self.covers_from.to_le_bytes());
        p.extend_from_slice(&self.point.to_le_bytes());
        p.push(u8::from(self.history_complete));
        put_vv(&mut p, &self.version_vector);
        put_vv(&mut p, &self.dropped);
        put_varint(&mut p, self.tables.len() as u64);
        for t in &self.tables {
            put_schema(&mut p, &t.schema);
            put_varint(&mut p, t.rows);
            p.extend_from_slice(&t.digest.0);
            put_ids(&mut p, &t.chunks);
            if self.version >= 2 {
                put_ids(&mut p, &t.id_chunks);
            }
        }
        put_varint(&mut p, self.records);
        put_ids(&mut p, &self.log_chunks);
        put_varint(&mut p, self.bytes);
        put_varint(&mut p, self.new_bytes);
        p
    }

    /// Parse and check a payload.
    pub fn decode(payload: &[u8]) -> Result<Manifest> {
        let mut r = Reader::new(payload, "backup manifest");
        let v = r.u8()?;
        if !(1..=MANIFEST_VERSION).contains(&v) {
            return Err(Error::UnsupportedVersion(format!(
                "backup manifest version {v} (this build reads 1 to {MANIFEST_VERSION})"
            )));
        }
        let kind = match r.u8()? {
            1 => BackupKind::Full,
            2 => BackupKind::Incremental,
            k => return Err(r.error(format!("unknown backup kind {k}"))),
        };
        let parent = match r.bytes()? {
            [] => None,
            b if b.len() == 32 => Some(b.try_into().expect("32")),
            _ => return Err(r.error("parent id is not 32 bytes")),
        };
        if (kind == BackupKind::Full) != parent.is_none() {
            return Err(r.error("a full backup has no parent; an incremental has one"));
        }
        let created_ms = r.zigzag()?;
        let region = r.string()?.to_string();
        let first_cursor = r.varint()?;
        let next_cursor = r.varint()?;
        let covers_from = r.u64_le()?;
        let point = r.u64_le()?;
        let history_complete = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(r.error("bad flag")),
        };
        let version_vector = read_vv(&mut r)?;
        let dropped = read_vv(&mut r)?;
        let mut tables: Vec<TableEntry> = Vec::new();
        for _ in 0..r.count()? {
            let schema = read_schema(&mut r)?;
            if tables.last().is_some_and(|t| t.schema.name >= schema.name) {
                return Err(r.error("tables out of name order"));
            }
            let rows = r.varint()?;
            let digest = Digest(r.take(32)?.try_into().expect("32"));
            let chunks = read_ids(&mut r)?;
            if v == 1 && kind == BackupKind::Incremental && !chunks.is_empty() {
                return Err(r.error("a version 1 incremental backup holds no row chunks"));
            }
            let id_chunks = if v >= 2 {
                read_ids(&mut r)?
            } else {
                Vec::new()
            };
            tables.push(TableEntry {
                schema,
                rows,
                digest,
                chunks,
                id_chunks,
            });
        }
        let records = r.varint()?;
        let log_chunks = read_ids(&mut r)?;
        let bytes = r.varint()?;
        let new_bytes = r.varint()?;
        r.finish()?;
        if region.is_empty() || first_cursor > next_cursor || covers_from > point {
            return Err(Error::BackupCorrupt(
                "backup manifest fields are inconsistent".into(),
            ));
        }
        Ok(Manifest {
            version: v,
            kind,
            parent,
            created_ms,
            region,
            first_cursor,
            next_cursor,
            covers_from,
            point,
            history_complete,
            version_vector,
            dropped,
            tables,
            records,
            log_chunks,
            bytes,
            new_bytes,
        })
    }

    /// Every chunk id the manifest references.
    pub fn chunk_ids(&self) -> impl Iterator<Item = &ObjectId> {
        self.tables
            .iter()
            .flat_map(|t| t.chunks.iter().chain(t.id_chunks.iter()))
            .chain(self.log_chunks.iter())
    }

    /// Whether the manifest carries row ids (version 2 on), so that an
    /// incremental can continue it.
    pub fn has_row_ids(&self) -> bool {
        self.version >= 2
    }

    /// The entry of a table.
    pub fn table(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.schema.name == name)
    }
}
