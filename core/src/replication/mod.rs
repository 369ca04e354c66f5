//! Replication, sans-IO: links that keep a peer up to date on a trigger,
//! failure detection, and a region group with epochs for failover.
//!
//! - [`Link`]: a source/peer pair, a direction (push, pull, both), a table
//!   selection and a [`Trigger`] (`realtime`, `delayed:D`, `periodic:P`,
//!   `manual`), with `start / pause / resume / stop`, persisted state
//!   ([`Link::encode_state`]) and a [`LinkStatus`] (lag, pending, RPO).
//!   Sessions are `auto` sync (incremental, reconcile when retention
//!   truncated the log), so a link paused past retention still converges;
//!   `delayed` links ship chosen records with a record push
//!   ([`push_frame`]) that the peer answers with [`respond`].
//! - [`FailureDetector`]: phi-accrual over heartbeats plus error counts;
//!   each peer `up`, `suspect` or `down`.
//! - [`GroupNode`]: one write-primary per epoch, fenced by leases and
//!   votes; its [`Fence`] is the region's [`WriteGuard`](crate::client::database::WriteGuard),
//!   so a region that is not the primary of the current epoch refuses
//!   writes with `StaleEpoch`. Manual promotion ([`GroupNode::promote`]) is
//!   failover and failback; a former primary must resync first.
//!
//! Nothing here reads a clock or does I/O: drivers pass the local time and
//! carry the bytes (see `tablesync::replication` drivers in the CLI, the
//! simulation in `core/tests/replication_simulation.rs`).

mod config;
pub mod cron;
pub mod detector;
mod fence;
mod group;
pub mod group_msg;
mod group_state;
mod link;
pub mod push_frame;
mod respond;
mod rng;
mod state;
mod status;
mod trigger;

pub use config::{LinkConfig, LinkState};
pub use detector::{DetectorConfig, FailureDetector, PeerHealth, PeerView, PhiAccrual};
pub use fence::Fence;
pub use group::{GroupAction, GroupConfig, GroupNode, GroupRegion, GroupStatus, Role};
pub use group_msg::{fresher, GroupMsg, Handover, Vector, MAX_HANDOVERS};
pub use group_state::{GroupState, LostRange};
pub use link::{Link, LinkAction, CATCHUP_EVERY_MS, CATCHUP_MAX_DEFER_MS};
pub use respond::respond;
pub use rng::SplitMix;
#[cfg(feature = "fs")]
pub use state::files;
pub use state::MAGIC_LINK;
pub use status::LinkStatus;
pub use trigger::{parse_duration_ms, Trigger};
