//! Wide-row paging (the service's in-row streaming read): a row whose cells
//! do not fit one response comes back in parts. The part ends at a cell
//! boundary and the response carries `next_token`; the client sends it back
//! as `token` (GetRow, BatchGetRow per key, GetRange for its first row) and
//! the next part starts after the last cell returned.
//!
//! The token is opaque to the SDKs. Ours is `TSWR`, a version byte (1), the
//! last returned cell's timestamp (i64, little-endian) and its column name
//! (UTF-8, the rest of the token).

use crate::error::{OtsError, OtsResult};
use tablesync::{Cell, Row};

/// Most bytes of cells (names and values) one response carries for one row;
/// the service's 4 MiB response budget.
pub const MAX_ROW_PART_BYTES: usize = 4 * 1024 * 1024;

const MAGIC: &[u8; 4] = b"TSWR";
const VERSION: u8 = 1;
/// PlainBuffer framing around one cell (tags, lengths, type, timestamp, CRC).
const CELL_OVERHEAD: usize = 24;

/// Where the next part of a row starts: after this cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Column of the last cell returned.
    pub name: String,
    /// Its timestamp.
    pub timestamp: i64,
}

impl Resume {
    /// The token bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(13 + self.name.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out
    }

    /// Parse a token a client sent back; `None` for an empty one (the SDKs
    /// send none, or an empty one, on a first read).
    pub fn decode(token: Option<&[u8]>) -> OtsResult<Option<Resume>> {
        let Some(t) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let bad =
            || OtsError::invalid("Invalid token: it is not a next_token this server returned.");
        if t.len() < 14 || &t[..4] != MAGIC || t[4] != VERSION {
            return Err(bad());
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&t[5..13]);
        let name = std::str::from_utf8(&t[13..]).map_err(|_| bad())?;
        Ok(Some(Resume {
            name: name.to_string(),
            timestamp: i64::from_le_bytes(ts),
        }))
    }

    /// Whether `c` was returned by an earlier part (cells come by column
    /// name ascending, versions newest first).
    fn covers(&self, c: &Cell) -> bool {
        c.name < self.name || (c.name == self.name && c.timestamp >= self.timestamp)
    }
}

/// Drop the cells an earlier part returned.
pub fn skip_returned(row: &mut Row, resume: &Resume) {
    row.cells.retain(|c| !resume.covers(c));
}

/// Encoded size of one cell, as counted against the budget.
pub fn cell_bytes(c: &Cell) -> usize {
    c.name.len() + c.value.size() + CELL_OVERHEAD
}

/// Keep the cells that fit `budget` bytes (always at least one); when some
/// are cut, return the `next_token` where the rest starts.
pub fn split(row: &mut Row, budget: usize) -> Option<Vec<u8>> {
    let mut used = 0usize;
    let mut keep = row.cells.len();
    for (i, c) in row.cells.iter().enumerate() {
        let n = cell_bytes(c);
        if i > 0 && used + n > budget {
            keep = i;
            break;
        }
        used += n;
    }
    if keep == row.cells.len() {
        return None;
    }
    row.cells.truncate(keep);
    let last = row.cells.last()?;
    Some(
        Resume {
            name: last.name.clone(),
            timestamp: last.timestamp,
        }
        .encode(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tablesync::{PrimaryKey, Value};

    fn row(cells: &[(&str, i64, usize)]) -> Row {
        Row {
            primary_key: PrimaryKey(vec![("k".into(), tablesync::PkValue::Integer(1))]),
            cells: cells
                .iter()
                .map(|(n, ts, len)| Cell {
                    name: n.to_string(),
                    value: Value::Binary(vec![0; *len]),
                    timestamp: *ts,
                })
                .collect(),
        }
    }

    #[test]
    fn parts_cover_every_cell_once_in_order() {
        let full = row(&[
            ("a", 3, 40),
            ("a", 2, 40),
            ("a", 1, 40),
            ("b", 5, 40),
            ("c", 1, 40),
        ]);
        let mut seen = Vec::new();
        let mut token: Option<Vec<u8>> = None;
        for _ in 0..10 {
            let mut part = full.clone();
            if let Some(r) = Resume::decode(token.as_deref()).unwrap() {
                skip_returned(&mut part, &r);
            }
            token = split(&mut part, 2 * (40 + 1 + CELL_OVERHEAD));
            assert!(!part.cells.is_empty());
            seen.extend(part.cells.iter().map(|c| (c.name.clone(), c.timestamp)));
            if token.is_none() {
                break;
            }
        }
        let all: Vec<_> = full
            .cells
            .iter()
            .map(|c| (c.name.clone(), c.timestamp))
            .collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn one_cell_larger_than_the_budget_still_goes_alone() {
        let mut r = row(&[("a", 1, 1000), ("b", 1, 10)]);
        let t = split(&mut r, 100).expect("cut");
        assert_eq!(r.cells.len(), 1);
        let resume = Resume::decode(Some(&t)).unwrap().unwrap();
        assert_eq!(resume.name, "a");
    }

    #[test]
    fn foreign_tokens_are_refused() {
        for bad in [&b"x"[..], b"TSWR\x02aaaaaaaab", b"NOPE\x01aaaaaaaab"] {
            let e = Resume::decode(Some(bad)).unwrap_err();
            assert_eq!(e.code, "OTSParameterInvalid");
        }
        assert_eq!(Resume::decode(Some(b"")).unwrap(), None);
    }
}
