//! Reads: get, range pages, scans and batch get.

use super::database::Database;
use super::scan_cursor::ScanCursor;
use super::types::{Direction, GetOptions, GetRequest, RangeOptions, RangePage, Row};
use crate::codec::key::{decode_key, encode_bound, encode_key};
use crate::engine::read::{read_row, validate_get_options};
use crate::model::error::{Error, Result};
use crate::model::limits::{MAX_BATCH_GET_ROWS, MAX_RANGE_PAGE_ROWS};
use crate::model::primary_key::{PrimaryKey, RangeBound};

/// Most stored entries one range page examines before it returns early
/// with a `next_start` (bounds the work a filter that matches little can cause).
pub const MAX_RANGE_SCAN_ENTRIES: usize = 100_000;

impl Database {
    /// Read one row (Tablestore `GetRow`); `None` if it does not exist or the filter rejects it.
    pub fn get_row(
        &self,
        table: &str,
        pk: &PrimaryKey,
        options: &GetOptions,
    ) -> Result<Option<Row>> {
        let mark = self.fault_mark();
        let t = self.table(table)?;
        validate_get_options(options)?;
        let key = encode_key(&t.schema, pk)?;
        let row = match t.stored(&key) {
            None => None,
            Some(s) => {
                // Only a time to live makes a read look at the time: a
                // table without one skips the clock (a host call in wasm).
                let now = if t.schema.options.time_to_live < 0 {
                    0
                } else {
                    self.now_ms()
                };
                read_row(&t.schema, &key, s, options, now)?
            }
        };
        // A page that could not be read back read as empty (paged regions).
        self.faults_since(mark)?;
        Ok(row)
    }

    /// Read one page of a key range (Tablestore `GetRange`). Forward: `start`
    /// inclusive up to `end` exclusive, `start < end`; backward: from `start`
    /// inclusive down to `end` exclusive, `start > end`.
    pub fn get_range(
        &self,
        table: &str,
        start: &RangeBound,
        end: &RangeBound,
        options: &RangeOptions,
    ) -> Result<RangePage> {
        let mark = self.fault_mark();
        let t = self.table(table)?;
        validate_get_options(&options.read)?;
        let limit = match options.limit {
            None => MAX_RANGE_PAGE_ROWS,
            Some(0) => return Err(Error::invalid("limit must be at least 1")),
            Some(n) => n.min(MAX_RANGE_PAGE_ROWS),
        };
        let s = encode_bound(&t.schema, start)?;
        let e = encode_bound(&t.schema, end)?;
        let now = self.now_ms();
        let iter: Box<dyn Iterator<Item = (&[u8], crate::engine::table::StoredRow<'_>)>> =
            match options.direction {
                Direction::Forward => {
                    if s >= e {
                        return Err(Error::invalid("a forward range needs start < end"));
                    }
                    Box::new(t.range(&s, &e))
                }
                Direction::Backward => {
                    if s <= e {
                        return Err(Error::invalid("a backward range needs start > end"));
                    }
                    Box::new(t.range_desc(&s, &e))
                }
            };
        let mut rows = Vec::new();
        let mut next_start = None;
        for (scanned, (key, stored)) in iter.enumerate() {
            if rows.len() >= limit || scanned >= MAX_RANGE_SCAN_ENTRIES {
                next_start = Some(RangeBound::from(decode_key(&t.schema, key)?));
                break;
            }
            if let Some(row) = read_row(&t.schema, key, stored, &options.read, now)? {
                rows.push(row);
            }
        }
        self.faults_since(mark)?;
        Ok(RangePage { rows, next_start })
    }

    /// Every row of a range, page by page: an iterator over a
    /// [`ScanCursor`] that borrows this database. `options.limit` caps the
    /// rows of the whole scan (`None`: every row). Use a `ScanCursor`
    /// directly to hold the position without borrowing the database.
    pub fn scan<'a>(
        &'a self,
        table: &str,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
    ) -> Scan<'a> {
        Scan {
            db: self,
            cursor: ScanCursor::new(table, start, end, options),
            buffer: Vec::new().into_iter(),
            failed: false,
        }
    }

    /// Read up to 100 rows; one result per request, in order.
    pub fn batch_get(&self, requests: &[GetRequest]) -> Result<Vec<Result<Option<Row>>>> {
        self.check_open()?;
        if requests.is_empty() || requests.len() > MAX_BATCH_GET_ROWS {
            return Err(Error::invalid(format!(
                "a batch get takes 1 to {MAX_BATCH_GET_ROWS} rows, got {}",
                requests.len()
            )));
        }
        Ok(requests
            .iter()
            .map(|r| self.get_row(&r.table, &r.primary_key, &r.options))
            .collect())
    }
}

/// Iterator over every row of a range ([`Database::scan`]): a
/// [`ScanCursor`] and the database it reads. After an error it ends.
pub struct Scan<'a> {
    db: &'a Database,
    cursor: ScanCursor,
    buffer: std::vec::IntoIter<Row>,
    failed: bool,
}

impl Iterator for Scan<'_> {
    type Item = Result<Row>;
    fn next(&mut self) -> Option<Result<Row>> {
        if let Some(r) = self.buffer.next() {
            return Some(Ok(r));
        }
        if self.failed || self.cursor.is_done() {
            return None;
        }
        match self.cursor.next_page(self.db) {
            Ok(rows) => {
                self.buffer = rows.into_iter();
                self.buffer.next().map(Ok)
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
