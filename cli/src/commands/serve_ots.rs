//! `serve --tablestore-listen`: the Tablestore wire protocol next to the sync server.

use crate::args::ServeArgs;
use crate::error::{CliError, CliResult};
use std::sync::{Arc, RwLock};
use tablesync::Database;
use tablesync_ots::{AccessKeys, Config, Server, ServerHandle};

/// The endpoint's configuration, read before the region opens (`None`
/// without `--tablestore-listen`).
pub fn config(a: &ServeArgs) -> CliResult<Option<Config>> {
    let Some(_) = &a.tablestore_listen else {
        if a.access_key_file.is_some() {
            return Err(CliError::arg(
                "--access-key-file needs --tablestore-listen HOST:PORT",
            ));
        }
        return Ok(None);
    };
    let file = a.access_key_file.as_ref().ok_or_else(|| {
        CliError::arg("--tablestore-listen needs --access-key-file FILE (ACCESS_KEY_ID:ACCESS_KEY_SECRET lines)")
    })?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::arg(format!("--access-key-file {}: {e}", file.display())))?;
    let keys = AccessKeys::parse(&text)
        .map_err(|e| CliError::arg(format!("--access-key-file {}: {e}", file.display())))?;
    if a.instance.is_empty() {
        return Err(CliError::arg("--instance must not be empty"));
    }
    Ok(Some(Config::new(a.instance.clone(), keys)))
}

/// Start the endpoint when configured, and say where it listens.
/// With `region` (the sync server's) it serves that region; otherwise its own
/// over `db`.
pub fn start(
    a: &ServeArgs,
    config: Option<Config>,
    db: Arc<RwLock<Database>>,
    region: Option<Arc<tablesync_http::Region>>,
) -> CliResult<Option<ServerHandle>> {
    let (Some(listen), Some(config)) = (&a.tablestore_listen, config) else {
        return Ok(None);
    };
    let instance = config.instance.clone();
    let handle = match region {
        Some(r) => Server::start_on(r, listen, config),
        None => Server::start(db, listen, config),
    }
    .map_err(|e| CliError::new("StorageIo", format!("--tablestore-listen {listen}: {e}")))?;
    if !handle.addr().ip().is_loopback() {
        eprintln!(
            "warning: the Tablestore endpoint listens on {}, which is not a loopback address (plain HTTP)",
            handle.addr()
        );
    }
    println!(
        "Tablestore endpoint {} instance '{instance}' (Ctrl-C stops)",
        handle.url()
    );
    Ok(Some(handle))
}

/// Stop the endpoint and close the region (when it runs alone).
pub fn stop(
    handle: Option<ServerHandle>,
    db: Arc<RwLock<Database>>,
    region: &str,
) -> CliResult<()> {
    if let Some(h) = handle {
        h.stop();
    }
    let mut db = match db.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    db.checkpoint()?;
    db.close()?;
    println!("stopped; region '{region}' closed");
    Ok(())
}
