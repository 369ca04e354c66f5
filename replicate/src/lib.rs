//! Native drivers for tablesync replication links.
//!
//! [`LinkHandle::spawn`] runs one [`tablesync::replication::Link`] on a
//! background thread: it watches the source region for commits (its log
//! cursor), ticks the link on the region's clock, and carries its frames to
//! the peer — another region in this process ([`Peer::Local`], answered by
//! [`tablesync::replication::respond`]) or a `tablesync serve` server
//! ([`Peer::Http`]: sync frames go to `POST /v1/sync`, record pushes — the
//! one-frame path of realtime and delayed links — to `POST /v1/replicate`).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use tablesync::replication::{LinkConfig, Trigger};
//! use tablesync::*;
//! use tablesync_replicate::{DriverOptions, LinkHandle, Peer};
//!
//! let schema = TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)]);
//! let a = Arc::new(Mutex::new(Database::memory(DatabaseOptions::new("a"))?));
//! let b = Arc::new(Mutex::new(Database::memory(DatabaseOptions::new("b"))?));
//! a.lock().unwrap().create_table(schema.clone())?;
//! b.lock().unwrap().create_table(schema)?;
//! let link = LinkHandle::spawn(a.clone(), Peer::Local(b.clone()),
//!                              LinkConfig::new("ab", "b").trigger(Trigger::Realtime),
//!                              DriverOptions::default())?;
//! a.lock().unwrap().put_row("t", PrimaryKey::new([("k", 1)]), vec![Column::new("v", 1)],
//!                           Condition::ignore())?;
//! link.wait_idle(std::time::Duration::from_secs(5));
//! assert_eq!(a.lock().unwrap().table_digest("t")?, b.lock().unwrap().table_digest("t")?);
//! link.stop()?;
//! # Ok::<(), tablesync::Error>(())
//! ```
#![warn(missing_docs)]

mod driver;
pub mod host;

pub use driver::{DriverOptions, LinkHandle, Peer, Sample};
pub use host::{Host, HostOptions, PeerSpec};
