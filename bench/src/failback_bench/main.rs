//! failback-bench: the failback resync of a large region over HTTP.
//!
//! Region `b` (the new primary) is served on loopback; region `a` (the old
//! primary) starts as a full copy of it, then both diverge by `--divergence`
//! of the rows (half written on each side: the writes `a` acknowledged and
//! `b` lacked, and `b`'s own since the failover). The failback is what
//! `tablesync failback` runs: sync rounds (`auto` mode) from `a` to `b`
//! until the digests match. Printed: time, rounds and bytes on the wire,
//! next to the targets of issue 13 (≤ 10 s, ≤ 3× the divergent bytes).
//!
//! `cargo run --release -p tablesync-bench --bin failback-bench` (1M rows,
//! 1% divergence, ~100-byte values); `--rows N --divergence F --value-bytes
//! B` change the shape. Loading 1M rows twice takes a few minutes before
//! the measured part.

use std::sync::{Arc, RwLock};
use std::time::Instant;
use tablesync::sync::SyncConfig;
use tablesync::*;
use tablesync_http::{serve, sync_url, HttpRemote, ServerConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "failback-bench";

struct Args {
    rows: i64,
    divergence: f64,
    value_bytes: usize,
}

fn args() -> Args {
    let mut a = Args {
        rows: 1_000_000,
        divergence: 0.01,
        value_bytes: 100,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let next = v.get(i + 1).cloned().unwrap_or_default();
        match v[i].as_str() {
            "--rows" => a.rows = next.parse().expect("--rows N"),
            "--divergence" => a.divergence = next.parse().expect("--divergence F"),
            "--value-bytes" => a.value_bytes = next.parse().expect("--value-bytes B"),
            other => panic!("unknown argument {other:?} (--rows, --divergence, --value-bytes)"),
        }
        i += 2;
    }
    assert!(a.rows > 0 && a.divergence > 0.0 && a.divergence <= 1.0);
    a
}

fn open(dir: &std::path::Path, region: &str) -> Database {
    let mut db = Database::open(
        dir.join(region),
        DatabaseOptions::new(region).sync(SyncPolicy::Batch),
    )
    .expect("open region");
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .expect("table");
    db
}

/// Put `keys` with values of `len` bytes tagged `tag`; returns the bytes
/// written (key + value).
fn write(db: &mut Database, keys: impl Iterator<Item = i64>, tag: &str, len: usize) -> u64 {
    let mut bytes = 0u64;
    let mut ops = Vec::with_capacity(200);
    let flush = |db: &mut Database, ops: &mut Vec<WriteOp>| {
        for r in db.batch_write(std::mem::take(ops)).expect("batch") {
            r.expect("write");
        }
    };
    for k in keys {
        // Incompressible-ish values: hex digits of a mixed counter.
        let mut v = format!("{tag}-{k}-");
        let mut x = (k as u64) ^ (tag.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        while v.len() < len {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            v.push_str(&format!("{:016x}", z ^ (z >> 31)));
        }
        v.truncate(len.max(v.find('-').unwrap_or(0) + 1));
        bytes += 8 + v.len() as u64;
        ops.push(WriteOp::Put {
            table: "t".into(),
            primary_key: PrimaryKey::new([("k", k)]),
            columns: vec![Column::new("v", v)],
            condition: Condition::ignore(),
        });
        if ops.len() == 200 {
            flush(db, &mut ops);
        }
    }
    if !ops.is_empty() {
        flush(db, &mut ops);
    }
    bytes
}

fn main() {
    let a = args();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut old = open(tmp.path(), "a");
    let mut new = open(tmp.path(), "b");
    let t = Instant::now();
    write(&mut new, 0..a.rows, "base", a.value_bytes);
    old.sync_with(&mut new, SyncConfig::default())
        .expect("initial copy");
    println!(
        "failback-bench: {} rows of ~{} B loaded and copied in {:.1?}",
        a.rows,
        a.value_bytes,
        t.elapsed()
    );
    // Divergence: disjoint key sets, half on each side, spread over the table.
    let n_div = ((a.rows as f64) * a.divergence).round() as i64;
    let stride = (a.rows / n_div.max(1)).max(1);
    let keys: Vec<i64> = (0..n_div).map(|i| (i * stride) % a.rows).collect();
    let (lost, since) = keys.split_at(keys.len() / 2);
    let mut divergent = write(&mut old, lost.iter().copied(), "lost", a.value_bytes);
    divergent += write(&mut new, since.iter().copied(), "new", a.value_bytes);
    let server = serve(
        Arc::new(RwLock::new(new)),
        ServerConfig {
            token: TOKEN.into(),
            ..ServerConfig::default()
        },
    )
    .expect("serve b");
    let remote = HttpRemote::new(&server.url(), TOKEN).expect("remote");
    let t = Instant::now();
    let (mut rounds, mut wire, mut verified) = (0, 0u64, false);
    while !verified && rounds < 10 {
        rounds += 1;
        let r = sync_url(&mut old, &remote, SyncConfig::default()).expect("resync");
        wire += r.bytes_sent + r.bytes_received;
        verified = r.verified;
        println!(
            "  round {rounds}: mode {} (reconcile fallback: {}), {} records pushed, {} pulled, {} B on the wire, verified {}",
            r.mode, r.fell_back_to_reconcile, r.records_pushed, r.records_pulled,
            r.bytes_sent + r.bytes_received, r.verified
        );
    }
    let took = t.elapsed();
    assert!(verified, "digests still differ after {rounds} rounds");
    println!(
        "failback of {} rows with {:.2}% divergence ({n_div} rows, {divergent} B): {took:.2?} in {rounds} rounds, target 10 s, ratio {:.2}",
        a.rows,
        a.divergence * 100.0,
        took.as_secs_f64() / 10.0
    );
    println!(
        "bytes on the wire {wire} = {:.2}x the divergent bytes, target 3x, ratio {:.2}",
        wire as f64 / divergent as f64,
        wire as f64 / divergent as f64 / 3.0
    );
    server.stop();
}
