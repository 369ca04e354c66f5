//! `cluster_map.json`: cluster-map frames (FORMAT.md §16), the placement
//! hash, routes of sample keys, rejected frames and epoch checks.

use super::json::{hex, pk_json};
use serde_json::{json, Value as J};
use tablesync::cluster::hash::hash_bytes;
use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, RangePartition, TablePlacement};
use tablesync::cluster::map_codec::{map_payload, MAGIC_CLUSTER_MAP};
use tablesync::cluster::{Consistency, WriteMode};
use tablesync::codec::frame::encode_frame;
use tablesync::codec::key::encode_key_values;
use tablesync::{PkValue, PrimaryKey};

/// A map as JSON (what a replayer compares a decoded map with).
pub fn map_json(m: &ClusterMap) -> J {
    let dcs: Vec<J> = m
        .datacenters
        .iter()
        .map(|d| {
            let regions: Vec<J> = d
                .regions
                .iter()
                .map(|r| json!([r.name, r.endpoint]))
                .collect();
            json!({"name": d.name, "regions": regions})
        })
        .collect();
    let tables: Vec<J> = m
        .tables
        .iter()
        .map(|t| {
            let placement = match &t.placement {
                Placement::Hash { buckets } => json!({"kind": "hash", "buckets": buckets}),
                Placement::Range { partitions } => {
                    let ps: Vec<J> = partitions
                        .iter()
                        .map(|p| json!({"id": p.id, "start_hex": hex(&p.start), "datacenters": p.datacenters}))
                        .collect();
                    json!({"kind": "range", "partitions": ps})
                }
            };
            json!({
                "table": t.table,
                "replication_factor": t.replication_factor,
                "write_mode": t.write_mode.name(),
                "placement": placement,
            })
        })
        .collect();
    json!({"epoch": m.epoch.to_string(), "datacenters": dcs, "tables": tables})
}

fn ikey(i: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(i)])
}

/// The sample maps: a bare cluster, then tables in every write mode.
pub fn sample_maps() -> Vec<ClusterMap> {
    let m1 = ClusterMap::new(vec![
        Datacenter::new("eu", [("eu-1", "http://10.1.0.1:7700")]),
        Datacenter::new(
            "us",
            [
                ("us-1", "http://10.2.0.1:7700"),
                ("us-2", "http://10.2.0.2:7700"),
            ],
        ),
        Datacenter::new("ap", [("ap-1", "https://ap.example:7700")]),
    ])
    .expect("map");
    let m2 = m1
        .add_table(TablePlacement {
            table: "users".into(),
            replication_factor: 2,
            write_mode: WriteMode::SemiSync { timeout_ms: 500 },
            placement: Placement::Hash { buckets: 16 },
        })
        .expect("users");
    let m3 = m2
        .add_table(TablePlacement {
            table: "events".into(),
            replication_factor: 3,
            write_mode: WriteMode::Sync(Consistency::Datacenters(2)),
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
        .expect("events");
    let (m4, _) = m3.split("events", 1, ikey(5000)).expect("split");
    let m5 = m4
        .add_table(TablePlacement {
            table: "ledger".into(),
            replication_factor: 3,
            write_mode: WriteMode::Sync(Consistency::Quorum),
            placement: Placement::Hash { buckets: 65536 },
        })
        .expect("ledger")
        .set_write_mode("ledger", WriteMode::Sync(Consistency::EachQuorum))
        .expect("mode");
    let m6 = m5
        .add_table(TablePlacement {
            table: "cache".into(),
            replication_factor: 1,
            write_mode: WriteMode::Async,
            placement: Placement::Hash { buckets: 1 },
        })
        .expect("cache");
    vec![m1, m6]
}

/// `cluster_map.json`.
pub fn cluster_map() -> J {
    let maps = sample_maps();
    let full = maps.last().expect("maps").clone();
    let map_cases: Vec<J> = maps
        .iter()
        .map(|m| {
            json!({
                "map": map_json(m),
                "payload_hex": hex(&map_payload(m)),
                "frame_hex": hex(&m.to_bytes()),
            })
        })
        .collect();
    let hashes: Vec<J> = [&b""[..], b"a", b"eu", &ikey(42), b"\x20user\x00\x01"]
        .iter()
        .map(|b| json!({"bytes_hex": hex(b), "hash": hash_bytes(b).to_string()}))
        .collect();
    let mut routes = Vec::new();
    for (table, keys) in [
        (
            "users",
            vec![
                PkValue::Integer(1),
                PkValue::Integer(-7),
                PkValue::String("ada".into()),
            ],
        ),
        (
            "events",
            vec![
                PkValue::Integer(999),
                PkValue::Integer(1000),
                PkValue::Integer(4999),
                PkValue::Integer(5000),
            ],
        ),
        (
            "ledger",
            vec![PkValue::Integer(0), PkValue::Binary(vec![0, 255])],
        ),
        ("cache", vec![PkValue::Integer(3)]),
    ] {
        for k in keys {
            let key = encode_key_values([&k, &PkValue::Integer(0)]);
            let r = full.route_key(table, &key).expect("route");
            let pk = PrimaryKey(vec![
                ("p".into(), k.clone()),
                ("s".into(), PkValue::Integer(0)),
            ]);
            routes.push(json!({
                "table": table,
                "primary_key": pk_json(&pk),
                "key_hex": hex(&key),
                "partition": r.partition,
                "replicas": r.replicas.iter().map(|x| json!([x.datacenter, x.region])).collect::<Vec<_>>(),
            }));
        }
    }
    // Rejected bytes: damage (CRC), a valid frame around an invalid map,
    // an unknown write mode, trailing bytes.
    let good = full.to_bytes();
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    // maps[0] ends with its table count, 0: replace it by one table "t"
    // (rf, write mode, hash placement with 4 buckets).
    let mut bad_rf = map_payload(&maps[0]);
    bad_rf.pop();
    bad_rf.extend_from_slice(&[1, 1, b't', 9, 1, 1, 4]); // rf 9 > 3 datacenters
    let mut bad_mode = map_payload(&maps[0]);
    bad_mode.pop();
    bad_mode.extend_from_slice(&[1, 1, b't', 1, 9, 1, 4]);
    let mut trailing = map_payload(&maps[0]);
    trailing.push(0);
    let frame = |p: &[u8]| encode_frame(MAGIC_CLUSTER_MAP, p, false);
    let invalid = vec![
        json!({"why": "payload byte flipped (checksum)", "frame_hex": hex(&flipped), "error": "CorruptData"}),
        json!({"why": "replication factor above the datacenter count", "frame_hex": hex(&frame(&bad_rf)), "error": "CorruptData"}),
        json!({"why": "unknown write mode 9", "frame_hex": hex(&frame(&bad_mode)), "error": "CorruptData"}),
        json!({"why": "trailing byte", "frame_hex": hex(&frame(&trailing)), "error": "CorruptData"}),
        json!({"why": "snapshot magic", "frame_hex": hex(&encode_frame(*b"TSSN", &map_payload(&maps[0]), false)), "error": "CorruptData"}),
    ];
    let epochs = vec![
        json!({"map_epoch": full.epoch.to_string(), "request_epoch": (full.epoch - 1).to_string(), "error": "StaleClusterMap"}),
        json!({"map_epoch": full.epoch.to_string(), "request_epoch": full.epoch.to_string(), "error": null, "status": "CURRENT"}),
        json!({"map_epoch": full.epoch.to_string(), "request_epoch": (full.epoch + 1).to_string(), "error": null, "status": "REGION_BEHIND"}),
    ];
    json!({
        "description": "Cluster maps (FORMAT.md §16): TSCM frames (uncompressed) of map payloads; the placement hash FNV-1a 64 + splitmix64 finalizer (decimal); routes of sample keys (partition, replicas home first as [datacenter, region]) in the last map; rejected frames; epoch checks.",
        "maps": map_cases,
        "hashes": hashes,
        "routes": routes,
        "invalid": invalid,
        "epoch_checks": epochs,
    })
}
