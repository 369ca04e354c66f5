//! `tablesync cluster status|push`: ask every region of a cluster over
//! HTTP (shared with `demo --cluster`).

use crate::error::{CliError, CliResult};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tablesync::cluster::map::Placement;
use tablesync::cluster::wire::ClusterMsg;
use tablesync::cluster::ClusterMap;
use tablesync_http::cluster::{Peers, CLUSTER_STATUS_PATH};
use tablesync_http::ClientOptions;

fn peers(token: &str) -> Peers {
    Peers::new(
        token.to_string(),
        ClientOptions {
            timeout: std::time::Duration::from_secs(5),
            connect_timeout: std::time::Duration::from_secs(2),
            ..ClientOptions::default()
        },
    )
}

/// Push `map` to every region; the regions that did not take it.
pub fn push(map: &ClusterMap, token: &str) -> CliResult<Vec<String>> {
    let p = peers(token);
    let mut failed = Vec::new();
    for d in &map.datacenters {
        for r in &d.regions {
            if p.call(&r.endpoint, &[ClusterMsg::Map(map.clone())])
                .is_err()
            {
                failed.push(r.name.clone());
            }
        }
    }
    Ok(failed)
}

/// What `status` found.
pub struct Report {
    /// The printable report.
    pub text: String,
    /// Some partition's live replicas disagree.
    pub digests_differ: bool,
    /// Regions that did not answer.
    pub down: Vec<String>,
    /// Partitions whose live replicas agree (compared on ≥ 2 replicas).
    pub agreeing: usize,
}

/// One replica's digest of a partition: (region, rows, digest hex).
type Replica = (String, u64, String);

/// Fetch the map from `url`, then every region's status.
pub fn status(url: &str, token: &str) -> CliResult<Report> {
    let p = peers(token);
    let map = match p
        .call(url, &[ClusterMsg::MapGet])
        .map_err(|e| CliError::from(e.error))?
        .pop()
    {
        Some(ClusterMsg::Map(m)) => m,
        _ => return Err(CliError::new("SyncError", "the region sent no map")),
    };
    status_of(&map, &p)
}

fn status_of(map: &ClusterMap, p: &Peers) -> CliResult<Report> {
    let mut text = String::new();
    let _ = writeln!(text, "cluster map epoch {}", map.epoch);
    let mut down = Vec::new();
    let mut parts: BTreeMap<(String, String), Vec<Replica>> = BTreeMap::new();
    for d in &map.datacenters {
        for r in &d.regions {
            match p.get_json(&r.endpoint, CLUSTER_STATUS_PATH) {
                Ok(s) => {
                    let lag: u64 = s["forward"]
                        .as_object()
                        .map(|o| o.values().filter_map(|v| v["queued"].as_u64()).sum())
                        .unwrap_or(0);
                    let _ = writeln!(
                        text,
                        "  {:<6} {:<8} up    epoch {:<3} forward lag {:>6} records  in-doubt txns {}",
                        d.name,
                        r.name,
                        s["epoch"],
                        lag,
                        s["txn"]["in_doubt"]
                    );
                    for dg in s["digests"].as_array().into_iter().flatten() {
                        let part = match &dg["partition"] {
                            J::Null => "all".to_string(),
                            x => x.to_string(),
                        };
                        parts
                            .entry((dg["table"].as_str().unwrap_or("").to_string(), part))
                            .or_default()
                            .push((
                                r.name.clone(),
                                dg["rows"].as_u64().unwrap_or(0),
                                dg["digest"].as_str().unwrap_or("").to_string(),
                            ));
                    }
                }
                Err(_) => {
                    let _ = writeln!(text, "  {:<6} {:<8} DOWN", d.name, r.name);
                    down.push(r.name.clone());
                }
            }
        }
    }
    let _ = writeln!(text, "per-partition digests (live replicas):");
    let mut differ = false;
    let mut agreeing = 0;
    // Hash tables have a partition per bucket: one summary line per table
    // (`ok`, `single replica`, `DIFFERS` counts), plus a line per bucket
    // whose replicas differ.
    let mut hash_summary: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for ((table, part), reps) in &parts {
        let hashed = map
            .table(table)
            .map(|t| matches!(t.placement, Placement::Hash { .. }))
            .unwrap_or(false);
        // A whole-table digest (older regions) is comparable only when
        // every region holds every bucket.
        let comparable = part != "all"
            || map
                .table(table)
                .map(|t| t.replication_factor as usize == map.datacenters.len())
                .unwrap_or(false);
        let same = reps.iter().all(|r| r.2 == reps[0].2);
        let verdict = if !comparable {
            "n/a (hash buckets differ per region)"
        } else if reps.len() < 2 {
            "single replica"
        } else if same {
            agreeing += 1;
            "ok"
        } else {
            differ = true;
            "DIFFERS"
        };
        if hashed && part != "all" {
            let e = hash_summary.entry(table.clone()).or_default();
            match verdict {
                "ok" => e.0 += 1,
                "DIFFERS" => e.2 += 1,
                _ => e.1 += 1,
            }
            if verdict != "DIFFERS" {
                continue;
            }
        }
        let _ = writeln!(
            text,
            "  {table:<8} partition {part:<4} {}  {verdict}",
            reps.iter()
                .map(|(r, n, d)| format!("{r}={n} rows {}", &d[..d.len().min(12)]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (table, (ok, single, differs)) in hash_summary {
        let _ = writeln!(
            text,
            "  {table:<8} {} hash partitions: {ok} ok, {single} single replica, {differs} DIFFER",
            ok + single + differs
        );
    }
    Ok(Report {
        text,
        digests_differ: differ,
        down,
        agreeing,
    })
}

/// Status of a map held in hand.
pub fn status_for_map(map: &ClusterMap, token: &str) -> CliResult<Report> {
    status_of(map, &peers(token))
}
