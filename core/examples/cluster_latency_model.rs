//! Cluster protocol latencies in virtual time: the core's state machines
//! (ClusterClient, Coordinator/Participant, LoadBalancer) driven over a
//! simulated network of three datacenters with 20 ms one-way latency
//! (±2 ms jitter) between them and 0.25 ms inside one. No CPU time is
//! measured: the figures are what the protocols' round trips cost on such
//! a network, deterministic for a seed, and comparable across modes.
//! Loopback measurements with real servers need the cluster drivers.
//!
//! `cargo run --release -p tablesync --example cluster_latency_model [-- OPS]`

use tablesync::cluster::balance::BalancerConfig;
use tablesync::cluster::client::{ClusterClient, WriteEvent};
use tablesync::cluster::hash::mix64;
use tablesync::cluster::txn::{Action, Coordinator, Msg, Participant, TxnId, TxnOp, TxnStore};
use tablesync::cluster::*;
use tablesync::codec::key::encode_key_values;
use tablesync::PkValue;

struct Net(u64);

impl Net {
    /// One-way latency in ms between two datacenters.
    fn one_way(&mut self, a: &str, b: &str) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let u = (mix64(self.0) >> 11) as f64 / (1u64 << 53) as f64;
        if a == b {
            0.25
        } else {
            18.0 + 4.0 * u
        }
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
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
                        start: encode_key_values([&PkValue::Integer(1 << 40)]),
                        datacenters: vec!["b".into(), "c".into(), "a".into()],
                    },
                ],
            },
        })
        .unwrap()
}

/// Latency of one write from a client in datacenter `a` to a key homed in
/// `a`: client → home → (forward to replicas ‖ acks) → client.
fn write_latency(c: &mut ClusterClient, net: &mut Net, mode: WriteMode, i: i64) -> f64 {
    let key = encode_key_values([&PkValue::Integer(i % 1000)]);
    let (id, send) = c.begin_write("t", &key, Some(mode), 0).unwrap();
    let home_dc = send.replica.datacenter.clone();
    let at_home = net.one_way("a", &home_dc);
    let back = net.one_way(&home_dc, "a");
    let mut events = c.on_write_reply(id, &send.replica.region, Ok(()), at_home as i64);
    let mut done = acked(&events).then_some(at_home + back);
    if done.is_none() {
        // The client forwards the home's records (as drivers do) to the
        // replicas; each answer takes a round trip from the client.
        let mut answers: Vec<(f64, String)> = events
            .iter()
            .filter_map(|e| match e {
                WriteEvent::Forward(s) => Some(s.clone()),
                _ => None,
            })
            .flatten()
            .map(|s| {
                let rtt = net.one_way("a", &s.replica.datacenter)
                    + net.one_way(&s.replica.datacenter, "a");
                (at_home + back + rtt, s.replica.region)
            })
            .collect();
        answers.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        for (t, region) in answers {
            events = c.on_write_reply(id, &region, Ok(()), t as i64);
            if acked(&events) {
                done = Some(t);
                break;
            }
        }
    }
    done.expect("acknowledged")
}

fn acked(events: &[WriteEvent]) -> bool {
    events.iter().any(|e| matches!(e, WriteEvent::Acked { .. }))
}

#[derive(Clone, Debug)]
struct Op(Vec<u8>);
impl TxnOp for Op {
    fn key(&self) -> &[u8] {
        &self.0
    }
}
struct Always;
impl TxnStore<Op> for Always {
    fn check(&self, _: &[Op]) -> Result<(), String> {
        Ok(())
    }
}

/// A batch from the coordinator in `a` to participants in `dcs`: message
/// rounds the coordinator starts (2PC: prepare, then the decision, which
/// leaves as the client is answered) and the latency until the client's
/// reply (the client sits next to the coordinator; the decision record's
/// fsync is not modelled).
fn batch(net: &mut Net, dcs: &[&str], txn: u128) -> (u32, f64) {
    let mut coord: Coordinator<Op> = Coordinator::recover("coord", &[]);
    let mut parts: Vec<Participant<Op>> = dcs
        .iter()
        .map(|d| Participant::recover(*d, &[], 0))
        .collect();
    let ops = dcs
        .iter()
        .map(|d| (d.to_string(), vec![Op(d.as_bytes().to_vec())]))
        .collect();
    // (arrival time, to, message); waves counted as messages out of the coordinator.
    let mut inbox: Vec<(f64, String, Msg<Op>)> = Vec::new();
    let mut waves = 0;
    let mut sent_wave = false;
    for a in coord.begin(TxnId(txn), ops, 0) {
        if let Action::Send { to, msg } = a {
            inbox.push((net.one_way("a", &to), to, msg));
            sent_wave = true;
        }
    }
    waves += sent_wave as u32;
    loop {
        inbox.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap());
        let (t, to, msg) = inbox.pop().expect("the protocol finishes");
        if to == "coord" {
            let mut sent_wave = false;
            let mut replied = false;
            for a in coord.on_message(msg, t as i64) {
                match a {
                    Action::Send { to, msg } => {
                        inbox.push((t + net.one_way("a", &to), to, msg));
                        sent_wave = true;
                    }
                    Action::Reply { .. } => replied = true,
                    _ => {}
                }
            }
            waves += sent_wave as u32;
            if replied {
                return (waves, t);
            }
        } else {
            let i = dcs.iter().position(|d| *d == to).unwrap();
            for a in parts[i].on_message(msg, &Always, t as i64) {
                if let Action::Send { to: c, msg } = a {
                    // The coordinator lives in datacenter a.
                    inbox.push((t + net.one_way(dcs[i], "a"), c, msg));
                }
            }
        }
    }
}

fn main() {
    let ops: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut net = Net(1);
    println!("Three datacenters a, b, c; one-way 18-22 ms between them, 0.25 ms inside; client and home in a.");
    println!("{ops} writes per mode (virtual time, protocol round trips only).\n");
    println!("{:<26} {:>9} {:>9}", "write mode", "p50 ms", "p99 ms");
    for (name, mode) in [
        ("async (single region)", WriteMode::Async),
        ("semi-sync(500ms)", WriteMode::SemiSync { timeout_ms: 500 }),
        ("sync(QUORUM)", WriteMode::Sync(Consistency::Quorum)),
        (
            "sync(EACH_QUORUM)",
            WriteMode::Sync(Consistency::EachQuorum),
        ),
        ("sync(ALL)", WriteMode::Sync(Consistency::All)),
    ] {
        let mut c = ClusterClient::new(map(), "a", BalancerConfig::default(), 3);
        let mut v: Vec<f64> = (0..ops)
            .map(|i| write_latency(&mut c, &mut net, mode, i))
            .collect();
        println!(
            "{name:<26} {:>9.2} {:>9.2}",
            pct(&mut v, 0.5),
            pct(&mut v, 0.99)
        );
    }
    println!(
        "\n{:<34} {:>12} {:>9}",
        "batch (coordinator in a)", "msg rounds", "p50 ms"
    );
    for (name, dcs) in [
        ("single partition (home a)", vec!["a"]),
        ("single partition (home b)", vec!["b"]),
        ("two partitions, 2PC (a, b)", vec!["a", "b"]),
        ("two partitions, 2PC (b, c)", vec!["b", "c"]),
    ] {
        let mut lat = Vec::new();
        let mut rounds = 0;
        for i in 0..ops.min(2000) {
            let (w, t) = batch(&mut net, &dcs, i as u128 + 1);
            rounds = w;
            lat.push(t);
        }
        println!("{name:<34} {rounds:>12} {:>9.2}", pct(&mut lat, 0.5));
    }
    // Reads at level ONE from a client in `d` (no local replica): b is
    // slowed by +50 ms at t = 10 s; p99 per 500 ms window.
    println!("\nreads at ONE from a datacenter without a replica; b slowed by +50 ms at t = 10 s");
    let dcs = ["a", "b", "c", "d"]
        .iter()
        .map(|d| Datacenter::new(*d, [(format!("{d}1"), format!("http://{d}1"))]))
        .collect();
    let m = ClusterMap::new(dcs)
        .unwrap()
        .add_table(TablePlacement {
            table: "t".into(),
            replication_factor: 3,
            write_mode: WriteMode::Async,
            placement: Placement::Range {
                partitions: vec![RangePartition {
                    id: 0,
                    start: vec![],
                    datacenters: vec!["a".into(), "b".into(), "c".into()],
                }],
            },
        })
        .unwrap();
    let mut c = ClusterClient::new(m, "d", BalancerConfig::default(), 5);
    let key = encode_key_values([&PkValue::Integer(1)]);
    let mut windows: Vec<Vec<f64>> = vec![Vec::new(); 40];
    for ms in 0..20_000i64 {
        let r = c
            .read_targets("t", &key, ReadLevel::One, ms)
            .unwrap()
            .remove(0);
        let mut l = net.one_way("d", &r.datacenter) + net.one_way(&r.datacenter, "d");
        if r.datacenter == "b" && ms >= 10_000 {
            l += 50.0;
        }
        c.on_read_reply(&r, Some(l), ms + l as i64);
        windows[(ms / 500) as usize].push(l);
    }
    let baseline = pct(&mut windows[..20].concat(), 0.99);
    print!("p99 by 500 ms window from t = 9.5 s:");
    let mut recovered_at = None;
    for (i, w) in windows.iter_mut().enumerate().skip(19) {
        let p = pct(w, 0.99);
        print!(" {p:.1}");
        if i >= 20 && recovered_at.is_none() && p <= baseline * 1.10 {
            recovered_at = Some(i as f64 * 0.5 - 10.0);
        }
    }
    println!(
        "\nbaseline p99 {baseline:.1} ms; back within 10 % of it {} after the slowdown",
        match recovered_at {
            Some(s) => format!("in the window starting {s:.1} s"),
            None => "never".into(),
        }
    );
    println!(
        "reads per datacenter: {:?}",
        c.balancer().requests_per_datacenter()
    );
}
