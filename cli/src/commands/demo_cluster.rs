//! `tablesync demo --cluster`: three local datacenters, each a child
//! `tablesync serve --cluster` process on loopback; a hash-placed and a
//! range-placed table; writes in every mode; a single-partition batch and
//! a two-partition 2PC batch; one datacenter killed while the others keep
//! serving; the map, forwarding lag and a per-partition digest check.

use super::cluster_status::status_for_map;
use crate::args::DemoArgs;
use crate::error::{CliError, CliResult, DEMO_CHECK};
use crate::open::open_or_create;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, RangePartition, TablePlacement};
use tablesync::cluster::{Consistency, ReadLevel, WriteMode};
use tablesync::codec::key::encode_key_values;
use tablesync::{
    Column, PkColumn, PkType, PkValue, PrimaryKey, RowExistence, SyncPolicy, TableSchema, Value,
};
use tablesync_http::cluster::{Cluster, ClusterOptions, WriteOptions};

const DCS: [&str; 3] = ["eu", "us", "ap"];
const TOKEN: &str = "tablesync-demo-cluster";
const MARKER: &str = ".tablesync-demo-cluster";

fn check(ok: bool, what: impl Into<String>) -> CliResult<()> {
    if ok {
        Ok(())
    } else {
        Err(CliError::new(DEMO_CHECK, what))
    }
}

/// Child processes, killed when dropped.
struct Children(Vec<Option<Child>>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in self.0.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn prepare_dir(dir: &Path) -> CliResult<()> {
    if dir.exists() {
        let ours = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !ours && !empty {
            return Err(CliError::arg(format!(
                "{} exists and is not an earlier cluster demo's: give another --dir",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| CliError::new("StorageIo", format!("wiping {}: {e}", dir.display())))?;
    }
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(dir.join(MARKER), b"made by tablesync demo --cluster\n"))
        .map_err(|e| CliError::new("StorageIo", format!("creating {}: {e}", dir.display())))
}

/// Start `tablesync serve --cluster` for region `name`; its URL.
fn spawn(dir: &Path, name: &str) -> CliResult<(Child, String)> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new("StorageIo", format!("finding this program: {e}")))?;
    let mut child = Command::new(exe)
        .args(["--region", name, "serve"])
        .arg(dir)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cluster",
            "--log-format",
            "text",
        ])
        .env("TABLESYNC_TOKEN", TOKEN)
        .env("TABLESYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| CliError::new("StorageIo", format!("starting a region: {e}")))?;
    let out = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| CliError::new("StorageIo", format!("reading a region's banner: {e}")))?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(str::to_string);
    match url {
        Some(u) => Ok((child, u)),
        None => {
            let _ = child.kill();
            Err(CliError::new(
                DEMO_CHECK,
                format!("region {name} did not start: {line:?}"),
            ))
        }
    }
}

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(i))])
}

fn the_map(urls: &[String]) -> CliResult<ClusterMap> {
    let dcs = DCS
        .iter()
        .zip(urls)
        .map(|(d, u)| Datacenter::new(*d, [(format!("{d}-1"), u.clone())]))
        .collect();
    Ok(ClusterMap::new(dcs)?
        .add_table(TablePlacement {
            table: "users".into(),
            replication_factor: 2,
            write_mode: WriteMode::SemiSync { timeout_ms: 300 },
            placement: Placement::Hash { buckets: 256 },
        })?
        .add_table(TablePlacement {
            table: "events".into(),
            replication_factor: 3,
            write_mode: WriteMode::Sync(Consistency::Quorum),
            placement: Placement::Range {
                partitions: vec![
                    RangePartition {
                        id: 0,
                        start: vec![],
                        datacenters: vec!["eu".into(), "us".into(), "ap".into()],
                    },
                    RangePartition {
                        id: 1,
                        start: encode_key_values([&PkValue::Integer(1_000_000)]),
                        datacenters: vec!["us".into(), "ap".into(), "eu".into()],
                    },
                ],
            },
        })?)
}

fn wait_drained(map: &ClusterMap) -> CliResult<super::cluster_status::Report> {
    let t0 = Instant::now();
    loop {
        let r = status_for_map(map, TOKEN)?;
        let lagging = r.text.lines().any(|l| {
            l.contains(" up ")
                && l.split("forward lag")
                    .nth(1)
                    .and_then(|x| x.split_whitespace().next())
                    .is_some_and(|n| n != "0")
        });
        if !lagging || t0.elapsed() > Duration::from_secs(10) {
            return Ok(r);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run the cluster demo in `a.dir` with `a.rows` rows per table (at most 5,000).
pub fn run(a: &DemoArgs) -> CliResult<()> {
    let rows = a.rows.clamp(10, 5_000) as i64;
    prepare_dir(&a.dir)?;
    let mut children = Children(Vec::new());
    let mut urls = Vec::new();
    for d in DCS {
        let name = format!("{d}-1");
        let dir = a.dir.join(&name);
        let mut db = open_or_create(&dir, Some(&name), SyncPolicy::Batch)?;
        for t in ["users", "events"] {
            db.create_table(TableSchema::new(
                t,
                vec![PkColumn::new("k", PkType::Integer)],
            ))?;
        }
        db.close()?;
        let (child, url) = spawn(&dir, &name)?;
        println!("datacenter {d}: region {name} serving at {url}");
        children.0.push(Some(child));
        urls.push(url);
    }
    let map = the_map(&urls)?;
    let client = Cluster::with_map(
        map.clone(),
        TOKEN,
        ClusterOptions {
            local_dc: "eu".into(),
            ..Default::default()
        },
    )?;
    let failed = client.push_map(&map);
    check(
        failed.is_empty(),
        format!("map not installed on {failed:?}"),
    )?;
    println!(
        "map epoch {}: users hash(256) rf 2 semi-sync(300ms); events range [.., 1000000) eu,us,ap | [1000000, ..) us,ap,eu rf 3 sync(QUORUM)",
        map.epoch
    );

    let modes: [(&str, Option<WriteMode>); 6] = [
        ("table default", None),
        ("async", Some(WriteMode::Async)),
        (
            "semi-sync(300ms)",
            Some(WriteMode::SemiSync { timeout_ms: 300 }),
        ),
        ("sync(ONE)", Some(WriteMode::Sync(Consistency::One))),
        ("sync(QUORUM)", Some(WriteMode::Sync(Consistency::Quorum))),
        ("sync(ALL)", Some(WriteMode::Sync(Consistency::All))),
    ];
    let per = (rows / modes.len() as i64).max(1);
    let mut k = 0i64;
    for (name, mode) in modes {
        let t0 = Instant::now();
        for _ in 0..per {
            let w = WriteOptions {
                mode,
                ..Default::default()
            };
            let v = vec![Column::new("v", Value::Integer(k))];
            client.put("users", pk(k), v.clone(), w)?;
            client.put("events", pk(k * 400_000 / rows.max(1)), v, w)?;
            k += 1;
        }
        let ms = t0.elapsed().as_secs_f64() * 1000.0 / (2 * per) as f64;
        println!("  {name:<17} {:>4} writes, {ms:6.2} ms each", 2 * per);
    }
    let one = client.batch(vec![
        Cluster::put_op(
            "events",
            pk(1),
            vec![Column::new("b", Value::Integer(1))],
            RowExistence::Ignore,
        ),
        Cluster::put_op(
            "events",
            pk(2),
            vec![Column::new("b", Value::Integer(2))],
            RowExistence::Ignore,
        ),
    ])?;
    let two = client.batch(vec![
        Cluster::put_op(
            "events",
            pk(3),
            vec![Column::new("b", Value::Integer(3))],
            RowExistence::Ignore,
        ),
        Cluster::put_op(
            "events",
            pk(2_000_000),
            vec![Column::new("b", Value::Integer(4))],
            RowExistence::Ignore,
        ),
    ])?;
    println!(
        "batch in one partition: committed={} in one round ({} participant); across two: committed={} by two-phase commit ({} participants)",
        one.committed, one.participants, two.committed, two.participants
    );
    check(
        one.committed && two.committed && two.participants == 2,
        "batches did not commit",
    )?;
    let (page, _) = client.range("events", &[], &[], 10_000)?;
    check(
        page.len() as i64 == k + 4,
        format!("range saw {} rows, expected {}", page.len(), k + 4),
    )?;
    println!(
        "range over both partitions: {} rows in key order",
        page.len()
    );

    let report = wait_drained(&map)?;
    print!("{}", report.text);
    check(!report.digests_differ, "replica digests differ")?;

    // Kill one datacenter: the others keep serving.
    println!("killing datacenter ap (region ap-1) …");
    if let Some(mut c) = children.0[2].take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let t0 = Instant::now();
    let mut served = 0;
    for i in 0..k {
        let r = client.get("events", &pk(i * 400_000 / rows.max(1)), ReadLevel::One)?;
        served += r.is_some() as usize;
    }
    println!(
        "  reads at ONE with ap down: {served}/{k} rows served in {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    check(served as i64 == k, "reads failed with one datacenter down")?;
    let q = client.get("events", &pk(3), ReadLevel::Quorum)?;
    check(q.is_some(), "QUORUM read failed with one of three down")?;
    // A semi-sync write whose replica is ap degrades after T, then stops waiting.
    let m = client.map();
    let key = (0..100_000i64)
        .find(|x| {
            m.route_key("users", &encode_key_values([&PkValue::Integer(*x)]))
                .map(|r| r.home().datacenter != "ap" && r.replicas[1].datacenter == "ap")
                .unwrap_or(false)
        })
        .unwrap_or(0);
    let t0 = Instant::now();
    let r = client.put(
        "users",
        pk(key),
        vec![Column::new("v", Value::Integer(-1))],
        WriteOptions::default(),
    )?;
    let first = t0.elapsed();
    let t1 = Instant::now();
    client.put(
        "users",
        pk(key),
        vec![Column::new("v", Value::Integer(-2))],
        WriteOptions::default(),
    )?;
    println!(
        "  semi-sync write with its replica down: degraded={} after {:.0} ms; next write {:.1} ms (degraded: no wait)",
        r.degraded,
        first.as_secs_f64() * 1000.0,
        t1.elapsed().as_secs_f64() * 1000.0
    );
    check(r.degraded, "semi-sync did not degrade")?;
    // Records for ap wait in its replicas' queues (the lag shown) until it returns.
    std::thread::sleep(Duration::from_millis(300));
    let report = status_for_map(&map, TOKEN)?;
    print!("{}", report.text);
    check(
        report.down == vec!["ap-1".to_string()],
        "status must show ap-1 down",
    )?;
    check(
        !report.digests_differ && report.agreeing >= 2,
        "live replicas' digests differ",
    )?;
    println!(
        "digest check: ok ({} partitions agree on their live replicas)",
        report.agreeing
    );
    Ok(())
}
