//! Hostile and broken clients: slow heads and bodies, huge declared bodies
//! with and without a token, too many requests at once, and a handler that
//! panics. A well-behaved client keeps being served meanwhile.

mod common;
use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tablesync::*;
use tablesync_http::{serve, ClientOptions, FaultHook, RowClient, ServerConfig};

fn quick_timeouts() -> ServerConfig {
    ServerConfig {
        token: "rw".into(),
        max_body_bytes: 64 * 1024,
        header_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(800),
        ..ServerConfig::default()
    }
}

/// Whether the server closed `s` (or answered) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    !matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
}

#[test]
fn slow_and_oversized_clients_do_not_stall_a_good_one() {
    let handle = serve(Arc::new(RwLock::new(region("server"))), quick_timeouts()).unwrap();
    let addr = handle.addr();
    // 40 slowloris connections: an unfinished head, then silence.
    let mut slow_heads: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST /v1/row/put HTTP/1.1\r\nHost: x\r\nAuthori")
                .unwrap();
            s
        })
        .collect();
    // 20 with a full head and token but a body that never comes.
    let mut slow_bodies: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(
                b"POST /v1/row/put HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rw\r\nContent-Length: 1000\r\n\r\n{\"ta",
            )
            .unwrap();
            s
        })
        .collect();
    // Huge declared bodies: refused from the head, with or without a token.
    let huge = |auth: &str| {
        format!("POST /v1/sync HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 1000000000000\r\n\r\n")
    };
    let t = Instant::now();
    assert!(status_line(addr, huge("").as_bytes()).contains("401"));
    assert!(status_line(addr, huge("Authorization: Bearer wrong\r\n").as_bytes()).contains("401"));
    assert!(status_line(addr, huge("Authorization: Bearer rw\r\n").as_bytes()).contains("413"));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // A chunked body that outgrows the limit is cut at the limit.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rw\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "a".repeat(16 * 1024));
    for _ in 0..5 {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let mut head = [0u8; 64];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = s.read(&mut head).unwrap_or(0);
    assert!(String::from_utf8_lossy(&head[..n]).contains("413"));

    // Meanwhile a good client is served promptly, again and again.
    let good = RowClient::new(
        &handle.url(),
        "rw",
        &ClientOptions {
            timeout: Duration::from_secs(2),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    for k in 0..20 {
        let t = Instant::now();
        good.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
            .unwrap();
        assert!(good.get_row("t", json!({"k": k})).unwrap().is_some());
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
    }
    // A keep-alive connection that went quiet after one request is closed
    // too (an idle connection costs a slot until then).
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 256];
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(idle.read(&mut first).unwrap() > 0);
    slow_bodies.push(idle);
    // The slow clients were cut off by the head and body timeouts.
    std::thread::sleep(Duration::from_millis(900));
    for s in slow_heads.iter_mut().chain(slow_bodies.iter_mut()) {
        assert!(
            closed_within(s, Duration::from_secs(3)),
            "a slow client is still held"
        );
    }
    handle.stop();
}

#[test]
fn too_many_requests_at_once_are_answered_503_with_retry_after() {
    let cfg = ServerConfig {
        max_in_flight: 2,
        ..quick_timeouts()
    };
    let handle = serve(Arc::new(RwLock::new(region("server"))), cfg).unwrap();
    let addr = handle.addr();
    // Two requests stuck in their body hold both slots.
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST /v1/row/put HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rw\r\nContent-Length: 10\r\n\r\n{")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let a = get(addr, "/healthz", None);
    assert!(a.starts_with("HTTP/1.1 503"), "{a}");
    assert!(a.to_ascii_lowercase().contains("retry-after: 1"), "{a}");
    // Once the body timeout frees them, requests pass again.
    for s in &mut held {
        assert!(closed_within(s, Duration::from_secs(3)));
    }
    let a = get(addr, "/healthz", None);
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    handle.stop();
}

#[test]
fn a_panicking_handler_answers_500_and_the_region_refuses_writes_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(dir.path(), DatabaseOptions::new("server")).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    let shared = Arc::new(RwLock::new(db));
    let armed = Arc::new(AtomicBool::new(false));
    let trigger = armed.clone();
    let cfg = ServerConfig {
        fault_hook: Some(FaultHook(Arc::new(move |op| {
            if trigger.load(Ordering::SeqCst) {
                panic!("injected fault in {op}");
            }
        }))),
        ..quick_timeouts()
    };
    let handle = serve(shared.clone(), cfg).unwrap();
    let c = RowClient::new(&handle.url(), "rw", &ClientOptions::default()).unwrap();
    for k in 0..5 {
        c.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
            .unwrap();
    }
    armed.store(true, Ordering::SeqCst);
    let err = c
        .put_row("t", json!({"k": 5}), json!({"v": 5}), "IGNORE")
        .unwrap_err();
    assert!(err.message().contains("HTTP 500"), "{err}");
    armed.store(false, Ordering::SeqCst);
    // Closed to writes and reads; health says alive but not ready.
    let err = c
        .put_row("t", json!({"k": 6}), json!({"v": 6}), "IGNORE")
        .unwrap_err();
    assert!(err.message().contains("RegionFailed"), "{err}");
    assert!(c.get_row("t", json!({"k": 1})).is_err());
    assert!(get(handle.addr(), "/healthz", None).starts_with("HTTP/1.1 200"));
    assert!(get(handle.addr(), "/readyz", None).starts_with("HTTP/1.1 503"));
    assert!(handle.stop(), "stop reports the failed region");
    // Closed without a checkpoint, the directory reopens with every
    // acknowledged write and nothing else.
    shared.write().unwrap().close().unwrap();
    drop(shared);
    let db = Database::open(dir.path(), DatabaseOptions::new("server")).unwrap();
    assert_eq!(db.describe_table("t").unwrap().row_count, 5);
    for k in 0..5 {
        let row = db
            .get_row("t", &PrimaryKey::new([("k", k)]), &GetOptions::default())
            .unwrap();
        assert!(row.is_some(), "row {k}");
    }
}

#[test]
fn long_polls_do_not_take_the_request_slots() {
    let cfg = ServerConfig {
        max_in_flight: 1,
        max_feeds: 2,
        ..quick_timeouts()
    };
    let handle = serve(Arc::new(RwLock::new(region("server"))), cfg).unwrap();
    let addr = handle.addr();
    // Two long polls fill the feed slots...
    let polls: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /v1/changes?wait=3000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rw\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // ...a third is turned away at once, while other requests still pass.
    let third = get(addr, "/v1/changes?wait=3000", Some("rw"));
    assert!(third.starts_with("HTTP/1.1 503"), "{third}");
    let t = Instant::now();
    let ok = get(addr, "/healthz", None);
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(t.elapsed() < Duration::from_secs(1));
    drop(polls);
    handle.stop();
}
