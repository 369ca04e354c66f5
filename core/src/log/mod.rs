//! The change log: records of committed mutations, the hybrid logical
//! clock, version vectors and retention.

pub mod hlc;
pub mod record;
pub mod version_vector;

use crate::model::error::{Error, Result};
use hlc::{hlc_millis, Hlc};
use record::ChangeRecord;
use std::collections::VecDeque;
use version_vector::VersionVector;

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

/// The log of one region.
#[derive(Clone, Debug)]
pub struct ChangeLog {
    records: VecDeque<ChangeRecord>,
    next_cursor: u64,
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
            records: VecDeque::new(),
            next_cursor: 1,
            local_seq: 0,
            hlc: Hlc::new(),
            vv: VersionVector::new(),
            dropped: VersionVector::new(),
        }
    }

    /// Rebuild from snapshot parts.
    pub fn restore(
        records: Vec<ChangeRecord>,
        next_cursor: u64,
        local_seq: u64,
        hlc_last: u64,
        vv: VersionVector,
        dropped: VersionVector,
    ) -> Self {
        ChangeLog {
            records: records.into(),
            next_cursor,
            local_seq,
            hlc: Hlc::resume(hlc_last),
            vv,
            dropped,
        }
    }

    /// Cursor the next record will get.
    pub fn next_cursor(&self) -> u64 {
        self.next_cursor
    }
    /// Cursor of the oldest record kept.
    pub fn first_cursor(&self) -> u64 {
        self.records.front().map_or(self.next_cursor, |r| r.cursor)
    }
    /// Last local sequence number handed out.
    pub fn local_seq(&self) -> u64 {
        self.local_seq
    }
    /// Last HLC value handed out or observed.
    pub fn hlc_last(&self) -> u64 {
        self.hlc.last()
    }
    /// Records held (after retention).
    pub fn records(&self) -> &VecDeque<ChangeRecord> {
        &self.records
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
    pub fn append(&mut self, mut rec: ChangeRecord, local_region: &str) -> u64 {
        rec.cursor = self.next_cursor;
        self.next_cursor += 1;
        if rec.origin == local_region {
            self.local_seq = self.local_seq.max(rec.seq);
        }
        self.hlc.observe(rec.stamp);
        self.vv.insert(&rec.origin, rec.seq);
        self.records.push_back(rec);
        self.next_cursor - 1
    }

    /// Records with cursor ≥ `cursor`, at most `limit`.
    pub fn since(&self, cursor: u64, limit: usize) -> Result<ChangePage> {
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
        let skip = (start - first) as usize;
        let records: Vec<ChangeRecord> = self
            .records
            .iter()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect();
        let next_cursor = records
            .last()
            .map_or(start.min(self.next_cursor), |r| r.cursor + 1);
        Ok(ChangePage {
            records,
            next_cursor,
        })
    }

    /// The first cursor retention would keep now (records before it may go).
    pub fn retention_cut(&self, retention: &Retention, now_ms: i64) -> u64 {
        let mut drop = 0usize;
        if let Some(max) = retention.max_records {
            drop = self.records.len().saturating_sub(max as usize);
        }
        if let Some(age) = retention.max_age_ms {
            let oldest_kept = now_ms.saturating_sub(age);
            let by_age = self
                .records
                .iter()
                .take_while(|r| hlc_millis(r.stamp) < oldest_kept)
                .count();
            drop = drop.max(by_age);
        }
        self.records
            .get(drop)
            .map_or(self.next_cursor, |r| r.cursor)
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

    /// Drop records before `cursor`.
    pub fn truncate_before(&mut self, cursor: u64) {
        while self.records.front().is_some_and(|r| r.cursor < cursor) {
            let r = self.records.pop_front().expect("front");
            self.dropped.insert(&r.origin, r.seq);
        }
    }
}
