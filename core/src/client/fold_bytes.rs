//! The fold's work at the byte level: a full snapshot (§11) and the delta
//! frames on it (§12.3) merged into one snapshot frame without rebuilding
//! the region — row states and change records are copied as the files hold
//! them (their bytes are CRC-checked and were validated when written; the
//! next open decodes them all), so no row is decoded, re-encoded or hashed.
//!
//! The result is byte for byte what loading the snapshot, applying the
//! deltas (`Database::apply_delta`) and exporting (`export_snapshot`) give
//! (`core/tests/background_fold.rs` checks it against that path).

use super::checkpoint_delta::{DELTA_FRAME_VERSION, MAGIC_DELTA_FRAME};
use super::snapshot::MAX_SNAPSHOT_BYTES;
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{
    decode_frame_version, try_encode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION,
};
use crate::codec::schema::{put_schema, read_schema};
use crate::log::vv_codec::read_vv;
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::collections::{BTreeMap, VecDeque};

/// A table being folded: its schema and rows (key, state), in key order.
struct Rows<'a> {
    schema: TableSchema,
    rows: Vec<(&'a [u8], &'a [u8])>,
}

/// Rows of one listing, checked to be in strictly increasing key order.
fn read_rows<'a>(r: &mut Reader<'a>) -> Result<Vec<(&'a [u8], &'a [u8])>> {
    let n = r.count()?;
    let mut rows: Vec<(&'a [u8], &'a [u8])> = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let k = r.bytes()?;
        let st = r.bytes()?;
        if rows.last().is_some_and(|(p, _)| *p >= k) {
            return Err(r.error("rows out of key order"));
        }
        rows.push((k, st));
    }
    Ok(rows)
}

/// The purged keys of a delta's table (frame version 2), strictly
/// increasing; a fresh table lists none.
fn read_purged<'a>(r: &mut Reader<'a>, fresh: bool) -> Result<Vec<&'a [u8]>> {
    let n = r.count()?;
    let mut keys: Vec<&'a [u8]> = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let k = r.bytes()?;
        if keys.last().is_some_and(|p| *p >= k) {
            return Err(r.error("purged keys out of key order"));
        }
        if fresh {
            return Err(r.error("a fresh table lists purged keys"));
        }
        keys.push(k);
    }
    Ok(keys)
}

/// `rows` without the keys in `purged` (both in key order).
fn without<'a>(rows: Vec<(&'a [u8], &'a [u8])>, purged: &[&[u8]]) -> Vec<(&'a [u8], &'a [u8])> {
    if purged.is_empty() {
        return rows;
    }
    let mut gone = purged.iter().peekable();
    rows.into_iter()
        .filter(|(k, _)| {
            while gone.next_if(|p| **p < *k).is_some() {}
            gone.peek().is_none_or(|p| **p != *k)
        })
        .collect()
}

/// `old` with `new` merged in (a key in both takes `new`'s state).
fn merge<'a>(
    old: Vec<(&'a [u8], &'a [u8])>,
    new: Vec<(&'a [u8], &'a [u8])>,
) -> Vec<(&'a [u8], &'a [u8])> {
    if new.is_empty() {
        return old;
    }
    let mut out = Vec::with_capacity(old.len() + new.len());
    let mut a = old.into_iter().peekable();
    let mut b = new.into_iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.0.cmp(y.0) {
                std::cmp::Ordering::Less => out.push(a.next().expect("peeked")),
                std::cmp::Ordering::Greater => out.push(b.next().expect("peeked")),
                std::cmp::Ordering::Equal => {
                    a.next();
                    out.push(b.next().expect("peeked"));
                }
            },
            (Some(_), None) => out.extend(a.by_ref()),
            (None, Some(_)) => out.extend(b.by_ref()),
            (None, None) => break,
        }
    }
    out
}

/// The log records (cursor, record bytes) of a listing, consecutive or
/// (`strict`) strictly increasing, all below `next_cursor`.
fn read_log<'a>(
    r: &mut Reader<'a>,
    next_cursor: u64,
    consecutive: bool,
) -> Result<Vec<(u64, &'a [u8])>> {
    let n = r.count()?;
    let mut out: Vec<(u64, &'a [u8])> = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let cursor = r.varint()?;
        let b = r.bytes()?;
        let ok = match out.last() {
            Some(&(p, _)) if consecutive => p + 1 == cursor,
            Some(&(p, _)) => p < cursor,
            None => true,
        };
        if !ok || cursor >= next_cursor {
            return Err(r.error("log records out of order"));
        }
        out.push((cursor, b));
    }
    Ok(out)
}

/// Fold snapshot frame `base` and delta frames `deltas` (oldest first) into
/// one snapshot frame; `None` when `base` is a legacy (version 1) snapshot,
/// which the caller folds by loading it instead.
pub(crate) fn fold_frames(base: &[u8], deltas: &[Vec<u8>]) -> Result<Option<Vec<u8>>> {
    if base.get(4) != Some(&SNAPSHOT_VERSION) {
        return Ok(None);
    }
    let base = decode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, base, MAX_SNAPSHOT_BYTES)?;
    let deltas = deltas
        .iter()
        .map(|d| {
            // Version 1 (before purges) is read too: its tables list no
            // purged keys.
            let legacy = d.get(4) == Some(&1);
            let version = if legacy { 1 } else { DELTA_FRAME_VERSION };
            decode_frame_version(MAGIC_DELTA_FRAME, version, d, MAX_SNAPSHOT_BYTES)
                .map(|p| (legacy, p))
        })
        .collect::<Result<Vec<_>>>()?;

    // The base: head, tables, log.
    let mut r = Reader::new(&base, "snapshot");
    let region = r.string()?;
    if region.is_empty() {
        return Err(Error::corrupt("snapshot has an empty region name"));
    }
    r.u64_le()?;
    r.varint()?;
    let mut next_cursor = r.varint()?;
    read_vv(&mut r)?;
    read_vv(&mut r)?;
    let mut head: &[u8] = &base[..r.position()];
    let mut tables: BTreeMap<String, Rows<'_>> = BTreeMap::new();
    for _ in 0..r.count()? {
        let schema = read_schema(&mut r)?;
        let rows = read_rows(&mut r)?;
        let name = schema.name.clone();
        if tables.insert(name, Rows { schema, rows }).is_some() {
            return Err(r.error("duplicate table"));
        }
    }
    let mut log: VecDeque<(u64, &[u8])> = read_log(&mut r, next_cursor, false)?.into();
    r.finish()?;

    for (legacy, payload) in &deltas {
        let mut r = Reader::new(payload, "delta checkpoint");
        let start = r.position();
        let d_region = r.string()?;
        if d_region != region {
            return Err(Error::corrupt(format!(
                "a delta checkpoint of region '{d_region}' follows a checkpoint of region '{region}'"
            )));
        }
        r.u64_le()?;
        r.varint()?;
        let d_next = r.varint()?;
        read_vv(&mut r)?;
        read_vv(&mut r)?;
        let d_head = &payload[start..r.position()];
        let first_cursor = r.varint()?;
        let mut old = std::mem::take(&mut tables);
        for _ in 0..r.count()? {
            let schema = read_schema(&mut r)?;
            let fresh = match r.u8()? {
                0 => false,
                1 => true,
                n => return Err(r.error(format!("fresh flag {n}"))),
            };
            let rows = read_rows(&mut r)?;
            let purged = if *legacy {
                Vec::new()
            } else {
                read_purged(&mut r, fresh)?
            };
            let rows = match old.remove(&schema.name) {
                Some(t) if !fresh => without(merge(t.rows, rows), &purged),
                None if !fresh => {
                    return Err(r.error(format!(
                        "table '{}' changed but the checkpoint before has none",
                        schema.name
                    )))
                }
                _ => rows,
            };
            let name = schema.name.clone();
            if tables.insert(name, Rows { schema, rows }).is_some() {
                return Err(r.error("duplicate table"));
            }
        }
        let records = read_log(&mut r, d_next, true)?;
        r.finish()?;
        if let Some(&(first, _)) = records.first() {
            if first > next_cursor.max(first_cursor) {
                return Err(Error::corrupt(format!(
                    "a delta checkpoint's records start at cursor {first}, the log before it ends before {next_cursor}"
                )));
            }
        }
        // As `ChangeLog::restore_tail`: drop what was truncated, append
        // the records not held yet, take the counters.
        while log.front().is_some_and(|&(c, _)| c < first_cursor) {
            log.pop_front();
        }
        for (cursor, b) in records {
            if cursor >= next_cursor {
                log.push_back((cursor, b));
                next_cursor = cursor + 1;
            }
        }
        next_cursor = d_next;
        head = d_head;
    }

    let rows_bytes: usize = tables
        .values()
        .flat_map(|t| t.rows.iter())
        .map(|(k, s)| k.len() + s.len() + 10)
        .sum();
    let log_bytes: usize = log.iter().map(|(_, b)| b.len() + 15).sum();
    let mut p = Vec::with_capacity(head.len() + rows_bytes + log_bytes + 64);
    p.extend_from_slice(head);
    put_varint(&mut p, tables.len() as u64);
    for t in tables.values() {
        put_schema(&mut p, &t.schema);
        put_varint(&mut p, t.rows.len() as u64);
        for (k, st) in &t.rows {
            put_bytes(&mut p, k);
            put_bytes(&mut p, st);
        }
    }
    put_varint(&mut p, log.len() as u64);
    for (cursor, b) in &log {
        put_varint(&mut p, *cursor);
        put_bytes(&mut p, b);
    }
    if p.len() as u64 > MAX_SNAPSHOT_BYTES as u64 {
        return Err(Error::invalid(format!(
            "the region's snapshot of {} bytes exceeds the {MAX_SNAPSHOT_BYTES}-byte limit",
            p.len()
        )));
    }
    try_encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, &p, true, usize::MAX).map(Some)
}
