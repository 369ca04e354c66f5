//! `ApplyStats`: what `apply_changes` did.

use pyo3::prelude::*;

/// What `apply_changes` did: `.applied` records merged, `.skipped` records
/// this region already held.
#[pyclass(frozen, eq, module = "tablesync._tablesync")]
#[derive(PartialEq, Eq)]
pub struct ApplyStats {
    /// Records merged.
    #[pyo3(get)]
    pub applied: u64,
    /// Records skipped (already held).
    #[pyo3(get)]
    pub skipped: u64,
}

#[pymethods]
impl ApplyStats {
    fn __repr__(&self) -> String {
        format!(
            "ApplyStats(applied={}, skipped={})",
            self.applied, self.skipped
        )
    }
}
