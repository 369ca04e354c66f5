//! `TableDescription`: what `describe_table` reports.

use crate::markers::{marker, MarkerKind};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// A table's schema and size: `.name`, `.primary_key` (list of
/// `(name, type)` tuples, `(name, "INTEGER", PK_AUTO_INCR)` for an
/// auto-increment column), `.max_versions`, `.time_to_live`, `.row_count`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct TableDescription {
    pub(crate) inner: tablesync::TableDescription,
}

#[pymethods]
impl TableDescription {
    /// Table name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.schema.name
    }

    /// Primary-key columns in order.
    #[getter]
    fn primary_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let l = PyList::empty(py);
        for c in &self.inner.schema.primary_key {
            let name = c.name.clone().into_pyobject(py)?.into_any();
            let ty = c.pk_type.name().into_pyobject(py)?.into_any();
            let t = if c.auto_increment {
                PyTuple::new(py, [name, ty, marker(py, MarkerKind::AutoIncrement)])?
            } else {
                PyTuple::new(py, [name, ty])?
            };
            l.append(t)?;
        }
        Ok(l)
    }

    /// Versions kept visible per column.
    #[getter]
    fn max_versions(&self) -> u32 {
        self.inner.schema.options.max_versions
    }

    /// Seconds a version stays visible (`-1`: forever).
    #[getter]
    fn time_to_live(&self) -> i64 {
        self.inner.schema.options.time_to_live
    }

    /// Rows that exist.
    #[getter]
    fn row_count(&self) -> u64 {
        self.inner.row_count
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<TableDescription>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "TableDescription(name={}, primary_key={}, max_versions={}, time_to_live={}, row_count={})",
            crate::values::py_repr(py, &self.inner.schema.name),
            self.primary_key(py)?.repr()?,
            self.max_versions(),
            self.time_to_live(),
            self.row_count()
        ))
    }
}
