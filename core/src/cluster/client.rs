//! The cluster client's routing and protocol state, sans-IO: what a Rust,
//! Python or JS driver embeds. It routes by the map, tracks each write's
//! acknowledgements per its mode, keeps semi-sync state per table, picks
//! read replicas through the balancer, and asks for a map refresh when a
//! region answers `StaleClusterMap`.
//!
//! A write goes to the partition's home first (the home orders it and
//! stamps it); once the home committed, the driver forwards the resulting
//! change records to the other replicas the mode waits for (`async` waits
//! for none: replication links carry it later).

use super::ack::{WriteRequest, WriteStatus};
use super::balance::{BalancerConfig, LoadBalancer};
use super::hash::mix64;
use super::map::ClusterMap;
use super::mode::{ReadLevel, WriteMode};
use super::route::{Replica, Route};
use super::semisync::SemiSync;
use crate::model::error::{Error, Result};
use std::collections::BTreeMap;

/// A request the driver must send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Send {
    /// The client's request id (answers refer to it).
    pub request: u64,
    /// Which region to send to.
    pub replica: Replica,
    /// The map epoch to send with it.
    pub epoch: u64,
    /// `true`: the write itself, to the home; `false`: forward the home's
    /// committed change records to this replica.
    pub to_home: bool,
}

/// What became of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteEvent {
    /// The mode is satisfied: answer the caller.
    Acked {
        /// The request.
        request: u64,
        /// Semi-sync fell back to the home alone.
        degraded: bool,
    },
    /// The home committed: forward its change records with these sends
    /// (may be empty), then keep feeding answers.
    Forward(Vec<Send>),
    /// It failed: answer the caller with this error.
    Failed {
        /// The request.
        request: u64,
        /// Why.
        error: Error,
    },
    /// A region refused the request's map epoch: fetch the map, call
    /// [`ClusterClient::set_map`], and retry the write.
    RefreshMap {
        /// The request.
        request: u64,
    },
}

#[derive(Clone, Debug)]
struct Pending {
    table: String,
    route: Route,
    tracker: WriteRequest,
    home_done: bool,
}

/// Routing and protocol state of one cluster client.
#[derive(Clone, Debug)]
pub struct ClusterClient {
    map: ClusterMap,
    local_dc: String,
    balancer: LoadBalancer,
    semi: BTreeMap<String, SemiSync>,
    pending: BTreeMap<u64, Pending>,
    next_request: u64,
    rng: u64,
    /// Milliseconds before a synchronous write fails (`None`: never).
    pub write_timeout_ms: Option<i64>,
}

impl ClusterClient {
    /// A client in datacenter `local_dc` with `map`; `seed` drives the
    /// balancer's random choices.
    pub fn new(
        map: ClusterMap,
        local_dc: impl Into<String>,
        cfg: BalancerConfig,
        seed: u64,
    ) -> Self {
        let local_dc = local_dc.into();
        ClusterClient {
            map,
            balancer: LoadBalancer::new(local_dc.clone(), cfg),
            local_dc,
            semi: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_request: 0,
            rng: seed,
            write_timeout_ms: Some(10_000),
        }
    }

    /// The current map.
    pub fn map(&self) -> &ClusterMap {
        &self.map
    }

    /// Adopt a fetched map if it is newer; returns whether it was.
    pub fn set_map(&mut self, map: ClusterMap) -> bool {
        if map.epoch > self.map.epoch {
            self.map = map;
            true
        } else {
            false
        }
    }

    /// Semi-sync state of `table` (once it saw a semi-sync write).
    pub fn semi_sync(&self, table: &str) -> Option<&SemiSync> {
        self.semi.get(table)
    }

    /// The balancer (EWMA, per-datacenter request counts).
    pub fn balancer(&self) -> &LoadBalancer {
        &self.balancer
    }

    /// Writes in flight.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Start a write of `encoded_key` in `table` with `mode` (default: the
    /// table's). Returns the request id and the send to the home.
    pub fn begin_write(
        &mut self,
        table: &str,
        encoded_key: &[u8],
        mode: Option<WriteMode>,
        now_ms: i64,
    ) -> Result<(u64, Send)> {
        let placement = self.map.table(table)?;
        let mode = mode.unwrap_or(placement.write_mode);
        let route = self.map.route_key(table, encoded_key)?;
        let degraded = self.semi.get(table).is_some_and(|s| s.is_degraded());
        let deadline = self.write_timeout_ms.map(|t| now_ms.saturating_add(t));
        let tracker = WriteRequest::new(
            mode,
            route.replicas.clone(),
            &self.local_dc,
            now_ms,
            degraded,
            deadline,
        );
        if let WriteStatus::Failed(why) = tracker.status() {
            return Err(Error::invalid(format!(
                "write mode {} on table '{table}': {why}",
                mode.name()
            )));
        }
        self.next_request += 1;
        let request = self.next_request;
        let send = Send {
            request,
            replica: route.home().clone(),
            epoch: route.epoch,
            to_home: true,
        };
        self.pending.insert(
            request,
            Pending {
                table: table.to_string(),
                route,
                tracker,
                home_done: false,
            },
        );
        Ok((request, send))
    }

    fn settle(&mut self, request: u64, now_ms: i64) -> Option<WriteEvent> {
        let p = self.pending.get(&request)?;
        match p.tracker.status().clone() {
            WriteStatus::Pending => None,
            WriteStatus::Acked { degraded } => {
                let p = self.pending.remove(&request).expect("present");
                if degraded {
                    self.semi
                        .entry(p.table)
                        .or_default()
                        .on_write_degraded(now_ms);
                }
                Some(WriteEvent::Acked { request, degraded })
            }
            WriteStatus::Failed(why) => {
                self.pending.remove(&request);
                Some(WriteEvent::Failed {
                    request,
                    error: Error::Sync(format!("write not acknowledged: {why}")),
                })
            }
        }
    }

    /// A region answered request `request`: `Ok` = committed (home) or
    /// applied (replica). Returns what to do next, if anything.
    pub fn on_write_reply(
        &mut self,
        request: u64,
        region: &str,
        result: Result<()>,
        now_ms: i64,
    ) -> Vec<WriteEvent> {
        let Some(p) = self.pending.get_mut(&request) else {
            return vec![]; // already settled (a late or repeated answer)
        };
        let is_home = p.route.home().region == region;
        match result {
            Err(Error::StaleClusterMap { .. }) => {
                self.pending.remove(&request);
                return vec![WriteEvent::RefreshMap { request }];
            }
            Err(e) if is_home && !p.home_done => {
                // The home refused (condition, limits…): the write did not happen.
                self.pending.remove(&request);
                return vec![WriteEvent::Failed { request, error: e }];
            }
            Err(_) => {
                p.tracker.on_failure(region, now_ms);
            }
            Ok(()) => {
                p.tracker.on_ack(region, now_ms);
            }
        }
        let mut out = Vec::new();
        if is_home && !p.home_done {
            p.home_done = true;
            // Forward to the other replicas unless the write is already
            // acknowledged by the home alone (async, degraded semi-sync).
            if *p.tracker.status() == WriteStatus::Pending {
                let sends = p
                    .route
                    .replicas
                    .iter()
                    .skip(1)
                    .map(|r| Send {
                        request,
                        replica: r.clone(),
                        epoch: p.route.epoch,
                        to_home: false,
                    })
                    .collect();
                out.push(WriteEvent::Forward(sends));
            }
        }
        out.extend(self.settle(request, now_ms));
        out
    }

    /// A replica committed the home's log up to `applied` of `home_committed`
    /// for `table` (from replication status): lets semi-sync recover.
    pub fn on_replica_progress(
        &mut self,
        table: &str,
        applied: u64,
        home_committed: u64,
        now_ms: i64,
    ) -> bool {
        self.semi
            .get_mut(table)
            .is_some_and(|s| s.on_replica_progress(applied, home_committed, now_ms))
    }

    /// Time passed: semi-sync timeouts and deadlines.
    pub fn tick(&mut self, now_ms: i64) -> Vec<WriteEvent> {
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(p) = self.pending.get_mut(&id) {
                p.tracker.on_tick(now_ms);
            }
            out.extend(self.settle(id, now_ms));
        }
        out
    }

    /// The replicas a read of `encoded_key` goes to: `ONE` → one chosen by
    /// the balancer (local first, EWMA-weighted); `LEADER` → the home;
    /// `QUORUM` → every replica (use [`super::quorum::QuorumOp`] and stop at a majority).
    pub fn read_targets(
        &mut self,
        table: &str,
        encoded_key: &[u8],
        level: ReadLevel,
        now_ms: i64,
    ) -> Result<Vec<Replica>> {
        let route = self.map.route_key(table, encoded_key)?;
        Ok(match level {
            ReadLevel::Leader => vec![route.home().clone()],
            ReadLevel::Quorum => route.replicas.clone(),
            ReadLevel::One => {
                self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let cands: Vec<&Replica> = route.by_locality(&self.local_dc);
                vec![self
                    .balancer
                    .choose(&cands, now_ms, mix64(self.rng))
                    .expect("a route has replicas")
                    .clone()]
            }
        })
    }

    /// A `ONE` read of `encoded_key`, hedged: the replica to read from (in
    /// the rotation, local first, EWMA-weighted) and, when one is due, a
    /// replica out of the rotation to probe beside it (report both answers
    /// with [`ClusterClient::on_read_reply`]; never wait for the probe).
    pub fn read_one(
        &mut self,
        table: &str,
        encoded_key: &[u8],
        now_ms: i64,
    ) -> Result<(Replica, Option<Replica>)> {
        let route = self.map.route_key(table, encoded_key)?;
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let cands: Vec<&Replica> = route.by_locality(&self.local_dc);
        let plan = self
            .balancer
            .plan(&cands, now_ms, mix64(self.rng))
            .expect("a route has replicas");
        Ok((plan.serve.clone(), plan.probe.cloned()))
    }

    /// A read from `replica` finished (`latency_ms`) or failed (`None`).
    pub fn on_read_reply(&mut self, replica: &Replica, latency_ms: Option<f64>, now_ms: i64) {
        match latency_ms {
            Some(l) => self.balancer.on_success(replica, l, now_ms),
            None => self.balancer.on_failure(replica, now_ms),
        }
    }

    /// Group a batch's encoded keys by partition: `(partition, indexes)` in
    /// partition order. One group commits in one round; several need 2PC.
    pub fn partition_groups(
        &self,
        table: &str,
        keys: &[Vec<u8>],
    ) -> Result<Vec<(u32, Vec<usize>)>> {
        let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            groups
                .entry(self.map.partition_of(table, k)?)
                .or_default()
                .push(i);
        }
        Ok(groups.into_iter().collect())
    }
}
