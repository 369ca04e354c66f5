//! The HTTP endpoint: axum on a tokio runtime of its own thread, one POST
//! route per API (`/PutRow`, …), signed responses.

use crate::api::{dispatch_read, dispatch_write, is_write};
use crate::auth::{self, AccessKeys, RequestHeaders, Verified};
use crate::error::OtsError;
use crate::pb;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use prost::Message;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tablesync::Database;
use tablesync_http::{Refusal, Region, SharedDb};

/// Default largest request body (the service's own limit is lower; rows up
/// to the core's limits still fit).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How the endpoint authenticates and what it accepts.
#[derive(Clone, Debug)]
pub struct Config {
    /// Instance name the SDKs must name in `x-ots-instancename`.
    pub instance: String,
    /// Accepted access keys.
    pub access_keys: AccessKeys,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

impl Config {
    /// A configuration with the default body limit.
    pub fn new(instance: impl Into<String>, access_keys: AccessKeys) -> Self {
        Config {
            instance: instance.into(),
            access_keys,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

struct Shared {
    region: Arc<Region>,
    config: Config,
    requests: AtomicU64,
    started_ms: u64,
}

/// The Tablestore endpoint.
pub struct Server;

/// A running endpoint; [`ServerHandle::stop`] (or drop) shuts it down.
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The endpoint URL the SDKs take, `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stop accepting, finish requests in flight, and join the server thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }
    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Server {
    /// Bind `listen` (e.g. `127.0.0.1:0`) and serve `db` on a thread of its own.
    pub fn start(
        db: Arc<RwLock<Database>>,
        listen: &str,
        config: Config,
    ) -> std::io::Result<ServerHandle> {
        let region = Arc::new(Region::new(SharedDb::RwLock(db), None));
        Self::start_on(region, listen, config)
    }

    /// Serve a region another endpoint serves too (the sync server's, from
    /// `tablesync_http::ServerHandle::region`): reads take its read path,
    /// writes its write path, so both endpoints share one writer queue and
    /// one commit signal.
    pub fn start_on(
        region: Arc<Region>,
        listen: &str,
        config: Config,
    ) -> std::io::Result<ServerHandle> {
        let std_listener = std::net::TcpListener::bind(listen)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tablesync-ots")
            .enable_io()
            .build()?;
        let shared = Arc::new(Shared {
            region,
            config,
            requests: AtomicU64::new(0),
            started_ms: now_ms() as u64,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("tablesync-ots".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            l
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    use axum::serve::ListenerExt;
                    // Small request/response pairs: without TCP_NODELAY,
                    // Nagle and delayed ACKs add tens of milliseconds.
                    let listener = listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let app = axum::Router::new().fallback(handle).with_state(shared);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(std::io::Error::other("the server thread ended early")),
        }
        Ok(ServerHandle {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Shared {
    fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let t = self.started_ms;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (t >> 16) as u32,
            (t & 0xffff) as u16,
            (n >> 48) as u16,
            ((n >> 32) & 0xffff) as u16,
            n & 0xffff_ffff
        )
    }

    /// A response with the headers the SDKs check, signed when the request was.
    fn respond(
        &self,
        path: &str,
        status: u16,
        body: Vec<u8>,
        signer: Option<&Verified>,
    ) -> Response {
        let md5 = auth::content_md5(&body);
        let date = auth::format_iso8601_ms(now_ms());
        let request_id = self.request_id();
        let headers: [(&str, &str); 4] = [
            ("x-ots-contentmd5", &md5),
            ("x-ots-requestid", &request_id),
            ("x-ots-date", &date),
            ("x-ots-contenttype", "protocol buffer"),
        ];
        let authorization = signer.map(|v| {
            auth::response_authorization(&v.access_key_id, &v.signing_key, path, &headers)
        });
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = resp.headers_mut();
        for (k, v) in headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        if let Some(a) = authorization.and_then(|a| HeaderValue::from_str(&a).ok()) {
            h.insert("authorization", a);
        }
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-protobuf"),
        );
        resp
    }

    fn error(&self, path: &str, e: &OtsError, signer: Option<&Verified>) -> Response {
        let body = pb::Error {
            code: e.code.to_string(),
            message: Some(e.message.clone()),
        }
        .encode_to_vec();
        // An authentication failure is never signed (the SDKs do not expect it).
        let signer = if e.code == "OTSAuthFailed" {
            None
        } else {
            signer
        };
        self.respond(path, e.status, body, signer)
    }
}

async fn handle(State(st): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if parts.method != Method::POST {
        return st.error(
            &path,
            &OtsError::new(
                405,
                "OTSMethodNotAllowed",
                "Only POST method for requests is supported.",
            ),
            None,
        );
    }
    let body = match axum::body::to_bytes(body, st.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return st.error(
                &path,
                &OtsError::new(
                    413,
                    "OTSRequestBodyTooLarge",
                    "The size of POST data is too large.",
                ),
                None,
            )
        }
    };
    let pairs: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let verified = match auth::verify_request(
        &st.config.access_keys,
        &st.config.instance,
        &path,
        parts.uri.query().unwrap_or(""),
        &RequestHeaders { pairs },
        &body,
        now_ms(),
    ) {
        Ok(v) => v,
        Err(e) => return st.error(&path, &e, None),
    };
    let api = path.trim_start_matches('/').to_string();
    let shared = st.clone();
    let result = tokio::task::spawn_blocking(move || {
        // Reads take the region's read path (in parallel with each other);
        // only writes queue for the write lock.
        if is_write(&api) {
            shared
                .region
                .write(&api, |db| Ok(dispatch_write(db, &api, &body)))
        } else {
            shared
                .region
                .read(&api, |db| Ok(dispatch_read(db, &api, &body)))
        }
    })
    .await;
    match result {
        Ok(Ok(Ok(body))) => st.respond(&path, 200, body, Some(&verified)),
        Ok(Ok(Err(e))) => st.error(&path, &e, Some(&verified)),
        Ok(Err(Refusal::Db(e))) => st.error(&path, &OtsError::from(e), Some(&verified)),
        Ok(Err(Refusal::Failed)) => st.error(
            &path,
            &OtsError::new(503, "OTSServerUnavailable", "Server is not available."),
            Some(&verified),
        ),
        Ok(Err(Refusal::Panicked)) | Err(_) => st.error(
            &path,
            &OtsError::new(500, "OTSInternalServerError", "Internal server error."),
            Some(&verified),
        ),
    }
}
