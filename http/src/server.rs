//! The region server.

use crate::{ERROR_CODE_HEADER, SYNC_PATH};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tablesync::sync::{respond, DEFAULT_MAX_FRAME_BYTES};
use tablesync::{Database, Error, Result};
use tiny_http::{Header, Method, Request, Response, Server};

/// How a server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (loopback unless told otherwise).
    pub listen: String,
    /// Bearer token clients must present.
    pub token: String,
    /// Largest request body accepted (also the frame cap).
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:0".into(),
            token: String::new(),
            max_body_bytes: DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

/// Worker threads per server: a slow client holds one of them, not the server
/// (the region itself is still used by one request at a time).
pub const WORKERS: usize = 4;

/// A running server; dropping it does not stop it, [`ServerHandle::stop`] does.
pub struct ServerHandle {
    server: Arc<Server>,
    addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The sync URL of this server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stop accepting requests and wait for the workers to finish.
    pub fn stop(self) {
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
    /// Serve until the process ends.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn text(status: u16, code: &str, msg: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut r = Response::from_string(format!("{code}: {msg}\n")).with_status_code(status);
    if let Ok(h) = Header::from_bytes(ERROR_CODE_HEADER.as_bytes(), code.as_bytes()) {
        r.add_header(h);
    }
    r
}

fn authorized(req: &Request, token: &str) -> bool {
    let want = format!("Bearer {token}");
    req.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && constant_time_eq(h.value.as_str().as_bytes(), want.as_bytes())
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Let browser pages on other origins call the server (the bearer token,
/// not the origin, is what grants access).
fn with_cors<R: std::io::Read>(mut r: Response<R>) -> Response<R> {
    for (k, v) in [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "POST, OPTIONS"),
        (
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type",
        ),
        ("Access-Control-Expose-Headers", ERROR_CODE_HEADER),
        ("Access-Control-Max-Age", "600"),
    ] {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            r.add_header(h);
        }
    }
    r
}

fn handle(db: &Mutex<Database>, cfg: &ServerConfig, mut req: Request) {
    if *req.method() == Method::Options {
        let _ = req.respond(with_cors(Response::empty(204)));
        return;
    }
    let resp = if req.url() != SYNC_PATH {
        text(404, "NotFound", "unknown path")
    } else if *req.method() != Method::Post {
        text(405, "MethodNotAllowed", "use POST")
    } else if !authorized(&req, &cfg.token) {
        text(401, "Unauthorized", "missing or wrong bearer token")
    } else if req
        .body_length()
        .is_some_and(|n| n > cfg.max_body_bytes + 64)
    {
        text(
            413,
            "RequestTooLarge",
            "request body exceeds the server's limit",
        )
    } else {
        let mut body = Vec::new();
        let limit = (cfg.max_body_bytes + 65) as u64;
        match req.as_reader().take(limit).read_to_end(&mut body) {
            Err(e) => text(400, "BadRequest", &e.to_string()),
            Ok(_) if body.len() as u64 >= limit => text(
                413,
                "RequestTooLarge",
                "request body exceeds the server's limit",
            ),
            Ok(_) => {
                let mut guard = match db.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                match respond(&mut guard, &body, cfg.max_body_bytes) {
                    Ok(bytes) => Response::from_data(bytes)
                        .with_status_code(200)
                        .with_header(
                            Header::from_bytes(
                                &b"Content-Type"[..],
                                &b"application/octet-stream"[..],
                            )
                            .expect("static header"),
                        ),
                    Err(e) => text(400, e.code(), &e.message()),
                }
            }
        }
    };
    let _ = req.respond(with_cors(resp));
}

/// Start serving `db` on `cfg.listen` in a background thread.
pub fn serve(db: Arc<Mutex<Database>>, cfg: ServerConfig) -> Result<ServerHandle> {
    if cfg.token.is_empty() {
        return Err(Error::invalid("a server needs a non-empty bearer token"));
    }
    let server = Server::http(&cfg.listen).map_err(|e| {
        Error::io(
            format!("listen on {}", cfg.listen),
            std::io::Error::other(e),
        )
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::io_msg("the server is not on an IP address"))?;
    let server = Arc::new(server);
    let cfg = Arc::new(cfg);
    let threads = (0..WORKERS)
        .map(|_| {
            let (server, db, cfg) = (server.clone(), db.clone(), cfg.clone());
            std::thread::spawn(move || {
                for req in server.incoming_requests() {
                    handle(&db, &cfg, req);
                }
            })
        })
        .collect();
    Ok(ServerHandle {
        server,
        addr,
        threads,
    })
}
