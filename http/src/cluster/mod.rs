//! The cluster over HTTP (docs/CLUSTER.md, "Over the network"): the
//! region side of `tablesync serve` (stored map, 2PC coordinator and
//! participant with durable records, home writes, forwarding to replicas,
//! status) and the blocking [`Cluster`] client driver.

mod apply;
mod driver;
pub mod metrics;
mod moves;
mod node;
mod peer;
mod routes;
mod txn_log;

pub use driver::{BatchOutcome, Cluster, ClusterOptions, WriteOptions, WriteResult};
pub use node::{ClusterConfig, ClusterNode};
pub use peer::{CallError, DelayFn, Peers, CLUSTER_MSG_PATH, CLUSTER_STATUS_PATH};
pub(crate) use routes::routes;
pub use txn_log::{collect as collect_txn_records, TXN_LOG};
