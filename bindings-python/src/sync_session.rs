//! `SyncSession` (the initiating side of a session, driven by hand) and
//! `respond` (the stateless answering side): bytes in, bytes out, so any
//! transport can carry the frames.

use crate::database::Database;
use crate::errors::type_error;
use crate::sync_options::{config_from_py, max_frame_from_py};
use crate::sync_report::SyncReport;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use std::sync::{Mutex, MutexGuard, TryLockError};
use tablesync::sync::{Initiator, SessionStep};

/// `bytes` or `bytearray` as a `Vec<u8>`.
pub fn bytes_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else {
        Err(type_error(what, "bytes or bytearray", obj))
    }
}

/// The initiating side of one sync session, driven by the caller:
/// `frame = s.start(db)`, send it to the other side, which answers with
/// `tablesync.respond(its_db, frame)`; pass the answer to
/// `s.receive(db, reply)`, which returns the next frame to send (`bytes`)
/// or, at the end, the `SyncReport`. A damaged reply, or one from another
/// session, raises `CorruptData` and changes nothing: the same request may
/// be answered again.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct SyncSession {
    state: Mutex<Initiator>,
    mode: String,
    direction: String,
    session_id: u64,
    max_frame_bytes: usize,
}

impl SyncSession {
    /// Lock the session; waits with the GIL released if another thread has it.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Initiator> {
        loop {
            match self.state.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => py.detach(std::thread::yield_now),
            }
        }
    }
}

fn step_to_py(py: Python<'_>, step: SessionStep) -> PyResult<Py<PyAny>> {
    Ok(match step {
        SessionStep::Send(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
        SessionStep::Done(report) => Bound::new(py, SyncReport::new(report))?.into_any().unbind(),
    })
}

#[pymethods]
impl SyncSession {
    /// A session. `mode`: `"auto"`, `"incremental"`, `"full"`, `"hybrid"`,
    /// `"reconcile"` or `"verify"`; `direction`: `"pull"`, `"push"` or
    /// `"both"` (seen from this side); `tables`: names, or `None` for all;
    /// `session_id`: an int below 2**64, random (`os.urandom`) when `None`.
    #[new]
    #[pyo3(signature = (mode="auto", direction="both", tables=None, session_id=None, max_frame_bytes=None, initial_symbols=None))]
    fn new(
        py: Python<'_>,
        mode: &str,
        direction: &str,
        tables: Option<&Bound<'_, PyAny>>,
        session_id: Option<&Bound<'_, PyAny>>,
        max_frame_bytes: Option<&Bound<'_, PyAny>>,
        initial_symbols: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let cfg = config_from_py(
            py,
            mode,
            direction,
            tables,
            max_frame_bytes,
            initial_symbols,
            session_id,
        )?;
        Ok(SyncSession {
            mode: cfg.mode.name().to_string(),
            direction: cfg.direction.name().to_string(),
            session_id: cfg.session_id,
            max_frame_bytes: cfg.max_frame_bytes,
            state: Mutex::new(Initiator::new(cfg)),
        })
    }

    /// The session id every frame carries.
    #[getter]
    fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The mode's name.
    #[getter]
    fn mode(&self) -> &str {
        &self.mode
    }

    /// The direction's name.
    #[getter]
    fn direction(&self) -> &str {
        &self.direction
    }

    /// The frame cap (bytes), both ways; pass it to `respond` on the other side.
    #[getter]
    fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// The first request frame. Only once per session.
    fn start<'py>(
        &self,
        py: Python<'py>,
        db: &Bound<'py, Database>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut s = self.lock(py);
        let init: &mut Initiator = &mut s;
        let step = db
            .get()
            .shared
            .run(py, true, move |core| init.start(core))?;
        match step {
            SessionStep::Send(bytes) => Ok(PyBytes::new(py, &bytes)),
            SessionStep::Done(_) => Err(crate::errors::internal(
                "a session ended before its first request",
            )),
        }
    }

    /// Handle the other side's reply: the next frame to send (`bytes`), or
    /// the `SyncReport` when the session is over.
    fn receive(
        &self,
        py: Python<'_>,
        db: &Bound<'_, Database>,
        reply: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let reply = bytes_from_py(reply, "reply")?;
        let mut s = self.lock(py);
        let init: &mut Initiator = &mut s;
        let step = db
            .get()
            .shared
            .run(py, true, move |core| init.receive(core, &reply))?;
        step_to_py(py, step)
    }

    fn __repr__(&self) -> String {
        format!(
            "SyncSession(mode='{}', direction='{}', session_id=0x{:016x})",
            self.mode, self.direction, self.session_id
        )
    }
}

/// Answer one request frame of a session started elsewhere (stateless: any
/// frame of any session). Returns the reply frame. A frame that cannot be
/// decoded raises `CorruptData`; a request that fails is answered with a
/// failure the initiator raises.
#[pyfunction]
#[pyo3(signature = (db, request, max_frame_bytes=None))]
pub fn respond<'py>(
    py: Python<'py>,
    db: &Bound<'py, Database>,
    request: &Bound<'py, PyAny>,
    max_frame_bytes: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let request = bytes_from_py(request, "request")?;
    let cap = max_frame_from_py(max_frame_bytes)?;
    let reply = db.get().shared.run(py, true, move |core| {
        tablesync::sync::respond(core, &request, cap)
    })?;
    Ok(PyBytes::new(py, &reply))
}
