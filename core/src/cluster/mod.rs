//! The multi-datacenter cluster, sans-IO (docs/CLUSTER.md).
//!
//! - [`map`]: datacenters, regions, per-table placement (hash by rendezvous,
//!   or ordered ranges), replication factor and write mode, under an epoch;
//!   [`map_codec`] gives its bytes (FORMAT.md §16).
//! - [`route`]: key → partition → replicas (home first), ranges → sub-ranges;
//!   [`merge`] merges per-partition pages back in key order.
//! - [`mode`], [`ack`], [`semisync`]: write modes and consistency levels as a
//!   per-request state machine; semi-sync degradation and recovery.
//! - [`balance`]: EWMA latency-weighted replica choice with locality.
//! - [`quorum`]: QUORUM reads and writes of one key (newest wins, written back).
//! - [`txn`]: two-phase commit coordinator and participant.
//! - [`digest`]: per-partition digests of a table (hash buckets too).
//! - [`client`]: a cluster client's routing and protocol state (what the
//!   Rust, Python and JS drivers embed).
//! - [`map_change`]: moving partitions between regions under a new epoch
//!   without two writable homes.
//! - [`rebalance`]: map changes that move data (`add-dc`, `remove-dc`,
//!   `split`, `move` online): copy, install, catch up, release;
//!   [`move_wire`] gives its message bytes.
//!
//! Nothing here does I/O: messages and the clock come in, messages and
//! "persist this" actions go out.

pub mod ack;
pub mod balance;
pub mod client;
pub mod digest;
pub mod hash;
pub mod map;
pub mod map_change;
pub mod map_codec;
pub mod merge;
pub mod mode;
mod move_rows;
pub mod move_wire;
pub mod quorum;
pub mod rebalance;
mod record_row;
pub mod route;
mod row_write;
pub mod semisync;
pub mod txn;
pub mod wire;
mod wire_kind;

pub use map::{
    ClusterMap, Datacenter, EpochCheck, Placement, RangePartition, RegionEndpoint, TablePlacement,
};
pub use mode::{Consistency, ReadLevel, WriteMode};
pub use record_row::record_row;
pub use route::{Replica, Route, SubRange};
