//! `Scan`: an iterator over every row of a range, fetching pages as it goes.

use crate::database::Database;
use crate::row::Row;
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Mutex, TryLockError};
use tablesync::{RangeBound, RangeOptions};

struct ScanState {
    next: Option<RangeBound>,
    buffer: VecDeque<tablesync::Row>,
    remaining: Option<usize>,
}

/// Iterator returned by `Database.scan`: yields `Row`s in key order (or
/// reverse), reading one page (≤ 5000 rows) at a time. Each page is a
/// consistent read; writes between pages may or may not be seen.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Scan {
    db: Py<Database>,
    table: String,
    end: RangeBound,
    options: RangeOptions,
    state: Mutex<ScanState>,
}

impl Scan {
    /// A scan from `start` to `end`.
    pub fn new(
        db: Py<Database>,
        table: String,
        start: RangeBound,
        end: RangeBound,
        options: RangeOptions,
        remaining: Option<usize>,
    ) -> Self {
        Scan {
            db,
            table,
            end,
            options,
            state: Mutex::new(ScanState {
                next: Some(start),
                buffer: VecDeque::new(),
                remaining,
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
        if st.remaining == Some(0) {
            return Ok(None);
        }
        while st.buffer.is_empty() {
            let Some(start) = st.next.take() else {
                return Ok(None);
            };
            let table = self.table.clone();
            let end = self.end.clone();
            let mut opts = self.options.clone();
            opts.limit = st.remaining.map(|r| r.min(5000));
            let db = self.db.get();
            let page = db.shared.run(py, true, move |db| {
                db.get_range(&table, &start, &end, &opts)
            })?;
            st.next = page.next_start;
            st.buffer = page.rows.into();
        }
        if let Some(r) = st.remaining.as_mut() {
            *r -= 1;
        }
        Ok(st.buffer.pop_front().map(Row::new))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Scan(table={})", crate::values::py_repr(py, &self.table))
    }
}
