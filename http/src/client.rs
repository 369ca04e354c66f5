//! The client side: carry an initiator's frames to a server.

use crate::{ERROR_CODE_HEADER, SYNC_PATH};
use std::io::Read;
use tablesync::sync::{Initiator, SessionStep, SyncConfig, SyncReport};
use tablesync::{Database, Error, Result};

/// A remote region reached over HTTP.
#[derive(Clone, Debug)]
pub struct HttpRemote {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl HttpRemote {
    /// A remote at `base_url` (e.g. `http://127.0.0.1:7070`) with a bearer token.
    pub fn new(base_url: &str, token: &str) -> Result<HttpRemote> {
        if !base_url.starts_with("http://") {
            return Err(Error::invalid(format!(
                "expected an http:// URL, got {base_url:?}"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(HttpRemote {
            url: format!("{}{SYNC_PATH}", base_url.trim_end_matches('/')),
            token: token.to_string(),
            agent,
        })
    }

    /// Send one request frame, return the reply frame (at most `cap` + 64 bytes).
    pub fn round_trip(&self, frame: &[u8], cap: usize) -> Result<Vec<u8>> {
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/octet-stream")
            .send(frame)
            .map_err(|e| Error::Sync(format!("POST {}: {e}", self.url)))?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get(ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take((cap + 65) as u64)
            .read_to_end(&mut body)
            .map_err(|e| Error::Sync(format!("reading the reply: {e}")))?;
        if status != 200 {
            let msg = String::from_utf8_lossy(&body).trim().to_string();
            return Err(match code.as_deref() {
                Some("Unauthorized") => {
                    Error::Sync(format!("server refused the token (HTTP 401): {msg}"))
                }
                Some("CorruptData") => Error::corrupt(format!("server: {msg}")),
                _ => Error::Sync(format!("server answered HTTP {status}: {msg}")),
            });
        }
        Ok(body)
    }
}

/// Run a whole session between `db` (initiator) and the server at `remote`.
pub fn sync_url(db: &mut Database, remote: &HttpRemote, config: SyncConfig) -> Result<SyncReport> {
    let cap = config.max_frame_bytes;
    let mut session = Initiator::new(config);
    let mut step = session.start(db)?;
    loop {
        match step {
            SessionStep::Send(bytes) => {
                let reply = remote.round_trip(&bytes, cap)?;
                step = session.receive(db, &reply)?;
            }
            SessionStep::Done(report) => return Ok(report),
        }
    }
}
