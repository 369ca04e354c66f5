//! HTTP(S) transport for tablesync (native only): a region server on
//! axum/hyper/tokio with rustls, and a blocking client.
//!
//! The server hosts one region:
//! - `POST /v1/sync` takes a sync request frame and answers with a reply
//!   frame (`application/octet-stream`);
//! - `POST /v1/row/{get,put,update,delete,range,batch}` run row operations
//!   at the region (JSON; conditions checked under the write lock);
//! - `GET /v1/changes` is the change feed (long poll or Server-Sent Events);
//! - `GET /healthz`, `GET /readyz` and `GET /metrics` (Prometheus text).
//!
//! Every route but the health checks needs `Authorization: Bearer TOKEN`,
//! checked before the body is read. docs/SERVER.md describes the limits,
//! timeouts, shutdown and concurrency design.

#![warn(missing_docs)]

mod auth;
mod client;
mod config;
/// The JSON forms of values, keys, rows and conditions (public for the fuzz targets).
#[doc(hidden)]
pub mod json;
mod metrics;
mod region;
mod routes;
mod rows_client;
mod server;
mod timed_io;
mod tls;

pub use client::{sync_url, ClientOptions, HttpRemote};
pub use config::{Access, FaultHook, ServerConfig, TlsFiles};
pub use region::SharedDb;
pub use rows_client::{Changes, RowClient};
pub use server::{serve, ServerHandle, Stopper};

/// The path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// Response header carrying an error code.
pub const ERROR_CODE_HEADER: &str = "X-Tablesync-Error";
