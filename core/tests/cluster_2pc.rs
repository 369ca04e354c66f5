//! Two-phase commit under a seeded simulation: message loss, duplication
//! and reordering, coordinator and participant crashes at every action
//! boundary, restarts. 10,000 runs; after each run's faults stop, the
//! system must settle with every transaction all-or-nothing, applied at
//! most once per participant, no transaction left in doubt, no lock held,
//! and every client reply agreeing with what was applied.

mod cluster_support;

use cluster_support::Rng;
use std::collections::BTreeMap;
use tablesync::cluster::txn::{
    Action, CoordRecord, Coordinator, Msg, NodeId, Outcome, PartRecord, Participant, TxnId, TxnOp,
    TxnStore,
};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Op {
    key: Vec<u8>,
    expect: Option<i64>,
    set: i64,
}

impl TxnOp for Op {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

#[derive(Default, Clone)]
struct Store(BTreeMap<Vec<u8>, i64>);

impl TxnStore<Op> for Store {
    fn check(&self, ops: &[Op]) -> Result<(), String> {
        for o in ops {
            if let Some(e) = o.expect {
                if self.0.get(&o.key).copied().unwrap_or(0) != e {
                    return Err("condition failed".into());
                }
            }
        }
        Ok(())
    }
}

/// A transaction: its id and each participant's writes.
type Txn = (TxnId, Vec<(NodeId, Vec<Op>)>);

struct PNode {
    name: NodeId,
    durable: Vec<PartRecord<Op>>,
    store: Store,
    applied: BTreeMap<TxnId, u32>,
    sm: Participant<Op>,
    up: bool,
}

struct CNode {
    durable: Vec<CoordRecord>,
    sm: Coordinator<Op>,
    up: bool,
}

struct Sim {
    rng: Rng,
    now: i64,
    coord: CNode,
    parts: Vec<PNode>,
    net: Vec<(NodeId, Msg<Op>)>,
    txns: Vec<Txn>,
    replies: BTreeMap<TxnId, Vec<Outcome>>,
    /// Percent chance of a crash inside an action list (0 in the quiet phase).
    crash_pct: u64,
    /// Transactions a participant held prepared across a restart.
    in_doubt_restarts: Vec<TxnId>,
}

const COORD: &str = "c";

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = Rng(seed);
        let parts: Vec<PNode> = (0..3)
            .map(|i| {
                let name = format!("p{i}");
                PNode {
                    sm: Participant::recover(name.clone(), &[], 0),
                    name,
                    durable: vec![],
                    store: Store::default(),
                    applied: BTreeMap::new(),
                    up: true,
                }
            })
            .collect();
        let mut txns = Vec::new();
        for t in 0..3u128 {
            let n = 1 + rng.below(3) as usize;
            let mut who: Vec<usize> = (0..3).collect();
            // Choose n distinct participants.
            for i in 0..3 {
                let j = i + rng.below((3 - i) as u64) as usize;
                who.swap(i, j);
            }
            let ps = who[..n]
                .iter()
                .map(|&p| {
                    let op = Op {
                        key: vec![rng.below(4) as u8],
                        expect: if rng.chance(30) {
                            Some(rng.below(2) as i64)
                        } else {
                            None
                        },
                        set: t as i64 + 1,
                    };
                    (format!("p{p}"), vec![op])
                })
                .collect();
            txns.push((TxnId(seed as u128 * 16 + t), ps));
        }
        Sim {
            rng,
            now: 0,
            coord: CNode {
                durable: vec![],
                sm: Coordinator::recover(COORD, &[]),
                up: true,
            },
            parts,
            net: vec![],
            txns,
            replies: BTreeMap::new(),
            crash_pct: 4,
            in_doubt_restarts: vec![],
        }
    }

    fn crash_point(&mut self, n: usize) -> Option<usize> {
        if self.crash_pct > 0 && self.rng.chance(self.crash_pct) {
            Some(self.rng.below(n as u64 + 1) as usize)
        } else {
            None
        }
    }

    fn run_coord(&mut self, actions: Vec<Action<Op, CoordRecord>>) {
        let crash = self.crash_point(actions.len());
        for (i, a) in actions.into_iter().enumerate() {
            if crash == Some(i) {
                self.coord.up = false;
                return;
            }
            match a {
                Action::Persist(r) => self.coord.durable.push(r),
                Action::Send { to, msg } => self.net.push((to, msg)),
                Action::Reply { txn, outcome } => {
                    self.replies.entry(txn).or_default().push(outcome)
                }
                Action::Apply { .. } => panic!("a coordinator never applies"),
            }
        }
        if crash.is_some() {
            self.coord.up = false; // crashed after its last action
        }
    }

    fn run_part(&mut self, p: usize, actions: Vec<Action<Op, PartRecord<Op>>>) {
        let crash = self.crash_point(actions.len());
        for (i, a) in actions.into_iter().enumerate() {
            if crash == Some(i) {
                self.parts[p].up = false;
                return;
            }
            let node = &mut self.parts[p];
            match a {
                Action::Persist(r) => node.durable.push(r),
                Action::Send { to, msg } => self.net.push((to, msg)),
                Action::Apply { txn, ops } => {
                    // One atomic durable step: the writes and the commit record.
                    for o in ops {
                        node.store.0.insert(o.key.clone(), o.set);
                    }
                    *node.applied.entry(txn).or_default() += 1;
                    node.durable.push(PartRecord::Committed { txn });
                }
                Action::Reply { .. } => panic!("a participant never replies to clients"),
            }
        }
        if crash.is_some() {
            self.parts[p].up = false;
        }
    }

    fn restart(&mut self, who: usize) {
        // who == 3 is the coordinator.
        if who == 3 {
            if !self.coord.up {
                let mut sm = Coordinator::recover(COORD, &self.coord.durable);
                sm.vote_timeout_ms = 1000;
                self.coord.sm = sm;
                self.coord.up = true;
            }
        } else if !self.parts[who].up {
            let node = &mut self.parts[who];
            node.sm = Participant::recover(node.name.clone(), &node.durable, self.now);
            self.in_doubt_restarts.extend(node.sm.in_doubt());
            node.up = true;
        }
    }

    fn deliver(&mut self, i: usize, duplicate: bool) {
        let (to, msg) = if duplicate {
            self.net[i].clone()
        } else {
            self.net.swap_remove(i)
        };
        if to == COORD {
            if self.coord.up {
                let a = self.coord.sm.on_message(msg, self.now);
                self.run_coord(a);
            }
        } else {
            let p: usize = to[1..].parse().unwrap();
            if self.parts[p].up {
                let store = self.parts[p].store.clone();
                let a = self.parts[p].sm.on_message(msg, &store, self.now);
                self.run_part(p, a);
            }
        }
    }

    fn tick(&mut self) {
        self.now += 50 + self.rng.below(100) as i64;
        if self.coord.up {
            let a = self.coord.sm.tick(self.now);
            self.run_coord(a);
        }
        for p in 0..self.parts.len() {
            if self.parts[p].up {
                let a = self.parts[p].sm.tick(self.now);
                self.run_part(p, a);
            }
        }
    }

    fn begin(&mut self, t: usize) {
        if self.coord.up {
            let (id, parts) = self.txns[t].clone();
            let a = self.coord.sm.begin(id, parts, self.now);
            self.run_coord(a);
        }
    }

    fn faulty_phase(&mut self, steps: usize) {
        for t in 0..self.txns.len() {
            self.begin(t);
        }
        for _ in 0..steps {
            match self.rng.below(100) {
                0..=44 if !self.net.is_empty() => {
                    let i = self.rng.below(self.net.len() as u64) as usize;
                    let dup = self.rng.chance(10);
                    self.deliver(i, dup);
                }
                45..=54 if !self.net.is_empty() => {
                    let i = self.rng.below(self.net.len() as u64) as usize;
                    self.net.swap_remove(i);
                }
                55..=69 => self.tick(),
                70..=79 => {
                    let t = self.rng.below(self.txns.len() as u64) as usize;
                    self.begin(t);
                }
                80..=84 => {
                    let who = self.rng.below(4) as usize;
                    if who == 3 {
                        self.coord.up = false;
                    } else {
                        self.parts[who].up = false;
                    }
                }
                85..=94 => {
                    let who = self.rng.below(4) as usize;
                    self.restart(who);
                }
                _ => {}
            }
        }
    }

    fn settled(&self) -> bool {
        self.net.is_empty()
            && self.coord.sm.running() == 0
            && self.coord.sm.unfinished() == 0
            && self.parts.iter().all(|p| p.sm.in_doubt().is_empty())
            && self
                .txns
                .iter()
                .all(|(id, _)| self.replies.contains_key(id))
    }

    fn quiet_phase(&mut self) -> usize {
        self.crash_pct = 0;
        for w in 0..4 {
            self.restart(w);
        }
        for round in 0..200 {
            if self.settled() {
                return round;
            }
            for t in 0..self.txns.len() {
                if !self.replies.contains_key(&self.txns[t].0) {
                    self.begin(t);
                }
            }
            while !self.net.is_empty() {
                self.deliver(0, false);
            }
            self.tick();
        }
        panic!("did not settle");
    }

    fn check(&self, seed: u64) {
        for (id, parts) in &self.txns {
            let counts: Vec<u32> = parts
                .iter()
                .map(|(p, _)| {
                    let i: usize = p[1..].parse().unwrap();
                    self.parts[i].applied.get(id).copied().unwrap_or(0)
                })
                .collect();
            assert!(
                counts.iter().all(|c| *c <= 1),
                "seed {seed}: txn applied twice {counts:?}"
            );
            let committed = counts[0] == 1;
            assert!(
                counts.iter().all(|c| (*c == 1) == committed),
                "seed {seed}: partial commit of {id:?}: {counts:?}"
            );
            let replies = &self.replies[id];
            for r in replies {
                assert_eq!(
                    matches!(r, Outcome::Committed),
                    committed,
                    "seed {seed}: reply {r:?} disagrees with what was applied ({counts:?})"
                );
            }
            if let Some(o) = self.coord.sm.outcome(*id) {
                if parts.len() > 1 {
                    assert_eq!(matches!(o, Outcome::Committed), committed, "seed {seed}");
                }
            }
        }
        for p in &self.parts {
            assert_eq!(
                p.sm.locked_keys(),
                0,
                "seed {seed}: {} still holds locks",
                p.name
            );
        }
    }
}

#[test]
fn two_phase_commit_survives_faults_in_10000_seeded_runs() {
    let runs: u64 = std::env::var("TABLESYNC_2PC_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (mut committed, mut aborted, mut crashes_seen) = (0, 0, 0);
    let (mut two_phase_commits, mut in_doubt_then_committed) = (0, 0);
    for seed in 0..runs {
        let mut sim = Sim::new(seed);
        sim.faulty_phase(80);
        if !sim.coord.up || sim.parts.iter().any(|p| !p.up) {
            crashes_seen += 1;
        }
        sim.quiet_phase();
        sim.check(seed);
        for (id, parts) in &sim.txns {
            match sim.replies[id][0] {
                Outcome::Committed => {
                    committed += 1;
                    if parts.len() > 1 {
                        two_phase_commits += 1;
                        if sim.in_doubt_restarts.contains(id) {
                            in_doubt_then_committed += 1;
                        }
                    }
                }
                Outcome::Aborted(_) => aborted += 1,
            }
        }
    }
    // The runs exercise both outcomes and crashes, not only the happy path.
    assert!(committed > runs / 2, "committed {committed}");
    assert!(aborted > runs / 10, "aborted {aborted}");
    assert!(crashes_seen > runs / 10, "crashes {crashes_seen}");
    assert!(
        two_phase_commits > runs / 2,
        "two-phase commits {two_phase_commits}"
    );
    assert!(
        in_doubt_then_committed > runs / 100,
        "participants restarted in doubt, then committed: {in_doubt_then_committed}"
    );
    eprintln!(
        "{runs} runs: {committed} committed ({two_phase_commits} two-phase, \
         {in_doubt_then_committed} after an in-doubt restart), {aborted} aborted"
    );
}

#[test]
fn single_partition_batch_commits_in_one_round() {
    let mut c: Coordinator<Op> = Coordinator::recover(COORD, &[]);
    let mut p: Participant<Op> = Participant::recover("p0", &[], 0);
    let store = Store::default();
    let op = Op {
        key: b"k".to_vec(),
        expect: None,
        set: 7,
    };
    let a = c.begin(TxnId(1), vec![("p0".into(), vec![op.clone()])], 0);
    let [Action::Send { msg, .. }] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert!(matches!(msg, Msg::OnePhase { .. }));
    let b = p.on_message(msg.clone(), &store, 0);
    assert!(matches!(b[0], Action::Apply { .. }), "{b:?}");
    let Action::Send { msg: result, .. } = &b[1] else {
        panic!()
    };
    let r = c.on_message(result.clone(), 0);
    assert_eq!(
        r,
        vec![Action::Reply {
            txn: TxnId(1),
            outcome: Outcome::Committed
        }]
    );
    // A duplicated request is answered from the record, not applied again.
    let again = p.on_message(msg.clone(), &store, 0);
    assert!(again.iter().all(|a| !matches!(a, Action::Apply { .. })));
}

#[test]
fn a_no_vote_aborts_everywhere_and_releases_locks() {
    let mut c: Coordinator<Op> = Coordinator::recover(COORD, &[]);
    let mut p0: Participant<Op> = Participant::recover("p0", &[], 0);
    let mut p1: Participant<Op> = Participant::recover("p1", &[], 0);
    let ok = Op {
        key: b"a".to_vec(),
        expect: None,
        set: 1,
    };
    let bad = Op {
        key: b"b".to_vec(),
        expect: Some(5),
        set: 1,
    };
    let a = c.begin(
        TxnId(9),
        vec![("p0".into(), vec![ok]), ("p1".into(), vec![bad])],
        0,
    );
    let mut votes = vec![];
    for act in a {
        let Action::Send { to, msg } = act else {
            panic!()
        };
        let p = if to == "p0" { &mut p0 } else { &mut p1 };
        for out in p.on_message(msg, &Store::default(), 0) {
            if let Action::Send { msg, .. } = out {
                votes.push(msg);
            }
        }
    }
    assert_eq!(p0.locked_keys(), 1);
    let mut decisions = vec![];
    for v in votes {
        decisions.extend(c.on_message(v, 0));
    }
    assert!(decisions.iter().any(|a| matches!(
        a,
        Action::Persist(CoordRecord::Decided { commit: false, .. })
    )));
    for d in decisions {
        if let Action::Send { to, msg } = d {
            if to == "p0" {
                p0.on_message(msg, &Store::default(), 0);
            }
        }
    }
    assert_eq!(p0.locked_keys(), 0);
    assert_eq!(p0.decided(TxnId(9)), Some(false));
    assert!(matches!(c.outcome(TxnId(9)), Some(Outcome::Aborted(_))));
}
