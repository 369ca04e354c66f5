//! `cluster-bench`: three local datacenters (in-process regions on
//! loopback) with injected one-way latency between them (a delay layer in
//! the client driver and in the regions' peer calls; no netem), measured
//! next to a single region in the same run.
//!
//! Tiny by default (a smoke run); `--full` for the sizes:
//! `cargo run --release -p tablesync-bench --bin cluster-bench -- --full`.
//! Figures need a quiet machine.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, RangePartition, TablePlacement};
use tablesync::cluster::{Consistency, ReadLevel, WriteMode};
use tablesync::codec::key::encode_key_values;
use tablesync::*;
use tablesync_http::cluster::{Cluster, ClusterConfig, ClusterOptions, DelayFn, WriteOptions};
use tablesync_http::{serve, ClientOptions, RowClient, ServerConfig, ServerHandle};

const TOKEN: &str = "bench";
const DCS: [&str; 3] = ["eu", "us", "ap"];

fn region(name: &str, dir: &std::path::Path, delay: Option<DelayFn>) -> ServerHandle {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    let cluster = delay.map(|d| {
        let mut c = ClusterConfig::new(dir.join(name), name);
        c.peer_delay = Some(d);
        c
    });
    serve(
        db,
        ServerConfig {
            token: TOKEN.into(),
            cluster,
            max_in_flight: 256,
            ..Default::default()
        },
    )
    .unwrap()
}

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(i))])
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn line(name: &str, mut ms: Vec<f64>, reference_p50: Option<f64>) -> f64 {
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let p50 = pct(&mut ms, 0.5);
    let p99 = pct(&mut ms, 0.99);
    let ratio = reference_p50
        .map(|r| format!("{:8.1}x", p50 / r))
        .unwrap_or_else(|| "  (ref)".into());
    println!(
        "{name:<34} p50 {p50:8.2} ms  p99 {p99:8.2} ms  {:8.0} ops/s (1 client)  {ratio}",
        1000.0 / mean
    );
    p50
}

fn main() {
    let full = std::env::args().any(|a| a == "--full");
    let n: i64 = if full { 1000 } else { 20 };
    let one_way = Duration::from_millis(20);
    let slow_extra = Arc::new(AtomicI64::new(0));
    let dirs = tempfile::tempdir().unwrap();

    // Endpoint → datacenter, filled once the ports are known.
    let names: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
    // From datacenter `from` to the endpoint: 0 inside one, else 20 ms (+
    // the extra of a slowed `ap`).
    let delay_from = |from: &'static str| -> DelayFn {
        let names = names.clone();
        let slow = slow_extra.clone();
        Arc::new(move |ep: &str| {
            let dc = names
                .lock()
                .unwrap()
                .iter()
                .find(|(e, _)| e == ep)
                .map(|(_, d)| d.clone())
                .unwrap_or_default();
            let mut d = if dc == from { Duration::ZERO } else { one_way };
            if dc == "ap" {
                d += Duration::from_millis(slow.load(Ordering::Relaxed) as u64);
            }
            d
        })
    };
    let servers: Vec<ServerHandle> = DCS
        .iter()
        .map(|d| region(&format!("{d}-1"), dirs.path(), Some(delay_from(d))))
        .collect();
    let single = region("single", dirs.path(), None);
    let urls: Vec<String> = servers.iter().map(|s| s.url()).collect();
    *names.lock().unwrap() = urls
        .iter()
        .zip(DCS)
        .map(|(u, d)| (u.clone(), d.to_string()))
        .collect();
    let split = encode_key_values([&PkValue::Integer(1_000_000_000)]);
    let map = ClusterMap::new(
        DCS.iter()
            .zip(&urls)
            .map(|(d, u)| Datacenter::new(*d, [(format!("{d}-1"), u.clone())]))
            .collect(),
    )
    .unwrap()
    .add_table(TablePlacement {
        table: "t".into(),
        replication_factor: 3,
        write_mode: WriteMode::Async,
        placement: Placement::Range {
            partitions: vec![
                RangePartition {
                    id: 0,
                    start: vec![],
                    datacenters: vec!["eu".into(), "us".into(), "ap".into()],
                },
                RangePartition {
                    id: 1,
                    start: split,
                    datacenters: vec!["us".into(), "ap".into(), "eu".into()],
                },
            ],
        },
    })
    .unwrap();
    let client = |dc: &'static str| {
        Cluster::with_map(
            map.clone(),
            TOKEN,
            ClusterOptions {
                local_dc: dc.into(),
                seed: 7,
                delay: Some(delay_from(dc)),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let c = client("eu");
    assert!(c.push_map(&map).is_empty());
    println!(
        "cluster-bench: 3 datacenters on loopback, {} ms one-way between them, {n} ops per line{}",
        one_way.as_millis(),
        if full { "" } else { " (tiny: pass --full)" }
    );

    // Writes: the reference is one region over the same HTTP stack.
    let rc = RowClient::new(&single.url(), TOKEN, &ClientOptions::default()).unwrap();
    let mut ms = Vec::new();
    for i in 0..n {
        let t0 = Instant::now();
        rc.put_row(
            "t",
            serde_json::json!({"k": i}),
            serde_json::json!({"v": i}),
            "IGNORE",
        )
        .unwrap();
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let reference = line("write: single region (reference)", ms, None);
    let mut k = 0i64;
    for (name, mode) in [
        ("write: async", WriteMode::Async),
        (
            "write: semi-sync(500 ms)",
            WriteMode::SemiSync { timeout_ms: 500 },
        ),
        ("write: sync(QUORUM)", WriteMode::Sync(Consistency::Quorum)),
    ] {
        let mut ms = Vec::new();
        for _ in 0..n {
            k += 1;
            let t0 = Instant::now();
            c.put(
                "t",
                pk(k),
                vec![Column::new("v", Value::Integer(k))],
                WriteOptions {
                    mode: Some(mode),
                    ..Default::default()
                },
            )
            .unwrap();
            ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        line(name, ms, Some(reference));
    }

    // Batches: one partition (one round) vs two partitions (2PC).
    let mut base = None;
    for (name, far) in [
        ("batch: 1 partition, 1 round", 0i64),
        ("batch: 2 partitions, 2PC", 1_000_000_000),
    ] {
        let mut ms = Vec::new();
        for _ in 0..n {
            k += 2;
            let t0 = Instant::now();
            let o = c
                .batch(vec![
                    Cluster::put_op(
                        "t",
                        pk(k),
                        vec![Column::new("v", Value::Integer(1))],
                        RowExistence::Ignore,
                    ),
                    Cluster::put_op(
                        "t",
                        pk(k + 1 + far),
                        vec![Column::new("v", Value::Integer(1))],
                        RowExistence::Ignore,
                    ),
                ])
                .unwrap();
            assert!(o.committed);
            ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        let p = line(name, ms, base);
        base.get_or_insert(p);
    }

    // Reads at ONE from a client with no local replica: baseline, then ap
    // slowed by +50 ms for a fixed time. Reported: how many reads the slow
    // datacenter still served, when the last read slower than 1.1 × the
    // baseline p99 finished, and the p99 of the reads from 2 s on against
    // the baseline (the "p99 back within 10 % within 2 s"). Probes
    // of the slowed datacenter go beside the reads (hedged), not in them.
    let r = client("none");
    let reads = if full { 2000 } else { 200 };
    let slowed_for = Duration::from_secs(if full { 20 } else { 5 });
    let mut base_ms = Vec::new();
    for i in 0..reads / 2 {
        let t0 = Instant::now();
        r.get("t", &pk(1 + i % k), ReadLevel::One).unwrap();
        base_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let base_p99 = pct(&mut base_ms.clone(), 0.99);
    let ap_before = r.requests_per_datacenter().get("ap").copied().unwrap_or(0);
    slow_extra.store(50, Ordering::Relaxed);
    let slowed_at = Instant::now();
    // (finished at, ms since the slowdown; latency ms)
    let mut after: Vec<(f64, f64)> = Vec::new();
    // Whether ap got a request (the read or its probe) during each read.
    let mut touched_ap: Vec<bool> = Vec::new();
    let mut i = 0;
    while slowed_at.elapsed() < slowed_for {
        let ap = || r.requests_per_datacenter().get("ap").copied().unwrap_or(0);
        let ap0 = ap();
        let t0 = Instant::now();
        r.get("t", &pk(1 + i % k), ReadLevel::One).unwrap();
        i += 1;
        let v = t0.elapsed().as_secs_f64() * 1000.0;
        after.push((slowed_at.elapsed().as_secs_f64() * 1000.0, v));
        touched_ap.push(ap() > ap0);
    }
    line("read ONE: baseline", base_ms, None);
    let worst = after.iter().map(|x| x.1).fold(0.0, f64::max);
    let slow_reads = after.iter().filter(|x| x.1 > base_p99 * 1.1).count();
    let slow_with_ap = after
        .iter()
        .zip(&touched_ap)
        .filter(|(x, t)| x.1 > base_p99 * 1.1 && **t)
        .count();
    let last_slow = after
        .iter()
        .filter(|x| x.1 > base_p99 * 1.1)
        .map(|x| x.0)
        .fold(0.0, f64::max);
    let mut late: Vec<f64> = after
        .iter()
        .filter(|x| x.0 >= 2000.0)
        .map(|x| x.1)
        .collect();
    let late_p99 = if late.is_empty() {
        f64::NAN
    } else {
        pct(&mut late, 0.99)
    };
    println!(
        "read ONE: ap slowed +50 ms for {} s: {} reads, {slow_reads} slower than 1.1 x baseline p99 ({base_p99:.2} ms) ({slow_with_ap} with a request to ap, read or probe), the last at {last_slow:.0} ms; worst {worst:.1} ms",
        slowed_for.as_secs(),
        after.len()
    );
    println!(
        "read ONE: p99 of the {} reads from 2 s on: {late_p99:.2} ms = {:.2} x baseline p99 -> {}",
        late.len(),
        late_p99 / base_p99,
        if late_p99 <= base_p99 * 1.1 {
            "back within 10 % within 2 s"
        } else {
            "NOT back within 10 % within 2 s"
        }
    );
    println!(
        "read ONE: reads (and probes) sent to ap while slowed: {}",
        r.requests_per_datacenter().get("ap").copied().unwrap_or(0) - ap_before
    );
    println!(
        "requests per datacenter (reads): {:?}",
        r.requests_per_datacenter()
    );
    for s in servers {
        s.stop();
    }
    single.stop();
}
