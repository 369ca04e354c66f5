//! `INF_MIN`, `INF_MAX` (range bounds) and `PK_AUTO_INCR` (auto-increment key placeholder).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Which marker a [`KeyMarker`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    /// Smaller than every key value.
    InfMin,
    /// Larger than every key value.
    InfMax,
    /// Ask the table to assign an auto-increment value.
    AutoIncrement,
}

/// A special primary-key value: `tablesync.INF_MIN`, `tablesync.INF_MAX` or
/// `tablesync.PK_AUTO_INCR`. Compare with `==`; there is one of each.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct KeyMarker {
    pub(crate) kind: MarkerKind,
}

impl KeyMarker {
    /// The Python-visible name.
    pub fn name(&self) -> &'static str {
        match self.kind {
            MarkerKind::InfMin => "INF_MIN",
            MarkerKind::InfMax => "INF_MAX",
            MarkerKind::AutoIncrement => "PK_AUTO_INCR",
        }
    }
}

#[pymethods]
impl KeyMarker {
    fn __repr__(&self) -> String {
        format!("tablesync.{}", self.name())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<KeyMarker>()
            .is_ok_and(|o| o.get().kind == self.kind)
    }

    fn __hash__(&self) -> u64 {
        match self.kind {
            MarkerKind::InfMin => 0x1f_0001,
            MarkerKind::InfMax => 0x1f_0002,
            MarkerKind::AutoIncrement => 0x1f_0003,
        }
    }

    fn __reduce__(&self) -> &'static str {
        // Pickles as a reference to the module attribute of the same name.
        self.name()
    }
}

static INF_MIN: PyOnceLock<Py<KeyMarker>> = PyOnceLock::new();
static INF_MAX: PyOnceLock<Py<KeyMarker>> = PyOnceLock::new();
static AUTO_INCR: PyOnceLock<Py<KeyMarker>> = PyOnceLock::new();

/// The one instance of a marker (so `x is tablesync.INF_MIN` holds for returned values too).
pub fn marker(py: Python<'_>, kind: MarkerKind) -> Bound<'_, PyAny> {
    let cell = match kind {
        MarkerKind::InfMin => &INF_MIN,
        MarkerKind::InfMax => &INF_MAX,
        MarkerKind::AutoIncrement => &AUTO_INCR,
    };
    cell.get_or_try_init(py, || Py::new(py, KeyMarker { kind }))
        .map(|m| m.bind(py).clone().into_any())
        .unwrap_or_else(|_| py.None().into_bound(py))
}

/// Add the markers to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<KeyMarker>()?;
    m.add("INF_MIN", marker(py, MarkerKind::InfMin))?;
    m.add("INF_MAX", marker(py, MarkerKind::InfMax))?;
    m.add("PK_AUTO_INCR", marker(py, MarkerKind::AutoIncrement))?;
    Ok(())
}
