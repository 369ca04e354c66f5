//! `Scan`: an iterator over every row of a range, over the core's
//! `ScanCursor` (which holds the position without borrowing the database).

use crate::database::Database;
use crate::row::Row;
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Mutex, TryLockError};
use tablesync::{RangeBound, RangeOptions, ScanCursor};

struct ScanState {
    cursor: ScanCursor,
    buffer: VecDeque<tablesync::Row>,
}

/// Iterator returned by `Database.scan`: yields `Row`s in key order (or
/// reverse), reading one page (≤ 5000 rows) at a time. Each page is a
/// consistent read; between pages, rows written after the scan's position
/// are seen and rows before it are not (the core's `ScanCursor`).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Scan {
    db: Py<Database>,
    table: String,
    state: Mutex<ScanState>,
}

impl Scan {
    /// A scan from `start` to `end`; `remaining` caps the rows yielded.
    pub fn new(
        db: Py<Database>,
        table: String,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
        remaining: Option<usize>,
    ) -> Self {
        let cursor = ScanCursor::new(
            table.clone(),
            start,
            end,
            RangeOptions {
                limit: remaining,
                ..options
            },
        );
        Scan {
            db,
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
            let db = self.db.get();
            let cursor = &mut st.cursor;
            let rows = db.shared.run(py, true, move |db| cursor.next_page(db))?;
            st.buffer = rows.into();
        }
        Ok(st.buffer.pop_front().map(Row::new))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Scan(table={})", crate::values::py_repr(py, &self.table))
    }
}
