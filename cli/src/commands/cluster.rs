//! `tablesync cluster …`: create, change and print a cluster map file.
//! Every change writes the next epoch (atomically: temporary file, then rename).

use crate::cluster_args::{ClusterArgs, ClusterCommand, KeyType, Online};
use crate::error::{file_error, CliError, CliResult};
use serde_json::{json, Value as J};
use std::path::Path;
use tablesync::cluster::{
    ClusterMap, Consistency, Datacenter, Placement, RangePartition, RegionEndpoint, TablePlacement,
    WriteMode,
};
use tablesync::codec::key::{decode_key_values, encode_key_values};
use tablesync::PkValue;

fn load(file: &Path) -> CliResult<ClusterMap> {
    let bytes = std::fs::read(file).map_err(|e| file_error(file, e))?;
    ClusterMap::from_bytes(&bytes).map_err(|e| CliError::from(e).context(file.display()))
}

fn save(file: &Path, m: &ClusterMap) -> CliResult<()> {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, m.to_bytes()).map_err(|e| file_error(&tmp, e))?;
    std::fs::rename(&tmp, file).map_err(|e| file_error(file, e))?;
    println!("{}: epoch {}", file.display(), m.epoch);
    Ok(())
}

/// Save the changed map; with `--online`, first apply it to the running
/// regions, moving data (the file is written only when that is done).
fn change(file: &Path, old: &ClusterMap, new: &ClusterMap, online: &Online) -> CliResult<()> {
    change_without(file, old, new, online, Default::default())
}

/// [`change`] with the regions in `down` gone for good (`remove-dc --down`).
fn change_without(
    file: &Path,
    old: &ClusterMap,
    new: &ClusterMap,
    online: &Online,
    down: std::collections::BTreeSet<String>,
) -> CliResult<()> {
    if online.online {
        let token = online.token.as_deref().ok_or_else(|| {
            CliError::arg("--online needs --token (or TABLESYNC_TOKEN)".to_string())
        })?;
        super::cluster_move::run(
            old,
            new,
            token,
            std::time::Duration::from_secs(online.timeout_secs),
            down,
        )?;
    } else if !down.is_empty() {
        return Err(CliError::arg("--down needs --online".to_string()));
    }
    save(file, new)
}

/// Parse `NAME=REGION@ENDPOINT[,REGION@ENDPOINT…]`.
pub fn parse_dc(s: &str) -> CliResult<Datacenter> {
    let (name, regions) = s.split_once('=').ok_or_else(|| {
        CliError::arg(format!("datacenter {s:?}: expected NAME=REGION@ENDPOINT,…"))
    })?;
    let regions = regions
        .split(',')
        .map(|r| {
            let (n, e) = r
                .split_once('@')
                .ok_or_else(|| CliError::arg(format!("region {r:?}: expected REGION@ENDPOINT")))?;
            Ok(RegionEndpoint {
                name: n.to_string(),
                endpoint: e.to_string(),
            })
        })
        .collect::<CliResult<Vec<_>>>()?;
    Ok(Datacenter {
        name: name.to_string(),
        regions,
    })
}

/// Parse a write mode: `async`, `semi-sync:MS`, `sync:LEVEL`.
pub fn parse_mode(s: &str) -> CliResult<WriteMode> {
    let bad = || {
        CliError::arg(format!(
            "write mode {s:?}: expected async, semi-sync:MS or sync:LEVEL"
        ))
    };
    let lower = s.to_ascii_lowercase();
    if lower == "async" {
        return Ok(WriteMode::Async);
    }
    if let Some(ms) = lower.strip_prefix("semi-sync:") {
        return Ok(WriteMode::SemiSync {
            timeout_ms: ms.parse().map_err(|_| bad())?,
        });
    }
    if let Some(level) = s.get(5..).filter(|_| lower.starts_with("sync:")) {
        return Consistency::parse(level)
            .map(WriteMode::Sync)
            .ok_or_else(bad);
    }
    Err(bad())
}

fn key_bytes(value: &str, t: KeyType) -> CliResult<Vec<u8>> {
    let v = match t {
        KeyType::Integer => PkValue::Integer(
            value
                .parse()
                .map_err(|_| CliError::arg(format!("{value:?} is not an integer")))?,
        ),
        KeyType::String => PkValue::String(value.to_string()),
        KeyType::Binary => {
            if value.len() % 2 != 0 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(CliError::arg(format!("{value:?} is not hex")));
            }
            PkValue::Binary(
                (0..value.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&value[i..i + 2], 16).expect("hex"))
                    .collect(),
            )
        }
    };
    Ok(encode_key_values([&v]))
}

fn key_json(bytes: &[u8]) -> J {
    if bytes.is_empty() {
        return json!("INF_MIN");
    }
    match decode_key_values(bytes)
        .ok()
        .and_then(|v| v.into_iter().next())
    {
        Some(PkValue::Integer(i)) => json!(i),
        Some(PkValue::String(s)) => json!(s),
        Some(PkValue::Binary(b)) => json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        _ => json!(null),
    }
}

fn map_json(m: &ClusterMap) -> CliResult<J> {
    let dcs: Vec<J> = m
        .datacenters
        .iter()
        .map(|d| {
            json!({"name": d.name, "regions": d.regions.iter()
                .map(|r| json!({"name": r.name, "endpoint": r.endpoint})).collect::<Vec<_>>()})
        })
        .collect();
    let mut tables = Vec::new();
    for t in &m.tables {
        let placement = match &t.placement {
            Placement::Hash { buckets } => {
                // Buckets per home datacenter: the share each one leads.
                let mut homes = std::collections::BTreeMap::<String, u64>::new();
                for b in 0..*buckets {
                    *homes
                        .entry(m.route_partition(&t.table, b)?.home().datacenter.clone())
                        .or_default() += 1;
                }
                json!({"kind": "hash", "buckets": buckets, "home_buckets": homes})
            }
            Placement::Range { partitions } => {
                let ps: Vec<J> = partitions
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let end = partitions.get(i + 1).map(|n| key_json(&n.start)).unwrap_or(json!("INF_MAX"));
                        json!({"id": p.id, "start": key_json(&p.start), "end": end, "datacenters": p.datacenters})
                    })
                    .collect();
                json!({"kind": "range", "partitions": ps})
            }
        };
        tables.push(json!({
            "table": t.table,
            "replication_factor": t.replication_factor,
            "write_mode": t.write_mode.name(),
            "placement": placement,
        }));
    }
    Ok(json!({"epoch": m.epoch, "datacenters": dcs, "tables": tables}))
}

/// Run `tablesync cluster …`.
pub fn run(a: &ClusterArgs) -> CliResult<()> {
    match &a.command {
        ClusterCommand::Init { file, dc } => {
            if file.exists() {
                return Err(CliError::arg(format!("{} already exists", file.display())));
            }
            let dcs = dc
                .iter()
                .map(|d| parse_dc(d))
                .collect::<CliResult<Vec<_>>>()?;
            save(file, &ClusterMap::new(dcs)?)
        }
        ClusterCommand::Show { file } => {
            let m = load(file)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&map_json(&m)?).expect("json")
            );
            Ok(())
        }
        ClusterCommand::AddDc { file, dc, online } => {
            let old = load(file)?;
            change(file, &old, &old.add_datacenter(parse_dc(dc)?)?, online)
        }
        ClusterCommand::RemoveDc {
            file,
            name,
            down,
            online,
        } => {
            let old = load(file)?;
            let gone = match (down, old.datacenters.iter().find(|d| d.name == *name)) {
                (true, Some(d)) => d.regions.iter().map(|r| r.name.clone()).collect(),
                _ => Default::default(),
            };
            change_without(file, &old, &old.remove_datacenter(name)?, online, gone)
        }
        ClusterCommand::AddTable {
            file,
            table,
            hash,
            split,
            key_type,
            rf,
            mode,
        } => {
            let placement = match hash {
                Some(b) => Placement::Hash { buckets: *b },
                None => {
                    let mut starts = split
                        .iter()
                        .map(|s| key_bytes(s, *key_type))
                        .collect::<CliResult<Vec<_>>>()?;
                    starts.sort();
                    starts.dedup();
                    let mut partitions = vec![RangePartition {
                        id: 0,
                        start: vec![],
                        datacenters: vec![],
                    }];
                    for (i, s) in starts.into_iter().enumerate() {
                        partitions.push(RangePartition {
                            id: i as u32 + 1,
                            start: s,
                            datacenters: vec![],
                        });
                    }
                    Placement::Range { partitions }
                }
            };
            let m = load(file)?.add_table(TablePlacement {
                table: table.clone(),
                replication_factor: *rf,
                write_mode: parse_mode(mode)?,
                placement,
            })?;
            save(file, &m)
        }
        ClusterCommand::Split {
            file,
            table,
            partition,
            at,
            key_type,
            online,
        } => {
            let old = load(file)?;
            let (m, id) = old.split(table, *partition, key_bytes(at, *key_type)?)?;
            println!("new partition {id}");
            change(file, &old, &m, online)
        }
        ClusterCommand::Move {
            file,
            table,
            partition,
            datacenters,
            online,
        } => {
            let dcs = datacenters.split(',').map(str::to_string).collect();
            let old = load(file)?;
            change(
                file,
                &old,
                &old.move_partition(table, *partition, dcs)?,
                online,
            )
        }
        ClusterCommand::SetMode { file, table, mode } => {
            save(file, &load(file)?.set_write_mode(table, parse_mode(mode)?)?)
        }
        ClusterCommand::Route {
            file,
            table,
            key,
            key_type,
        } => {
            let m = load(file)?;
            let r = m.route_key(table, &key_bytes(key, *key_type)?)?;
            let replicas: Vec<J> = r
                .replicas
                .iter()
                .map(|x| json!({"datacenter": x.datacenter, "region": x.region, "endpoint": x.endpoint}))
                .collect();
            println!(
                "{}",
                json!({"epoch": r.epoch, "table": r.table, "partition": r.partition, "replicas": replicas})
            );
            Ok(())
        }
        ClusterCommand::Push { file, token } => {
            let m = load(file)?;
            let failed = super::cluster_status::push(&m, token)?;
            if failed.is_empty() {
                println!("map epoch {} installed on every region", m.epoch);
                Ok(())
            } else {
                Err(CliError::new(
                    "ClusterPushFailed",
                    format!(
                        "regions that did not take epoch {}: {}",
                        m.epoch,
                        failed.join(", ")
                    ),
                ))
            }
        }
        ClusterCommand::Status { url, token } => {
            let report = super::cluster_status::status(url, token)?;
            print!("{}", report.text);
            if report.digests_differ {
                return Err(CliError::new(
                    "DigestMismatch",
                    "replicas of some partition hold different rows (see above)",
                ));
            }
            Ok(())
        }
    }
}
