//! The listener: accepts connections (TLS or not), applies the head
//! timeout and size limit, and shuts down gracefully within a bound.

use crate::auth::Tokens;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::region::{Region, SharedDb};
use crate::routes::{router, App};
use crate::timed_io::TimedIo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tablesync::{Error, Result};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

/// Asks a running server to stop; clone it into a signal handler.
#[derive(Clone, Debug)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    /// Begin a graceful shutdown (idempotent; returns at once).
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// A running server. [`ServerHandle::stop`] stops it; dropping it does not.
pub struct ServerHandle {
    addr: SocketAddr,
    tls: bool,
    stopper: Stopper,
    app: Arc<App>,
    thread: Option<JoinHandle<()>>,
    /// Folds the region's delta checkpoints off the request path.
    folds: Option<crate::fold::BackgroundFolds>,
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL: `http://HOST:PORT` or `https://HOST:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// A handle that stops the server from another thread.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// The served region, for another endpoint to share its read and write
    /// paths (the Tablestore endpoint of `serve --tablestore-listen`).
    pub fn region(&self) -> Arc<Region> {
        self.app.region.clone()
    }

    /// Whether a panic in a handler failed the region (its in-memory state
    /// must then not be checkpointed).
    pub fn region_failed(&self) -> bool {
        self.app.region.failed()
    }

    /// Stop accepting, let requests in flight finish (at most the
    /// configured grace), then return whether the region failed (see
    /// [`ServerHandle::region_failed`]).
    pub fn stop(mut self) -> bool {
        self.stopper.stop();
        self.wait()
    }

    /// Serve until a [`Stopper`] stops the server; returns whether the region failed.
    pub fn join(mut self) -> bool {
        self.wait()
    }

    fn wait(&mut self) -> bool {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // A fold in flight is installed before the caller may close the region.
        if let Some(f) = self.folds.take() {
            f.stop();
        }
        if let Some(c) = &self.app.cluster {
            c.shutdown();
        }
        self.app.region.failed()
    }
}

fn loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Start serving `db` on `cfg.listen` in a background thread (its own tokio
/// runtime). Fails if no token is configured, the address cannot be bound,
/// the TLS files are unusable, or plain http is asked on a non-loopback
/// address without `insecure_http`.
pub fn serve(db: impl Into<SharedDb>, cfg: ServerConfig) -> Result<ServerHandle> {
    let tokens = Tokens::new(&cfg.all_tokens());
    if tokens.is_empty() {
        return Err(Error::invalid("a server needs a non-empty bearer token"));
    }
    let tls = match &cfg.tls {
        Some(files) => Some(TlsAcceptor::from(crate::tls::server_config(files)?)),
        None => None,
    };
    let std_listener = std::net::TcpListener::bind(&cfg.listen)
        .map_err(|e| Error::io_msg(format!("listen on {}: {e}", cfg.listen)))?;
    let addr = std_listener
        .local_addr()
        .map_err(|e| Error::io_msg(format!("listen on {}: {e}", cfg.listen)))?;
    if tls.is_none() && !loopback(&addr) && !cfg.insecure_http {
        return Err(Error::invalid(format!(
            "refusing plain http on {addr}, which is not a loopback address: give a TLS certificate and key, or allow it explicitly (insecure http)"
        )));
    }
    std_listener
        .set_nonblocking(true)
        .map_err(|e| Error::io_msg(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tablesync-http")
        .enable_all()
        .build()
        .map_err(|e| Error::io_msg(format!("starting the server runtime: {e}")))?;
    let listener = {
        let _guard = rt.enter();
        TcpListener::from_std(std_listener).map_err(|e| Error::io_msg(e.to_string()))?
    };
    let metrics = Arc::new(Metrics::new());
    let shared: SharedDb = db.into();
    // No writer pays for folding the region's delta checkpoints (issue 13).
    let folds = crate::fold::BackgroundFolds::start(shared.clone())
        .map_err(|e| Error::io_msg(format!("starting the fold thread: {e}")))?;
    let region = Arc::new(Region::new(shared, cfg.fault_hook.clone()));
    let cluster = match &cfg.cluster {
        Some(c) => Some(crate::cluster::ClusterNode::open(
            c.clone(),
            region.clone(),
            &cfg.token,
        )?),
        None => None,
    };
    let app = Arc::new(App {
        region,
        cluster,
        tokens,
        metrics,
        slots: Semaphore::new(cfg.max_in_flight.max(1)),
        feed_slots: Semaphore::new(cfg.max_feeds.max(1)),
        stopping: AtomicBool::new(false),
        cfg,
    });
    let (tx, rx) = watch::channel(false);
    let stopper = Stopper(Arc::new(tx));
    let tls_on = tls.is_some();
    let run_app = app.clone();
    let thread = std::thread::Builder::new()
        .name("tablesync-http-accept".into())
        .spawn(move || {
            rt.block_on(run(listener, run_app, tls, rx));
            // Connections still open after the grace period are cut here.
            rt.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(|e| Error::io_msg(format!("starting the server thread: {e}")))?;
    tracing::info!(%addr, tls = tls_on, "serving");
    Ok(ServerHandle {
        addr,
        tls: tls_on,
        stopper,
        app,
        thread: Some(thread),
        folds: Some(folds),
    })
}

async fn run(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let conns = Arc::new(Semaphore::new(app.cfg.max_connections.max(1)));
    let service = router(app.clone());
    let header_timeout = app.cfg.header_timeout;
    let max_buf = app.cfg.max_header_bytes.max(8192);
    let write_timeout = app.cfg.write_timeout;
    loop {
        let permit = tokio::select! {
            p = conns.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors and the like: wait a little.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => break,
        };
        let _ = stream.set_nodelay(true);
        // Stalled writes end the connection (TLS rides on top of it).
        let stream = TimedIo::new(stream, write_timeout);
        let svc = TowerToHyperService::new(service.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(max_buf)
                .keep_alive(true);
            let r = match tls {
                Some(acceptor) => {
                    let Ok(Ok(s)) =
                        tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                    else {
                        tracing::debug!(%peer, "TLS handshake failed or timed out");
                        return;
                    };
                    watcher
                        .watch(builder.serve_connection(TokioIo::new(s), svc))
                        .await
                }
                None => {
                    watcher
                        .watch(builder.serve_connection(TokioIo::new(stream), svc))
                        .await
                }
            };
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    app.stopping.store(true, Ordering::SeqCst);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("every connection closed"),
        _ = tokio::time::sleep(app.cfg.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; cutting the remaining connections");
        }
    }
}
