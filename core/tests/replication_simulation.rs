//! Seeded simulation of a region group with replication links: 3–5 regions,
//! links of every trigger and direction, a network that drops, duplicates,
//! delays and reorders messages, partitions, clock offsets of up to
//! ±500 ms, crash-restarts, retention truncating logs, automatic and manual
//! failovers and failbacks.
//!
//! Checked: after healing every region has the same digest and holds every
//! acknowledged write; writes were accepted under non-decreasing epochs in
//! real time and by one region per epoch (no stale-epoch write, no split
//! brain); every acknowledged write that the next primary after its epoch
//! did not hold when it won lies in a lost range its origin reported
//! (issue 13), whatever number of failovers followed.
//!
//! Crash-restarts re-create a memory region from a snapshot taken at the
//! crash (as a durable directory with `sync=always` would recover), its
//! links from their last saved state (saved every ~200 ms, so some progress
//! is forgotten), and its group state from what the node persisted.
//!
//! `REPL_SIM_SEEDS` sets the number of seeds (default 500); a failure prints
//! the seed, and `REPL_SIM_SEED=n` replays that one (`REPL_SIM_DEBUG=1` traces).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tablesync::replication::{
    respond, GroupAction, GroupConfig, GroupNode, GroupState, Link, LinkAction, LinkConfig, Role,
    Trigger,
};
use tablesync::sync::SyncDirection;
use tablesync::*;

const CAP: usize = 1 << 20;
const T0: i64 = 1_700_000_000_000;
const STEP_MS: i64 = 20;

mod common;
use common::Rng;

fn schema() -> TableSchema {
    TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)])
}

enum Payload {
    LinkReq(usize, Vec<u8>),
    LinkReply(usize, Vec<u8>),
    Group(Vec<u8>),
}

struct Msg {
    from: usize,
    to: usize,
    payload: Payload,
}

struct Region {
    name: String,
    clock: ManualClock,
    offset: i64,
    db: Option<Database>,
    node: Option<GroupNode>,
    links: Vec<(Link, usize)>,
    saved_links: Vec<Vec<u8>>,
    saved_group: Vec<u8>,
    /// What the durable directory holds while the region is down.
    snapshot: Option<Vec<u8>>,
    down_until: i64,
    seen_cursor: u64,
}

struct World {
    seed: u64,
    rng: Rng,
    now: i64,
    regions: Vec<Region>,
    queue: BTreeMap<(i64, u64), Msg>,
    msg_seq: u64,
    /// Cut-off region and the global time the partition heals.
    partitions: Vec<(usize, i64)>,
    faults: bool,
    group: GroupConfig,
    /// Acknowledged writes' change records.
    acked: Vec<ChangeRecord>,
    /// Accepted writes: (global time, region, epoch).
    accepted: Vec<(i64, usize, u64)>,
    /// Each epoch's primary and its version vector when it was first seen
    /// leading it (right after the message or tick that made it win).
    promoted: BTreeMap<u64, (usize, BTreeMap<String, u64>)>,
    debug: bool,
}

impl World {
    fn log(&self, what: impl FnOnce() -> String) {
        if self.debug {
            eprintln!("[{:>6}] {}", self.now - T0, what());
        }
    }

    fn local(&self, i: usize) -> i64 {
        self.now + self.regions[i].offset
    }

    fn cut(&self, a: usize, b: usize) -> bool {
        self.partitions.iter().any(|(p, _)| *p == a || *p == b)
    }

    fn send(&mut self, from: usize, to: usize, payload: Payload) {
        if self.cut(from, to) {
            return;
        }
        let copies = if self.faults && self.rng.per_mille(20) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if self.faults && self.rng.per_mille(30) {
                continue; // lost
            }
            let delay = if self.faults && self.rng.per_mille(20) {
                self.rng.range(200, 1500)
            } else {
                self.rng.range(1, 40)
            };
            self.msg_seq += 1;
            let p = match &payload {
                Payload::LinkReq(l, b) => Payload::LinkReq(*l, b.clone()),
                Payload::LinkReply(l, b) => Payload::LinkReply(*l, b.clone()),
                Payload::Group(b) => Payload::Group(b.clone()),
            };
            self.queue.insert(
                (self.now + delay, self.msg_seq),
                Msg {
                    from,
                    to,
                    payload: p,
                },
            );
        }
    }

    fn group_actions(&mut self, from: usize, actions: Vec<GroupAction>) {
        // Persist the node's state before anything it decided leaves.
        let r = &mut self.regions[from];
        if let (Some(n), Some(db)) = (r.node.as_ref(), r.db.as_ref()) {
            let st = n.state();
            if st.primary == r.name && !self.promoted.contains_key(&st.epoch) {
                let vv = db.version_vector().unwrap();
                self.promoted.insert(st.epoch, (from, vv));
            }
        }
        if let Some(n) = r.node.as_mut() {
            if n.take_dirty() {
                r.saved_group = n.state().encode();
            }
        }
        for GroupAction::Send { to, bytes } in actions {
            let to = self.index(&to);
            self.send(from, to, Payload::Group(bytes));
        }
    }

    fn link_actions(&mut self, from: usize, link: usize, actions: Vec<LinkAction>) {
        for a in actions {
            if let LinkAction::Send(bytes) = a {
                let to = self.regions[from].links[link].1;
                self.send(from, to, Payload::LinkReq(link, bytes));
            }
        }
    }

    fn index(&self, name: &str) -> usize {
        self.regions
            .iter()
            .position(|r| r.name == name)
            .expect("member")
    }

    fn up(&self, i: usize) -> bool {
        self.regions[i].db.is_some()
    }

    fn set_clocks(&self) {
        for r in &self.regions {
            r.clock.set(self.now + r.offset);
        }
    }

    fn deliver(&mut self) {
        let seed = self.seed;
        while let Some((&(at, _), _)) = self.queue.iter().next() {
            if at > self.now {
                break;
            }
            let (_, m) = self.queue.pop_first().expect("non-empty");
            if !self.up(m.to) || self.cut(m.from, m.to) {
                continue;
            }
            let now = self.local(m.to);
            match m.payload {
                Payload::Group(bytes) => {
                    let r = &mut self.regions[m.to];
                    let (db, node) = (r.db.as_ref().unwrap(), r.node.as_mut().unwrap());
                    let acts = node
                        .on_message(db, &bytes, now)
                        .unwrap_or_else(|e| panic!("seed {seed}: group message refused: {e}"));
                    self.group_actions(m.to, acts);
                }
                Payload::LinkReq(link, bytes) => {
                    let db = self.regions[m.to].db.as_mut().unwrap();
                    let reply = respond(db, &bytes, CAP)
                        .unwrap_or_else(|e| panic!("seed {seed}: responder refused a frame: {e}"));
                    self.send(m.to, m.from, Payload::LinkReply(link, reply));
                }
                Payload::LinkReply(link, bytes) => {
                    let r = &mut self.regions[m.to];
                    let Some((l, _)) = r.links.get_mut(link) else {
                        continue;
                    };
                    let acts = l.on_reply(r.db.as_mut().unwrap(), &bytes, now);
                    self.link_actions(m.to, link, acts);
                }
            }
        }
    }

    fn crash(&mut self, i: usize, until: i64) {
        let r = &mut self.regions[i];
        let Some(db) = r.db.take() else { return };
        // The durable directory holds every commit (sync=always); the link
        // files hold what was saved last.
        r.snapshot = Some(db.export_snapshot().unwrap());
        r.node = None;
        r.links.clear();
        r.down_until = until;
        self.log(|| format!("crash r{i} until {}", until - T0));
    }

    fn restart(&mut self, i: usize) {
        let now = self.local(i);
        let seed = self.rng.next();
        let r = &mut self.regions[i];
        let snapshot = r.snapshot.take().expect("snapshot");
        let mut db = Database::import_snapshot(&snapshot, Arc::new(r.clock.clone())).unwrap();
        let state = GroupState::decode(&r.saved_group).unwrap();
        let node = GroupNode::new(&r.name, self.group.clone(), Some(state), now).unwrap();
        db.set_write_guard(Some(node.fence()));
        r.links = r
            .saved_links
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let l = Link::decode_state(b, seed.wrapping_add(k as u64)).unwrap();
                let peer = l
                    .config()
                    .peer
                    .trim_start_matches('r')
                    .parse::<usize>()
                    .unwrap();
                (l, peer)
            })
            .collect();
        r.db = Some(db);
        r.node = Some(node);
        self.log(|| format!("restart r{i}"));
    }

    fn write(&mut self, i: usize) {
        let k = self.rng.below(30) as i64;
        let v = self.rng.below(1000) as i64;
        let now = self.local(i);
        let r = &mut self.regions[i];
        let db = r.db.as_mut().unwrap();
        let res = if v % 7 == 0 {
            db.delete_row("t", PrimaryKey::new([("k", k)]), Condition::ignore())
                .map(|_| ())
        } else {
            db.put_row(
                "t",
                PrimaryKey::new([("k", k)]),
                vec![Column::new("v", v)],
                Condition::ignore(),
            )
            .map(|_| ())
        };
        match res {
            Ok(()) => {
                let seq = db.version_vector().unwrap()[&r.name];
                let epoch = r.node.as_ref().unwrap().state().epoch;
                let cursor = db.next_cursor().unwrap() - 1;
                let rec = db.changes_since(cursor, 1).unwrap().records.remove(0);
                assert_eq!((rec.origin.as_str(), rec.seq), (r.name.as_str(), seq));
                self.acked.push(rec);
                self.accepted.push((self.now, i, epoch));
                self.log(|| format!("r{i} wrote seq {seq} at epoch {epoch}"));
                for l in 0..self.regions[i].links.len() {
                    let r = &mut self.regions[i];
                    let acts = r.links[l].0.on_commit(r.db.as_mut().unwrap(), now);
                    self.link_actions(i, l, acts);
                }
            }
            Err(e) => assert_eq!(e.code(), "StaleEpoch", "seed {}: {e}", self.seed),
        }
    }

    fn tick_all(&mut self) {
        for i in 0..self.regions.len() {
            if !self.up(i) {
                continue;
            }
            let now = self.local(i);
            let r = &mut self.regions[i];
            let acts = r.node.as_mut().unwrap().tick(r.db.as_ref().unwrap(), now);
            self.group_actions(i, acts);
            // Like the native driver: a moved log cursor (a local write or
            // records merged by a link) counts as a commit.
            let cursor = self.regions[i].db.as_ref().unwrap().next_cursor().unwrap();
            let moved = cursor != self.regions[i].seen_cursor;
            self.regions[i].seen_cursor = cursor;
            for l in 0..self.regions[i].links.len() {
                let r = &mut self.regions[i];
                let db = r.db.as_mut().unwrap();
                let acts = if moved {
                    r.links[l].0.on_commit(db, now)
                } else {
                    r.links[l].0.tick(db, now)
                };
                self.link_actions(i, l, acts);
            }
        }
    }

    /// Failback: a former primary resyncs with the current primary until
    /// the digests match, then may lead again.
    fn failback(&mut self) {
        for i in 0..self.regions.len() {
            if !self.up(i) || !self.regions[i].node.as_ref().unwrap().state().needs_resync {
                continue;
            }
            let primary = self.regions[i]
                .node
                .as_ref()
                .unwrap()
                .state()
                .primary
                .clone();
            let p = self.index(&primary);
            if p == i || !self.up(p) || self.cut(i, p) {
                continue;
            }
            let (a, b) = if i < p {
                let (x, y) = self.regions.split_at_mut(p);
                (&mut x[i], &mut y[0])
            } else {
                let (x, y) = self.regions.split_at_mut(i);
                (&mut y[0], &mut x[p])
            };
            let cfg = sync::SyncConfig {
                session_id: self.rng.next(),
                ..sync::SyncConfig::default()
            };
            let report =
                a.db.as_mut()
                    .unwrap()
                    .sync_with(b.db.as_mut().unwrap(), cfg)
                    .unwrap();
            if report.verified {
                a.node.as_mut().unwrap().mark_resynced();
                let acts = Vec::new();
                self.group_actions(i, acts);
                self.log(|| format!("r{i} resynced with primary r{p}"));
            }
        }
    }

    fn save_links(&mut self) {
        for r in &mut self.regions {
            if r.db.is_some() {
                r.saved_links = r.links.iter().map(|(l, _)| l.encode_state()).collect();
            }
        }
    }
}

fn random_trigger(rng: &mut Rng, allow_manual: bool) -> Trigger {
    match rng.below(if allow_manual { 5 } else { 4 }) {
        0 => Trigger::Realtime,
        1 => Trigger::Periodic(rng.range(100, 1500)),
        2 => Trigger::Delayed(rng.range(100, 2000)),
        // A cron schedule with a seconds field: one session every 1-3 s.
        3 => Trigger::Cron(format!("*/{} * * * * *", rng.range(1, 4))),
        _ => Trigger::Manual,
    }
}

/// One seeded run; returns how many acknowledged writes were lost in a
/// failover (and found reported).
fn run(seed: u64) -> usize {
    let mut rng = Rng(seed);
    let n = 3 + rng.below(3) as usize;
    let names: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
    let mut group = GroupConfig::new(names.clone());
    group.auto_failover = true;
    let mut regions = Vec::new();
    for name in &names {
        let offset = rng.range(-500, 500);
        let clock = ManualClock::new(T0 + offset);
        let mut db = Database::memory(DatabaseOptions::with_clock(
            name.clone(),
            Arc::new(clock.clone()),
        ))
        .unwrap();
        db.create_table(schema()).unwrap();
        let node = GroupNode::new(name, group.clone(), None, T0 + offset).unwrap();
        db.set_write_guard(Some(node.fence()));
        let saved_group = node.state().encode();
        regions.push(Region {
            name: name.clone(),
            clock,
            offset,
            db: Some(db),
            node: Some(node),
            links: Vec::new(),
            saved_links: Vec::new(),
            saved_group,
            snapshot: None,
            down_until: 0,
            seen_cursor: 0,
        });
    }
    // A ring of links both ways keeps everyone connected; extra links add
    // every trigger and direction.
    let mut link_no = 0;
    for (i, region) in regions.iter_mut().enumerate() {
        let j = (i + 1) % n;
        let trigger = match rng.below(2) {
            0 => Trigger::Realtime,
            _ => Trigger::Periodic(rng.range(100, 1000)),
        };
        let cfg = LinkConfig::new(format!("ring{i}"), names[j].clone())
            .trigger(trigger)
            .direction(SyncDirection::Both);
        let mut cfg = cfg;
        cfg.timeout_ms = 2_000;
        region.links.push((Link::new(cfg, rng.next()).unwrap(), j));
    }
    for _ in 0..n {
        let i = rng.below(n as u64) as usize;
        let j = (i + 1 + rng.below(n as u64 - 1) as usize) % n;
        let trigger = random_trigger(&mut rng, true);
        let direction = if matches!(trigger, Trigger::Delayed(_)) {
            SyncDirection::Push
        } else {
            [
                SyncDirection::Push,
                SyncDirection::Pull,
                SyncDirection::Both,
            ][rng.below(3) as usize]
        };
        link_no += 1;
        let mut cfg = LinkConfig::new(format!("x{link_no}"), names[j].clone())
            .trigger(trigger)
            .direction(direction);
        cfg.timeout_ms = 2_000;
        regions[i]
            .links
            .push((Link::new(cfg, rng.next()).unwrap(), j));
    }
    let mut w = World {
        seed,
        rng,
        now: T0,
        regions,
        queue: BTreeMap::new(),
        msg_seq: 0,
        partitions: Vec::new(),
        faults: true,
        group,
        acked: Vec::new(),
        accepted: Vec::new(),
        promoted: BTreeMap::new(),
        debug: std::env::var("REPL_SIM_DEBUG").is_ok(),
    };
    for i in 0..n {
        let now = w.local(i);
        for (l, _) in &mut w.regions[i].links {
            l.start(now).unwrap();
        }
    }
    w.save_links();
    let active_steps = 250; // 5 s
    for step in 0..active_steps {
        w.now += STEP_MS;
        w.set_clocks();
        let now = w.now;
        w.partitions.retain(|(_, until)| *until > now);
        // Restarts.
        for i in 0..n {
            if !w.up(i) && w.regions[i].down_until <= now {
                w.restart(i);
            }
        }
        w.deliver();
        w.tick_all();
        let rng = &mut w.rng;
        if rng.per_mille(8) && w.partitions.is_empty() {
            let p = rng.below(n as u64) as usize;
            let until = now + rng.range(500, 3000);
            w.partitions.push((p, until));
            w.log(|| format!("partition r{p} until {}", until - T0));
        }
        if w.rng.per_mille(5) {
            let i = w.rng.below(n as u64) as usize;
            if w.up(i) {
                let until = now + w.rng.range(200, 3000);
                w.crash(i, until);
            }
        }
        if w.rng.per_mille(4) {
            // Manual failover (or failback) to a random member.
            let i = w.rng.below(n as u64) as usize;
            if w.up(i) {
                let now_i = w.local(i);
                let r = &mut w.regions[i];
                if let Ok(acts) = r
                    .node
                    .as_mut()
                    .unwrap()
                    .promote(r.db.as_ref().unwrap(), now_i)
                {
                    w.log(|| format!("manual promote r{i}"));
                    w.group_actions(i, acts);
                }
            }
        }
        if w.rng.per_mille(10) {
            let i = w.rng.below(n as u64) as usize;
            if let Some(db) = w.regions[i].db.as_mut() {
                let next = db.next_cursor().unwrap();
                db.truncate_log(next.saturating_sub(3)).unwrap();
            }
        }
        if w.rng.per_mille(40) {
            w.failback();
        }
        // Clients write to a random region (only the primary accepts).
        for _ in 0..2 {
            if w.rng.per_mille(300) {
                let i = w.rng.below(n as u64) as usize;
                if w.up(i) {
                    w.write(i);
                }
            }
        }
        if step % 10 == 0 {
            w.save_links();
        }
    }
    // Heal: no faults, no partitions, everyone up; trigger manual links.
    w.faults = false;
    w.partitions.clear();
    let mut converged = false;
    for step in 0..600 {
        w.now += STEP_MS;
        w.set_clocks();
        for i in 0..n {
            if !w.up(i) {
                w.restart(i);
            }
        }
        w.deliver();
        if step % 25 == 0 {
            for r in &mut w.regions {
                for (l, _) in &mut r.links {
                    let _ = l.trigger();
                }
            }
            w.failback();
        }
        w.tick_all();
        if step % 25 == 24 {
            let d: BTreeSet<_> = w
                .regions
                .iter()
                .map(|r| r.db.as_ref().unwrap().table_digest("t").unwrap())
                .collect();
            if d.len() == 1 && step > 150 {
                converged = true;
                break;
            }
        }
    }
    let digests: Vec<_> = w
        .regions
        .iter()
        .map(|r| r.db.as_ref().unwrap().table_digest("t").unwrap().to_hex())
        .collect();
    assert!(
        converged,
        "seed {seed}: digests differ after healing: {digests:?}"
    );
    // No acknowledged write lost: a region that merged exactly the
    // acknowledged writes has the same digest (rows moved by reconcile
    // count, whether or not the record itself travelled).
    let mut reference = Database::memory(DatabaseOptions::with_clock(
        "reference",
        Arc::new(ManualClock::new(T0)),
    ))
    .unwrap();
    reference.create_table(schema()).unwrap();
    reference.apply_changes(&w.acked).unwrap();
    assert_eq!(
        reference.table_digest("t").unwrap().to_hex(),
        digests[0],
        "seed {seed}: the regions differ from the acknowledged writes ({} acked)",
        w.acked.len()
    );
    // Epoch order: writes accepted in real time under non-decreasing epochs,
    // one region per epoch.
    let mut by_epoch: BTreeMap<u64, usize> = BTreeMap::new();
    let mut max_epoch = 0;
    for (t, i, e) in &w.accepted {
        assert!(
            *e >= max_epoch,
            "seed {seed}: r{i} accepted a write under epoch {e} at {} after epoch {max_epoch} had written",
            t - T0
        );
        max_epoch = *e;
        let owner = *by_epoch.entry(*e).or_insert(*i);
        assert_eq!(owner, *i, "seed {seed}: two regions wrote under epoch {e}");
    }
    // The group settles too: an election won just as the digests matched
    // (an old primary re-elected after failed elections) reaches every
    // member with the winner's next heartbeats. At most 5 s more.
    for _ in 0..250 {
        let epochs: BTreeSet<_> = w
            .regions
            .iter()
            .map(|r| r.node.as_ref().unwrap().state().epoch)
            .collect();
        if epochs.len() == 1 {
            break;
        }
        w.now += STEP_MS;
        w.set_clocks();
        w.deliver();
        w.tick_all();
    }
    // Exactly one primary in the last epoch, and everyone agrees on it.
    let states: BTreeSet<_> = w
        .regions
        .iter()
        .map(|r| {
            let s = r.node.as_ref().unwrap().state();
            (s.epoch, s.primary.clone())
        })
        .collect();
    assert_eq!(
        states.len(),
        1,
        "seed {seed}: members disagree after healing: {states:?}"
    );
    let primaries = w
        .regions
        .iter()
        .filter(|r| r.node.as_ref().unwrap().role() == Role::Primary)
        .count();
    assert_eq!(primaries, 1, "seed {seed}");
    // Issue 13: an acknowledged write the next primary after its epoch
    // did not hold when it won is inside a range its origin reported lost.
    let mut checked = 0;
    for (rec, (_, i, e)) in w.acked.iter().zip(&w.accepted) {
        let Some((next_e, (p, vv))) = w.promoted.range(e + 1..).next() else {
            continue;
        };
        if vv.get(&rec.origin).copied().unwrap_or(0) >= rec.seq {
            continue;
        }
        checked += 1;
        let s = w.regions[*i].node.as_ref().unwrap().status(w.local(*i));
        assert!(
            s.lost.iter().any(|l| l.origin == rec.origin
                && l.from_seq <= rec.seq
                && rec.seq <= l.to_seq),
            "seed {seed}: r{i}'s write seq {} (epoch {e}) was not held by r{p} when it won epoch {next_e}, and is not reported lost: {:?}",
            rec.seq,
            s.lost
        );
    }
    if w.debug {
        eprintln!(
            "seed {seed}: {} writes acked, {checked} lost in failovers and reported, final epoch {:?}",
            w.acked.len(),
            states
        );
    }
    checked
}

#[test]
fn replication_simulation() {
    if let Ok(s) = std::env::var("REPL_SIM_SEED") {
        run(s.parse().expect("REPL_SIM_SEED is a number"));
        return;
    }
    let seeds: u64 = std::env::var("REPL_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let mut lost = 0;
    for seed in 0..seeds {
        match std::panic::catch_unwind(|| run(seed)) {
            Ok(n) => lost += n,
            Err(_) => panic!(
                "replication simulation failed for seed {seed}; replay with REPL_SIM_SEED={seed}"
            ),
        }
    }
    println!("{seeds} seeds: {lost} acknowledged writes lost in failovers, all reported");
    // The check above is not vacuous: failovers in the simulation do lose
    // acknowledged writes (async mode).
    if seeds >= 100 {
        assert!(
            lost > 0,
            "no write was ever lost: the loss check checked nothing"
        );
    }
}
