//! Serve one durable region over HTTP until killed: the server the JS SDK's
//! tests (and anyone trying `syncOverHttp`) talk to.
//!
//! ```text
//! cargo run -p tablesync-http --example serve_dir -- DIR TOKEN [LISTEN] [REGION]
//! ```
//!
//! `DIR` is created if missing and reopened if it holds a region; `LISTEN`
//! defaults to `127.0.0.1:0` (a free port), `REGION` to `server`. Once
//! listening it prints `LISTENING http://HOST:PORT` on stdout.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use tablesync::{Database, DatabaseOptions};
use tablesync_http::{serve, ServerConfig};

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, token) = match (args.first(), args.get(1)) {
        (Some(d), Some(t)) if args.len() <= 4 => (d.clone(), t.clone()),
        _ => return Err("usage: serve_dir DIR TOKEN [LISTEN] [REGION]".into()),
    };
    let listen = args.get(2).cloned().unwrap_or_else(|| "127.0.0.1:0".into());
    let region = args.get(3).cloned().unwrap_or_else(|| "server".into());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {dir}: {e}"))?;
    let db = Database::open(&dir, DatabaseOptions::new(region.as_str()))
        .map_err(|e| format!("open {dir}: {} {}", e.code(), e.message()))?;
    let cfg = ServerConfig {
        listen,
        token,
        ..ServerConfig::default()
    };
    let handle = serve(Arc::new(Mutex::new(db)), cfg)
        .map_err(|e| format!("serve: {} {}", e.code(), e.message()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "LISTENING {}", handle.url()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    handle.join();
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve_dir: {e}");
            ExitCode::FAILURE
        }
    }
}
