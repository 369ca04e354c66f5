//! Stable names of the cluster wire's message and 2PC record kinds (the
//! names the golden vectors use), so every binding names them the same.

use super::txn::{CoordRecord, Msg, Outcome, PartRecord};
use super::wire::{ClusterMsg, TxnRecord};

impl ClusterMsg {
    /// The name of this message's kind, as in `tests/vectors/cluster_wire.json`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ClusterMsg::Txn(t) => match t {
                Msg::Prepare { .. } => "prepare",
                Msg::Vote { .. } => "vote",
                Msg::Decision { .. } => "decision",
                Msg::Ack { .. } => "ack",
                Msg::Query { .. } => "query",
                Msg::OnePhase { .. } => "one_phase",
                Msg::OnePhaseResult { .. } => "one_phase_result",
            },
            ClusterMsg::Begin { .. } => "begin",
            ClusterMsg::Outcome { outcome, .. } => match outcome {
                Outcome::Committed => "outcome_committed",
                Outcome::Aborted(_) => "outcome_aborted",
            },
            ClusterMsg::MapGet => "map_get",
            ClusterMsg::Map(_) => "map",
            ClusterMsg::Write { .. } => "write",
            ClusterMsg::Written { .. } => "written",
            ClusterMsg::Apply { .. } => "apply",
            ClusterMsg::Applied { .. } => "applied",
            ClusterMsg::Get { .. } => "get",
            ClusterMsg::Range { .. } => "range",
            ClusterMsg::Rows { .. } => "rows",
            ClusterMsg::Move(_) => "move",
        }
    }
}

impl TxnRecord {
    /// The name of this 2PC record's kind, as in the golden vectors.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TxnRecord::Coord(CoordRecord::Decided { .. }) => "decided",
            TxnRecord::Coord(CoordRecord::Finished { .. }) => "finished",
            TxnRecord::Part(PartRecord::Prepared { .. }) => "prepared",
            TxnRecord::Part(PartRecord::Committed { .. }) => "committed",
            TxnRecord::Part(PartRecord::Aborted { .. }) => "aborted",
        }
    }
}
