//! WebAssembly bindings of tablesync: the npm package `tablesync`.
//!
//! This crate only converts: JS values to core types and back, core errors
//! to JS errors, JS callbacks to core hooks. The public JS API (`Database`,
//! `SyncSession`, `respond`, `syncOverHttp`, `TablesyncError`, `double`,
//! `INF_MIN` …) is the package's JS layer (`js/api.mjs`) over the
//! `RawDatabase` and `RawSyncSession` classes exported here; its types are
//! the hand-written `js/tablesync.d.ts`. Sync sessions take their ids from
//! the host's randomness and do no I/O here: `syncOverHttp`'s fetch lives
//! in the JS layer.
#![warn(missing_docs)]

pub mod backup;
pub mod clock;
pub mod cluster;
pub mod cluster_range;
pub mod cluster_wire;
pub mod condition;
pub mod database;
pub mod error;
pub mod js;
pub mod key;
pub mod link;
pub mod memcmp;
pub mod options;
pub mod panic;
pub mod record;
pub mod row;
pub mod rows;
pub mod rows_wire;
pub mod scan;
pub mod schema;
pub mod session;
pub mod sync;
pub mod sync_options;
pub mod sync_regions;
pub mod sync_report;
pub mod value;
pub mod wire;
pub mod wire_in;
pub mod wire_out;

pub use cluster::RawCluster;
pub use cluster_range::RawClusterRange;
pub use database::RawDatabase;
pub use link::RawLink;
pub use session::RawSyncSession;
