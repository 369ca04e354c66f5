//! QUORUM reads and writes of one key across replicas, as a per-operation
//! state machine (the ABD construction): both first ask a majority for
//! their newest version; a write then stores a newer version on a
//! majority, a read stores back the newest it saw on a majority before
//! answering. Under any partitions and crashes that keep replica state,
//! completed operations are linearizable.

use std::collections::BTreeSet;

/// A version's stamp: a counter, then the writer's id and the write's
/// operation id to break ties. Two different writes never share a stamp
/// (even two writes of one client whose first timed out half-stored).
pub type VersionStamp = (u64, u64, u64);

/// A replica's copy of one key: the newest stamp it accepted and its value.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Versioned<V> {
    /// `(0, 0, 0)` for a key never written.
    pub stamp: VersionStamp,
    /// `None` for a key never written (or deleted).
    pub value: Option<V>,
}

/// Messages between a quorum operation and the replicas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumMsg<V> {
    /// Operation → replica: send your version.
    Get {
        /// Operation id.
        op: u64,
    },
    /// Replica → operation: my version.
    GetReply {
        /// Operation id.
        op: u64,
        /// Replica index.
        from: usize,
        /// Its version.
        version: Versioned<V>,
    },
    /// Operation → replica: keep this version if it is newer than yours.
    Put {
        /// Operation id.
        op: u64,
        /// The version.
        version: Versioned<V>,
    },
    /// Replica → operation: stored (or already had something newer).
    PutAck {
        /// Operation id.
        op: u64,
        /// Replica index.
        from: usize,
    },
}

/// A replica's handling of quorum messages over its copy of the key.
pub fn replica_handle<V: Clone>(
    state: &mut Versioned<V>,
    me: usize,
    msg: QuorumMsg<V>,
) -> Option<QuorumMsg<V>> {
    match msg {
        QuorumMsg::Get { op } => Some(QuorumMsg::GetReply {
            op,
            from: me,
            version: state.clone(),
        }),
        QuorumMsg::Put { op, version } => {
            if version.stamp > state.stamp {
                *state = version;
            }
            Some(QuorumMsg::PutAck { op, from: me })
        }
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase<V> {
    Query,
    Store(Versioned<V>),
    Done(Option<V>),
}

/// One QUORUM read or write in flight.
#[derive(Clone, Debug)]
pub struct QuorumOp<V> {
    id: u64,
    writer: u64,
    replicas: usize,
    write: Option<Option<V>>,
    phase: Phase<V>,
    answered: BTreeSet<usize>,
    newest: Versioned<V>,
}

impl<V: Clone + PartialEq> QuorumOp<V> {
    /// A read over `replicas` replicas. Returns the op and the messages to
    /// send to every replica.
    pub fn read(id: u64, replicas: usize) -> (Self, QuorumMsg<V>) {
        Self::start(id, 0, replicas, None)
    }

    /// A write of `value` (`None` deletes) by writer `writer` (unique per
    /// client); `id` must be unique among the writer's operations.
    pub fn write(id: u64, writer: u64, replicas: usize, value: Option<V>) -> (Self, QuorumMsg<V>) {
        Self::start(id, writer, replicas, Some(value))
    }

    fn start(
        id: u64,
        writer: u64,
        replicas: usize,
        write: Option<Option<V>>,
    ) -> (Self, QuorumMsg<V>) {
        let op = QuorumOp {
            id,
            writer,
            replicas,
            write,
            phase: Phase::Query,
            answered: BTreeSet::new(),
            newest: Versioned {
                stamp: (0, 0, 0),
                value: None,
            },
        };
        (op, QuorumMsg::Get { op: id })
    }

    fn quorum(&self) -> usize {
        self.replicas / 2 + 1
    }

    /// The message to (re)send to every replica that has not answered the
    /// current phase (for retransmission after loss); `None` once done.
    pub fn pending_message(&self) -> Option<QuorumMsg<V>> {
        match &self.phase {
            Phase::Query => Some(QuorumMsg::Get { op: self.id }),
            Phase::Store(v) => Some(QuorumMsg::Put {
                op: self.id,
                version: v.clone(),
            }),
            Phase::Done(_) => None,
        }
    }

    /// Whether replica `i` still owes an answer to the current phase.
    pub fn waiting_for(&self, i: usize) -> bool {
        !matches!(self.phase, Phase::Done(_)) && !self.answered.contains(&i)
    }

    /// Feed a replica's reply. Returns a message to broadcast when the
    /// operation enters its store phase.
    pub fn on_reply(&mut self, msg: QuorumMsg<V>) -> Option<QuorumMsg<V>> {
        match (&self.phase, msg) {
            (Phase::Query, QuorumMsg::GetReply { op, from, version }) if op == self.id => {
                if !self.answered.insert(from) {
                    return None;
                }
                if version.stamp > self.newest.stamp {
                    self.newest = version;
                }
                if self.answered.len() >= self.quorum() {
                    let store = match &self.write {
                        Some(v) => Versioned {
                            stamp: (self.newest.stamp.0 + 1, self.writer, self.id),
                            value: v.clone(),
                        },
                        None => self.newest.clone(),
                    };
                    self.answered.clear();
                    self.phase = Phase::Store(store.clone());
                    return Some(QuorumMsg::Put {
                        op: self.id,
                        version: store,
                    });
                }
                None
            }
            (Phase::Store(v), QuorumMsg::PutAck { op, from }) if op == self.id => {
                let v = v.clone();
                self.answered.insert(from);
                if self.answered.len() >= self.quorum() {
                    self.phase = Phase::Done(if self.write.is_some() { None } else { v.value });
                }
                None
            }
            _ => None,
        }
    }

    /// The result once a majority stored: `Some(value read)` for a read
    /// (`Some(None)` = no value), `Some(None)` for a completed write.
    pub fn result(&self) -> Option<Option<V>> {
        match &self.phase {
            Phase::Done(v) => Some(v.clone()),
            _ => None,
        }
    }
}
