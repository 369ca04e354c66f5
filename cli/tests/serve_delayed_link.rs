//! `serve --peer … --link-trigger delayed:D`: a hosted delayed link ships
//! records as record pushes (`POST /v1/replicate`), each visible at the
//! peer no earlier than D after its commit, and all of them by D plus a
//! few periods.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const TOKEN: &str = "delayed-token";
const DELAY: Duration = Duration::from_millis(2_000);

type Node = Served;

impl Served {
    fn start(dir: &str, region: &str, port: u16, extra: &[&str]) -> Node {
        let mut cmd = command();
        cmd.args(["--region", region, "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra);
        Served::spawn(
            &mut cmd,
            dir,
            format!("http://127.0.0.1:{port}"),
            TOKEN,
            None,
        )
    }
}

#[test]
fn a_hosted_delayed_link_shows_nothing_before_the_delay_and_everything_after() {
    let tmp = tempfile::tempdir().unwrap();
    let (da, db) = (seeded(tmp.path(), "a"), seeded(tmp.path(), "b"));
    let (pa, pb) = (free_port(), free_port());
    let b = Node::start(&db, "b", pb, &[]);
    let peer = format!("b={}", b.url);
    let a = Node::start(
        &da,
        "a",
        pa,
        &["--peer", &peer, "--link-trigger", "delayed:2s"],
    );
    let links = a.client(None).get("/v1/links").unwrap();
    assert_eq!(links["links"][0]["trigger"], "delayed:2000ms", "{links}");
    let (ca, cb) = (a.client(None), b.client(None));
    let mut sent = Vec::new();
    for k in 1..=20i64 {
        sent.push(Instant::now()); // before the commit: a lower bound
        ca.put_row("t", json!({ "uid": k }), json!({ "v": "w" }), "IGNORE")
            .unwrap();
    }
    // Observed visibility at b is never earlier than the delay after the
    // write was sent (the commit came later, visibility later still).
    let mut seen = vec![None; 20];
    let start = Instant::now();
    while seen.iter().any(Option::is_none) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never delivered: {seen:?}"
        );
        for (i, s) in seen.iter_mut().enumerate() {
            if s.is_none() && has(&cb, i as i64 + 1) {
                *s = Some(sent[i].elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for (i, s) in seen.iter().enumerate() {
        assert!(s.unwrap() >= DELAY, "row {} visible after {s:?}", i + 1);
    }
    // A delayed link moves data one way only.
    let both = tablesync_env(
        &[
            "--region",
            "c",
            "serve",
            &p(tmp.path(), "c"),
            "--listen",
            "127.0.0.1:0",
            "--peer",
            &peer,
            "--link-trigger",
            "delayed:2s",
            "--link-direction",
            "both",
        ],
        &[("TABLESYNC_TOKEN", TOKEN)],
    );
    assert!(!both.ok);
    assert!(
        both.stderr.contains("--link-direction push"),
        "{}",
        both.stderr
    );
}
