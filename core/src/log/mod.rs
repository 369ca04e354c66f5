//! The change log: records of committed mutations, the hybrid logical
//! clock, version vectors and retention.

pub mod cold;
pub mod hlc;
pub mod record;
pub mod version_vector;
pub(crate) mod vv_codec;

use crate::codec::record::{decode_record, encode_record};
use crate::model::error::{Error, Result};
use cold::{ColdLog, LogSource};
use hlc::{hlc_millis, Hlc};
use record::ChangeRecord;
use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::Arc;
use version_vector::VersionVector;

/// Records per chunk of the log's record list. Chunks are shared (`Arc`)
/// with the [`LogRecords`] a read view holds, so a view costs a reference
/// count per chunk and an append after a view copies at most the last
/// chunk's entries (40 bytes each; the record bytes stay shared).
pub const LOG_CHUNK: usize = 256;

/// How long the log keeps records. `None` keeps them forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many records.
    pub max_records: Option<u64>,
    /// Drop records whose stamp is older than this many milliseconds.
    pub max_age_ms: Option<i64>,
}

/// One page of the change log.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePage {
    /// Records in cursor order.
    pub records: Vec<ChangeRecord>,
    /// Cursor to pass next time (one past the last record returned).
    pub next_cursor: u64,
}

/// One log record, undecoded: the fields the log filters on, its origin
/// and table names, and the record's stored encoding (FORMAT.md §7).
#[derive(Clone, Copy, Debug)]
pub struct LogRecordRef<'a> {
    /// Local position.
    pub cursor: u64,
    /// Origin sequence number.
    pub seq: u64,
    /// HLC stamp.
    pub stamp: u64,
    /// Origin region.
    pub origin: &'a str,
    /// Table.
    pub table: &'a str,
    /// The record's encoding, as stored.
    pub bytes: &'a [u8],
}

/// A page of the log as [`ChangeLog::entries_since`] returns it.
#[derive(Clone, Debug)]
pub struct LogPage<'a> {
    /// Records in cursor order.
    pub records: Vec<LogRecordRef<'a>>,
    /// Cursor to pass next time (one past the last record returned).
    pub next_cursor: u64,
}

/// A record as the log holds it: the fields the log filters on, and the
/// record's encoding (one allocation per record).
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// Local position.
    pub cursor: u64,
    /// Origin sequence number.
    pub seq: u64,
    /// HLC stamp.
    pub stamp: u64,
    origin: u32,
    table: u32,
    /// The record's encoding (FORMAT.md §7).
    pub bytes: std::sync::Arc<[u8]>,
}

impl LogEntry {
    /// Decode the full record.
    pub fn record(&self) -> Result<ChangeRecord> {
        let mut r = decode_record(&self.bytes)?;
        r.cursor = self.cursor;
        Ok(r)
    }
}

/// Origin and table names, interned so each record carries two small ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Names {
    /// The id of a name already held.
    fn find(&self, name: &str) -> Option<u32> {
        // Records mostly repeat the last few names: compare before hashing.
        if let Some(i) = self.names.iter().rev().take(4).position(|n| n == name) {
            return Some((self.names.len() - 1 - i) as u32);
        }
        self.ids.get(name).copied()
    }
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.find(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// A log's counters as a checkpoint records them.
#[derive(Clone, Debug, Default)]
pub struct LogCounters {
    /// Cursor the next record gets.
    pub next_cursor: u64,
    /// Last local sequence number handed out.
    pub local_seq: u64,
    /// Last HLC value handed out or observed.
    pub hlc_last: u64,
    /// What the region holds.
    pub vv: VersionVector,
    /// Records retention dropped (or held without a record).
    pub dropped: VersionVector,
}

/// The records a log holds, in cursor order, in shared chunks of
/// [`LOG_CHUNK`] entries: what [`ChangeLog::since`] and
/// [`ChangeLog::entries_since`] read. A clone (a read view's copy) costs a
/// reference count per chunk and shares every record's bytes; the log it
/// was taken from copies a chunk only when it appends to or drops from one
/// the clone still holds.
#[derive(Clone, Debug)]
pub struct LogRecords {
    /// The oldest records, when a paged region keeps them in its store
    /// (issue 11 item 2): cursors `[cold.first, cold.end)`; the chunks
    /// below hold the records from `cold.end` on.
    cold: Option<Arc<ColdLog>>,
    /// Every chunk but the last holds exactly [`LOG_CHUNK`] entries.
    chunks: VecDeque<Arc<Vec<LogEntry>>>,
    /// Entries of the first chunk already dropped (retention).
    head: usize,
    len: usize,
    names: Arc<Names>,
    next_cursor: u64,
}

impl LogRecords {
    fn new(next_cursor: u64) -> Self {
        LogRecords {
            cold: None,
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
            names: Arc::default(),
            next_cursor,
        }
    }

    fn push(&mut self, e: LogEntry) {
        match self.chunks.back_mut() {
            Some(last) if last.len() < LOG_CHUNK => Arc::make_mut(last).push(e),
            _ => {
                let mut chunk = Vec::with_capacity(LOG_CHUNK);
                chunk.push(e);
                self.chunks.push_back(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    fn front(&self) -> Option<&LogEntry> {
        self.chunks.front().and_then(|c| c.get(self.head))
    }

    fn pop_front(&mut self) -> Option<LogEntry> {
        let e = self.front()?.clone();
        self.head += 1;
        self.len -= 1;
        if self.chunks.front().is_some_and(|c| self.head >= c.len()) {
            self.chunks.pop_front();
            self.head = 0;
        }
        Some(e)
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.names.find(name) {
            return id;
        }
        Arc::make_mut(&mut self.names).id(name)
    }

    /// The records kept in a store, if any.
    fn cold(&self) -> Option<&ColdLog> {
        self.cold.as_deref().filter(|c| !c.is_empty())
    }

    /// Number of records held (in memory and in a store).
    pub fn len(&self) -> usize {
        self.len + self.cold().map_or(0, |c| c.len() as usize)
    }

    /// Whether no records are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of records held in memory.
    pub fn len_in_memory(&self) -> usize {
        self.len
    }

    /// Cursor the next record will get.
    pub fn next_cursor(&self) -> u64 {
        self.next_cursor
    }

    /// Cursor of the oldest record kept.
    pub fn first_cursor(&self) -> u64 {
        match self.cold() {
            Some(c) => c.first(),
            None => self.warm_first(),
        }
    }

    /// Cursor of the oldest record in memory.
    fn warm_first(&self) -> u64 {
        self.front().map_or(self.next_cursor, |r| r.cursor)
    }

    /// Visit the records from `cursor` on (those in a store first, read
    /// back a chunk at a time), in cursor order, until `f` breaks.
    pub fn visit_from(
        &self,
        cursor: u64,
        mut f: impl FnMut(LogRecordRef<'_>) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        if let Some(c) = self.cold() {
            if c.visit(cursor, &mut f)?.is_break() {
                return Ok(());
            }
        }
        let first = self.warm_first();
        let skip = usize::try_from(cursor.saturating_sub(first)).unwrap_or(usize::MAX);
        for e in self.iter_from(skip) {
            let r = LogRecordRef {
                cursor: e.cursor,
                seq: e.seq,
                stamp: e.stamp,
                origin: self.names.name(e.origin),
                table: self.names.name(e.table),
                bytes: &e.bytes,
            };
            if f(r)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The record in memory at position `i` (0: the oldest in memory).
    pub fn get(&self, i: usize) -> Option<&LogEntry> {
        if i >= self.len {
            return None;
        }
        let at = self.head + i;
        self.chunks.get(at / LOG_CHUNK)?.get(at % LOG_CHUNK)
    }

    /// Records held in memory, in cursor order (all of them unless a paged
    /// region keeps the oldest in its store: see [`visit_from`](Self::visit_from)).
    pub fn iter(&self) -> impl Iterator<Item = &LogEntry> {
        self.iter_from(0)
    }

    /// Records held in memory from position `skip` on (0: the oldest in
    /// memory), in cursor order; empty past the end.
    pub fn iter_from(&self, skip: usize) -> impl Iterator<Item = &LogEntry> {
        let at = self.head + skip.min(self.len);
        let (chunk, offset) = (at / LOG_CHUNK, at % LOG_CHUNK);
        self.chunks
            .range(chunk.min(self.chunks.len())..)
            .enumerate()
            .flat_map(move |(n, c)| c[if n == 0 { offset.min(c.len()) } else { 0 }..].iter())
    }

    /// The origin region of an entry.
    pub fn origin_of(&self, e: &LogEntry) -> &str {
        self.names.name(e.origin)
    }

    /// The table of an entry.
    pub fn table_of(&self, e: &LogEntry) -> &str {
        self.names.name(e.table)
    }

    /// Records with cursor ≥ `cursor` (0: from the oldest kept), at most
    /// `limit`, decoded.
    pub fn since(&self, cursor: u64, limit: usize) -> Result<ChangePage> {
        let page = self.entries_since(cursor, limit)?;
        let records = page
            .records
            .iter()
            .map(|e| {
                let mut r = decode_record(e.bytes)?;
                r.cursor = e.cursor;
                Ok(r)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangePage {
            records,
            next_cursor: page.next_cursor,
        })
    }

    /// [`since`](Self::since) without decoding: each record's stored bytes
    /// with its names (what a sender copies into a frame as it is).
    pub fn entries_since(&self, cursor: u64, limit: usize) -> Result<LogPage<'_>> {
        if limit == 0 || limit > crate::model::limits::MAX_CHANGE_PAGE {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {}",
                crate::model::limits::MAX_CHANGE_PAGE
            )));
        }
        let first = self.first_cursor();
        let start = cursor.max(first);
        if cursor != 0 && cursor < first {
            // A caller who asked for records retention already dropped must know.
            return Err(Error::LogGap(format!(
                "records before cursor {first} were dropped by retention (asked from {cursor})"
            )));
        }
        let mut records: Vec<LogRecordRef<'_>> = match self.cold() {
            Some(c) if start < c.end() => c.page(start, limit)?,
            _ => Vec::new(),
        };
        let warm = self.warm_first();
        let skip = usize::try_from(start.max(warm) - warm).unwrap_or(usize::MAX);
        records.extend(
            self.iter_from(skip)
                .take(limit - records.len())
                .map(|e| LogRecordRef {
                    cursor: e.cursor,
                    seq: e.seq,
                    stamp: e.stamp,
                    origin: self.names.name(e.origin),
                    table: self.names.name(e.table),
                    bytes: &e.bytes,
                }),
        );
        let next_cursor = records
            .last()
            .map_or(start.min(self.next_cursor), |r| r.cursor + 1);
        Ok(LogPage {
            records,
            next_cursor,
        })
    }
}

/// The log of one region.
#[derive(Clone, Debug)]
pub struct ChangeLog {
    records: LogRecords,
    local_seq: u64,
    hlc: Hlc,
    vv: VersionVector,
    dropped: VersionVector,
}

impl Default for ChangeLog {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeLog {
    /// An empty log; the first record gets cursor 1.
    pub fn new() -> Self {
        ChangeLog {
            records: LogRecords::new(1),
            local_seq: 0,
            hlc: Hlc::new(),
            vv: VersionVector::new(),
            dropped: VersionVector::new(),
        }
    }

    /// Rebuild from snapshot parts: records (with cursors) in cursor order.
    pub fn restore(
        records: Vec<ChangeRecord>,
        next_cursor: u64,
        local_seq: u64,
        hlc_last: u64,
        vv: VersionVector,
        dropped: VersionVector,
    ) -> Self {
        let mut log = ChangeLog {
            records: LogRecords::new(next_cursor),
            local_seq,
            hlc: Hlc::resume(hlc_last),
            vv,
            dropped,
        };
        for r in &records {
            let e = log.entry(r, r.cursor);
            log.records.push(e);
        }
        log
    }

    fn entry(&mut self, rec: &ChangeRecord, cursor: u64) -> LogEntry {
        LogEntry {
            cursor,
            seq: rec.seq,
            stamp: rec.stamp,
            origin: self.records.name_id(&rec.origin),
            table: self.records.name_id(&rec.table),
            bytes: encode_record(rec).into(),
        }
    }

    /// Cursor the next record will get.
    pub fn next_cursor(&self) -> u64 {
        self.records.next_cursor
    }
    /// Cursor of the oldest record kept.
    pub fn first_cursor(&self) -> u64 {
        self.records.first_cursor()
    }
    /// Last local sequence number handed out.
    pub fn local_seq(&self) -> u64 {
        self.local_seq
    }
    /// Last HLC value handed out or observed.
    pub fn hlc_last(&self) -> u64 {
        self.hlc.last()
    }
    /// Records held (after retention), in cursor order.
    pub fn entries(&self) -> impl Iterator<Item = &LogEntry> {
        self.records.iter()
    }
    /// Records held from position `skip` on (0: the oldest kept).
    pub fn entries_from(&self, skip: usize) -> impl Iterator<Item = &LogEntry> {
        self.records.iter_from(skip)
    }
    /// The records, shared: a clone is what a read view holds
    /// ([`LogRecords`]: a reference count per chunk of records).
    pub fn records(&self) -> &LogRecords {
        &self.records
    }
    /// Number of records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// Whether no records are held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    /// The origin region of an entry.
    pub fn origin_of(&self, e: &LogEntry) -> &str {
        self.records.origin_of(e)
    }
    /// The table of an entry.
    pub fn table_of(&self, e: &LogEntry) -> &str {
        self.records.table_of(e)
    }
    /// Whether an entry belongs to one of `tables` (`None`: all).
    pub fn in_tables(&self, e: &LogEntry, tables: &Option<Vec<String>>) -> bool {
        match tables {
            None => true,
            Some(t) => t.iter().any(|n| self.records.names.get(n) == Some(e.table)),
        }
    }
    /// What this region holds.
    pub fn version_vector(&self) -> &VersionVector {
        &self.vv
    }
    /// Records retention dropped.
    pub fn dropped(&self) -> &VersionVector {
        &self.dropped
    }

    /// The next local `(seq, stamp)` without committing to them.
    pub fn peek_local(&self, now_ms: i64) -> (u64, u64) {
        let mut h = self.hlc;
        (self.local_seq + 1, h.tick(now_ms))
    }

    /// Whether `(origin, seq)` was already applied.
    pub fn contains(&self, origin: &str, seq: u64) -> bool {
        self.vv.contains(origin, seq)
    }

    /// Append a record (local or remote); assigns and returns its cursor.
    pub fn append(&mut self, rec: &ChangeRecord, local_region: &str) -> u64 {
        let bytes = encode_record(rec).into_boxed_slice();
        self.append_encoded(
            &rec.origin,
            rec.seq,
            rec.stamp,
            &rec.table,
            bytes,
            local_region,
        )
    }

    /// Append a record given as its encoding (FORMAT.md §7) and the fields
    /// the log filters on, which must be the encoding's; the bytes are kept
    /// as they are (no second encoding). Returns the cursor.
    pub fn append_encoded(
        &mut self,
        origin: &str,
        seq: u64,
        stamp: u64,
        table: &str,
        bytes: Box<[u8]>,
        local_region: &str,
    ) -> u64 {
        let cursor = self.records.next_cursor;
        self.records.next_cursor += 1;
        if origin == local_region {
            self.local_seq = self.local_seq.max(seq);
        }
        self.hlc.observe(stamp);
        self.vv.insert(origin, seq);
        let e = LogEntry {
            cursor,
            seq,
            stamp,
            origin: self.records.name_id(origin),
            table: self.records.name_id(table),
            bytes: bytes.into(),
        };
        self.records.push(e);
        cursor
    }

    /// Records with cursor ≥ `cursor`, at most `limit`.
    pub fn since(&self, cursor: u64, limit: usize) -> Result<ChangePage> {
        self.records.since(cursor, limit)
    }

    /// [`since`](Self::since) without decoding: each record's stored bytes
    /// with its names (what a sender copies into a frame as it is).
    pub fn entries_since(&self, cursor: u64, limit: usize) -> Result<LogPage<'_>> {
        self.records.entries_since(cursor, limit)
    }

    /// The first cursor retention would keep now (records before it may go).
    pub fn retention_cut(&self, retention: &Retention, now_ms: i64) -> Result<u64> {
        let total = self.records.len();
        let mut drop = 0usize;
        if let Some(max) = retention.max_records {
            drop = total.saturating_sub(max as usize);
        }
        if let Some(age) = retention.max_age_ms {
            let oldest_kept = now_ms.saturating_sub(age);
            let mut by_age = 0usize;
            self.records.visit_from(0, |r| {
                if hlc_millis(r.stamp) >= oldest_kept {
                    return Ok(ControlFlow::Break(()));
                }
                by_age += 1;
                Ok(ControlFlow::Continue(()))
            })?;
            drop = drop.max(by_age);
        }
        let cold = self.records.cold();
        let in_store = cold.map_or(0, |c| c.len() as usize);
        Ok(match cold {
            Some(c) if drop < in_store => c.first() + drop as u64,
            _ => self
                .records
                .get(drop - in_store)
                .map_or(self.records.next_cursor, |r| r.cursor),
        })
    }

    /// The records before `end` (all stored by a paged region's
    /// checkpoint, readable from `source`) leave memory: from now on they
    /// are read back from `source` (which must hold every record from the
    /// first kept one up to `end`).
    pub fn move_to_store(&mut self, source: Arc<dyn LogSource>, end: u64) {
        let first = self.first_cursor();
        while self.records.front().is_some_and(|r| r.cursor < end) {
            self.records.pop_front();
        }
        self.records.cold = Some(Arc::new(ColdLog::new(source, first, end.max(first))));
    }

    /// The records in the store start at `first` (a log restored empty
    /// over a store whose oldest record is `first`).
    pub fn set_store_start(&mut self, first: u64) {
        if let Some(c) = &self.records.cold {
            self.records.cold = Some(Arc::new(c.with_range(first.min(c.end()), c.end())));
        }
    }

    /// Forget the records read back from the store (they are read again
    /// when needed).
    pub fn clear_store_cache(&mut self) {
        if let Some(c) = &self.records.cold {
            self.records.cold = Some(Arc::new(c.uncached()));
        }
    }

    /// Records kept in a store (a paged region's), not in memory.
    pub fn len_in_store(&self) -> usize {
        self.records.len() - self.records.len_in_memory()
    }

    /// Record `(origin, seq)` as held though not in the log (its effect came
    /// with a snapshot or reconcile); it also counts as dropped.
    pub fn mark_held(&mut self, origin: &str, from: u64, to: u64, local_region: &str) {
        self.vv.insert_range(origin, from, to);
        self.dropped.insert_range(origin, from, to);
        if origin == local_region {
            self.local_seq = self.local_seq.max(to);
        }
    }

    /// Account for an HLC value that arrived without a record (merged rows).
    pub fn observe(&mut self, hlc: u64) {
        self.hlc.observe(hlc);
    }

    /// Bring a restored log up to a later checkpoint (a delta): drop records
    /// before `first_cursor`, append `records` (cursor order, each with a
    /// cursor at or after the current next cursor; earlier ones are already
    /// held and skipped) and take the counters as given.
    pub fn restore_tail(
        &mut self,
        first_cursor: u64,
        records: Vec<ChangeRecord>,
        tail: LogCounters,
    ) -> Result<()> {
        self.truncate_before(first_cursor)?;
        for r in &records {
            if r.cursor < self.records.next_cursor {
                continue;
            }
            let e = self.entry(r, r.cursor);
            self.records.push(e);
            self.records.next_cursor = r.cursor + 1;
        }
        self.records.next_cursor = tail.next_cursor;
        self.local_seq = tail.local_seq;
        self.hlc = Hlc::resume(tail.hlc_last);
        self.vv = tail.vv;
        self.dropped = tail.dropped;
        Ok(())
    }

    /// Drop records before `cursor` (they count as dropped in the version
    /// vectors; records kept in a store are read back for their origins).
    pub fn truncate_before(&mut self, cursor: u64) -> Result<()> {
        if let Some(c) = self.records.cold.clone().filter(|c| !c.is_empty()) {
            if cursor > c.first() {
                // Runs of consecutive seqs of one origin, each inserted
                // as a range (a local load drops one run per checkpoint).
                let mut gone: Vec<(String, u64, u64)> = Vec::new();
                let _ = c.visit(c.first(), &mut |r| {
                    if r.cursor >= cursor {
                        return Ok(ControlFlow::Break(()));
                    }
                    match gone.last_mut() {
                        Some((origin, _, to)) if origin == r.origin && r.seq == *to + 1 => {
                            *to = r.seq
                        }
                        _ => gone.push((r.origin.to_string(), r.seq, r.seq)),
                    }
                    Ok(ControlFlow::Continue(()))
                })?;
                for (origin, from, to) in gone {
                    self.dropped.insert_range(&origin, from, to);
                }
                self.records.cold = Some(Arc::new(c.with_range(cursor.min(c.end()), c.end())));
            }
        }
        while self.records.front().is_some_and(|r| r.cursor < cursor) {
            let Some(r) = self.records.pop_front() else {
                break;
            };
            let origin = self.records.names.name(r.origin).to_string();
            self.dropped.insert(&origin, r.seq);
        }
        Ok(())
    }
}
