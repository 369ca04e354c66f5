//! The client side: carry an initiator's frames to a server, over http://
//! (loopback unless allowed) or https:// (with an optional private CA).

use crate::{ERROR_CODE_HEADER, REPLICATE_PATH, SYNC_PATH};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;
use tablesync::sync::{Initiator, SessionStep, SyncConfig, SyncReport};
use tablesync::{Database, Error, Result};

/// How a client connects.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// PEM file of the CA certificate(s) to trust for https:// instead of
    /// the public web roots.
    pub ca_file: Option<PathBuf>,
    /// Allow plain http:// to a host that is not loopback (the token then
    /// travels in clear).
    pub insecure_http: bool,
    /// Longest time one request may take, connect included.
    pub timeout: Duration,
    /// Longest time to connect.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_file: None,
            insecure_http: false,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Whether `host` (as written in a URL) names the loopback interface.
fn loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host part of `scheme://host:port/...`.
fn host_of(rest: &str) -> &str {
    let authority = rest.split('/').next().unwrap_or("");
    if let Some(end) = authority.find(']') {
        &authority[..=end]
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
}

/// A configured agent for `base_url`; checks the scheme and host.
pub(crate) fn agent_for(base_url: &str, opts: &ClientOptions) -> Result<ureq::Agent> {
    let (https, rest) = if let Some(r) = base_url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = base_url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(Error::invalid(format!(
            "expected an http:// or https:// URL, got {base_url:?}"
        )));
    };
    if !https && !opts.insecure_http && !loopback_host(host_of(rest)) {
        return Err(Error::invalid(format!(
            "refusing plain http to {base_url}, which is not a loopback address: use https:// (or allow insecure http)"
        )));
    }
    let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
    if let Some(ca) = &opts.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| Error::invalid(format!("reading the CA file {}: {e}", ca.display())))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(Error::invalid(format!(
                        "parsing the CA file {}: {e}",
                        ca.display()
                    )))
                }
            }
        }
        if certs.is_empty() {
            return Err(Error::invalid(format!(
                "the CA file {} holds no certificate",
                ca.display()
            )));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .timeout_global(Some(opts.timeout))
        .timeout_connect(Some(opts.connect_timeout))
        .build()
        .new_agent())
}

/// Turn a non-200 answer into an error.
pub(crate) fn status_error(status: u16, code: Option<&str>, body: &[u8]) -> Error {
    let msg = String::from_utf8_lossy(body).trim().to_string();
    match code {
        Some("Unauthorized") => Error::Sync(format!("server refused the token (HTTP 401): {msg}")),
        Some("CorruptData") => Error::corrupt(format!("server: {msg}")),
        Some("OTSConditionCheckFail") => Error::ConditionCheckFail(msg),
        Some("OTSObjectNotExist") => Error::ObjectNotExist(msg),
        Some("OTSParameterInvalid") => Error::ParameterInvalid(msg),
        Some("OTSInvalidPK") => Error::InvalidPk(msg),
        Some("StaleEpoch") => Error::StaleEpoch(msg),
        _ => Error::Sync(format!("server answered HTTP {status}: {msg}")),
    }
}

/// A remote region reached over HTTP(S).
#[derive(Clone, Debug)]
pub struct HttpRemote {
    url: String,
    replicate_url: String,
    token: String,
    agent: ureq::Agent,
    /// Epoch stamped on every frame (`None`: no header).
    epoch: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl HttpRemote {
    /// A remote at `base_url` (e.g. `http://127.0.0.1:7070`) with a bearer
    /// token and default options.
    pub fn new(base_url: &str, token: &str) -> Result<HttpRemote> {
        Self::with_options(base_url, token, &ClientOptions::default())
    }

    /// A remote with explicit options (private CA, timeouts).
    pub fn with_options(base_url: &str, token: &str, opts: &ClientOptions) -> Result<HttpRemote> {
        let agent = agent_for(base_url, opts)?;
        Ok(HttpRemote {
            url: format!("{}{SYNC_PATH}", base_url.trim_end_matches('/')),
            replicate_url: format!("{}{REPLICATE_PATH}", base_url.trim_end_matches('/')),
            token: token.to_string(),
            agent,
            epoch: None,
        })
    }

    /// Send `X-Tablesync-Epoch` with the value of `epoch` (read at each
    /// request) on every frame: a server hosting a region group refuses
    /// peer records sent under an older epoch than its own (`StaleEpoch`).
    pub fn with_epoch(mut self, epoch: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// Send one request frame, return the reply frame (at most `cap` + 64 bytes).
    pub fn round_trip(&self, frame: &[u8], cap: usize) -> Result<Vec<u8>> {
        self.post_frame(&self.url, frame, cap)
    }

    /// Send one replication record-push frame (`TSRP`) to
    /// [`REPLICATE_PATH`]; returns its ack frame.
    pub fn push_round_trip(&self, frame: &[u8], cap: usize) -> Result<Vec<u8>> {
        self.post_frame(&self.replicate_url, frame, cap)
    }

    fn post_frame(&self, url: &str, frame: &[u8], cap: usize) -> Result<Vec<u8>> {
        let mut req = self
            .agent
            .post(url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/octet-stream");
        if let Some(e) = &self.epoch {
            let e = e.load(std::sync::atomic::Ordering::SeqCst);
            if e > 0 {
                req = req.header(crate::EPOCH_HEADER, &e.to_string());
            }
        }
        let mut resp = req
            .send(frame)
            .map_err(|e| Error::Sync(format!("POST {url}: {e}")))?;
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
            return Err(status_error(status, code.as_deref(), &body));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let o = ClientOptions::default();
        for ok in [
            "http://127.0.0.1:7070",
            "http://localhost:1/x",
            "http://[::1]:80",
            "https://example.invalid:443",
        ] {
            assert!(agent_for(ok, &o).is_ok(), "{ok}");
        }
        for bad in ["http://192.0.2.1:80", "http://example.invalid", "ftp://x"] {
            assert!(agent_for(bad, &o).is_err(), "{bad}");
        }
        let loose = ClientOptions {
            insecure_http: true,
            ..ClientOptions::default()
        };
        assert!(agent_for("http://192.0.2.1:80", &loose).is_ok());
    }
}
