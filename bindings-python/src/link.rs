//! `Link` and `LinkStatus`: a replication link driven by a background
//! thread (`Database.replicate`). The GIL is released around every call
//! that takes the database or the link.

use crate::errors::IntoPyResult;
use pyo3::prelude::*;
use std::sync::Mutex;
use tablesync::replication::LinkStatus as CoreStatus;
use tablesync_replicate::LinkHandle;

/// A running replication link; `stop()` ends its thread (also when the
/// `Link` is garbage-collected).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Link {
    handle: Mutex<Option<LinkHandle>>,
    last: Mutex<Option<CoreStatus>>,
}

impl Link {
    /// Wrap a running link.
    pub fn new(handle: LinkHandle) -> Self {
        Link {
            handle: Mutex::new(Some(handle)),
            last: Mutex::new(None),
        }
    }

    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&LinkHandle) -> tablesync::Result<R> + Send,
    ) -> PyResult<R> {
        let guard = self.handle.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(h) => py.detach(|| f(h)).py(),
            None => Err(tablesync::Error::invalid("the link was stopped")).py(),
        }
    }
}

#[pymethods]
impl Link {
    /// Stop moving data; cursors are kept.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |h| h.pause())
    }

    /// Move data again after `pause()`.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |h| h.resume())
    }

    /// Run one session now (what makes a manual link move).
    fn trigger(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |h| h.trigger())
    }

    /// Wait until nothing is pending or in flight, at most `timeout`
    /// seconds; returns whether the link went idle.
    #[pyo3(signature = (timeout=10.0))]
    fn wait_idle(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let t = std::time::Duration::from_secs_f64(timeout.clamp(0.0, 86_400.0));
        self.with(py, move |h| Ok(h.wait_idle(t)))
    }

    /// Stop for good and end the thread. Idempotent.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = h {
            let s = py.detach(move || h.stop()).py()?;
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
        }
        Ok(())
    }

    /// Status now (after `stop()`, the final one).
    fn status(&self, py: Python<'_>) -> PyResult<LinkStatus> {
        let live = {
            let guard = self.handle.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().map(|h| py.detach(|| h.status()))
        };
        let s = match live {
            Some(s) => s,
            None => self
                .last
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .ok_or_else(|| tablesync::Error::invalid("the link was stopped"))
                .py()?,
        };
        Ok(LinkStatus(s))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.status(py) {
            Ok(s) => format!(
                "Link(name={:?}, peer={:?}, trigger={:?}, state={:?}, lag_ms={})",
                s.0.name,
                s.0.peer,
                s.0.trigger,
                s.0.state.name(),
                s.0.lag_ms
            ),
            Err(_) => "Link(stopped)".into(),
        }
    }
}

/// A link's status at one moment.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct LinkStatus(CoreStatus);

#[pymethods]
impl LinkStatus {
    /// Link name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Peer region (or URL).
    #[getter]
    fn peer(&self) -> &str {
        &self.0.peer
    }
    /// `"created"`, `"running"`, `"paused"` or `"stopped"`.
    #[getter]
    fn state(&self) -> &'static str {
        self.0.state.name()
    }
    /// Trigger string.
    #[getter]
    fn trigger(&self) -> String {
        self.0.trigger.clone()
    }
    /// `"push"`, `"pull"` or `"both"`.
    #[getter]
    fn direction(&self) -> &str {
        &self.0.direction
    }
    /// Age (ms) of the oldest committed-but-unapplied record.
    #[getter]
    fn lag_ms(&self) -> i64 {
        self.0.lag_ms
    }
    /// Records the peer is not yet known to hold.
    #[getter]
    fn pending(&self) -> u64 {
        self.0.pending
    }
    /// Records moved so far.
    #[getter]
    fn records_shipped(&self) -> u64 {
        self.0.records_shipped
    }
    /// Bytes on the wire so far.
    #[getter]
    fn bytes_shipped(&self) -> u64 {
        self.0.bytes_shipped
    }
    /// Time (ms since the epoch, the region's clock) of the last success, or None.
    #[getter]
    fn last_success(&self) -> Option<i64> {
        self.0.last_success_ms
    }
    /// The last failure since the last success, or None.
    #[getter]
    fn last_error(&self) -> Option<String> {
        self.0.last_error.clone()
    }
    /// Recovery-point estimate (ms), None when unbounded (manual, pending).
    #[getter]
    fn rpo_ms(&self) -> Option<i64> {
        self.0.rpo_ms
    }
    /// Whether a session is in flight.
    #[getter]
    fn in_flight(&self) -> bool {
        self.0.in_flight
    }

    fn __repr__(&self) -> String {
        format!(
            "LinkStatus(state={:?}, lag_ms={}, pending={}, records_shipped={}, bytes_shipped={})",
            self.0.state.name(),
            self.0.lag_ms,
            self.0.pending,
            self.0.records_shipped,
            self.0.bytes_shipped
        )
    }
}
