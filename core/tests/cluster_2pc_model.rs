//! An exhaustive model check (the `stateright` crate, breadth-first) of the
//! core's two-phase commit: the real `Coordinator` and `Participant` state
//! machines of `tablesync::cluster::txn`, driven by a bounded model of the
//! world around them:
//!
//! - one coordinator and two participants; one transaction writing a row on
//!   each participant, whose condition on the second participant holds or
//!   not (two initial states: commit and abort are both reachable);
//! - a client that sends the transaction, and may retry it under the same id;
//! - a network that loses, duplicates and reorders every message (a sent
//!   message stays deliverable any number of times until it is dropped);
//! - crashes of any node between any two of its actions (a node runs its
//!   actions one at a time, in order, as drivers must: `Persist` durable
//!   before the next action, `Apply` atomic with its commit record), losing
//!   its memory and unexecuted actions, and restarts from its durable records;
//! - time that jumps past every timeout (vote timeout, resends, in-doubt
//!   queries).
//!
//! Checked in every reachable state: no partial commit (a participant
//! committed while another, or the coordinator, recorded an abort); one
//! decision per transaction; each participant applies it at most once;
//! every answer the client got (first try and retry) is the same and
//! matches what was applied. And from every reachable state, healing (all
//! nodes restarted, messages delivered, time passing) resolves every
//! in-doubt transaction, releases every lock and leaves the transaction
//! applied on both participants or on neither.
//!
//! Bounds (CI): 1 crash, 1 clock jump, 2 client sends — about 28,000
//! distinct states, some 15 s on a debug build.
//! `TABLESYNC_2PC_MODEL_BOUNDS=crashes,jumps,sends` widens them (`1,2,2`:
//! about 87,000 states, minutes).

use stateright::{Checker, Model, Property};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
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

/// A participant's rows.
#[derive(Clone, Debug, Default)]
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

const TXN: TxnId = TxnId(0x7a);
const COORD: &str = "c";
const PARTS: [&str; 2] = ["p1", "p2"];
/// Each clock jump passes every timeout of both state machines.
const JUMP_MS: i64 = 2_000;

fn parts_of_txn() -> Vec<(NodeId, Vec<Op>)> {
    vec![
        (
            PARTS[0].to_string(),
            vec![Op {
                key: b"a".to_vec(),
                expect: None,
                set: 1,
            }],
        ),
        (
            PARTS[1].to_string(),
            vec![Op {
                key: b"b".to_vec(),
                expect: Some(0),
                set: 1,
            }],
        ),
    ]
}

#[derive(Clone, Debug)]
struct CoordNode {
    /// `None` while crashed.
    sm: Option<Coordinator<Op>>,
    durable: Vec<CoordRecord>,
}

#[derive(Clone, Debug)]
struct PartNode {
    sm: Option<Participant<Op>>,
    durable: Vec<PartRecord<Op>>,
    store: Store,
    /// Times the transaction's writes were applied here.
    applied: u8,
}

/// The whole world. Hashed by its `Debug` form (every map in it is ordered,
/// so equal states print alike).
#[derive(Clone, Debug)]
struct World {
    now: i64,
    jumps: u8,
    crashes: u8,
    sends: u8,
    coord: CoordNode,
    parts: [PartNode; 2],
    /// Messages in flight, keyed by their printed form (a set: a duplicate
    /// is a message delivered without being removed).
    net: BTreeMap<String, (NodeId, Msg<Op>)>,
    /// Outcomes the client received.
    replies: Vec<Outcome>,
    /// A planted bug (tests of the model): the coordinator records its
    /// decision after sending it.
    late_decision_record: bool,
}

impl Hash for World {
    fn hash<H: Hasher>(&self, h: &mut H) {
        format!("{self:?}").hash(h);
    }
}

impl PartialEq for World {
    fn eq(&self, other: &World) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for World {}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Act {
    /// The client sends (or re-sends) the transaction to the coordinator.
    ClientSend { crash: Option<usize> },
    /// Deliver a message. It stays in flight: it may be delivered again
    /// (duplication), later (reordering) or never (loss). `crash`: the
    /// receiver crashes after that many of its actions (between any two
    /// actions, or after all).
    Deliver { key: String, crash: Option<usize> },
    /// The clock jumps past every timeout.
    Jump,
    /// Node `n` (0 = coordinator, 1.. = participants) runs its timers.
    Tick { n: usize, crash: Option<usize> },
    /// Node `n` restarts from its durable records.
    Restart(usize),
}

/// The bounds of the model.
#[derive(Clone, Copy)]
struct TwoPc {
    max_crashes: u8,
    max_jumps: u8,
    max_sends: u8,
}

/// Longest action list a node returns here (crash points beyond it are
/// refused by `next_state`).
const MAX_ACTIONS: usize = 4;

fn node_index(name: &str) -> usize {
    if name == COORD {
        0
    } else {
        1 + PARTS.iter().position(|p| *p == name).expect("a known node")
    }
}

impl World {
    fn new(condition_holds: bool) -> World {
        let part = |name: &str, b: i64| PartNode {
            sm: Some(Participant::recover(name, &[], 0)),
            durable: Vec::new(),
            store: Store([(b"b".to_vec(), b)].into_iter().collect()),
            applied: 0,
        };
        World {
            now: 0,
            jumps: 0,
            crashes: 0,
            sends: 0,
            coord: CoordNode {
                sm: Some(Coordinator::recover(COORD, &[])),
                durable: Vec::new(),
            },
            parts: [
                part(PARTS[0], 0),
                part(PARTS[1], if condition_holds { 0 } else { 1 }),
            ],
            net: BTreeMap::new(),
            replies: Vec::new(),
            late_decision_record: false,
        }
    }

    fn up(&self, n: usize) -> bool {
        if n == 0 {
            self.coord.sm.is_some()
        } else {
            self.parts[n - 1].sm.is_some()
        }
    }

    fn send(&mut self, to: NodeId, msg: Msg<Op>) {
        self.net.insert(format!("{to} {msg:?}"), (to, msg));
    }

    /// Run the coordinator's actions in order; `crash`: it crashes after
    /// that many of them (its memory and the rest are lost). `false` when
    /// `crash` is past the end (not a distinct behaviour).
    fn run_coord(
        &mut self,
        mut actions: Vec<Action<Op, CoordRecord>>,
        crash: Option<usize>,
    ) -> bool {
        if crash.is_some_and(|k| k > actions.len()) {
            return false;
        }
        if self.late_decision_record {
            actions.sort_by_key(|a| matches!(a, Action::Persist(_)));
        }
        for (i, a) in actions.into_iter().enumerate() {
            if crash == Some(i) {
                break;
            }
            match a {
                Action::Persist(r) => self.coord.durable.push(r),
                Action::Send { to, msg } => self.send(to, msg),
                Action::Reply { outcome, .. } => self.replies.push(outcome),
                Action::Apply { .. } => panic!("a coordinator never applies"),
            }
        }
        if crash.is_some() {
            self.crashes += 1;
            self.coord.sm = None;
        }
        true
    }

    /// Run participant `i`'s actions in order (crash as above).
    fn run_part(
        &mut self,
        i: usize,
        actions: Vec<Action<Op, PartRecord<Op>>>,
        crash: Option<usize>,
    ) -> bool {
        if crash.is_some_and(|k| k > actions.len()) {
            return false;
        }
        for (k, a) in actions.into_iter().enumerate() {
            if crash == Some(k) {
                break;
            }
            match a {
                Action::Persist(r) => self.parts[i].durable.push(r),
                Action::Send { to, msg } => self.send(to, msg),
                Action::Apply { txn, ops } => {
                    // One atomic durable step: the writes and the commit record.
                    let p = &mut self.parts[i];
                    for o in ops {
                        p.store.0.insert(o.key.clone(), o.set);
                    }
                    p.applied += 1;
                    p.durable.push(PartRecord::Committed { txn });
                }
                Action::Reply { .. } => panic!("a participant never replies to clients"),
            }
        }
        if crash.is_some() {
            self.crashes += 1;
            self.parts[i].sm = None;
        }
        true
    }

    /// The node `to` handles `msg` (it must be up).
    fn deliver(&mut self, to: &str, msg: Msg<Op>, crash: Option<usize>) -> bool {
        let n = node_index(to);
        let now = self.now;
        if n == 0 {
            let Some(sm) = self.coord.sm.as_mut() else {
                return false;
            };
            let out = sm.on_message(msg, now);
            self.run_coord(out, crash)
        } else {
            let p = &mut self.parts[n - 1];
            let Some(sm) = p.sm.as_mut() else {
                return false;
            };
            let out = sm.on_message(msg, &p.store, now);
            self.run_part(n - 1, out, crash)
        }
    }

    /// Node `n` runs its timers (it must be up).
    fn tick(&mut self, n: usize, crash: Option<usize>) -> bool {
        let now = self.now;
        if n == 0 {
            let Some(sm) = self.coord.sm.as_mut() else {
                return false;
            };
            let out = sm.tick(now);
            self.run_coord(out, crash)
        } else {
            let Some(sm) = self.parts[n - 1].sm.as_mut() else {
                return false;
            };
            let out = sm.tick(now);
            self.run_part(n - 1, out, crash)
        }
    }

    fn restart(&mut self, n: usize) {
        if n == 0 {
            self.coord.sm = Some(Coordinator::recover(COORD, &self.coord.durable));
        } else {
            let p = &mut self.parts[n - 1];
            p.sm = Some(Participant::recover(PARTS[n - 1], &p.durable, self.now));
        }
    }

    fn client_send(&mut self, crash: Option<usize>) -> bool {
        let now = self.now;
        let Some(sm) = self.coord.sm.as_mut() else {
            return false;
        };
        let out = sm.begin(TXN, parts_of_txn(), now);
        self.sends += 1;
        self.run_coord(out, crash)
    }

    fn part_committed(&self, i: usize) -> bool {
        self.parts[i]
            .durable
            .iter()
            .any(|r| matches!(r, PartRecord::Committed { txn } if *txn == TXN))
    }

    fn part_aborted(&self, i: usize) -> bool {
        self.parts[i]
            .durable
            .iter()
            .any(|r| matches!(r, PartRecord::Aborted { txn, .. } if *txn == TXN))
    }

    fn coord_decisions(&self) -> Vec<bool> {
        self.coord
            .durable
            .iter()
            .filter_map(|r| match r {
                CoordRecord::Decided { txn, commit, .. } if *txn == TXN => Some(*commit),
                _ => None,
            })
            .collect()
    }

    /// Faults stop: every node restarts, every message in flight is
    /// delivered once (or, `lose_in_flight`, all of them are lost), then
    /// messages are delivered as sent while time passes; a dozen rounds.
    fn heal(mut self, lose_in_flight: bool) -> World {
        if lose_in_flight {
            self.net.clear();
        }
        for n in 0..3 {
            if !self.up(n) {
                self.restart(n);
            }
        }
        for _ in 0..12 {
            let msgs: Vec<(NodeId, Msg<Op>)> =
                std::mem::take(&mut self.net).into_values().collect();
            for (to, msg) in msgs {
                self.deliver(&to, msg, None);
            }
            self.now += JUMP_MS;
            for n in 0..3 {
                self.tick(n, None);
            }
        }
        self
    }
}

/// The crash points a handling may take: none, or after 0..=MAX_ACTIONS actions.
fn crash_points(s: &World, max: u8) -> Vec<Option<usize>> {
    let mut out = vec![None];
    if s.crashes < max {
        out.extend((0..=MAX_ACTIONS).map(Some));
    }
    out
}

impl Model for TwoPc {
    type State = World;
    type Action = Act;

    fn init_states(&self) -> Vec<World> {
        vec![World::new(true), World::new(false)]
    }

    fn actions(&self, s: &World, out: &mut Vec<Act>) {
        let crashes = crash_points(s, self.max_crashes);
        if s.sends < self.max_sends && s.up(0) {
            for c in &crashes {
                out.push(Act::ClientSend { crash: *c });
            }
        }
        for n in 0..3 {
            if !s.up(n) {
                out.push(Act::Restart(n));
                continue;
            }
            for c in &crashes {
                out.push(Act::Tick { n, crash: *c });
            }
        }
        for (key, (to, _)) in &s.net {
            if s.up(node_index(to)) {
                for c in &crashes {
                    out.push(Act::Deliver {
                        key: key.clone(),
                        crash: *c,
                    });
                }
            }
        }
        if s.jumps < self.max_jumps {
            out.push(Act::Jump);
        }
    }

    fn next_state(&self, s: &World, a: Act) -> Option<World> {
        let mut w = s.clone();
        let ok = match a {
            Act::ClientSend { crash } => w.client_send(crash),
            Act::Deliver { key, crash } => {
                let (to, msg) = w.net.get(&key)?.clone();
                w.deliver(&to, msg, crash)
            }
            Act::Jump => {
                w.jumps += 1;
                w.now += JUMP_MS;
                true
            }
            Act::Tick { n, crash } => w.tick(n, crash),
            Act::Restart(n) => {
                w.restart(n);
                true
            }
        };
        // A handling that changes nothing is not a step (keeps the graph small).
        (ok && w != *s).then_some(w)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("no partial commit", |_, s: &World| {
                let committed = (0..2).any(|i| s.part_committed(i));
                let aborted =
                    (0..2).any(|i| s.part_aborted(i)) || s.coord_decisions().contains(&false);
                !(committed && aborted)
            }),
            Property::always("one decision per transaction", |_, s: &World| {
                let d = s.coord_decisions();
                d.iter().all(|c| *c == d[0])
            }),
            Property::always("applied at most once per participant", |_, s: &World| {
                s.parts.iter().all(|p| p.applied <= 1)
            }),
            Property::always(
                "every answer agrees with what was applied",
                |_, s: &World| {
                    let Some(first) = s.replies.first() else {
                        return true;
                    };
                    if s.replies.iter().any(|r| r != first) {
                        return false;
                    }
                    match first {
                        Outcome::Committed => (0..2).all(|i| !s.part_aborted(i)),
                        Outcome::Aborted(_) => s.parts.iter().all(|p| p.applied == 0),
                    }
                },
            ),
            Property::always(
                "healing resolves every in-doubt transaction, all or nothing",
                |_, s: &World| {
                    [false, true].into_iter().all(|lose| {
                        let h = s.clone().heal(lose);
                        let resolved = h.parts.iter().all(|p| {
                            let sm = p.sm.as_ref().expect("healed nodes are up");
                            sm.in_doubt().is_empty() && sm.locked_keys() == 0
                        });
                        let same = h.parts[0].applied == h.parts[1].applied;
                        let answer_kept = match s.replies.first() {
                            Some(Outcome::Committed) => h.parts.iter().all(|p| p.applied == 1),
                            Some(Outcome::Aborted(_)) => h.parts.iter().all(|p| p.applied == 0),
                            None => true,
                        };
                        resolved && same && answer_kept
                    })
                },
            ),
            // The model is not vacuous: both outcomes happen, a crash
            // leaves a participant in doubt, and a retry is answered.
            Property::sometimes("a commit on both participants", |_, s: &World| {
                s.parts.iter().all(|p| p.applied == 1)
            }),
            Property::sometimes("an abort answered", |_, s: &World| {
                matches!(s.replies.first(), Some(Outcome::Aborted(_)))
            }),
            Property::sometimes(
                "a prepared participant with its coordinator down",
                |_, s: &World| {
                    !s.up(0)
                        && s.parts
                            .iter()
                            .any(|p| p.sm.as_ref().is_some_and(|sm| !sm.in_doubt().is_empty()))
                },
            ),
            Property::sometimes("a retry answered", |_, s: &World| s.replies.len() >= 2),
        ]
    }
}

/// The bounds: `TABLESYNC_2PC_MODEL_BOUNDS=crashes,jumps,sends` overrides
/// the CI default.
fn bounds() -> TwoPc {
    let d = TwoPc {
        max_crashes: 1,
        max_jumps: 1,
        max_sends: 2,
    };
    let Ok(v) = std::env::var("TABLESYNC_2PC_MODEL_BOUNDS") else {
        return d;
    };
    let n: Vec<u8> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    match n[..] {
        [c, j, s] => TwoPc {
            max_crashes: c,
            max_jumps: j,
            max_sends: s,
        },
        _ => panic!("TABLESYNC_2PC_MODEL_BOUNDS: expected crashes,jumps,sends"),
    }
}

#[test]
fn two_phase_commit_is_atomic_and_resolves_under_every_fault_interleaving() {
    let model = bounds();
    let mut builder = model.checker();
    if let Some(n) = std::env::var("TABLESYNC_2PC_MODEL_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.target_state_count(n);
    }
    let checker = builder.spawn_bfs().join();
    eprintln!(
        "2PC model (crashes {}, clock jumps {}, client sends {}): {} states, {} unique, depth {}",
        model.max_crashes,
        model.max_jumps,
        model.max_sends,
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth()
    );
    checker.assert_properties();
}

/// The same model catches a participant whose commit record is not durable
/// (after a restart it is in doubt again and applies the commit twice).
#[test]
fn the_model_catches_a_participant_that_loses_its_commit_record() {
    #[derive(Clone, Copy)]
    struct Forgetful(TwoPc);
    impl Model for Forgetful {
        type State = World;
        type Action = Act;
        fn init_states(&self) -> Vec<World> {
            vec![World::new(true)]
        }
        fn actions(&self, s: &World, out: &mut Vec<Act>) {
            self.0.actions(s, out)
        }
        fn next_state(&self, s: &World, a: Act) -> Option<World> {
            let mut w = self.0.next_state(s, a)?;
            // The bug: the commit record is not durable.
            for p in w.parts.iter_mut() {
                p.durable
                    .retain(|r| !matches!(r, PartRecord::Committed { .. }));
            }
            Some(w)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::always(
                "applied at most once per participant",
                |_, s: &World| s.parts.iter().all(|p| p.applied <= 1),
            )]
        }
    }
    let checker = Forgetful(TwoPc {
        max_crashes: 1,
        max_jumps: 1,
        max_sends: 1,
    })
    .checker()
    .spawn_bfs()
    .join();
    checker.assert_any_discovery("applied at most once per participant");
}

/// The same model catches a coordinator that sends its decision before
/// recording it: crashed in between, it presumes abort for a transaction a
/// participant already committed.
#[test]
fn the_model_catches_a_coordinator_that_records_its_decision_late() {
    #[derive(Clone, Copy)]
    struct Late(TwoPc);
    impl Model for Late {
        type State = World;
        type Action = Act;
        fn init_states(&self) -> Vec<World> {
            let mut w = World::new(true);
            w.late_decision_record = true;
            vec![w]
        }
        fn actions(&self, s: &World, out: &mut Vec<Act>) {
            self.0.actions(s, out)
        }
        fn next_state(&self, s: &World, a: Act) -> Option<World> {
            self.0.next_state(s, a)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::always("no partial commit", |_, s: &World| {
                let committed = (0..2).any(|i| s.part_committed(i));
                let aborted =
                    (0..2).any(|i| s.part_aborted(i)) || s.coord_decisions().contains(&false);
                !(committed && aborted)
            })]
        }
    }
    let checker = Late(TwoPc {
        max_crashes: 1,
        max_jumps: 1,
        max_sends: 1,
    })
    .checker()
    .spawn_bfs()
    .join();
    checker.assert_any_discovery("no partial commit");
}
