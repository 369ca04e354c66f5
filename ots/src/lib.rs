//! # tablesync-ots
//!
//! Alibaba Cloud Tablestore's wide-column wire protocol over a tablesync
//! region: protobuf requests (`POST /PutRow`, `/GetRange`, …), rows in
//! PlainBuffer, signed `x-ots-*` headers, errors as the service's `Error`
//! message. Point an official SDK's endpoint at the server and it runs
//! unchanged.
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod convert;
pub mod error;
pub mod pb;
pub mod plainbuffer;
pub mod server;

pub use auth::AccessKeys;
pub use error::{OtsError, OtsResult};
pub use server::{Config, Server, ServerHandle};
