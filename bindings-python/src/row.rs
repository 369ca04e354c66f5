//! `Row`: a row as reads return it.

use crate::values::{pk_to_py, value_to_py};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// A row returned by a read: `.primary_key` (dict in schema order),
/// `.columns` (latest returned value per column), `.cells` (every returned
/// version as `(name, value, timestamp_ms)`), and `row["col"]`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Row {
    pub(crate) inner: tablesync::Row,
}

impl Row {
    /// Wrap a core row.
    pub fn new(inner: tablesync::Row) -> Self {
        Row { inner }
    }
}

#[pymethods]
impl Row {
    /// The primary key as a dict, in schema order.
    #[getter]
    fn primary_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        pk_to_py(py, &self.inner.primary_key)
    }

    /// The latest returned value of each column, in column-name order.
    #[getter]
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, value) in self.inner.columns() {
            d.set_item(name, value_to_py(py, value)?)?;
        }
        Ok(d)
    }

    /// Every returned version: `(name, value, timestamp_ms)`, by column name, newest first.
    #[getter]
    fn cells<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let l = PyList::empty(py);
        for c in &self.inner.cells {
            l.append(PyTuple::new(
                py,
                [
                    c.name.clone().into_pyobject(py)?.into_any(),
                    value_to_py(py, &c.value)?,
                    c.timestamp.into_pyobject(py)?.into_any(),
                ],
            )?)?;
        }
        Ok(l)
    }

    /// The latest value of a column; `KeyError` if the row has none.
    fn __getitem__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.inner.get(name) {
            Some(v) => value_to_py(py, v),
            None => Err(PyKeyError::new_err(name.to_string())),
        }
    }

    /// The latest value of a column, or `default`.
    #[pyo3(signature = (name, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.get(name) {
            Some(v) => Ok(Some(value_to_py(py, v)?)),
            None => Ok(default),
        }
    }

    fn __contains__(&self, name: &str) -> bool {
        self.inner.get(name).is_some()
    }

    /// Number of distinct columns returned.
    fn __len__(&self) -> usize {
        self.inner.columns().len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Row>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Row(primary_key={}, columns={})",
            self.primary_key(py)?.repr()?,
            self.columns(py)?.repr()?
        ))
    }
}
