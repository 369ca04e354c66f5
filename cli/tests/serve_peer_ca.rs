//! `serve --peer NAME=https://… --ca FILE`: links and heartbeats to https
//! peers whose certificates a private CA signed (made here with rcgen); a
//! server given another CA refuses the peer's certificate and ships nothing.

mod common;
use common::*;
use serde_json::{json, Value as J};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tablesync_http::{ClientOptions, RowClient};

const TOKEN: &str = "peer-ca-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key) paths.
fn test_certs(dir: &std::path::Path, name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} CA"));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let path = |f: &str| {
        dir.join(format!("{name}-{f}"))
            .to_string_lossy()
            .to_string()
    };
    let out = (path("ca.pem"), path("cert.pem"), path("key.pem"));
    std::fs::write(&out.0, ca_cert.pem()).unwrap();
    std::fs::write(&out.1, cert.pem()).unwrap();
    std::fs::write(&out.2, key.serialize_pem()).unwrap();
    out
}

struct Node {
    child: Child,
    url: String,
    ca: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Node {
    #[allow(clippy::too_many_arguments)]
    fn start(
        dir: &str,
        region: &str,
        port: u16,
        peer: &str,
        peer_port: u16,
        cert: &str,
        key: &str,
        trust: &str,
        own_ca: &str,
    ) -> Node {
        let mut child = command()
            .args(["--region", region, "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--tls-cert", cert, "--tls-key", key, "--ca", trust])
            .args(["--peer", &format!("{peer}=https://127.0.0.1:{peer_port}")])
            .args(["--heartbeat", "100ms"])
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
            url: format!("https://127.0.0.1:{port}"),
            ca: own_ca.to_string(),
            _stdout: stdout,
        }
    }

    fn client(&self) -> RowClient {
        let opts = ClientOptions {
            ca_file: Some(self.ca.clone().into()),
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        };
        RowClient::new(&self.url, TOKEN, &opts).unwrap()
    }

    fn links(&self) -> J {
        self.client().get("/v1/links").unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
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

fn put(c: &RowClient, k: i64) {
    c.put_row("t", json!({ "uid": k }), json!({ "v": "w" }), "IGNORE")
        .unwrap();
}

fn has(c: &RowClient, k: i64) -> bool {
    c.get_row("t", json!({ "uid": k })).unwrap().is_some()
}

#[test]
fn https_peers_signed_by_a_private_ca_replicate_and_a_wrong_ca_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certs(tmp.path(), "good");
    let (other_ca, _, _) = test_certs(tmp.path(), "other");
    let (da, db) = (seeded(tmp.path(), "a"), seeded(tmp.path(), "b"));
    let (pa, pb) = (free_port(), free_port());
    let a = Node::start(&da, "a", pa, "b", pb, &cert, &key, &ca, &ca);
    let b = Node::start(&db, "b", pb, "a", pa, &cert, &key, &ca, &ca);
    wait_for("each side to see the other up", 15, || {
        a.links()["peers"][0]["state"] == "up" && b.links()["peers"][0]["state"] == "up"
    });
    put(&a.client(), 1);
    put(&b.client(), 2);
    wait_for("both writes on both sides", 15, || {
        has(&a.client(), 2) && has(&b.client(), 1)
    });
    drop(a);

    // a again, now trusting another CA: b's certificate is refused, so
    // nothing reaches b and the link reports the error.
    let a = Node::start(&da, "a", pa, "b", pb, &cert, &key, &other_ca, &ca);
    put(&a.client(), 3);
    wait_for("the link to report the refused certificate", 15, || {
        a.links()["links"][0]["last_error"].is_string()
    });
    let err = a.links()["links"][0]["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("https://127.0.0.1"), "{err}");
    assert!(!has(&b.client(), 3));
}
