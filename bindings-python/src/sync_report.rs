//! `SyncReport` and `TableOutcome`: what a sync session did.

use crate::values::{pk_to_py, py_repr};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn opt_repr(py: Python<'_>, s: &Option<String>) -> String {
    match s {
        Some(s) => py_repr(py, s),
        None => "None".into(),
    }
}

/// One table at the end of a session: `.table`, `.local` / `.remote`
/// (SHA-256 digests as hex, `None` where the table is missing) and
/// `.differing_keys` (primary keys as dicts; filled by `verify`).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct TableOutcome {
    inner: tablesync::sync::TableOutcome,
}

#[pymethods]
impl TableOutcome {
    /// Table name.
    #[getter]
    fn table(&self) -> &str {
        &self.inner.table
    }

    /// Local digest (hex), `None` if the table is missing locally.
    #[getter]
    fn local(&self) -> Option<&str> {
        self.inner.local.as_deref()
    }

    /// Remote digest (hex), `None` if the table is missing remotely.
    #[getter]
    fn remote(&self) -> Option<&str> {
        self.inner.remote.as_deref()
    }

    /// Whether the table exists on both sides with equal digests.
    #[getter]
    fn equal(&self) -> bool {
        self.inner.local.is_some() && self.inner.local == self.inner.remote
    }

    /// Keys that differ (verify mode) as primary-key dicts, in key order.
    #[getter]
    fn differing_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let l = PyList::empty(py);
        for k in &self.inner.differing_keys {
            l.append(pk_to_py(py, k)?)?;
        }
        Ok(l)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "TableOutcome(table={}, equal={}, local={}, remote={}, differing_keys={})",
            py_repr(py, &self.inner.table),
            py_bool(self.equal()),
            opt_repr(py, &self.inner.local),
            opt_repr(py, &self.inner.remote),
            self.inner.differing_keys.len()
        )
    }
}

/// What a sync session did. Attributes as in the core's report: `.mode`,
/// `.fell_back_to_reconcile`, `.bytes_sent`, `.bytes_received`,
/// `.round_trips`, `.records_pulled`, `.records_pushed`, `.rows_pulled`,
/// `.rows_pushed`, `.duration_ms`, `.verified` (every selected table exists
/// on both sides with equal digests) and `.tables` (one `TableOutcome` each).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct SyncReport {
    inner: tablesync::sync::SyncReport,
}

impl SyncReport {
    /// Wrap a core report.
    pub fn new(inner: tablesync::sync::SyncReport) -> Self {
        SyncReport { inner }
    }
}

#[pymethods]
impl SyncReport {
    /// The mode requested.
    #[getter]
    fn mode(&self) -> &str {
        &self.inner.mode
    }
    /// Whether `auto` fell back to reconcile (the log no longer covered a side).
    #[getter]
    fn fell_back_to_reconcile(&self) -> bool {
        self.inner.fell_back_to_reconcile
    }
    /// Bytes the initiator sent.
    #[getter]
    fn bytes_sent(&self) -> u64 {
        self.inner.bytes_sent
    }
    /// Bytes the initiator received.
    #[getter]
    fn bytes_received(&self) -> u64 {
        self.inner.bytes_received
    }
    /// Request/reply exchanges.
    #[getter]
    fn round_trips(&self) -> u32 {
        self.inner.round_trips
    }
    /// Change records applied locally.
    #[getter]
    fn records_pulled(&self) -> u64 {
        self.inner.records_pulled
    }
    /// Change records sent to the other side.
    #[getter]
    fn records_pushed(&self) -> u64 {
        self.inner.records_pushed
    }
    /// Rows merged locally.
    #[getter]
    fn rows_pulled(&self) -> u64 {
        self.inner.rows_pulled
    }
    /// Rows sent to the other side.
    #[getter]
    fn rows_pushed(&self) -> u64 {
        self.inner.rows_pushed
    }
    /// Milliseconds by the local clock.
    #[getter]
    fn duration_ms(&self) -> i64 {
        self.inner.duration_ms
    }
    /// Every selected table exists on both sides with equal digests.
    #[getter]
    fn verified(&self) -> bool {
        self.inner.verified
    }
    /// One `TableOutcome` per selected table, in name order.
    #[getter]
    fn tables(&self) -> Vec<TableOutcome> {
        self.inner
            .tables
            .iter()
            .map(|t| TableOutcome { inner: t.clone() })
            .collect()
    }

    /// `{table: [differing primary keys]}` of the tables with any.
    fn differing_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for t in &self.inner.tables {
            if t.differing_keys.is_empty() {
                continue;
            }
            let l = PyList::empty(py);
            for k in &t.differing_keys {
                l.append(pk_to_py(py, k)?)?;
            }
            d.set_item(&t.table, l)?;
        }
        Ok(d)
    }

    /// Every attribute as plain Python values (for logging or JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let d = PyDict::new(py);
        d.set_item("mode", &r.mode)?;
        d.set_item("fell_back_to_reconcile", r.fell_back_to_reconcile)?;
        d.set_item("bytes_sent", r.bytes_sent)?;
        d.set_item("bytes_received", r.bytes_received)?;
        d.set_item("round_trips", r.round_trips)?;
        d.set_item("records_pulled", r.records_pulled)?;
        d.set_item("records_pushed", r.records_pushed)?;
        d.set_item("rows_pulled", r.rows_pulled)?;
        d.set_item("rows_pushed", r.rows_pushed)?;
        d.set_item("duration_ms", r.duration_ms)?;
        d.set_item("verified", r.verified)?;
        let tables = PyList::empty(py);
        for t in &r.tables {
            let td = PyDict::new(py);
            td.set_item("table", &t.table)?;
            td.set_item("local", &t.local)?;
            td.set_item("remote", &t.remote)?;
            let keys = PyList::empty(py);
            for k in &t.differing_keys {
                keys.append(pk_to_py(py, k)?)?;
            }
            td.set_item("differing_keys", keys)?;
            tables.append(td)?;
        }
        d.set_item("tables", tables)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let r = &self.inner;
        let tables: Vec<String> = r
            .tables
            .iter()
            .map(|t| {
                let eq = t.local.is_some() && t.local == t.remote;
                if t.differing_keys.is_empty() {
                    format!(
                        "{}: {}",
                        py_repr(py, &t.table),
                        if eq { "equal" } else { "differs" }
                    )
                } else {
                    format!(
                        "{}: {} differing keys",
                        py_repr(py, &t.table),
                        t.differing_keys.len()
                    )
                }
            })
            .collect();
        format!(
            "SyncReport(mode={}, verified={}, fell_back_to_reconcile={}, round_trips={}, \
             bytes_sent={}, bytes_received={}, records_pulled={}, records_pushed={}, \
             rows_pulled={}, rows_pushed={}, duration_ms={}, tables={{{}}})",
            py_repr(py, &r.mode),
            py_bool(r.verified),
            py_bool(r.fell_back_to_reconcile),
            r.round_trips,
            r.bytes_sent,
            r.bytes_received,
            r.records_pulled,
            r.records_pushed,
            r.rows_pulled,
            r.rows_pushed,
            r.duration_ms,
            tables.join(", ")
        )
    }
}
