//! Helpers shared by the server tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tablesync::*;

/// An in-memory region with table `t` (key `k` INTEGER).
pub fn region(name: &str) -> Database {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db
}

/// Send raw bytes on a new connection and return the status line (empty if
/// the server closed the connection without answering).
pub fn status_line(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = vec![0u8; 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The full answer (head and body) to a raw request, up to 64 KiB.
pub fn answer(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.take(64 * 1024).read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

/// A GET with a bearer token, the connection closed after the answer.
pub fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    answer(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    )
}

/// A durable region "served" in `dir` with table `t` (key `k` INTEGER), a
/// checkpoint every ~4 KB of log and no fsyncs, served on loopback (token
/// `t0k`) with the server's background checkpoint thread. Its rows are in
/// memory (`rows_in_memory`): the background deltas and folds the tests
/// watch are that mode's checkpoints.
pub fn served_durable(
    dir: &std::path::Path,
) -> (
    std::sync::Arc<std::sync::Mutex<Database>>,
    tablesync_http::ServerHandle,
) {
    let mut db = Database::open(
        dir,
        DatabaseOptions::new("served")
            .rows_in_memory()
            .sync(SyncPolicy::Never)
            .checkpoint_bytes(4_000),
    )
    .unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    let db = std::sync::Arc::new(std::sync::Mutex::new(db));
    let handle = tablesync_http::serve(
        db.clone(),
        tablesync_http::ServerConfig {
            token: "t0k".into(),
            ..tablesync_http::ServerConfig::default()
        },
    )
    .unwrap();
    (db, handle)
}
