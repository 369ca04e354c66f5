//! The cluster map: validation, changes under epochs, bytes, stale-epoch
//! refusal, routing, and placement properties (balance over 1M keys,
//! minimal movement when a datacenter joins, ordered scans across splits).

mod cluster_support;

use cluster_support::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;
use tablesync::cluster::merge::{MergeStep, RangeMerge};
use tablesync::cluster::route::partition_key;
use tablesync::cluster::*;
use tablesync::codec::key::{decode_key_values, encode_bound, encode_key, encode_key_values};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkBound, PkColumn, PkType, PkValue,
    PrimaryKey, RangeBound, RangeOptions, TableSchema,
};

fn dcs(n: usize) -> Vec<Datacenter> {
    (0..n)
        .map(|i| {
            Datacenter::new(
                format!("dc{i}"),
                [(format!("r{i}"), format!("http://10.0.0.{i}:7700"))],
            )
        })
        .collect()
}

fn hash_table(name: &str, rf: u8, buckets: u32) -> TablePlacement {
    TablePlacement {
        table: name.into(),
        replication_factor: rf,
        write_mode: WriteMode::Sync(Consistency::Quorum),
        placement: Placement::Hash { buckets },
    }
}

fn range_table(name: &str, rf: u8, splits: &[i64]) -> TablePlacement {
    let mut partitions = vec![RangePartition {
        id: 0,
        start: vec![],
        datacenters: vec![],
    }];
    for (i, s) in splits.iter().enumerate() {
        partitions.push(RangePartition {
            id: i as u32 + 1,
            start: encode_key_values([&PkValue::Integer(*s)]),
            datacenters: vec![],
        });
    }
    TablePlacement {
        table: name.into(),
        replication_factor: rf,
        write_mode: WriteMode::SemiSync { timeout_ms: 500 },
        placement: Placement::Range { partitions },
    }
}

fn ikey(i: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(i)])
}

#[test]
fn maps_round_trip_through_bytes_and_reject_damage() {
    let m = ClusterMap::new(dcs(3))
        .unwrap()
        .add_table(hash_table("users", 2, 64))
        .unwrap()
        .add_table(range_table("events", 3, &[100, 200]))
        .unwrap();
    assert_eq!(m.epoch, 3);
    let bytes = m.to_bytes();
    assert_eq!(&bytes[..4], b"TSCM");
    assert_eq!(ClusterMap::from_bytes(&bytes).unwrap(), m);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        let e = ClusterMap::from_bytes(&bad).unwrap_err();
        assert!(
            matches!(e.code(), "CorruptData" | "UnsupportedVersion"),
            "byte {i}: {e}"
        );
    }
    for cut in 0..bytes.len() {
        assert_eq!(
            ClusterMap::from_bytes(&bytes[..cut]).unwrap_err().code(),
            "CorruptData"
        );
    }
}

#[test]
fn a_stale_epoch_is_refused_with_its_own_code() {
    let m1 = ClusterMap::new(dcs(2)).unwrap();
    let m2 = m1.add_table(hash_table("t", 1, 8)).unwrap();
    let e = m2.check_request_epoch(m1.epoch).unwrap_err();
    assert_eq!(e.code(), "StaleClusterMap");
    assert_eq!(
        e,
        tablesync::Error::StaleClusterMap {
            request_epoch: 1,
            current_epoch: 2
        }
    );
    assert!(e.message().contains("refresh"));
    assert_eq!(m2.check_request_epoch(2).unwrap(), EpochCheck::Current);
    assert_eq!(m1.check_request_epoch(2).unwrap(), EpochCheck::RegionBehind);
}

#[test]
fn invalid_maps_and_changes_are_refused() {
    assert!(ClusterMap::new(vec![]).is_err());
    let mut twice = dcs(2);
    twice[1].name = "dc0".into();
    assert!(ClusterMap::new(twice).is_err());
    let mut no_region = dcs(2);
    no_region[1].regions.clear();
    assert!(ClusterMap::new(no_region).is_err());
    let m = ClusterMap::new(dcs(3)).unwrap();
    assert!(
        m.add_table(hash_table("t", 4, 8)).is_err(),
        "rf above the datacenter count"
    );
    assert!(m.add_table(hash_table("t", 0, 8)).is_err());
    assert!(m.add_table(hash_table("t", 1, 0)).is_err());
    let m = m.add_table(range_table("r", 2, &[10, 20])).unwrap();
    assert_eq!(
        m.add_table(hash_table("r", 1, 8)).unwrap_err().code(),
        "OTSObjectAlreadyExist"
    );
    assert!(
        m.split("r", 1, ikey(5)).is_err(),
        "split point outside the partition"
    );
    assert!(m.split("r", 1, ikey(25)).is_err());
    assert!(
        m.split("r", 1, ikey(10)).is_err(),
        "a split at the partition start"
    );
    assert!(m
        .move_partition("r", 0, vec!["dc0".into(), "dc0".into()])
        .is_err());
    assert!(m
        .move_partition("r", 0, vec!["dc0".into(), "nope".into()])
        .is_err());
    assert!(
        m.move_partition("r", 0, vec!["dc0".into()]).is_err(),
        "rf is 2"
    );
    let failed_epoch = m.epoch;
    assert_eq!(m.epoch, failed_epoch, "refused changes leave the map alone");
}

#[test]
fn splits_moves_and_datacenter_changes_keep_routing_consistent() {
    let m = ClusterMap::new(dcs(3))
        .unwrap()
        .add_table(range_table("r", 2, &[100]))
        .unwrap();
    let before = m.route_key("r", &ikey(150)).unwrap();
    assert_eq!(before.partition, 1);
    let (m2, new_id) = m.split("r", 1, ikey(140)).unwrap();
    assert_eq!(m2.epoch, m.epoch + 1);
    assert_eq!(m2.partition_of("r", &ikey(139)).unwrap(), 1);
    assert_eq!(m2.partition_of("r", &ikey(140)).unwrap(), new_id);
    assert_eq!(m2.partition_of("r", &ikey(i64::MAX)).unwrap(), new_id);
    assert_eq!(m2.partition_of("r", &ikey(i64::MIN)).unwrap(), 0);
    // The new partition starts on the same datacenters.
    let after = m2.route_key("r", &ikey(150)).unwrap();
    assert_eq!(after.replicas, before.replicas);
    let m3 = m2
        .move_partition("r", new_id, vec!["dc2".into(), "dc0".into()])
        .unwrap();
    let moved = m3.route_partition("r", new_id).unwrap();
    assert_eq!(moved.home().datacenter, "dc2");
    assert_eq!(moved.by_locality("dc0")[0].datacenter, "dc0");
    // Removing a datacenter re-homes what it held onto the others.
    let m4 = m3.remove_datacenter("dc2").unwrap();
    let r = m4.route_partition("r", new_id).unwrap();
    assert_eq!(
        r.home().datacenter,
        "dc0",
        "the first remaining replica becomes home"
    );
    assert_eq!(r.replicas.len(), 2);
    assert!(r.replicas.iter().all(|x| x.datacenter != "dc2"));
    assert!(
        m4.remove_datacenter("dc0").is_err(),
        "rf 2 needs two datacenters"
    );
    // The partition key is the first primary-key column.
    let two = encode_key_values([&PkValue::Integer(150), &PkValue::String("x".into())]);
    assert_eq!(partition_key(&two).unwrap(), ikey(150).as_slice());
    assert_eq!(m3.partition_of("r", &two).unwrap(), new_id);
}

#[test]
fn hash_routes_put_one_replica_per_datacenter_home_first() {
    let mut d = dcs(3);
    d[0].regions.push(tablesync::cluster::RegionEndpoint {
        name: "r0b".into(),
        endpoint: "http://10.0.1.1:7700".into(),
    });
    let m = ClusterMap::new(d)
        .unwrap()
        .add_table(hash_table("t", 3, 256))
        .unwrap();
    let mut regions_used = std::collections::BTreeSet::new();
    for b in 0..256 {
        let r = m.route_partition("t", b).unwrap();
        assert_eq!(r.replicas.len(), 3);
        let mut names: Vec<_> = r.replicas.iter().map(|x| x.datacenter.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 3);
        assert_eq!(r.home(), &r.replicas[0]);
        regions_used.insert(
            r.replicas
                .iter()
                .find(|x| x.datacenter == "dc0")
                .unwrap()
                .region
                .clone(),
        );
    }
    assert_eq!(regions_used.len(), 2, "both regions of dc0 hold partitions");
    assert!(m.route_partition("t", 256).is_err());
}

/// Home datacenter of every bucket (the map computes it per partition).
fn homes(m: &ClusterMap, table: &str, buckets: u32) -> Vec<String> {
    (0..buckets)
        .map(|b| {
            m.route_partition(table, b)
                .unwrap()
                .home()
                .datacenter
                .clone()
        })
        .collect()
}

#[test]
fn one_million_keys_over_five_datacenters_balance_and_a_new_datacenter_moves_only_its_share() {
    let buckets = tablesync::cluster::map::DEFAULT_BUCKETS;
    let m5 = ClusterMap::new(dcs(5))
        .unwrap()
        .add_table(hash_table("t", 1, buckets))
        .unwrap();
    let m6 = m5.add_datacenter(dcs(6).pop().unwrap()).unwrap();
    let (h5, h6) = (homes(&m5, "t", buckets), homes(&m6, "t", buckets));
    let mut rng = Rng(42);
    let n = 1_000_000u64;
    let mut count: BTreeMap<&str, u64> = BTreeMap::new();
    let mut moved = 0u64;
    for _ in 0..n {
        let key = encode_key_values([&PkValue::Integer(rng.next_u64() as i64)]);
        let b = m5.partition_of("t", &key).unwrap() as usize;
        assert_eq!(m6.partition_of("t", &key).unwrap() as usize, b);
        *count.entry(h5[b].as_str()).or_default() += 1;
        if h5[b] != h6[b] {
            assert_eq!(h6[b], "dc5", "a key may only move to the new datacenter");
            moved += 1;
        }
    }
    let mean = n as f64 / 5.0;
    for (dc, c) in &count {
        let dev = (*c as f64 - mean).abs() / mean;
        assert!(
            dev <= 0.05,
            "{dc} holds {c} keys, {:.2}% off the mean",
            dev * 100.0
        );
    }
    assert_eq!(count.len(), 5);
    let share = moved as f64 / n as f64;
    assert!(
        share <= 1.0 / 6.0 + 0.02,
        "{:.2}% of keys moved",
        share * 100.0
    );
    assert!(
        share >= 1.0 / 6.0 - 0.02,
        "the new datacenter got too little: {:.2}%",
        share * 100.0
    );
}

// ---- ordered scans across partitions, through real regions ---------------

fn schema() -> TableSchema {
    TableSchema::new(
        "r",
        vec![
            PkColumn::new("a", PkType::Integer),
            PkColumn::new("b", PkType::String),
        ],
    )
}

fn bound(sc: &TableSchema, bytes: &[u8], end: bool) -> RangeBound {
    if bytes.is_empty() {
        let b = if end {
            PkBound::InfMax
        } else {
            PkBound::InfMin
        };
        return RangeBound(
            sc.primary_key
                .iter()
                .map(|c| (c.name.clone(), b.clone()))
                .collect(),
        );
    }
    let vals = decode_key_values(bytes).unwrap();
    RangeBound(
        sc.primary_key
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.name.clone(),
                    vals.get(i)
                        .cloned()
                        .map(PkBound::Value)
                        .unwrap_or(PkBound::InfMin),
                )
            })
            .collect(),
    )
}

/// Scan `[start, end)` of table `r` across the cluster in pages of
/// `page` rows; returns every key in order.
fn cluster_scan(
    m: &ClusterMap,
    regions: &BTreeMap<String, Database>,
    start: Vec<u8>,
    end: Vec<u8>,
    page: usize,
) -> Vec<Vec<u8>> {
    let sc = schema();
    let mut out = Vec::new();
    let mut from = start;
    loop {
        let subs = m.split_range("r", &from, &end).unwrap();
        let mut merge: RangeMerge<()> = RangeMerge::new(
            subs.iter()
                .map(|s| (s.start.clone(), s.end.clone()))
                .collect(),
            3,
        );
        let next = loop {
            match merge.poll(page) {
                MergeStep::Fetch(reqs) => {
                    for r in reqs {
                        let sub = &subs[r.stream];
                        let db = &regions[&sub.route.home().region];
                        let p = db
                            .get_range(
                                "r",
                                &bound(&sc, &r.start, false),
                                &bound(&sc, &r.end, true),
                                &RangeOptions {
                                    limit: Some(r.limit),
                                    ..RangeOptions::default()
                                },
                            )
                            .unwrap();
                        let mut rows = Vec::new();
                        for row in p.rows {
                            let k = encode_key(&sc, &row.primary_key).unwrap();
                            if sub.owns(m, &k).unwrap() {
                                rows.push((k, ()));
                            }
                        }
                        let more = p.next_start.map(|b| encode_bound(&sc, &b).unwrap());
                        merge.on_page(r.stream, rows, more).unwrap();
                    }
                }
                MergeStep::Page { rows, next_start } => {
                    assert!(rows.len() <= page);
                    out.extend(rows.into_iter().map(|(k, _)| k));
                    break next_start;
                }
            }
        };
        match next {
            Some(n) => from = n,
            None => return out,
        }
    }
}

fn cluster_of(m: &ClusterMap) -> BTreeMap<String, Database> {
    m.datacenters
        .iter()
        .flat_map(|d| d.regions.iter())
        .map(|r| {
            let clock = Arc::new(ManualClock::new(1_700_000_000_000));
            let mut db =
                Database::memory(DatabaseOptions::with_clock(r.name.clone(), clock)).unwrap();
            db.create_table(schema()).unwrap();
            (r.name.clone(), db)
        })
        .collect()
}

fn write_all(m: &ClusterMap, regions: &mut BTreeMap<String, Database>, keys: &[(i64, String)]) {
    let sc = schema();
    for (a, b) in keys {
        let pk = PrimaryKey::new([
            ("a", PkValue::Integer(*a)),
            ("b", PkValue::String(b.clone())),
        ]);
        let route = m.route_key("r", &encode_key(&sc, &pk).unwrap()).unwrap();
        for rep in &route.replicas {
            regions
                .get_mut(&rep.region)
                .unwrap()
                .put_row(
                    "r",
                    pk.clone(),
                    vec![Column::new("v", 1)],
                    Condition::ignore(),
                )
                .unwrap();
        }
    }
}

fn model_scan(keys: &[(i64, String)], start: &[u8], end: &[u8]) -> Vec<Vec<u8>> {
    let sc = schema();
    let mut all: Vec<Vec<u8>> = keys
        .iter()
        .map(|(a, b)| {
            encode_key(
                &sc,
                &PrimaryKey::new([
                    ("a", PkValue::Integer(*a)),
                    ("b", PkValue::String(b.clone())),
                ]),
            )
            .unwrap()
        })
        .filter(|k| k.as_slice() >= start && (end.is_empty() || k.as_slice() < end))
        .collect();
    all.sort();
    all.dedup();
    all
}

#[test]
fn ordered_scans_stay_correct_across_range_splits_and_hash_scatter() {
    let mut rng = Rng(7);
    let keys: Vec<(i64, String)> = (0..300)
        .map(|_| (rng.below(200) as i64 - 50, format!("k{}", rng.below(5))))
        .collect();
    for placement in ["range", "hash"] {
        let base = ClusterMap::new(dcs(3)).unwrap();
        let mut m = match placement {
            "range" => base.add_table(TablePlacement {
                table: "r".into(),
                ..range_table("r", 2, &[0, 60])
            }),
            _ => base.add_table(hash_table("r", 2, 32)),
        }
        .unwrap();
        let mut regions = cluster_of(&m);
        write_all(&m, &mut regions, &keys);
        for round in 0..6 {
            let lo = rng.below(260) as i64 - 60;
            let hi = lo + rng.below(150) as i64;
            let windows = [
                (vec![], vec![]),
                (ikey(lo), ikey(hi)),
                (ikey(lo), vec![]),
                (
                    encode_key_values([&PkValue::Integer(lo), &PkValue::String("k2".into())]),
                    ikey(hi),
                ),
            ];
            for (s, e) in windows {
                for page in [1, 4, 1000] {
                    assert_eq!(
                        cluster_scan(&m, &regions, s.clone(), e.clone(), page),
                        model_scan(&keys, &s, &e),
                        "{placement} round {round} page {page}"
                    );
                }
            }
            if placement == "range" {
                // Split the partition holding a random key; data stays put
                // (same datacenters), scans must not notice.
                let at = rng.below(200) as i64 - 50;
                let id = m.partition_of("r", &ikey(at)).unwrap();
                if let Ok((next, _)) = m.split("r", id, ikey(at)) {
                    m = next;
                }
            }
        }
        if let Placement::Range { partitions } = &m.table("r").unwrap().placement {
            assert!(
                partitions.len() >= 5,
                "splits happened: {}",
                partitions.len()
            );
        }
    }
}
