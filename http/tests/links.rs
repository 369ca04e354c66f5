//! The hosting routes with a stand-in [`LinkHost`]: `GET /v1/links`, the
//! link and peer families in `/metrics`, the group routes, the epoch
//! header on writes, and the dashboard page.

mod common;
use common::*;
use serde_json::{json, Value as J};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tablesync::{Error, Result};
use tablesync_http::{serve, Access, ClientOptions, Hosting, LinkHost, RowClient, ServerConfig};

const TOKEN: &str = "links-token";
const READ: &str = "links-read-token";

struct Fake {
    epoch: AtomicU64,
}

impl LinkHost for Fake {
    fn links(&self) -> J {
        json!({"region": "us", "epoch": self.epoch.load(Ordering::SeqCst), "role": "primary",
               "links": [{"name": "us->eu", "peer": "eu", "lag_ms": 12}],
               "peers": [{"name": "eu", "state": "up", "phi": 0.4, "last_heard_ms": 1}]})
    }
    fn metrics(&self) -> String {
        "# TYPE tablesync_link_lag_ms gauge\ntablesync_link_lag_ms{link=\"us->eu\"} 12\n# TYPE tablesync_peer_up gauge\ntablesync_peer_up{peer=\"eu\"} 1\n".into()
    }
    fn heartbeat(&self, body: &J) -> Result<J> {
        if body.get("from").and_then(J::as_str) != Some("eu") {
            return Err(Error::invalid("heartbeat from a stranger"));
        }
        Ok(json!({"from": "us"}))
    }
    fn failover(&self, _: &J) -> Result<J> {
        Ok(json!({"epoch": self.epoch.fetch_add(1, Ordering::SeqCst) + 1}))
    }
    fn failback(&self, _: &J) -> Result<J> {
        Err(Error::Sync("digests differ".into()))
    }
    fn check_epoch(&self, epoch: u64) -> Result<()> {
        let e = self.epoch.load(Ordering::SeqCst);
        if epoch == e {
            Ok(())
        } else {
            Err(Error::StaleEpoch(format!("carries {epoch}, region at {e}")))
        }
    }
}

fn client(url: &str, token: &str, epoch: Option<u64>) -> RowClient {
    RowClient::new(url, token, &ClientOptions::default())
        .unwrap()
        .with_epoch(epoch)
}

#[test]
fn hosted_links_routes_metrics_epoch_header_and_dashboard() {
    let host = Arc::new(Fake {
        epoch: AtomicU64::new(3),
    });
    let srv = serve(
        region("us"),
        ServerConfig {
            token: TOKEN.into(),
            tokens: vec![(READ.into(), Access::ReadOnly)],
            hosting: Some(Hosting(host.clone())),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let url = srv.url();
    // GET /v1/links with a read-only token.
    let doc = client(&url, READ, None).get("/v1/links").unwrap();
    assert_eq!(doc["region"], "us");
    assert_eq!(doc["links"][0]["name"], "us->eu");
    // Without a token: refused.
    assert!(get(srv.addr(), "/v1/links", None).starts_with("HTTP/1.1 401"));
    // The metrics keep their closing # EOF after the host's families.
    let m = get(srv.addr(), "/metrics", Some(TOKEN));
    let body = m.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let lag = scrape
        .samples
        .iter()
        .find(|s| s.metric == "tablesync_link_lag_ms")
        .expect("link lag sample");
    assert_eq!(lag.labels.get("link"), Some("us->eu"));
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric == "tablesync_peer_up"));
    // Group routes: read-write only; errors keep their code.
    let ro = client(&url, READ, None);
    assert!(ro.call("/v1/group/failover", &json!({})).is_err());
    assert_eq!(host.epoch.load(Ordering::SeqCst), 3);
    let rw = client(&url, TOKEN, None);
    assert_eq!(
        rw.call("/v1/group/heartbeat", &json!({"from": "eu"}))
            .unwrap()["from"],
        "us"
    );
    let e = rw
        .call("/v1/group/heartbeat", &json!({"from": "xx"}))
        .unwrap_err();
    assert_eq!(e.code(), "OTSParameterInvalid");
    assert_eq!(
        rw.call("/v1/group/failover", &json!({})).unwrap()["epoch"],
        4
    );
    assert!(rw.call("/v1/group/failback", &json!({})).is_err());
    assert!(get(srv.addr(), "/v1/group/elect", Some(TOKEN)).starts_with("HTTP/1.1 405"));
    // Writes carrying the epoch: the current one passes, a stale one is refused.
    let put = |c: &RowClient, k: i64| c.put_row("t", json!({"k": k}), json!({"v": 1}), "IGNORE");
    put(&client(&url, TOKEN, Some(4)), 1).unwrap();
    let e = put(&client(&url, TOKEN, Some(3)), 2).unwrap_err();
    assert_eq!(e.code(), "StaleEpoch", "{e}");
    put(&client(&url, TOKEN, None), 3).unwrap();
    let got = client(&url, TOKEN, None)
        .get_row("t", json!({"k": 2}))
        .unwrap();
    assert!(got.is_none(), "the refused write must not land");
    // The dashboard: public, embedded, no external script.
    let page = get(srv.addr(), "/", None);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<script src=\"/dashboard.js\">"));
    assert!(!page.contains("https://"), "no CDN");
    let js = get(srv.addr(), "/dashboard.js", None);
    assert!(js.contains("/v1/links") && js.contains("/metrics"));
    srv.stop();
}

#[test]
fn without_hosting_the_links_routes_are_not_found() {
    let srv = serve(
        region("solo"),
        ServerConfig {
            token: TOKEN.into(),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    assert!(get(srv.addr(), "/v1/links", Some(TOKEN)).starts_with("HTTP/1.1 404"));
    // The epoch header is ignored without a group.
    client(&srv.url(), TOKEN, Some(7))
        .put_row("t", json!({"k": 1}), json!({"v": 1}), "IGNORE")
        .unwrap();
    srv.stop();
}
