//! Failure detection: a phi-accrual detector over heartbeat arrivals
//! (active), error counts on normal traffic (passive), and the view a
//! region keeps of each peer.

use std::collections::{BTreeMap, VecDeque};

/// Heartbeat intervals remembered per peer.
const WINDOW: usize = 200;

/// Phi-accrual failure detector (Hayashibara et al.) for one peer: phi is
/// `-log10` of the probability that a heartbeat would still arrive this
/// late, given the intervals seen so far (normal distribution).
#[derive(Clone, Debug)]
pub struct PhiAccrual {
    intervals: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    last_ms: Option<i64>,
    min_std_ms: f64,
    expected_ms: f64,
}

impl PhiAccrual {
    /// A detector expecting a heartbeat every `expected_ms`; `min_std_ms`
    /// floors the deviation so a very regular peer is not suspected at the
    /// first small delay.
    pub fn new(expected_ms: i64, min_std_ms: i64) -> Self {
        PhiAccrual {
            intervals: VecDeque::with_capacity(WINDOW),
            sum: 0.0,
            sum_sq: 0.0,
            last_ms: None,
            min_std_ms: min_std_ms.max(1) as f64,
            expected_ms: expected_ms.max(1) as f64,
        }
    }

    /// A heartbeat arrived at `now_ms` (local clock).
    pub fn heartbeat(&mut self, now_ms: i64) {
        if let Some(last) = self.last_ms {
            if now_ms <= last {
                return;
            }
            let d = (now_ms - last) as f64;
            if self.intervals.len() == WINDOW {
                let old = self.intervals.pop_front().unwrap_or(0.0);
                self.sum -= old;
                self.sum_sq -= old * old;
            }
            self.intervals.push_back(d);
            self.sum += d;
            self.sum_sq += d * d;
        }
        self.last_ms = Some(now_ms.max(self.last_ms.unwrap_or(i64::MIN)));
    }

    /// When the last heartbeat arrived.
    pub fn last_heard(&self) -> Option<i64> {
        self.last_ms
    }

    /// Suspicion level at `now_ms`: 0 right after a heartbeat, growing with
    /// silence; about 1 means a 10% chance the peer is fine, 8 one in 10⁸.
    pub fn phi(&self, now_ms: i64) -> f64 {
        let Some(last) = self.last_ms else {
            return 0.0;
        };
        let n = self.intervals.len() as f64;
        // Until a few intervals are known, assume the expected rate.
        let (mean, var) = if n < 4.0 {
            (self.expected_ms, (self.expected_ms / 4.0).powi(2))
        } else {
            let mean = self.sum / n;
            (mean, (self.sum_sq / n - mean * mean).max(0.0))
        };
        let std = var.sqrt().max(self.min_std_ms);
        let t = (now_ms - last).max(0) as f64;
        let y = (t - mean) / std;
        // Logistic approximation of the normal tail (as in Akka).
        let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
        let p_later = if t > mean {
            e / (1.0 + e)
        } else {
            1.0 - 1.0 / (1.0 + e)
        };
        if p_later <= 0.0 {
            return f64::INFINITY.min(1e6);
        }
        (-p_later.log10()).max(0.0)
    }
}

/// How a region sees a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeerHealth {
    /// Heartbeats arrive as expected.
    Up,
    /// Late heartbeats or a few errors: maybe down.
    Suspect,
    /// Considered failed.
    Down,
}

impl PeerHealth {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            PeerHealth::Up => "up",
            PeerHealth::Suspect => "suspect",
            PeerHealth::Down => "down",
        }
    }
}

/// One peer as seen from here.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerView {
    /// Peer region.
    pub peer: String,
    /// Health.
    pub health: PeerHealth,
    /// Current phi.
    pub phi: f64,
    /// Local time of the last heartbeat (or successful exchange).
    pub last_heard_ms: Option<i64>,
    /// Errors or timeouts in a row on normal traffic.
    pub consecutive_errors: u32,
}

/// Thresholds of a [`FailureDetector`].
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Heartbeat period expected from each peer (ms).
    pub heartbeat_ms: i64,
    /// Floor of the interval deviation (ms).
    pub min_std_ms: i64,
    /// Phi at or above which a peer is suspect.
    pub suspect_phi: f64,
    /// Phi at or above which a peer is down.
    pub down_phi: f64,
    /// Errors in a row (passive detection) that make a peer down; half of it
    /// makes it suspect. 0 turns passive detection off.
    pub error_threshold: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            heartbeat_ms: 100,
            min_std_ms: 50,
            suspect_phi: 3.0,
            down_phi: 8.0,
            error_threshold: 4,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    phi: PhiAccrual,
    errors: u32,
    /// Local time the peer was first expected (so a peer never heard from
    /// still goes down).
    since_ms: i64,
}

/// Mixed failure detection for a set of peers: active (phi over heartbeats)
/// and passive (errors on normal traffic); the worse of the two wins.
#[derive(Clone, Debug)]
pub struct FailureDetector {
    config: DetectorConfig,
    peers: BTreeMap<String, Entry>,
}

impl FailureDetector {
    /// A detector with these thresholds and no peers.
    pub fn new(config: DetectorConfig) -> Self {
        FailureDetector {
            config,
            peers: BTreeMap::new(),
        }
    }

    /// Start watching `peer` from `now_ms` (a peer never heard from goes
    /// down like one that fell silent at `now_ms`).
    pub fn watch(&mut self, peer: &str, now_ms: i64) {
        let (hb, sd) = (self.config.heartbeat_ms, self.config.min_std_ms);
        self.peers.entry(peer.to_string()).or_insert_with(|| Entry {
            phi: PhiAccrual::new(hb, sd),
            errors: 0,
            since_ms: now_ms,
        });
    }

    /// A heartbeat (or any successful exchange) from `peer` at `now_ms`.
    pub fn heard(&mut self, peer: &str, now_ms: i64) {
        self.watch(peer, now_ms);
        if let Some(e) = self.peers.get_mut(peer) {
            e.phi.heartbeat(now_ms);
            e.errors = 0;
        }
    }

    /// An error or timeout talking to `peer` (passive detection).
    pub fn error(&mut self, peer: &str, now_ms: i64) {
        self.watch(peer, now_ms);
        if let Some(e) = self.peers.get_mut(peer) {
            e.errors = e.errors.saturating_add(1);
        }
    }

    /// The view of one peer at `now_ms`.
    pub fn view(&self, peer: &str, now_ms: i64) -> Option<PeerView> {
        let e = self.peers.get(peer)?;
        let phi = match e.phi.last_heard() {
            Some(_) => e.phi.phi(now_ms),
            None => {
                // Never heard: as if a heartbeat came when we started watching.
                let mut p = PhiAccrual::new(self.config.heartbeat_ms, self.config.min_std_ms);
                p.heartbeat(e.since_ms);
                p.phi(now_ms)
            }
        };
        let active = if phi >= self.config.down_phi {
            PeerHealth::Down
        } else if phi >= self.config.suspect_phi {
            PeerHealth::Suspect
        } else {
            PeerHealth::Up
        };
        let t = self.config.error_threshold;
        let passive = if t > 0 && e.errors >= t {
            PeerHealth::Down
        } else if t > 0 && e.errors >= t.div_ceil(2) {
            PeerHealth::Suspect
        } else {
            PeerHealth::Up
        };
        Some(PeerView {
            peer: peer.to_string(),
            health: active.max(passive),
            phi,
            last_heard_ms: e.phi.last_heard(),
            consecutive_errors: e.errors,
        })
    }

    /// Every watched peer, in name order.
    pub fn views(&self, now_ms: i64) -> Vec<PeerView> {
        self.peers
            .keys()
            .filter_map(|p| self.view(p, now_ms))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_grows_with_silence_and_resets_on_heartbeat() {
        let mut d = FailureDetector::new(DetectorConfig::default());
        d.watch("us", 0);
        for t in (0..2_000).step_by(100) {
            d.heard("us", t);
        }
        let v = d.view("us", 1_950).unwrap();
        assert_eq!(v.health, PeerHealth::Up, "{v:?}");
        assert!(v.phi < 1.0);
        let late = d.view("us", 2_300).unwrap();
        assert!(late.phi > v.phi);
        let gone = d.view("us", 3_000).unwrap();
        assert_eq!(gone.health, PeerHealth::Down, "{gone:?}");
        d.heard("us", 3_000);
        assert_eq!(d.view("us", 3_010).unwrap().health, PeerHealth::Up);
    }

    #[test]
    fn errors_alone_make_a_peer_down_and_a_heartbeat_clears_them() {
        let mut d = FailureDetector::new(DetectorConfig::default());
        d.heard("us", 0);
        d.error("us", 10);
        d.error("us", 20);
        assert_eq!(d.view("us", 30).unwrap().health, PeerHealth::Suspect);
        d.error("us", 30);
        d.error("us", 40);
        assert_eq!(d.view("us", 50).unwrap().health, PeerHealth::Down);
        d.heard("us", 60);
        assert_eq!(d.view("us", 61).unwrap().health, PeerHealth::Up);
    }

    #[test]
    fn a_peer_never_heard_goes_down() {
        let mut d = FailureDetector::new(DetectorConfig::default());
        d.watch("us", 0);
        assert_eq!(d.view("us", 50).unwrap().health, PeerHealth::Up);
        assert_eq!(d.view("us", 5_000).unwrap().health, PeerHealth::Down);
    }
}
