//! How a paged region lays its values out in its page store (FORMAT.md
//! §12 "Page store", store format 3, directory format 7): every `meta` and
//! `index` value ends in a CRC of its key and value ([`seal`]), and the
//! change log is kept in chunks of consecutive records ([`LogChunk`])
//! rather than one entry per record. Format 3 is format 2 whose pages may
//! be LZ4-compressed (page version 2). [`migrate`] rewrites a store of
//! format 1 (directory format 5) into this layout in one commit, and marks
//! a format-2 store (directory format 6) as format 3: its pages, all
//! version 1, stay readable and are compressed as they are next stored.

use super::{KvBatch, KvSnapshot, KvStore, Space};
use crate::codec::buf::{put_varint, Reader};
use crate::model::error::{Error, Result};
use std::ops::ControlFlow;

/// The store format this build writes (`meta` key [`META_FORMAT`]).
pub const STORE_FORMAT: u8 = 3;
/// The store format whose layout this build writes, less compressed pages.
pub const UNCOMPRESSED_STORE_FORMAT: u8 = 2;
/// Meta key of the store format: absent in a format-1 store.
pub const META_FORMAT: &[u8] = b"format";
/// A chunk holds at most this many records, and never records on both
/// sides of a multiple of it (so a read from cursor `c` finds every chunk
/// it needs from key `c / LOG_CHUNK_RECORDS * LOG_CHUNK_RECORDS` on).
pub const LOG_CHUNK_RECORDS: u64 = 1024;
/// A chunk closes once it holds this many record bytes (a larger record
/// gets a chunk of its own).
pub const LOG_CHUNK_BYTES: usize = 1 << 20;
/// Version byte of an encoded chunk.
const CHUNK_VERSION: u8 = 1;

fn crc(key: &[u8], value: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(key);
    h.update(value);
    h.finalize()
}

/// `value` followed by the CRC of `key ‖ value` (u32 LE): what a `meta` or
/// `index` entry holds.
pub fn seal(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.extend_from_slice(value);
    out.extend_from_slice(&crc(key, value).to_le_bytes());
    out
}

/// The value a sealed entry holds, once its CRC matched; damage (or an
/// entry moved under another key) is `CorruptData`.
pub fn unseal<'a>(space: Space, key: &[u8], sealed: &'a [u8]) -> Result<&'a [u8]> {
    let bad = || {
        Error::corrupt(format!(
            "page store: a damaged {} entry ({} bytes)",
            space.name(),
            sealed.len()
        ))
    };
    let n = sealed.len().checked_sub(4).ok_or_else(bad)?;
    let (value, stored) = sealed.split_at(n);
    if crc(key, value).to_le_bytes() != stored {
        return Err(bad());
    }
    Ok(value)
}

/// The key of the chunk whose first record is at `cursor` (u64 BE).
pub fn chunk_key(cursor: u64) -> [u8; 8] {
    cursor.to_be_bytes()
}

/// A chunk of the change log as stored: records at consecutive cursors
/// from its key on.
///
/// ```text
/// u8      version = 1
/// count   n ≥ 1
/// n ×     varint len ‖ record (FORMAT.md §7)
/// u32 LE  CRC of the key and every byte before it
/// ```
#[derive(Debug)]
pub struct LogChunk<'a> {
    /// Cursor of the first record.
    pub first: u64,
    /// The records' encodings, in cursor order.
    pub records: Vec<&'a [u8]>,
}

impl<'a> LogChunk<'a> {
    /// Decode the chunk stored under `key`, checking its CRC first.
    pub fn decode(key: &[u8], value: &'a [u8]) -> Result<LogChunk<'a>> {
        let first = key
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| Error::corrupt("page store: a damaged log key"))?;
        let body = unseal(Space::Log, key, value)?;
        let mut r = Reader::new(body, "page store log chunk");
        let version = r.u8()?;
        if version != CHUNK_VERSION {
            return Err(r.error(format!("version {version}")));
        }
        let n = r.count()?;
        if n == 0 || n as u64 > LOG_CHUNK_RECORDS {
            return Err(r.error(format!("{n} records")));
        }
        let records = (0..n).map(|_| r.bytes()).collect::<Result<Vec<_>>>()?;
        r.finish()?;
        let last = first
            .checked_add(n as u64 - 1)
            .ok_or_else(|| r.error("cursors past the last one"))?;
        if first / LOG_CHUNK_RECORDS != last / LOG_CHUNK_RECORDS {
            return Err(r.error(format!(
                "records {first} to {last} span a multiple of {LOG_CHUNK_RECORDS}"
            )));
        }
        Ok(LogChunk { first, records })
    }

    /// One past the last record's cursor.
    pub fn end(&self) -> u64 {
        self.first + self.records.len() as u64
    }

    /// The records at or after `from` and before `to`, with their cursors.
    pub fn between(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &'a [u8])> + '_ {
        (self.first..)
            .zip(self.records.iter().copied())
            .filter(move |(c, _)| *c >= from && *c < to)
    }
}

/// Encode records at consecutive cursors from `first` as one chunk (the
/// caller keeps within [`LOG_CHUNK_RECORDS`] and its alignment).
pub fn encode_chunk<'r>(first: u64, records: impl IntoIterator<Item = &'r [u8]>) -> Vec<u8> {
    let records: Vec<&[u8]> = records.into_iter().collect();
    let data: usize = records
        .iter()
        .map(|r| varint_len(r.len() as u64) + r.len())
        .sum();
    // Sized once: a chunk is up to a MiB, and growing it by doubling
    // copied it several times over (a tenth of a paged load's time).
    let mut out = Vec::with_capacity(1 + varint_len(records.len() as u64) + data + 4);
    out.push(CHUNK_VERSION);
    put_varint(&mut out, records.len() as u64);
    for r in records {
        put_varint(&mut out, r.len() as u64);
        out.extend_from_slice(r);
    }
    let sum = crc(&chunk_key(first), &out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Put records at consecutive cursors from `first` into `batch` as chunks
/// of at most [`LOG_CHUNK_RECORDS`] records and about [`LOG_CHUNK_BYTES`]
/// bytes, none spanning a multiple of [`LOG_CHUNK_RECORDS`].
pub fn put_chunks<'r>(
    batch: &mut KvBatch,
    first: u64,
    records: impl IntoIterator<Item = &'r [u8]>,
) {
    let mut start = first;
    let mut held: Vec<&[u8]> = Vec::new();
    let mut bytes = 0;
    for (cursor, r) in (first..).zip(records) {
        let boundary = cursor % LOG_CHUNK_RECORDS == 0;
        if !held.is_empty() && (boundary || bytes + r.len() > LOG_CHUNK_BYTES) {
            batch.put(
                Space::Log,
                chunk_key(start),
                encode_chunk(start, held.drain(..)),
            );
            bytes = 0;
        }
        if held.is_empty() {
            start = cursor;
        }
        held.push(r);
        bytes += r.len();
    }
    if !held.is_empty() {
        batch.put(Space::Log, chunk_key(start), encode_chunk(start, held));
    }
}

/// Every chunk of `snapshot`'s log that holds records in `[from, to)`, in
/// cursor order, until `f` breaks.
pub fn visit_chunks(
    snapshot: &dyn KvSnapshot,
    from: u64,
    to: u64,
    f: &mut dyn FnMut(LogChunk<'_>) -> Result<ControlFlow<()>>,
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    let start = from / LOG_CHUNK_RECORDS * LOG_CHUNK_RECORDS;
    snapshot.range(
        Space::Log,
        &chunk_key(start),
        Some(&chunk_key(to)),
        &mut |k, v| {
            let chunk = LogChunk::decode(k, v)?;
            if chunk.end() <= from {
                return Ok(ControlFlow::Continue(()));
            }
            f(chunk)
        },
    )?;
    Ok(())
}

/// Remove from `batch`'s store every record before `first` (chunks wholly
/// before it go; one that straddles it is written again from `first`).
pub fn drop_chunks_before(
    snapshot: &dyn KvSnapshot,
    batch: &mut KvBatch,
    first: u64,
) -> Result<()> {
    snapshot.range(Space::Log, &[], Some(&chunk_key(first)), &mut |k, v| {
        let chunk = LogChunk::decode(k, v)?;
        batch.remove(Space::Log, k);
        if chunk.end() > first {
            let kept = chunk.between(first, u64::MAX).map(|(_, r)| r);
            batch.put(Space::Log, chunk_key(first), encode_chunk(first, kept));
        }
        Ok(ControlFlow::Continue(()))
    })
}

/// The store format `snapshot` holds: 1 when it has no format mark (a
/// store written by directory format 5, or a new empty store), else the
/// mark; a format newer than this build's is `UnsupportedVersion`.
pub fn store_format(snapshot: &dyn KvSnapshot) -> Result<u8> {
    let Some(v) = snapshot.get(Space::Meta, META_FORMAT)? else {
        return Ok(1);
    };
    let value = unseal(Space::Meta, META_FORMAT, &v)?;
    match value {
        [f] if *f == STORE_FORMAT || *f == UNCOMPRESSED_STORE_FORMAT => Ok(*f),
        [f] if *f > STORE_FORMAT => Err(Error::UnsupportedVersion(format!(
            "the page store is format {f}; this build reads format {STORE_FORMAT} (and migrates formats 1 and 2)"
        ))),
        _ => Err(Error::corrupt("page store: a damaged format mark")),
    }
}

/// Mark `batch` as writing store format [`STORE_FORMAT`].
pub fn put_format(batch: &mut KvBatch) {
    batch.put(Space::Meta, META_FORMAT, seal(META_FORMAT, &[STORE_FORMAT]));
}

/// Bring a store written by an older build to this format in one durable
/// commit that also writes the format mark: a format-1 store (directory
/// format 5: bare `meta` and `index` values, one `log` entry per record)
/// is rewritten in this layout; a format-2 store only gets the new mark
/// (its version-1 pages stay readable). A store already in this format is
/// left as it is. Whether anything was written.
pub fn migrate(store: &dyn KvStore) -> Result<bool> {
    let snap = store.snapshot()?;
    match store_format(&*snap)? {
        STORE_FORMAT => return Ok(false),
        UNCOMPRESSED_STORE_FORMAT => {
            let mut batch = KvBatch::default();
            put_format(&mut batch);
            store.commit(&batch, true)?;
            return Ok(true);
        }
        _ => {}
    }
    let mut batch = KvBatch::default();
    for space in [Space::Meta, Space::Index] {
        snap.range(space, &[], None, &mut |k, v| {
            batch.put(space, k, seal(k, v));
            Ok(ControlFlow::Continue(()))
        })?;
    }
    let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
    snap.range(Space::Log, &[], None, &mut |k, v| {
        let cursor = k
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| Error::corrupt("page store: a damaged log key"))?;
        if records.last().is_some_and(|(c, _)| *c + 1 != cursor) {
            return Err(Error::corrupt(format!(
                "page store: log record {cursor} does not follow the one before"
            )));
        }
        batch.remove(Space::Log, k);
        records.push((cursor, v.to_vec()));
        Ok(ControlFlow::Continue(()))
    })?;
    if let Some((first, _)) = records.first() {
        put_chunks(
            &mut batch,
            *first,
            records.iter().map(|(_, r)| r.as_slice()),
        );
    }
    put_format(&mut batch);
    store.commit(&batch, true)?;
    Ok(true)
}
