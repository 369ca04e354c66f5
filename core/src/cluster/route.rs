//! Routing: key → partition → ordered replicas, and ranges → per-partition
//! sub-ranges.

use super::hash::{bucket_of, name_seed, rendezvous_score};
use super::map::{ClusterMap, Datacenter, Placement};
use crate::codec::buf::Reader;
use crate::codec::key::read_pk_value;
use crate::model::error::{Error, Result};

/// One copy of a partition: a region in a datacenter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    /// The datacenter.
    pub datacenter: String,
    /// The region inside it that holds the partition.
    pub region: String,
    /// The region's endpoint.
    pub endpoint: String,
}

/// Where a partition lives, under a map epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The map epoch the route was computed from (requests carry it).
    pub epoch: u64,
    /// The table.
    pub table: String,
    /// The partition (bucket of a hash-placed table, id of a range partition).
    pub partition: u32,
    /// Replicas, home first, one per datacenter.
    pub replicas: Vec<Replica>,
}

impl Route {
    /// The home replica (writes go here first).
    pub fn home(&self) -> &Replica {
        &self.replicas[0]
    }

    /// Replicas ordered for reads from `local_dc`: replicas in the local
    /// datacenter first, then the others in placement order.
    pub fn by_locality(&self, local_dc: &str) -> Vec<&Replica> {
        let mut out: Vec<&Replica> = self
            .replicas
            .iter()
            .filter(|r| r.datacenter == local_dc)
            .collect();
        out.extend(self.replicas.iter().filter(|r| r.datacenter != local_dc));
        out
    }
}

/// A part of a range request that one partition answers: keys in
/// `[start, end)` (encoded full keys; an empty `end` means unbounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubRange {
    /// The partition answering it.
    pub route: Route,
    /// Inclusive start (encoded key bytes).
    pub start: Vec<u8>,
    /// Exclusive end (encoded key bytes); empty means INF_MAX.
    pub end: Vec<u8>,
    /// Hash placement scatters a range over every home region: the rows a
    /// scattered sub-range returns count only where [`SubRange::owns`] says
    /// so (the key's home is this sub-range's home region). `false` for range
    /// placement, where every key in `[start, end)` belongs to the partition.
    pub scatter: bool,
}

impl SubRange {
    /// Whether a row with this encoded key, read from this sub-range's
    /// home, belongs to this sub-range's answer.
    pub fn owns(&self, map: &ClusterMap, encoded_key: &[u8]) -> Result<bool> {
        if !self.scatter {
            return Ok(true);
        }
        Ok(
            map.route_key(&self.route.table, encoded_key)?.home().region
                == self.route.home().region,
        )
    }
}

/// The encoded partition key (first primary-key column) of an encoded full key.
pub fn partition_key(encoded_key: &[u8]) -> Result<&[u8]> {
    let mut r = Reader::new(encoded_key, "primary key");
    read_pk_value(&mut r)?;
    Ok(&encoded_key[..r.position()])
}

fn pick_region(dc: &Datacenter, table_seed: u64, partition: u32) -> Replica {
    let r = dc
        .regions
        .iter()
        .max_by(|a, b| {
            rendezvous_score(name_seed(&a.name), table_seed, partition)
                .cmp(&rendezvous_score(name_seed(&b.name), table_seed, partition))
                .then_with(|| b.name.cmp(&a.name))
        })
        .expect("validated: every datacenter has a region");
    Replica {
        datacenter: dc.name.clone(),
        region: r.name.clone(),
        endpoint: r.endpoint.clone(),
    }
}

impl ClusterMap {
    /// The partition of an encoded full key.
    pub fn partition_of(&self, table: &str, encoded_key: &[u8]) -> Result<u32> {
        let pk = partition_key(encoded_key)?;
        let t = self.table(table)?;
        Ok(match &t.placement {
            Placement::Hash { buckets } => bucket_of(pk, *buckets),
            Placement::Range { partitions } => {
                let i = partitions.partition_point(|p| p.start.as_slice() <= pk);
                partitions[i - 1].id
            }
        })
    }

    /// The route of `partition` of `table`.
    pub fn route_partition(&self, table: &str, partition: u32) -> Result<Route> {
        let t = self.table(table)?;
        let ts = name_seed(table);
        let dcs: Vec<&Datacenter> = match &t.placement {
            Placement::Hash { buckets } => {
                if partition >= *buckets {
                    return Err(Error::invalid(format!(
                        "table '{table}' has {buckets} buckets, no partition {partition}"
                    )));
                }
                self.rank_datacenters(table, partition)
                    .into_iter()
                    .take(t.replication_factor as usize)
                    .collect()
            }
            Placement::Range { partitions } => {
                let p = partitions
                    .iter()
                    .find(|p| p.id == partition)
                    .ok_or_else(|| {
                        Error::invalid(format!("table '{table}' has no partition {partition}"))
                    })?;
                p.datacenters
                    .iter()
                    .map(|d| self.datacenter(d))
                    .collect::<Result<_>>()?
            }
        };
        Ok(Route {
            epoch: self.epoch,
            table: table.to_string(),
            partition,
            replicas: dcs
                .into_iter()
                .map(|d| pick_region(d, ts, partition))
                .collect(),
        })
    }

    /// The route of an encoded full key.
    pub fn route_key(&self, table: &str, encoded_key: &[u8]) -> Result<Route> {
        let p = self.partition_of(table, encoded_key)?;
        self.route_partition(table, p)
    }

    /// Split `[start, end)` (encoded keys or bounds; empty `end` = INF_MAX)
    /// into the sub-ranges each partition answers, in key order. A
    /// hash-placed table answers with one sub-range per region that is home
    /// of some bucket, each filtered to the buckets that region is home of.
    pub fn split_range(&self, table: &str, start: &[u8], end: &[u8]) -> Result<Vec<SubRange>> {
        let t = self.table(table)?;
        let below_end = |k: &[u8]| end.is_empty() || k < end;
        match &t.placement {
            Placement::Range { partitions } => {
                let mut out = Vec::new();
                for (i, p) in partitions.iter().enumerate() {
                    let p_end: &[u8] = partitions
                        .get(i + 1)
                        .map(|n| n.start.as_slice())
                        .unwrap_or(&[]);
                    // Skip partitions wholly before start or at/after end.
                    if !p_end.is_empty() && p_end <= start {
                        continue;
                    }
                    if !below_end(&p.start) {
                        break;
                    }
                    let s = if p.start.as_slice() > start {
                        p.start.clone()
                    } else {
                        start.to_vec()
                    };
                    let e = match (p_end.is_empty(), end.is_empty()) {
                        (true, _) => end.to_vec(),
                        (false, true) => p_end.to_vec(),
                        (false, false) => p_end.min(end).to_vec(),
                    };
                    if !e.is_empty() && s >= e {
                        continue;
                    }
                    out.push(SubRange {
                        route: self.route_partition(table, p.id)?,
                        start: s,
                        end: e,
                        scatter: false,
                    });
                }
                Ok(out)
            }
            Placement::Hash { buckets } => {
                // One scatter request per bucket would be 65536 requests: ask
                // each bucket's home once per distinct route instead, and
                // let the merge keep the keys of the buckets it asked for.
                if !end.is_empty() && start >= end {
                    return Ok(vec![]);
                }
                let regions: usize = self.datacenters.iter().map(|d| d.regions.len()).sum();
                let mut out: Vec<SubRange> = Vec::new();
                for b in 0..*buckets {
                    if out.len() == regions {
                        break;
                    }
                    let route = self.route_partition(table, b)?;
                    if !out.iter().any(|s| s.route.home() == route.home()) {
                        out.push(SubRange {
                            route,
                            start: start.to_vec(),
                            end: end.to_vec(),
                            scatter: true,
                        });
                    }
                }
                Ok(out)
            }
        }
    }
}
