//! `ScanCursor`: where a scan has got to, held apart from the database so a
//! binding (or any caller) can keep it across calls while the database is
//! borrowed, written to or locked elsewhere in between.

use super::region_read::RegionRead;
use super::types::{RangeOptions, Row};
use crate::model::error::{Error, Result};
use crate::model::limits::MAX_RANGE_PAGE_ROWS;
use crate::model::primary_key::RangeBound;

/// An owned cursor over a key range: the table, the next start bound, the
/// end bound and the read options. It holds no reference to the
/// [`Database`](super::Database) (or [`ReadView`](super::view::ReadView));
/// each [`next_page`](ScanCursor::next_page) takes one.
///
/// Each page is one [`RegionRead::get_range`] from the cursor's position, so
/// between pages the cursor behaves exactly as a caller following
/// `next_start` by hand: rows written after the position (in the scan's
/// direction) are seen, rows written before it are not, and a row deleted
/// before the cursor reaches it is not returned.
///
/// ```
/// use tablesync::{
///     Database, DatabaseOptions, PkBound, PkColumn, PkType, RangeBound, RangeOptions, ScanCursor,
///     TableSchema,
/// };
/// let mut db = Database::memory(DatabaseOptions::new("us")).unwrap();
/// db.create_table(TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)])).unwrap();
/// let schema = db.describe_table("t").unwrap().schema;
/// let mut cursor = ScanCursor::new(
///     "t",
///     RangeBound::all(&schema, PkBound::InfMin),
///     RangeBound::all(&schema, PkBound::InfMax),
///     RangeOptions::default(),
/// );
/// while !cursor.is_done() {
///     for row in cursor.next_page(&db).unwrap() {
///         println!("{:?}", row.primary_key);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScanCursor {
    table: String,
    next: Option<RangeBound>,
    end: RangeBound,
    options: RangeOptions,
    remaining: Option<usize>,
    started: bool,
}

impl ScanCursor {
    /// A cursor from `start` to `end` of `table`. `options.direction` and
    /// `options.read` apply to every page; `options.limit` caps the rows of
    /// the whole scan (`None`: every row), not of one page. Nothing is
    /// checked until the first [`next_page`](ScanCursor::next_page).
    pub fn new(
        table: impl Into<String>,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
    ) -> Self {
        let remaining = options.limit;
        ScanCursor {
            table: table.into(),
            next: Some(start),
            end,
            options: RangeOptions {
                limit: None,
                ..options
            },
            remaining,
            started: false,
        }
    }

    /// The table scanned.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Where the next page starts (`None` once the scan is done).
    pub fn position(&self) -> Option<&RangeBound> {
        if self.is_done() {
            None
        } else {
            self.next.as_ref()
        }
    }

    /// Whether the range (or the row limit) is exhausted; then
    /// [`next_page`](ScanCursor::next_page) returns no rows. A cursor made
    /// with `limit: Some(0)` is not done: its first page fails with
    /// `OTSParameterInvalid`, as `get_range` would.
    pub fn is_done(&self) -> bool {
        self.next.is_none() || (self.started && self.remaining == Some(0))
    }

    /// The next rows of the range: at least one unless the scan is done, at
    /// most 5000 (one `get_range` page; pages that a filter leaves empty are
    /// skipped). Errors are the core's typed errors (`OTSObjectNotExist`,
    /// `OTSInvalidPK`, `OTSParameterInvalid`, `DatabaseClosed`, …); after
    /// one the cursor has not moved, so the call can be retried.
    pub fn next_page<R: RegionRead + ?Sized>(&mut self, db: &R) -> Result<Vec<Row>> {
        if self.remaining == Some(0) {
            return if self.started {
                Ok(Vec::new())
            } else {
                Err(Error::invalid("a scan limit must be at least 1"))
            };
        }
        loop {
            let Some(start) = self.next.as_ref() else {
                return Ok(Vec::new());
            };
            let mut opts = self.options.clone();
            opts.limit = Some(
                self.remaining
                    .map_or(MAX_RANGE_PAGE_ROWS, |r| r.min(MAX_RANGE_PAGE_ROWS)),
            );
            let page = db.get_range(&self.table, start, &self.end, &opts)?;
            self.started = true;
            self.next = page.next_start;
            if let Some(r) = self.remaining.as_mut() {
                *r -= page.rows.len().min(*r);
            }
            if !page.rows.is_empty() || self.next.is_none() {
                return Ok(page.rows);
            }
        }
    }
}
