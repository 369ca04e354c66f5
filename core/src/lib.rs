//! # tablesync
//!
//! Wide-column tables with Alibaba Cloud Tablestore's data model (typed
//! primary keys, versioned attribute columns, conditions, filters, ranges),
//! a change log whose records merge in any order to the same state, SHA-256
//! table digests kept up to date on every write, and durable embedded
//! storage (feature `fs`). The same core backs the Python and JS packages.
//!
//! # Quick start
//!
//! ```
//! use tablesync::{Column, Condition, Database, DatabaseOptions, GetOptions, ManualClock,
//!                 PkColumn, PkType, PrimaryKey, TableSchema, Value};
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new(1_700_000_000_000));
//! let mut db = Database::memory(DatabaseOptions::with_clock("eu", clock))?;
//! db.create_table(TableSchema::new("users", vec![PkColumn::new("uid", PkType::Integer)]))?;
//! db.put_row("users", PrimaryKey::new([("uid", 1)]),
//!            vec![Column::new("name", "Ada"), Column::new("age", 36)], Condition::ignore())?;
//! let row = db.get_row("users", &PrimaryKey::new([("uid", 1)]), &GetOptions::default())?.unwrap();
//! assert_eq!(row.get("name"), Some(&Value::from("Ada")));
//!
//! // Another region merges the change log and ends with the same digest.
//! let clock_b = Arc::new(ManualClock::new(1_700_000_000_000));
//! let mut other = Database::memory(DatabaseOptions::with_clock("us", clock_b))?;
//! other.create_table(TableSchema::new("users", vec![PkColumn::new("uid", PkType::Integer)]))?;
//! other.apply_changes(&db.changes_since(0, 1000)?.records)?;
//! assert_eq!(other.table_digest("users")?, db.table_digest("users")?);
//! # Ok::<(), tablesync::Error>(())
//! ```
#![warn(missing_docs)]

pub mod backup;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod codec;
pub mod digest;
pub mod engine;
pub mod log;
pub mod model;
pub mod replication;
pub mod storage;
pub mod sync;
pub mod table;

pub use client::changes::ApplyStats;
pub use client::database::WriteGuard;
pub use client::delta_background::{DeltaCheckpoint, DeltaDone};
pub use client::digest::RangeDigest;
pub use client::fold::{Fold, FoldDone};
pub use client::options::DatabaseOptions;
pub use client::paged::PagedStats;
pub use client::read::Scan;
pub use client::region_read::{RegionRead, TableRead};
pub use client::remote_checks::Health;
pub use client::scan_cursor::ScanCursor;
pub use client::types::*;
pub use client::view::ReadView;
pub use client::Database;
#[cfg(feature = "fs")]
pub use clock::SystemClock;
pub use clock::{Clock, FnClock, ManualClock};
pub use digest::Digest;
pub use log::hlc::Stamp;
pub use log::record::{ChangeKind, ChangeRecord, ColumnOp};
pub use log::version_vector::VersionVector;
pub use log::{ChangePage, Retention};
pub use model::condition::{ColumnCondition, CompareOp, Condition, RowExistence};
pub use model::error::{Error, ErrorClass, Result};
pub use model::primary_key::{PkBound, PkType, PkValue, PrimaryKey, RangeBound};
pub use model::schema::{PkColumn, TableOptions, TableSchema};
pub use model::value::{Value, ValueType};
pub use storage::SyncPolicy;
pub use storage::DEFAULT_CACHE_BYTES;

/// The README's quick start, run by `cargo test --doc`.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
mod readme_doctest {}
