//! Load balancing of reads: replicas weighted by observed latency (peak EWMA),
//! local datacenter preferred; a failing replica leaves the rotation for a
//! while, a slow one is only probed now and then, and both come back once
//! their answers are good again.

use super::route::Replica;
use std::collections::BTreeMap;

/// Tuning of the balancer.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancerConfig {
    /// EWMA weight of a new sample (0..1].
    pub alpha: f64,
    /// A replica slower than `slow_factor` × the fastest leaves the rotation.
    pub slow_factor: f64,
    /// Consecutive failures that mark a replica down.
    pub fail_after: u32,
    /// How long a down replica stays out before a probe (the failure
    /// detector's time).
    pub down_ms: i64,
    /// How often a replica out of the rotation (slow or down) gets one probe.
    pub probe_every_ms: i64,
    /// A local replica is preferred while its EWMA is within this factor of
    /// the fastest replica's.
    pub local_slack: f64,
}

impl Default for BalancerConfig {
    fn default() -> Self {
        BalancerConfig {
            alpha: 0.3,
            slow_factor: 2.0,
            fail_after: 3,
            down_ms: 1000,
            probe_every_ms: 500,
            local_slack: 1.5,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Stats {
    datacenter: String,
    ewma_ms: Option<f64>,
    failures: u32,
    down_until: i64,
    last_probe: i64,
    requests: u64,
}

/// One read's replicas (see [`LoadBalancer::plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadPlan<'a> {
    /// The replica whose answer the read returns.
    pub serve: &'a Replica,
    /// A replica out of the rotation to probe beside the read, if one is due.
    pub probe: Option<&'a Replica>,
}

/// Per-client replica chooser; all state is in memory, time comes in.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    cfg: BalancerConfig,
    local_dc: String,
    stats: BTreeMap<String, Stats>,
}

impl LoadBalancer {
    /// A balancer for a client in `local_dc`.
    pub fn new(local_dc: impl Into<String>, cfg: BalancerConfig) -> Self {
        LoadBalancer {
            cfg,
            local_dc: local_dc.into(),
            stats: BTreeMap::new(),
        }
    }

    fn stats(&mut self, r: &Replica) -> &mut Stats {
        self.stats.entry(r.region.clone()).or_insert_with(|| Stats {
            datacenter: r.datacenter.clone(),
            // Never probed: an unmeasured replica gets a probe at once.
            last_probe: i64::MIN / 2,
            ..Stats::default()
        })
    }

    /// Pick the replica for one read among `candidates` at `now_ms`;
    /// `random` is a uniform `u64` from the caller's seeded generator.
    /// Returns `None` only when `candidates` is empty. When every replica is
    /// out of the rotation, the one that has been out longest is tried.
    ///
    /// A probe that is due goes in the read's path here: the caller waits
    /// for a slow replica. [`LoadBalancer::plan`] sends probes beside the
    /// read instead.
    pub fn choose<'a>(
        &mut self,
        candidates: &[&'a Replica],
        now_ms: i64,
        random: u64,
    ) -> Option<&'a Replica> {
        let p = self.pick(candidates, now_ms, random, false)?;
        Some(p.probe.unwrap_or(p.serve))
    }

    /// Plan one read among `candidates` at `now_ms`: `serve` answers it,
    /// chosen among the replicas in the rotation only, and `probe` (when one
    /// is due) is a replica out of the rotation (slow, or back from down)
    /// to send a copy of the read to in the background, whose latency is
    /// reported with [`LoadBalancer::on_success`] / [`LoadBalancer::on_failure`]
    /// but never waited for. So a slow datacenter's probes stay out of the
    /// reads' latency, and it rejoins as soon as a probe finds it fast.
    /// Returns `None` only when `candidates` is empty.
    pub fn plan<'a>(
        &mut self,
        candidates: &[&'a Replica],
        now_ms: i64,
        random: u64,
    ) -> Option<ReadPlan<'a>> {
        self.pick(candidates, now_ms, random, true)
    }

    fn pick<'a>(
        &mut self,
        candidates: &[&'a Replica],
        now_ms: i64,
        random: u64,
        hedge: bool,
    ) -> Option<ReadPlan<'a>> {
        if candidates.is_empty() {
            return None;
        }
        for c in candidates {
            self.stats(c);
        }
        let cfg = self.cfg.clone();
        let st = |r: &Replica| self.stats.get(&r.region).expect("inserted");
        let up: Vec<&Replica> = candidates
            .iter()
            .copied()
            .filter(|r| st(r).down_until <= now_ms)
            .collect();
        let best = up
            .iter()
            .filter_map(|r| st(r).ewma_ms)
            .fold(f64::INFINITY, f64::min)
            .max(0.1);
        let in_rotation = |r: &Replica| match st(r).ewma_ms {
            None => true,
            Some(e) => e <= best * cfg.slow_factor,
        };
        // Replicas out of the rotation (slow, or back from down) and
        // replicas never measured get one read per probe period.
        let probe = up.iter().copied().find(|r| {
            let s = st(r);
            (s.ewma_ms.is_none() || !in_rotation(r)) && now_ms - s.last_probe >= cfg.probe_every_ms
        });
        // Hedged: a measured replica out of the rotation is probed beside
        // the read; one never measured is as good as any, so it serves.
        let (serve_probe, side_probe) = match probe {
            Some(p) if hedge && st(p).ewma_ms.is_some() => (None, Some(p)),
            other => (other, None),
        };
        let serve = if let Some(p) = serve_probe {
            Some(p)
        } else {
            let rot: Vec<&Replica> = up
                .iter()
                .copied()
                .filter(|r| in_rotation(r) && Some(*r) != side_probe)
                .collect();
            let local: Vec<&Replica> = rot
                .iter()
                .copied()
                .filter(|r| {
                    r.datacenter == self.local_dc
                        && st(r).ewma_ms.is_none_or(|e| e <= best * cfg.local_slack)
                })
                .collect();
            let pool = if !local.is_empty() { local } else { rot };
            if pool.is_empty() {
                candidates.iter().copied().min_by_key(|r| st(r).down_until)
            } else {
                // Weighted by 1/EWMA; an unmeasured replica weighs as the best.
                let w: Vec<f64> = pool
                    .iter()
                    .map(|r| 1.0 / st(r).ewma_ms.unwrap_or(best).max(0.1))
                    .collect();
                let total: f64 = w.iter().sum();
                let mut x = (random >> 11) as f64 / (1u64 << 53) as f64 * total;
                let mut pick = pool[pool.len() - 1];
                for (r, wi) in pool.iter().zip(&w) {
                    if x < *wi {
                        pick = r;
                        break;
                    }
                    x -= wi;
                }
                Some(pick)
            }
        }?;
        // The side probe is pointless when it is the replica serving anyway.
        let side_probe = side_probe.filter(|p| p.region != serve.region);
        let s = self.stats(serve);
        s.requests += 1;
        if serve_probe.is_some() {
            s.last_probe = now_ms;
        }
        if let Some(p) = side_probe {
            let s = self.stats(p);
            s.requests += 1;
            s.last_probe = now_ms;
        }
        Some(ReadPlan {
            serve,
            probe: side_probe,
        })
    }

    /// A read from `replica` succeeded after `latency_ms`. The average is a
    /// peak EWMA: a sample above it is taken at once (one slow answer takes
    /// a slowed replica out of the rotation), a faster one decays it by
    /// `alpha` (a probe that finds it fast again brings it back).
    pub fn on_success(&mut self, replica: &Replica, latency_ms: f64, now_ms: i64) {
        let a = self.cfg.alpha;
        let s = self.stats(replica);
        s.ewma_ms = Some(match s.ewma_ms {
            None => latency_ms,
            Some(e) if latency_ms > e => latency_ms,
            Some(e) => e + a * (latency_ms - e),
        });
        s.failures = 0;
        if s.down_until > now_ms {
            s.down_until = now_ms;
        }
    }

    /// A read from `replica` failed (error or timeout).
    pub fn on_failure(&mut self, replica: &Replica, now_ms: i64) {
        let (fail_after, down_ms) = (self.cfg.fail_after, self.cfg.down_ms);
        let s = self.stats(replica);
        s.failures += 1;
        if s.failures >= fail_after {
            s.down_until = now_ms + down_ms;
            s.last_probe = now_ms;
        }
    }

    /// Whether `region` is currently out of the rotation for failures.
    pub fn is_down(&self, region: &str, now_ms: i64) -> bool {
        self.stats
            .get(region)
            .is_some_and(|s| s.down_until > now_ms)
    }

    /// The EWMA latency of `region`, once measured.
    pub fn ewma_ms(&self, region: &str) -> Option<f64> {
        self.stats.get(region).and_then(|s| s.ewma_ms)
    }

    /// Reads sent per datacenter (for metrics).
    pub fn requests_per_datacenter(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for s in self.stats.values() {
            *out.entry(s.datacenter.clone()).or_insert(0) += s.requests;
        }
        out
    }
}
