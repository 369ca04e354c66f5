//! What a link reports about itself.

use super::config::LinkState;

/// A link's status at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// Link name.
    pub name: String,
    /// Peer region.
    pub peer: String,
    /// `push`, `pull` or `both`.
    pub direction: String,
    /// Trigger as a string (`realtime`, `delayed:…`, `periodic:…`, `manual`).
    pub trigger: String,
    /// Lifecycle state.
    pub state: LinkState,
    /// Whether a session or batch is in flight.
    pub in_flight: bool,
    /// Local clock time (ms) when the last session or batch succeeded.
    pub last_success_ms: Option<i64>,
    /// The last failure, if the link has not succeeded since.
    pub last_error: Option<String>,
    /// Change records the peer (pushed) or this region (pulled) newly
    /// applied over the link's life, each counted once; rows a reconcile
    /// moved are not counted (their bytes are).
    pub records_shipped: u64,
    /// Bytes on the wire (sent + received) over the link's life.
    pub bytes_shipped: u64,
    /// Sessions (or batches) that succeeded.
    pub sessions_ok: u64,
    /// Sessions (or batches) that failed or timed out.
    pub sessions_failed: u64,
    /// Local records (selected tables, not from the peer) the peer is not
    /// yet known to hold; exact up to 8,192 unshipped records, beyond that
    /// every later record is counted (an upper bound). Pull-only links report 0.
    pub pending: u64,
    /// Age (ms) of the oldest committed-but-unapplied record: for links that
    /// push, the oldest pending record's commit time (HLC) to now; for
    /// pull-only links, the time since the last successful session began
    /// (an upper bound: what the peer committed since then may be missing).
    pub lag_ms: i64,
    /// Recovery-point estimate (ms): the writes a loss of the local region
    /// now would lose at most — `max(lag_ms, trigger window)` where the window
    /// is the period (periodic) or delay (delayed), 0 for realtime; `None`
    /// for a manual link with pending records (unbounded until triggered).
    pub rpo_ms: Option<i64>,
}
