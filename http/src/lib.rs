//! HTTP(S) transport for tablesync (native only): a region server on
//! axum/hyper/tokio with rustls, and a blocking client.
//!
//! The server hosts one region:
//! - `POST /v1/sync` takes a sync request frame and answers with a reply
//!   frame (`application/octet-stream`);
//! - `POST /v1/replicate` takes a replication record push and answers with
//!   its ack (the one-frame path of realtime and delayed links);
//! - `POST /v1/row/{get,put,update,delete,range,batch}` run row operations
//!   at the region (JSON; conditions checked under the write lock);
//! - `GET /v1/changes` is the change feed (long poll or Server-Sent Events);
//! - `GET /v1/snapshot` is the whole region at one point (FORMAT.md §11),
//!   what `tablesync backup create URL REPO` backs up;
//! - `GET /healthz`, `GET /readyz` and `GET /metrics` (Prometheus text);
//! - `GET /` is the dashboard page; `GET /v1/links` and `POST /v1/group/…`
//!   answer when the server hosts links ([`ServerConfig::hosting`]).
//!
//! Every route but the health checks needs `Authorization: Bearer TOKEN`,
//! checked before the body is read. docs/SERVER.md describes the limits,
//! timeouts, shutdown and concurrency design.

#![warn(missing_docs)]

mod auth;
mod client;
pub mod cluster;
mod config;
mod dashboard;
mod digest_age;
mod fold;
mod hosting;
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
pub use fold::BackgroundFolds;
pub use hosting::{Hosting, LinkHost, EPOCH_HEADER};
pub use region::{Refusal, Region, SharedDb};
pub use rows_client::{Changes, RowClient};
pub use server::{serve, ServerHandle, Stopper};

/// The path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// The path of the replication record-push endpoint (`TSRP` in, `TSRA` out).
pub const REPLICATE_PATH: &str = "/v1/replicate";
/// The path of the consistent whole-region snapshot (`GET`, FORMAT.md §11).
pub const SNAPSHOT_PATH: &str = "/v1/snapshot";
/// Response header carrying an error code.
pub const ERROR_CODE_HEADER: &str = "X-Tablesync-Error";
