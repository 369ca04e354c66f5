//! `RangePage`: one page of a range read.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// One page of `get_range`: `.rows` (list of `Row`) and `.next_start` (the
/// primary key to pass as `start` for the next page, or `None` when the
/// range is exhausted). Unpacks as `rows, next_start = page`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct RangePage {
    /// The rows.
    #[pyo3(get)]
    pub rows: Py<PyList>,
    /// Where the next page starts (a dict), or `None`.
    #[pyo3(get)]
    pub next_start: Py<PyAny>,
}

#[pymethods]
impl RangePage {
    /// Build a page (normally returned by `get_range`).
    #[new]
    fn py_new(rows: Py<PyList>, next_start: Py<PyAny>) -> Self {
        RangePage { rows, next_start }
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyTuple::new(
            py,
            [
                self.rows.clone_ref(py).into_any(),
                self.next_start.clone_ref(py),
            ],
        )?
        .try_iter()
        .map(|i| i.into_any())
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(o) = other.cast::<RangePage>() else {
            return Ok(false);
        };
        let o = o.get();
        Ok(self.rows.bind(py).eq(o.rows.bind(py))?
            && self.next_start.bind(py).eq(o.next_start.bind(py))?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let rows = self.rows.bind(py);
        let rows_repr = if rows.len() <= 3 {
            rows.repr()?.to_string()
        } else {
            format!("<{} rows>", rows.len())
        };
        Ok(format!(
            "RangePage(rows={rows_repr}, next_start={})",
            self.next_start.bind(py).repr()?
        ))
    }
}
