//! The cluster client's state machine end to end over a tiny simulated
//! network: writes in every mode, a stale map refreshed, semi-sync
//! degrading and recovering, read targets per level, batch grouping.

use tablesync::cluster::balance::BalancerConfig;
use tablesync::cluster::client::{ClusterClient, WriteEvent};
use tablesync::cluster::*;
use tablesync::codec::key::encode_key_values;
use tablesync::{Error, PkValue};

fn key(i: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(i)])
}

fn map() -> ClusterMap {
    let dcs = ["a", "b", "c"]
        .iter()
        .map(|d| Datacenter::new(*d, [(format!("{d}1"), format!("http://{d}1"))]))
        .collect();
    ClusterMap::new(dcs)
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
                        datacenters: vec!["a".into(), "b".into(), "c".into()],
                    },
                    RangePartition {
                        id: 1,
                        start: key(100),
                        datacenters: vec!["b".into(), "c".into(), "a".into()],
                    },
                ],
            },
        })
        .unwrap()
}

fn client() -> ClusterClient {
    ClusterClient::new(map(), "a", BalancerConfig::default(), 7)
}

/// Drive one write: the home answers, then the forwarded replicas in
/// `replica_answers` order (`None` = never answers). Returns the events.
fn write(
    c: &mut ClusterClient,
    k: i64,
    mode: Option<WriteMode>,
    up: &[&str],
    now: i64,
) -> Vec<WriteEvent> {
    let (id, send) = c.begin_write("t", &key(k), mode, now).unwrap();
    assert!(send.to_home);
    let mut events = c.on_write_reply(id, &send.replica.region, Ok(()), now + 1);
    let forwards: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WriteEvent::Forward(s) => Some(s.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    for s in forwards {
        assert!(!s.to_home);
        if up.contains(&s.replica.region.as_str()) {
            events.extend(c.on_write_reply(id, &s.replica.region, Ok(()), now + 2));
        } else {
            events.extend(c.on_write_reply(
                id,
                &s.replica.region,
                Err(Error::Sync("unreachable".into())),
                now + 2,
            ));
        }
    }
    events
}

fn acked(events: &[WriteEvent]) -> Option<bool> {
    events.iter().find_map(|e| match e {
        WriteEvent::Acked { degraded, .. } => Some(*degraded),
        _ => None,
    })
}

#[test]
fn writes_are_acknowledged_per_mode() {
    let mut c = client();
    // async: the home alone; nothing forwarded.
    let ev = write(&mut c, 1, None, &[], 0);
    assert_eq!(acked(&ev), Some(false));
    assert!(!ev.iter().any(|e| matches!(e, WriteEvent::Forward(_))));
    // QUORUM with one replica down: home + one more.
    let ev = write(
        &mut c,
        1,
        Some(WriteMode::Sync(Consistency::Quorum)),
        &["b1"],
        0,
    );
    assert_eq!(acked(&ev), Some(false));
    // ALL with one replica down: fails as soon as it cannot be met.
    let ev = write(
        &mut c,
        1,
        Some(WriteMode::Sync(Consistency::All)),
        &["b1"],
        0,
    );
    assert!(
        ev.iter().any(|e| matches!(e, WriteEvent::Failed { .. })),
        "{ev:?}"
    );
    // The key's home is the partition's first datacenter.
    let (_, send) = c.begin_write("t", &key(150), None, 0).unwrap();
    assert_eq!(send.replica.region, "b1");
    assert_eq!(c.in_flight(), 1);
    // A home refusal (a failed condition) fails the write, not the map.
    let (id, send) = c.begin_write("t", &key(5), None, 0).unwrap();
    let ev = c.on_write_reply(
        id,
        &send.replica.region,
        Err(Error::ConditionCheckFail("x".into())),
        1,
    );
    assert!(matches!(
        &ev[..],
        [WriteEvent::Failed {
            error: Error::ConditionCheckFail(_),
            ..
        }]
    ));
    // A local quorum from a datacenter without replicas is refused up front.
    let mut far = ClusterClient::new(map(), "zz", BalancerConfig::default(), 1);
    assert!(far
        .begin_write(
            "t",
            &key(1),
            Some(WriteMode::Sync(Consistency::LocalQuorum)),
            0
        )
        .is_err());
}

#[test]
fn a_stale_map_asks_for_a_refresh_and_the_retry_goes_to_the_new_home() {
    let mut c = client();
    let (id, send) = c.begin_write("t", &key(1), None, 0).unwrap();
    assert_eq!((send.replica.region.as_str(), send.epoch), ("a1", 2));
    // Meanwhile partition 0 moved to c; a1 refuses the old epoch.
    let newer = map()
        .move_partition("t", 0, vec!["c".into(), "a".into(), "b".into()])
        .unwrap();
    let refusal = newer.check_request_epoch(send.epoch).unwrap_err();
    let ev = c.on_write_reply(id, "a1", Err(refusal), 1);
    assert_eq!(ev, vec![WriteEvent::RefreshMap { request: id }]);
    assert!(c.set_map(newer.clone()));
    assert!(!c.set_map(map()), "an older map is ignored");
    let (_, retry) = c.begin_write("t", &key(1), None, 2).unwrap();
    assert_eq!(
        (retry.replica.region.as_str(), retry.epoch),
        ("c1", newer.epoch)
    );
}

#[test]
fn semi_sync_writes_degrade_at_the_timeout_then_recover() {
    let mut c = client();
    let mode = Some(WriteMode::SemiSync { timeout_ms: 300 });
    // Both other datacenters are cut off: the write waits…
    let (id, send) = c.begin_write("t", &key(1), mode, 0).unwrap();
    let ev = c.on_write_reply(id, &send.replica.region, Ok(()), 5);
    assert!(matches!(&ev[..], [WriteEvent::Forward(s)] if s.len() == 2));
    assert!(c.tick(290).is_empty());
    // …and is acknowledged degraded at T.
    assert_eq!(
        c.tick(300),
        vec![WriteEvent::Acked {
            request: id,
            degraded: true
        }]
    );
    assert!(c.semi_sync("t").unwrap().is_degraded());
    // While degraded, the home alone acknowledges at once.
    let ev = write(&mut c, 2, mode, &[], 400);
    assert_eq!(acked(&ev), Some(false));
    // A replica catches up: semi-sync again, a second datacenter needed.
    assert!(c.on_replica_progress("t", 10, 10, 500));
    assert!(!c.semi_sync("t").unwrap().is_degraded());
    let ev = write(&mut c, 3, mode, &["c1"], 600);
    assert_eq!(acked(&ev), Some(false));
    let (id, send) = c.begin_write("t", &key(4), mode, 700).unwrap();
    c.on_write_reply(id, &send.replica.region, Ok(()), 701);
    assert!(
        c.tick(750).is_empty(),
        "waits for a second datacenter again"
    );
}

#[test]
fn read_targets_follow_the_level_and_batches_group_by_partition() {
    let mut c = client();
    assert_eq!(
        c.read_targets("t", &key(150), ReadLevel::Leader, 0)
            .unwrap()[0]
            .region,
        "b1"
    );
    assert_eq!(
        c.read_targets("t", &key(150), ReadLevel::Quorum, 0)
            .unwrap()
            .len(),
        3
    );
    // ONE: after a warm-up the local replica serves nearly everything.
    let mut local = 0;
    for t in 0..200 {
        let r = c
            .read_targets("t", &key(150), ReadLevel::One, t)
            .unwrap()
            .remove(0);
        let latency = if r.datacenter == "a" { 1.0 } else { 40.0 };
        c.on_read_reply(&r, Some(latency), t);
        if r.region == "a1" {
            local += 1;
        }
    }
    assert!(local > 180, "{local}");
    assert_eq!(
        c.balancer().requests_per_datacenter().values().sum::<u64>(),
        200
    );
    let groups = c
        .partition_groups("t", &[key(1), key(150), key(2), key(100)])
        .unwrap();
    assert_eq!(groups, vec![(0, vec![0, 2]), (1, vec![1, 3])]);
}
