//! Map changes that move data (docs/CLUSTER.md, "Moving partitions"):
//! `cluster add-dc`, `remove-dc`, `split` and `move` against running
//! regions, sans-IO.
//!
//! [`plan`] compares the old and the new map: every partition whose new
//! replicas include a region that did not hold its keys, or whose home
//! region changes, gets a [`Move`] from its old home (the *source*, which
//! holds every acknowledged write) to each such region (a *target*).
//!
//! A [`Rebalance`] (run by the CLI) then drives four phases, resending
//! on every [`Rebalance::tick`] until answered (every handler is
//! idempotent, so lost and repeated messages are harmless):
//!
//! 1. **Warm**: each target copies the partition's row states from its
//!    source while writes go on (most of the data moves here), and every
//!    region joining the cluster installs the *old* map (in which it holds
//!    nothing), so that the new map marks what it gains pending.
//! 2. **Install**: every region installs the new map. A region that is a
//!    target marks the partitions it gains *pending* ([`newly_held`]) and
//!    refuses reads and writes of them (`CatchingUp`, retryable) — so a
//!    new home never takes a write before it holds what the old home
//!    acknowledged. An old home that installs the map is no longer home:
//!    it refuses writes (`NotHome`/stale epoch). Between the source's
//!    install and the target's release the partition takes no writes
//!    anywhere: the brief fence.
//! 3. **Catch up**: each target copies again, now from a source that has
//!    installed the new map and has no in-doubt transaction
//!    ([`RegionMoves::check_source`]): the copy holds every write the
//!    source ever acknowledged (it waits for prepared transactions that
//!    write the copied rows: they commit where they were prepared).
//! 4. **Release**: targets clear the pending partitions and serve them.
//! 5. **Purge**: every region of the new map that held a partition's keys
//!    under the old map and holds them no more ([`lost`]) drops their rows
//!    with a local purge (no tombstones, no change records:
//!    `Database::purge_rows`), keeping any key its own map still gives it.
//!
//! Row states merge as a CRDT (any order, duplicates, newer wins), so a
//! copy never undoes a newer write and a late forwarded record never
//! undoes a copy.

use super::map::{ClusterMap, Placement};
use super::route::partition_key;
use crate::cluster::hash::bucket_of;
use crate::model::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// Which rows of a table a move copies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyFilter {
    /// Partition keys (encoded first primary-key column) in `[start, end)`;
    /// an empty `end` is unbounded.
    Range {
        /// Inclusive start.
        start: Vec<u8>,
        /// Exclusive end (empty: none).
        end: Vec<u8>,
    },
    /// Keys whose bucket out of `buckets` is in `ids` (sorted, unique).
    Buckets {
        /// The table's bucket count.
        buckets: u32,
        /// The buckets.
        ids: Vec<u32>,
    },
}

impl KeyFilter {
    /// Whether the row with encoded primary key `key` is selected.
    pub fn contains(&self, key: &[u8]) -> bool {
        let Ok(pk) = partition_key(key) else {
            return false;
        };
        match self {
            KeyFilter::Range { start, end } => {
                pk >= start.as_slice() && (end.is_empty() || pk < end.as_slice())
            }
            KeyFilter::Buckets { buckets, ids } => {
                ids.binary_search(&bucket_of(pk, *buckets)).is_ok()
            }
        }
    }
}

/// One table's partitions going from a source region to a target region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Move {
    /// The table.
    pub table: String,
    /// The partitions (hash buckets or range partition ids, new map).
    pub partitions: Vec<u32>,
    /// Their rows.
    pub filter: KeyFilter,
    /// The old home (copied from).
    pub source: String,
    /// The region gaining them.
    pub target: String,
}

/// The regions that held the keys of `partition` of `table` (new map)
/// under `old`, home first; `None` if `old` had no such table.
fn old_holders(
    old: &ClusterMap,
    new: &ClusterMap,
    table: &str,
    partition: u32,
) -> Result<Option<Vec<String>>> {
    let Ok(ot) = old.table(table) else {
        return Ok(None);
    };
    let nt = new.table(table)?;
    let route = match (&ot.placement, &nt.placement) {
        (Placement::Hash { buckets: a }, Placement::Hash { buckets: b }) => {
            if a != b {
                return Err(Error::invalid(format!(
                    "table '{table}': changing the bucket count ({a} → {b}) is not a move"
                )));
            }
            old.route_partition(table, partition)?
        }
        (Placement::Range { .. }, Placement::Range { partitions }) => {
            let start = &partitions
                .iter()
                .find(|p| p.id == partition)
                .ok_or_else(|| {
                    Error::invalid(format!("table '{table}' has no partition {partition}"))
                })?
                .start;
            // A partition only shrinks (split) or changes datacenters
            // (move): its keys were in the old partition holding its start.
            let id = old.partition_of_start(table, start)?;
            old.route_partition(table, id)?
        }
        _ => {
            return Err(Error::invalid(format!(
                "table '{table}' changed between hash and range placement"
            )))
        }
    };
    Ok(Some(route.replicas.into_iter().map(|r| r.region).collect()))
}

/// Partition ids of `table` under `map`.
fn partition_ids(map: &ClusterMap, table: &str) -> Result<Vec<u32>> {
    Ok(match &map.table(table)?.placement {
        Placement::Hash { buckets } => (0..*buckets).collect(),
        Placement::Range { partitions } => partitions.iter().map(|p| p.id).collect(),
    })
}

/// For one partition of the new map: its source (old home) and the
/// regions that must copy it (new replicas, and a new home).
fn partition_moves(
    old: &ClusterMap,
    new: &ClusterMap,
    table: &str,
    partition: u32,
) -> Result<Option<(String, Vec<String>)>> {
    Ok(
        partition_moves_from(old, new, table, partition, &BTreeSet::new())?
            .map(|(mut sources, targets)| (sources.swap_remove(0), targets)),
    )
}

/// [`partition_moves`] when the regions in `down` are gone: the sources
/// are the old home, or — when it is down — every old replica still up
/// (row states merge, so the targets end up with every write any survivor
/// holds: each write a `sync`/`semi-sync` mode acknowledged reached one).
/// No surviving old replica is `InvalidArgument`.
fn partition_moves_from(
    old: &ClusterMap,
    new: &ClusterMap,
    table: &str,
    partition: u32,
    down: &BTreeSet<String>,
) -> Result<Option<(Vec<String>, Vec<String>)>> {
    let Some(before) = old_holders(old, new, table, partition)? else {
        return Ok(None); // a new table: nothing to copy
    };
    let after: Vec<String> = new
        .route_partition(table, partition)?
        .replicas
        .into_iter()
        .map(|r| r.region)
        .collect();
    let targets: Vec<String> = after
        .iter()
        .enumerate()
        .filter(|(i, r)| !before.contains(r) || (*i == 0 && before[0] != **r))
        .map(|(_, r)| r.clone())
        .collect();
    if targets.is_empty() {
        return Ok(None);
    }
    if !down.contains(&before[0]) {
        return Ok(Some((vec![before[0].clone()], targets)));
    }
    let alive: Vec<String> = before.into_iter().filter(|r| !down.contains(r)).collect();
    if alive.is_empty() {
        return Err(Error::invalid(format!(
            "partition {partition} of '{table}' has no replica left that is up: its data cannot be copied"
        )));
    }
    Ok(Some((alive, targets)))
}

/// The partitions `region` gains from `old` to `new`: those it must copy
/// before serving them (what [`plan`] gives it as a target).
pub fn newly_held(
    old: &ClusterMap,
    new: &ClusterMap,
    region: &str,
) -> Result<BTreeSet<(String, u32)>> {
    let mut out = BTreeSet::new();
    for t in &new.tables {
        for p in partition_ids(new, &t.table)? {
            if let Some((_, targets)) = partition_moves(old, new, &t.table, p)? {
                if targets.iter().any(|r| r == region) {
                    out.insert((t.table.clone(), p));
                }
            }
        }
    }
    Ok(out)
}

/// The moves from `old` to `new`, one per (table, source, target) for
/// hash-placed tables, one per partition and target for range-placed ones.
pub fn plan(old: &ClusterMap, new: &ClusterMap) -> Result<Vec<Move>> {
    plan_without(old, new, &BTreeSet::new())
}

/// [`plan`] when the regions in `down` are gone for good (`remove-dc` of a
/// datacenter that is down): a partition whose old home is down is copied
/// from each of its old replicas still up. Regions of `new` must not be down.
pub fn plan_without(
    old: &ClusterMap,
    new: &ClusterMap,
    down: &BTreeSet<String>,
) -> Result<Vec<Move>> {
    if new.epoch <= old.epoch {
        return Err(Error::invalid("the new map must have a greater epoch"));
    }
    if let Some(r) = down.iter().find(|r| new.datacenter_of_region(r).is_some()) {
        return Err(Error::invalid(format!(
            "region '{r}' is down but stays in the new map: only regions leaving the cluster may be down"
        )));
    }
    let mut out = Vec::new();
    for t in &new.tables {
        let mut buckets: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
        for p in partition_ids(new, &t.table)? {
            let Some((sources, targets)) = partition_moves_from(old, new, &t.table, p, down)?
            else {
                continue;
            };
            for source in sources {
                match &t.placement {
                    Placement::Hash { .. } => {
                        for target in &targets {
                            buckets
                                .entry((source.clone(), target.clone()))
                                .or_default()
                                .push(p);
                        }
                    }
                    Placement::Range { partitions } => {
                        let filter = range_filter(partitions, p);
                        for target in &targets {
                            out.push(Move {
                                table: t.table.clone(),
                                partitions: vec![p],
                                filter: filter.clone(),
                                source: source.clone(),
                                target: target.clone(),
                            });
                        }
                    }
                }
            }
        }
        if let Placement::Hash { buckets: n } = &t.placement {
            for ((source, target), ids) in buckets {
                out.push(Move {
                    table: t.table.clone(),
                    partitions: ids.clone(),
                    filter: KeyFilter::Buckets { buckets: *n, ids },
                    source,
                    target,
                });
            }
        }
    }
    Ok(out)
}

/// One table's partitions a region held under the old map and does not
/// hold under the new one: their rows are purged there once every target
/// is released.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lost {
    /// The table.
    pub table: String,
    /// The partitions (hash buckets or range partition ids, new map).
    pub partitions: Vec<u32>,
    /// Their rows.
    pub filter: KeyFilter,
    /// The region that no longer holds them.
    pub region: String,
}

/// The partitions regions of `new` lose from `old` to `new` (regions that
/// leave the cluster are not listed: they are out of it, maybe down), one
/// per (table, region) for hash-placed tables, one per partition and
/// region for range-placed ones.
pub fn lost(old: &ClusterMap, new: &ClusterMap) -> Result<Vec<Lost>> {
    let mut out = Vec::new();
    for t in &new.tables {
        let mut buckets: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for p in partition_ids(new, &t.table)? {
            let Some(before) = old_holders(old, new, &t.table, p)? else {
                continue;
            };
            let after = new.route_partition(&t.table, p)?.replicas;
            let gone = before.into_iter().filter(|r| {
                !after.iter().any(|a| a.region == *r) && new.datacenter_of_region(r).is_some()
            });
            match &t.placement {
                Placement::Hash { .. } => {
                    for r in gone {
                        buckets.entry(r).or_default().push(p);
                    }
                }
                Placement::Range { partitions } => {
                    let filter = range_filter(partitions, p);
                    for region in gone {
                        out.push(Lost {
                            table: t.table.clone(),
                            partitions: vec![p],
                            filter: filter.clone(),
                            region,
                        });
                    }
                }
            }
        }
        if let Placement::Hash { buckets: n } = &t.placement {
            for (region, ids) in buckets {
                out.push(Lost {
                    table: t.table.clone(),
                    partitions: ids.clone(),
                    filter: KeyFilter::Buckets { buckets: *n, ids },
                    region,
                });
            }
        }
    }
    Ok(out)
}

/// The key range of range partition `id` of `partitions`.
fn range_filter(partitions: &[super::map::RangePartition], id: u32) -> KeyFilter {
    let i = partitions.iter().position(|x| x.id == id).unwrap_or(0);
    KeyFilter::Range {
        start: partitions
            .get(i)
            .map(|p| p.start.clone())
            .unwrap_or_default(),
        end: partitions
            .get(i + 1)
            .map(|n| n.start.clone())
            .unwrap_or_default(),
    }
}

impl ClusterMap {
    /// The range partition of `table` holding the partition key `start`.
    fn partition_of_start(&self, table: &str, start: &[u8]) -> Result<u32> {
        match &self.table(table)?.placement {
            Placement::Range { partitions } => {
                let i = partitions.partition_point(|p| p.start.as_slice() <= start);
                Ok(partitions[i.max(1) - 1].id)
            }
            Placement::Hash { .. } => {
                Err(Error::invalid(format!("table '{table}' is hash-placed")))
            }
        }
    }
}

/// Messages of a rebalance (FORMAT.md §17.3), carried in a `TSCX` frame
/// as `ClusterMsg::Move`.
#[derive(Clone, Debug, PartialEq)]
pub enum MoveMsg {
    /// Change → region: install `map` (marking the partitions it gains pending).
    Install {
        /// The new map.
        map: ClusterMap,
    },
    /// Region → change: this region's map epoch now.
    Installed {
        /// Its epoch.
        epoch: u64,
    },
    /// Change → target: copy `filter`'s rows of `table` from `source`
    /// (an endpoint). `fence` 0 is a warm copy; otherwise the source must
    /// have installed epoch `fence` and have no in-doubt transaction. A
    /// target whose map is newer than `epoch` copies nothing (a late copy
    /// of a finished change must not bring back rows purged since).
    Copy {
        /// The move's index in the plan.
        id: u32,
        /// 0, or the new map's epoch.
        fence: u64,
        /// The change's new map epoch.
        epoch: u64,
        /// The table.
        table: String,
        /// Its rows.
        filter: KeyFilter,
        /// The source region's endpoint.
        source: String,
    },
    /// Target → change: copy `id` done at `fence`, `rows` merged.
    Copied {
        /// The move.
        id: u32,
        /// The fence it was made under.
        fence: u64,
        /// Row states merged.
        rows: u64,
    },
    /// Change → target: serve `partitions` of `table` (map `epoch`).
    Release {
        /// The move.
        id: u32,
        /// The new map's epoch.
        epoch: u64,
        /// The table.
        table: String,
        /// The partitions.
        partitions: Vec<u32>,
    },
    /// Target → change: released.
    Released {
        /// The move.
        id: u32,
    },
    /// Change → region: drop (purge, FORMAT.md §9) the rows of `filter`
    /// of `table` that the region's map (epoch ≥ `epoch`) does not give it.
    Purge {
        /// The index in [`lost`]'s list.
        id: u32,
        /// The new map's epoch.
        epoch: u64,
        /// The table.
        table: String,
        /// The rows.
        filter: KeyFilter,
    },
    /// Region → change: purged, `rows` removed.
    Purged {
        /// The purge.
        id: u32,
        /// Rows removed.
        rows: u64,
    },
    /// Target → source: the schema of `table` (a target without the table,
    /// e.g. a region of a new datacenter, creates it before copying).
    SchemaGet {
        /// The table.
        table: String,
    },
    /// Source → target: the table's schema (FORMAT.md §8).
    Schema {
        /// The schema.
        schema: crate::model::schema::TableSchema,
    },
    /// Target → source: a page of row states (key order) after `after`.
    Rows {
        /// 0, or the epoch the source must have installed.
        fence: u64,
        /// The table.
        table: String,
        /// Which rows.
        filter: KeyFilter,
        /// Continue after this encoded key (empty: from the start).
        after: Vec<u8>,
        /// About this many bytes per page.
        max_bytes: u64,
    },
    /// Source → target: row states `(encoded key, state)` (FORMAT.md §13);
    /// `next` non-empty: ask again after it.
    RowsPage {
        /// The rows.
        rows: Vec<(Vec<u8>, Vec<u8>)>,
        /// Where to continue (empty: done).
        next: Vec<u8>,
    },
}

/// Phase of a [`Rebalance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Targets copy while writes go on.
    Warm,
    /// Every region installs the new map.
    Install,
    /// Targets copy from fenced sources.
    CatchUp,
    /// Targets start serving.
    Release,
    /// Regions drop the rows of partitions they lost.
    Purge,
    /// Done.
    Done,
}

/// One map change with data movement in progress (the CLI runs it).
#[derive(Clone, Debug)]
pub struct Rebalance {
    old: ClusterMap,
    new: ClusterMap,
    /// Regions of the new map that are not in the old one: they install
    /// the old map first (holding nothing), so that installing the new
    /// one marks what they gain pending.
    joining: Vec<String>,
    moves: Vec<Move>,
    lost: Vec<Lost>,
    endpoints: BTreeMap<String, String>,
    /// Regions gone for good: not asked to install, never a source.
    down: BTreeSet<String>,
    phase: Phase,
    done: BTreeSet<String>,
    copied_rows: u64,
    purged_rows: u64,
}

impl Rebalance {
    /// Plan the change from `old` to `new`.
    pub fn new(old: &ClusterMap, new: ClusterMap) -> Result<Self> {
        Self::without(old, new, BTreeSet::new())
    }

    /// Plan the change from `old` to `new` when the regions in `down`
    /// (all leaving the cluster: `remove-dc` of a datacenter that is down)
    /// are gone for good: they are not asked to install the new map, and a
    /// partition whose old home is down is copied from its surviving old
    /// replicas ([`plan_without`]). A down region must never serve again
    /// with its old map (it would take writes as an old home): wipe it.
    pub fn without(old: &ClusterMap, new: ClusterMap, down: BTreeSet<String>) -> Result<Self> {
        new.validate()?;
        let moves = plan_without(old, &new, &down)?;
        let lost = lost(old, &new)?;
        let mut endpoints = BTreeMap::new();
        for m in [old, &new] {
            for d in &m.datacenters {
                for r in &d.regions {
                    endpoints.insert(r.name.clone(), r.endpoint.clone());
                }
            }
        }
        let joining: Vec<String> = new
            .datacenters
            .iter()
            .flat_map(|d| d.regions.iter())
            .filter(|r| old.datacenter_of_region(&r.name).is_none())
            .map(|r| r.name.clone())
            .collect();
        let phase = if moves.is_empty() && joining.is_empty() {
            Phase::Install
        } else {
            Phase::Warm
        };
        Ok(Rebalance {
            old: old.clone(),
            joining,
            new,
            moves,
            lost,
            endpoints,
            down,
            phase,
            done: BTreeSet::new(),
            copied_rows: 0,
            purged_rows: 0,
        })
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The planned moves.
    pub fn moves(&self) -> &[Move] {
        &self.moves
    }

    /// Row states merged by the copies so far (warm and catch-up).
    pub fn copied_rows(&self) -> u64 {
        self.copied_rows
    }

    /// The partitions regions lose (purged in the last phase).
    pub fn lost(&self) -> &[Lost] {
        &self.lost
    }

    /// Rows purged so far by regions that lost partitions.
    pub fn purged_rows(&self) -> u64 {
        self.purged_rows
    }

    /// The endpoint of a region of the old or new map.
    pub fn endpoint(&self, region: &str) -> Option<&str> {
        self.endpoints.get(region).map(String::as_str)
    }

    fn fence(&self) -> u64 {
        if self.phase == Phase::Warm {
            0
        } else {
            self.new.epoch
        }
    }

    /// Messages still unanswered in this phase, as `(region, message)`:
    /// send them now and again on every call until answered.
    pub fn tick(&self) -> Vec<(String, MoveMsg)> {
        let pending = |key: String| !self.done.contains(&key);
        match self.phase {
            Phase::Warm | Phase::CatchUp => self
                .joining
                .iter()
                .filter(|r| self.phase == Phase::Warm && pending(format!("j{r}")))
                .map(|r| {
                    (
                        r.clone(),
                        MoveMsg::Install {
                            map: self.old.clone(),
                        },
                    )
                })
                .chain(
                    self.moves
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| pending(format!("m{i}")))
                        .map(|(i, m)| {
                            (
                                m.target.clone(),
                                MoveMsg::Copy {
                                    id: i as u32,
                                    fence: self.fence(),
                                    epoch: self.new.epoch,
                                    table: m.table.clone(),
                                    filter: m.filter.clone(),
                                    source: self
                                        .endpoints
                                        .get(&m.source)
                                        .cloned()
                                        .unwrap_or_default(),
                                },
                            )
                        }),
                )
                .collect(),
            Phase::Install => self
                .endpoints
                .keys()
                .filter(|r| !self.down.contains(*r) && pending(format!("r{r}")))
                .map(|r| {
                    (
                        r.clone(),
                        MoveMsg::Install {
                            map: self.new.clone(),
                        },
                    )
                })
                .collect(),
            Phase::Release => self
                .moves
                .iter()
                .enumerate()
                .filter(|(i, _)| pending(format!("m{i}")))
                .map(|(i, m)| {
                    (
                        m.target.clone(),
                        MoveMsg::Release {
                            id: i as u32,
                            epoch: self.new.epoch,
                            table: m.table.clone(),
                            partitions: m.partitions.clone(),
                        },
                    )
                })
                .collect(),
            Phase::Purge => self
                .lost
                .iter()
                .enumerate()
                .filter(|(i, _)| pending(format!("p{i}")))
                .map(|(i, l)| {
                    (
                        l.region.clone(),
                        MoveMsg::Purge {
                            id: i as u32,
                            epoch: self.new.epoch,
                            table: l.table.clone(),
                            filter: l.filter.clone(),
                        },
                    )
                })
                .collect(),
            Phase::Done => vec![],
        }
    }

    /// Take region `from`'s answer; returns the messages of the next phase
    /// when this answer completes one.
    pub fn on_reply(&mut self, from: &str, msg: MoveMsg) -> Vec<(String, MoveMsg)> {
        let key = match (&self.phase, msg) {
            (Phase::Warm | Phase::CatchUp, MoveMsg::Copied { id, fence, rows }) => {
                let ok = self
                    .moves
                    .get(id as usize)
                    .is_some_and(|m| m.target == from);
                if !ok || fence != self.fence() {
                    return vec![];
                }
                if self.done.insert(format!("m{id}")) {
                    self.copied_rows += rows;
                }
                return self.advance();
            }
            (Phase::Install, MoveMsg::Installed { epoch }) if epoch >= self.new.epoch => {
                format!("r{from}")
            }
            // A joining region holds the old map (or a newer one, when the
            // change is run again).
            (Phase::Warm, MoveMsg::Installed { epoch })
                if epoch >= self.old.epoch && self.joining.iter().any(|r| r == from) =>
            {
                format!("j{from}")
            }
            (Phase::Release, MoveMsg::Released { id }) => {
                if self.moves.get(id as usize).is_none_or(|m| m.target != from) {
                    return vec![];
                }
                format!("m{id}")
            }
            (Phase::Purge, MoveMsg::Purged { id, rows }) => {
                if self.lost.get(id as usize).is_none_or(|l| l.region != from) {
                    return vec![];
                }
                if self.done.insert(format!("p{id}")) {
                    self.purged_rows += rows;
                }
                return self.advance();
            }
            _ => return vec![],
        };
        self.done.insert(key);
        self.advance()
    }

    fn advance(&mut self) -> Vec<(String, MoveMsg)> {
        let complete = match self.phase {
            Phase::Warm => {
                (0..self.moves.len()).all(|i| self.done.contains(&format!("m{i}")))
                    && self
                        .joining
                        .iter()
                        .all(|r| self.done.contains(&format!("j{r}")))
            }
            Phase::CatchUp | Phase::Release => {
                (0..self.moves.len()).all(|i| self.done.contains(&format!("m{i}")))
            }
            Phase::Install => self
                .endpoints
                .keys()
                .all(|r| self.down.contains(r) || self.done.contains(&format!("r{r}"))),
            Phase::Purge => (0..self.lost.len()).all(|i| self.done.contains(&format!("p{i}"))),
            Phase::Done => false,
        };
        if !complete {
            return vec![];
        }
        self.done.clear();
        self.phase = match self.phase {
            Phase::Warm => Phase::Install,
            Phase::Install if self.moves.is_empty() && self.lost.is_empty() => Phase::Done,
            Phase::Install if self.moves.is_empty() => Phase::Purge,
            Phase::Install => Phase::CatchUp,
            Phase::CatchUp => Phase::Release,
            Phase::Release if !self.lost.is_empty() => Phase::Purge,
            _ => Phase::Done,
        };
        if self.phase == Phase::Purge && self.lost.is_empty() {
            self.phase = Phase::Done;
        }
        self.tick()
    }
}

/// Why a region refuses a request for a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The region gains the partition and has not been released yet (retry).
    CatchingUp,
    /// A source asked for a fenced copy has not installed the new map (retry).
    SourceBehind(u64),
    /// A source asked for a fenced copy still has in-doubt transactions
    /// writing the copied rows (retry).
    InDoubt,
}

/// A region's side: its map and the partitions it gains but does not
/// serve yet. The driver persists it after every change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionMoves {
    /// The region.
    pub region: String,
    /// Its map (none before the first install).
    pub map: Option<ClusterMap>,
    /// Partitions gained and not yet released: (table, partition).
    pub pending: BTreeSet<(String, u32)>,
}

impl RegionMoves {
    /// A region with its stored state.
    pub fn new(
        region: impl Into<String>,
        map: Option<ClusterMap>,
        pending: BTreeSet<(String, u32)>,
    ) -> Self {
        RegionMoves {
            region: region.into(),
            map,
            pending,
        }
    }

    /// Install `map` if newer (an older one is `StaleClusterMap`); marks
    /// the partitions this region gains pending. Returns whether it changed.
    pub fn install(&mut self, map: ClusterMap) -> Result<bool> {
        map.validate()?;
        if let Some(cur) = &self.map {
            if map.epoch < cur.epoch {
                return Err(Error::StaleClusterMap {
                    request_epoch: map.epoch,
                    current_epoch: cur.epoch,
                });
            }
            if map.epoch == cur.epoch {
                return Ok(false);
            }
            let gained = newly_held(cur, &map, &self.region)?;
            // Pending partitions of the old map stay pending (by id) when
            // the new map still gives them to this region.
            self.pending.retain(|(t, p)| {
                map.route_partition(t, *p)
                    .map(|r| r.replicas.iter().any(|x| x.region == self.region))
                    .unwrap_or(false)
            });
            self.pending.extend(gained);
        }
        self.map = Some(map);
        Ok(true)
    }

    /// Serve `partitions` of `table` (a release under `epoch`); a release
    /// for an older epoch than the map's is ignored only if the map moved
    /// on and marked them again.
    pub fn release(&mut self, epoch: u64, table: &str, partitions: &[u32]) -> Result<()> {
        let cur = self.map.as_ref().map(|m| m.epoch).unwrap_or(0);
        if epoch > cur {
            return Err(Error::invalid(format!(
                "release for map epoch {epoch}, this region has {cur}"
            )));
        }
        if epoch == cur {
            for p in partitions {
                self.pending.remove(&(table.to_string(), *p));
            }
        }
        Ok(())
    }

    /// Whether a read or a home write of `encoded_key` may be served.
    pub fn check_key(
        &self,
        table: &str,
        encoded_key: &[u8],
    ) -> std::result::Result<(), MoveRefusal> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(map) = &self.map else { return Ok(()) };
        match map.partition_of(table, encoded_key) {
            Ok(p) if self.pending.contains(&(table.to_string(), p)) => Err(MoveRefusal::CatchingUp),
            _ => Ok(()),
        }
    }

    /// Whether this region's map gives it `encoded_key` of `table` (as
    /// any replica, pending or not); `true` without a map or for a table
    /// the map does not place (nothing to decide by).
    pub fn holds(&self, table: &str, encoded_key: &[u8]) -> bool {
        let Some(map) = &self.map else { return true };
        match map.route_key(table, encoded_key) {
            Ok(route) => route.replicas.iter().any(|r| r.region == self.region),
            Err(_) => true,
        }
    }

    /// Whether a purge for map `epoch` may run here: the region must have
    /// installed it (an older map would keep rows it is about to gain
    /// from nobody).
    pub fn check_purge(&self, epoch: u64) -> Result<()> {
        let cur = self.map.as_ref().map(|m| m.epoch).unwrap_or(0);
        if cur < epoch {
            return Err(Error::invalid(format!(
                "purge for map epoch {epoch}, this region has {cur}"
            )));
        }
        Ok(())
    }

    /// Whether a copy for a change to map `epoch` may still merge rows
    /// here: not once the region's map moved past it (that change is
    /// over, and its rows may have been purged since).
    pub fn copy_current(&self, epoch: u64) -> bool {
        self.map.as_ref().is_none_or(|m| m.epoch <= epoch)
    }

    /// Whether a range read of `table` may be served (none while any of
    /// its partitions is pending here).
    pub fn check_table(&self, table: &str) -> std::result::Result<(), MoveRefusal> {
        if self.pending.iter().any(|(t, _)| t == table) {
            Err(MoveRefusal::CatchingUp)
        } else {
            Ok(())
        }
    }

    /// Whether this region may serve a copy made under `fence`.
    pub fn check_source(&self, fence: u64, in_doubt: bool) -> std::result::Result<(), MoveRefusal> {
        if fence == 0 {
            return Ok(());
        }
        let cur = self.map.as_ref().map(|m| m.epoch).unwrap_or(0);
        if cur < fence {
            return Err(MoveRefusal::SourceBehind(cur));
        }
        if in_doubt {
            return Err(MoveRefusal::InDoubt);
        }
        Ok(())
    }
}
