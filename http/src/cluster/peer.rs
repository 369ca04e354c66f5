//! Calls to a region's cluster endpoint (`POST /v1/cluster/msg`), shared by
//! regions (2PC, forwarding) and the client driver.

use crate::client::{agent_for, status_error, ClientOptions};
use crate::ERROR_CODE_HEADER;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tablesync::cluster::wire::{decode_messages, encode_messages, ClusterMsg, MAX_MSG_PAYLOAD};
use tablesync::{Error, Result};

/// The cluster message path.
pub const CLUSTER_MSG_PATH: &str = "/v1/cluster/msg";
/// The cluster status path.
pub const CLUSTER_STATUS_PATH: &str = "/v1/cluster/status";

/// A delay injected before each call to an endpoint (benchmarks: one-way
/// latency between datacenters without netem).
pub type DelayFn = Arc<dyn Fn(&str) -> Duration + Send + Sync>;

/// A failed call: the region's error code (empty for a transport failure)
/// and the error.
#[derive(Debug)]
pub struct CallError {
    /// `X-Tablesync-Error` of the answer; empty when no answer came.
    pub code: String,
    /// The error.
    pub error: Error,
}

impl From<CallError> for Error {
    fn from(c: CallError) -> Error {
        c.error
    }
}

/// HTTP agents per endpoint, with one bearer token.
#[derive(Clone)]
pub struct Peers {
    token: String,
    opts: ClientOptions,
    agents: Arc<Mutex<HashMap<String, ureq::Agent>>>,
    /// Injected one-way delay (applied to request and answer: 2× per call).
    pub delay: Option<DelayFn>,
}

fn parse_stale(msg: &str) -> Error {
    // "StaleClusterMap: request map epoch A, current epoch B"
    let num_after = |k: &str| {
        msg.split(k)
            .nth(1)
            .and_then(|s| {
                s.trim_start()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .map(str::to_string)
            })
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Error::StaleClusterMap {
        request_epoch: num_after("request map epoch"),
        current_epoch: num_after("current epoch"),
    }
}

impl Peers {
    /// Peers reached with `token`.
    pub fn new(token: String, opts: ClientOptions) -> Peers {
        Peers {
            token,
            opts,
            agents: Arc::new(Mutex::new(HashMap::new())),
            delay: None,
        }
    }

    fn agent(&self, endpoint: &str) -> Result<ureq::Agent> {
        let mut a = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(x) = a.get(endpoint) {
            return Ok(x.clone());
        }
        let x = agent_for(endpoint, &self.opts)?;
        a.insert(endpoint.to_string(), x.clone());
        Ok(x)
    }

    /// Send `msgs` to `endpoint`; the answer's messages.
    pub fn call(
        &self,
        endpoint: &str,
        msgs: &[ClusterMsg],
    ) -> std::result::Result<Vec<ClusterMsg>, CallError> {
        let transport = |e: Error| CallError {
            code: String::new(),
            error: e,
        };
        let agent = self.agent(endpoint).map_err(transport)?;
        let delay = self.delay.as_ref().map(|d| d(endpoint));
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let url = format!("{}{CLUSTER_MSG_PATH}", endpoint.trim_end_matches('/'));
        let mut resp = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/octet-stream")
            .send(&encode_messages(msgs)[..])
            .map_err(|e| transport(Error::Sync(format!("POST {url}: {e}"))))?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get(ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_MSG_PAYLOAD as u64 + 64)
            .read_to_end(&mut body)
            .map_err(|e| transport(Error::Sync(format!("reading the answer of {url}: {e}"))))?;
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        if status != 200 {
            let error = match code.as_str() {
                "StaleClusterMap" => parse_stale(&String::from_utf8_lossy(&body)),
                c => status_error(status, Some(c), &body),
            };
            return Err(CallError { code, error });
        }
        decode_messages(&body).map_err(transport)
    }

    /// GET `path` of `endpoint` as JSON.
    pub fn get_json(&self, endpoint: &str, path: &str) -> Result<serde_json::Value> {
        let agent = self.agent(endpoint)?;
        let url = format!("{}{path}", endpoint.trim_end_matches('/'));
        let mut resp = agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .map_err(|e| Error::Sync(format!("GET {url}: {e}")))?;
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(16 << 20)
            .read_to_end(&mut body)
            .map_err(|e| Error::Sync(format!("reading {url}: {e}")))?;
        serde_json::from_slice(&body).map_err(|e| Error::Sync(format!("{url}: not JSON: {e}")))
    }
}
