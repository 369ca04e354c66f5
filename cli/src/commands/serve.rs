//! `serve`: one directory's region over HTTP until Ctrl-C or SIGTERM.

use crate::args::ServeArgs;
use crate::error::{CliError, CliResult};
use crate::open::open_or_create;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{mpsc, Arc, Mutex};
use tablesync::SyncPolicy;
use tablesync_http::{serve as start, ServerConfig};

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

/// Whether every address is a loopback one (else `serve` warns).
fn all_loopback(addrs: &[SocketAddr]) -> bool {
    addrs.iter().all(|s| s.ip().is_loopback())
}

/// `tablesync serve`.
pub fn serve(a: &ServeArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    let token = a.token.clone().filter(|t| !t.is_empty());
    if token.is_none() && a.tablestore_listen.is_none() {
        return Err(CliError::arg(
            "serve needs a bearer token: pass --token TOKEN or set TABLESYNC_TOKEN",
        ));
    }
    let ots_config = super::serve_ots::config(a)?;
    if a.max_body < 4096 {
        return Err(CliError::arg("--max-body must be at least 4096 bytes"));
    }
    let addrs = resolve(&a.listen)?;
    let db = open_or_create(&a.dir, region, policy)?;
    let region = db.region().to_string();
    let shared = Arc::new(Mutex::new(db));
    let (tx, rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| CliError::new("StorageIo", format!("installing the signal handler: {e}")))?;
    let ots = super::serve_ots::start(a, ots_config, shared.clone())?;
    // Without a token only the Tablestore endpoint runs.
    let Some(token) = token else {
        let _ = rx.recv();
        return super::serve_ots::stop(ots, shared, &region);
    };
    let handle = start(
        shared.clone(),
        ServerConfig {
            listen: a.listen.clone(),
            token,
            max_body_bytes: a.max_body,
        },
    )?;
    if !all_loopback(&addrs) {
        eprintln!(
            "warning: listening on {}, which is not a loopback address: anyone who can reach it and holds the token can read and write region '{region}' over plain HTTP",
            handle.addr()
        );
    }
    println!(
        "serving region '{region}' of {} at {} (Ctrl-C stops)",
        a.dir.display(),
        handle.url()
    );
    // Wait for Ctrl-C or SIGTERM; a closed channel means the handler is gone.
    let _ = rx.recv();
    handle.stop();
    drop(ots);
    let mut db = match shared.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
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
