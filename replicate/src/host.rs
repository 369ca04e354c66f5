//! What a server started with peers hosts (`tablesync serve --peer
//! NAME=URL`, Python `Database.serve(peers=...)`): links, heartbeats and the
//! epoch fence (docs/SERVER.md "Links"). Install it in the server with
//! [`tablesync_http::ServerConfig::hosting`].
//!
//! - one replication link per peer (the `replicate` crate's driver thread,
//!   state in `DIR/links/`), trigger and direction from the command line;
//! - one heartbeat thread per peer: `POST /v1/group/heartbeat` every
//!   `--heartbeat`, both sides feeding the core's phi-accrual
//!   [`FailureDetector`] (errors count as passive evidence);
//! - the group state (epoch, primary, lost ranges) in `group.state`, and a
//!   write guard that lets local writes pass only on the primary of the
//!   current epoch, and only once this process has exchanged a heartbeat
//!   with every peer (or was promoted here): a restarted old primary learns
//!   the newer epoch before it can accept a write.
//!
//! With two regions, failover is manual (`POST /v1/group/failover`): a
//! voting group needs a majority, which a pair loses with either region.
//! With three or more regions (`--peer` twice or more) and a group, the
//! host runs the core's voting [`GroupNode`]: its `TSGP` messages travel
//! hex-encoded in the heartbeat route's JSON (`{"from", "msgs": [..]}`, the
//! answers come back the same way), one sender thread per peer; a ticker
//! drives heartbeats, phi-accrual detection and the election, so a dead
//! primary is replaced by the freshest live standby without a command,
//! under a new epoch, and the node's lease fence is the write guard.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{DriverOptions, LinkHandle, Peer};
use serde_json::{json, Value as J};
use tablesync::replication::{
    files, DetectorConfig, FailureDetector, GroupAction, GroupConfig, GroupNode, GroupRegion,
    GroupState, Handover, LinkConfig, Role, Trigger,
};
use tablesync::sync::{Initiator, SessionStep, SyncConfig, SyncDirection};
use tablesync::{Database, Error, Result, WriteGuard};
use tablesync_http::{ClientOptions, HttpRemote, LinkHost, RowClient};

/// One `--peer NAME=URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSpec {
    /// The peer's region name.
    pub name: String,
    /// Its base URL.
    pub url: String,
}

impl PeerSpec {
    /// Parse `NAME=URL`.
    pub fn parse(s: &str) -> Result<PeerSpec> {
        let (name, url) = s
            .split_once('=')
            .ok_or_else(|| Error::invalid(format!("--peer {s:?}: expected NAME=URL")))?;
        if name.is_empty() || !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid(format!(
                "--peer {s:?}: expected NAME=http(s)://HOST:PORT"
            )));
        }
        Ok(PeerSpec {
            name: name.to_string(),
            url: url.trim_end_matches('/').to_string(),
        })
    }
}

/// How the hosted links and heartbeats run.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// Trigger of every link.
    pub trigger: Trigger,
    /// Direction of every link, seen from this region.
    pub direction: SyncDirection,
    /// Heartbeat period (ms).
    pub heartbeat_ms: i64,
    /// Phi at which a peer is down.
    pub phi_threshold: f64,
    /// Bearer token presented to the peers.
    pub token: String,
    /// Primary of epoch 1 when the directory holds no group state yet
    /// (`None`: every region writes, last writer wins, until a failover).
    pub group_primary: Option<String>,
    /// PEM file of the CA that signed the https peers' certificates
    /// (`None`: the public web roots).
    pub ca_file: Option<PathBuf>,
    /// Voting groups: the primary's write lease (ms; `None`: ten
    /// heartbeats, at least 1 s). A new primary writes no earlier than one
    /// lease after its voters last acknowledged the old one.
    pub lease_ms: Option<i64>,
    /// Voting groups: a standby stands once the primary has been silent
    /// this long even if its detector does not hold it down yet (ms;
    /// `None`: 1.5 leases). Detection (phi over `phi_threshold`, or
    /// repeated errors) starts the election earlier.
    pub grace_ms: Option<i64>,
    /// Voting groups: a standby stands on its detector's word only once
    /// the primary has also been silent this long (ms; `None`: 0, at
    /// once): process stalls shorter than it start no election, at the
    /// cost of a longer failover (`GroupConfig::min_silence_ms`).
    pub min_silence_ms: Option<i64>,
}

/// The host's clock: milliseconds that never go back (the process's
/// monotonic clock, offset to the wall clock at start so status shows
/// familiar times). Leases and failure detection are durations on it.
#[derive(Clone, Copy, Debug)]
struct MonoClock {
    start: std::time::Instant,
    wall0: i64,
}

impl MonoClock {
    fn new() -> Self {
        MonoClock {
            start: std::time::Instant::now(),
            wall0: wall_ms(),
        }
    }

    fn now_ms(&self) -> i64 {
        self.wall0
            .saturating_add(i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX))
    }
}

/// The voting node's lease fence as the database's write guard, read on
/// the host's monotonic clock (never the database's wall clock, which may
/// jump).
struct MonoFence {
    fence: Arc<tablesync::replication::Fence>,
    clock: MonoClock,
}

impl WriteGuard for MonoFence {
    fn check(&self, _db_now_ms: i64) -> Result<()> {
        self.fence.check(self.clock.now_ms())
    }
}

/// The region as the voting node reads it: the database lock is taken only
/// for the version-vector read, never across the node's own work.
struct LockedRegion<'a>(&'a Mutex<Database>);

impl GroupRegion for LockedRegion<'_> {
    fn version_vector(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        lock(self.0).version_vector()
    }
}

/// The write guard: open only on the current primary (see the module docs).
#[derive(Debug, Default)]
struct GroupFence {
    open: AtomicBool,
    epoch: AtomicU64,
}

impl WriteGuard for GroupFence {
    fn check(&self, _now_ms: i64) -> Result<()> {
        if self.open.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(Error::StaleEpoch(format!(
                "this region is not the write-primary of epoch {} (or has not yet heard from its peers)",
                self.epoch.load(Ordering::SeqCst)
            )))
        }
    }
}

struct Group {
    /// Epoch 0 with no primary: no group (every region writes).
    st: GroupState,
    detector: FailureDetector,
    /// Peers a heartbeat was exchanged with since start.
    joined: BTreeSet<String>,
    /// Promoted by this process.
    promoted_here: bool,
    /// Three regions or more in a group: the core's voting member (then
    /// `st` mirrors its state and `detector` is unused).
    node: Option<GroupNode>,
}

struct HostedLink {
    peer: PeerSpec,
    handle: LinkHandle,
}

/// Everything `serve --peer` hosts.
pub struct Host {
    me: String,
    dir: Option<PathBuf>,
    db: Arc<Mutex<Database>>,
    peers: Vec<PeerSpec>,
    opts: HostOptions,
    group: Mutex<Group>,
    fence: Arc<GroupFence>,
    links: Mutex<Vec<HostedLink>>,
    stop: Arc<AtomicBool>,
    beats: Mutex<Vec<JoinHandle<()>>>,
    /// Voting mode: one queue of group frames per peer.
    outboxes: Mutex<BTreeMap<String, mpsc::Sender<Vec<u8>>>>,
    /// The epoch stamped on link traffic to peers (`X-Tablesync-Epoch`).
    link_epoch: Arc<AtomicU64>,
    /// The voting node's clock.
    clock: MonoClock,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A link name made of `[A-Za-z0-9._-]`.
fn link_name(peer: &str) -> String {
    let safe: String = peer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    format!("to-{safe}")
}

fn no_group() -> GroupState {
    GroupState {
        epoch: 0,
        primary: String::new(),
        voted_epoch: 0,
        voted_for: String::new(),
        needs_resync: false,
        handovers: Vec::new(),
        lost: Vec::new(),
        stepped_down: None,
    }
}

fn handover_json(h: Option<&Handover>) -> J {
    match h {
        None => J::Null,
        Some(h) => json!({
            "epoch": h.epoch,
            "from": h.from,
            "to": h.to,
            "held_seq": h.held_seq,
            "held": h.held,
        }),
    }
}

/// A peer's chain of handovers: `handovers` (oldest first), or only its
/// `handover` from a peer that sends no chain.
fn handovers_of(j: &J) -> Result<Vec<Handover>> {
    match j.get("handovers") {
        Some(J::Array(items)) => items
            .iter()
            .map(|h| handover_of(h)?.ok_or_else(|| Error::invalid("handovers: null entry")))
            .collect(),
        Some(J::Null) | None => Ok(handover_of(j.get("handover").unwrap_or(&J::Null))?
            .into_iter()
            .collect()),
        Some(_) => Err(Error::invalid("handovers must be an array")),
    }
}

fn handover_of(j: &J) -> Result<Option<Handover>> {
    if j.is_null() {
        return Ok(None);
    }
    let mut held = tablesync::replication::Vector::new();
    match j.get("held") {
        None | Some(J::Null) => {}
        Some(J::Object(m)) => {
            for (k, v) in m {
                let n = v.as_u64().ok_or_else(|| {
                    Error::invalid(format!("handover.held.{k} must be an unsigned integer"))
                })?;
                held.insert(k.clone(), n);
            }
        }
        Some(_) => return Err(Error::invalid("handover.held must be an object")),
    }
    let num = |k: &str| {
        j.get(k)
            .and_then(J::as_u64)
            .ok_or_else(|| Error::invalid(format!("handover.{k} must be an unsigned integer")))
    };
    let text = |k: &str| {
        j.get(k)
            .and_then(J::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid(format!("handover.{k} must be a string")))
    };
    Ok(Some(Handover {
        epoch: num("epoch")?,
        from: text("from")?,
        to: text("to")?,
        held_seq: num("held_seq")?,
        held,
    }))
}

fn esc(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Host {
    /// Start the links and heartbeats of `db` to `peers`; link and group
    /// state is kept in the region directory `dir` (`None`: in memory only).
    pub fn start(
        dir: Option<PathBuf>,
        db: Arc<Mutex<Database>>,
        peers: Vec<PeerSpec>,
        opts: HostOptions,
    ) -> Result<Arc<Host>> {
        // `delayed:D` ships chosen records as record pushes, which the
        // peers answer on `POST /v1/replicate`; it moves data one way only.
        if matches!(opts.trigger, Trigger::Delayed(_)) && opts.direction != SyncDirection::Push {
            return Err(Error::invalid(
                "--link-trigger delayed:… pushes records to the peers: use --link-direction push",
            ));
        }
        if opts.heartbeat_ms <= 0 || opts.phi_threshold <= 0.0 {
            return Err(Error::invalid(
                "--heartbeat and --phi-threshold must be positive",
            ));
        }
        let me = lock(&db).region().to_string();
        let mut names = BTreeSet::new();
        for p in &peers {
            if p.name == me || !names.insert(p.name.clone()) {
                return Err(Error::invalid(format!(
                    "--peer {}: peer names must be distinct and differ from this region",
                    p.name
                )));
            }
        }
        if let Some(p) = &opts.group_primary {
            if *p != me && !names.contains(p) {
                return Err(Error::invalid(format!(
                    "--group-primary {p}: not this region nor a --peer"
                )));
            }
        }
        let saved = match &dir {
            Some(d) => files::load_group(d)?,
            None => None,
        };
        let st = match saved {
            Some(s) => s,
            None => match &opts.group_primary {
                Some(p) => {
                    let s = GroupState::initial(p);
                    if let Some(d) = &dir {
                        files::save_group(d, &s)?;
                    }
                    s
                }
                None => no_group(),
            },
        };
        let clock = MonoClock::new();
        let now = clock.now_ms();
        let det_cfg = DetectorConfig {
            heartbeat_ms: opts.heartbeat_ms,
            suspect_phi: (opts.phi_threshold / 2.0).min(3.0),
            down_phi: opts.phi_threshold,
            ..DetectorConfig::default()
        };
        let mut detector = FailureDetector::new(det_cfg.clone());
        for p in &peers {
            detector.watch(&p.name, now);
        }
        let fence = Arc::new(GroupFence::default());
        let node = if st.epoch > 0 && peers.len() >= 2 {
            let mut members: Vec<String> = peers.iter().map(|p| p.name.clone()).collect();
            members.push(me.clone());
            members.sort();
            let mut cfg = GroupConfig::new(members);
            cfg.detector = det_cfg;
            cfg.lease_ms = opts
                .lease_ms
                .unwrap_or_else(|| (opts.heartbeat_ms * 10).max(1_000));
            cfg.grace_ms = opts.grace_ms.unwrap_or(cfg.lease_ms * 3 / 2);
            cfg.min_silence_ms = opts.min_silence_ms.unwrap_or(0);
            cfg.election_timeout_ms = cfg.lease_ms;
            if cfg.lease_ms < 2 * opts.heartbeat_ms {
                return Err(Error::invalid(format!(
                    "--lease-ms {} must be at least two heartbeats ({} ms)",
                    cfg.lease_ms,
                    2 * opts.heartbeat_ms
                )));
            }
            let node = GroupNode::new(&me, cfg, Some(st.clone()), now)?;
            lock(&db).set_write_guard(Some(Arc::new(MonoFence {
                fence: node.fence(),
                clock,
            })));
            Some(node)
        } else {
            lock(&db).set_write_guard(Some(fence.clone()));
            None
        };
        let link_epoch = Arc::new(AtomicU64::new(st.epoch));
        let host = Arc::new(Host {
            me,
            dir,
            db,
            peers,
            opts,
            group: Mutex::new(Group {
                st,
                detector,
                joined: BTreeSet::new(),
                promoted_here: false,
                node,
            }),
            fence,
            links: Mutex::new(Vec::new()),
            stop: Arc::new(AtomicBool::new(false)),
            beats: Mutex::new(Vec::new()),
            outboxes: Mutex::new(BTreeMap::new()),
            link_epoch,
            clock,
        });
        host.refresh(&lock(&host.group));
        for p in host.peers.clone() {
            let remote =
                HttpRemote::with_options(&p.url, &host.opts.token, &link_client(&host.opts))?
                    .with_epoch(host.link_epoch.clone());
            let config = LinkConfig::new(link_name(&p.name), p.name.clone())
                .trigger(host.opts.trigger.clone())
                .direction(host.opts.direction);
            let handle = LinkHandle::spawn(
                host.db.clone(),
                Peer::Http(remote),
                config,
                DriverOptions {
                    state_dir: host.dir.clone(),
                    sample_every_ms: 0,
                    ..DriverOptions::default()
                },
            )?;
            lock(&host.links).push(HostedLink { peer: p, handle });
        }
        if lock(&host.group).node.is_some() {
            host.start_voting()?;
            return Ok(host);
        }
        for p in host.peers.clone() {
            let h2 = host.clone();
            let client = RowClient::new(&p.url, &host.opts.token, &beat_client(&host.opts))?;
            let t = std::thread::Builder::new()
                .name(format!("tablesync-heartbeat-{}", p.name))
                .spawn(move || h2.beat_loop(&p, &client))
                .map_err(|e| Error::io_msg(format!("starting a heartbeat thread: {e}")))?;
            lock(&host.beats).push(t);
        }
        Ok(host)
    }

    /// Stop heartbeats and links (their state is saved in `DIR/links/`).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in std::mem::take(&mut *lock(&self.beats)) {
            let _ = t.join();
        }
        for l in std::mem::take(&mut *lock(&self.links)) {
            let _ = l.handle.stop();
        }
        lock(&self.db).set_write_guard(None);
    }

    fn beat_loop(&self, peer: &PeerSpec, client: &RowClient) {
        let period = Duration::from_millis(self.opts.heartbeat_ms as u64);
        while !self.stop.load(Ordering::SeqCst) {
            let started = std::time::Instant::now();
            let body = self.state_json();
            match client.call("/v1/group/heartbeat", &body) {
                Ok(reply) => {
                    if let Err(e) = self.on_peer_state(&reply) {
                        tracing::warn!(peer = %peer.name, error = %e, "bad heartbeat answer");
                    }
                }
                Err(e) => {
                    tracing::debug!(peer = %peer.name, error = %e, "heartbeat failed");
                    lock(&self.group)
                        .detector
                        .error(&peer.name, self.clock.now_ms());
                }
            }
            let rest = period.saturating_sub(started.elapsed());
            // Sleep in slices so a stop is prompt.
            let until = std::time::Instant::now() + rest;
            while std::time::Instant::now() < until && !self.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10).min(rest));
            }
        }
    }

    fn state_json(&self) -> J {
        let g = lock(&self.group);
        json!({
            "from": self.me,
            "epoch": g.st.epoch,
            "primary": g.st.primary,
            "handover": handover_json(g.st.handover()),
            "handovers": g.st.handovers.iter().map(|h| handover_json(Some(h))).collect::<Vec<_>>(),
        })
    }

    /// Open or close the write guard from the group state.
    fn refresh(&self, g: &Group) {
        let open = g.st.epoch == 0
            || (g.st.primary == self.me
                && !g.st.needs_resync
                && (g.promoted_here || g.joined.len() == self.peers.len()));
        self.fence.epoch.store(g.st.epoch, Ordering::SeqCst);
        self.fence.open.store(open, Ordering::SeqCst);
        self.link_epoch.store(g.st.epoch, Ordering::SeqCst);
    }

    fn save(&self, g: &Group) -> Result<()> {
        match &self.dir {
            Some(d) => files::save_group(d, &g.st),
            None => Ok(()),
        }
    }

    /// A peer's `{from, epoch, primary, handover}` (a heartbeat or its answer).
    fn on_peer_state(&self, j: &J) -> Result<()> {
        let from = j
            .get("from")
            .and_then(J::as_str)
            .ok_or_else(|| Error::invalid("heartbeat: 'from' must be a string"))?;
        if !self.peers.iter().any(|p| p.name == from) {
            return Err(Error::invalid(format!(
                "heartbeat from '{from}', which is not a peer of this region"
            )));
        }
        let epoch = j
            .get("epoch")
            .and_then(J::as_u64)
            .ok_or_else(|| Error::invalid("heartbeat: 'epoch' must be an unsigned integer"))?;
        let primary = j
            .get("primary")
            .and_then(J::as_str)
            .ok_or_else(|| Error::invalid("heartbeat: 'primary' must be a string"))?
            .to_string();
        let handovers = handovers_of(j)?;
        // Read the version vector before taking the group lock (the lock
        // order is database, then group, everywhere).
        let newer = epoch > lock(&self.group).st.epoch;
        let own_last = if newer {
            lock(&self.db)
                .version_vector()?
                .get(&self.me)
                .copied()
                .unwrap_or(0)
        } else {
            0
        };
        let mut g = lock(&self.group);
        g.detector.heard(from, self.clock.now_ms());
        if epoch <= g.st.epoch && g.st.merge_handovers(&handovers) {
            self.save(&g)?;
        }
        if epoch > g.st.epoch {
            let old_epoch = g.st.epoch;
            if g.st.primary == self.me && old_epoch > 0 {
                // Stepping down: what this region acknowledged and the new
                // primary did not hold is reported, then merged back by the
                // links and the failback resync.
                // The chain of handovers names it however many epochs
                // passed (GroupState::lost_since).
                g.st.needs_resync = true;
            }
            let was_primary = g.st.primary == self.me && old_epoch > 0;
            g.st.epoch = epoch;
            g.st.primary = primary.clone();
            g.st.voted_epoch = epoch;
            g.st.voted_for = primary;
            g.st.merge_handovers(&handovers);
            if was_primary && g.st.handover().is_some() {
                if let Some(range) = g.st.lost_since(&self.me, old_epoch, own_last) {
                    g.st.push_lost(range);
                }
            }
            g.promoted_here = false;
            self.save(&g)?;
            tracing::info!(epoch, primary = %g.st.primary, "adopted a newer epoch");
        }
        g.joined.insert(from.to_string());
        self.refresh(&g);
        Ok(())
    }

    fn peer_url(&self, name: &str) -> Option<&str> {
        self.peers
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.url.as_str())
    }

    /// Become primary under a new epoch and tell the peers at once.
    fn promote(&self) -> Result<J> {
        let vv = lock(&self.db).version_vector()?;
        let answer = {
            let mut g = lock(&self.group);
            if g.st.needs_resync {
                return Err(Error::invalid(format!(
                    "region '{}' led an older epoch; it must resync first (POST /v1/group/failback)",
                    self.me
                )));
            }
            if g.st.primary == self.me && g.st.epoch > 0 {
                return Ok(json!({"epoch": g.st.epoch, "primary": self.me, "changed": false}));
            }
            let old = g.st.primary.clone();
            let held = vv.get(&old).copied().unwrap_or(0);
            let held_vv = std::iter::once(self.me.clone())
                .chain(self.peers.iter().map(|p| p.name.clone()))
                .map(|m| {
                    let n = vv.get(&m).copied().unwrap_or(0);
                    (m, n)
                })
                .collect();
            let epoch = g.st.epoch.max(g.st.voted_epoch) + 1;
            g.st.epoch = epoch;
            g.st.primary = self.me.clone();
            g.st.voted_epoch = epoch;
            g.st.voted_for = self.me.clone();
            g.st.needs_resync = false;
            let handover = Handover {
                epoch,
                from: old.clone(),
                to: self.me.clone(),
                held_seq: held,
                held: held_vv,
            };
            g.st.merge_handovers([&handover]);
            g.promoted_here = true;
            self.save(&g)?;
            self.refresh(&g);
            tracing::info!(epoch, from = %old, "promoted to write-primary");
            json!({"epoch": epoch, "primary": self.me, "from": old, "held_seq": held, "changed": true})
        };
        // Best effort: the peers learn the epoch now rather than at the
        // next heartbeat.
        let body = self.state_json();
        for p in &self.peers {
            if let Ok(c) = RowClient::new(&p.url, &self.opts.token, &beat_client(&self.opts)) {
                if let Ok(reply) = c.call("/v1/group/heartbeat", &body) {
                    let _ = self.on_peer_state(&reply);
                }
            }
        }
        Ok(answer)
    }

    fn role(&self, st: &GroupState) -> &'static str {
        if st.epoch == 0 {
            "writer"
        } else if st.primary == self.me {
            "primary"
        } else {
            "standby"
        }
    }
}

/// One sync session with `remote` that takes the database lock for each
/// step only, never across a round trip: writes, reads and the links keep
/// going while a failback resyncs (what lands meanwhile is caught by the
/// next round; the last round's digests must match).
fn sync_unlocked(
    db: &Mutex<Database>,
    remote: &HttpRemote,
    config: SyncConfig,
) -> Result<tablesync::sync::SyncReport> {
    let cap = config.max_frame_bytes;
    let mut session = Initiator::new(config);
    let mut step = session.start(&mut lock(db))?;
    loop {
        match step {
            SessionStep::Send(bytes) => {
                let reply = remote.round_trip(&bytes, cap)?;
                step = session.receive(&mut lock(db), &reply)?;
            }
            SessionStep::Done(report) => return Ok(report),
        }
    }
}

/// Hex of a group frame (carried in the heartbeat route's JSON).
fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Result<Vec<u8>> {
    if s.len() % 2 != 0 || s.len() > 256 * 1024 {
        return Err(Error::invalid(
            "heartbeat: 'msgs' entries must be even-length hex",
        ));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| Error::invalid("heartbeat: 'msgs' entries must be hex"))
        })
        .collect()
}

/// Most group frames sent to one peer in one request.
const MAX_BATCH: usize = 256;

impl Host {
    /// Voting mode: the ticker and one sender thread per peer.
    fn start_voting(self: &Arc<Self>) -> Result<()> {
        for p in self.peers.clone() {
            let (tx, rx) = mpsc::channel::<Vec<u8>>();
            lock(&self.outboxes).insert(p.name.clone(), tx);
            let h2 = self.clone();
            let client = RowClient::new(&p.url, &self.opts.token, &beat_client(&self.opts))?;
            let t = std::thread::Builder::new()
                .name(format!("tablesync-group-{}", p.name))
                .spawn(move || h2.send_loop(&p, &client, rx))
                .map_err(|e| Error::io_msg(format!("starting a group sender thread: {e}")))?;
            lock(&self.beats).push(t);
        }
        let h2 = self.clone();
        let t = std::thread::Builder::new()
            .name("tablesync-group-tick".into())
            .spawn(move || h2.tick_loop())
            .map_err(|e| Error::io_msg(format!("starting the group ticker: {e}")))?;
        lock(&self.beats).push(t);
        Ok(())
    }

    /// Run `f` on the node under the group lock (the database is locked
    /// only while the node reads its version vector, which most ticks do
    /// not), persist its state if it changed, mirror it, then send what it
    /// asks to. Lock order: group, then database.
    fn with_node<T>(
        &self,
        f: impl FnOnce(&mut GroupNode, &dyn GroupRegion, i64) -> Result<(T, Vec<GroupAction>)>,
    ) -> Result<(T, Vec<GroupAction>)> {
        let mut g = lock(&self.group);
        let Some(node) = g.node.as_mut() else {
            return Err(Error::invalid(
                "this region does not run a voting group (it needs three regions or more)",
            ));
        };
        let region = LockedRegion(&self.db);
        let (t, acts) = f(node, &region, self.clock.now_ms())?;
        let dirty = node.take_dirty();
        let st = node.state().clone();
        if dirty || st != g.st {
            if st.epoch != g.st.epoch || st.primary != g.st.primary {
                tracing::info!(epoch = st.epoch, primary = %st.primary, "group epoch changed");
            }
            g.st = st;
            // Persisted before anything that depends on it is sent.
            self.save(&g)?;
        }
        self.link_epoch.store(g.st.epoch, Ordering::SeqCst);
        self.fence.epoch.store(g.st.epoch, Ordering::SeqCst);
        Ok((t, acts))
    }

    /// Queue frames for their recipients (dropped for unknown names).
    fn dispatch(&self, acts: Vec<GroupAction>) {
        let out = lock(&self.outboxes);
        for GroupAction::Send { to, bytes } in acts {
            if let Some(tx) = out.get(&to) {
                let _ = tx.send(bytes);
            }
        }
    }

    fn tick_loop(&self) {
        let period = Duration::from_millis((self.opts.heartbeat_ms / 5).clamp(5, 50) as u64);
        while !self.stop.load(Ordering::SeqCst) {
            match self.with_node(|n, db, now| Ok(((), n.tick(db, now)))) {
                Ok(((), acts)) => self.dispatch(acts),
                Err(e) => tracing::warn!(error = %e, "group tick failed"),
            }
            std::thread::sleep(period);
        }
    }

    fn send_loop(&self, peer: &PeerSpec, client: &RowClient, rx: mpsc::Receiver<Vec<u8>>) {
        while !self.stop.load(Ordering::SeqCst) {
            let first = match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(b) => b,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while let Ok(b) = rx.try_recv() {
                batch.push(b);
            }
            if batch.len() > MAX_BATCH {
                // Behind (the peer was slow): the newest frames matter.
                batch.drain(..batch.len() - MAX_BATCH);
            }
            let body = json!({
                "from": self.me,
                "msgs": batch.iter().map(|b| to_hex(b)).collect::<Vec<_>>(),
            });
            match client.call("/v1/group/heartbeat", &body) {
                Ok(reply) => {
                    if let Err(e) = self.on_group_frames(&peer.name, &reply) {
                        tracing::warn!(peer = %peer.name, error = %e, "bad group answer");
                    }
                }
                Err(e) => {
                    tracing::debug!(peer = %peer.name, error = %e, "group message failed");
                    let _ = self.with_node(|n, _, now| {
                        n.on_error(&peer.name, now);
                        Ok(((), Vec::new()))
                    });
                }
            }
        }
    }

    /// Feed `{"msgs": [hex..]}` from `from` to the node; returns the frames
    /// addressed back to `from` (others are queued for their recipients).
    fn on_group_frames(&self, from: &str, j: &J) -> Result<Vec<Vec<u8>>> {
        let msgs = j
            .get("msgs")
            .and_then(J::as_array)
            .ok_or_else(|| Error::invalid("heartbeat: 'msgs' must be an array"))?;
        if msgs.len() > MAX_BATCH {
            return Err(Error::invalid(format!(
                "heartbeat: at most {MAX_BATCH} group messages a request"
            )));
        }
        let frames = msgs
            .iter()
            .map(|m| {
                m.as_str()
                    .ok_or_else(|| Error::invalid("heartbeat: 'msgs' entries must be strings"))
                    .and_then(from_hex)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut back = Vec::new();
        for f in frames {
            let (_, acts) = self.with_node(|n, db, now| Ok(((), n.on_message(db, &f, now)?)))?;
            let mut others = Vec::new();
            for a in acts {
                let GroupAction::Send { to, bytes } = a;
                if to == from {
                    back.push(bytes);
                } else {
                    others.push(GroupAction::Send { to, bytes });
                }
            }
            self.dispatch(others);
        }
        Ok(back)
    }

    /// Manual promotion in voting mode: stand (forced) and wait for the
    /// election.
    fn promote_voting(&self) -> Result<J> {
        let (before, acts) = self.with_node(|n, db, now| {
            let before = n.state().clone();
            if before.primary == n.me() {
                return Ok((None, Vec::new()));
            }
            let acts = n.promote(db, now)?;
            Ok((Some(before), acts))
        })?;
        let Some(before) = before else {
            let g = lock(&self.group);
            return Ok(json!({"epoch": g.st.epoch, "primary": self.me, "changed": false}));
        };
        self.dispatch(acts);
        let t = std::time::Instant::now();
        let limit =
            Duration::from_millis((self.opts.heartbeat_ms * 50).clamp(3_000, 30_000) as u64);
        loop {
            {
                let g = lock(&self.group);
                let role = g.node.as_ref().map(GroupNode::role);
                if role == Some(Role::Primary) && g.st.epoch > before.epoch {
                    let h = g.st.handover().cloned();
                    return Ok(json!({
                        "epoch": g.st.epoch,
                        "primary": self.me,
                        "from": before.primary,
                        "held_seq": h.map(|h| h.held_seq).unwrap_or(0),
                        "changed": true,
                    }));
                }
            }
            if t.elapsed() > limit {
                return Err(Error::Sync(format!(
                    "no majority voted for '{}' within {limit:?}",
                    self.me
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn link_client(opts: &HostOptions) -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(2),
        ca_file: opts.ca_file.clone(),
        ..ClientOptions::default()
    }
}

fn beat_client(opts: &HostOptions) -> ClientOptions {
    let t = Duration::from_millis((opts.heartbeat_ms * 5).clamp(200, 5_000) as u64);
    ClientOptions {
        timeout: t,
        connect_timeout: t,
        ca_file: opts.ca_file.clone(),
        ..ClientOptions::default()
    }
}

impl LinkHost for Host {
    fn links(&self) -> J {
        let links: Vec<J> = lock(&self.links)
            .iter()
            .map(|l| {
                let s = l.handle.status();
                let state = if s.last_error.is_some() && s.state.name() == "running" {
                    "failing"
                } else {
                    s.state.name()
                };
                json!({
                    "name": format!("{}->{}", self.me, l.peer.name),
                    "peer": l.peer.name,
                    "url": l.peer.url,
                    "direction": s.direction,
                    "trigger": s.trigger,
                    "state": state,
                    "lag_ms": s.lag_ms,
                    "pending": s.pending,
                    "records_shipped": s.records_shipped,
                    "bytes_shipped": s.bytes_shipped,
                    "last_success_ms": s.last_success_ms,
                    "last_error": s.last_error,
                    "rpo_ms": s.rpo_ms,
                })
            })
            .collect();
        let g = lock(&self.group);
        let now = self.clock.now_ms();
        let views = match &g.node {
            Some(n) => n.status(now).peers,
            None => g.detector.views(now),
        };
        let writable = match &g.node {
            Some(n) => n.status(now).writable,
            None => self.fence.open.load(Ordering::SeqCst),
        };
        let role = match g.node.as_ref().map(GroupNode::role) {
            Some(Role::Candidate) => "candidate",
            _ => self.role(&g.st),
        };
        let lost_pending = g.node.as_ref().is_some_and(|n| n.status(now).lost_pending);
        let peers: Vec<J> = views
            .into_iter()
            .map(|v| {
                json!({
                    "name": v.peer,
                    "url": self.peer_url(&v.peer),
                    "state": v.health.name(),
                    "phi": if v.phi.is_finite() { v.phi } else { 1e9 },
                    "last_heard_ms": v.last_heard_ms,
                })
            })
            .collect();
        let lost: Vec<J> = g
            .st
            .lost
            .iter()
            .map(|r| json!({"origin": r.origin, "from_seq": r.from_seq, "to_seq": r.to_seq, "epoch": r.epoch}))
            .collect();
        json!({
            "region": self.me,
            "epoch": g.st.epoch,
            "role": role,
            "primary": g.st.primary,
            "writable": writable,
            "voting": g.node.is_some(),
            "needs_resync": g.st.needs_resync,
            "lost": lost,
            "lost_pending": lost_pending,
            "links": links,
            "peers": peers,
        })
    }

    fn metrics(&self) -> String {
        let mut lag = String::from("# TYPE tablesync_link_lag_ms gauge\n# HELP tablesync_link_lag_ms Age of the oldest committed-but-unapplied record\n");
        let mut pending = String::from("# TYPE tablesync_link_pending gauge\n# HELP tablesync_link_pending Records the peer is not yet known to hold\n");
        let mut recs = String::from("# TYPE tablesync_link_records_shipped counter\n# HELP tablesync_link_records_shipped Records moved over the link\n");
        let mut bytes = String::from("# TYPE tablesync_link_bytes_shipped counter\n# HELP tablesync_link_bytes_shipped Bytes on the wire over the link\n");
        for l in lock(&self.links).iter() {
            let s = l.handle.status();
            let name = esc(&format!("{}->{}", self.me, l.peer.name));
            lag.push_str(&format!(
                "tablesync_link_lag_ms{{link=\"{name}\"}} {}\n",
                s.lag_ms
            ));
            pending.push_str(&format!(
                "tablesync_link_pending{{link=\"{name}\"}} {}\n",
                s.pending
            ));
            recs.push_str(&format!(
                "tablesync_link_records_shipped_total{{link=\"{name}\"}} {}\n",
                s.records_shipped
            ));
            bytes.push_str(&format!(
                "tablesync_link_bytes_shipped_total{{link=\"{name}\"}} {}\n",
                s.bytes_shipped
            ));
        }
        let mut phi = String::from("# TYPE tablesync_peer_phi gauge\n# HELP tablesync_peer_phi Phi-accrual suspicion of the peer\n");
        let mut up = String::from("# TYPE tablesync_peer_up gauge\n# HELP tablesync_peer_up 1 while the peer is up, 0 when suspect or down\n");
        let g = lock(&self.group);
        let views = match &g.node {
            Some(n) => n.status(self.clock.now_ms()).peers,
            None => g.detector.views(self.clock.now_ms()),
        };
        for v in views {
            let name = esc(&v.peer);
            let p = if v.phi.is_finite() { v.phi } else { 1e9 };
            phi.push_str(&format!("tablesync_peer_phi{{peer=\"{name}\"}} {p}\n"));
            up.push_str(&format!(
                "tablesync_peer_up{{peer=\"{name}\"}} {}\n",
                i32::from(v.health.name() == "up")
            ));
        }
        let epoch = format!(
            "# TYPE tablesync_group_epoch gauge\n# HELP tablesync_group_epoch Current epoch of the region group (0: no group)\ntablesync_group_epoch {}\n",
            g.st.epoch
        );
        format!("{lag}{pending}{recs}{bytes}{phi}{up}{epoch}")
    }

    fn heartbeat(&self, body: &J) -> Result<J> {
        let voting = lock(&self.group).node.is_some();
        if voting || body.get("msgs").is_some() {
            let from = body
                .get("from")
                .and_then(J::as_str)
                .ok_or_else(|| Error::invalid("heartbeat: 'from' must be a string"))?;
            if !self.peers.iter().any(|p| p.name == from) {
                return Err(Error::invalid(format!(
                    "heartbeat from '{from}', which is not a peer of this region"
                )));
            }
            let back = self.on_group_frames(from, body)?;
            let msgs: Vec<String> = back.iter().map(|b| to_hex(b)).collect();
            return Ok(json!({"from": self.me, "msgs": msgs}));
        }
        self.on_peer_state(body)?;
        Ok(self.state_json())
    }

    fn failover(&self, _body: &J) -> Result<J> {
        if lock(&self.group).node.is_some() {
            return self.promote_voting();
        }
        self.promote()
    }

    fn failback(&self, _body: &J) -> Result<J> {
        let primary = lock(&self.group).st.primary.clone();
        if primary == self.me {
            return Ok(
                json!({"epoch": lock(&self.group).st.epoch, "primary": self.me, "changed": false, "rounds": 0}),
            );
        }
        let url = self.peer_url(&primary).ok_or_else(|| {
            Error::invalid(format!(
                "the primary '{primary}' is not a --peer of this server; cannot resync with it"
            ))
        })?;
        let remote = HttpRemote::with_options(url, &self.opts.token, &link_client(&self.opts))?
            .with_epoch(self.link_epoch.clone());
        let mut rounds = 0;
        let mut verified = false;
        while rounds < 10 && !verified {
            rounds += 1;
            let report = sync_unlocked(&self.db, &remote, SyncConfig::default())?;
            verified = report.verified;
        }
        if !verified {
            return Err(Error::Sync(format!(
                "digests still differ from '{primary}' after {rounds} resync rounds"
            )));
        }
        let voting = lock(&self.group).node.is_some();
        if voting {
            self.with_node(|n, _, _| {
                n.mark_resynced();
                Ok(((), Vec::new()))
            })?;
        } else {
            let mut g = lock(&self.group);
            g.st.needs_resync = false;
            self.save(&g)?;
        }
        let mut answer = if voting {
            self.promote_voting()?
        } else {
            self.promote()?
        };
        answer["rounds"] = json!(rounds);
        Ok(answer)
    }

    fn check_peer_epoch(&self, epoch: u64) -> Result<()> {
        let e = lock(&self.group).st.epoch;
        if e != 0 && epoch < e {
            return Err(Error::StaleEpoch(format!(
                "peer records sent under epoch {epoch}; the region is at epoch {e} (a fenced old primary must learn the new epoch and resync)"
            )));
        }
        Ok(())
    }

    fn check_peer_unstamped(&self) -> Result<()> {
        let e = lock(&self.group).st.epoch;
        if e != 0 {
            return Err(Error::StaleEpoch(format!(
                "peer records must carry X-Tablesync-Epoch: this region belongs to a group at epoch {e}"
            )));
        }
        Ok(())
    }

    fn check_epoch(&self, epoch: u64) -> Result<()> {
        let e = lock(&self.group).st.epoch;
        if e != 0 && epoch != e {
            return Err(Error::StaleEpoch(format!(
                "the write carries epoch {epoch}, the region is at epoch {e}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_link_names_are_safe() {
        let p = PeerSpec::parse("eu=http://127.0.0.1:7071/").unwrap();
        assert_eq!(p.name, "eu");
        assert_eq!(p.url, "http://127.0.0.1:7071");
        assert!(PeerSpec::parse("eu").is_err());
        assert!(PeerSpec::parse("=http://x").is_err());
        assert!(PeerSpec::parse("eu=ftp://x").is_err());
        assert_eq!(link_name("eu west/1"), "to-eu_west_1");
        assert!(LinkConfig::new(link_name("a b>c"), "x").validate().is_ok());
    }

    #[test]
    fn metric_labels_are_escaped() {
        assert_eq!(esc("a\"b\\c"), "a\\\"b\\\\c");
    }
}
