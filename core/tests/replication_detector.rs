//! The phi-accrual detector on a simulated network (100 ms heartbeats,
//! 50 ± 30 ms delay, 1% loss): no false `down` over 10 simulated minutes,
//! and a killed peer is `down` within a second (p99 over 500 kills).
//! Prints the figures; deterministic (seeded), runs in well under a second.

use tablesync::replication::{DetectorConfig, FailureDetector, PeerHealth};

mod common;
use common::Rng;

/// Heartbeat arrival times (ms) of a peer sending every 100 ms from 0 to
/// `until` (exclusive), with 50 ± 30 ms delay and 1% loss, sorted.
fn arrivals(rng: &mut Rng, until: i64) -> Vec<i64> {
    let mut v = Vec::new();
    let mut t = 0;
    while t < until {
        if rng.below(100) != 0 {
            v.push(t + 20 + rng.below(61) as i64);
        }
        t += 100;
    }
    v.sort_unstable();
    v
}

#[test]
fn no_false_down_in_ten_minutes_and_kills_detected_within_a_second() {
    let mut rng = Rng(13);
    let cfg = DetectorConfig::default();
    // Ten simulated minutes of a healthy peer.
    let ten_min = 600_000;
    let hb = arrivals(&mut rng, ten_min);
    let mut d = FailureDetector::new(cfg.clone());
    d.watch("p", 0);
    let (mut next, mut downs, mut suspects, mut max_phi) = (0, 0u32, 0u32, 0f64);
    let mut was = PeerHealth::Up;
    for now in (0..ten_min).step_by(10) {
        while next < hb.len() && hb[next] <= now {
            d.heard("p", hb[next]);
            next += 1;
        }
        let v = d.view("p", now).unwrap();
        max_phi = max_phi.max(v.phi);
        if v.health != was {
            match v.health {
                PeerHealth::Down => downs += 1,
                PeerHealth::Suspect => suspects += 1,
                PeerHealth::Up => {}
            }
            was = v.health;
        }
    }
    println!("healthy peer, 10 simulated minutes: {downs} false down, {suspects} suspect episodes, max phi {max_phi:.2}");
    assert_eq!(downs, 0, "false down");
    // Kills at random moments after a warm-up.
    let mut times = Vec::new();
    for _ in 0..500 {
        let kill = 5_000 + rng.below(1_000) as i64;
        let hb = arrivals(&mut rng, kill);
        let mut d = FailureDetector::new(cfg.clone());
        d.watch("p", 0);
        for t in &hb {
            d.heard("p", *t);
        }
        let mut now = kill;
        while d.view("p", now).unwrap().health != PeerHealth::Down {
            now += 1;
            assert!(now < kill + 10_000, "never detected");
        }
        times.push(now - kill);
    }
    times.sort_unstable();
    let p50 = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    println!("detection of a killed peer: p50 {p50} ms, p99 {p99} ms (target p99 ≤ 1000 ms)");
    assert!(p99 <= 1_000, "p99 {p99} ms");
}
