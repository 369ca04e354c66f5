//! The server: a slow client does not hold up others, stop() ends every worker,
//! and requests it should refuse are refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tablesync::sync::SyncConfig;
use tablesync::*;
use tablesync_http::{serve, sync_url, HttpRemote, ServerConfig};

fn region(name: &str) -> Database {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db
}

#[test]
fn a_slow_client_does_not_block_a_sync_and_stop_ends_the_workers() {
    let mut served = region("server");
    served
        .put_row(
            "t",
            PrimaryKey::new([("k", 1)]),
            vec![Column::new("v", 1)],
            Condition::ignore(),
        )
        .unwrap();
    let handle = serve(
        Arc::new(Mutex::new(served)),
        ServerConfig {
            token: "t0k".into(),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    // A client that sends half a request and then goes quiet.
    let mut slow = TcpStream::connect(handle.addr()).unwrap();
    slow.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut local = region("laptop");
    let remote = HttpRemote::new(&handle.url(), "t0k").unwrap();
    let report = sync_url(&mut local, &remote, SyncConfig::default()).unwrap();
    assert!(report.verified, "{report:?}");
    assert_eq!(local.describe_table("t").unwrap().row_count, 1);
    drop(slow);
    handle.stop();
}

#[test]
fn wrong_paths_methods_and_oversized_bodies_are_refused() {
    let handle = serve(
        Arc::new(Mutex::new(region("server"))),
        ServerConfig {
            token: "t0k".into(),
            max_body_bytes: 8192,
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let status = |req: &[u8]| -> String {
        let mut s = TcpStream::connect(handle.addr()).unwrap();
        s.write_all(req).unwrap();
        let mut buf = vec![0u8; 512];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        status(b"GET /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n")
            .contains("405")
    );
    assert!(
        status(b"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").contains("404")
    );
    assert!(
        status(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").contains("401")
    );
    assert!(status(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\nContent-Length: 100000\r\n\r\n").contains("413"));
    assert!(
        serve(Arc::new(Mutex::new(region("x"))), ServerConfig::default()).is_err(),
        "a server needs a token"
    );
    handle.stop();
}
