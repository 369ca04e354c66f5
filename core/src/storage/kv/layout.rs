//! How a paged region lays its values out in its page store (FORMAT.md
//! §12 "Page store", store format 4, directory format 8): every `meta` and
//! `index` value ends in a CRC of its key and value ([`seal`]), the
//! change log is kept in chunks of consecutive records ([`LogChunk`])
//! rather than one entry per record, pages may be LZ4-compressed (page
//! version 2, since format 3), and each table's index has a block list
//! ([`encode_blocks`], since format 4) so an open reads the index block by
//! block on demand. [`migrate`] rewrites a store of format 1 (directory
//! format 5) into this layout in one commit; a format-2 or format-3 store
//! (directory formats 6 and 7) gets its block lists and the new mark (its
//! version-1 pages stay readable and are compressed as they are next
//! stored).

use super::{KvBatch, KvSnapshot, KvStore, Space};
use crate::codec::buf::{put_varint, Reader};
use crate::model::error::{Error, Result};
use std::ops::ControlFlow;

/// The store format this build writes (`meta` key [`META_FORMAT`]).
pub const STORE_FORMAT: u8 = 4;
/// The store format whose layout this build writes, less compressed pages
/// and block lists.
pub const UNCOMPRESSED_STORE_FORMAT: u8 = 2;
/// The store format whose layout this build writes, less block lists.
pub const UNBLOCKED_STORE_FORMAT: u8 = 3;
/// Index entries per block in the block lists a migration writes (the
/// engine splits a block that grows past twice its own block size).
const MIGRATED_BLOCK_ENTRIES: usize = 512;
/// Version byte of an encoded block list.
const BLOCKS_VERSION: u8 = 1;
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
        [f] if (UNCOMPRESSED_STORE_FORMAT..=STORE_FORMAT).contains(f) => Ok(*f),
        [f] if *f > STORE_FORMAT => Err(Error::UnsupportedVersion(format!(
            "the page store is format {f}; this build reads format {STORE_FORMAT} (and migrates formats 1 to 3)"
        ))),
        _ => Err(Error::corrupt("page store: a damaged format mark")),
    }
}

/// Mark `batch` as writing store format [`STORE_FORMAT`].
pub fn put_format(batch: &mut KvBatch) {
    batch.put(Space::Meta, META_FORMAT, seal(META_FORMAT, &[STORE_FORMAT]));
}

/// A block list's blocks: each one's lower bound and entries.
pub type Blocks = Vec<(Box<[u8]>, u64)>;

/// The `meta` key of table `table`'s block list.
pub fn blocks_key(table: u32) -> Vec<u8> {
    let mut k = b"blocks".to_vec();
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// A table's block list as stored under [`blocks_key`] (sealed): the id
/// the next new page gets, and each block's lower bound (the first empty,
/// ascending) with how many index entries it holds.
///
/// ```text
/// u8      version = 1
/// varint  next page id
/// count   n ≥ 1
/// n ×     varint len ‖ bound, varint entries
/// u32 LE  CRC of the key and every byte before it
/// ```
pub fn encode_blocks(key: &[u8], next_id: u64, blocks: &[(Box<[u8]>, u64)]) -> Vec<u8> {
    let mut out = vec![BLOCKS_VERSION];
    put_varint(&mut out, next_id);
    put_varint(&mut out, blocks.len() as u64);
    for (bound, n) in blocks {
        put_varint(&mut out, bound.len() as u64);
        out.extend_from_slice(bound);
        put_varint(&mut out, *n);
    }
    seal(key, &out)
}

/// Decode a block list stored under `key` ([`encode_blocks`]): the next
/// page id and the blocks. Their order is the engine's to check.
pub fn decode_blocks(key: &[u8], sealed: &[u8]) -> Result<(u64, Blocks)> {
    let body = unseal(Space::Meta, key, sealed)?;
    let mut r = Reader::new(body, "page store block list");
    let version = r.u8()?;
    if version != BLOCKS_VERSION {
        return Err(r.error(format!("version {version}")));
    }
    let next_id = r.varint()?;
    let n = r.count()?;
    if n == 0 {
        return Err(r.error("no block"));
    }
    let blocks = (0..n)
        .map(|_| Ok((Box::from(r.bytes()?), r.varint()?)))
        .collect::<Result<Vec<_>>>()?;
    r.finish()?;
    Ok((next_id, blocks))
}

/// Put a block list for every table that has index entries in `snap`
/// into `batch`: blocks of [`MIGRATED_BLOCK_ENTRIES`] entries, the next
/// page id above every page's. `sealed`: whether the index values carry
/// their CRC (format 2 on) or are bare (format 1).
fn put_blocks(snap: &dyn KvSnapshot, batch: &mut KvBatch, sealed: bool) -> Result<()> {
    // The table being read: its number, next page id and blocks so far.
    let mut table: Option<(u32, u64, Blocks)> = None;
    let done = |t: Option<(u32, u64, Blocks)>, batch: &mut KvBatch| {
        if let Some((number, next_id, blocks)) = t {
            let key = blocks_key(number);
            let value = encode_blocks(&key, next_id, &blocks);
            batch.put(Space::Meta, key, value);
        }
    };
    snap.range(Space::Index, &[], None, &mut |k, v| {
        let bad = || Error::corrupt("page store: a damaged index entry");
        let number = k
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(bad)?;
        let value = if sealed {
            unseal(Space::Index, k, v)?
        } else {
            v
        };
        let id = value
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| bad())?;
        if table.as_ref().is_none_or(|(n, _, _)| *n != number) {
            done(table.take(), batch);
            table = Some((number, 0, vec![(Box::default(), 0)]));
        }
        let Some((_, next_id, blocks)) = table.as_mut() else {
            return Err(bad());
        };
        *next_id = (*next_id).max(id.saturating_add(1));
        if blocks
            .last()
            .is_some_and(|(_, n)| *n as usize == MIGRATED_BLOCK_ENTRIES)
        {
            blocks.push((k[4..].into(), 0));
        }
        if let Some((_, n)) = blocks.last_mut() {
            *n += 1;
        }
        Ok(ControlFlow::Continue(()))
    })?;
    done(table, batch);
    Ok(())
}

/// Bring a store written by an older build to this format in one durable
/// commit that also writes the format mark: a format-1 store (directory
/// format 5: bare `meta` and `index` values, one `log` entry per record)
/// is rewritten in this layout; a format-2 or format-3 store gets its
/// tables' block lists (its version-1 pages stay readable). A store
/// already in this format is left as it is. Whether anything was written.
pub fn migrate(store: &dyn KvStore) -> Result<bool> {
    let snap = store.snapshot()?;
    match store_format(&*snap)? {
        STORE_FORMAT => return Ok(false),
        UNCOMPRESSED_STORE_FORMAT | UNBLOCKED_STORE_FORMAT => {
            let mut batch = KvBatch::default();
            put_blocks(&*snap, &mut batch, true)?;
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
    put_blocks(&*snap, &mut batch, false)?;
    put_format(&mut batch);
    store.commit(&batch, true)?;
    Ok(true)
}
