//! The 2PC participant: prepares (conditions + row locks + a durable
//! record), applies or drops on the decision, asks the coordinator when a
//! decision is overdue.

use super::message::{Action, Msg, NodeId, PartRecord, TxnId, TxnOp, TxnStore};
use std::collections::BTreeMap;

/// Actions of a participant.
pub type PartAction<O> = Action<O, PartRecord<O>>;

#[derive(Clone, Debug)]
struct Prepared<O> {
    coordinator: NodeId,
    ops: Vec<O>,
    since_ms: i64,
    last_query_ms: i64,
}

/// A participant (one region holding some of a transaction's partitions).
#[derive(Clone, Debug)]
pub struct Participant<O> {
    id: NodeId,
    prepared: BTreeMap<TxnId, Prepared<O>>,
    locks: BTreeMap<Vec<u8>, TxnId>,
    done: BTreeMap<TxnId, bool>,
    /// A prepared transaction asks its coordinator after this long, and
    /// again every such period until it hears the decision.
    pub query_after_ms: i64,
}

impl<O: TxnOp> Participant<O> {
    /// A participant named `id`, recovering from its durable `records`:
    /// prepared transactions are locked again and stay in doubt until the
    /// coordinator answers.
    pub fn recover(id: impl Into<NodeId>, records: &[PartRecord<O>], now_ms: i64) -> Self {
        let mut p = Participant {
            id: id.into(),
            prepared: BTreeMap::new(),
            locks: BTreeMap::new(),
            done: BTreeMap::new(),
            query_after_ms: 300,
        };
        for r in records {
            match r {
                PartRecord::Prepared {
                    txn,
                    coordinator,
                    ops,
                } => {
                    if !p.done.contains_key(txn) {
                        p.lock(*txn, ops);
                        p.prepared.insert(
                            *txn,
                            Prepared {
                                coordinator: coordinator.clone(),
                                ops: ops.clone(),
                                since_ms: now_ms,
                                last_query_ms: i64::MIN / 2,
                            },
                        );
                    }
                }
                PartRecord::Committed { txn } => p.finish(*txn, true),
                PartRecord::Aborted { txn, .. } => p.finish(*txn, false),
            }
        }
        p
    }

    /// Transactions prepared and not yet decided here (in doubt).
    pub fn in_doubt(&self) -> Vec<TxnId> {
        self.prepared.keys().copied().collect()
    }

    /// Keys locked by prepared transactions.
    pub fn locked_keys(&self) -> usize {
        self.locks.len()
    }

    /// The keys locked by prepared transactions (each op's `TxnOp::key`).
    pub fn locked(&self) -> impl Iterator<Item = &[u8]> {
        self.locks.keys().map(Vec::as_slice)
    }

    /// Whether a prepared transaction holds a lock on `key`.
    pub fn is_locked(&self, key: &[u8]) -> bool {
        self.locks.contains_key(key)
    }

    /// Whether `txn` committed here (`Some(false)`: aborted).
    pub fn decided(&self, txn: TxnId) -> Option<bool> {
        self.done.get(&txn).copied()
    }

    fn lock(&mut self, txn: TxnId, ops: &[O]) {
        for o in ops {
            self.locks.insert(o.key().to_vec(), txn);
        }
    }

    fn finish(&mut self, txn: TxnId, committed: bool) {
        if let Some(p) = self.prepared.remove(&txn) {
            for o in &p.ops {
                if self.locks.get(o.key()) == Some(&txn) {
                    self.locks.remove(o.key());
                }
            }
        }
        self.done.insert(txn, committed);
    }

    fn conflict(&self, txn: TxnId, ops: &[O]) -> Option<String> {
        ops.iter()
            .find_map(|o| self.locks.get(o.key()).filter(|t| **t != txn))
            .map(|t| format!("row locked by transaction {:032x}", t.0))
    }

    fn send(to: &NodeId, msg: Msg<O>) -> PartAction<O> {
        Action::Send {
            to: to.clone(),
            msg,
        }
    }

    /// Handle a coordinator's message; `store` checks conditions.
    pub fn on_message(
        &mut self,
        msg: Msg<O>,
        store: &dyn TxnStore<O>,
        now_ms: i64,
    ) -> Vec<PartAction<O>> {
        let me = self.id.clone();
        match msg {
            Msg::Prepare {
                txn,
                coordinator,
                ops,
            } => {
                let vote = |yes: bool, reason: String| {
                    Self::send(
                        &coordinator,
                        Msg::Vote {
                            txn,
                            from: me.clone(),
                            yes,
                            reason,
                        },
                    )
                };
                if let Some(c) = self.done.get(&txn) {
                    return vec![vote(*c, if *c { String::new() } else { "aborted".into() })];
                }
                if self.prepared.contains_key(&txn) {
                    return vec![vote(true, String::new())];
                }
                if let Some(why) = self.conflict(txn, &ops) {
                    return vec![vote(false, why)];
                }
                if let Err(why) = store.check(&ops) {
                    return vec![vote(false, why)];
                }
                self.lock(txn, &ops);
                self.prepared.insert(
                    txn,
                    Prepared {
                        coordinator: coordinator.clone(),
                        ops: ops.clone(),
                        since_ms: now_ms,
                        last_query_ms: now_ms,
                    },
                );
                vec![
                    Action::Persist(PartRecord::Prepared {
                        txn,
                        coordinator: coordinator.clone(),
                        ops,
                    }),
                    vote(true, String::new()),
                ]
            }
            Msg::Decision {
                txn,
                coordinator,
                commit,
            } => {
                let mut out = Vec::new();
                match self.prepared.get(&txn) {
                    Some(p) => {
                        if commit {
                            out.push(Action::Apply {
                                txn,
                                ops: p.ops.clone(),
                            });
                        } else {
                            out.push(Action::Persist(PartRecord::Aborted {
                                txn,
                                reason: "coordinator aborted".into(),
                            }));
                        }
                        self.finish(txn, commit);
                    }
                    None => {
                        if !commit && !self.done.contains_key(&txn) {
                            // Never prepared here: remember, so a late Prepare is refused.
                            self.done.insert(txn, false);
                        }
                    }
                }
                // Acknowledge (also a repeated decision: the earlier ack may be lost).
                out.push(Self::send(&coordinator, Msg::Ack { txn, from: me }));
                out
            }
            Msg::OnePhase {
                txn,
                coordinator,
                ops,
            } => {
                let result = |committed: bool, reason: String| {
                    Self::send(
                        &coordinator,
                        Msg::OnePhaseResult {
                            txn,
                            from: me.clone(),
                            committed,
                            reason,
                        },
                    )
                };
                if let Some(c) = self.done.get(&txn) {
                    return vec![result(
                        *c,
                        if *c { String::new() } else { "aborted".into() },
                    )];
                }
                let why = self.conflict(txn, &ops).or_else(|| store.check(&ops).err());
                if let Some(why) = why {
                    self.done.insert(txn, false);
                    return vec![
                        Action::Persist(PartRecord::Aborted {
                            txn,
                            reason: why.clone(),
                        }),
                        result(false, why),
                    ];
                }
                self.done.insert(txn, true);
                vec![Action::Apply { txn, ops }, result(true, String::new())]
            }
            Msg::Vote { .. } | Msg::Ack { .. } | Msg::Query { .. } | Msg::OnePhaseResult { .. } => {
                vec![]
            }
        }
    }

    /// Time passed: ask the coordinator about overdue in-doubt transactions.
    pub fn tick(&mut self, now_ms: i64) -> Vec<PartAction<O>> {
        let mut out = Vec::new();
        for (txn, p) in self.prepared.iter_mut() {
            if now_ms - p.since_ms >= self.query_after_ms
                && now_ms - p.last_query_ms >= self.query_after_ms
            {
                p.last_query_ms = now_ms;
                out.push(Action::Send {
                    to: p.coordinator.clone(),
                    msg: Msg::Query {
                        txn: *txn,
                        from: self.id.clone(),
                    },
                });
            }
        }
        out
    }
}
