//! Per-operation results of `batch_write` and `batch_get`.

use pyo3::prelude::*;

/// The result of one `batch_write` operation: `.ok`, `.table`,
/// `.primary_key` (the written key as a dict, auto-increment filled in; `None`
/// on failure) and `.error` (a `TablesyncError` instance, or `None`).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct BatchResult {
    /// Whether the operation was committed.
    #[pyo3(get)]
    pub ok: bool,
    /// The operation's table.
    #[pyo3(get)]
    pub table: String,
    /// The written key, or `None` when the operation failed.
    #[pyo3(get)]
    pub primary_key: Py<PyAny>,
    /// Why the operation failed, or `None`.
    #[pyo3(get)]
    pub error: Py<PyAny>,
}

#[pymethods]
impl BatchResult {
    fn __bool__(&self) -> bool {
        self.ok
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(if self.ok {
            format!(
                "BatchResult(ok=True, table={:?}, primary_key={})",
                crate::values::py_repr(py, &self.table),
                self.primary_key.bind(py).repr()?
            )
        } else {
            format!(
                "BatchResult(ok=False, table={:?}, error={})",
                crate::values::py_repr(py, &self.table),
                self.error.bind(py).repr()?
            )
        })
    }
}

/// The result of one `batch_get` request: `.ok`, `.table`, `.row` (a `Row`,
/// or `None` when the row does not exist or the request failed) and `.error`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct BatchGetResult {
    /// Whether the read succeeded (a missing row is a success with `row=None`).
    #[pyo3(get)]
    pub ok: bool,
    /// The request's table.
    #[pyo3(get)]
    pub table: String,
    /// The row, or `None`.
    #[pyo3(get)]
    pub row: Py<PyAny>,
    /// Why the read failed, or `None`.
    #[pyo3(get)]
    pub error: Py<PyAny>,
}

#[pymethods]
impl BatchGetResult {
    fn __bool__(&self) -> bool {
        self.ok
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(if self.ok {
            format!(
                "BatchGetResult(ok=True, table={:?}, row={})",
                crate::values::py_repr(py, &self.table),
                self.row.bind(py).repr()?
            )
        } else {
            format!(
                "BatchGetResult(ok=False, table={:?}, error={})",
                crate::values::py_repr(py, &self.table),
                self.error.bind(py).repr()?
            )
        })
    }
}
