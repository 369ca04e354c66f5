//! `Scan`: an iterator over every row of a range, over the core's
//! `ScanCursor` (which holds the position without borrowing the database),
//! reading a database or a read view.

use crate::database::Database;
use crate::errors::IntoPyResult;
use crate::read_view::ReadView;
use crate::row::Row;
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Mutex, TryLockError};
use tablesync::{RangeBound, RangeOptions, ScanCursor};

struct ScanState {
    cursor: ScanCursor,
    buffer: VecDeque<tablesync::Row>,
}

/// What a scan reads.
pub enum ScanSource {
    /// A database, one page at a time under its lock.
    Database(Py<Database>),
    /// A read view, without any lock.
    View(Py<ReadView>),
}

/// Iterator returned by `Database.scan` and `ReadView.scan`: yields `Row`s
/// in key order (or reverse), reading one page (≤ 5000 rows) at a time.
/// Each page of a database is a consistent read; between pages, rows
/// written after the scan's position are seen and rows before it are not
/// (the core's `ScanCursor`). A view's scan sees the view's moment only.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Scan {
    source: ScanSource,
    table: String,
    state: Mutex<ScanState>,
}

impl Scan {
    /// A scan of `source` from `start` to `end`; `options.limit` caps the
    /// rows yielded (not a page's size).
    pub fn new(
        source: ScanSource,
        table: String,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
    ) -> Self {
        let cursor = ScanCursor::new(table.clone(), start, end, options);
        Scan {
            source,
            table,
            state: Mutex::new(ScanState {
                cursor,
                buffer: VecDeque::new(),
            }),
        }
    }
}

#[pymethods]
impl Scan {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Row>> {
        // Never block on the state lock while holding the GIL: the thread
        // that holds it may be waiting for the GIL to finish its page fetch.
        let mut st = loop {
            match self.state.try_lock() {
                Ok(g) => break g,
                Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(TryLockError::WouldBlock) => py.detach(std::thread::yield_now),
            }
        };
        if st.buffer.is_empty() {
            if st.cursor.is_done() {
                return Ok(None);
            }
            let cursor = &mut st.cursor;
            let rows = match &self.source {
                ScanSource::Database(db) => db
                    .get()
                    .shared
                    .run(py, true, move |db| cursor.next_page(db))?,
                ScanSource::View(view) => {
                    let view = &view.get().view;
                    py.detach(|| cursor.next_page(view)).py()?
                }
            };
            st.buffer = rows.into();
        }
        Ok(st.buffer.pop_front().map(Row::new))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Scan(table={})", crate::values::py_repr(py, &self.table))
    }
}
