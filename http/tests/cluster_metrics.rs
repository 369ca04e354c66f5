//! Per-datacenter cluster metrics: `/metrics` of a `serve` region with a
//! cluster directory carries the map epoch, forwarding per replica region
//! and per datacenter, requests per kind and the 2PC state (parsed with
//! `prometheus-parse`), and `/v1/cluster/status` names each forward
//! target's datacenter and the requests handled.

mod common;

use common::get;
use std::path::Path;
use std::time::{Duration, Instant};
use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, RangePartition, TablePlacement};
use tablesync::cluster::{ReadLevel, WriteMode};
use tablesync::*;
use tablesync_http::cluster::{Cluster, ClusterConfig, ClusterOptions, Peers, WriteOptions};
use tablesync_http::{serve, ClientOptions, ServerConfig, ServerHandle};

const TOKEN: &str = "cluster-metrics";
const DCS: [&str; 3] = ["eu", "us", "ap"];

fn start(dir: &Path, name: &str) -> ServerHandle {
    let mut db = Database::open(dir.join("db"), DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "events",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    let mut cc = ClusterConfig::new(dir.join("cluster"), name);
    cc.tick = Duration::from_millis(20);
    serve(
        db,
        ServerConfig {
            token: TOKEN.into(),
            listen: "127.0.0.1:0".into(),
            cluster: Some(cc),
            ..Default::default()
        },
    )
    .unwrap()
}

fn scrape(s: &ServerHandle) -> Vec<prometheus_parse::Sample> {
    let text = get(s.addr(), "/metrics", Some(TOKEN));
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .unwrap()
        .samples
}

fn value(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

#[test]
fn metrics_count_forwarding_per_datacenter_and_requests_per_kind() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<ServerHandle> = DCS
        .iter()
        .zip(&dirs)
        .map(|(d, dir)| start(dir.path(), &format!("{d}-1")))
        .collect();
    let map = ClusterMap::new(
        DCS.iter()
            .zip(&servers)
            .map(|(d, s)| Datacenter::new(*d, [(format!("{d}-1"), s.url())]))
            .collect(),
    )
    .unwrap()
    .add_table(TablePlacement {
        table: "events".into(),
        replication_factor: 3,
        write_mode: WriteMode::Async,
        placement: Placement::Range {
            partitions: vec![RangePartition {
                id: 0,
                start: vec![],
                datacenters: vec!["eu".into(), "us".into(), "ap".into()],
            }],
        },
    })
    .unwrap();
    let c = Cluster::with_map(
        map.clone(),
        TOKEN,
        ClusterOptions {
            local_dc: "eu".into(),
            seed: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.push_map(&map).is_empty());
    // Before any write: the epoch, no forwarding yet.
    let before = scrape(&servers[0]);
    assert_eq!(
        value(&before, "tablesync_cluster_map_epoch", &[]),
        map.epoch as f64
    );
    let n = 25;
    for i in 0..n {
        c.put(
            "events",
            PrimaryKey::new([("k", PkValue::Integer(i))]),
            vec![Column::new("v", Value::Integer(i))],
            WriteOptions::default(),
        )
        .unwrap();
    }
    for i in 0..5 {
        c.get(
            "events",
            &PrimaryKey::new([("k", PkValue::Integer(i))]),
            ReadLevel::Leader,
        )
        .unwrap();
    }
    // Async writes reach the replicas through the home's forwarding queues.
    let t0 = Instant::now();
    let home = loop {
        let m = scrape(&servers[0]);
        let sent = |r: &str, d: &str| {
            value(
                &m,
                "tablesync_cluster_forward_sent_total",
                &[("region", r), ("datacenter", d)],
            )
        };
        if sent("us-1", "us") == n as f64 && sent("ap-1", "ap") == n as f64 {
            break m;
        }
        assert!(t0.elapsed() < Duration::from_secs(15), "forwarding stalled");
        std::thread::sleep(Duration::from_millis(30));
    };
    for dc in ["us", "ap"] {
        assert_eq!(
            value(
                &home,
                "tablesync_cluster_forward_sent_datacenter_total",
                &[("datacenter", dc)]
            ),
            n as f64
        );
        assert_eq!(
            value(
                &home,
                "tablesync_cluster_forward_queued_datacenter",
                &[("datacenter", dc)]
            ),
            0.0
        );
    }
    assert_eq!(
        value(
            &home,
            "tablesync_cluster_requests_total",
            &[("kind", "write")]
        ),
        n as f64
    );
    assert!(
        value(
            &home,
            "tablesync_cluster_requests_total",
            &[("kind", "get")]
        ) >= 5.0
    );
    assert_eq!(value(&home, "tablesync_cluster_txn_in_doubt", &[]), 0.0);
    // A replica counts the forwarded batches it applied, and forwards nothing.
    let replica = scrape(&servers[1]);
    assert!(
        value(
            &replica,
            "tablesync_cluster_requests_total",
            &[("kind", "apply")]
        ) >= 1.0
    );
    assert!(!replica
        .iter()
        .any(|s| s.metric == "tablesync_cluster_forward_sent_total"));
    // The status document names each forward target's datacenter.
    let st = Peers::new(TOKEN.into(), ClientOptions::default())
        .get_json(&servers[0].url(), "/v1/cluster/status")
        .unwrap();
    assert_eq!(st["forward"]["us-1"]["datacenter"], "us");
    assert_eq!(st["forward"]["ap-1"]["sent"], n);
    assert_eq!(st["requests"]["write"], n);
    for s in servers {
        s.stop();
    }
}
