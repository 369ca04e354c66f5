//! `ChangePage`: one page of the change log.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// One page of `changes_since`: `.records` (list of record dicts) and
/// `.next_cursor` (pass it as `cursor` next time). Unpacks as
/// `records, next_cursor = page`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct ChangePage {
    /// Records in cursor order, as dicts.
    #[pyo3(get)]
    pub records: Py<PyList>,
    /// One past the last record returned.
    #[pyo3(get)]
    pub next_cursor: u64,
}

#[pymethods]
impl ChangePage {
    /// Build a page (normally returned by `changes_since`).
    #[new]
    fn py_new(records: Py<PyList>, next_cursor: u64) -> Self {
        ChangePage {
            records,
            next_cursor,
        }
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyTuple::new(
            py,
            [
                self.records.clone_ref(py).into_any(),
                self.next_cursor.into_pyobject(py)?.into_any().unbind(),
            ],
        )?
        .try_iter()
        .map(|i| i.into_any())
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(o) = other.cast::<ChangePage>() else {
            return Ok(false);
        };
        let o = o.get();
        Ok(self.next_cursor == o.next_cursor && self.records.bind(py).eq(o.records.bind(py))?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let records = self.records.bind(py);
        let kinds: Vec<String> = records
            .iter()
            .take(3)
            .map(|r| {
                let get = |k: &str| {
                    r.get_item(k)
                        .and_then(|v| v.str().map(|s| s.to_string()))
                        .unwrap_or_default()
                };
                format!(
                    "{} {}#{} {}",
                    get("kind"),
                    get("origin"),
                    get("seq"),
                    get("table")
                )
            })
            .collect();
        let more = if records.len() > 3 { ", …" } else { "" };
        Ok(format!(
            "ChangePage(records=<{} records: {}{more}>, next_cursor={})",
            records.len(),
            kinds.join(", "),
            self.next_cursor
        ))
    }
}
