//! The 2PC coordinator.

use super::message::{Action, CoordRecord, Msg, NodeId, Outcome, TxnId};
use std::collections::{BTreeMap, BTreeSet};

/// Actions of a coordinator.
pub type CoordAction<O> = Action<O, CoordRecord>;

#[derive(Clone, Debug)]
struct Running<O> {
    parts: BTreeMap<NodeId, Vec<O>>,
    yes: BTreeSet<NodeId>,
    one_phase: bool,
    started_ms: i64,
    last_send_ms: i64,
}

#[derive(Clone, Debug)]
struct Decided {
    commit: bool,
    reason: String,
    participants: Vec<NodeId>,
    acked: BTreeSet<NodeId>,
    finished: bool,
    last_send_ms: i64,
}

/// A coordinator: running transactions in memory, decisions rebuilt from
/// its durable records after a restart.
#[derive(Clone, Debug)]
pub struct Coordinator<O> {
    id: NodeId,
    running: BTreeMap<TxnId, Running<O>>,
    decided: BTreeMap<TxnId, Decided>,
    /// A two-phase transaction still collecting votes after this long aborts.
    pub vote_timeout_ms: i64,
    /// Unanswered messages are sent again after this long.
    pub resend_ms: i64,
}

impl<O: Clone> Coordinator<O> {
    /// A coordinator named `id`, recovering from its durable `records`
    /// (empty for a new one). Running transactions are not recorded: after
    /// a restart they are unknown and resolve as aborted.
    pub fn recover(id: impl Into<NodeId>, records: &[CoordRecord]) -> Self {
        let mut decided = BTreeMap::new();
        for r in records {
            match r {
                CoordRecord::Decided {
                    txn,
                    commit,
                    participants,
                    reason,
                } => {
                    decided.insert(
                        *txn,
                        Decided {
                            commit: *commit,
                            reason: reason.clone(),
                            participants: participants.clone(),
                            acked: BTreeSet::new(),
                            finished: false,
                            last_send_ms: i64::MIN / 2,
                        },
                    );
                }
                CoordRecord::Finished { txn } => {
                    if let Some(d) = decided.get_mut(txn) {
                        d.finished = true;
                    }
                }
            }
        }
        Coordinator {
            id: id.into(),
            running: BTreeMap::new(),
            decided,
            vote_timeout_ms: 1000,
            resend_ms: 200,
        }
    }

    /// The recorded outcome of `txn`, if decided.
    pub fn outcome(&self, txn: TxnId) -> Option<Outcome> {
        self.decided
            .get(&txn)
            .map(|d| outcome_of(d.commit, &d.reason))
    }

    /// Transactions still running (undecided).
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Decided transactions whose participants have not all acknowledged.
    pub fn unfinished(&self) -> usize {
        self.decided.values().filter(|d| !d.finished).count()
    }

    /// Start (or retry) `txn` writing `parts` (participant → its writes).
    /// A retry of a decided transaction just replies its outcome; a retry of
    /// a running one resends its messages.
    pub fn begin(
        &mut self,
        txn: TxnId,
        parts: Vec<(NodeId, Vec<O>)>,
        now_ms: i64,
    ) -> Vec<CoordAction<O>> {
        if let Some(d) = self.decided.get(&txn) {
            return vec![Action::Reply {
                txn,
                outcome: outcome_of(d.commit, &d.reason),
            }];
        }
        if parts.is_empty() {
            return vec![Action::Reply {
                txn,
                outcome: Outcome::Committed,
            }];
        }
        let mut merged: BTreeMap<NodeId, Vec<O>> = BTreeMap::new();
        for (p, ops) in parts {
            merged.entry(p).or_default().extend(ops);
        }
        let run = self.running.entry(txn).or_insert_with(|| Running {
            one_phase: merged.len() == 1,
            parts: merged,
            yes: BTreeSet::new(),
            started_ms: now_ms,
            last_send_ms: now_ms,
        });
        run.last_send_ms = now_ms;
        send_requests(&self.id, txn, run)
    }

    /// Handle a participant's message.
    pub fn on_message(&mut self, msg: Msg<O>, now_ms: i64) -> Vec<CoordAction<O>> {
        match msg {
            Msg::Vote {
                txn,
                from,
                yes,
                reason,
            } => {
                if let Some(d) = self.decided.get(&txn) {
                    return vec![decision_to(&self.id, from, txn, d.commit)];
                }
                let Some(run) = self.running.get_mut(&txn) else {
                    // Unknown: lost in a restart. Presume abort, durably.
                    return self.decide(
                        txn,
                        false,
                        "coordinator restarted".into(),
                        vec![from],
                        now_ms,
                    );
                };
                if run.one_phase || !run.parts.contains_key(&from) {
                    return vec![];
                }
                if !yes {
                    let parts = run.parts.keys().cloned().collect();
                    return self.decide(txn, false, reason, parts, now_ms);
                }
                run.yes.insert(from);
                if run.yes.len() == run.parts.len() {
                    let parts = run.parts.keys().cloned().collect();
                    return self.decide(txn, true, String::new(), parts, now_ms);
                }
                vec![]
            }
            Msg::Ack { txn, from } => {
                let Some(d) = self.decided.get_mut(&txn) else {
                    return vec![];
                };
                d.acked.insert(from);
                if !d.finished && d.participants.iter().all(|p| d.acked.contains(p)) {
                    d.finished = true;
                    return vec![Action::Persist(CoordRecord::Finished { txn })];
                }
                vec![]
            }
            Msg::Query { txn, from } => {
                if let Some(d) = self.decided.get(&txn) {
                    return vec![decision_to(&self.id, from, txn, d.commit)];
                }
                if self.running.get(&txn).is_some_and(|r| !r.one_phase) {
                    return vec![]; // still collecting votes: ask again later
                }
                self.decide(
                    txn,
                    false,
                    "coordinator restarted".into(),
                    vec![from],
                    now_ms,
                )
            }
            Msg::OnePhaseResult {
                txn,
                from: _,
                committed,
                reason,
            } => {
                // The participant's record decides; remember it for retries
                // (in memory: after a restart a retry asks the participant again).
                if self.running.remove(&txn).is_some() {
                    self.decided.insert(
                        txn,
                        Decided {
                            commit: committed,
                            reason: reason.clone(),
                            participants: vec![],
                            acked: BTreeSet::new(),
                            finished: true,
                            last_send_ms: now_ms,
                        },
                    );
                    return vec![Action::Reply {
                        txn,
                        outcome: outcome_of(committed, &reason),
                    }];
                }
                vec![]
            }
            Msg::Prepare { .. } | Msg::Decision { .. } | Msg::OnePhase { .. } => vec![],
        }
    }

    fn decide(
        &mut self,
        txn: TxnId,
        commit: bool,
        reason: String,
        participants: Vec<NodeId>,
        now_ms: i64,
    ) -> Vec<CoordAction<O>> {
        let was_running = self.running.remove(&txn).is_some();
        let mut out = vec![Action::Persist(CoordRecord::Decided {
            txn,
            commit,
            participants: participants.clone(),
            reason: reason.clone(),
        })];
        for p in &participants {
            out.push(decision_to(&self.id, p.clone(), txn, commit));
        }
        if was_running {
            out.push(Action::Reply {
                txn,
                outcome: outcome_of(commit, &reason),
            });
        }
        self.decided.insert(
            txn,
            Decided {
                commit,
                reason,
                participants,
                acked: BTreeSet::new(),
                finished: false,
                last_send_ms: now_ms,
            },
        );
        out
    }

    /// Time passed: abort transactions whose votes are overdue, resend
    /// requests and undelivered decisions.
    pub fn tick(&mut self, now_ms: i64) -> Vec<CoordAction<O>> {
        let mut out = Vec::new();
        let overdue: Vec<TxnId> = self
            .running
            .iter()
            .filter(|(_, r)| !r.one_phase && now_ms - r.started_ms >= self.vote_timeout_ms)
            .map(|(t, _)| *t)
            .collect();
        for txn in overdue {
            let parts = self.running[&txn].parts.keys().cloned().collect();
            out.extend(self.decide(txn, false, "votes timed out".into(), parts, now_ms));
        }
        for (txn, run) in self.running.iter_mut() {
            if now_ms - run.last_send_ms >= self.resend_ms {
                run.last_send_ms = now_ms;
                out.extend(send_requests(&self.id, *txn, run));
            }
        }
        for (txn, d) in self.decided.iter_mut() {
            if !d.finished && now_ms - d.last_send_ms >= self.resend_ms {
                d.last_send_ms = now_ms;
                for p in d.participants.iter().filter(|p| !d.acked.contains(*p)) {
                    out.push(decision_to(&self.id, p.clone(), *txn, d.commit));
                }
            }
        }
        out
    }
}

fn outcome_of(commit: bool, reason: &str) -> Outcome {
    if commit {
        Outcome::Committed
    } else {
        Outcome::Aborted(reason.to_string())
    }
}

fn decision_to<O>(me: &NodeId, to: NodeId, txn: TxnId, commit: bool) -> CoordAction<O> {
    Action::Send {
        to,
        msg: Msg::Decision {
            txn,
            coordinator: me.clone(),
            commit,
        },
    }
}

fn send_requests<O: Clone>(me: &NodeId, txn: TxnId, run: &Running<O>) -> Vec<CoordAction<O>> {
    run.parts
        .iter()
        .filter(|(p, _)| !run.yes.contains(*p))
        .map(|(p, ops)| Action::Send {
            to: p.clone(),
            msg: if run.one_phase {
                Msg::OnePhase {
                    txn,
                    coordinator: me.clone(),
                    ops: ops.clone(),
                }
            } else {
                Msg::Prepare {
                    txn,
                    coordinator: me.clone(),
                    ops: ops.clone(),
                }
            },
        })
        .collect()
}
