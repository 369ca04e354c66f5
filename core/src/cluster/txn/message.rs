//! Transaction ids, messages, durable records and actions of 2PC.

/// A transaction id, chosen by the client (unique per transaction; a retry
/// reuses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId(pub u128);

/// A node (region) id as the driver names it.
pub type NodeId = String;

/// One write of a transaction, as the participant sees it.
pub trait TxnOp: Clone + std::fmt::Debug {
    /// The encoded key it touches (locked while prepared).
    fn key(&self) -> &[u8];
}

/// A participant's read access to its data, to check conditions at prepare.
pub trait TxnStore<O> {
    /// `Err(reason)` when a condition of `ops` fails on the current data.
    fn check(&self, ops: &[O]) -> Result<(), String>;
}

/// A transaction's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Committed everywhere (or, while acks are outstanding, decided so).
    Committed,
    /// Aborted everywhere, with the reason.
    Aborted(String),
}

/// Messages between coordinator and participants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg<O> {
    /// Coordinator → participant: check and lock these writes.
    Prepare {
        /// The transaction.
        txn: TxnId,
        /// Who to answer.
        coordinator: NodeId,
        /// The participant's writes.
        ops: Vec<O>,
    },
    /// Participant → coordinator: prepared (`yes`) or refused.
    Vote {
        /// The transaction.
        txn: TxnId,
        /// The participant.
        from: NodeId,
        /// Prepared?
        yes: bool,
        /// Why not.
        reason: String,
    },
    /// Coordinator → participant: the decision.
    Decision {
        /// The transaction.
        txn: TxnId,
        /// Who to acknowledge.
        coordinator: NodeId,
        /// Commit (else abort).
        commit: bool,
    },
    /// Participant → coordinator: decision applied.
    Ack {
        /// The transaction.
        txn: TxnId,
        /// The participant.
        from: NodeId,
    },
    /// Participant → coordinator: what was decided? (in-doubt recovery)
    Query {
        /// The transaction.
        txn: TxnId,
        /// The participant.
        from: NodeId,
    },
    /// Coordinator → single participant: check and commit in one round.
    OnePhase {
        /// The transaction.
        txn: TxnId,
        /// Who to answer.
        coordinator: NodeId,
        /// The writes.
        ops: Vec<O>,
    },
    /// Participant → coordinator: the one-round outcome.
    OnePhaseResult {
        /// The transaction.
        txn: TxnId,
        /// The participant.
        from: NodeId,
        /// Committed (else aborted).
        committed: bool,
        /// Why it aborted.
        reason: String,
    },
}

/// What a coordinator records durably.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordRecord {
    /// The decision, before any participant hears it.
    Decided {
        /// The transaction.
        txn: TxnId,
        /// Commit (else abort).
        commit: bool,
        /// Who must acknowledge.
        participants: Vec<NodeId>,
        /// Why it aborted (empty on commit).
        reason: String,
    },
    /// Every participant acknowledged; stop resending.
    Finished {
        /// The transaction.
        txn: TxnId,
    },
}

/// What a participant records durably.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartRecord<O> {
    /// Prepared: the writes, locked until the decision.
    Prepared {
        /// The transaction.
        txn: TxnId,
        /// Who decides.
        coordinator: NodeId,
        /// The writes.
        ops: Vec<O>,
    },
    /// Committed (written by the driver together with the writes; see [`Action::Apply`]).
    Committed {
        /// The transaction.
        txn: TxnId,
    },
    /// Aborted.
    Aborted {
        /// The transaction.
        txn: TxnId,
        /// Why.
        reason: String,
    },
}

/// What the driver must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<O, R> {
    /// Make this record durable before running any later action.
    Persist(R),
    /// Send a message.
    Send {
        /// The recipient.
        to: NodeId,
        /// The message.
        msg: Msg<O>,
    },
    /// Apply `ops` and durably record `PartRecord::Committed { txn }`, both
    /// in one atomic step (participants only).
    Apply {
        /// The transaction.
        txn: TxnId,
        /// Its writes on this participant.
        ops: Vec<O>,
    },
    /// Answer the client (coordinators only).
    Reply {
        /// The transaction.
        txn: TxnId,
        /// Its outcome.
        outcome: Outcome,
    },
}
