//! `Server`: a database served over HTTP (`Database.serve`).

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::{Arc, Mutex};
use tablesync_http::ServerHandle;
use tablesync_replicate::Host;

/// A running sync server for one database (`POST /v1/sync`, bearer token).
/// The database stays usable from Python meanwhile: requests take its lock
/// one at a time. `.url` is what `sync_url` and `OTSClient` take. Stop it
/// with `stop()` or use it as a context manager; a server dropped without
/// `stop()` is stopped in the background.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Server {
    handle: Mutex<Option<ServerHandle>>,
    /// Links and heartbeats hosted with `peers=` (stopped after the server).
    links: Mutex<Option<Arc<Host>>>,
    url: String,
    host: String,
    port: u16,
}

impl Server {
    /// Wrap a running server.
    pub fn new(handle: ServerHandle) -> Self {
        let addr = handle.addr();
        Server {
            url: handle.url(),
            host: addr.ip().to_string(),
            port: addr.port(),
            handle: Mutex::new(Some(handle)),
            links: Mutex::new(None),
        }
    }

    /// Wrap a running server that hosts links.
    pub fn with_host(handle: ServerHandle, host: Arc<Host>) -> Self {
        let s = Server::new(handle);
        *s.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(host);
        s
    }

    fn take_host(&self) -> Option<Arc<Host>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn take(&self) -> Option<ServerHandle> {
        self.handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

#[pymethods]
impl Server {
    /// `http://HOST:PORT` (the bound port when listening on port 0).
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The bound IP address.
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }

    /// The bound port.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Whether `stop()` was called.
    #[getter]
    fn stopped(&self) -> bool {
        self.handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
    }

    /// Stop accepting requests and wait for the one in progress. Idempotent.
    fn stop(&self, py: Python<'_>) {
        let host = self.take_host();
        if let Some(h) = self.take() {
            py.detach(move || {
                h.stop();
                if let Some(host) = host {
                    host.stop();
                }
            });
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Server(url='{}', {})",
            self.url,
            if self.stopped() { "stopped" } else { "running" }
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Joining here could wait for a database lock held by a thread that
        // waits for the GIL this drop holds: stop from another thread.
        let host = self.take_host();
        if let Some(h) = self.take() {
            let _ = std::thread::Builder::new()
                .name("tablesync-server-stop".into())
                .spawn(move || {
                    h.stop();
                    if let Some(host) = host {
                        host.stop();
                    }
                });
        }
    }
}
