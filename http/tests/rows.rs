//! The row API: conditions are checked at the region (two racing clients
//! cannot both pass EXPECT_NOT_EXIST), read-only tokens cannot write, the
//! change feed wakes on commit, and /metrics parses as Prometheus text.

mod common;
use common::*;
use serde_json::json;
use std::io::BufRead;
use std::sync::{Arc, Barrier, Mutex, RwLock};
use std::time::{Duration, Instant};
use tablesync_http::{serve, Access, ClientOptions, RowClient, ServerConfig};

fn config() -> ServerConfig {
    ServerConfig {
        token: "rw".into(),
        tokens: vec![("ro".into(), Access::ReadOnly)],
        ..ServerConfig::default()
    }
}

fn client(url: &str, token: &str) -> RowClient {
    RowClient::new(url, token, &ClientOptions::default()).unwrap()
}

#[test]
fn two_racing_expect_not_exist_puts_exactly_one_wins() {
    let handle = serve(Arc::new(RwLock::new(region("server"))), config()).unwrap();
    let url = handle.url();
    const KEYS: i64 = 40;
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = (0..2)
        .map(|who| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = client(&url, "rw");
                let mut won = Vec::new();
                for k in 0..KEYS {
                    barrier.wait();
                    match c.put_row(
                        "t",
                        json!({"k": k}),
                        json!({"who": who}),
                        "EXPECT_NOT_EXIST",
                    ) {
                        Ok(_) => won.push(k),
                        Err(e) => assert_eq!(e.code(), "OTSConditionCheckFail", "{e}"),
                    }
                }
                won
            })
        })
        .collect();
    let wins: Vec<Vec<i64>> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    let c = client(&url, "ro");
    for k in 0..KEYS {
        let winners: Vec<usize> = (0..2).filter(|&w| wins[w].contains(&k)).collect();
        assert_eq!(winners.len(), 1, "key {k}: winners {winners:?}");
        let row = c
            .get_row("t", json!({"k": k}))
            .unwrap()
            .expect("the row exists");
        assert_eq!(row["columns"]["who"], json!(winners[0]), "{row}");
    }
    handle.stop();
}

#[test]
fn row_operations_run_at_the_region_and_read_only_tokens_only_read() {
    let handle = serve(Arc::new(Mutex::new(region("server"))), config()).unwrap();
    let rw = client(&handle.url(), "rw");
    let ro = client(&handle.url(), "ro");
    rw.put_row(
        "t",
        json!({"k": 1}),
        json!({"v": 1, "s": "x", "b": {"$binary": "AAE="}}),
        "IGNORE",
    )
    .unwrap();
    let err = ro
        .put_row("t", json!({"k": 2}), json!({"v": 2}), "IGNORE")
        .unwrap_err();
    assert!(err.message().contains("403"), "{err}");
    let row = ro.get_row("t", json!({"k": 1})).unwrap().unwrap();
    assert_eq!(
        row["columns"],
        json!({"b": {"$binary": "AAE="}, "s": "x", "v": 1})
    );
    assert!(ro.get_row("t", json!({"k": 2})).unwrap().is_none());
    // Update with a condition, increment, delete_all.
    rw.call(
        "/v1/row/update",
        &json!({"table": "t", "primary_key": {"k": 1}, "increment": {"v": 41},
                "delete_all": ["s"], "condition": "EXPECT_EXIST"}),
    )
    .unwrap();
    let row = ro.get_row("t", json!({"k": 1})).unwrap().unwrap();
    assert_eq!(row["columns"], json!({"b": {"$binary": "AAE="}, "v": 42}));
    let err = rw
        .call(
            "/v1/row/update",
            &json!({"table": "t", "primary_key": {"k": 9}, "put": {"v": 1}, "condition": "EXPECT_EXIST"}),
        )
        .unwrap_err();
    assert_eq!(err.code(), "OTSConditionCheckFail");
    // A batch: each op on its own, all under one lock.
    let out = rw
        .call(
            "/v1/row/batch",
            &json!({"ops": [
                {"op": "put", "table": "t", "primary_key": {"k": 2}, "columns": {"v": 2}},
                {"op": "put", "table": "t", "primary_key": {"k": 1}, "columns": {"v": 0}, "condition": "EXPECT_NOT_EXIST"},
                {"op": "put", "table": "t", "primary_key": {"k": 3}, "columns": {"v": 3}},
            ]}),
        )
        .unwrap();
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[0]["primary_key"], json!({"k": 2}));
    assert_eq!(results[1]["code"], json!("OTSConditionCheckFail"));
    assert_eq!(results[2]["primary_key"], json!({"k": 3}));
    // A range read, one page of two.
    let page = ro
        .call(
            "/v1/row/range",
            &json!({"table": "t", "start": {"k": {"$inf": "min"}}, "end": {"k": {"$inf": "max"}}, "limit": 2}),
        )
        .unwrap();
    let keys: Vec<_> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["primary_key"]["k"].clone())
        .collect();
    assert_eq!(keys, vec![json!(1), json!(2)]);
    assert_eq!(page["next_start"], json!({"k": 3}));
    // Column conditions are checked at the region too.
    let cond =
        |v: i64| json!({"row": "EXPECT_EXIST", "column": {"column": "v", "op": "==", "value": v}});
    let put_if = |v: i64| {
        rw.call(
            "/v1/row/put",
            &json!({"table": "t", "primary_key": {"k": 2}, "columns": [["v", 20, 1000], ["w", 1.5]], "condition": cond(v)}),
        )
    };
    assert_eq!(put_if(7).unwrap_err().code(), "OTSConditionCheckFail");
    put_if(2).unwrap();
    let row = ro.get_row("t", json!({"k": 2})).unwrap().unwrap();
    assert_eq!(row["columns"], json!({"v": 20, "w": 1.5}));
    // One version deleted by its timestamp.
    rw.call(
        "/v1/row/update",
        &json!({"table": "t", "primary_key": {"k": 2}, "delete": [["v", 1000]],
                "condition": {"row": "IGNORE", "column": {"or": [
                    {"column": "w", "op": ">", "value": 1.0},
                    {"not": {"column": "v", "op": "<", "value": 0}}]}}}),
    )
    .unwrap();
    let row = ro.get_row("t", json!({"k": 2})).unwrap().unwrap();
    assert_eq!(row["columns"], json!({"w": 1.5}));
    rw.delete_row("t", json!({"k": 3}), "EXPECT_EXIST").unwrap();
    assert!(ro.get_row("t", json!({"k": 3})).unwrap().is_none());
    // Bad input: typed errors, nothing applied.
    assert_eq!(
        rw.put_row("nope", json!({"k": 1}), json!({}), "IGNORE")
            .unwrap_err()
            .code(),
        "OTSObjectNotExist"
    );
    assert_eq!(
        rw.put_row("t", json!({"x": 1}), json!({}), "IGNORE")
            .unwrap_err()
            .code(),
        "OTSInvalidPK"
    );
    assert_eq!(
        rw.call("/v1/row/put", &json!("not an object"))
            .unwrap_err()
            .code(),
        "OTSParameterInvalid"
    );
    handle.stop();
}

#[test]
fn a_long_poll_returns_as_soon_as_a_record_commits() {
    let handle = serve(Arc::new(RwLock::new(region("server"))), config()).unwrap();
    let rw = client(&handle.url(), "rw");
    let ro = client(&handle.url(), "ro");
    rw.put_row("t", json!({"k": 1}), json!({"v": 1}), "IGNORE")
        .unwrap();
    let (first, next) = ro.changes(0, Duration::ZERO).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["primary_key"], json!({"k": 1}));
    // Nothing new: a short wait returns empty.
    let t = Instant::now();
    let (none, same) = ro.changes(next, Duration::from_millis(300)).unwrap();
    assert!(none.is_empty() && same == next);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // A waiting subscriber wakes within a fraction of its wait.
    let url = handle.url();
    let waiter = std::thread::spawn(move || {
        let mut feed = client(&url, "ro").subscribe(next, Duration::from_secs(20));
        let rec = feed.next().unwrap().unwrap();
        (rec, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let committed = Instant::now();
    rw.put_row("t", json!({"k": 2}), json!({"v": 2}), "IGNORE")
        .unwrap();
    let (rec, seen) = waiter.join().unwrap();
    assert_eq!(rec["primary_key"], json!({"k": 2}), "{rec}");
    assert_eq!(rec["kind"], json!("PUT"));
    let lag = seen.saturating_duration_since(committed);
    assert!(lag < Duration::from_secs(2), "the feed took {lag:?}");
    // Server-Sent Events carry the same records with the cursor as id.
    let sse = std::thread::spawn({
        let addr = handle.addr();
        move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            std::io::Write::write_all(
                &mut s,
                b"GET /v1/changes?after=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ro\r\nAccept: text/event-stream\r\n\r\n",
            )
            .unwrap();
            let mut lines = std::io::BufReader::new(s).lines();
            let mut got = Vec::new();
            while let Some(Ok(l)) = lines.next() {
                if let Some(d) = l.strip_prefix("data: ") {
                    got.push(d.to_string());
                    break;
                }
            }
            got
        }
    });
    let got = sse.join().unwrap();
    let ev: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(ev["records"].as_array().unwrap().len(), 2, "{ev}");
    handle.stop();
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_requests() {
    let handle = serve(Arc::new(RwLock::new(region("server"))), config()).unwrap();
    let rw = client(&handle.url(), "rw");
    for k in 0..3 {
        rw.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
            .unwrap();
    }
    assert!(get(handle.addr(), "/healthz", None).starts_with("HTTP/1.1 200"));
    assert!(get(handle.addr(), "/readyz", None).starts_with("HTTP/1.1 200"));
    assert!(get(handle.addr(), "/metrics", None).starts_with("HTTP/1.1 401"));
    let text = get(handle.addr(), "/metrics", Some("ro"));
    let body = text.split_once("\r\n\r\n").unwrap().1;
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let find = |name: &str, label: Option<(&str, &str)>| -> f64 {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                prometheus_parse::Value::Histogram(h) => {
                    h.iter().map(|b| b.count).fold(0.0, f64::max)
                }
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no {name} {label:?} in\n{body}"))
    };
    assert_eq!(find("tablesync_commits_total", None), 3.0);
    assert_eq!(find("tablesync_table_rows", Some(("table", "t"))), 3.0);
    assert_eq!(find("tablesync_region_ready", None), 1.0);
    assert_eq!(find("tablesync_log_records", None), 3.0);
    assert_eq!(
        find(
            "tablesync_http_requests_total",
            Some(("route", "/v1/row/put"))
        ),
        3.0
    );
    assert!(
        find(
            "tablesync_http_request_duration_seconds",
            Some(("route", "/v1/row/put"))
        ) >= 3.0
    );
    assert_eq!(
        find(
            "tablesync_http_refused_total",
            Some(("reason", "unauthorized"))
        ),
        1.0
    );
    assert!(find("tablesync_http_request_bytes_total", None) > 0.0);
    handle.stop();
}
