//! `tablesync cluster add-dc|remove-dc|split|move --online`: change the map
//! of running regions and move the data the change gives to new homes
//! (docs/CLUSTER.md, "Moving partitions"), driving
//! `tablesync::cluster::rebalance::Rebalance` over HTTP.

use crate::error::{CliError, CliResult};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tablesync::cluster::rebalance::{MoveMsg, Phase, Rebalance};
use tablesync::cluster::wire::ClusterMsg;
use tablesync::cluster::ClusterMap;
use tablesync_http::cluster::Peers;
use tablesync_http::ClientOptions;

/// Pause between rounds that made no progress.
const RETRY: Duration = Duration::from_millis(200);

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Warm => "copying (writes go on)",
        Phase::Install => "installing the new map",
        Phase::CatchUp => "catching up (moving partitions fenced)",
        Phase::Release => "releasing",
        Phase::Purge => "purging the rows old replicas no longer hold",
        Phase::Done => "done",
    }
}

/// Check every region of `old` holds `old` (or already `new`, when a
/// change that stopped half-way is run again).
fn check_regions(
    p: &Peers,
    old: &ClusterMap,
    new: &ClusterMap,
    down: &BTreeSet<String>,
) -> CliResult<()> {
    for d in &old.datacenters {
        for r in d.regions.iter().filter(|r| !down.contains(&r.name)) {
            let got = p
                .call(&r.endpoint, &[ClusterMsg::MapGet])
                .map_err(|e| {
                    CliError::new(
                        "RegionUnreachable",
                        format!("{} ({}): {}", r.name, r.endpoint, e.error.message()),
                    )
                })?
                .into_iter()
                .next();
            let Some(ClusterMsg::Map(m)) = got else {
                return Err(CliError::new(
                    "RegionUnreachable",
                    format!("{} answered no map", r.name),
                ));
            };
            let ok = (m.epoch == old.epoch && m == *old) || (m.epoch == new.epoch && m == *new);
            if !ok {
                return Err(CliError::new(
                    "ClusterMapChanged",
                    format!(
                        "region {} holds map epoch {}, the file has {}: fetch the current map first",
                        r.name, m.epoch, old.epoch
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Run the change from `old` to `new` against the regions; returns once
/// every region installed `new` and every moved partition is served by
/// its new replicas.
/// Regions in `down` (all leaving the cluster) are gone for good: never
/// contacted, never copied from.
pub fn run(
    old: &ClusterMap,
    new: &ClusterMap,
    token: &str,
    timeout: Duration,
    down: BTreeSet<String>,
) -> CliResult<()> {
    let p = Peers::new(
        token.to_string(),
        ClientOptions {
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(2),
            ..ClientOptions::default()
        },
    );
    check_regions(&p, old, new, &down)?;
    if !down.is_empty() {
        println!(
            "down for good (not contacted; their partitions are copied from surviving replicas): {}",
            down.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let mut rb = Rebalance::without(old, new.clone(), down)?;
    println!(
        "epoch {} → {}: {} move(s)",
        old.epoch,
        new.epoch,
        rb.moves().len()
    );
    for m in rb.moves() {
        println!(
            "  {} partitions {} : {} → {}",
            m.table,
            summarize(&m.partitions),
            m.source,
            m.target
        );
    }
    let deadline = Instant::now() + timeout;
    let mut phase = None;
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    while rb.phase() != Phase::Done {
        if phase != Some(rb.phase()) {
            phase = Some(rb.phase());
            println!("{}", phase_name(rb.phase()));
            errors.clear();
        }
        let sends = rb.tick();
        let replies: Vec<(String, Result<MoveMsg, String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = sends
                .into_iter()
                .map(|(region, msg)| {
                    let endpoint = rb.endpoint(&region).unwrap_or_default().to_string();
                    let p = &p;
                    s.spawn(move || {
                        let r = match p.call(&endpoint, &[ClusterMsg::Move(msg)]) {
                            Ok(mut v) => match v.pop() {
                                Some(ClusterMsg::Move(m)) => Ok(m),
                                other => Err(format!("unexpected answer {other:?}")),
                            },
                            Err(e) => Err(if e.code.is_empty() {
                                e.error.message()
                            } else {
                                format!("{}: {}", e.code, e.error.message())
                            }),
                        };
                        (region, r)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        let before = rb.phase();
        let mut failed = false;
        for (region, r) in replies {
            match r {
                Ok(m) => {
                    rb.on_reply(&region, m);
                }
                Err(e) => {
                    failed = true;
                    errors.insert(region, e);
                }
            }
        }
        if rb.phase() == before && failed {
            if Instant::now() >= deadline {
                let list: Vec<String> = errors.iter().map(|(r, e)| format!("{r}: {e}")).collect();
                return Err(CliError::new(
                    "RebalanceIncomplete",
                    format!(
                        "stopped while {} (run the same command again to resume): {}",
                        phase_name(rb.phase()),
                        list.join("; ")
                    ),
                ));
            }
            std::thread::sleep(RETRY);
        }
    }
    println!(
        "map epoch {} installed on every region; {} row state(s) copied; {} row(s) purged from regions that no longer hold them",
        new.epoch,
        rb.copied_rows(),
        rb.purged_rows()
    );
    Ok(())
}

fn summarize(ids: &[u32]) -> String {
    if ids.len() <= 6 {
        ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    } else {
        format!("{} buckets", ids.len())
    }
}
