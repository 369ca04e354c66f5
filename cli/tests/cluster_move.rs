//! Map changes with data movement against running `serve --cluster`
//! processes: `cluster add-dc --online` while writes go on (the new
//! datacenter's region starts without the cluster's tables), then a range
//! `split` and `move` of the new partition; every acknowledged write is
//! readable at its new home, few keys move, per-partition digests agree
//! (`cluster status`) and ordered scans stay correct across the split.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tablesync::cluster::{ClusterMap, ReadLevel};
use tablesync::codec::key::encode_key_values;
use tablesync::{
    Column, Database, DatabaseOptions, PkColumn, PkType, PkValue, PrimaryKey, TableSchema, Value,
};
use tablesync_http::cluster::{Cluster, ClusterOptions, Peers, WriteOptions};
use tablesync_http::ClientOptions;

const TOKEN: &str = "move-secret";

/// A region serving `DIR --cluster`; with `tables`, the cluster's tables
/// are created first (a new datacenter's region starts without: it gets
/// them from its first copies).
fn region(tmp: &std::path::Path, name: &str, tables: bool) -> Served {
    let dir = p(tmp, name);
    let mut db = Database::open(&dir, DatabaseOptions::new(name)).unwrap();
    for t in ["users", "events"].into_iter().filter(|_| tables) {
        db.create_table(TableSchema::new(
            t,
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    }
    db.close().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = command();
    cmd.args(["--region", name, "serve", &dir]).args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--cluster",
    ]);
    Served::spawn(&mut cmd, &dir, url, TOKEN, None)
}

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(i))])
}

fn load_map(file: &str) -> ClusterMap {
    ClusterMap::from_bytes(&std::fs::read(file).unwrap()).unwrap()
}

fn online(args: &[&str]) -> String {
    let r = tablesync_env(args, &[("TABLESYNC_TOKEN", TOKEN)]);
    assert!(r.ok, "tablesync {args:?} failed: {}{}", r.stderr, r.stdout);
    r.stdout
}

/// Writers putting unique keys into both tables until stopped; the keys
/// acknowledged, per table.
struct Writers {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<[BTreeSet<i64>; 2]>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn start_writers(url: &str, from: i64) -> Writers {
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new([BTreeSet::new(), BTreeSet::new()]));
    let mut threads = Vec::new();
    for (ti, table) in ["users", "events"].into_iter().enumerate() {
        let (stop, acked, url) = (stop.clone(), acked.clone(), url.to_string());
        threads.push(std::thread::spawn(move || {
            let c = Cluster::connect(&url, TOKEN, ClusterOptions::default()).unwrap();
            let mut k = from;
            while !stop.load(Ordering::SeqCst) {
                // Range keys spread over both sides of the split points.
                let key = if ti == 1 {
                    (k * 7) % 3000 + 3000 * (k / 3000)
                } else {
                    k
                };
                let r = c.put(
                    table,
                    pk(key),
                    vec![Column::new("v", Value::Integer(key))],
                    WriteOptions::default(),
                );
                if r.is_ok() {
                    acked.lock().unwrap()[ti].insert(key);
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                    let _ = c.refresh_map();
                }
                k += 1;
            }
        }));
    }
    Writers {
        stop,
        acked,
        threads,
    }
}

impl Writers {
    fn wait_acked(&self, n: usize) {
        wait_for("acknowledged writes", 120, || {
            let a = self.acked.lock().unwrap();
            a[0].len() >= n && a[1].len() >= n
        });
    }

    fn finish(self) -> [BTreeSet<i64>; 2] {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        let a = self.acked.lock().unwrap();
        a.clone()
    }
}

/// Every acknowledged key readable at its home, with its value.
fn assert_readable(url: &str, acked: &[BTreeSet<i64>; 2]) {
    let c = Cluster::connect(url, TOKEN, ClusterOptions::default()).unwrap();
    for (ti, table) in ["users", "events"].into_iter().enumerate() {
        for k in &acked[ti] {
            let row = c.get(table, &pk(*k), ReadLevel::Leader).unwrap();
            let v = row.and_then(|r| r.get("v").cloned());
            assert_eq!(v, Some(Value::Integer(*k)), "{table} key {k} lost");
        }
    }
}

/// Wait until no region has records queued for a replica, then require
/// `cluster status` to find every partition's replicas equal.
fn assert_digests_agree(urls: &[String]) {
    let p = Peers::new(TOKEN.into(), ClientOptions::default());
    wait_for("forwarding drained", 120, || {
        urls.iter().all(|u| {
            p.get_json(u, "/v1/cluster/status").is_ok_and(|s| {
                s["forward"]
                    .as_object()
                    .is_none_or(|o| o.values().all(|v| v["queued"] == 0))
            })
        })
    });
    let out = online(&["cluster", "status", &urls[0]]);
    // `status` fails (DigestMismatch) when replicas differ; check the text too.
    assert!(
        out.lines()
            .filter(|l| l.contains("DIFFER"))
            .all(|l| l.contains(" 0 DIFFER")),
        "{out}"
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn add_dc_split_and_move_online_keep_every_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let regions: Vec<Served> = ["eu-1", "us-1", "ap-1", "sa-1"]
        .iter()
        .map(|n| region(tmp.path(), n, *n != "sa-1"))
        .collect();
    let urls: Vec<String> = regions.iter().map(|r| r.url.clone()).collect();
    let f = p(tmp.path(), "map.tscm");
    ok(&[
        "cluster",
        "init",
        &f,
        "--dc",
        &format!("eu=eu-1@{}", urls[0]),
        "--dc",
        &format!("us=us-1@{}", urls[1]),
        "--dc",
        &format!("ap=ap-1@{}", urls[2]),
    ]);
    ok(&[
        "cluster",
        "add-table",
        &f,
        "users",
        "--hash",
        "4096",
        "--rf",
        "2",
    ]);
    ok(&[
        "cluster",
        "add-table",
        &f,
        "events",
        "--split",
        "1000",
        "--rf",
        "2",
    ]);
    online(&["cluster", "push", &f]);
    let before = load_map(&f);

    // Writes run while the fourth datacenter joins.
    let w = start_writers(&urls[0], 0);
    w.wait_acked(150);
    let out = online(&[
        "cluster",
        "add-dc",
        &f,
        &format!("sa=sa-1@{}", urls[3]),
        "--online",
    ]);
    assert!(out.contains("installed on every region"), "{out}");
    assert!(
        purged(&out) > 0,
        "the regions that lost buckets purged them: {out}"
    );
    let after = load_map(&f);
    assert_eq!(after.epoch, before.epoch + 1);
    let n_moved = w.acked.lock().unwrap()[0].len();
    w.wait_acked(n_moved + 100);
    let acked = w.finish();

    // Keys of the hash-placed table whose home moved: at most 1/N + 2 %.
    let moved = acked[0]
        .iter()
        .filter(|k| {
            let key = encode_key_values([&PkValue::Integer(**k)]);
            before.route_key("users", &key).unwrap().home().region
                != after.route_key("users", &key).unwrap().home().region
        })
        .count();
    let share = moved as f64 / acked[0].len() as f64;
    assert!(moved > 0, "the new datacenter homes some keys");
    // Few hundred keys: sampling noise on top of the buckets' share.
    assert!(share <= 0.25 + 0.02 + 0.08, "moved {share:.3} of the keys");
    let bucket_share = (0..4096)
        .filter(|b| {
            before.route_partition("users", *b).unwrap().home().region
                != after.route_partition("users", *b).unwrap().home().region
        })
        .count() as f64
        / 4096.0;
    assert!(bucket_share <= 0.25 + 0.02, "{bucket_share}");
    assert_readable(&urls[0], &acked);
    assert_digests_agree(&urls);

    // A range split, then the new partition moves to sa,eu, with writes on.
    let w = start_writers(&urls[1], 10_000_000);
    w.wait_acked(50);
    let out = online(&["cluster", "split", &f, "events", "1", "2000", "--online"]);
    assert!(out.contains("new partition 2"), "{out}");
    assert!(
        out.contains("0 move(s)"),
        "a split alone moves nothing: {out}"
    );
    let out = online(&["cluster", "move", &f, "events", "2", "sa,eu", "--online"]);
    assert!(out.contains("installed on every region"), "{out}");
    let n = w.acked.lock().unwrap()[1].len();
    w.wait_acked(n + 50);
    let late = w.finish();
    let all = [
        acked[0].union(&late[0]).copied().collect::<BTreeSet<_>>(),
        acked[1].union(&late[1]).copied().collect::<BTreeSet<_>>(),
    ];
    assert_readable(&urls[2], &all);
    let map = load_map(&f);
    let r = map
        .route_key("events", &encode_key_values([&PkValue::Integer(2500)]))
        .unwrap();
    assert_eq!(r.home().datacenter, "sa");

    // An ordered scan across both split points, in small pages.
    let c = Cluster::connect(&urls[3], TOKEN, ClusterOptions::default()).unwrap();
    let mut seen = Vec::new();
    let mut start = Vec::new();
    loop {
        let (rows, next) = c.range_encoded("events", &start, &[], 97).unwrap();
        for r in rows {
            match &r.primary_key.0[0].1 {
                PkValue::Integer(i) => seen.push(*i),
                other => panic!("{other:?}"),
            }
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "scan out of order");
    let seen: BTreeSet<i64> = seen.into_iter().collect();
    assert!(all[1].is_subset(&seen), "a scan misses acknowledged keys");
    assert!(seen.iter().any(|k| *k < 1000) && seen.iter().any(|k| (1000..2000).contains(k)));
    assert!(seen.iter().any(|k| *k >= 2000));
    assert_digests_agree(&urls);
    let dirs: Vec<(String, String)> = regions
        .iter()
        .zip(["eu-1", "us-1", "ap-1", "sa-1"])
        .map(|(r, n)| (r.dir.clone(), n.to_string()))
        .collect();
    drop(regions);
    assert_only_held_rows(&dirs, &map, &all);
}

/// The rows the CLI reports purged (`… N row(s) purged …`).
fn purged(out: &str) -> u64 {
    out.split(';')
        .find(|p| p.contains("row(s) purged"))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Every region's directory holds rows only of partitions `map` gives it
/// (the old replicas purged what moved away), and every acknowledged key
/// is still held by every one of its replicas.
fn assert_only_held_rows(dirs: &[(String, String)], map: &ClusterMap, acked: &[BTreeSet<i64>; 2]) {
    for (dir, name) in dirs {
        let db = Database::open(dir, DatabaseOptions::new(name.as_str())).unwrap();
        for (ti, table) in ["users", "events"].into_iter().enumerate() {
            let mut held = BTreeSet::new();
            let all = |b| tablesync::RangeBound::new([("k", b)]);
            for row in db.scan(
                table,
                all(tablesync::PkBound::InfMin),
                all(tablesync::PkBound::InfMax),
                tablesync::RangeOptions::default(),
            ) {
                let row = row.unwrap();
                let PkValue::Integer(k) = row.primary_key.0[0].1 else {
                    panic!("key type");
                };
                let key = encode_key_values([&PkValue::Integer(k)]);
                let route = map.route_key(table, &key).unwrap();
                assert!(
                    route.replicas.iter().any(|r| r.region == *name),
                    "{name} still holds {table} key {k}, which moved away"
                );
                held.insert(k);
            }
            for k in &acked[ti] {
                let key = encode_key_values([&PkValue::Integer(*k)]);
                let route = map.route_key(table, &key).unwrap();
                if route.replicas.iter().any(|r| r.region == *name) {
                    assert!(
                        held.contains(k),
                        "{name} lost {table} key {k}, a replica of it"
                    );
                }
            }
        }
    }
}

/// `remove-dc --online --down` of a SIGKILLed datacenter: writes in
/// `sync:QUORUM` (both replicas) run until the kill; the removal copies
/// each partition the dead datacenter was home of from its surviving
/// replica, so every acknowledged write is read back at its new home, the
/// survivors' replicas agree, and they hold only rows the new map gives them.
#[test]
fn remove_dc_of_a_killed_datacenter_keeps_every_sync_write() {
    let tmp = tempfile::tempdir().unwrap();
    let mut regions: Vec<Served> = ["eu-1", "us-1", "ap-1"]
        .iter()
        .map(|n| region(tmp.path(), n, true))
        .collect();
    let urls: Vec<String> = regions.iter().map(|r| r.url.clone()).collect();
    let f = p(tmp.path(), "map.tscm");
    ok(&[
        "cluster",
        "init",
        &f,
        "--dc",
        &format!("eu=eu-1@{}", urls[0]),
        "--dc",
        &format!("us=us-1@{}", urls[1]),
        "--dc",
        &format!("ap=ap-1@{}", urls[2]),
    ]);
    for args in [["users", "--hash", "256"], ["events", "--split", "1000"]] {
        ok(&[
            "cluster",
            "add-table",
            &f,
            args[0],
            args[1],
            args[2],
            "--rf",
            "2",
            "--mode",
            "sync:QUORUM",
        ]);
    }
    online(&["cluster", "push", &f]);
    let before = load_map(&f);
    let w = start_writers(&urls[0], 0);
    w.wait_acked(200);
    let acked = w.finish();
    // ap homes some of the acknowledged keys.
    assert!(acked[0].iter().any(|k| {
        let key = encode_key_values([&PkValue::Integer(*k)]);
        before.route_key("users", &key).unwrap().home().datacenter == "ap"
    }));
    drop(regions.remove(2)); // SIGKILL
                             // Without --down the change cannot reach ap-1 and refuses to start.
    let r = tablesync_env(
        &[
            "cluster",
            "remove-dc",
            &f,
            "ap",
            "--online",
            "--timeout-secs",
            "5",
        ],
        &[("TABLESYNC_TOKEN", TOKEN)],
    );
    assert!(!r.ok, "{}", r.stdout);
    assert!(r.stderr.contains("RegionUnreachable"), "{}", r.stderr);
    let out = online(&["cluster", "remove-dc", &f, "ap", "--online", "--down"]);
    assert!(out.contains("installed on every region"), "{out}");
    let map = load_map(&f);
    assert!(map.datacenter_of_region("ap-1").is_none());
    assert_readable(&urls[0], &acked);
    assert_digests_agree(&urls[..2]);
    let dirs: Vec<(String, String)> = regions
        .iter()
        .zip(["eu-1", "us-1"])
        .map(|(r, n)| (r.dir.clone(), n.to_string()))
        .collect();
    drop(regions);
    assert_only_held_rows(&dirs, &map, &acked);
}
