//! The reads a region serves, written once for everything that can serve
//! them: the live [`Database`](super::Database) and a [`ReadView`](super::view::ReadView)
//! (a consistent snapshot another thread can read while a writer commits).
//! Each implements three small accessors; every read is a provided method
//! of [`RegionRead`], so a database and its views answer byte for byte alike.

use super::read::{Scan, MAX_RANGE_SCAN_ENTRIES};
use super::scan_cursor::ScanCursor;
use super::types::{
    Direction, GetOptions, GetRequest, RangeOptions, RangePage, Row, TableDescription,
};
use crate::codec::key::{decode_key, encode_bound, encode_key};
use crate::digest::{Accumulator, Digest};
use crate::engine::pages::{PageMap, StoredRow};
use crate::engine::read::{read_row, validate_get_options};
use crate::log::{ChangePage, LogPage, LogRecords};
use crate::model::error::{Error, Result};
use crate::model::limits::{MAX_BATCH_GET_ROWS, MAX_RANGE_PAGE_ROWS};
use crate::model::primary_key::{PrimaryKey, RangeBound};
use crate::model::schema::TableSchema;
use std::ops::Bound;

/// One table as a read sees it: schema, rows and running digest, borrowed
/// from a database or a read view.
#[derive(Clone, Copy, Debug)]
pub struct TableRead<'a> {
    /// The schema.
    pub schema: &'a TableSchema,
    /// The rows.
    pub rows: &'a PageMap,
    /// The running digest of the rows that exist.
    pub acc: Accumulator,
}

impl<'a> TableRead<'a> {
    /// Rows with `start ≤ key < end` (encoded keys), ascending.
    fn range(&self, start: &[u8], end: &[u8]) -> impl Iterator<Item = (&'a [u8], StoredRow<'a>)> {
        self.rows
            .range(Bound::Included(start), Bound::Excluded(end))
    }

    /// Rows with `end < key ≤ start` (encoded keys), descending.
    fn range_desc(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> impl Iterator<Item = (&'a [u8], StoredRow<'a>)> {
        self.rows
            .range(Bound::Excluded(end), Bound::Included(start))
            .rev()
    }

    /// The accumulator of rows in `[start, end)` (encoded keys), from the
    /// stored row digests.
    pub fn range_accumulator(&self, start: &[u8], end: &[u8]) -> Accumulator {
        let mut acc = Accumulator::default();
        for (_, row) in self.range(start, end) {
            if let Some(d) = row.digest {
                acc.add(d);
            }
        }
        acc
    }
}

/// The digest of the rows in a key range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeDigest {
    /// Rows in the range.
    pub rows: u64,
    /// Digest (same construction as the table digest).
    pub digest: Digest,
}

/// What serves a region's reads: the live [`Database`](super::Database)
/// and a [`ReadView`](super::view::ReadView) of it. Implementors give a
/// table, the log's records and the time; the reads themselves are the
/// provided methods (one implementation for both).
pub trait RegionRead {
    /// The table `name` (`OTSObjectNotExist` if there is none;
    /// `DatabaseClosed` after close).
    fn table_read(&self, name: &str) -> Result<TableRead<'_>>;

    /// The change log's records.
    fn log_records(&self) -> Result<&LogRecords>;

    /// Table names in order.
    fn list_tables(&self) -> Result<Vec<String>>;

    /// The time reads judge a time to live against (ms).
    fn read_now_ms(&self) -> i64;

    /// Read one row (Tablestore `GetRow`); `None` if it does not exist or the filter rejects it.
    fn get_row(&self, table: &str, pk: &PrimaryKey, options: &GetOptions) -> Result<Option<Row>> {
        let t = self.table_read(table)?;
        validate_get_options(options)?;
        let key = encode_key(t.schema, pk)?;
        let mark = t.rows.fault_mark();
        let row = match t.rows.get(&key) {
            None => None,
            Some(s) => {
                // Only a time to live makes a read look at the time: a
                // table without one skips the clock (a host call in wasm).
                let now = if t.schema.options.time_to_live < 0 {
                    0
                } else {
                    self.read_now_ms()
                };
                read_row(t.schema, &key, s, options, now)?
            }
        };
        // A page a paged region could not read back read as empty.
        t.rows.faults_since(mark)?;
        Ok(row)
    }

    /// Read one page of a key range (Tablestore `GetRange`). Forward: `start`
    /// inclusive up to `end` exclusive, `start < end`; backward: from `start`
    /// inclusive down to `end` exclusive, `start > end`.
    fn get_range(
        &self,
        table: &str,
        start: &RangeBound,
        end: &RangeBound,
        options: &RangeOptions,
    ) -> Result<RangePage> {
        let t = self.table_read(table)?;
        validate_get_options(&options.read)?;
        let limit = match options.limit {
            None => MAX_RANGE_PAGE_ROWS,
            Some(0) => return Err(Error::invalid("limit must be at least 1")),
            Some(n) => n.min(MAX_RANGE_PAGE_ROWS),
        };
        let s = encode_bound(t.schema, start)?;
        let e = encode_bound(t.schema, end)?;
        let now = self.read_now_ms();
        let mark = t.rows.fault_mark();
        let iter: Box<dyn Iterator<Item = (&[u8], StoredRow<'_>)>> = match options.direction {
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
                next_start = Some(RangeBound::from(decode_key(t.schema, key)?));
                break;
            }
            if let Some(row) = read_row(t.schema, key, stored, &options.read, now)? {
                rows.push(row);
            }
        }
        t.rows.faults_since(mark)?;
        Ok(RangePage { rows, next_start })
    }

    /// Every row of a range, page by page (see [`ScanCursor`]).
    fn scan(
        &self,
        table: &str,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
    ) -> Scan<'_>
    where
        Self: Sized,
    {
        Scan::new(self, ScanCursor::new(table, start, end, options))
    }

    /// Read up to 100 rows; one result per request, in order.
    fn batch_get(&self, requests: &[GetRequest]) -> Result<Vec<Result<Option<Row>>>> {
        self.log_records()?;
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

    /// A table's schema and row count.
    fn describe_table(&self, name: &str) -> Result<TableDescription> {
        let t = self.table_read(name)?;
        Ok(TableDescription {
            schema: t.schema.clone(),
            row_count: t.acc.count,
        })
    }

    /// The table's SHA-256 digest: O(1), maintained on every write.
    fn table_digest(&self, table: &str) -> Result<Digest> {
        Ok(self.table_read(table)?.acc.digest())
    }

    /// The digest of the rows in `[start, end)` (forward order bounds).
    fn range_digest(
        &self,
        table: &str,
        start: &RangeBound,
        end: &RangeBound,
    ) -> Result<RangeDigest> {
        let t = self.table_read(table)?;
        let s = encode_bound(t.schema, start)?;
        let e = encode_bound(t.schema, end)?;
        let mark = t.rows.fault_mark();
        let acc = t.range_accumulator(&s, &e);
        t.rows.faults_since(mark)?;
        Ok(RangeDigest {
            rows: acc.count,
            digest: acc.digest(),
        })
    }

    /// Records with cursor ≥ `cursor` (0: from the oldest kept), at most `limit`.
    fn changes_since(&self, cursor: u64, limit: usize) -> Result<ChangePage> {
        self.log_records()?.since(cursor, limit)
    }

    /// [`changes_since`](Self::changes_since) without decoding: each
    /// record's stored encoding (FORMAT.md §7) with its cursor, stamp,
    /// origin and table, borrowed from the log.
    fn log_since(&self, cursor: u64, limit: usize) -> Result<LogPage<'_>> {
        self.log_records()?.entries_since(cursor, limit)
    }

    /// Cursor the next record will get.
    fn next_cursor(&self) -> Result<u64> {
        Ok(self.log_records()?.next_cursor())
    }
}

impl RegionRead for super::Database {
    fn table_read(&self, name: &str) -> Result<TableRead<'_>> {
        let t = self.table(name)?;
        Ok(TableRead {
            schema: &t.schema,
            rows: t.rows(),
            acc: t.accumulator(),
        })
    }

    fn log_records(&self) -> Result<&LogRecords> {
        self.check_open()?;
        Ok(self.log.records())
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        super::Database::list_tables(self)
    }

    fn read_now_ms(&self) -> i64 {
        self.now_ms()
    }
}
