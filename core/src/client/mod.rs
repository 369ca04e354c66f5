//! The public façade: [`Database`], its options and request/response types.

pub mod backup;
pub mod changes;
pub mod checkpoint_delta;
pub mod copy;
pub mod database;
pub mod delta_background;
mod delta_capture;
pub mod digest;
pub mod fold;
mod fold_bytes;
mod full_capture;
#[cfg(feature = "fs")]
pub mod offline;
pub mod options;
pub mod paged;
pub mod purge;
pub mod read;
pub mod region_read;
pub mod remote_checks;
pub mod scan_cursor;
pub mod snapshot;
pub mod snapshot_delta;
mod sync_store;
pub mod types;
pub mod view;
pub mod write;

pub use database::Database;
pub use options::DatabaseOptions;
pub use region_read::RegionRead;
pub use view::ReadView;
