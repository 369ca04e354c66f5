//! Protocol helpers over rows and version vectors: reconcile ids, the
//! table selection and version-vector differences.

use super::message::TableInfo;
use crate::engine::table::StoredRow;
use crate::log::version_vector::VersionVector;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;

/// Which rows count as equal when coding symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Equal visible content (verify: what the digests compare).
    Content,
    /// Equal merged state, tombstones and stamps included (reconcile: after
    /// it, both sides hold exactly the same states).
    State,
}

/// The id of a stored row (FORMAT.md §13.1).
pub(crate) fn row_id(key: &[u8], row: StoredRow<'_>, kind: IdKind) -> u64 {
    if kind == IdKind::State {
        return row.state_id;
    }
    match row.digest {
        Some(d) => u64::from_le_bytes(d[..8].try_into().expect("8")),
        None => {
            let mut h = Sha256::new();
            h.update(b"tablesync.tomb.v1");
            h.update((key.len() as u32).to_le_bytes());
            h.update(key);
            h.update(row.state);
            u64::from_le_bytes(h.finalize()[..8].try_into().expect("8"))
        }
    }
}

/// The table names a session covers: the selection, or every table of both sides.
pub(crate) fn selection(
    tables: &Option<Vec<String>>,
    a: &[TableInfo],
    b: &[TableInfo],
) -> Vec<String> {
    match tables {
        Some(t) => t.clone(),
        None => {
            let mut s: BTreeSet<String> = a.iter().map(|i| i.name.clone()).collect();
            s.extend(b.iter().map(|i| i.name.clone()));
            s.into_iter().collect()
        }
    }
}

/// A version vector holding exactly these ranges.
pub(crate) fn ranges_to_vv(entries: &[(String, u64, u64)]) -> VersionVector {
    let mut vv = VersionVector::new();
    for (o, from, to) in entries {
        vv.insert_range(o, *from, *to);
    }
    vv
}

/// `(origin, from, to)` ranges held by `a` and not by `b`: one entry per
/// gap, whatever its span.
pub(crate) fn vv_minus(a: &VersionVector, b: &VersionVector) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for o in a.origins() {
        let theirs = b.ranges(o);
        for (from, to) in a.ranges(o) {
            // The first number of the part of [from, to] not yet covered by b.
            let mut start = Some(from);
            for &(bf, bl) in &theirs {
                let Some(s) = start else { break };
                if bl < s {
                    continue;
                }
                if bf > to {
                    break;
                }
                if bf > s {
                    out.push((o.to_string(), s, bf - 1));
                }
                start = if bl >= to { None } else { Some(bl + 1) };
            }
            if let Some(s) = start {
                out.push((o.to_string(), s, to));
            }
        }
    }
    out
}

/// `a ∪ b`.
pub(crate) fn vv_union(a: &VersionVector, b: &VersionVector) -> VersionVector {
    let mut out = a.clone();
    for (o, from, to) in vv_minus(b, a) {
        out.insert_range(&o, from, to);
    }
    out
}
