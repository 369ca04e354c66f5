//! The part of a log kept in a store rather than in memory (issue 11 item
//! 2): a paged region's records up to its last checkpoint live in its page
//! store and are read back by cursor — in chunks cached until the next
//! change of the log, or streamed for a walk over all of them.

use super::LogRecordRef;
use crate::codec::record::decode_record_head;
use crate::model::error::{Error, Result};
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

/// Where records kept out of memory are read back from. The records it
/// returns must never change (a store pinned to one commit).
pub trait LogSource: Send + Sync + std::fmt::Debug {
    /// The records with cursors in `[from, to)`, in cursor order, as
    /// `(cursor, encoding)` (FORMAT.md §7).
    fn read(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>>;
    /// Hand the records with cursors in `[from, to)` to `f` in cursor
    /// order, as (cursor, encoding), until it breaks: a source that can
    /// lend its stored bytes overrides this so a walk copies nothing.
    fn visit(&self, from: u64, to: u64, f: RecordVisitor<'_>) -> Result<ControlFlow<()>> {
        for (cursor, bytes) in self.read(from, to)? {
            if f(cursor, &bytes)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// What [`LogSource::visit`] hands each record to: (cursor, encoding).
pub type RecordVisitor<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<ControlFlow<()>>;

/// Records per chunk read back (and cached) at once.
pub const COLD_CHUNK: u64 = 1024;

/// A record read back: what the log filters on, and its encoding.
#[derive(Debug)]
pub struct ColdRecord {
    cursor: u64,
    seq: u64,
    stamp: u64,
    origin: Box<str>,
    table: Box<str>,
    bytes: Box<[u8]>,
}

impl ColdRecord {
    /// The record as a log reader sees it.
    pub fn as_ref(&self) -> LogRecordRef<'_> {
        LogRecordRef {
            cursor: self.cursor,
            seq: self.seq,
            stamp: self.stamp,
            origin: &self.origin,
            table: &self.table,
            bytes: &self.bytes,
        }
    }
}

/// Records `[first, end)` of a log, in a [`LogSource`]. Immutable: a log
/// that moves records out or drops some makes a new one (read views share
/// it by `Arc`).
#[derive(Debug)]
pub struct ColdLog {
    source: Arc<dyn LogSource>,
    first: u64,
    end: u64,
    /// Cached chunks, by `cursor / COLD_CHUNK - first / COLD_CHUNK`.
    chunks: Vec<OnceLock<Result<Vec<ColdRecord>>>>,
}

impl ColdLog {
    /// Records `[first, end)` in `source`.
    pub fn new(source: Arc<dyn LogSource>, first: u64, end: u64) -> ColdLog {
        let end = end.max(first);
        let n = if end > first {
            (end - 1) / COLD_CHUNK - first / COLD_CHUNK + 1
        } else {
            0
        };
        ColdLog {
            source,
            first,
            end,
            chunks: (0..n).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The same records with an empty cache.
    pub fn uncached(&self) -> ColdLog {
        ColdLog::new(self.source.clone(), self.first, self.end)
    }

    /// The same source over `[first, end)`.
    pub fn with_range(&self, first: u64, end: u64) -> ColdLog {
        ColdLog::new(self.source.clone(), first, end)
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn LogSource> {
        &self.source
    }

    /// First cursor held.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// One past the last cursor held.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Records held.
    pub fn len(&self) -> u64 {
        self.end - self.first
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.end == self.first
    }

    /// Read `[from, to)` back, checking the cursors are exactly those.
    fn read(&self, from: u64, to: u64) -> Result<Vec<ColdRecord>> {
        let raw = self.source.read(from, to)?;
        if raw.len() as u64 != to - from {
            return Err(Error::corrupt(format!(
                "change log: records {from} to {} should be in the store, {} are",
                to - 1,
                raw.len()
            )));
        }
        raw.into_iter()
            .zip(from..)
            .map(|((cursor, bytes), want)| {
                if cursor != want {
                    return Err(Error::corrupt(format!(
                        "change log: record {want} missing from the store"
                    )));
                }
                // The head only: the bytes came from a chunk whose CRC
                // matched, and whoever uses a record decodes it whole.
                let r = decode_record_head(&bytes)?;
                Ok(ColdRecord {
                    cursor,
                    seq: r.seq,
                    stamp: r.stamp,
                    origin: r.origin.into(),
                    table: r.table.into(),
                    bytes: bytes.into(),
                })
            })
            .collect()
    }

    /// The chunk holding `cursor` (read back and cached on first use).
    fn chunk(&self, cursor: u64) -> Result<&[ColdRecord]> {
        let c = cursor / COLD_CHUNK;
        let slot = &self.chunks[(c - self.first / COLD_CHUNK) as usize];
        let from = (c * COLD_CHUNK).max(self.first);
        let to = ((c + 1) * COLD_CHUNK).min(self.end);
        match slot.get_or_init(|| self.read(from, to)) {
            Ok(records) => Ok(records),
            Err(e) => Err(e.clone()),
        }
    }

    /// Up to `limit` records from `cursor` on (clamped to the held range),
    /// borrowed from the cached chunks.
    pub fn page(&self, cursor: u64, limit: usize) -> Result<Vec<LogRecordRef<'_>>> {
        let mut out = Vec::new();
        let mut at = cursor.max(self.first);
        while at < self.end && out.len() < limit {
            let chunk = self.chunk(at)?;
            let skip = (at - chunk.first().map_or(at, |r| r.cursor)) as usize;
            for r in chunk.iter().skip(skip).take(limit - out.len()) {
                out.push(r.as_ref());
                at = r.cursor + 1;
            }
            if chunk.is_empty() {
                break;
            }
        }
        Ok(out)
    }

    /// Walk the records from `cursor` on, a chunk read back at a time (not
    /// cached), until `f` breaks.
    pub fn visit(
        &self,
        cursor: u64,
        f: &mut dyn FnMut(LogRecordRef<'_>) -> Result<ControlFlow<()>>,
    ) -> Result<ControlFlow<()>> {
        let mut at = cursor.max(self.first);
        while at < self.end {
            let to = ((at / COLD_CHUNK + 1) * COLD_CHUNK).min(self.end);
            let slot = &self.chunks[(at / COLD_CHUNK - self.first / COLD_CHUNK) as usize];
            if let Some(Ok(cached)) = slot.get() {
                for r in cached.iter().filter(|r| r.cursor >= at) {
                    if f(r.as_ref())?.is_break() {
                        return Ok(ControlFlow::Break(()));
                    }
                }
                at = to;
                continue;
            }
            // Not cached: the records are lent by the source, not copied
            // (a retention walk over a store's records decodes heads only).
            let mut want = at;
            let flow = self.source.visit(at, to, &mut |cursor, bytes| {
                if cursor != want {
                    return Err(Error::corrupt(format!(
                        "change log: record {want} missing from the store"
                    )));
                }
                want += 1;
                let head = decode_record_head(bytes)?;
                f(LogRecordRef {
                    cursor,
                    seq: head.seq,
                    stamp: head.stamp,
                    origin: head.origin,
                    table: head.table,
                    bytes,
                })
            })?;
            if flow.is_break() {
                return Ok(ControlFlow::Break(()));
            }
            if want != to {
                return Err(Error::corrupt(format!(
                    "change log: records {at} to {} should be in the store, {} are",
                    to - 1,
                    want - at
                )));
            }
            at = to;
        }
        Ok(ControlFlow::Continue(()))
    }
}
