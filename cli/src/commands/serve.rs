//! `serve`: one directory's region over HTTP(S) until Ctrl-C or SIGTERM,
//! then a graceful stop, a checkpoint and a clean close.

use crate::args::ServeArgs;
use crate::error::{CliError, CliResult};
use crate::open::open_or_create;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tablesync::replication::{parse_duration_ms, Trigger};
use tablesync::{Database, SyncPolicy};
use tablesync_http::cluster::ClusterConfig;
use tablesync_http::{serve as start, Access, Hosting, ServerConfig, SharedDb, TlsFiles};
use tablesync_replicate::{Host, HostOptions, PeerSpec};

/// The addresses `listen` resolves to, or an argument error.
fn resolve(listen: &str) -> CliResult<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| CliError::arg(format!("--listen {listen:?}: {e} (expected HOST:PORT)")))?
        .collect();
    if addrs.is_empty() {
        return Err(CliError::arg(format!(
            "--listen {listen:?} resolves to no address"
        )));
    }
    Ok(addrs)
}

/// Whether every address is a loopback one (else plain http needs `--insecure-http`).
fn all_loopback(addrs: &[SocketAddr]) -> bool {
    addrs.iter().all(|s| s.ip().is_loopback())
}

/// The non-empty lines of a token file.
fn token_lines(path: &Path) -> CliResult<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            crate::error::FILE_IO,
            format!("reading {}: {e}", path.display()),
        )
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// The read-write token: `--token-file`, else TABLESYNC_TOKEN, else `--token`.
fn read_write_token(a: &ServeArgs) -> CliResult<String> {
    let missing = || {
        CliError::arg("serve needs a bearer token: set TABLESYNC_TOKEN or pass --token-file PATH")
    };
    if let Some(f) = &a.token_file {
        return token_lines(f)?.into_iter().next().ok_or_else(missing);
    }
    if let Some(t) = std::env::var("TABLESYNC_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Ok(t);
    }
    a.token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)
}

/// Install the `tracing` subscriber (stderr; `text` or `json`).
fn init_logs(format: &str) -> CliResult<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TABLESYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let r = match format {
        "text" => builder.try_init(),
        "json" => builder.json().try_init(),
        other => {
            return Err(CliError::arg(format!(
                "--log-format {other:?}: expected text or json"
            )))
        }
    };
    // A subscriber already installed (tests) is fine.
    let _ = r;
    Ok(())
}

/// `tablesync serve`.
pub fn serve(a: &ServeArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    // With --tablestore-listen the sync server is optional: it runs only
    // when a token is given.
    let token = match read_write_token(a) {
        Ok(t) => Some(t),
        Err(_) if a.tablestore_listen.is_some() => None,
        Err(e) => return Err(e),
    };
    let ots_config = super::serve_ots::config(a)?;
    let read_tokens = match &a.read_token_file {
        Some(f) => token_lines(f)?,
        None => Vec::new(),
    };
    if a.max_body < 4096 {
        return Err(CliError::arg("--max-body must be at least 4096 bytes"));
    }
    if a.max_in_flight == 0 {
        return Err(CliError::arg("--max-in-flight must be at least 1"));
    }
    let addrs = resolve(&a.listen)?;
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    if tls.is_none() && !a.insecure_http && !all_loopback(&addrs) {
        return Err(CliError::arg(format!(
            "--listen {}: plain http off loopback sends tokens in clear; give --tls-cert/--tls-key or --insecure-http",
            a.listen
        )));
    }
    init_logs(&a.log_format)?;
    if a.token.is_some() && std::env::var_os("TABLESYNC_TOKEN").is_none() && a.token_file.is_none()
    {
        eprintln!("warning: --token is visible to other users in the process list; prefer TABLESYNC_TOKEN or --token-file");
    }
    let db = open_or_create(&a.dir, region, policy)?;
    if !a.peers.is_empty() {
        return serve_with_peers(a, db, token, read_tokens, tls, &addrs);
    }
    let region = db.region().to_string();
    let shared = Arc::new(RwLock::new(db));
    // Without a token only the Tablestore endpoint runs.
    let Some(token) = token else {
        let ots = super::serve_ots::start(a, ots_config, shared.clone(), None)?;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        ctrlc::set_handler(move || {
            let _ = tx.send(());
        })
        .map_err(|e| CliError::new("StorageIo", format!("installing the signal handler: {e}")))?;
        let _ = rx.recv();
        return super::serve_ots::stop(ots, shared, &region);
    };
    let cfg = ServerConfig {
        listen: a.listen.clone(),
        token,
        tokens: read_tokens
            .into_iter()
            .map(|t| (t, Access::ReadOnly))
            .collect(),
        max_body_bytes: a.max_body,
        max_in_flight: a.max_in_flight,
        shutdown_grace: Duration::from_secs(a.shutdown_grace),
        tls,
        insecure_http: a.insecure_http,
        cluster: a
            .cluster
            .then(|| ClusterConfig::new(a.dir.join("cluster"), region.clone())),
        ..ServerConfig::default()
    };
    let handle = start(shared.clone(), cfg)?;
    // The Tablestore endpoint shares the sync server's region: one writer
    // queue, one commit signal, reads on its read path.
    let ots = super::serve_ots::start(a, ots_config, shared.clone(), Some(handle.region()))?;
    let stopper = handle.stopper();
    ctrlc::set_handler(move || stopper.stop())
        .map_err(|e| CliError::new("StorageIo", format!("installing the signal handler: {e}")))?;
    if !all_loopback(&addrs) && a.insecure_http {
        eprintln!(
            "warning: listening on {} over plain HTTP: tokens and data travel in clear",
            handle.addr()
        );
    }
    println!(
        "serving region '{region}' of {} at {} (Ctrl-C stops)",
        a.dir.display(),
        handle.url()
    );
    let failed = handle.join();
    if let Some(h) = ots {
        h.stop();
    }
    let mut db = shared.write().unwrap_or_else(PoisonError::into_inner);
    close_region(&mut db, failed, &region)
}

/// The hosting options of `serve --peer`.
fn host_options(a: &ServeArgs, token: &str) -> CliResult<HostOptions> {
    let trigger = Trigger::parse(&a.link_trigger)?;
    let heartbeat_ms = parse_duration_ms(&a.heartbeat)
        .map_err(|e| CliError::arg(format!("--heartbeat {:?}: {}", a.heartbeat, e.message())))?;
    let ms = |flag: &str, v: &Option<String>| -> CliResult<Option<i64>> {
        v.as_deref()
            .map(|d| {
                parse_duration_ms(d)
                    .map_err(|e| CliError::arg(format!("--{flag} {d:?}: {}", e.message())))
            })
            .transpose()
    };
    Ok(HostOptions {
        trigger,
        direction: super::replicate::direction(a.link_direction),
        heartbeat_ms,
        phi_threshold: a.phi_threshold,
        token: token.to_string(),
        group_primary: a.group_primary.clone(),
        ca_file: a.peer_ca.clone(),
        lease_ms: ms("lease", &a.lease)?,
        grace_ms: ms("grace", &a.grace)?,
        min_silence_ms: ms("min-silence", &a.min_silence)?,
    })
}

/// `serve --peer …`: the region behind one lock shared by the server and
/// the hosted links, heartbeats and fence (`tablesync_replicate::host`).
fn serve_with_peers(
    a: &ServeArgs,
    db: Database,
    token: Option<String>,
    read_tokens: Vec<String>,
    tls: Option<TlsFiles>,
    addrs: &[SocketAddr],
) -> CliResult<()> {
    let Some(token) = token else {
        return Err(CliError::arg(
            "--peer needs a bearer token (TABLESYNC_TOKEN or --token-file)",
        ));
    };
    if a.tablestore_listen.is_some() {
        return Err(CliError::arg(
            "--peer and --tablestore-listen cannot be combined yet",
        ));
    }
    let peers = a
        .peers
        .iter()
        .map(|p| PeerSpec::parse(p))
        .collect::<tablesync::Result<Vec<_>>>()?;
    let opts = host_options(a, &token)?;
    let region = db.region().to_string();
    let shared = Arc::new(Mutex::new(db));
    let host = Host::start(Some(a.dir.clone()), shared.clone(), peers, opts)?;
    let cfg = ServerConfig {
        listen: a.listen.clone(),
        token,
        tokens: read_tokens
            .into_iter()
            .map(|t| (t, Access::ReadOnly))
            .collect(),
        max_body_bytes: a.max_body,
        max_in_flight: a.max_in_flight,
        shutdown_grace: Duration::from_secs(a.shutdown_grace),
        tls,
        insecure_http: a.insecure_http,
        hosting: Some(Hosting(host.clone())),
        ..ServerConfig::default()
    };
    let handle = match start(SharedDb::Mutex(shared.clone()), cfg) {
        Ok(h) => h,
        Err(e) => {
            host.stop();
            return Err(e.into());
        }
    };
    let stopper = handle.stopper();
    ctrlc::set_handler(move || stopper.stop())
        .map_err(|e| CliError::new("StorageIo", format!("installing the signal handler: {e}")))?;
    if !all_loopback(addrs) && a.insecure_http {
        eprintln!(
            "warning: listening on {} over plain HTTP: tokens and data travel in clear",
            handle.addr()
        );
    }
    println!(
        "serving region '{region}' of {} at {} with links to {} (Ctrl-C stops)",
        a.dir.display(),
        handle.url(),
        a.peers.join(", ")
    );
    let failed = handle.join();
    host.stop();
    let mut db = shared.lock().unwrap_or_else(PoisonError::into_inner);
    close_region(&mut db, failed, &region)
}

/// Close the served region once the server stopped: with a checkpoint, or,
/// after a request failed inside it (the in-memory state may be
/// half-updated), without one — the log holds every acknowledged write for
/// the next open.
fn close_region(db: &mut Database, failed: bool, region: &str) -> CliResult<()> {
    if failed {
        db.close()?;
        return Err(CliError::new(
            "RegionFailed",
            format!("a request failed inside region '{region}'; closed without a checkpoint"),
        ));
    }
    db.checkpoint()?;
    db.close()?;
    println!("stopped; region '{region}' closed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_pass_without_a_warning() {
        assert!(all_loopback(&resolve("127.0.0.1:7070").unwrap()));
        assert!(all_loopback(&resolve("[::1]:0").unwrap()));
        assert!(!all_loopback(&resolve("0.0.0.0:7070").unwrap()));
        assert!(!all_loopback(&resolve("192.0.2.1:80").unwrap()));
        assert!(resolve("no-port").is_err());
        assert!(resolve("127.0.0.1:99999").is_err());
    }
}
