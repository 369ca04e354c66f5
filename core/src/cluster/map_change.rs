//! Changing the map while regions serve: a partition whose home moves is
//! never writable in two regions at once, and the new home serves only
//! after it has caught up with everything the old home acknowledged.
//!
//! A [`MapChange`] (run by `tablesync cluster …`) first **fences** every
//! old home of a moving partition (it installs the new map, stops taking
//! writes for those partitions and reports its log position for each),
//! then **installs** the new map everywhere with the handoffs; a new home
//! takes writes for a partition only once it has applied the old home's
//! log up to the reported position ([`RegionMap::on_caught_up`]), and it
//! answers the install only then, so a change is done once every new home
//! serves; changes run one at a time. Every
//! region admits a request only under its own epoch ([`RegionMap::admit`]).
//! Messages may be lost or repeated: [`MapChange::tick`] resends, and every
//! handler is idempotent. A region persists its [`RegionMap`] after each
//! change (the driver's job).

use super::map::ClusterMap;
use crate::model::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// One partition changing home region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Handoff {
    /// The table.
    pub table: String,
    /// The partition.
    pub partition: u32,
    /// The old home region.
    pub from: String,
    /// The new home region.
    pub to: String,
    /// The old home's log position for the partition when it was fenced
    /// (filled in by the change once the old home answered).
    pub upto: u64,
}

/// Messages of the map-change protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapMsg {
    /// Change → old home: install `map`, stop writes for `moving`, report positions.
    Fence {
        /// The new map.
        map: ClusterMap,
        /// The partitions leaving this region: (table, partition).
        moving: Vec<(String, u32)>,
    },
    /// Old home → change: fenced at these positions.
    Fenced {
        /// The epoch installed.
        epoch: u64,
        /// The region.
        region: String,
        /// (table, partition, position).
        positions: Vec<(String, u32, u64)>,
    },
    /// Change → every region: install `map`; `handoffs` name what each
    /// new home must catch up with first.
    Install {
        /// The new map.
        map: ClusterMap,
        /// The moves, with positions.
        handoffs: Vec<Handoff>,
    },
    /// Region → change: installed, and caught up with every handoff to it.
    Installed {
        /// The epoch installed.
        epoch: u64,
        /// The region.
        region: String,
    },
}

/// Whether a region takes a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Serve it.
    Admit,
    /// Refuse: the request's map is older (`StaleClusterMap`).
    Stale(Error),
    /// Refuse for now: the request's map is newer than this region's.
    RegionBehind,
    /// Refuse: this region is not the partition's home under the request's epoch.
    NotHome,
    /// Refuse for now: this region is the new home but still catching up.
    CatchingUp,
}

/// A region's view: its map and the partitions it is taking over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionMap {
    /// This region.
    pub region: String,
    /// Its current map.
    pub map: ClusterMap,
    /// Handoffs to this region not yet caught up.
    pub pending: Vec<Handoff>,
}

impl RegionMap {
    /// A region with its initial map.
    pub fn new(region: impl Into<String>, map: ClusterMap) -> Self {
        RegionMap {
            region: region.into(),
            map,
            pending: vec![],
        }
    }

    fn install(&mut self, map: &ClusterMap) -> bool {
        if map.epoch > self.map.epoch {
            self.map = map.clone();
            true
        } else {
            false
        }
    }

    /// Handle a change's message; `position(table, partition)` gives this
    /// region's log position for a partition. Returns the reply.
    pub fn on_message(
        &mut self,
        msg: MapMsg,
        position: impl Fn(&str, u32) -> u64,
    ) -> Option<MapMsg> {
        match msg {
            MapMsg::Fence { map, moving } => {
                if map.epoch < self.map.epoch {
                    return None; // an older change, superseded
                }
                self.install(&map);
                Some(MapMsg::Fenced {
                    epoch: map.epoch,
                    region: self.region.clone(),
                    positions: moving
                        .into_iter()
                        .map(|(t, p)| {
                            let pos = position(&t, p);
                            (t, p, pos)
                        })
                        .collect(),
                })
            }
            MapMsg::Install { map, handoffs } => {
                if map.epoch < self.map.epoch {
                    return None;
                }
                let fresh = self.install(&map);
                if fresh || map.epoch == self.map.epoch {
                    for h in handoffs.into_iter().filter(|h| h.to == self.region) {
                        // Already caught up (a repeated Install) → nothing pending.
                        if position(&h.table, h.partition) < h.upto && !self.pending.contains(&h) {
                            self.pending.push(h);
                        }
                    }
                }
                // Answer only once caught up, so a change is done only when
                // every new home serves (and the next change starts from there).
                if self.pending.is_empty() {
                    Some(MapMsg::Installed {
                        epoch: map.epoch,
                        region: self.region.clone(),
                    })
                } else {
                    None
                }
            }
            MapMsg::Fenced { .. } | MapMsg::Installed { .. } => None,
        }
    }

    /// This region applied the old home's log for `(table, partition)` up
    /// to `position`: handoffs covered by it are done.
    pub fn on_caught_up(&mut self, table: &str, partition: u32, position: u64) {
        self.pending
            .retain(|h| !(h.table == table && h.partition == partition && position >= h.upto));
    }

    /// Whether to serve a write to `encoded_key` of `table` routed under `request_epoch`.
    pub fn admit(&self, table: &str, encoded_key: &[u8], request_epoch: u64) -> Result<Admission> {
        match self.map.check_request_epoch(request_epoch) {
            Err(e) => return Ok(Admission::Stale(e)),
            Ok(super::map::EpochCheck::RegionBehind) => return Ok(Admission::RegionBehind),
            Ok(super::map::EpochCheck::Current) => {}
        }
        let route = self.map.route_key(table, encoded_key)?;
        if route.home().region != self.region {
            return Ok(Admission::NotHome);
        }
        if self
            .pending
            .iter()
            .any(|h| h.table == table && h.partition == route.partition)
        {
            return Ok(Admission::CatchingUp);
        }
        Ok(Admission::Admit)
    }
}

/// Phase of a [`MapChange`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangePhase {
    /// Waiting for old homes to fence.
    Fencing,
    /// Waiting for every region to install.
    Installing,
    /// Every region installed the new map.
    Done,
}

/// One map change in progress (old map → new map).
#[derive(Clone, Debug)]
pub struct MapChange {
    new: ClusterMap,
    handoffs: Vec<Handoff>,
    fenced: BTreeSet<String>,
    installed: BTreeSet<String>,
    regions: Vec<String>,
    phase: ChangePhase,
}

fn homes(map: &ClusterMap) -> Result<BTreeMap<(String, u32), String>> {
    let mut out = BTreeMap::new();
    for t in &map.tables {
        let parts: Vec<u32> = match &t.placement {
            super::map::Placement::Hash { buckets } => (0..*buckets).collect(),
            super::map::Placement::Range { partitions } => {
                partitions.iter().map(|p| p.id).collect()
            }
        };
        for p in parts {
            let r = map.route_partition(&t.table, p)?;
            out.insert((t.table.clone(), p), r.home().region.clone());
        }
    }
    Ok(out)
}

impl MapChange {
    /// Plan the change from `old` to `new` (`new.epoch` must be greater).
    /// A partition created by a split inherits its parent's home region, so
    /// it only moves if that differs.
    pub fn new(old: &ClusterMap, new: ClusterMap) -> Result<Self> {
        if new.epoch <= old.epoch {
            return Err(Error::invalid("the new map must have a greater epoch"));
        }
        let before = homes(old)?;
        let after = homes(&new)?;
        let mut handoffs = Vec::new();
        for ((table, p), to) in &after {
            let from = match before.get(&(table.clone(), *p)) {
                Some(f) => f.clone(),
                // A new partition (split): its keys were in the partition
                // that held its start under the old map.
                None => match &new.table(table)?.placement {
                    super::map::Placement::Range { partitions } => {
                        let start = &partitions
                            .iter()
                            .find(|x| x.id == *p)
                            .expect("listed")
                            .start;
                        if old.table(table).is_err() {
                            continue;
                        }
                        old.route_key(table, start)
                            .map(|r| r.home().region.clone())
                            .unwrap_or_else(|_| to.clone())
                    }
                    _ => continue,
                },
            };
            if &from != to {
                handoffs.push(Handoff {
                    table: table.clone(),
                    partition: *p,
                    from,
                    to: to.clone(),
                    upto: 0,
                });
            }
        }
        let mut regions: BTreeSet<String> = BTreeSet::new();
        for m in [old, &new] {
            for d in &m.datacenters {
                regions.extend(d.regions.iter().map(|r| r.name.clone()));
            }
        }
        Ok(MapChange {
            phase: if handoffs.is_empty() {
                ChangePhase::Installing
            } else {
                ChangePhase::Fencing
            },
            new,
            handoffs,
            fenced: BTreeSet::new(),
            installed: BTreeSet::new(),
            regions: regions.into_iter().collect(),
        })
    }

    /// The phase.
    pub fn phase(&self) -> ChangePhase {
        self.phase
    }

    /// The planned moves (positions filled in as old homes fence).
    pub fn handoffs(&self) -> &[Handoff] {
        &self.handoffs
    }

    /// Messages to send now (and again on every call until answered).
    pub fn tick(&self) -> Vec<(String, MapMsg)> {
        match self.phase {
            ChangePhase::Fencing => {
                let mut by_from: BTreeMap<&str, Vec<(String, u32)>> = BTreeMap::new();
                for h in &self.handoffs {
                    if !self.fenced.contains(&h.from) {
                        by_from
                            .entry(&h.from)
                            .or_default()
                            .push((h.table.clone(), h.partition));
                    }
                }
                by_from
                    .into_iter()
                    .map(|(r, moving)| {
                        (
                            r.to_string(),
                            MapMsg::Fence {
                                map: self.new.clone(),
                                moving,
                            },
                        )
                    })
                    .collect()
            }
            ChangePhase::Installing => self
                .regions
                .iter()
                .filter(|r| !self.installed.contains(*r))
                .map(|r| {
                    (
                        r.clone(),
                        MapMsg::Install {
                            map: self.new.clone(),
                            handoffs: self.handoffs.clone(),
                        },
                    )
                })
                .collect(),
            ChangePhase::Done => vec![],
        }
    }

    /// Handle a region's reply; returns messages to send at once.
    pub fn on_message(&mut self, msg: MapMsg) -> Vec<(String, MapMsg)> {
        match msg {
            MapMsg::Fenced {
                epoch,
                region,
                positions,
            } if epoch == self.new.epoch && self.phase == ChangePhase::Fencing => {
                if !self.fenced.insert(region.clone()) {
                    return vec![];
                }
                for (t, p, pos) in positions {
                    for h in self.handoffs.iter_mut() {
                        if h.from == region && h.table == t && h.partition == p {
                            h.upto = pos;
                        }
                    }
                }
                if self.handoffs.iter().all(|h| self.fenced.contains(&h.from)) {
                    self.phase = ChangePhase::Installing;
                    return self.tick();
                }
                vec![]
            }
            MapMsg::Installed { epoch, region } if epoch == self.new.epoch => {
                self.installed.insert(region);
                if self.phase == ChangePhase::Installing
                    && self.regions.iter().all(|r| self.installed.contains(r))
                {
                    self.phase = ChangePhase::Done;
                }
                vec![]
            }
            _ => vec![],
        }
    }
}
