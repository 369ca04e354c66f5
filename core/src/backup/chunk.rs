//! Chunk payloads (rows or change records) and the content-defined cut
//! rule that keeps unchanged key ranges in identical chunks across full
//! backups (FORMAT.md §19.5).

use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::model::error::Result;

/// Chunk payload type byte: rows.
pub const CHUNK_ROWS: u8 = 1;
/// Chunk payload type byte: change records.
pub const CHUNK_RECORDS: u8 = 2;
/// Chunk payload type byte: row ids (key hash → state id sum), format 2.
pub const CHUNK_ROW_IDS: u8 = 3;

/// Row-id entries per chunk: no cut before this many.
const IDS_MIN: usize = 4096;
/// Row-id entries per chunk: always cut at this many.
const IDS_MAX: usize = 65536;
/// After `IDS_MIN`, cut after an entry whose key hash is 0 modulo this.
const IDS_DIVISOR: u64 = 2048;

/// Chunk sizes (uncompressed payload bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSizes {
    /// No cut before this many bytes.
    pub min: usize,
    /// Always cut at this many bytes.
    pub max: usize,
    /// After `min`, cut after a row whose key hash is 0 modulo this.
    pub divisor: u64,
    /// A records chunk ends once it holds this many bytes. Records
    /// chunks are cut by size alone (their content is new in every
    /// backup), so they default to the average rows chunk (1 MiB):
    /// fewer, larger objects cost the store fewer creates and syncs.
    pub records: usize,
}

impl Default for ChunkSizes {
    /// About 1 MiB on average for rows of ~1 KiB: 256 KiB … 4 MiB;
    /// records chunks of 1 MiB.
    fn default() -> Self {
        ChunkSizes {
            min: 256 << 10,
            max: 4 << 20,
            divisor: 768,
            records: 1 << 20,
        }
    }
}

/// FNV-1a over the key: the boundary test (not a security property).
pub fn key_hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Collects items into chunk payloads.
#[derive(Debug)]
pub struct ChunkBuilder {
    kind: u8,
    sizes: ChunkSizes,
    items: Vec<u8>,
    count: u64,
}

impl ChunkBuilder {
    /// A builder of `CHUNK_ROWS` or `CHUNK_RECORDS` payloads.
    pub fn new(kind: u8, sizes: ChunkSizes) -> Self {
        ChunkBuilder {
            kind,
            sizes,
            items: Vec::new(),
            count: 0,
        }
    }

    /// Add a row; returns a finished payload when the cut rule says so.
    pub fn push_row(&mut self, key: &[u8], state: &[u8]) -> Option<Vec<u8>> {
        put_bytes(&mut self.items, key);
        put_bytes(&mut self.items, state);
        self.count += 1;
        let n = self.items.len();
        if n >= self.sizes.max
            || (n >= self.sizes.min && key_hash(key) % self.sizes.divisor.max(1) == 0)
        {
            return self.take();
        }
        None
    }

    /// Add an encoded change record; returns a payload once `records` bytes are reached.
    pub fn push_record(&mut self, record: &[u8]) -> Option<Vec<u8>> {
        put_bytes(&mut self.items, record);
        self.count += 1;
        if self.items.len() >= self.sizes.records {
            return self.take();
        }
        None
    }

    /// The pending payload, if any items are waiting.
    pub fn take(&mut self) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let mut p = Vec::with_capacity(self.items.len() + 11);
        p.push(self.kind);
        put_varint(&mut p, self.count);
        p.append(&mut self.items);
        self.count = 0;
        Some(p)
    }
}

/// Row-id chunk payloads of `(key hash, id)` entries in strictly increasing
/// key-hash order, cut where the key hashes say (FORMAT.md §19.5), so an
/// unchanged stretch of the map gives identical chunks next time.
pub fn row_id_payloads(entries: &[(u64, u64)]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, (h, _)) in entries.iter().enumerate() {
        let n = i + 1 - start;
        if n >= IDS_MAX || (n >= IDS_MIN && h % IDS_DIVISOR == 0) {
            out.push(encode_row_ids(&entries[start..=i]));
            start = i + 1;
        }
    }
    if start < entries.len() {
        out.push(encode_row_ids(&entries[start..]));
    }
    out
}

fn encode_row_ids(entries: &[(u64, u64)]) -> Vec<u8> {
    let mut p = Vec::with_capacity(entries.len() * 16 + 11);
    p.push(CHUNK_ROW_IDS);
    put_varint(&mut p, entries.len() as u64);
    for (h, id) in entries {
        p.extend_from_slice(&h.to_le_bytes());
        p.extend_from_slice(&id.to_le_bytes());
    }
    p
}

/// A decoded chunk.
#[derive(Debug)]
pub enum ChunkItems<'a> {
    /// `(key, row state)` pairs in key order.
    Rows(Vec<(&'a [u8], &'a [u8])>),
    /// Encoded change records.
    Records(Vec<&'a [u8]>),
    /// `(key hash, id)` entries in strictly increasing key-hash order.
    RowIds(Vec<(u64, u64)>),
}

impl ChunkItems<'_> {
    /// The chunk payload type byte.
    pub fn kind(&self) -> u8 {
        match self {
            ChunkItems::Rows(_) => CHUNK_ROWS,
            ChunkItems::Records(_) => CHUNK_RECORDS,
            ChunkItems::RowIds(_) => CHUNK_ROW_IDS,
        }
    }
}

/// Parse a chunk payload (items are checked by the caller).
pub fn decode_chunk(payload: &[u8]) -> Result<ChunkItems<'_>> {
    let mut r = Reader::new(payload, "backup chunk");
    let kind = r.u8()?;
    // Lists through `read_vec` (issue 12: reservations bounded by the bytes
    // left, not by a count times the item size).
    let out = match kind {
        CHUNK_ROWS => ChunkItems::Rows(r.read_vec(2, |r| {
            let k = r.bytes()?;
            let s = r.bytes()?;
            Ok((k, s))
        })?),
        CHUNK_RECORDS => ChunkItems::Records(r.read_vec(1, |r| r.bytes())?),
        CHUNK_ROW_IDS => {
            let ids = r.read_vec(16, |r| Ok((r.u64_le()?, r.u64_le()?)))?;
            if ids.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(r.error("row ids out of key-hash order"));
            }
            ChunkItems::RowIds(ids)
        }
        k => return Err(r.error(format!("unknown chunk type {k}"))),
    };
    r.finish()?;
    Ok(out)
}
