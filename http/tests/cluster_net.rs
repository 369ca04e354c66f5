//! The cluster over real HTTP: three regions ("datacenters") on loopback,
//! each a `serve` with a cluster directory, and the `Cluster` client.

use std::path::Path;
use std::time::{Duration, Instant};
use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, RangePartition, TablePlacement};
use tablesync::cluster::txn::{CoordRecord, Outcome, PartRecord, TxnId};
use tablesync::cluster::wire::{encode_txn_record, ClusterMsg, RowWrite, TxnRecord};
use tablesync::cluster::{Consistency, ReadLevel, WriteMode};
use tablesync::codec::key::encode_key_values;
use tablesync::*;
use tablesync_http::cluster::{Cluster, ClusterConfig, ClusterOptions, Peers, WriteOptions};
use tablesync_http::{serve, ClientOptions, ServerConfig, ServerHandle};

const TOKEN: &str = "cluster-secret";
const DCS: [&str; 3] = ["eu", "us", "ap"];

fn open_db(dir: &Path, name: &str) -> Database {
    let mut db = Database::open(dir.join("db"), DatabaseOptions::new(name)).unwrap();
    for t in ["users", "events"] {
        if db.describe_table(t).is_err() {
            db.create_table(TableSchema::new(
                t,
                vec![PkColumn::new("k", PkType::Integer)],
            ))
            .unwrap();
        }
    }
    db
}

fn start(dir: &Path, name: &str, listen: &str) -> ServerHandle {
    let mut cc = ClusterConfig::new(dir.join("cluster"), name);
    cc.tick = Duration::from_millis(50);
    serve(
        open_db(dir, name),
        ServerConfig {
            token: TOKEN.into(),
            listen: listen.into(),
            cluster: Some(cc),
            ..Default::default()
        },
    )
    .unwrap()
}

fn ikey(i: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(i)])
}

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(i))])
}

/// The map: `users` hash-placed (rf 2, semi-sync 300 ms), `events`
/// range-placed at 1000 (rf 3, sync QUORUM).
fn cluster_map(urls: &[String]) -> ClusterMap {
    let dcs = DCS
        .iter()
        .zip(urls)
        .map(|(d, u)| Datacenter::new(*d, [(format!("{d}-1"), u.clone())]))
        .collect();
    ClusterMap::new(dcs)
        .unwrap()
        .add_table(TablePlacement {
            table: "users".into(),
            replication_factor: 2,
            write_mode: WriteMode::SemiSync { timeout_ms: 300 },
            placement: Placement::Hash { buckets: 64 },
        })
        .unwrap()
        .add_table(TablePlacement {
            table: "events".into(),
            replication_factor: 3,
            write_mode: WriteMode::Sync(Consistency::Quorum),
            placement: Placement::Range {
                partitions: vec![
                    RangePartition {
                        id: 0,
                        start: vec![],
                        datacenters: vec!["eu".into(), "us".into(), "ap".into()],
                    },
                    RangePartition {
                        id: 1,
                        start: ikey(1000),
                        datacenters: vec!["us".into(), "ap".into(), "eu".into()],
                    },
                ],
            },
        })
        .unwrap()
}

fn opts(dc: &str) -> ClusterOptions {
    ClusterOptions {
        local_dc: dc.into(),
        seed: 42,
        ..Default::default()
    }
}

fn col(v: i64) -> Vec<Column> {
    vec![Column::new("v", Value::Integer(v))]
}

fn value(row: &Option<Row>) -> Option<i64> {
    row.as_ref()
        .and_then(|r| r.get("v").cloned())
        .and_then(|v| match v {
            Value::Integer(i) => Some(i),
            _ => None,
        })
}

fn peers() -> Peers {
    Peers::new(TOKEN.into(), ClientOptions::default())
}

fn status(url: &str) -> serde_json::Value {
    peers().get_json(url, "/v1/cluster/status").unwrap()
}

fn queued(url: &str) -> u64 {
    status(url)["forward"]
        .as_object()
        .map(|o| o.values().map(|v| v["queued"].as_u64().unwrap()).sum())
        .unwrap_or(0)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(15), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn three_datacenters_route_replicate_commit_and_survive_one_down() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut servers: Vec<Option<ServerHandle>> = DCS
        .iter()
        .zip(&dirs)
        .map(|(d, dir)| Some(start(dir.path(), &format!("{d}-1"), "127.0.0.1:0")))
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.as_ref().unwrap().url()).collect();
    let map = cluster_map(&urls);

    // A client with the map pushes it; a second one connects by URL.
    let admin = Cluster::with_map(map.clone(), TOKEN, opts("eu")).unwrap();
    assert!(admin.push_map(&map).is_empty());
    let c = Cluster::connect(&urls[1], TOKEN, opts("us")).unwrap();
    assert_eq!(c.map().epoch, map.epoch);

    // Writes in every mode; reads at every level see them.
    let modes = [
        None,
        Some(WriteMode::Async),
        Some(WriteMode::Sync(Consistency::One)),
        Some(WriteMode::Sync(Consistency::All)),
        Some(WriteMode::Sync(Consistency::EachQuorum)),
        Some(WriteMode::Sync(Consistency::Datacenters(2))),
    ];
    for i in 0..60i64 {
        let mode = modes[i as usize % modes.len()];
        let w = WriteOptions {
            mode,
            ..Default::default()
        };
        let r = c.put("users", pk(i), col(i * 10), w).unwrap();
        assert!(!r.degraded);
        c.put("events", pk(i * 40), col(i), w).unwrap();
    }
    for i in 0..60i64 {
        assert_eq!(
            value(&c.get("users", &pk(i), ReadLevel::Leader).unwrap()),
            Some(i * 10)
        );
        assert_eq!(
            value(&c.get("events", &pk(i * 40), ReadLevel::Quorum).unwrap()),
            Some(i)
        );
        assert_eq!(
            value(&c.get("events", &pk(i * 40), ReadLevel::One).unwrap()),
            Some(i)
        );
    }
    // A conditional write is checked at the home.
    let e = c
        .put(
            "users",
            pk(1),
            col(0),
            WriteOptions {
                condition: RowExistence::ExpectNotExist,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "OTSConditionCheckFail", "{e}");

    // Ranges merge partitions in key order, with paging.
    let mut all = Vec::new();
    let mut next: Option<Vec<u8>> = Some(Vec::new());
    while let Some(start) = next {
        let (rows, n) = c.range_encoded("events", &start, &[], 7).unwrap();
        assert!(rows.len() <= 7);
        all.extend(rows);
        next = n;
    }
    let keys: Vec<i64> = all
        .iter()
        .map(|r| match r.primary_key.0[0].1 {
            PkValue::Integer(i) => i,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(keys, (0..60).map(|i| i * 40).collect::<Vec<_>>());
    let (rows, _) = c.range("users", &[], &[], 1000).unwrap();
    assert_eq!(rows.len(), 60, "hash-placed range: every row once");
    let (rows, _) = c
        .range(
            "events",
            &[PkValue::Integer(900)],
            &[PkValue::Integer(1100)],
            100,
        )
        .unwrap();
    assert_eq!(rows.len(), 5, "a range across the split: 920..1080");

    // Batches: one partition → one round; two partitions → 2PC.
    let one = c
        .batch(vec![
            Cluster::put_op("events", pk(5000), col(1), RowExistence::Ignore),
            Cluster::put_op("events", pk(5001), col(2), RowExistence::Ignore),
        ])
        .unwrap();
    assert!(one.committed, "{one:?}");
    assert_eq!(one.participants, 1);
    let two = c
        .batch(vec![
            Cluster::put_op("events", pk(10), col(7), RowExistence::ExpectNotExist),
            Cluster::put_op("events", pk(2000), col(8), RowExistence::Ignore),
        ])
        .unwrap();
    assert!(two.committed, "{two:?}");
    assert_eq!(two.participants, 2);
    // A committed transaction met the table's write mode (sync QUORUM)
    // before it was acknowledged: a majority of replicas hold both rows now,
    // not after forwarding.
    for (key, v) in [(10, 7), (2000, 8)] {
        let holding = urls
            .iter()
            .filter(|u| {
                let rows = peers()
                    .call(
                        u,
                        &[ClusterMsg::Get {
                            epoch: map.epoch,
                            table: "events".into(),
                            key: ikey(key),
                        }],
                    )
                    .unwrap();
                match rows.last() {
                    Some(ClusterMsg::Rows { rows, .. }) => {
                        rows.first().and_then(|r| {
                            r.columns.iter().find_map(|c| match c {
                                ColumnOp::Put {
                                    name,
                                    value: Value::Integer(i),
                                    ..
                                } if name == "v" => Some(*i),
                                _ => None,
                            })
                        }) == Some(v)
                    }
                    other => panic!("{other:?}"),
                }
            })
            .count();
        assert!(holding >= 2, "key {key}: {holding} of 3 replicas hold it");
    }
    // A failed condition on one partition aborts the other's write too.
    let bad = c
        .batch(vec![
            Cluster::put_op("events", pk(11), col(9), RowExistence::Ignore),
            Cluster::put_op("events", pk(2000), col(9), RowExistence::ExpectNotExist),
        ])
        .unwrap();
    assert!(!bad.committed);
    assert_eq!(bad.participants, 2);
    for level in [ReadLevel::Leader, ReadLevel::Quorum] {
        assert_eq!(value(&c.get("events", &pk(10), level).unwrap()), Some(7));
        assert_eq!(value(&c.get("events", &pk(2000), level).unwrap()), Some(8));
        assert_eq!(value(&c.get("events", &pk(11), level).unwrap()), None);
    }
    // A retry of a decided transaction is answered from the record, not re-run
    // (its EXPECT_NOT_EXIST would fail now).
    let txn = TxnId(0xabc);
    let begin = ClusterMsg::Begin {
        txn,
        epoch: map.epoch,
        parts: vec![
            (
                "eu-1".into(),
                vec![Cluster::put_op(
                    "events",
                    pk(12),
                    col(1),
                    RowExistence::ExpectNotExist,
                )],
            ),
            (
                "us-1".into(),
                vec![Cluster::put_op(
                    "events",
                    pk(2012),
                    col(1),
                    RowExistence::ExpectNotExist,
                )],
            ),
        ],
    };
    for _ in 0..2 {
        let r = peers()
            .call(&urls[0], std::slice::from_ref(&begin))
            .unwrap();
        assert_eq!(
            r,
            vec![ClusterMsg::Outcome {
                txn,
                outcome: Outcome::Committed
            }]
        );
    }

    // Stale maps: the admin changes the map; `c` still routes with the old
    // one, is refused, refreshes and succeeds.
    let map2 = map
        .set_write_mode("users", WriteMode::Sync(Consistency::Quorum))
        .unwrap();
    assert!(admin.push_map(&map2).is_empty());
    let e = peers()
        .call(
            &urls[0],
            &[ClusterMsg::Get {
                epoch: map.epoch,
                table: "users".into(),
                key: ikey(1),
            }],
        )
        .unwrap_err();
    assert_eq!(e.code, "StaleClusterMap");
    assert!(matches!(e.error, Error::StaleClusterMap { .. }));
    // An older map is refused by a region.
    assert_eq!(
        peers()
            .call(&urls[2], &[ClusterMsg::Map(map.clone())])
            .unwrap_err()
            .code,
        "StaleClusterMap"
    );
    c.put("users", pk(100), col(1), WriteOptions::default())
        .unwrap();
    assert_eq!(c.map().epoch, map2.epoch);

    // Replicas converge: every partition's digest agrees across its replicas.
    wait_until("forwarding drains", || urls.iter().all(|u| queued(u) == 0));
    let st: Vec<serde_json::Value> = urls.iter().map(|u| status(u)).collect();
    for part in [0, 1] {
        let ds: Vec<&serde_json::Value> = st
            .iter()
            .flat_map(|s| s["digests"].as_array().unwrap())
            .filter(|d| d["table"] == "events" && d["partition"] == part)
            .collect();
        assert_eq!(ds.len(), 3, "partition {part} on three replicas");
        assert!(ds.iter().all(|d| d["digest"] == ds[0]["digest"]), "{ds:?}");
        assert!(ds[0]["rows"].as_u64().unwrap() > 0);
    }
    // The hash-placed table: one digest per bucket on each of its 2 replicas.
    let mut hashed_rows = 0;
    for bucket in 0..64u32 {
        let ds: Vec<&serde_json::Value> = st
            .iter()
            .flat_map(|s| s["digests"].as_array().unwrap())
            .filter(|d| d["table"] == "users" && d["partition"] == bucket)
            .collect();
        assert_eq!(ds.len(), 2, "bucket {bucket} on two replicas");
        assert!(ds.iter().all(|d| d["digest"] == ds[0]["digest"]), "{ds:?}");
        hashed_rows += ds[0]["rows"].as_u64().unwrap();
    }
    assert!(hashed_rows > 0);
    for s in &st {
        assert_eq!(s["txn"]["in_doubt"], 0);
        assert_eq!(s["epoch"], map2.epoch);
    }

    // One datacenter down: reads keep being served (ONE falls back), a
    // semi-sync write whose replica is down degrades after T and is acked.
    let ap = servers[2].take().unwrap();
    ap.stop();
    let m3 = map2
        .set_write_mode("users", WriteMode::SemiSync { timeout_ms: 200 })
        .unwrap();
    let failed = admin.push_map(&m3);
    assert_eq!(failed, vec!["ap-1".to_string()]);
    for i in 0..60i64 {
        // Key 2000 was overwritten by the two-partition batch.
        let want = Some(if i * 40 == 2000 { 8 } else { i });
        assert_eq!(
            value(&c.get("events", &pk(i * 40), ReadLevel::One).unwrap()),
            want,
            "key {}",
            i * 40
        );
        assert_eq!(
            value(&c.get("events", &pk(i * 40), ReadLevel::Quorum).unwrap()),
            want
        );
    }
    // Find a users key whose home is alive and whose other replica is ap.
    let m = c.map();
    let k = (1000..5000i64)
        .find(|k| {
            let r = m.route_key("users", &ikey(*k)).unwrap();
            r.home().datacenter != "ap" && r.replicas[1].datacenter == "ap"
        })
        .unwrap();
    let t0 = Instant::now();
    let r = c
        .put("users", pk(k), col(5), WriteOptions::default())
        .unwrap();
    assert!(r.degraded, "semi-sync with its replica down degrades");
    assert!(t0.elapsed() >= Duration::from_millis(190));
    assert!(c.is_degraded("users"));
    // Degraded: later writes do not wait for T.
    let t1 = Instant::now();
    c.put("users", pk(k), col(6), WriteOptions::default())
        .unwrap();
    assert!(
        t1.elapsed() < Duration::from_millis(190),
        "{:?}",
        t1.elapsed()
    );
    for s in servers.into_iter().flatten() {
        s.stop();
    }
}

fn write_log(dir: &Path, recs: &[TxnRecord]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut bytes = Vec::new();
    for r in recs {
        bytes.extend(encode_txn_record(r));
    }
    // A torn last record (a crash mid-append) is dropped on open.
    bytes.extend(&encode_txn_record(&recs[0])[..9]);
    std::fs::write(dir.join("txn.log"), bytes).unwrap();
}

#[test]
fn in_doubt_participants_ask_the_coordinator_after_a_restart() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    // Reserve ports, then lay out the durable state a crash left behind:
    // eu-1 decided txn 1 = commit and knows nothing of txn 2; us-1 is
    // prepared for both, with eu-1 as coordinator.
    let ports: Vec<String> = (0..2)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        })
        .collect();
    let urls: Vec<String> = ports.iter().map(|p| format!("http://{p}")).collect();
    let mut full = cluster_map(&[urls[0].clone(), urls[1].clone(), urls[1].clone()]);
    full.datacenters.truncate(2);
    full.tables.clear();
    let map = full
        .add_table(TablePlacement {
            table: "events".into(),
            replication_factor: 1,
            write_mode: WriteMode::Async,
            placement: Placement::Range {
                partitions: vec![RangePartition {
                    id: 0,
                    start: vec![],
                    datacenters: vec!["us".into()],
                }],
            },
        })
        .unwrap();
    let w = |k: i64| -> RowWrite { Cluster::put_op("events", pk(k), col(k), RowExistence::Ignore) };
    write_log(
        &dirs[0].path().join("cluster"),
        &[TxnRecord::Coord(CoordRecord::Decided {
            txn: TxnId(1),
            commit: true,
            participants: vec!["us-1".into()],
            reason: String::new(),
        })],
    );
    write_log(
        &dirs[1].path().join("cluster"),
        &[
            TxnRecord::Part(PartRecord::Prepared {
                txn: TxnId(1),
                coordinator: "eu-1".into(),
                ops: vec![w(1)],
            }),
            TxnRecord::Part(PartRecord::Prepared {
                txn: TxnId(2),
                coordinator: "eu-1".into(),
                ops: vec![w(2)],
            }),
        ],
    );
    for (d, dir) in dirs.iter().enumerate() {
        std::fs::write(dir.path().join("cluster").join("map.tscm"), map.to_bytes()).unwrap();
        let _ = d;
    }
    let s: Vec<ServerHandle> = (0..2)
        .map(|i| start(dirs[i].path(), ["eu-1", "us-1"][i], &ports[i]))
        .collect();
    // Locked while in doubt; then resolved: txn 1 commits, txn 2 is
    // presumed aborted; the coordinator finishes txn 1.
    wait_until("both in-doubt transactions resolve", || {
        status(&urls[1])["txn"]["in_doubt"] == 0
    });
    wait_until("the coordinator hears every ack", || {
        status(&urls[0])["txn"]["unacknowledged"] == 0
    });
    let c = Cluster::connect(&urls[1], TOKEN, opts("us")).unwrap();
    assert_eq!(
        value(&c.get("events", &pk(1), ReadLevel::Leader).unwrap()),
        Some(1)
    );
    assert_eq!(c.get("events", &pk(2), ReadLevel::Leader).unwrap(), None);
    // Records survive restarts: the participant restarted again stays decided.
    let mut s = s;
    let us = s.pop().unwrap();
    us.stop();
    let us = start(dirs[1].path(), "us-1", &ports[1]);
    assert_eq!(status(&urls[1])["txn"]["in_doubt"], 0);
    assert_eq!(
        value(&c.get("events", &pk(1), ReadLevel::Leader).unwrap()),
        Some(1)
    );
    us.stop();
    for x in s {
        x.stop();
    }
}
