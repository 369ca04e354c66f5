//! `serve --peer … --link-trigger delayed:D`: a hosted delayed link ships
//! records as record pushes (`POST /v1/replicate`), each visible at the
//! peer no earlier than D after its commit, and all of them by D plus a
//! few periods.

mod common;
use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tablesync_http::{ClientOptions, RowClient};

const TOKEN: &str = "delayed-token";
const DELAY: Duration = Duration::from_millis(2_000);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    child: Child,
    url: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Node {
    fn start(dir: &str, region: &str, port: u16, extra: &[&str]) -> Node {
        let mut child = command()
            .args(["--region", region, "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("TABLESYNC_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tablesync serve starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("serving region '"), "{line}");
        Node {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _stdout: stdout,
        }
    }

    fn client(&self) -> RowClient {
        let opts = ClientOptions {
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        };
        RowClient::new(&self.url, TOKEN, &opts).unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seeded(tmp: &std::path::Path, name: &str) -> String {
    let seed = tmp.join("seed.jsonl");
    std::fs::write(
        &seed,
        "{\"primary_key\":{\"uid\":0},\"columns\":{\"v\":\"seed\"},\"timestamps\":{\"v\":1}}\n",
    )
    .unwrap();
    let dir = p(tmp, name);
    ok(&[
        "--region",
        name,
        "import",
        &dir,
        "t",
        &seed.to_string_lossy(),
        "--pk",
        "uid:INTEGER",
    ]);
    dir
}

fn has(c: &RowClient, k: i64) -> bool {
    c.get_row("t", json!({ "uid": k })).unwrap().is_some()
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
    let links = a.client().get("/v1/links").unwrap();
    assert_eq!(links["links"][0]["trigger"], "delayed:2000ms", "{links}");
    let (ca, cb) = (a.client(), b.client());
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
