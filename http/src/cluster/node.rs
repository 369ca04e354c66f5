//! A region's cluster role: the stored map (durable, epoch-checked), the
//! 2PC coordinator and participant with their durable records, the writes
//! it is home for, and the forwarding of committed records to replicas.

use super::apply::{check_condition, read_range, read_row, to_write_op, write_capture};
use super::peer::Peers;
use super::txn_log::TxnLog;
use crate::client::ClientOptions;
use crate::region::{Refusal, Region};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tablesync::cluster::ack::{WriteRequest, WriteStatus};
use tablesync::cluster::route::Replica;
use tablesync::cluster::txn::{
    Action, CoordRecord, Coordinator, Msg, Outcome, PartRecord, Participant, TxnId, TxnStore,
};
use tablesync::cluster::wire::{ClusterMsg, RowWrite, TxnRecord};
use tablesync::cluster::{ClusterMap, EpochCheck, WriteMode};
use tablesync::codec::key::encode_key_values;
use tablesync::{ChangeRecord, Error, Result, RowExistence};

/// The map file's name inside the cluster directory.
pub const MAP_FILE: &str = "map.tscm";
/// Most records queued for one replica before the oldest are dropped (the
/// replica then needs a sync; status reports it).
const MAX_QUEUED: usize = 1_000_000;
/// Records forwarded per request.
const FORWARD_BATCH: usize = 500;

/// How a region takes part in a cluster (`ServerConfig::cluster`).
#[derive(Clone)]
pub struct ClusterConfig {
    /// Directory for the stored map (`map.tscm`) and 2PC records (`txn.log`).
    pub dir: PathBuf,
    /// This region's name in the map.
    pub region: String,
    /// Bearer token for calls to other regions (empty: the server's token).
    pub peer_token: String,
    /// How to reach other regions.
    pub peer_options: ClientOptions,
    /// Background period: 2PC resends and in-doubt queries, forwarding.
    pub tick: Duration,
    /// Finished transactions whose records are kept (for late duplicates).
    pub keep_done: usize,
    /// Injected one-way delay per peer endpoint (benchmarks).
    pub peer_delay: Option<super::peer::DelayFn>,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("dir", &self.dir)
            .field("region", &self.region)
            .field("tick", &self.tick)
            .field("keep_done", &self.keep_done)
            .field("peer_delay", &self.peer_delay.is_some())
            .finish()
    }
}

impl ClusterConfig {
    /// Region `region` keeping its cluster state in `dir`.
    pub fn new(dir: impl Into<PathBuf>, region: impl Into<String>) -> ClusterConfig {
        ClusterConfig {
            dir: dir.into(),
            region: region.into(),
            peer_token: String::new(),
            peer_options: ClientOptions {
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(2),
                ..ClientOptions::default()
            },
            tick: Duration::from_millis(100),
            keep_done: 10_000,
            peer_delay: None,
        }
    }
}

/// A region answer that is an error with a code the client acts on.
#[derive(Debug)]
pub enum NodeError {
    /// A database or protocol error.
    Db(Error),
    /// The region has no map yet, or an older one than the request: push it.
    MapBehind(u64),
    /// This region is not the home of the key (the client's map is wrong).
    NotHome(String),
    /// The region refused (failed region, panic).
    Refused(Refusal),
    /// The transaction is still running: retry with the same id.
    InProgress,
    /// A prepared transaction holds the row: retry shortly.
    RowLocked,
    /// The key's partition is moving here and not released yet: retry shortly.
    CatchingUp(String),
}

impl From<Error> for NodeError {
    fn from(e: Error) -> Self {
        NodeError::Db(e)
    }
}

impl From<Refusal> for NodeError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Db(e) => NodeError::Db(e),
            r => NodeError::Refused(r),
        }
    }
}

type Act = Action<RowWrite, TxnRecord>;

struct TxnState {
    coord: Coordinator<RowWrite>,
    part: Participant<RowWrite>,
    log: TxnLog,
}

#[derive(Default)]
struct Queue {
    records: VecDeque<ChangeRecord>,
    dropped: u64,
    sent: u64,
}

/// The cluster side of a served region.
pub struct ClusterNode {
    pub(super) cfg: ClusterConfig,
    pub(super) region: Arc<Region>,
    map: RwLock<Option<ClusterMap>>,
    /// Partitions gained by a map change and not released yet (persisted
    /// in [`super::moves::PENDING_FILE`]).
    pub(super) pending: RwLock<std::collections::BTreeSet<(String, u32)>>,
    /// Held shared by home writes and 2PC prepares, exclusively by a map
    /// install: a write checked under the old map has committed before
    /// the new map is in place (a fenced copy then holds it).
    gate: RwLock<()>,
    txn: Mutex<TxnState>,
    outcomes: Mutex<HashMap<TxnId, Outcome>>,
    outcome_signal: Condvar,
    queues: Mutex<BTreeMap<String, Queue>>,
    pub(super) peers: Peers,
    stop: AtomicBool,
    handled: Mutex<BTreeMap<&'static str, u64>>,
}

/// The kind of a request, as `/metrics` counts it.
fn msg_kind(m: &ClusterMsg) -> &'static str {
    match m {
        ClusterMsg::Write { .. } => "write",
        ClusterMsg::Get { .. } => "get",
        ClusterMsg::Range { .. } => "range",
        ClusterMsg::Apply { .. } => "apply",
        ClusterMsg::Begin { .. } => "begin",
        ClusterMsg::Txn(_) => "txn",
        ClusterMsg::MapGet | ClusterMsg::Map(_) => "map",
        _ => "other",
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn load_map(dir: &Path) -> Result<Option<ClusterMap>> {
    let p = dir.join(MAP_FILE);
    match std::fs::read(&p) {
        Ok(b) => Ok(Some(ClusterMap::from_bytes(&b)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io_msg(format!("reading {}: {e}", p.display()))),
    }
}

fn store_map(dir: &Path, map: &ClusterMap) -> Result<()> {
    use std::io::Write;
    let p = dir.join(MAP_FILE);
    let tmp = dir.join(format!("{MAP_FILE}.tmp"));
    let err = |e: std::io::Error| Error::io_msg(format!("writing {}: {e}", p.display()));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(&map.to_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, &p).map_err(err)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

struct Store<'a>(&'a Region, &'a ClusterNode);

impl TxnStore<RowWrite> for Store<'_> {
    fn check(&self, ops: &[RowWrite]) -> std::result::Result<(), String> {
        // A partition this region no longer is home of (a map change
        // fenced it) or has not been released yet votes no.
        if let Some(map) = self.1.map() {
            for w in ops {
                let key = w.encoded_key();
                if let Ok(route) = map.route_key(&w.table, &key) {
                    if route.home().region != self.1.cfg.region {
                        return Err(format!(
                            "this region is not the home of a key of '{}' under map epoch {}",
                            w.table, map.epoch
                        ));
                    }
                }
                self.1.check_key(&w.table, &key)?;
            }
        }
        self.0
            .read("read:cluster-check", |db| {
                for w in ops {
                    check_condition(db, w)?;
                }
                Ok(())
            })
            .map_err(|r| match r {
                Refusal::Db(e) => e.to_string(),
                _ => "the region failed".to_string(),
            })
    }
}

fn coord_acts(v: Vec<Action<RowWrite, CoordRecord>>) -> Vec<Act> {
    v.into_iter()
        .map(|a| match a {
            Action::Persist(r) => Action::Persist(TxnRecord::Coord(r)),
            Action::Send { to, msg } => Action::Send { to, msg },
            Action::Apply { txn, ops } => Action::Apply { txn, ops },
            Action::Reply { txn, outcome } => Action::Reply { txn, outcome },
        })
        .collect()
}

fn part_acts(v: Vec<Action<RowWrite, PartRecord<RowWrite>>>) -> Vec<Act> {
    v.into_iter()
        .map(|a| match a {
            Action::Persist(r) => Action::Persist(TxnRecord::Part(r)),
            Action::Send { to, msg } => Action::Send { to, msg },
            Action::Apply { txn, ops } => Action::Apply { txn, ops },
            Action::Reply { txn, outcome } => Action::Reply { txn, outcome },
        })
        .collect()
}

impl ClusterNode {
    /// Open the cluster state in `cfg.dir` (recovering prepared
    /// transactions: they stay locked and ask their coordinator) and start
    /// the background thread.
    pub fn open(cfg: ClusterConfig, region: Arc<Region>, server_token: &str) -> Result<Arc<Self>> {
        let (log, records) = TxnLog::open(&cfg.dir, cfg.keep_done)?;
        let mut coord_recs = Vec::new();
        let mut part_recs = Vec::new();
        for r in records {
            match r {
                TxnRecord::Coord(c) => coord_recs.push(c),
                TxnRecord::Part(p) => part_recs.push(p),
            }
        }
        let mut coord = Coordinator::recover(cfg.region.clone(), &coord_recs);
        coord.vote_timeout_ms = 2000;
        coord.resend_ms = 300;
        let part = Participant::recover(cfg.region.clone(), &part_recs, now_ms());
        let map = load_map(&cfg.dir)?;
        let pending = super::moves::load_pending(&cfg.dir)?;
        let token = if cfg.peer_token.is_empty() {
            server_token.to_string()
        } else {
            cfg.peer_token.clone()
        };
        let mut peers = Peers::new(token, cfg.peer_options.clone());
        peers.delay = cfg.peer_delay.clone();
        let node = Arc::new(ClusterNode {
            peers,
            map: RwLock::new(map),
            pending: RwLock::new(pending),
            gate: RwLock::new(()),
            txn: Mutex::new(TxnState { coord, part, log }),
            outcomes: Mutex::new(HashMap::new()),
            outcome_signal: Condvar::new(),
            queues: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
            handled: Mutex::new(BTreeMap::new()),
            region,
            cfg,
        });
        let weak = Arc::downgrade(&node);
        let tick = node.cfg.tick;
        std::thread::Builder::new()
            .name("tablesync-cluster".into())
            .spawn(move || background(weak, tick))
            .map_err(|e| Error::io_msg(format!("starting the cluster thread: {e}")))?;
        Ok(node)
    }

    /// Stop the background thread.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// This region's name.
    pub fn name(&self) -> &str {
        &self.cfg.region
    }

    /// The stored map.
    pub fn map(&self) -> Option<ClusterMap> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Install `map` if newer (durably); an older one is `StaleClusterMap`.
    ///
    /// Partitions the new map gives this region that it did not hold are
    /// marked pending (docs/CLUSTER.md, "Moving partitions") and refused
    /// until a rebalance releases them; the install waits for home writes
    /// and prepares in flight, so none commits under the old map after it.
    pub fn install_map(&self, map: ClusterMap) -> Result<bool> {
        let _gate = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        let mut cur = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let mut pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
        let mut moves = tablesync::cluster::rebalance::RegionMoves::new(
            self.cfg.region.clone(),
            cur.clone(),
            pending.clone(),
        );
        if !moves.install(map)? {
            return Ok(false);
        }
        if moves.pending != *pending {
            super::moves::store_pending(&self.cfg.dir, &moves.pending)?;
        }
        let map = moves.map.expect("installed");
        store_map(&self.cfg.dir, &map)?;
        // Regions that left the cluster get nothing more (a datacenter
        // removed while down would otherwise keep its queue forever).
        lock(&self.queues).retain(|r, _| map.datacenter_of_region(r).is_some());
        *cur = Some(map);
        *pending = moves.pending;
        Ok(true)
    }

    /// `records` without those of keys this region's map does not give
    /// it, when that map is at `epoch` or newer (all of them otherwise).
    fn held_records(&self, epoch: u64, mut records: Vec<ChangeRecord>) -> Vec<ChangeRecord> {
        let moves = tablesync::cluster::rebalance::RegionMoves::new(
            self.cfg.region.clone(),
            self.map(),
            Default::default(),
        );
        if moves.map.as_ref().is_some_and(|m| m.epoch >= epoch) {
            records.retain(|rec| {
                let key = encode_key_values(rec.primary_key.0.iter().map(|(_, v)| v));
                moves.holds(&rec.table, &key)
            });
        }
        records
    }

    /// Refuse a key whose partition is pending here.
    pub(super) fn check_key(&self, table: &str, key: &[u8]) -> std::result::Result<(), String> {
        // Lock order everywhere: map, then pending.
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let pending = self.pending.read().unwrap_or_else(PoisonError::into_inner);
        if pending.is_empty() {
            return Ok(());
        }
        let Some(map) = map.as_ref() else {
            return Ok(());
        };
        match map.partition_of(table, key) {
            Ok(p) if pending.contains(&(table.to_string(), p)) => Err(format!(
                "partition {p} of '{table}' is moving to this region: retry shortly"
            )),
            _ => Ok(()),
        }
    }

    fn check_table(&self, table: &str) -> std::result::Result<(), NodeError> {
        let pending = self.pending.read().unwrap_or_else(PoisonError::into_inner);
        if pending.iter().any(|(t, _)| t == table) {
            return Err(NodeError::CatchingUp(format!(
                "partitions of '{table}' are moving to this region: retry shortly"
            )));
        }
        Ok(())
    }

    /// The map, checked against a request's epoch.
    fn checked_map(&self, epoch: u64) -> std::result::Result<ClusterMap, NodeError> {
        let Some(map) = self.map() else {
            return Err(NodeError::MapBehind(0));
        };
        match map.check_request_epoch(epoch)? {
            EpochCheck::RegionBehind => Err(NodeError::MapBehind(map.epoch)),
            _ => Ok(map),
        }
    }

    /// Handle one request message; the reply messages.
    pub fn handle(&self, msg: ClusterMsg) -> std::result::Result<Vec<ClusterMsg>, NodeError> {
        *lock(&self.handled).entry(msg_kind(&msg)).or_insert(0) += 1;
        match msg {
            ClusterMsg::MapGet => match self.map() {
                Some(m) => Ok(vec![ClusterMsg::Map(m)]),
                None => Err(NodeError::MapBehind(0)),
            },
            ClusterMsg::Map(m) => {
                self.install_map(m)?;
                Ok(vec![ClusterMsg::Map(self.map().expect("installed"))])
            }
            ClusterMsg::Write { epoch, write } => self.home_write(epoch, write),
            ClusterMsg::Apply { epoch, records } => {
                // Forwarded records are applied whatever map the sender had:
                // applying is idempotent and they were committed at a home.
                // Except records of keys this region's map (as new as the
                // sender's or newer) no longer gives it: a late forward
                // must not bring back a partition purged after a move.
                let records = self.held_records(epoch, records);
                let stats = self
                    .region
                    .write("cluster_apply", |db| db.apply_changes_owned(records))?;
                Ok(vec![ClusterMsg::Applied {
                    applied: stats.applied,
                }])
            }
            ClusterMsg::Get { epoch, table, key } => {
                self.checked_map(epoch)?;
                self.check_key(&table, &key)
                    .map_err(NodeError::CatchingUp)?;
                let row = self
                    .region
                    .read_view("read:cluster-get", |db| read_row(db, &table, &key))?;
                Ok(vec![ClusterMsg::Rows {
                    rows: row.into_iter().collect(),
                    next: Vec::new(),
                }])
            }
            ClusterMsg::Range {
                epoch,
                table,
                start,
                end,
                limit,
            } => {
                self.checked_map(epoch)?;
                self.check_table(&table)?;
                let (rows, next) = self.region.read_view("read:cluster-range", |db| {
                    read_range(db, &table, &start, &end, limit as usize)
                })?;
                Ok(vec![ClusterMsg::Rows { rows, next }])
            }
            ClusterMsg::Begin { txn, epoch, parts } => {
                self.checked_map(epoch)?;
                self.begin(txn, parts)
            }
            ClusterMsg::Txn(m) => {
                let reply_to = match &m {
                    Msg::Prepare { coordinator, .. }
                    | Msg::Decision { coordinator, .. }
                    | Msg::OnePhase { coordinator, .. } => coordinator.clone(),
                    Msg::Vote { from, .. }
                    | Msg::Ack { from, .. }
                    | Msg::Query { from, .. }
                    | Msg::OnePhaseResult { from, .. } => from.clone(),
                };
                let acts = self.deliver(m)?;
                Ok(self.execute(acts, Some(&reply_to)))
            }
            ClusterMsg::Move(m) => self.handle_move(m).map(|r| vec![ClusterMsg::Move(r)]),
            other => Err(NodeError::Db(Error::invalid(format!(
                "a region does not take {other:?} as a request"
            )))),
        }
    }

    fn home_write(
        &self,
        epoch: u64,
        write: RowWrite,
    ) -> std::result::Result<Vec<ClusterMsg>, NodeError> {
        let _gate = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let map = self.checked_map(epoch)?;
        let route = map.route_key(&write.table, &write.encoded_key())?;
        if route.home().region != self.cfg.region {
            return Err(NodeError::NotHome(route.home().region.clone()));
        }
        self.check_key(&write.table, &write.encoded_key())
            .map_err(NodeError::CatchingUp)?;
        let op = to_write_op(&write, write.condition)?;
        let records = {
            // Taken before the database lock, as everywhere in this module.
            let st = lock(&self.txn);
            if st
                .part
                .is_locked(tablesync::cluster::txn::TxnOp::key(&write))
            {
                return Err(NodeError::RowLocked);
            }
            self.region
                .write("cluster_write", |db| write_capture(db, vec![op]))?
        };
        self.enqueue(&map, &records);
        Ok(vec![ClusterMsg::Written { records }])
    }

    /// Queue committed records for the other replicas of their partitions.
    fn enqueue(&self, map: &ClusterMap, records: &[ChangeRecord]) {
        let mut q = lock(&self.queues);
        for rec in records {
            let key = encode_key_values(rec.primary_key.0.iter().map(|(_, v)| v));
            let Ok(route) = map.route_key(&rec.table, &key) else {
                continue;
            };
            for r in route
                .replicas
                .iter()
                .filter(|r| r.region != self.cfg.region)
            {
                let e = q.entry(r.region.clone()).or_default();
                if e.records.len() >= MAX_QUEUED {
                    e.records.pop_front();
                    e.dropped += 1;
                }
                e.records.push_back(rec.clone());
            }
        }
    }

    /// Records waiting to be forwarded, per replica region: `(queued, sent, dropped)`.
    pub fn forward_lag(&self) -> BTreeMap<String, (u64, u64, u64)> {
        lock(&self.queues)
            .iter()
            .map(|(r, q)| (r.clone(), (q.records.len() as u64, q.sent, q.dropped)))
            .collect()
    }

    /// Requests handled so far, per kind (`write`, `get`, `range`, `apply`,
    /// `begin`, `txn`, `map`, `other`).
    pub fn handled(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.handled).clone()
    }

    /// Whether a prepared (in-doubt) transaction writes a row of `table`
    /// that `filter` selects: a fenced copy of those rows must wait for it.
    pub(super) fn in_doubt_in(
        &self,
        table: &str,
        filter: &tablesync::cluster::rebalance::KeyFilter,
    ) -> bool {
        let st = lock(&self.txn);
        let locked = st.part.locked().any(|k| {
            // A lock key is bytes table ‖ encoded primary key (wire.rs).
            let mut r = tablesync::codec::buf::Reader::new(k, "lock key");
            match r.bytes() {
                Ok(t) => t == table.as_bytes() && filter.contains(&k[r.position()..]),
                Err(_) => true,
            }
        });
        locked
    }

    /// 2PC state: `(in-doubt prepared, running, undecided-acks)`.
    pub fn txn_status(&self) -> (usize, usize, usize) {
        let st = lock(&self.txn);
        (
            st.part.in_doubt().len(),
            st.coord.running(),
            st.coord.unfinished(),
        )
    }

    fn begin(
        &self,
        txn: TxnId,
        parts: Vec<(String, Vec<RowWrite>)>,
    ) -> std::result::Result<Vec<ClusterMsg>, NodeError> {
        let mut applied = Vec::new();
        let acts = {
            let mut st = lock(&self.txn);
            let acts = coord_acts(st.coord.begin(txn, parts, now_ms()));
            self.persist_inline(&mut st, acts, &mut applied)?
        };
        self.replicate_applied(applied);
        self.execute(acts, None);
        let deadline = std::time::Instant::now() + Duration::from_secs(8);
        let mut outcomes = lock(&self.outcomes);
        loop {
            if let Some(o) = outcomes.remove(&txn) {
                return Ok(vec![ClusterMsg::Outcome { txn, outcome: o }]);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(NodeError::InProgress);
            }
            outcomes = self
                .outcome_signal
                .wait_timeout(outcomes, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Feed a 2PC message to the coordinator or participant; durable
    /// actions are carried out under the state lock, in order; the sends
    /// and replies are returned.
    ///
    /// Records a commit applied here reach the partition's other replicas
    /// as the table's write mode asks before the acknowledgement is
    /// returned, so a committed transaction is as durable and as visible
    /// to `QUORUM` reads as a single-row write.
    fn deliver(&self, m: Msg<RowWrite>) -> std::result::Result<Vec<Act>, NodeError> {
        let mut applied = Vec::new();
        let gate = matches!(m, Msg::Prepare { .. } | Msg::OnePhase { .. })
            .then(|| self.gate.read().unwrap_or_else(PoisonError::into_inner));
        let acts = {
            let mut st = lock(&self.txn);
            let acts = match m {
                Msg::Prepare { .. } | Msg::Decision { .. } | Msg::OnePhase { .. } => {
                    let store = Store(&self.region, self);
                    part_acts(st.part.on_message(m, &store, now_ms()))
                }
                _ => coord_acts(st.coord.on_message(m, now_ms())),
            };
            self.persist_inline(&mut st, acts, &mut applied)?
        };
        drop(gate);
        self.replicate_applied(applied);
        Ok(acts)
    }

    /// Send records committed here to the other replicas of their
    /// partitions and wait (bounded by the peer timeout) until the table's
    /// write mode is met; replicas that did not answer get them through
    /// the forwarding queue.
    fn replicate_applied(&self, records: Vec<ChangeRecord>) {
        if records.is_empty() {
            return;
        }
        let Some(map) = self.map() else { return };
        let mut groups: BTreeMap<(String, u32), (Vec<Replica>, Vec<ChangeRecord>)> =
            BTreeMap::new();
        for rec in records {
            let key = encode_key_values(rec.primary_key.0.iter().map(|(_, v)| v));
            let Ok(route) = map.route_key(&rec.table, &key) else {
                continue;
            };
            groups
                .entry((route.table.clone(), route.partition))
                .or_insert_with(|| (route.replicas.clone(), Vec::new()))
                .1
                .push(rec);
        }
        for ((table, _), (replicas, recs)) in groups {
            let mode = map
                .table(&table)
                .map(|t| t.write_mode)
                .unwrap_or(WriteMode::Async);
            let home_dc = replicas
                .iter()
                .find(|r| r.region == self.cfg.region)
                .map(|r| r.datacenter.clone())
                .unwrap_or_default();
            let now = now_ms();
            let deadline = now + self.cfg.peer_options.timeout.as_millis() as i64;
            let mut req =
                WriteRequest::new(mode, replicas.clone(), home_dc, now, false, Some(deadline));
            req.on_ack(&self.cfg.region, now);
            let others: Vec<Replica> = replicas
                .into_iter()
                .filter(|r| r.region != self.cfg.region)
                .collect();
            let mut reached: Vec<String> = Vec::new();
            if *req.status() == WriteStatus::Pending {
                let (tx, rx) = std::sync::mpsc::channel();
                for r in &others {
                    let (tx, peers, r) = (tx.clone(), self.peers.clone(), r.clone());
                    let msg = ClusterMsg::Apply {
                        epoch: map.epoch,
                        records: recs.clone(),
                    };
                    std::thread::spawn(move || {
                        let ok = peers.call(&r.endpoint, &[msg]).is_ok();
                        let _ = tx.send((r.region, ok));
                    });
                }
                drop(tx);
                while *req.status() == WriteStatus::Pending {
                    match rx.recv_timeout(Duration::from_millis(5)) {
                        Ok((region, true)) => {
                            req.on_ack(&region, now_ms());
                            reached.push(region);
                        }
                        Ok((region, false)) => {
                            req.on_failure(&region, now_ms());
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            req.on_tick(now_ms());
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                if let WriteStatus::Failed(why) = req.status() {
                    tracing::warn!(%table, %why, "a committed transaction's records did not reach its write mode; forwarding them");
                }
            }
            let mut q = lock(&self.queues);
            for r in others.iter().filter(|r| !reached.contains(&r.region)) {
                let e = q.entry(r.region.clone()).or_default();
                for rec in &recs {
                    if e.records.len() >= MAX_QUEUED {
                        e.records.pop_front();
                        e.dropped += 1;
                    }
                    e.records.push_back(rec.clone());
                }
            }
        }
    }

    /// Run `Persist` and `Apply` actions now (in order, under the lock);
    /// return the rest. A failure stops before any later action: nothing
    /// that depended on it is sent.
    /// Records the commits write are added to `applied` for
    /// [`Self::replicate_applied`] (called once the state lock is released).
    fn persist_inline(
        &self,
        st: &mut TxnState,
        acts: Vec<Act>,
        applied: &mut Vec<ChangeRecord>,
    ) -> std::result::Result<Vec<Act>, NodeError> {
        let mut rest = Vec::new();
        for a in acts {
            match a {
                Action::Persist(r) => st.log.append(&r)?,
                Action::Apply { txn, ops } => {
                    let dbops = ops
                        .iter()
                        .map(|w| to_write_op(w, RowExistence::Ignore))
                        .collect::<Result<Vec<_>>>()?;
                    let records = self
                        .region
                        .write("cluster_txn_apply", |db| write_capture(db, dbops))?;
                    st.log
                        .append(&TxnRecord::Part(PartRecord::Committed { txn }))?;
                    applied.extend(records);
                }
                other => rest.push(other),
            }
        }
        Ok(rest)
    }

    /// Carry out sends and replies. Sends to `reply_to` are returned (the
    /// caller answers them in its HTTP response); sends to this region are
    /// delivered here; others go over HTTP and their answers are delivered.
    fn execute(&self, acts: Vec<Act>, reply_to: Option<&str>) -> Vec<ClusterMsg> {
        let mut out = Vec::new();
        let mut queue: VecDeque<Act> = acts.into();
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Reply { txn, outcome } => {
                    lock(&self.outcomes).insert(txn, outcome);
                    self.outcome_signal.notify_all();
                }
                Action::Send { to, msg } => {
                    if Some(to.as_str()) == reply_to {
                        out.push(ClusterMsg::Txn(msg));
                    } else if to == self.cfg.region {
                        if let Ok(more) = self.deliver(msg) {
                            queue.extend(more);
                        }
                    } else {
                        let Some(endpoint) = self.endpoint_of(&to) else {
                            tracing::warn!(region = %to, "no endpoint for a 2PC peer");
                            continue;
                        };
                        match self.peers.call(&endpoint, &[ClusterMsg::Txn(msg)]) {
                            Ok(replies) => {
                                for r in replies {
                                    if let ClusterMsg::Txn(m) = r {
                                        if let Ok(more) = self.deliver(m) {
                                            queue.extend(more);
                                        }
                                    }
                                }
                            }
                            Err(e) => {
                                tracing::debug!(region = %to, error = %e.error, "2PC send failed; the protocol resends")
                            }
                        }
                    }
                }
                Action::Persist(_) | Action::Apply { .. } => {
                    // deliver/persist_inline already ran these.
                }
            }
        }
        out
    }

    fn endpoint_of(&self, region: &str) -> Option<String> {
        let map = self.map()?;
        map.datacenters
            .iter()
            .flat_map(|d| d.regions.iter())
            .find(|r| r.name == region)
            .map(|r| r.endpoint.clone())
    }

    fn tick(&self) {
        let mut applied = Vec::new();
        let acts = {
            let mut st = lock(&self.txn);
            let now = now_ms();
            let mut acts = coord_acts(st.coord.tick(now));
            acts.extend(part_acts(st.part.tick(now)));
            match self.persist_inline(&mut st, acts, &mut applied) {
                Ok(a) => a,
                Err(_) => return,
            }
        };
        self.replicate_applied(applied);
        self.execute(acts, None);
        self.forward();
    }

    fn forward(&self) {
        let batches: Vec<(String, Vec<ChangeRecord>)> = lock(&self.queues)
            .iter()
            .filter(|(_, q)| !q.records.is_empty())
            .map(|(r, q)| {
                (
                    r.clone(),
                    q.records.iter().take(FORWARD_BATCH).cloned().collect(),
                )
            })
            .collect();
        let epoch = self.map().map(|m| m.epoch).unwrap_or(0);
        for (region, records) in batches {
            let Some(endpoint) = self.endpoint_of(&region) else {
                continue;
            };
            let n = records.len();
            if self
                .peers
                .call(&endpoint, &[ClusterMsg::Apply { epoch, records }])
                .is_ok()
            {
                let mut q = lock(&self.queues);
                if let Some(e) = q.get_mut(&region) {
                    let n = n.min(e.records.len());
                    e.records.drain(..n);
                    e.sent += n as u64;
                }
            }
        }
    }
}

fn background(node: Weak<ClusterNode>, tick: Duration) {
    loop {
        std::thread::sleep(tick);
        let Some(n) = node.upgrade() else { return };
        if n.stop.load(Ordering::SeqCst) {
            return;
        }
        n.tick();
    }
}
