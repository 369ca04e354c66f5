//! What a server that hosts replication links and group membership adds to
//! the routes: `GET /v1/links`, link and peer lines in `/metrics`, the
//! group routes (`POST /v1/group/{heartbeat,failover,failback}`) and the
//! epoch check of `X-Tablesync-Epoch` on writes. The host itself (links,
//! heartbeats, the epoch fence) lives with the caller (`tablesync serve`):
//! this crate only routes to it.

use serde_json::Value as J;
use std::fmt;
use std::sync::Arc;
use tablesync::Result;

/// The request header carrying the epoch a writer believes in.
pub const EPOCH_HEADER: &str = "X-Tablesync-Epoch";

/// A server's replication host. Every method may block (it runs on the
/// blocking pool) and must answer bad input with a typed error.
pub trait LinkHost: Send + Sync {
    /// The `GET /v1/links` document (docs/SERVER.md "Links").
    fn links(&self) -> J;
    /// Extra Prometheus text lines (`# TYPE` lines and samples) appended to
    /// `/metrics`, without the final `# EOF`.
    fn metrics(&self) -> String;
    /// A heartbeat from a peer (JSON in, JSON out).
    fn heartbeat(&self, body: &J) -> Result<J>;
    /// Make this region the write-primary under a new epoch.
    fn failover(&self, body: &J) -> Result<J>;
    /// Resync with the current primary until digests match, then promote.
    fn failback(&self, body: &J) -> Result<J>;
    /// Refuse (`StaleEpoch`) a write that carries another epoch than the
    /// region's.
    fn check_epoch(&self, epoch: u64) -> Result<()>;
    /// Refuse (`StaleEpoch`) peer records (a sync or a replication push)
    /// sent under an epoch older than the region's: a fenced old primary
    /// that has not learnt the new epoch. A newer epoch passes (the region
    /// learns it from the group). By default, the row-write check.
    fn check_peer_epoch(&self, epoch: u64) -> Result<()> {
        self.check_epoch(epoch)
    }
    /// Refuse (`StaleEpoch`) peer records that carry no `X-Tablesync-Epoch`
    /// at all once this region belongs to a group (has an epoch): every
    /// link client of a member stamps its epoch, so an unstamped frame
    /// comes from outside the group or from a client too old to be fenced.
    /// By default, nothing is refused.
    fn check_peer_unstamped(&self) -> Result<()> {
        Ok(())
    }
}

/// A shared [`LinkHost`] in a [`ServerConfig`](crate::ServerConfig).
#[derive(Clone)]
pub struct Hosting(pub Arc<dyn LinkHost>);

impl fmt::Debug for Hosting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hosting(..)")
    }
}
