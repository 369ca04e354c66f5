//! Sessions with a region served over HTTP (`Database.sync_url`).
//!
//! The initiator runs here with the database locked only while it works on
//! a frame: during each network round trip both the GIL and the database
//! are free, so other threads (and a server hosting this very database)
//! keep going.

use crate::errors::IntoPyResult;
use crate::shared::Shared;
use pyo3::prelude::*;
use tablesync::sync::{Initiator, SessionStep, SyncConfig, SyncReport};
use tablesync_http::{ClientOptions, HttpRemote};

/// Run a whole session between `shared` (initiating) and the server at `url`.
pub fn sync_url(
    py: Python<'_>,
    shared: &Shared,
    url: &str,
    token: &str,
    ca_file: Option<std::path::PathBuf>,
    config: SyncConfig,
) -> PyResult<SyncReport> {
    let opts = ClientOptions {
        ca_file,
        ..ClientOptions::default()
    };
    let remote = HttpRemote::with_options(url, token, &opts).py()?;
    let cap = config.max_frame_bytes;
    let mut session = Initiator::new(config);
    let s = &mut session;
    let mut step = shared.run(py, true, move |db| s.start(db))?;
    loop {
        match step {
            SessionStep::Send(bytes) => {
                let reply = py.detach(|| remote.round_trip(&bytes, cap)).py()?;
                let s = &mut session;
                step = shared.run(py, true, move |db| s.receive(db, &reply))?;
            }
            SessionStep::Done(report) => return Ok(report),
        }
    }
}
