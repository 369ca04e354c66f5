//! Two `tablesync serve` processes with realtime links both ways: writes
//! on the primary, SIGKILL, detection, failover, writes on the new primary,
//! the old one restarted as a standby, failback; no acknowledged write lost
//! (beyond the reported lost range, merged back) and no write accepted under
//! a stale epoch. Bounded to about 30 s in a debug build.

mod common;
use common::*;
use serde_json::{json, Value as J};
use std::time::{Duration, Instant};
use tablesync_http::RowClient;

const TOKEN: &str = "failover-token";

/// A running `serve --peer`; killed when dropped.
type Node = Served;

impl Served {
    fn start(dir: &str, region: &str, port: u16, peer: &str, peer_port: u16) -> Node {
        let mut cmd = command();
        cmd.args(["--region", region, "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--peer", &format!("{peer}=http://127.0.0.1:{peer_port}")])
            .args(["--group-primary", "a", "--heartbeat", "100ms"]);
        Served::spawn(
            &mut cmd,
            dir,
            format!("http://127.0.0.1:{port}"),
            TOKEN,
            None,
        )
    }
}

fn put(c: &RowClient, k: i64) -> tablesync::Result<J> {
    c.put_row("t", json!({ "uid": k }), json!({ "v": "w" }), "IGNORE")
}

fn peer_state(links: &J) -> String {
    links["peers"][0]["state"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// A write under a stale (or any refused) epoch: must fail with StaleEpoch.
fn refused_stale(c: &RowClient, k: i64, stale_accepted: &mut u32) {
    match put(c, k) {
        Ok(_) => *stale_accepted += 1,
        Err(e) => assert_eq!(e.code(), "StaleEpoch", "{e}"),
    }
}

#[test]
fn sigkill_failover_writes_continue_restart_rejoins_failback_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (da, db) = (p(tmp.path(), "a"), p(tmp.path(), "b"));
    // The same table on both sides (one seed row, same stamp).
    let seed = tmp.path().join("seed.jsonl");
    std::fs::write(
        &seed,
        "{\"primary_key\":{\"uid\":0},\"columns\":{\"v\":\"seed\"},\"timestamps\":{\"v\":1}}\n",
    )
    .unwrap();
    for (dir, region) in [(&da, "a"), (&db, "b")] {
        ok(&[
            "--region",
            region,
            "import",
            dir,
            "t",
            &seed.to_string_lossy(),
            "--pk",
            "uid:INTEGER",
        ]);
    }
    let (pa, pb) = (free_port(), free_port());
    let mut a = Node::start(&da, "a", pa, "b", pb);
    let mut b = Node::start(&db, "b", pb, "a", pa);
    wait_for("a writable with b up", 10, || {
        let l = a.links();
        l["writable"] == json!(true) && peer_state(&l) == "up"
    });
    let l = a.links();
    assert_eq!(l["role"], "primary");
    assert_eq!(l["epoch"], 1);
    assert_eq!(l["links"][0]["name"], "a->b");
    assert_eq!(l["links"][0]["trigger"], "realtime");
    assert_eq!(b.links()["role"], "standby");

    let mut stale_accepted = 0u32;
    // The standby refuses local writes.
    refused_stale(&b.client(Some(1)), 900_000, &mut stale_accepted);

    // Phase 1: writes on the primary, then SIGKILL it mid-stream.
    let wa = a.client(Some(1));
    let mut acked_a = Vec::new();
    for k in 1..=150i64 {
        put(&wa, k).unwrap();
        acked_a.push(k);
    }
    wait_for("b to receive a's writes", 10, || has(&b.client(None), 150));
    for k in 151..=180i64 {
        put(&wa, k).unwrap();
        acked_a.push(k);
    }
    a.kill9();
    let killed = Instant::now();

    // Detection: b's view of a goes down.
    let detect = wait_for("b to see a down", 10, || peer_state(&b.links()) == "down");
    eprintln!("detected a down after {detect:?}");
    let screen = tablesync_env(&["status", &b.url], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert!(screen.ok, "{}", screen.stderr);
    assert!(
        screen
            .stdout
            .lines()
            .any(|l| l.trim().starts_with('a') && l.contains("down")),
        "{}",
        screen.stdout
    );

    // Failover to b.
    let rb = b.client(None);
    let fo = rb.call("/v1/group/failover", &json!({})).unwrap();
    assert_eq!(fo["epoch"], 2, "{fo}");
    assert_eq!(fo["primary"], "b");
    let held = fo["held_seq"].as_u64().unwrap();
    let missing: Vec<i64> = acked_a.iter().copied().filter(|k| !has(&rb, *k)).collect();
    // Phase 2: writes continue on the new primary under epoch 2.
    let wb = b.client(Some(2));
    let mut acked_b = Vec::new();
    let first = Instant::now();
    for k in 100_001..=100_100i64 {
        put(&wb, k).unwrap();
        acked_b.push(k);
    }
    eprintln!(
        "first write on b {:?} after the kill",
        first.duration_since(killed)
    );
    refused_stale(&b.client(Some(1)), 900_001, &mut stale_accepted);

    // The old primary restarts and rejoins as a standby needing a resync.
    let mut a = Node::start(&da, "a", pa, "b", pb);
    wait_for("a to adopt epoch 2", 10, || {
        let l = a.links();
        l["epoch"] == json!(2) && l["role"] == "standby"
    });
    let l = a.links();
    assert_eq!(l["needs_resync"], true, "{l}");
    assert_eq!(l["writable"], false, "{l}");
    for epoch in [None, Some(1), Some(2)] {
        refused_stale(&a.client(epoch), 900_002, &mut stale_accepted);
    }
    // The writes b lacked at failover are reported as an exact range.
    let lost: Vec<(u64, u64)> = l["lost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["origin"], "a");
            assert_eq!(r["epoch"], 1);
            (
                r["from_seq"].as_u64().unwrap(),
                r["to_seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let lost_count: u64 = lost.iter().map(|(f, t)| t - f + 1).sum();
    assert_eq!(missing.is_empty(), lost.is_empty(), "{missing:?} {lost:?}");
    assert!(missing.len() as u64 <= lost_count, "{missing:?} {lost:?}");
    if let Some((from, _)) = lost.first() {
        assert_eq!(*from, held + 1);
    }
    eprintln!(
        "{} acknowledged writes missing at failover, reported lost {lost:?}",
        missing.len()
    );
    // Promoting the old primary without a resync is refused.
    let ra = a.client(None);
    let e = ra.call("/v1/group/failover", &json!({})).unwrap_err();
    assert_eq!(e.code(), "OTSParameterInvalid", "{e}");

    // Failback: resync until digests match, then a leads epoch 3.
    let fb = tablesync_env(&["failback", &a.url], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert!(fb.ok, "{}{}", fb.stdout, fb.stderr);
    assert!(fb.stdout.contains("epoch 3: 'a'"), "{}", fb.stdout);
    let l = a.links();
    assert_eq!(
        (l["epoch"].as_u64(), l["primary"].as_str()),
        (Some(3), Some("a"))
    );
    wait_for("b to adopt epoch 3", 10, || {
        let l = b.links();
        l["epoch"] == json!(3) && l["role"] == "standby"
    });
    wait_for("a writable again", 10, || {
        a.links()["writable"] == json!(true)
    });
    let wa3 = a.client(Some(3));
    let mut acked_a3 = Vec::new();
    for k in 200_001..=200_020i64 {
        put(&wa3, k).unwrap();
        acked_a3.push(k);
    }
    refused_stale(&b.client(Some(3)), 900_003, &mut stale_accepted);
    refused_stale(&a.client(Some(2)), 900_004, &mut stale_accepted);
    assert_eq!(stale_accepted, 0, "writes accepted under a stale epoch");

    // Every acknowledged write reaches both regions.
    let all: Vec<i64> = acked_a
        .iter()
        .chain(&acked_b)
        .chain(&acked_a3)
        .copied()
        .collect();
    wait_for("both regions to hold every acknowledged write", 15, || {
        let (ca, cb) = (a.client(None), b.client(None));
        all.iter().all(|k| has(&ca, *k) && has(&cb, *k))
    });
    // None of the refused writes landed anywhere.
    for k in 900_000..=900_004 {
        assert!(!has(&a.client(None), k) && !has(&b.client(None), k));
    }
    a.term();
    b.term();
    assert_eq!(digest(&da, "t"), digest(&db, "t"));
}

/// Figures, not a timed test: `cargo test --release -p tablesync-cli --test
/// serve_failover -- --ignored --nocapture` (rounds from
/// `TABLESYNC_FAILOVER_ROUNDS`, default 3). Each round starts a fresh pair,
/// writes on the primary, SIGKILLs it and measures detection (kill → the
/// standby's `/v1/links` shows it down) and RTO (the last acknowledged write
/// on the old primary → the first one acknowledged by the new primary,
/// failover request included). Targets from issue 13: detection p99 ≤ 1 s
/// with 100 ms heartbeats, RTO ≤ 2 s.
#[test]
#[ignore = "benchmark: run with --ignored --nocapture on a quiet machine"]
fn failover_detection_and_rto_figures() {
    let rounds: usize = std::env::var("TABLESYNC_FAILOVER_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (mut detect, mut rto) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let tmp = tempfile::tempdir().unwrap();
        let (da, db) = (p(tmp.path(), "a"), p(tmp.path(), "b"));
        let seed = tmp.path().join("seed.jsonl");
        std::fs::write(
            &seed,
            "{\"primary_key\":{\"uid\":0},\"columns\":{\"v\":\"s\"},\"timestamps\":{\"v\":1}}\n",
        )
        .unwrap();
        for (dir, region) in [(&da, "a"), (&db, "b")] {
            let s = seed.to_string_lossy();
            ok(&[
                "--region",
                region,
                "import",
                dir,
                "t",
                &s,
                "--pk",
                "uid:INTEGER",
            ]);
        }
        let (pa, pb) = (free_port(), free_port());
        let mut a = Node::start(&da, "a", pa, "b", pb);
        let b = Node::start(&db, "b", pb, "a", pa);
        wait_for("a writable", 10, || a.links()["writable"] == json!(true));
        let wa = a.client(Some(1));
        for k in 1..=50 {
            put(&wa, k).unwrap();
        }
        let last_ack = Instant::now();
        a.kill9();
        let killed = Instant::now();
        let mut down = None;
        while down.is_none() {
            if peer_state(&b.links()) == "down" {
                down = Some(killed.elapsed());
            }
            assert!(killed.elapsed() < Duration::from_secs(10), "never detected");
            std::thread::sleep(Duration::from_millis(5));
        }
        b.client(None)
            .call("/v1/group/failover", &json!({}))
            .unwrap();
        put(&b.client(Some(2)), 1_000).unwrap();
        rto.push(last_ack.elapsed());
        detect.push(down.unwrap());
    }
    let (d50, d99) = (quantile(&mut detect, 0.5), quantile(&mut detect, 0.99));
    let (r50, r99) = (quantile(&mut rto, 0.5), quantile(&mut rto, 0.99));
    println!("rounds {rounds} (100 ms heartbeats, phi threshold 8, loopback)");
    println!(
        "detection  p50 {d50:?}  p99 {d99:?}  target p99 1s  ratio {:.2}",
        d99.as_secs_f64() / 1.0
    );
    println!(
        "RTO        p50 {r50:?}  p99 {r99:?}  target 2s  ratio {:.2}",
        r99.as_secs_f64() / 2.0
    );
}
