//! A Rust load generator for the Tablestore endpoint: starts the server
//! in-process on a memory region, then `THREADS` keep-alive connections send
//! signed PutRow (then GetRow) requests as fast as they can, and prints
//! requests/s and p99 latency for each.
//!
//!     cargo run --release -p tablesync-ots --example load -- [REQUESTS] [THREADS]
//!
//! REQUESTS defaults to 1,000 a phase (tiny); quote figures from 20,000
//! (`-- 20000 4`) on a quiet machine. THREADS defaults to 4.
//!
//! Figures need a quiet machine (on a shared one, run it tiny to check it works).

use prost::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tablesync::{Database, DatabaseOptions};
use tablesync_ots::auth::{content_md5, format_iso8601_ms};
use tablesync_ots::pb;
use tablesync_ots::plainbuffer::{encode_pk_row, encode_row, PbCell, PbValue};
use tablesync_ots::{AccessKeys, Config, Server};

const ID: &str = "load";
const SECRET: &str = "load-secret";

fn signed_request(api: &str, body: &[u8], host: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let headers = [
        ("x-ots-accesskeyid", ID.to_string()),
        ("x-ots-apiversion", "2015-12-31".to_string()),
        ("x-ots-contentmd5", content_md5(body)),
        ("x-ots-date", format_iso8601_ms(now)),
        ("x-ots-instancename", "load".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sig = tablesync_ots::auth::request_signature(SECRET, &format!("/{api}"), &pairs);
    let mut req = format!(
        "POST /{api} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\nx-ots-signature: {sig}\r\n",
        body.len()
    );
    for (k, v) in &headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Send one request on a keep-alive connection; returns the status.
fn roundtrip(r: &mut BufReader<TcpStream>, req: &[u8]) -> u16 {
    r.get_mut().write_all(req).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    status
}

fn phase(
    name: &str,
    addr: &str,
    total: usize,
    threads: usize,
    make: fn(usize) -> (&'static str, Vec<u8>),
) {
    let per = total / threads;
    let start = Instant::now();
    let lat: Vec<Duration> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut r = BufReader::new(TcpStream::connect(addr).unwrap());
                    r.get_ref().set_nodelay(true).unwrap();
                    let mut lat = Vec::with_capacity(per);
                    for i in 0..per {
                        let (api, body) = make(t * per + i);
                        let req = signed_request(api, &body, addr);
                        let t0 = Instant::now();
                        assert_eq!(roundtrip(&mut r, &req), 200);
                        lat.push(t0.elapsed());
                    }
                    lat
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut lat = lat;
    lat.sort();
    let p99 = lat[(lat.len() * 99 / 100).min(lat.len() - 1)];
    println!(
        "{name:8} {:>8} requests  {:>9.0} req/s  p99 {:.2} ms",
        lat.len(),
        lat.len() as f64 / secs,
        p99.as_secs_f64() * 1e3
    );
}

fn pk(i: usize) -> Vec<(String, PbValue)> {
    vec![("uid".into(), PbValue::Integer(i as i64))]
}

fn put(i: usize) -> (&'static str, Vec<u8>) {
    let cells = vec![PbCell {
        name: "name".into(),
        value: Some(PbValue::String(format!("user{i}"))),
        op: None,
        timestamp: None,
    }];
    let req = pb::PutRowRequest {
        table_name: "t".into(),
        row: encode_row(&pk(i), &cells, false),
        condition: pb::Condition {
            row_existence: 0,
            column_condition: None,
        },
        return_content: None,
        transaction_id: None,
    };
    ("PutRow", req.encode_to_vec())
}

fn get(i: usize) -> (&'static str, Vec<u8>) {
    let req = pb::GetRowRequest {
        table_name: "t".into(),
        primary_key: encode_pk_row(&pk(i)),
        max_versions: Some(1),
        ..Default::default()
    };
    ("GetRow", req.encode_to_vec())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(1_000, |a| a.parse().unwrap());
    let threads: usize = args.next().map_or(4, |a| a.parse().unwrap());
    let db = Database::memory(DatabaseOptions::new("load")).unwrap();
    let db = Arc::new(RwLock::new(db));
    db.write()
        .unwrap()
        .create_table(tablesync::TableSchema::new(
            "t",
            vec![tablesync::PkColumn::new("uid", tablesync::PkType::Integer)],
        ))
        .unwrap();
    let keys = AccessKeys::new([(ID.to_string(), SECRET.to_string())]);
    let server = Server::start(db, "127.0.0.1:0", Config::new("load", keys)).unwrap();
    let addr = server.addr().to_string();
    println!(
        "{threads} connections against {} (memory region)",
        server.url()
    );
    phase("PutRow", &addr, total, threads, put);
    phase("GetRow", &addr, total, threads, get);
    server.stop();
}
