//! How a server runs: listen address, tokens, limits, timeouts, TLS.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tablesync::sync::DEFAULT_MAX_FRAME_BYTES;

/// What a bearer token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reads only: row reads, the change feed, sync sessions that only pull.
    ReadOnly,
    /// Reads and writes.
    ReadWrite,
}

/// A PEM certificate chain and private key to serve https:// with.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// PEM file holding the server certificate first, then its chain.
    pub cert: PathBuf,
    /// PEM file holding the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// A test-only hook run inside the region's lock before each region call,
/// with the name of the operation: writes (`"sync"`, `"put"`, ...) under the
/// write lock, reads (`"read:get"`, `"read:range"`, `"read:changes"`,
/// `"read:sync"`, `"read:metrics"`) under the read lock. A hook that panics
/// simulates a bug; one that sleeps holds the lock (a slow request).
#[derive(Clone)]
pub struct FaultHook(pub Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for FaultHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FaultHook(..)")
    }
}

/// How a server runs. Build with `ServerConfig { token: ..., ..Default::default() }`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (loopback unless told otherwise).
    pub listen: String,
    /// Read-write bearer token (required unless `tokens` holds one).
    pub token: String,
    /// More bearer tokens with their access.
    pub tokens: Vec<(String, Access)>,
    /// Largest request body accepted (also the sync frame cap).
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// Time a client has to send a request's head.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once the head arrived.
    pub body_timeout: Duration,
    /// Longest time one request may take in the server (long polls excepted up to `max_wait`).
    pub request_timeout: Duration,
    /// Requests handled at once; more are answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// Change-feed requests (long polls, event streams) at once; counted
    /// apart from `max_in_flight` since they wait by design.
    pub max_feeds: usize,
    /// Time a client has to take a response's bytes (a stalled reader is
    /// disconnected).
    pub write_timeout: Duration,
    /// Open connections at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Longest time `stop` waits for requests in flight before cutting them.
    pub shutdown_grace: Duration,
    /// Longest `wait` a change-feed long poll may ask for.
    pub max_wait: Duration,
    /// Serve https:// with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Allow plain http:// on an address that is not loopback (tokens then
    /// travel in clear).
    pub insecure_http: bool,
    /// Test-only fault injection (see [`FaultHook`]).
    #[doc(hidden)]
    pub fault_hook: Option<FaultHook>,
    /// Take part in a cluster (docs/CLUSTER.md): `/v1/cluster/*` routes.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// Replication links and group membership hosted by this server
    /// (`GET /v1/links`, the group routes); `None`: those routes answer 404.
    pub hosting: Option<crate::hosting::Hosting>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:0".into(),
            token: String::new(),
            tokens: Vec::new(),
            max_body_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_header_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            max_in_flight: 64,
            max_feeds: 256,
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            max_wait: Duration::from_secs(60),
            tls: None,
            insecure_http: false,
            fault_hook: None,
            cluster: None,
            hosting: None,
        }
    }
}

impl ServerConfig {
    /// Every accepted token with its access (`token` first, as read-write).
    pub fn all_tokens(&self) -> Vec<(String, Access)> {
        let mut all = Vec::new();
        if !self.token.is_empty() {
            all.push((self.token.clone(), Access::ReadWrite));
        }
        all.extend(self.tokens.iter().filter(|(t, _)| !t.is_empty()).cloned());
        all
    }
}
