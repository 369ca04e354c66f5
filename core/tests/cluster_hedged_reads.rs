//! Hedged probes of the read balancer (`LoadBalancer::plan`): with one
//! datacenter slowed by +50 ms, reads leave it after a bounded number of
//! reads and their p99 is back at the baseline, because its probes go
//! beside the reads instead of in their path; once it is fast again a
//! probe brings it back. On a test clock: each read advances it by its
//! latency, probes answer after theirs.

use tablesync::cluster::balance::{BalancerConfig, LoadBalancer};
use tablesync::cluster::Replica;

fn rep(dc: &str) -> Replica {
    Replica {
        datacenter: dc.into(),
        region: format!("{dc}-1"),
        endpoint: format!("http://{dc}"),
    }
}

struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn p99(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1]
}

/// Run `reads` reads; `slow(dc)` is the extra latency of a datacenter.
/// Returns each read's latency and the datacenter that served it; probes
/// are reported to the balancer when they answer (by the test clock).
fn run(
    lb: &mut LoadBalancer,
    reps: &[Replica],
    now: &mut i64,
    rng: &mut Rng,
    reads: usize,
    slow: impl Fn(&str) -> f64,
    hedged: bool,
) -> Vec<(f64, String)> {
    let cands: Vec<&Replica> = reps.iter().collect();
    let mut in_flight: Vec<(i64, Replica, f64)> = Vec::new();
    let mut out = Vec::new();
    for _ in 0..reads {
        in_flight.retain(|(done, r, l)| {
            if *done <= *now {
                lb.on_success(r, *l, *done);
                false
            } else {
                true
            }
        });
        let latency = |r: &Replica| 41.0 + slow(&r.datacenter);
        let serve = if hedged {
            let plan = lb.plan(&cands, *now, rng.next_u64()).unwrap();
            if let Some(p) = plan.probe {
                assert_ne!(p.region, plan.serve.region);
                in_flight.push((*now + latency(p) as i64, p.clone(), latency(p)));
            }
            plan.serve.clone()
        } else {
            lb.choose(&cands, *now, rng.next_u64()).unwrap().clone()
        };
        let l = latency(&serve);
        *now += l as i64;
        lb.on_success(&serve, l, *now);
        out.push((l, serve.datacenter.clone()));
    }
    out
}

#[test]
fn a_slowed_datacenter_leaves_the_reads_p99_after_a_bounded_number_of_reads() {
    let reps = [rep("eu"), rep("us"), rep("ap")];
    let mut lb = LoadBalancer::new("none", BalancerConfig::default());
    let (mut now, mut rng) = (0i64, Rng(3));
    let base = run(&mut lb, &reps, &mut now, &mut rng, 300, |_| 0.0, true);
    let base_p99 = p99(&base.iter().map(|x| x.0).collect::<Vec<_>>());
    assert!(base.iter().any(|x| x.1 == "ap"), "ap serves at first");

    // ap slowed by +50 ms: it may serve a few reads until its EWMA is past
    // the slow factor, then never again while slow.
    let slowed = run(
        &mut lb,
        &reps,
        &mut now,
        &mut rng,
        2000,
        |dc| if dc == "ap" { 50.0 } else { 0.0 },
        true,
    );
    let last_slow = slowed.iter().rposition(|x| x.1 == "ap").unwrap_or(0);
    assert!(
        last_slow < 10,
        "ap left the rotation within 10 reads (last served read #{last_slow})"
    );
    let after: Vec<f64> = slowed[last_slow + 1..].iter().map(|x| x.0).collect();
    assert!(after.len() > 1900);
    assert_eq!(
        slowed.iter().filter(|x| x.1 == "ap").count(),
        1,
        "one slow answer takes ap out (peak EWMA)"
    );
    for w in after.chunks(100) {
        assert!(
            p99(w) <= base_p99 * 1.1,
            "p99 of a 100-read window {} vs baseline {base_p99}",
            p99(w)
        );
    }
    // Probes kept reaching ap (beside the reads): it is measured as slow.
    assert!(lb.ewma_ms("ap-1").unwrap() > 80.0);
    let ap_reqs = lb.requests_per_datacenter()["ap"];

    // ap is fast again: a probe sees it and it serves reads once more.
    let back = run(&mut lb, &reps, &mut now, &mut rng, 300, |_| 0.0, true);
    assert!(lb.requests_per_datacenter()["ap"] > ap_reqs);
    let first_back = back.iter().position(|x| x.1 == "ap").expect("ap came back");
    assert!(first_back < 60, "ap back after {first_back} reads");
    assert!(back.iter().filter(|x| x.1 == "ap").count() > 60);
}

#[test]
fn probes_in_the_read_path_would_keep_the_p99_high() {
    // The same run with `choose` (probes are reads): the slow datacenter
    // still serves one read per probe period, and those reads are in the p99.
    let reps = [rep("eu"), rep("us"), rep("ap")];
    let mut lb = LoadBalancer::new("none", BalancerConfig::default());
    let (mut now, mut rng) = (0i64, Rng(3));
    let base = run(&mut lb, &reps, &mut now, &mut rng, 300, |_| 0.0, false);
    let base_p99 = p99(&base.iter().map(|x| x.0).collect::<Vec<_>>());
    let slowed = run(
        &mut lb,
        &reps,
        &mut now,
        &mut rng,
        2000,
        |dc| if dc == "ap" { 50.0 } else { 0.0 },
        false,
    );
    let lat: Vec<f64> = slowed[100..].iter().map(|x| x.0).collect();
    let high = lat.chunks(100).filter(|w| p99(w) > base_p99 * 1.1).count();
    assert!(high > 10, "unhedged probes land in the p99: {high} windows");
}

#[test]
fn an_unmeasured_replica_serves_its_first_read_and_a_lone_replica_always_serves() {
    let reps = [rep("eu")];
    let cands: Vec<&Replica> = reps.iter().collect();
    let mut lb = LoadBalancer::new("eu", BalancerConfig::default());
    let p = lb.plan(&cands, 0, 1).unwrap();
    assert_eq!(p.serve.region, "eu-1");
    assert_eq!(p.probe, None);
    lb.on_success(&reps[0], 500.0, 1);
    for t in 0..2000 {
        let p = lb.plan(&cands, t, t as u64).unwrap();
        assert_eq!((p.serve.region.as_str(), p.probe), ("eu-1", None));
    }
    assert!(lb.plan(&[], 0, 0).is_none());
}
