//! The cluster map: datacenters, their regions and endpoints, and per table
//! a placement, a replication factor and a default write mode, versioned by
//! an epoch. Every change returns a new map with the next epoch.

use super::hash::{name_seed, rendezvous_score};
use super::mode::WriteMode;
use crate::model::error::{Error, Result};

/// Most buckets a hash-placed table may have.
pub const MAX_BUCKETS: u32 = 1 << 20;
/// Buckets of a hash-placed table unless given.
pub const DEFAULT_BUCKETS: u32 = 1 << 16;

/// One region (a `tablesync serve` process) inside a datacenter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionEndpoint {
    /// The region's name (unique in the cluster).
    pub name: String,
    /// Where it listens, e.g. `http://10.0.0.5:7700`.
    pub endpoint: String,
}

/// A datacenter and its regions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datacenter {
    /// The datacenter's name (unique in the cluster).
    pub name: String,
    /// Its regions (at least one).
    pub regions: Vec<RegionEndpoint>,
}

impl Datacenter {
    /// A datacenter with one region per `(name, endpoint)` pair.
    pub fn new<N: Into<String>, E: Into<String>>(
        name: impl Into<String>,
        regions: impl IntoIterator<Item = (N, E)>,
    ) -> Self {
        Datacenter {
            name: name.into(),
            regions: regions
                .into_iter()
                .map(|(n, e)| RegionEndpoint {
                    name: n.into(),
                    endpoint: e.into(),
                })
                .collect(),
        }
    }
}

/// One partition of a range-placed table: the keys whose partition key is
/// at least `start` and below the next partition's `start`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangePartition {
    /// Stable id (kept across splits and moves).
    pub id: u32,
    /// Encoded first primary-key column (FORMAT.md §3) where the partition
    /// starts; empty for the first partition (INF_MIN).
    pub start: Vec<u8>,
    /// Datacenters holding it, home first; as many as the replication factor.
    pub datacenters: Vec<String>,
}

/// How a table's keys are spread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Keys hash into `buckets` buckets; each bucket's datacenters are
    /// chosen by rendezvous hashing, so adding a datacenter moves only its share.
    Hash {
        /// Number of buckets (1..=[`MAX_BUCKETS`]); a bucket is a partition.
        buckets: u32,
    },
    /// Keys are split into ordered ranges of the partition key.
    Range {
        /// Partitions in key order; the first starts at INF_MIN.
        partitions: Vec<RangePartition>,
    },
}

/// A table's place in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TablePlacement {
    /// The table name.
    pub table: String,
    /// Datacenters holding each partition (1..=datacenters).
    pub replication_factor: u8,
    /// The default write mode (a request may ask for another).
    pub write_mode: WriteMode,
    /// Hash or range placement.
    pub placement: Placement,
}

/// The whole cluster map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusterMap {
    /// Version; every change increments it.
    pub epoch: u64,
    /// Datacenters, in the order given.
    pub datacenters: Vec<Datacenter>,
    /// Table placements, in the order added.
    pub tables: Vec<TablePlacement>,
}

/// Whether a request's map epoch matches the region's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochCheck {
    /// Same epoch: serve the request.
    Current,
    /// The request is newer than the region's map: the region must fetch
    /// the map before serving it.
    RegionBehind,
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "{what} name {name:?} must be 1-255 printable characters"
        )));
    }
    Ok(())
}

impl ClusterMap {
    /// A map at epoch 1 over `datacenters` with no tables.
    pub fn new(datacenters: Vec<Datacenter>) -> Result<Self> {
        let m = ClusterMap {
            epoch: 1,
            datacenters,
            tables: vec![],
        };
        m.validate()?;
        Ok(m)
    }

    /// Refuse a request routed with an older map (`StaleClusterMap`).
    pub fn check_request_epoch(&self, request_epoch: u64) -> Result<EpochCheck> {
        if request_epoch < self.epoch {
            Err(Error::StaleClusterMap {
                request_epoch,
                current_epoch: self.epoch,
            })
        } else if request_epoch > self.epoch {
            Ok(EpochCheck::RegionBehind)
        } else {
            Ok(EpochCheck::Current)
        }
    }

    /// The datacenter named `name`.
    pub fn datacenter(&self, name: &str) -> Result<&Datacenter> {
        self.datacenters
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| Error::invalid(format!("no datacenter '{name}' in the cluster map")))
    }

    /// The datacenter that holds region `region`.
    pub fn datacenter_of_region(&self, region: &str) -> Option<&Datacenter> {
        self.datacenters
            .iter()
            .find(|d| d.regions.iter().any(|r| r.name == region))
    }

    /// The placement of `table`.
    pub fn table(&self, table: &str) -> Result<&TablePlacement> {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .ok_or_else(|| {
                Error::ObjectNotExist(format!("table '{table}' is not in the cluster map"))
            })
    }

    fn table_mut(&mut self, table: &str) -> Result<&mut TablePlacement> {
        self.tables
            .iter_mut()
            .find(|t| t.table == table)
            .ok_or_else(|| {
                Error::ObjectNotExist(format!("table '{table}' is not in the cluster map"))
            })
    }

    /// Check every invariant: unique non-empty names, every datacenter has a
    /// region, replication factors fit, range partitions ordered with valid
    /// datacenter lists, bucket counts in bounds.
    pub fn validate(&self) -> Result<()> {
        if self.datacenters.is_empty() {
            return Err(Error::invalid("a cluster needs at least one datacenter"));
        }
        let mut dc_names = std::collections::BTreeSet::new();
        let mut region_names = std::collections::BTreeSet::new();
        for dc in &self.datacenters {
            check_name("datacenter", &dc.name)?;
            if !dc_names.insert(dc.name.as_str()) {
                return Err(Error::invalid(format!(
                    "datacenter '{}' is listed twice",
                    dc.name
                )));
            }
            if dc.regions.is_empty() {
                return Err(Error::invalid(format!(
                    "datacenter '{}' has no region",
                    dc.name
                )));
            }
            for r in &dc.regions {
                check_name("region", &r.name)?;
                if !region_names.insert(r.name.as_str()) {
                    return Err(Error::invalid(format!(
                        "region '{}' is listed twice",
                        r.name
                    )));
                }
            }
        }
        let mut tables = std::collections::BTreeSet::new();
        for t in &self.tables {
            check_name("table", &t.table)?;
            if !tables.insert(t.table.as_str()) {
                return Err(Error::invalid(format!(
                    "table '{}' is placed twice",
                    t.table
                )));
            }
            let rf = t.replication_factor as usize;
            if rf == 0 || rf > self.datacenters.len() {
                return Err(Error::invalid(format!(
                    "table '{}': replication factor {rf} must be 1..={}",
                    t.table,
                    self.datacenters.len()
                )));
            }
            match &t.placement {
                Placement::Hash { buckets } => {
                    if *buckets == 0 || *buckets > MAX_BUCKETS {
                        return Err(Error::invalid(format!(
                            "table '{}': {buckets} buckets, must be 1..={MAX_BUCKETS}",
                            t.table
                        )));
                    }
                }
                Placement::Range { partitions } => {
                    if partitions.is_empty() || !partitions[0].start.is_empty() {
                        return Err(Error::invalid(format!(
                            "table '{}': the first range partition must start at INF_MIN",
                            t.table
                        )));
                    }
                    let mut ids = std::collections::BTreeSet::new();
                    for (i, p) in partitions.iter().enumerate() {
                        if i > 0 && partitions[i - 1].start >= p.start {
                            return Err(Error::invalid(format!(
                                "table '{}': partition starts must increase",
                                t.table
                            )));
                        }
                        if !ids.insert(p.id) {
                            return Err(Error::invalid(format!(
                                "table '{}': partition id {} is used twice",
                                t.table, p.id
                            )));
                        }
                        if p.datacenters.len() != rf {
                            return Err(Error::invalid(format!(
                                "table '{}': partition {} lists {} datacenters, replication factor is {rf}",
                                t.table,
                                p.id,
                                p.datacenters.len()
                            )));
                        }
                        for (j, d) in p.datacenters.iter().enumerate() {
                            if !dc_names.contains(d.as_str()) {
                                return Err(Error::invalid(format!(
                                    "table '{}': partition {} names unknown datacenter '{d}'",
                                    t.table, p.id
                                )));
                            }
                            if p.datacenters[..j].contains(d) {
                                return Err(Error::invalid(format!(
                                    "table '{}': partition {} lists datacenter '{d}' twice",
                                    t.table, p.id
                                )));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn next(&self, change: impl FnOnce(&mut ClusterMap) -> Result<()>) -> Result<ClusterMap> {
        let mut m = self.clone();
        change(&mut m)?;
        m.epoch = self
            .epoch
            .checked_add(1)
            .ok_or_else(|| Error::invalid("cluster map epoch overflow"))?;
        m.validate()?;
        Ok(m)
    }

    /// Datacenters ranked by rendezvous score for `partition` of `table`
    /// (best first); the first `rf` hold a hash-placed partition.
    pub fn rank_datacenters(&self, table: &str, partition: u32) -> Vec<&Datacenter> {
        let ts = name_seed(table);
        let mut ranked: Vec<(u64, &Datacenter)> = self
            .datacenters
            .iter()
            .map(|d| (rendezvous_score(name_seed(&d.name), ts, partition), d))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        ranked.into_iter().map(|(_, d)| d).collect()
    }

    /// Add a table with a placement; the datacenters of a range-placed
    /// table's partitions may be left empty to have them chosen by rendezvous.
    pub fn add_table(&self, mut placement: TablePlacement) -> Result<ClusterMap> {
        if let Placement::Range { partitions } = &mut placement.placement {
            for p in partitions.iter_mut() {
                if p.datacenters.is_empty() {
                    p.datacenters = self
                        .rank_datacenters(&placement.table, p.id)
                        .into_iter()
                        .take(placement.replication_factor as usize)
                        .map(|d| d.name.clone())
                        .collect();
                }
            }
        }
        if self.tables.iter().any(|t| t.table == placement.table) {
            return Err(Error::ObjectAlreadyExist(format!(
                "table '{}' is already in the cluster map",
                placement.table
            )));
        }
        self.next(|m| {
            m.tables.push(placement);
            Ok(())
        })
    }

    /// Remove a table's placement.
    pub fn remove_table(&self, table: &str) -> Result<ClusterMap> {
        self.table(table)?;
        self.next(|m| {
            m.tables.retain(|t| t.table != table);
            Ok(())
        })
    }

    /// Add a datacenter. Hash-placed partitions move to it by rendezvous
    /// (only its share); range partitions stay where they are.
    pub fn add_datacenter(&self, dc: Datacenter) -> Result<ClusterMap> {
        self.next(|m| {
            m.datacenters.push(dc);
            Ok(())
        })
    }

    /// Remove a datacenter. Range partitions it held get the next
    /// datacenter by rendezvous in its place (a home that leaves is replaced
    /// by the partition's first remaining replica).
    pub fn remove_datacenter(&self, name: &str) -> Result<ClusterMap> {
        self.datacenter(name)?;
        if self.datacenters.len() == 1 {
            return Err(Error::invalid("cannot remove the last datacenter"));
        }
        let remaining = self.datacenters.len() - 1;
        if let Some(t) = self
            .tables
            .iter()
            .find(|t| t.replication_factor as usize > remaining)
        {
            return Err(Error::invalid(format!(
                "table '{}' needs {} datacenters; lower its replication factor first",
                t.table, t.replication_factor
            )));
        }
        let mut out = self.clone();
        out.datacenters.retain(|d| d.name != name);
        for t in &mut out.tables {
            let table = t.table.clone();
            if let Placement::Range { partitions } = &mut t.placement {
                for p in partitions.iter_mut() {
                    if let Some(i) = p.datacenters.iter().position(|d| d == name) {
                        p.datacenters.remove(i);
                        let pick = self
                            .rank_datacenters(&table, p.id)
                            .into_iter()
                            .map(|d| d.name.clone())
                            .find(|d| d != name && !p.datacenters.contains(d))
                            .expect("enough datacenters remain");
                        p.datacenters.push(pick);
                    }
                }
            }
        }
        self.next(|m| {
            *m = ClusterMap {
                epoch: m.epoch,
                ..out
            };
            Ok(())
        })
    }

    /// Split range partition `id` of `table` at `at` (an encoded first
    /// primary-key column): keys from `at` on go to a new partition on the
    /// same datacenters. Returns the new map and the new partition's id.
    pub fn split(&self, table: &str, id: u32, at: Vec<u8>) -> Result<(ClusterMap, u32)> {
        let t = self.table(table)?;
        let Placement::Range { partitions } = &t.placement else {
            return Err(Error::invalid(format!(
                "table '{table}' is hash-placed; only range partitions split"
            )));
        };
        let i = partitions
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| Error::invalid(format!("table '{table}' has no partition {id}")))?;
        let upper = partitions.get(i + 1).map(|p| &p.start);
        if at <= partitions[i].start || upper.is_some_and(|u| &at >= u) {
            return Err(Error::invalid(format!(
                "split point is outside partition {id} of table '{table}'"
            )));
        }
        let new_id = partitions.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        let dcs = partitions[i].datacenters.clone();
        let m = self.next(|m| {
            if let Placement::Range { partitions } = &mut m.table_mut(table)?.placement {
                partitions.insert(
                    i + 1,
                    RangePartition {
                        id: new_id,
                        start: at,
                        datacenters: dcs,
                    },
                );
            }
            Ok(())
        })?;
        Ok((m, new_id))
    }

    /// Move range partition `id` of `table` to `datacenters` (home first).
    pub fn move_partition(
        &self,
        table: &str,
        id: u32,
        datacenters: Vec<String>,
    ) -> Result<ClusterMap> {
        self.next(|m| {
            let t = m.table_mut(table)?;
            let Placement::Range { partitions } = &mut t.placement else {
                return Err(Error::invalid(format!(
                    "table '{table}' is hash-placed; only range partitions move"
                )));
            };
            let p = partitions
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or_else(|| Error::invalid(format!("table '{table}' has no partition {id}")))?;
            p.datacenters = datacenters;
            Ok(())
        })
    }

    /// Set a table's default write mode.
    pub fn set_write_mode(&self, table: &str, mode: WriteMode) -> Result<ClusterMap> {
        self.next(|m| {
            m.table_mut(table)?.write_mode = mode;
            Ok(())
        })
    }
}
