//! HTTP transport for tablesync sync sessions (native only).
//!
//! The server hosts one region: `POST /v1/sync` takes a request frame and
//! answers with a reply frame (`application/octet-stream`), with
//! `Authorization: Bearer TOKEN` required and the body size bounded. The
//! client runs an [`Initiator`](tablesync::sync::Initiator) against such a
//! server. Both only carry bytes; the protocol is the core's.

#![warn(missing_docs)]

mod client;
mod server;

pub use client::{sync_url, HttpRemote};
pub use server::{serve, ServerConfig, ServerHandle};

/// The path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// Response header carrying an error code.
pub const ERROR_CODE_HEADER: &str = "X-Tablesync-Error";
