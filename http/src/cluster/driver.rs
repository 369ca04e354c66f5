//! The blocking cluster client: the core's [`ClusterClient`] (routing,
//! write modes, balancer, semi-sync state) driven over HTTP.

use super::peer::{CallError, DelayFn, Peers};
use crate::client::ClientOptions;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tablesync::cluster::balance::BalancerConfig;
use tablesync::cluster::client::{ClusterClient, WriteEvent};
use tablesync::cluster::merge::{MergeStep, RangeMerge};
use tablesync::cluster::record_row;
use tablesync::cluster::txn::{Outcome, TxnId};
use tablesync::cluster::wire::{ClusterMsg, RowWrite};
use tablesync::cluster::{ClusterMap, ReadLevel, Replica, WriteMode};
use tablesync::codec::key::encode_key_values;
use tablesync::{
    ChangeKind, ChangeRecord, Column, ColumnOp, Error, PkValue, PrimaryKey, Result, Row,
    RowExistence, RowUpdate,
};

/// How a [`Cluster`] client runs.
#[derive(Clone)]
pub struct ClusterOptions {
    /// The client's datacenter (reads prefer it; `LOCAL_QUORUM` counts it).
    pub local_dc: String,
    /// HTTP options (CA, timeouts).
    pub client: ClientOptions,
    /// Seed of the balancer's random choices and transaction ids.
    pub seed: u64,
    /// Injected one-way delay per endpoint (benchmarks).
    pub delay: Option<DelayFn>,
    /// Attempts per operation across map refreshes and row-lock waits.
    pub attempts: usize,
    /// Milliseconds before a synchronous write fails.
    pub write_timeout_ms: i64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            local_dc: String::new(),
            client: ClientOptions {
                timeout: Duration::from_secs(10),
                connect_timeout: Duration::from_secs(2),
                ..ClientOptions::default()
            },
            seed: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7),
            delay: None,
            attempts: 5,
            write_timeout_ms: 10_000,
        }
    }
}

/// A row write's options.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Override the table's write mode.
    pub mode: Option<WriteMode>,
    /// Row-existence condition, checked at the home.
    pub condition: RowExistence,
}

/// An acknowledged write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteResult {
    /// Semi-sync fell back to the home alone for this write.
    pub degraded: bool,
    /// The region that committed it first (the home).
    pub home: String,
}

/// The outcome of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The transaction id (retries reuse it).
    pub txn: u128,
    /// Committed everywhere (else aborted everywhere).
    pub committed: bool,
    /// Why it aborted.
    pub reason: String,
    /// Participant regions (1: one round; more: two-phase commit).
    pub participants: usize,
}

/// A client of a tablesync cluster: routes rows by the map, acknowledges
/// writes per their mode, balances reads, runs batches as transactions.
pub struct Cluster {
    state: Arc<Mutex<ClusterClient>>,
    stash: Mutex<HashMap<u64, Vec<WriteEvent>>>,
    peers: Peers,
    seeds: Vec<String>,
    client_id: u64,
    next_txn: AtomicU64,
    start: Instant,
    attempts: usize,
    local: String,
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn key_of(pk: &PrimaryKey) -> Vec<u8> {
    encode_key_values(pk.0.iter().map(|(_, v)| v))
}

fn newest(rec: &Option<ChangeRecord>) -> i64 {
    rec.as_ref()
        .and_then(|r| {
            r.columns
                .iter()
                .filter_map(|c| match c {
                    ColumnOp::Put { timestamp, .. } => Some(*timestamp),
                    _ => None,
                })
                .max()
        })
        .unwrap_or(i64::MIN)
}

impl Cluster {
    /// Connect through the region at `url`: fetch its map.
    pub fn connect(url: &str, token: &str, opts: ClusterOptions) -> Result<Cluster> {
        let peers = Self::peers(token, &opts);
        let map = match peers.call(url, &[ClusterMsg::MapGet])?.pop() {
            Some(ClusterMsg::Map(m)) => m,
            other => return Err(Error::Sync(format!("expected a map, got {other:?}"))),
        };
        Ok(Self::build(map, peers, vec![url.to_string()], opts))
    }

    /// A client with a map in hand (regions missing it get it pushed).
    pub fn with_map(map: ClusterMap, token: &str, opts: ClusterOptions) -> Result<Cluster> {
        map.validate()?;
        let peers = Self::peers(token, &opts);
        Ok(Self::build(map, peers, Vec::new(), opts))
    }

    fn peers(token: &str, opts: &ClusterOptions) -> Peers {
        let mut p = Peers::new(token.to_string(), opts.client.clone());
        p.delay = opts.delay.clone();
        p
    }

    fn build(map: ClusterMap, peers: Peers, seeds: Vec<String>, opts: ClusterOptions) -> Cluster {
        let local = if opts.local_dc.is_empty() {
            map.datacenters
                .first()
                .map(|d| d.name.clone())
                .unwrap_or_default()
        } else {
            opts.local_dc.clone()
        };
        let mut core = ClusterClient::new(map, local.clone(), BalancerConfig::default(), opts.seed);
        core.write_timeout_ms = Some(opts.write_timeout_ms);
        Cluster {
            state: Arc::new(Mutex::new(core)),
            stash: Mutex::new(HashMap::new()),
            peers,
            seeds,
            client_id: opts.seed ^ 0x5851_f42d_4c95_7f2d,
            next_txn: AtomicU64::new(1),
            start: Instant::now(),
            attempts: opts.attempts.max(1),
            local,
        }
    }

    fn now(&self) -> i64 {
        self.start.elapsed().as_millis() as i64
    }

    /// The client's current map.
    pub fn map(&self) -> ClusterMap {
        lock(&self.state).map().clone()
    }

    /// Whether semi-sync writes to `table` are degraded (acknowledged by the home alone).
    pub fn is_degraded(&self, table: &str) -> bool {
        lock(&self.state)
            .semi_sync(table)
            .is_some_and(|s| s.is_degraded())
    }

    /// Requests sent per datacenter (reads; for metrics).
    pub fn requests_per_datacenter(&self) -> BTreeMap<String, u64> {
        lock(&self.state).balancer().requests_per_datacenter()
    }

    fn endpoints(&self) -> Vec<String> {
        let map = self.map();
        let mut eps: Vec<String> = map
            .datacenters
            .iter()
            .flat_map(|d| d.regions.iter().map(|r| r.endpoint.clone()))
            .collect();
        eps.extend(self.seeds.iter().cloned());
        eps.dedup();
        eps
    }

    /// Ask every reachable region for its map and adopt the newest;
    /// returns the epoch held afterwards.
    pub fn refresh_map(&self) -> Result<u64> {
        let mut best: Option<ClusterMap> = None;
        for ep in self.endpoints() {
            if let Ok(mut r) = self.peers.call(&ep, &[ClusterMsg::MapGet]) {
                if let Some(ClusterMsg::Map(m)) = r.pop() {
                    if best.as_ref().is_none_or(|b| m.epoch > b.epoch) {
                        best = Some(m);
                    }
                }
            }
        }
        let mut st = lock(&self.state);
        if let Some(m) = best {
            st.set_map(m);
        }
        Ok(st.map().epoch)
    }

    /// Push `map` to every region of it (each installs it if newer, durably)
    /// and adopt it; returns the regions that did not take it.
    pub fn push_map(&self, map: &ClusterMap) -> Vec<String> {
        let mut failed = Vec::new();
        for d in &map.datacenters {
            for r in &d.regions {
                if self
                    .peers
                    .call(&r.endpoint, &[ClusterMsg::Map(map.clone())])
                    .is_err()
                {
                    failed.push(r.name.clone());
                }
            }
        }
        lock(&self.state).set_map(map.clone());
        failed
    }

    fn push_map_to(&self, endpoint: &str) {
        let map = self.map();
        let _ = self.peers.call(endpoint, &[ClusterMsg::Map(map)]);
    }

    /// A put as a [`RowWrite`] (columns without a timestamp get the
    /// client's clock, so every replica stores the same versions).
    pub fn put_op(
        table: &str,
        pk: PrimaryKey,
        columns: Vec<Column>,
        condition: RowExistence,
    ) -> RowWrite {
        let ts = wall_ms();
        let cols = columns
            .into_iter()
            .map(|c| ColumnOp::Put {
                name: c.name,
                value: c.value,
                timestamp: c.timestamp.unwrap_or(ts),
            })
            .collect();
        RowWrite::new(condition, table, ChangeKind::Put, pk, cols)
    }

    /// An update as a [`RowWrite`]; increments are refused (they do not
    /// replay to the same value on every replica).
    pub fn update_op(
        table: &str,
        pk: PrimaryKey,
        update: RowUpdate,
        condition: RowExistence,
    ) -> Result<RowWrite> {
        RowWrite::update(table, pk, update, condition, wall_ms())
    }

    /// A delete as a [`RowWrite`].
    pub fn delete_op(table: &str, pk: PrimaryKey, condition: RowExistence) -> RowWrite {
        RowWrite::new(condition, table, ChangeKind::Delete, pk, Vec::new())
    }

    /// Put a row (primary-key columns in schema order).
    pub fn put(
        &self,
        table: &str,
        pk: PrimaryKey,
        columns: Vec<Column>,
        opts: WriteOptions,
    ) -> Result<WriteResult> {
        self.write(Self::put_op(table, pk, columns, opts.condition), opts.mode)
    }

    /// Update a row.
    pub fn update(
        &self,
        table: &str,
        pk: PrimaryKey,
        update: RowUpdate,
        opts: WriteOptions,
    ) -> Result<WriteResult> {
        self.write(
            Self::update_op(table, pk, update, opts.condition)?,
            opts.mode,
        )
    }

    /// Delete a row.
    pub fn delete(&self, table: &str, pk: PrimaryKey, opts: WriteOptions) -> Result<WriteResult> {
        self.write(Self::delete_op(table, pk, opts.condition), opts.mode)
    }

    fn take_events(&self, request: u64, events: Vec<WriteEvent>) -> Vec<WriteEvent> {
        let mut mine = Vec::new();
        let mut stash = lock(&self.stash);
        for e in events {
            let id = match &e {
                WriteEvent::Acked { request, .. }
                | WriteEvent::Failed { request, .. }
                | WriteEvent::RefreshMap { request } => Some(*request),
                WriteEvent::Forward(s) => s.first().map(|s| s.request),
            };
            match id {
                Some(id) if id != request => stash.entry(id).or_default().push(e),
                _ => mine.push(e),
            }
        }
        mine.extend(stash.remove(&request).unwrap_or_default());
        mine
    }

    /// Write one row through its home, then as its mode requires.
    pub fn write(&self, w: RowWrite, mode: Option<WriteMode>) -> Result<WriteResult> {
        let key = w.encoded_key();
        let mut last = Error::Sync("no attempt made".into());
        for attempt in 0..self.attempts {
            let (req, send) = lock(&self.state).begin_write(&w.table, &key, mode, self.now())?;
            let home = send.replica.clone();
            let r = self.peers.call(
                &home.endpoint,
                &[ClusterMsg::Write {
                    epoch: send.epoch,
                    write: w.clone(),
                }],
            );
            let stale = Error::StaleClusterMap {
                request_epoch: send.epoch,
                current_epoch: 0,
            };
            let (records, result) = match r {
                Ok(mut msgs) => match msgs.pop() {
                    Some(ClusterMsg::Written { records }) => (records, Ok(())),
                    other => (
                        Vec::new(),
                        Err(Error::Sync(format!("unexpected answer {other:?}"))),
                    ),
                },
                Err(CallError { code, error }) => {
                    let retry = matches!(
                        code.as_str(),
                        "StaleClusterMap"
                            | "NotHome"
                            | "ClusterMapBehind"
                            | "RowLocked"
                            | "CatchingUp"
                    );
                    if retry {
                        // Settle the request (it never ran), then fix and retry.
                        let ev = lock(&self.state).on_write_reply(
                            req,
                            &home.region,
                            Err(stale),
                            self.now(),
                        );
                        let _ = self.take_events(req, ev);
                        match code.as_str() {
                            "ClusterMapBehind" => self.push_map_to(&home.endpoint),
                            "RowLocked" | "CatchingUp" => {
                                std::thread::sleep(Duration::from_millis(20 << attempt.min(5)))
                            }
                            _ => {
                                self.refresh_map()?;
                            }
                        }
                        last = error;
                        continue;
                    }
                    (Vec::new(), Err(error))
                }
            };
            let now = self.now();
            let ev = lock(&self.state).on_write_reply(req, &home.region, result, now);
            let mut events = self.take_events(req, ev);
            let (tx, rx) = mpsc::channel::<(String, Result<()>)>();
            let mut refresh = false;
            loop {
                for e in events.drain(..) {
                    match e {
                        WriteEvent::Acked { degraded, .. } => {
                            if degraded || self.is_degraded(&w.table) {
                                self.probe_replicas(&w.table, &key, records.clone());
                            }
                            return Ok(WriteResult {
                                degraded,
                                home: home.region.clone(),
                            });
                        }
                        WriteEvent::Failed { error, .. } => return Err(error),
                        WriteEvent::RefreshMap { .. } => refresh = true,
                        WriteEvent::Forward(sends) => {
                            for s in sends {
                                let tx = tx.clone();
                                let peers = self.peers.clone();
                                let records = records.clone();
                                std::thread::spawn(move || {
                                    let r = peers
                                        .call(
                                            &s.replica.endpoint,
                                            &[ClusterMsg::Apply {
                                                epoch: s.epoch,
                                                records,
                                            }],
                                        )
                                        .map(|_| ())
                                        .map_err(Error::from);
                                    let _ = tx.send((s.replica.region, r));
                                });
                            }
                        }
                    }
                }
                if refresh {
                    break;
                }
                let ev = match rx.recv_timeout(Duration::from_millis(2)) {
                    Ok((region, r)) => {
                        lock(&self.state).on_write_reply(req, &region, r, self.now())
                    }
                    Err(_) => lock(&self.state).tick(self.now()),
                };
                events = self.take_events(req, ev);
            }
            self.refresh_map()?;
            last = stale_again();
        }
        Err(last)
    }

    /// After a degraded write: forward its records in the background; a
    /// replica that answers lets semi-sync return to normal.
    fn probe_replicas(&self, table: &str, key: &[u8], records: Vec<ChangeRecord>) {
        let Ok(route) = self.map().route_key(table, key) else {
            return;
        };
        let home_dc = route.home().datacenter.clone();
        let Some(target) = route
            .replicas
            .iter()
            .find(|r| r.datacenter != home_dc)
            .cloned()
        else {
            return;
        };
        let peers = self.peers.clone();
        let epoch = route.epoch;
        let ok = peers
            .call(&target.endpoint, &[ClusterMsg::Apply { epoch, records }])
            .is_ok();
        if ok {
            lock(&self.state).on_replica_progress(table, 1, 1, self.now());
        }
    }

    fn get_from(&self, r: &Replica, epoch: u64, table: &str, key: &[u8]) -> Result<Option<Row>> {
        let t0 = Instant::now();
        let res = self.peers.call(
            &r.endpoint,
            &[ClusterMsg::Get {
                epoch,
                table: table.to_string(),
                key: key.to_vec(),
            }],
        );
        let now = self.now();
        match res {
            Ok(mut msgs) => {
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                lock(&self.state).on_read_reply(r, Some(ms), now);
                match msgs.pop() {
                    Some(ClusterMsg::Rows { rows, .. }) => {
                        Ok(rows.into_iter().next().map(record_row))
                    }
                    other => Err(Error::Sync(format!("unexpected answer {other:?}"))),
                }
            }
            Err(e) => {
                if e.code.is_empty() || e.code == "RegionFailed" {
                    lock(&self.state).on_read_reply(r, None, now);
                }
                Err(e.error)
            }
        }
    }

    /// Send a copy of a read to `replica` (out of the rotation) on a
    /// thread of its own and report its latency to the balancer; nobody
    /// waits for it, so a slow datacenter's probes stay out of the reads'
    /// latency.
    fn probe(&self, replica: Replica, epoch: u64, table: &str, key: &[u8]) {
        let peers = self.peers.clone();
        let state = Arc::clone(&self.state);
        let start = self.start;
        let msg = ClusterMsg::Get {
            epoch,
            table: table.to_string(),
            key: key.to_vec(),
        };
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let res = peers.call(&replica.endpoint, &[msg]);
            let now = start.elapsed().as_millis() as i64;
            let latency = match res {
                Ok(_) => Some(t0.elapsed().as_secs_f64() * 1000.0),
                // A refusal (stale map…) says nothing of the replica's health.
                Err(e) if !(e.code.is_empty() || e.code == "RegionFailed") => return,
                Err(_) => None,
            };
            lock(&state).on_read_reply(&replica, latency, now);
        });
    }

    /// Read a row at `level`: `ONE` the nearest healthy replica (falling
    /// back to the others), `LEADER` the home, `QUORUM` a majority (newest
    /// cell timestamp wins).
    pub fn get(&self, table: &str, pk: &PrimaryKey, level: ReadLevel) -> Result<Option<Row>> {
        let key = key_of(pk);
        let mut last = Error::Sync("no attempt made".into());
        for _ in 0..self.attempts {
            let (targets, route) = {
                let mut st = lock(&self.state);
                let t = if level == ReadLevel::One {
                    let (serve, probe) = st.read_one(table, &key, self.now())?;
                    if let Some(p) = probe {
                        self.probe(p, st.map().epoch, table, &key);
                    }
                    vec![serve]
                } else {
                    st.read_targets(table, &key, level, self.now())?
                };
                (t, st.map().route_key(table, &key)?)
            };
            let r = match level {
                ReadLevel::Quorum => self.quorum_get(&route.replicas, route.epoch, table, &key),
                ReadLevel::Leader => self.get_from(&targets[0], route.epoch, table, &key),
                ReadLevel::One => {
                    let mut order = targets.clone();
                    for r in route.by_locality(&self.local_dc()) {
                        if !order.contains(r) {
                            order.push(r.clone());
                        }
                    }
                    let mut res = Err(Error::Sync("no replica answered".into()));
                    for r in &order {
                        res = self.get_from(r, route.epoch, table, &key);
                        if res.is_ok() {
                            break;
                        }
                        if matches!(res, Err(Error::StaleClusterMap { .. })) {
                            break;
                        }
                    }
                    res
                }
            };
            match r {
                Err(Error::StaleClusterMap { .. }) => {
                    self.refresh_map()?;
                    last = stale_again();
                }
                other => return other,
            }
        }
        Err(last)
    }

    fn local_dc(&self) -> String {
        self.local.clone()
    }

    fn quorum_get(
        &self,
        replicas: &[Replica],
        epoch: u64,
        table: &str,
        key: &[u8],
    ) -> Result<Option<Row>> {
        let need = replicas.len() / 2 + 1;
        let (tx, rx) = mpsc::channel();
        for r in replicas {
            let tx = tx.clone();
            let peers = self.peers.clone();
            let (r, table, key) = (r.clone(), table.to_string(), key.to_vec());
            std::thread::spawn(move || {
                let res = peers.call(&r.endpoint, &[ClusterMsg::Get { epoch, table, key }]);
                let _ = tx.send((r, res));
            });
        }
        drop(tx);
        let mut got: Vec<(Replica, Option<ChangeRecord>)> = Vec::new();
        let mut errors = Vec::new();
        while got.len() < need {
            match rx.recv().map(|(r, res)| res.map(|m| (r, m))) {
                Ok(Ok((r, mut msgs))) => match msgs.pop() {
                    Some(ClusterMsg::Rows { rows, .. }) => got.push((r, rows.into_iter().next())),
                    other => errors.push(Error::Sync(format!("unexpected answer {other:?}"))),
                },
                Ok(Err(e)) => {
                    if e.code == "StaleClusterMap" {
                        return Err(e.error);
                    }
                    errors.push(e.error);
                }
                Err(_) => {
                    return Err(Error::Sync(format!(
                        "QUORUM read: {} of {} replicas answered, {need} needed ({})",
                        got.len(),
                        replicas.len(),
                        errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )))
                }
            }
        }
        let best = got
            .iter()
            .map(|(_, rec)| rec.clone())
            .max_by_key(newest)
            .flatten();
        if let Some(rec) = &best {
            self.write_back(epoch, rec, &got);
        }
        Ok(best.map(record_row))
    }

    /// The second phase of a `QUORUM` read: the newest answer is written to
    /// the replicas of the quorum that answered with an older row, before
    /// the read returns, so a later `QUORUM` read cannot see an older value
    /// than this one did. A replica that fails the write-back catches up
    /// through forwarding; the read still answers.
    fn write_back(&self, epoch: u64, rec: &ChangeRecord, got: &[(Replica, Option<ChangeRecord>)]) {
        let ts = newest(&Some(rec.clone()));
        let stale: Vec<&Replica> = got
            .iter()
            .filter(|(_, r)| newest(r) < ts)
            .map(|(r, _)| r)
            .collect();
        std::thread::scope(|s| {
            for r in stale {
                let peers = self.peers.clone();
                let msg = ClusterMsg::Apply {
                    epoch,
                    records: vec![rec.clone()],
                };
                s.spawn(move || {
                    if let Err(e) = peers.call(&r.endpoint, &[msg]) {
                        tracing::debug!(region = %r.region, error = %e.error, "QUORUM write-back failed");
                    }
                });
            }
        });
    }

    /// Rows with primary keys in `[start, end)` — each given as leading
    /// key values (empty: unbounded) — merged in key order across
    /// partitions; at most `limit` rows, and the next start key (encoded)
    /// when more remain.
    pub fn range(
        &self,
        table: &str,
        start: &[PkValue],
        end: &[PkValue],
        limit: usize,
    ) -> Result<(Vec<Row>, Option<Vec<u8>>)> {
        let s = encode_key_values(start.iter());
        let e = encode_key_values(end.iter());
        self.range_encoded(table, &s, &e, limit)
    }

    /// [`Cluster::range`] with encoded bounds (what `next` gives back).
    pub fn range_encoded(
        &self,
        table: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<(Vec<Row>, Option<Vec<u8>>)> {
        let map = self.map();
        let subs = map.split_range(table, start, end)?;
        let mut merge: RangeMerge<ChangeRecord> = RangeMerge::new(
            subs.iter()
                .map(|s| (s.start.clone(), s.end.clone()))
                .collect(),
            limit.clamp(1, 1000),
        );
        loop {
            match merge.poll(limit.max(1)) {
                MergeStep::Page { rows, next_start } => {
                    return Ok((
                        rows.into_iter().map(|(_, r)| record_row(r)).collect(),
                        next_start,
                    ))
                }
                MergeStep::Fetch(reqs) => {
                    for p in reqs {
                        let sub = &subs[p.stream];
                        let (rows, next) = self.fetch_page(sub, map.epoch, table, &p)?;
                        let mut kept = Vec::with_capacity(rows.len());
                        for r in rows {
                            let k = key_of(&r.primary_key);
                            if sub.owns(&map, &k)? {
                                kept.push((k, r));
                            }
                        }
                        merge.on_page(p.stream, kept, (!next.is_empty()).then_some(next))?;
                    }
                }
            }
        }
    }

    fn fetch_page(
        &self,
        sub: &tablesync::cluster::SubRange,
        epoch: u64,
        table: &str,
        p: &tablesync::cluster::merge::PageRequest,
    ) -> Result<(Vec<ChangeRecord>, Vec<u8>)> {
        let msg = ClusterMsg::Range {
            epoch,
            table: table.to_string(),
            start: p.start.clone(),
            end: p.end.clone(),
            limit: p.limit as u64,
        };
        // The home first, then the other replicas (a down home still reads).
        let mut last = Error::Sync("no replica".into());
        for r in &sub.route.replicas {
            match self.peers.call(&r.endpoint, std::slice::from_ref(&msg)) {
                Ok(mut m) => match m.pop() {
                    Some(ClusterMsg::Rows { rows, next }) => return Ok((rows, next)),
                    other => last = Error::Sync(format!("unexpected answer {other:?}")),
                },
                Err(e) if e.code == "StaleClusterMap" => return Err(e.error),
                Err(e) => last = e.error,
            }
            if sub.scatter {
                // A scattered sub-range counts only its home's rows.
                break;
            }
        }
        Err(last)
    }

    /// Write several rows atomically: one partition home → one round;
    /// several → two-phase commit coordinated by the first row's home.
    /// Retries (lost answers, undecided) reuse the transaction id, so the
    /// batch applies at most once.
    pub fn batch(&self, writes: Vec<RowWrite>) -> Result<BatchOutcome> {
        if writes.is_empty() {
            return Err(Error::invalid("an empty batch"));
        }
        let txn =
            ((self.client_id as u128) << 64) | self.next_txn.fetch_add(1, Ordering::SeqCst) as u128;
        let mut last = Error::Sync("no attempt made".into());
        for attempt in 0..self.attempts * 2 {
            let map = self.map();
            let mut parts: BTreeMap<String, Vec<RowWrite>> = BTreeMap::new();
            let mut coordinator: Option<Replica> = None;
            for w in &writes {
                let route = map.route_key(&w.table, &w.encoded_key())?;
                coordinator.get_or_insert_with(|| route.home().clone());
                parts
                    .entry(route.home().region.clone())
                    .or_default()
                    .push(w.clone());
            }
            let coordinator = coordinator.expect("non-empty");
            let n = parts.len();
            let msg = ClusterMsg::Begin {
                txn: TxnId(txn),
                epoch: map.epoch,
                parts: parts.into_iter().collect(),
            };
            match self.peers.call(&coordinator.endpoint, &[msg]) {
                Ok(mut m) => match m.pop() {
                    Some(ClusterMsg::Outcome { outcome, .. }) => {
                        let (committed, reason) = match outcome {
                            Outcome::Committed => (true, String::new()),
                            Outcome::Aborted(r) => (false, r),
                        };
                        return Ok(BatchOutcome {
                            txn,
                            committed,
                            reason,
                            participants: n,
                        });
                    }
                    other => return Err(Error::Sync(format!("unexpected answer {other:?}"))),
                },
                Err(CallError { code, error }) => {
                    match code.as_str() {
                        "StaleClusterMap" | "NotHome" => {
                            self.refresh_map()?;
                        }
                        "ClusterMapBehind" => self.push_map_to(&coordinator.endpoint),
                        // Undecided or no answer: ask again under the same id.
                        _ => std::thread::sleep(Duration::from_millis(50 << attempt.min(4))),
                    }
                    last = error;
                }
            }
        }
        Err(last)
    }
}

fn stale_again() -> Error {
    Error::Sync("the cluster map kept changing; gave up".into())
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("epoch", &self.map().epoch)
            .finish()
    }
}
