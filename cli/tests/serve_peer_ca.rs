//! `serve --peer NAME=https://… --ca FILE`: links and heartbeats to https
//! peers whose certificates a private CA signed (made here with rcgen); a
//! server given another CA refuses the peer's certificate and ships nothing.

mod common;
use common::*;
use serde_json::json;
use tablesync_http::RowClient;

const TOKEN: &str = "peer-ca-token";

type Node = Served;

impl Served {
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
        let mut cmd = command();
        cmd.args(["--region", region, "serve", dir])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--tls-cert", cert, "--tls-key", key, "--ca", trust])
            .args(["--peer", &format!("{peer}=https://127.0.0.1:{peer_port}")])
            .args(["--heartbeat", "100ms"]);
        let url = format!("https://127.0.0.1:{port}");
        Served::spawn(&mut cmd, dir, url, TOKEN, Some(own_ca))
    }
}

fn put(c: &RowClient, k: i64) {
    c.put_row("t", json!({ "uid": k }), json!({ "v": "w" }), "IGNORE")
        .unwrap();
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
    put(&a.client(None), 1);
    put(&b.client(None), 2);
    wait_for("both writes on both sides", 15, || {
        has(&a.client(None), 2) && has(&b.client(None), 1)
    });
    drop(a);

    // a again, now trusting another CA: b's certificate is refused, so
    // nothing reaches b and the link reports the error.
    let a = Node::start(&da, "a", pa, "b", pb, &cert, &key, &other_ca, &ca);
    put(&a.client(None), 3);
    wait_for("the link to report the refused certificate", 15, || {
        a.links()["links"][0]["last_error"].is_string()
    });
    let err = a.links()["links"][0]["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("https://127.0.0.1"), "{err}");
    assert!(!has(&b.client(None), 3));
}
