//! Write modes and consistency levels as per-request state machines,
//! semi-sync degradation and recovery on a test clock, and load-balanced
//! replica choice.

mod cluster_support;

use cluster_support::Rng;
use tablesync::cluster::ack::{WriteRequest, WriteStatus};
use tablesync::cluster::balance::{BalancerConfig, LoadBalancer};
use tablesync::cluster::semisync::{SemiSync, SemiSyncState};
use tablesync::cluster::{Consistency, Replica, WriteMode};

fn rep(dc: &str, region: &str) -> Replica {
    Replica {
        datacenter: dc.into(),
        region: region.into(),
        endpoint: format!("http://{region}"),
    }
}

/// Home a1 in dc a; a2 also in a; b1, b2 in b; c1 in c.
fn replicas() -> Vec<Replica> {
    vec![
        rep("a", "a1"),
        rep("a", "a2"),
        rep("b", "b1"),
        rep("b", "b2"),
        rep("c", "c1"),
    ]
}

fn acked_after(mode: WriteMode, local: &str, acks: &[&str]) -> WriteStatus {
    let mut w = WriteRequest::new(mode, replicas(), local, 0, false, None);
    for a in acks {
        w.on_ack(a, 0);
    }
    w.status().clone()
}

fn is_acked(s: WriteStatus) -> bool {
    matches!(s, WriteStatus::Acked { degraded: false })
}

#[test]
fn consistency_levels_need_exactly_their_replicas() {
    use Consistency::*;
    let sync = WriteMode::Sync;
    let cases: Vec<(WriteMode, &str, Vec<&str>, bool)> = vec![
        (WriteMode::Async, "a", vec![], false),
        (WriteMode::Async, "a", vec!["b1"], false),
        (WriteMode::Async, "a", vec!["a1"], true),
        (sync(One), "a", vec!["c1"], true),
        (sync(Quorum), "a", vec!["a1", "b1"], false),
        (sync(Quorum), "a", vec!["a1", "b1", "c1"], true),
        (sync(LocalQuorum), "b", vec!["a1", "a2", "c1"], false),
        (sync(LocalQuorum), "b", vec!["b1"], false),
        (sync(LocalQuorum), "b", vec!["b1", "b2"], true),
        (sync(LocalQuorum), "a", vec!["a2", "a1"], true),
        (sync(EachQuorum), "a", vec!["a1", "a2", "b1", "b2"], false),
        (
            sync(EachQuorum),
            "a",
            vec!["a1", "a2", "b1", "b2", "c1"],
            true,
        ),
        (sync(All), "a", vec!["a1", "a2", "b1", "b2"], false),
        (sync(All), "a", vec!["a1", "a2", "b1", "b2", "c1"], true),
        (sync(Datacenters(2)), "a", vec!["a1", "a2"], false),
        (sync(Datacenters(2)), "a", vec!["a2", "c1"], true),
        (sync(Datacenters(3)), "a", vec!["a2", "b2", "c1"], true),
        (
            WriteMode::SemiSync { timeout_ms: 100 },
            "a",
            vec!["a1", "a2"],
            false,
        ),
        (
            WriteMode::SemiSync { timeout_ms: 100 },
            "a",
            vec!["b1", "c1"],
            false,
        ),
        (
            WriteMode::SemiSync { timeout_ms: 100 },
            "a",
            vec!["a1", "b2"],
            true,
        ),
    ];
    for (mode, local, acks, want) in cases {
        assert_eq!(
            is_acked(acked_after(mode, local, &acks)),
            want,
            "{} from {local} after {acks:?}",
            mode.name()
        );
    }
}

#[test]
fn impossible_levels_fail_early_and_deadlines_fail_pending_writes() {
    let mut w = WriteRequest::new(
        WriteMode::Sync(Consistency::Quorum),
        replicas(),
        "a",
        0,
        false,
        Some(50),
    );
    for r in ["a1", "b1", "c1"] {
        w.on_failure(r, 1);
    }
    assert!(
        matches!(w.status(), WriteStatus::Failed(m) if m.contains("3 of 5")),
        "{:?}",
        w.status()
    );
    // A local quorum where the client's datacenter holds no replica can never be met.
    let w = WriteRequest::new(
        WriteMode::Sync(Consistency::LocalQuorum),
        replicas(),
        "zz",
        0,
        false,
        None,
    );
    assert!(matches!(w.status(), WriteStatus::Failed(_)));
    let w = WriteRequest::new(
        WriteMode::Sync(Consistency::Datacenters(4)),
        replicas(),
        "a",
        0,
        false,
        None,
    );
    assert!(matches!(w.status(), WriteStatus::Failed(_)));
    // Deadline.
    let mut w = WriteRequest::new(
        WriteMode::Sync(Consistency::All),
        replicas(),
        "a",
        0,
        false,
        Some(50),
    );
    w.on_ack("a1", 10);
    assert_eq!(w.on_tick(49), &WriteStatus::Pending);
    assert!(matches!(w.on_tick(50), WriteStatus::Failed(m) if m.contains("timed out")));
    // An ack after the outcome changes nothing; a failure after an ack
    // does not un-ack.
    let mut w = WriteRequest::new(
        WriteMode::Sync(Consistency::One),
        replicas(),
        "a",
        0,
        false,
        None,
    );
    w.on_ack("c1", 1);
    w.on_failure("c1", 2);
    assert!(is_acked(w.status().clone()));
}

/// A test clock ticking `TICK` ms: semi-sync degrades at T (± one tick),
/// never blocks while degraded, and recovers once a replica caught up.
#[test]
fn semi_sync_degrades_at_its_timeout_and_recovers_when_caught_up() {
    const TICK: i64 = 10;
    const T: u64 = 250;
    let mode = WriteMode::SemiSync { timeout_ms: T };
    let mut table = SemiSync::new();
    let start = 1_000;
    let mut w = WriteRequest::new(mode, replicas(), "a", start, table.is_degraded(), None);
    w.on_ack("a1", start + 1); // home commits; the other datacenters are cut off
    w.on_ack("a2", start + 2); // same datacenter: does not count
    let mut now = start;
    let degraded_at = loop {
        now += TICK;
        if let WriteStatus::Acked { degraded } = w.on_tick(now) {
            assert!(degraded);
            table.on_write_degraded(now);
            break now;
        }
        assert!(now < start + 10 * T as i64, "never degraded");
    };
    assert!(
        (degraded_at - (start + T as i64)).abs() <= TICK,
        "degraded at {degraded_at}, T is at {}",
        start + T as i64
    );
    assert_eq!(
        table.state(),
        SemiSyncState::Degraded {
            since_ms: degraded_at
        }
    );
    assert_eq!(table.degradations, 1);
    // Degraded: a write is acknowledged after the home alone, immediately.
    let mut w2 = WriteRequest::new(mode, replicas(), "a", now, table.is_degraded(), None);
    assert_eq!(
        w2.on_ack("a1", now),
        &WriteStatus::Acked { degraded: false }
    );
    // A replica that is still behind does not recover it…
    assert!(!table.on_replica_progress(40, 41, now + 5));
    assert!(table.is_degraded());
    // …one that caught up does, and writes wait for two datacenters again.
    assert!(table.on_replica_progress(41, 41, now + 100));
    assert_eq!(table.state(), SemiSyncState::Normal);
    assert_eq!(
        (table.recoveries, table.degraded_ms),
        (1, now + 100 - degraded_at)
    );
    let mut w3 = WriteRequest::new(mode, replicas(), "a", now, table.is_degraded(), None);
    assert_eq!(w3.on_ack("a1", now), &WriteStatus::Pending);
    assert_eq!(
        w3.on_ack("c1", now),
        &WriteStatus::Acked { degraded: false }
    );
    // Semi-sync never degrades before the home committed.
    let mut w4 = WriteRequest::new(mode, replicas(), "a", 0, false, None);
    assert_eq!(w4.on_tick(10 * T as i64), &WriteStatus::Pending);
}

#[test]
fn reads_prefer_the_local_datacenter_weighted_by_latency_and_route_around_slow_or_down_ones() {
    let reps = [rep("a", "a1"), rep("b", "b1"), rep("c", "c1")];
    let cands: Vec<&Replica> = reps.iter().collect();
    let cfg = BalancerConfig::default();
    let mut lb = LoadBalancer::new("a", cfg.clone());
    let mut rng = Rng(1);
    let latency = |r: &str, slow_a: bool| match r {
        "a1" if slow_a => 60.0,
        "a1" => 2.0,
        "b1" => 20.0,
        _ => 25.0,
    };
    let mut now = 0;
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..1000 {
        now += 1;
        let r = lb.choose(&cands, now, rng.next_u64()).unwrap();
        *counts.entry(r.region.clone()).or_default() += 1;
        lb.on_success(r, latency(&r.region, false), now);
    }
    assert!(counts["a1"] > 950, "local replica preferred: {counts:?}");
    // a1 slows down: it leaves the rotation (only probes reach it), b and c
    // share the load by latency.
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..2000 {
        now += 1;
        let r = lb.choose(&cands, now, rng.next_u64()).unwrap();
        *counts.entry(r.region.clone()).or_default() += 1;
        lb.on_success(r, latency(&r.region, true), now);
    }
    assert!(
        counts["a1"] < 80,
        "slow local replica left the rotation: {counts:?}"
    );
    assert!(
        counts["b1"] > counts["c1"],
        "faster remote weighs more: {counts:?}"
    );
    assert!(counts["c1"] > 300, "both remotes serve: {counts:?}");
    // b1 goes down: after `fail_after` failures it leaves the rotation for `down_ms`.
    for _ in 0..cfg.fail_after {
        lb.on_failure(&reps[1], now);
    }
    assert!(lb.is_down("b1", now));
    for _ in 0..100 {
        now += 1;
        let r = lb.choose(&cands, now, rng.next_u64()).unwrap();
        assert_ne!(r.region, "b1", "a down replica gets no reads");
        lb.on_success(r, latency(&r.region, true), now);
    }
    // a1 is fast again: probes see it and it returns to the rotation.
    let mut back = 0;
    for _ in 0..3000 {
        now += 1;
        let r = lb.choose(&cands, now, rng.next_u64()).unwrap();
        if r.region == "a1" {
            back += 1;
        }
        lb.on_success(r, latency(&r.region, false), now);
    }
    assert!(back > 2500, "local replica back in the rotation: {back}");
    let per_dc = lb.requests_per_datacenter();
    assert_eq!(per_dc.values().sum::<u64>(), 6100);
}
