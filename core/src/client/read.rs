//! Reads: get, range pages, scans and batch get (the database's side; the
//! reads themselves are [`RegionRead`]'s, shared with read views).

use super::database::Database;
use super::region_read::RegionRead;
use super::scan_cursor::ScanCursor;
use super::types::{GetOptions, GetRequest, RangeOptions, RangePage, Row};
use crate::model::error::Result;
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
        RegionRead::get_row(self, table, pk, options)
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
        RegionRead::get_range(self, table, start, end, options)
    }

    /// Every row of a range, page by page: an iterator over a
    /// [`ScanCursor`] that borrows this database. `options.limit` caps the
    /// rows of the whole scan (`None`: every row). Use a `ScanCursor`
    /// directly to hold the position without borrowing the database.
    pub fn scan(
        &self,
        table: &str,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
    ) -> Scan<'_> {
        RegionRead::scan(self, table, start, end, options)
    }

    /// Read up to 100 rows; one result per request, in order.
    pub fn batch_get(&self, requests: &[GetRequest]) -> Result<Vec<Result<Option<Row>>>> {
        RegionRead::batch_get(self, requests)
    }
}

/// Iterator over every row of a range ([`Database::scan`],
/// [`RegionRead::scan`]): a [`ScanCursor`] and what it reads (a database or
/// a read view). After an error it ends.
pub struct Scan<'a> {
    db: &'a dyn RegionRead,
    cursor: ScanCursor,
    buffer: std::vec::IntoIter<Row>,
    failed: bool,
}

impl<'a> Scan<'a> {
    /// A scan of `db` from the cursor's position.
    pub fn new(db: &'a dyn RegionRead, cursor: ScanCursor) -> Self {
        Scan {
            db,
            cursor,
            buffer: Vec::new().into_iter(),
            failed: false,
        }
    }
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
