//! The stored state of a whole-row PUT that replaces everything its row
//! held, encoded straight from the record's operations (no [`RowState`]).
//!
//! A PUT whose stamp is greater than every stamp of the stored row leaves
//! nothing of the old row (all of it falls under the PUT's row tombstone),
//! so the new state is a function of the PUT alone. Local puts always
//! qualify: the HLC is ahead of every stamp the region has seen.
//!
//! [`RowState`]: super::row_state::RowState

use crate::codec::buf::{put_bytes, put_varint, put_zigzag};
use crate::codec::value::put_value;
use crate::model::record::OpRef;
use crate::model::stamp::Stamp;
use crate::model::value::Value;

/// The encoding (FORMAT.md §5) of `RowState::default()` after
/// `apply(stamp, Put, ops)` and `trim(max_versions)`, byte for byte; `None`
/// when an operation is not a PUT or the stamp is zero (the caller then
/// takes the general path).
///
/// That state is: one stamp in the table; `deleted` and `live` both refer
/// to it; per column (name order, none cleared), its versions newest first,
/// a repeated timestamp keeping its first operation (equal stamps never
/// replace), at most `max_versions` of them (all share one stamp, so the
/// trim keeps the newest).
pub fn fresh_put_state(stamp: Stamp, ops: &[OpRef<'_>], max_versions: u32) -> Option<Vec<u8>> {
    if stamp.is_zero() {
        return None;
    }
    let mut cells: Vec<(&str, i64, &Value)> = Vec::with_capacity(ops.len());
    let mut size = 1 + 16 + 3;
    for op in ops {
        let OpRef::Put {
            name,
            value,
            timestamp,
        } = *op
        else {
            return None;
        };
        size += name.len() + value.size() + 24;
        cells.push((name, timestamp, value));
    }
    // Stable: a repeated (name, ts) keeps its first operation in front.
    if !cells.is_sorted_by(|a, b| (a.0, std::cmp::Reverse(a.1)) <= (b.0, std::cmp::Reverse(b.1))) {
        cells.sort_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
    }
    let keep = max_versions.max(1) as usize;
    let mut out = Vec::with_capacity(size);
    put_varint(&mut out, 1);
    out.extend_from_slice(&stamp.hlc.to_le_bytes());
    out.extend_from_slice(&stamp.origin.to_le_bytes());
    put_varint(&mut out, 1); // deleted
    put_varint(&mut out, 1); // live
    let columns = count_runs(&cells, |a, b| a.0 == b.0);
    put_varint(&mut out, columns as u64);
    let mut i = 0;
    while i < cells.len() {
        let name = cells[i].0;
        let end = i + cells[i..].iter().take_while(|c| c.0 == name).count();
        let col = &cells[i..end];
        let versions = count_runs(col, |a, b| a.1 == b.1).min(keep);
        put_bytes(&mut out, name.as_bytes());
        put_varint(&mut out, 0); // cleared: none
        put_varint(&mut out, versions as u64);
        let mut last_ts = None;
        let mut written = 0;
        for &(_, ts, value) in col {
            if last_ts == Some(ts) {
                continue;
            }
            if written == versions {
                break;
            }
            last_ts = Some(ts);
            written += 1;
            put_zigzag(&mut out, ts);
            put_varint(&mut out, 1);
            put_value(&mut out, value);
        }
        i = end;
    }
    Some(out)
}

/// Number of runs of equal neighbours in a sorted slice.
fn count_runs<T>(items: &[T], same: impl Fn(&T, &T) -> bool) -> usize {
    if items.is_empty() {
        return 0;
    }
    1 + items.windows(2).filter(|w| !same(&w[0], &w[1])).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::row_state::encode_row_state;
    use crate::engine::row_state::RowState;
    use crate::model::record::ChangeKind;

    /// A small deterministic generator (no dependency needed for a unit test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// The fast path gives exactly the bytes of the general merge and trim,
    /// over many random puts: repeated columns and timestamps, unsorted
    /// operations, every `max_versions` from 1 to 4, values of every type.
    #[test]
    fn equals_the_general_merge() {
        let mut g = Lcg(7);
        let names = ["a", "b", "c", "long_column_name", "é"];
        for case in 0..3000 {
            let values: Vec<(String, i64, Value)> = (0..g.next(7))
                .map(|_| {
                    let name = names[g.next(names.len() as u64) as usize].to_string();
                    let ts = g.next(5) as i64 * 1000;
                    let value = match g.next(5) {
                        0 => Value::Integer(g.next(1000) as i64 - 500),
                        1 => Value::Double(g.next(100) as f64 / 3.0),
                        2 => Value::Boolean(g.next(2) == 1),
                        3 => Value::String("x".repeat(g.next(200) as usize)),
                        _ => Value::Binary(vec![case as u8; g.next(4) as usize]),
                    };
                    (name, ts, value)
                })
                .collect();
            let ops: Vec<OpRef<'_>> = values
                .iter()
                .map(|(name, ts, value)| OpRef::Put {
                    name,
                    value,
                    timestamp: *ts,
                })
                .collect();
            let stamp = Stamp::new(1 + g.next(1 << 40), g.next(3));
            let max_versions = 1 + g.next(4) as u32;
            let mut s = RowState::default();
            s.apply_refs(stamp, ChangeKind::Put, ops.iter().copied());
            s.trim(max_versions);
            assert_eq!(
                fresh_put_state(stamp, &ops, max_versions),
                Some(encode_row_state(&s)),
                "case {case}: {values:?} max_versions {max_versions}"
            );
        }
    }

    #[test]
    fn declines_what_it_cannot_build() {
        let v = Value::Integer(1);
        let put = OpRef::Put {
            name: "a",
            value: &v,
            timestamp: 1,
        };
        assert!(fresh_put_state(Stamp::ZERO, &[put], 1).is_none());
        let del = OpRef::DeleteAllVersions { name: "a" };
        assert!(fresh_put_state(Stamp::new(5, 1), &[put, del], 1).is_none());
    }
}
