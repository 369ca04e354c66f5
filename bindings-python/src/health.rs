//! `Health`: refusals of peer input and background failures of a region
//! (the core's `Database::health`).

use pyo3::prelude::*;

/// What went wrong without failing a call: `.clock_drift_refusals` (remote
/// stamps too far ahead of this region's clock), `.peer_violations`
/// (malformed or hostile requests and replies refused),
/// `.background_failures` (automatic checkpoints or retention steps that
/// failed after a durable commit) and `.last_background_error` (its
/// message, or `None`).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Health {
    inner: tablesync::Health,
}

impl Health {
    /// Wrap the core's health.
    pub fn new(inner: tablesync::Health) -> Self {
        Health { inner }
    }
}

#[pymethods]
impl Health {
    /// Remote stamps refused for lying too far in the future.
    #[getter]
    fn clock_drift_refusals(&self) -> u64 {
        self.inner.clock_drift_refusals
    }
    /// Requests or replies refused as malformed or against the protocol.
    #[getter]
    fn peer_violations(&self) -> u64 {
        self.inner.peer_violations
    }
    /// Background checkpoints or retention steps that failed after a commit.
    #[getter]
    fn background_failures(&self) -> u64 {
        self.inner.background_failures
    }
    /// The last background failure's message, if any.
    #[getter]
    fn last_background_error(&self) -> Option<&str> {
        self.inner.last_background_error.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "Health(clock_drift_refusals={}, peer_violations={}, background_failures={}, last_background_error={:?})",
            self.inner.clock_drift_refusals,
            self.inner.peer_violations,
            self.inner.background_failures,
            self.inner.last_background_error
        )
    }
}
