//! Three `tablesync serve` processes in one voting group (`--peer` twice):
//! writes on the primary, SIGKILL, and a new primary elected without any
//! command (phi-accrual detection, a majority vote, an epoch bump); writes
//! continue on it; peer records sent under the old epoch are refused; the
//! old primary restarts as a standby, reports the acknowledged writes the
//! new primary lacked as exact ranges, and fails back. No acknowledged
//! write lost, none accepted under a stale epoch. About 30 s in debug.

mod common;
use common::*;
use serde_json::{json, Value as J};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tablesync_http::{HttpRemote, RowClient};

const TOKEN: &str = "auto-failover-token";
const NAMES: [&str; 3] = ["a", "b", "c"];

/// A running `serve` with the two other regions as peers; killed on drop.
type Node = Served;

impl Served {
    fn start(dir: &str, i: usize, ports: &[u16; 3]) -> Node {
        let mut cmd = command();
        cmd.args(["--region", NAMES[i], "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{}", ports[i])])
            .args(["--group-primary", "a", "--heartbeat", "100ms"]);
        for j in (0..3).filter(|j| *j != i) {
            cmd.args([
                "--peer",
                &format!("{}=http://127.0.0.1:{}", NAMES[j], ports[j]),
            ]);
        }
        let url = format!("http://127.0.0.1:{}", ports[i]);
        Served::spawn(&mut cmd, dir, url, TOKEN, None)
    }
}

fn put(c: &RowClient, k: i64) -> tablesync::Result<J> {
    c.put_row("t", json!({ "uid": k }), json!({ "v": "w" }), "IGNORE")
}

fn refused_stale(c: &RowClient, k: i64, stale_accepted: &mut u32) {
    match put(c, k) {
        Ok(_) => *stale_accepted += 1,
        Err(e) => assert_eq!(e.code(), "StaleEpoch", "{e}"),
    }
}

fn seed(tmp: &std::path::Path) -> Vec<String> {
    NAMES.iter().map(|r| seeded(tmp, r)).collect()
}

#[test]
fn sigkill_of_the_primary_elects_a_new_one_without_a_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = seed(tmp.path());
    let ports = [free_port(), free_port(), free_port()];
    let mut nodes: Vec<Node> = (0..3).map(|i| Node::start(&dirs[i], i, &ports)).collect();
    wait_for("a writable in a voting group", 15, || {
        let l = nodes[0].links();
        l["writable"] == json!(true) && l["voting"] == json!(true)
    });
    for n in &nodes[1..] {
        let l = n.links();
        assert_eq!(
            (l["role"].as_str(), l["epoch"].as_u64()),
            (Some("standby"), Some(1))
        );
    }
    let mut stale_accepted = 0u32;
    refused_stale(&nodes[1].client(Some(1)), 900_000, &mut stale_accepted);

    // Writes on a, then SIGKILL it mid-stream.
    let wa = nodes[0].client(Some(1));
    let mut acked_a = Vec::new();
    for k in 1..=100i64 {
        put(&wa, k).unwrap();
        acked_a.push(k);
    }
    wait_for("b and c to receive a's writes", 15, || {
        has(&nodes[1].client(None), 100) && has(&nodes[2].client(None), 100)
    });
    for k in 101..=130i64 {
        put(&wa, k).unwrap();
        acked_a.push(k);
    }
    nodes[0].kill9();
    let killed = Instant::now();

    // No command: b or c is elected under epoch 2, and both agree.
    let mut new_primary = None;
    wait_for("a new primary elected automatically", 20, || {
        for (i, n) in nodes.iter().enumerate().skip(1) {
            let l = n.links();
            if l["role"] == "primary" && l["epoch"].as_u64() >= Some(2) {
                new_primary = Some(i);
                return true;
            }
        }
        false
    });
    let np = new_primary.unwrap();
    let other = 3 - np;
    eprintln!(
        "'{}' elected {:?} after the kill",
        NAMES[np],
        killed.elapsed()
    );
    let epoch = nodes[np].links()["epoch"].as_u64().unwrap();
    wait_for("the other standby to follow", 10, || {
        let l = nodes[other].links();
        l["epoch"].as_u64() == Some(epoch) && l["primary"] == NAMES[np]
    });
    let missing: Vec<i64> = acked_a
        .iter()
        .copied()
        .filter(|k| !has(&nodes[np].client(None), *k))
        .collect();

    // Writes continue on the new primary once its lease begins.
    let wn = nodes[np].client(Some(epoch));
    wait_for("the new primary writable", 10, || {
        nodes[np].links()["writable"] == json!(true)
    });
    let mut acked_n = Vec::new();
    for k in 100_001..=100_050i64 {
        put(&wn, k).unwrap();
        acked_n.push(k);
    }
    refused_stale(&nodes[np].client(Some(1)), 900_001, &mut stale_accepted);
    refused_stale(
        &nodes[other].client(Some(epoch)),
        900_002,
        &mut stale_accepted,
    );

    // Peer records stamped with the old epoch (a fenced old primary that
    // has not learnt the new one), or not stamped at all (a client outside
    // the group), are refused before they are read.
    for path_is_push in [false, true] {
        let unstamped = HttpRemote::new(&nodes[np].url, TOKEN).unwrap();
        let e = if path_is_push {
            unstamped.push_round_trip(b"not a frame", 1 << 20)
        } else {
            unstamped.round_trip(b"not a frame", 1 << 20)
        }
        .unwrap_err();
        assert_eq!(e.code(), "StaleEpoch", "{e}");
        let remote = HttpRemote::new(&nodes[np].url, TOKEN)
            .unwrap()
            .with_epoch(Arc::new(AtomicU64::new(1)));
        let e = if path_is_push {
            remote.push_round_trip(b"not a frame", 1 << 20)
        } else {
            remote.round_trip(b"not a frame", 1 << 20)
        }
        .unwrap_err();
        assert_eq!(e.code(), "StaleEpoch", "{e}");
        // The current epoch passes the check (and the frame is then refused
        // for what it is).
        let remote = HttpRemote::new(&nodes[np].url, TOKEN)
            .unwrap()
            .with_epoch(Arc::new(AtomicU64::new(epoch)));
        let e = remote.round_trip(b"not a frame", 1 << 20).unwrap_err();
        assert_ne!(e.code(), "StaleEpoch", "{e}");
    }

    // The old primary restarts, learns the epoch, must resync, and reports
    // what the new primary lacked as exact ranges.
    nodes[0] = Node::start(&dirs[0], 0, &ports);
    wait_for("a to adopt the new epoch and know its handover", 15, || {
        let l = nodes[0].links();
        l["epoch"].as_u64() == Some(epoch) && l["role"] == "standby" && l["lost_pending"] == false
    });
    let l = nodes[0].links();
    assert_eq!(l["needs_resync"], true, "{l}");
    assert_eq!(l["writable"], false, "{l}");
    for e in [None, Some(1), Some(epoch)] {
        refused_stale(&nodes[0].client(e), 900_003, &mut stale_accepted);
    }
    let lost: Vec<(u64, u64)> = l["lost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(
                (r["origin"].as_str(), r["epoch"].as_u64()),
                (Some("a"), Some(1))
            );
            (
                r["from_seq"].as_u64().unwrap(),
                r["to_seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let lost_count: u64 = lost.iter().map(|(f, t)| t - f + 1).sum();
    // A lost range names writes the group no longer holds: a write the new
    // primary lacked but the other standby held (it reached that standby
    // just before the election) is not lost — the check below proves every
    // such write reaches every region.
    let missing_now: Vec<i64> = acked_a
        .iter()
        .copied()
        .filter(|k| !has(&nodes[np].client(None), *k) && !has(&nodes[other].client(None), *k))
        .collect();
    // Every write the new primary still lacked after the election lies
    // beyond what it held when it won (its held seq is contiguous), so it
    // is inside the reported range.
    assert!(
        missing.len() as u64 <= lost_count,
        "acknowledged writes {missing:?} missing on the new primary, reported lost {lost:?}"
    );
    assert!(
        missing_now.len() as u64 <= lost_count,
        "acknowledged writes {missing_now:?} held by no other region at the election, reported lost {lost:?}"
    );
    // Only the last 30 writes can be reported (1..=100 reached b and c
    // before the kill).
    assert!(lost_count <= 30, "reported lost {lost:?}");
    eprintln!(
        "{} acknowledged writes missing at the election ({} when the old primary rejoined), reported lost {lost:?}",
        missing.len(),
        missing_now.len()
    );

    // Failback: a resyncs until digests match, then leads a newer epoch.
    let fb = tablesync_env(&["failback", &nodes[0].url], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert!(fb.ok, "{}{}", fb.stdout, fb.stderr);
    let l = nodes[0].links();
    assert_eq!(l["primary"], "a", "{l}");
    let epoch_a = l["epoch"].as_u64().unwrap();
    assert!(epoch_a > epoch);
    wait_for("a writable again", 10, || {
        nodes[0].links()["writable"] == json!(true)
    });
    let wa2 = nodes[0].client(Some(epoch_a));
    let mut acked_a2 = Vec::new();
    for k in 200_001..=200_020i64 {
        put(&wa2, k).unwrap();
        acked_a2.push(k);
    }
    refused_stale(&nodes[np].client(Some(epoch)), 900_004, &mut stale_accepted);
    assert_eq!(stale_accepted, 0, "writes accepted under a stale epoch");

    let all: Vec<i64> = acked_a
        .iter()
        .chain(&acked_n)
        .chain(&acked_a2)
        .copied()
        .collect();
    wait_for("every region to hold every acknowledged write", 20, || {
        nodes
            .iter()
            .all(|n| all.iter().all(|k| has(&n.client(None), *k)))
    });
    for k in 900_000..=900_004 {
        assert!(nodes.iter().all(|n| !has(&n.client(None), k)));
    }
    for n in &mut nodes {
        n.term();
    }
    assert_eq!(digest(&dirs[0], "t"), digest(&dirs[1], "t"));
    assert_eq!(digest(&dirs[0], "t"), digest(&dirs[2], "t"));
}

/// Figures, not a timed test: `cargo test --release -p tablesync-cli --test
/// serve_failover_auto -- --ignored --nocapture` (rounds from
/// `TABLESYNC_FAILOVER_ROUNDS`, default 3). Each round starts three fresh
/// regions, writes on the primary, SIGKILLs it and measures detection (kill
/// → a standby's `/v1/links` shows it down) and the automatic RTO (the last
/// write acknowledged by the old primary → the first one acknowledged by
/// the elected primary; clients retry every 10 ms, no failover command).
/// Targets from issue 13: detection p99 ≤ 1 s, RTO ≤ 2 s.
#[test]
#[ignore = "benchmark: run with --ignored --nocapture on a quiet machine"]
fn automatic_failover_detection_and_rto_figures() {
    let rounds: usize = std::env::var("TABLESYNC_FAILOVER_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (mut detect, mut rto) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = seed(tmp.path());
        let ports = [free_port(), free_port(), free_port()];
        let mut nodes: Vec<Node> = (0..3).map(|i| Node::start(&dirs[i], i, &ports)).collect();
        wait_for("a writable", 15, || {
            nodes[0].links()["writable"] == json!(true)
        });
        let wa = nodes[0].client(Some(1));
        for k in 1..=50 {
            put(&wa, k).unwrap();
        }
        let last_ack = Instant::now();
        nodes[0].kill9();
        let killed = Instant::now();
        let (mut down, mut first) = (None, None);
        let mut k = 1_000;
        while down.is_none() || first.is_none() {
            assert!(killed.elapsed() < Duration::from_secs(20), "no new primary");
            let a_down = nodes[1].links()["peers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "a" && p["state"] == "down");
            if down.is_none() && a_down {
                down = Some(killed.elapsed());
            }
            if first.is_none() {
                for n in &nodes[1..] {
                    let e = n.links()["epoch"].as_u64().unwrap();
                    k += 1;
                    if put(&n.client(Some(e)), k).is_ok() {
                        first = Some(last_ack.elapsed());
                        break;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        detect.push(down.unwrap());
        rto.push(first.unwrap());
    }
    let (d50, d99) = (quantile(&mut detect, 0.5), quantile(&mut detect, 0.99));
    let (r50, r99) = (quantile(&mut rto, 0.5), quantile(&mut rto, 0.99));
    println!("rounds {rounds}, three regions (100 ms heartbeats, phi 8, lease 1 s, grace 1.5 s)");
    println!(
        "detection  p50 {d50:?}  p99 {d99:?}  target p99 1s  ratio {:.2}",
        d99.as_secs_f64()
    );
    println!(
        "auto RTO   p50 {r50:?}  p99 {r99:?}  target 2s  ratio {:.2}",
        r99.as_secs_f64() / 2.0
    );
}
