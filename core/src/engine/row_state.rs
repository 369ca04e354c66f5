//! The merged state of one row and the merge rule.
//!
//! A row's state is a join-semilattice: per `(column, timestamp)` the entry
//! (a value or a version tombstone) with the greatest stamp; per column the
//! greatest delete-all stamp; per row the greatest row-tombstone stamp and
//! the greatest write stamp. An entry older than a tombstone covering it is
//! dead and dropped. Merging is commutative, associative and idempotent, so
//! any order of the same records gives the same state (and the same bytes).

use crate::model::record::{ChangeKind, ColumnOp, OpRef};
use crate::model::stamp::Stamp;
use crate::model::value::Value;

pub use crate::model::row_state::{ColumnState, RowState, Version};

impl RowState {
    /// Whether the row exists (ignoring TTL).
    pub fn exists(&self) -> bool {
        !self.live.is_zero() && self.live >= self.deleted
    }

    /// The largest HLC value of any stamp in the state (0 when none).
    pub fn max_hlc(&self) -> u64 {
        let cols = self.columns.iter().flat_map(|c| {
            std::iter::once(c.cleared.hlc).chain(c.versions.iter().map(|v| v.stamp.hlc))
        });
        cols.fold(self.deleted.hlc.max(self.live.hlc), u64::max)
    }

    /// Whether the state holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_zero() && self.live.is_zero() && self.columns.is_empty()
    }

    /// Whether the column holds a value (not a tombstone) at `ts`.
    pub fn has_value(&self, name: &str, ts: i64) -> bool {
        self.columns
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .and_then(|i| {
                let vs = &self.columns[i].versions;
                vs.binary_search_by(|x| ts.cmp(&x.ts)).ok().map(|j| &vs[j])
            })
            .is_some_and(|v| v.value.is_some())
    }

    fn column_mut(&mut self, name: &str) -> &mut ColumnState {
        let idx = match self.columns.binary_search_by(|c| c.name.as_str().cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                self.columns.insert(
                    i,
                    ColumnState {
                        name: name.to_string(),
                        cleared: Stamp::ZERO,
                        versions: Vec::new(),
                    },
                );
                i
            }
        };
        &mut self.columns[idx]
    }

    fn merge_version(&mut self, name: &str, v: Version) {
        let col = self.column_mut(name);
        match col.versions.binary_search_by(|x| v.ts.cmp(&x.ts)) {
            Ok(i) => {
                if v.stamp > col.versions[i].stamp {
                    col.versions[i] = v;
                }
            }
            Err(i) => col.versions.insert(i, v),
        }
    }

    /// Merge one change record's effect.
    pub fn apply(&mut self, stamp: Stamp, kind: ChangeKind, ops: &[ColumnOp]) {
        self.apply_refs(stamp, kind, ops.iter().map(ColumnOp::as_op_ref));
    }

    /// Merge one change record's effect from borrowed operations.
    pub fn apply_refs<'o>(
        &mut self,
        stamp: Stamp,
        kind: ChangeKind,
        ops: impl IntoIterator<Item = OpRef<'o>>,
    ) {
        match kind {
            ChangeKind::Put => {
                self.deleted = self.deleted.max(stamp);
                self.live = self.live.max(stamp);
            }
            ChangeKind::Update => self.live = self.live.max(stamp),
            ChangeKind::Delete => self.deleted = self.deleted.max(stamp),
        }
        for op in ops {
            match op {
                OpRef::Put {
                    name,
                    value,
                    timestamp,
                } => self.merge_version(
                    name,
                    Version {
                        ts: timestamp,
                        stamp,
                        value: Some(value.clone()),
                    },
                ),
                OpRef::DeleteOneVersion { name, timestamp } => self.merge_version(
                    name,
                    Version {
                        ts: timestamp,
                        stamp,
                        value: None,
                    },
                ),
                OpRef::DeleteAllVersions { name } => {
                    let col = self.column_mut(name);
                    col.cleared = col.cleared.max(stamp);
                }
            }
        }
        self.normalize();
    }

    /// Merge another state of the same row (used when whole rows move).
    pub fn merge(&mut self, other: &RowState) {
        self.deleted = self.deleted.max(other.deleted);
        self.live = self.live.max(other.live);
        for oc in &other.columns {
            {
                let col = self.column_mut(&oc.name);
                col.cleared = col.cleared.max(oc.cleared);
            }
            for v in &oc.versions {
                self.merge_version(&oc.name, v.clone());
            }
        }
        self.normalize();
    }

    /// Drop what tombstones cover, so equal knowledge gives equal states.
    pub fn normalize(&mut self) {
        let deleted = self.deleted;
        if self.live < deleted {
            self.live = Stamp::ZERO;
        }
        self.columns.retain_mut(|c| {
            if c.cleared <= deleted {
                c.cleared = Stamp::ZERO;
            }
            let floor = deleted.max(c.cleared);
            c.versions.retain(|v| v.stamp >= floor);
            !(c.versions.is_empty() && c.cleared.is_zero())
        });
    }

    /// Drop the versions `max_versions` can never show again (FORMAT.md
    /// §5.1): a version is dropped when at least `max_versions` versions of
    /// its column (values or tombstones) have a newer timestamp *and* a stamp
    /// at least as great. Whatever arrives later, such a version stays
    /// outside the newest `max_versions` or under a floor that also removes
    /// it, so reads and digests are unchanged; and the rule is a function of
    /// the merged versions, so any order of the same records trims to the
    /// same state. A cell updated with server-assigned timestamps keeps at
    /// most `max_versions` versions.
    pub fn trim(&mut self, max_versions: u32) {
        let k = max_versions.max(1) as usize;
        // The k greatest stamps among the kept, newer versions (ascending).
        let mut top: Vec<Stamp> = Vec::new();
        for col in &mut self.columns {
            if col.versions.len() <= k {
                continue;
            }
            top.clear();
            col.versions.retain(|v| {
                if top.len() == k && top[0] >= v.stamp {
                    return false;
                }
                let at = top.partition_point(|s| *s < v.stamp);
                top.insert(at, v.stamp);
                if top.len() > k {
                    top.remove(0);
                }
                true
            });
        }
    }

    /// The versions reads and digests see of a column: the live ones among
    /// its newest `max_versions` versions (a version tombstone takes a
    /// place), newest first.
    pub fn live_versions<'a>(
        col: &'a ColumnState,
        max_versions: u32,
    ) -> impl Iterator<Item = (i64, &'a Value)> + 'a {
        col.versions
            .iter()
            .take(max_versions as usize)
            .filter_map(|v| v.value.as_ref().map(|val| (v.ts, val)))
    }
}
