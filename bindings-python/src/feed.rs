//! `Feed`: a served region's change feed as a Python iterator
//! (`tablesync.follow(url, token)`), each poll a long poll with the GIL free.

use crate::errors::IntoPyResult;
use pyo3::prelude::*;
use std::sync::Mutex;
use std::time::Duration;
use tablesync_http::{Changes, ClientOptions, RowClient};

/// Change records of a server's region as they commit: each item is a dict
/// (`cursor`, `origin`, `seq`, `stamp`, `table`, `kind`, `primary_key`,
/// `columns`; docs/SERVER.md). Iteration blocks until a record arrives.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Feed {
    inner: Mutex<Changes>,
}

#[pymethods]
impl Feed {
    /// The cursor the next poll starts from.
    #[getter]
    fn cursor(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cursor()
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let next = py.detach(|| {
            self.inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .next()
        });
        let record = match next {
            Some(r) => r.py()?,
            None => return Err(pyo3::exceptions::PyStopIteration::new_err(())),
        };
        let json = py.import("json")?;
        Ok(json.call_method1("loads", (record.to_string(),))?.unbind())
    }
}

/// Follow the change feed of the server at `url` from cursor `after`
/// (0: the oldest record kept); each poll waits up to `wait_ms`.
/// `ca_file` trusts a private CA for https://.
#[pyfunction]
#[pyo3(signature = (url, token, *, after=0, wait_ms=25_000, ca_file=None))]
pub fn follow(
    url: &str,
    token: &str,
    after: u64,
    wait_ms: u64,
    ca_file: Option<std::path::PathBuf>,
) -> PyResult<Feed> {
    let opts = ClientOptions {
        ca_file,
        ..ClientOptions::default()
    };
    let client = RowClient::new(url, token, &opts).py()?;
    Ok(Feed {
        inner: Mutex::new(client.subscribe(after, Duration::from_millis(wait_ms))),
    })
}
