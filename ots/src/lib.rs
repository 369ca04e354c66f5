//! # tablesync-ots
//!
//! Alibaba Cloud Tablestore's wide-column wire protocol over a tablesync
//! region: protobuf requests (`POST /PutRow`, `/GetRange`, …), rows in
//! PlainBuffer, signed `x-ots-*` headers, errors as the service's `Error`
//! message. Point an official SDK's endpoint at the server and it runs
//! unchanged.
//!
//! # Quick start
//!
//! ```
//! use std::sync::{Arc, RwLock};
//! use tablesync::{Database, DatabaseOptions};
//! use tablesync_ots::{AccessKeys, Config, Server};
//!
//! let db = Arc::new(RwLock::new(Database::memory(DatabaseOptions::new("eu"))?));
//! let keys = AccessKeys::parse("my-key-id:my-key-secret\n").unwrap();
//! let server = Server::start(db, "127.0.0.1:0", Config::new("demo", keys)).unwrap();
//! // OTSClient(server.url(), "my-key-id", "my-key-secret", "demo") now works.
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! server.stop();
//! # Ok::<(), tablesync::Error>(())
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod convert;
pub mod error;
pub mod limits;
pub mod pb;
pub mod plainbuffer;
pub mod server;

pub use auth::AccessKeys;
pub use error::{OtsError, OtsResult};
pub use server::{Config, Server, ServerHandle};
