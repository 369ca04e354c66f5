//! Two-phase commit across partitions, sans-IO.
//!
//! A [`Coordinator`] runs each transaction: one participant → one round
//! (`OnePhase`, the participant's own record decides); several → `Prepare`
//! (conditions checked, rows locked, a durable prepared record), then a
//! durable decision record at the coordinator, then `Commit`/`Abort` until
//! every participant acknowledges. A [`Participant`] left prepared asks the
//! coordinator (`Query`); a coordinator that has no record of a transaction
//! it is not running decides abort (presumed abort) and records that, so
//! it can never commit it later. A transaction id is decided once: a retry
//! gets the recorded outcome, so client retries are exactly-once.
//!
//! Both sides return [`Action`]s that the driver must carry out in order:
//! a [`Action::Persist`] must be durable before any later action runs, and
//! an [`Action::Apply`] must apply the writes and record the commit in one
//! atomic durable step.

pub mod coordinator;
pub mod message;
pub mod participant;

pub use coordinator::Coordinator;
pub use message::{Action, CoordRecord, Msg, NodeId, Outcome, PartRecord, TxnId, TxnOp, TxnStore};
pub use participant::Participant;
