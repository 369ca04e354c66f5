//! Checks on what other regions send, run before anything touches state:
//! clock drift of remote stamps, claims on sequence numbers, and whole row
//! states (names, sizes, timestamps, stamps). A refusal changes nothing.

use super::database::Database;
use crate::codec::row_state::decode_row_state;
use crate::engine::write::check_cell_size;
use crate::log::hlc::hlc_millis;
use crate::model::error::{Error, Result};
use crate::model::schema::{validate_name, TableSchema};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest origin sequence number accepted from a peer (`i64::MAX`, so
/// every binding holds it exactly as a signed 64-bit integer).
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// Default [`DatabaseOptions::max_clock_drift_ms`](crate::DatabaseOptions::max_clock_drift_ms): 60 s.
pub const DEFAULT_MAX_CLOCK_DRIFT_MS: i64 = 60_000;

/// Counters of refusals and background failures, read through
/// [`Database::health`].
#[derive(Debug, Default)]
pub(crate) struct HealthCounters {
    pub clock_drift_refusals: AtomicU64,
    pub peer_violations: AtomicU64,
    pub background_failures: AtomicU64,
    pub last_background_error: std::sync::Mutex<Option<String>>,
}

/// What went wrong without failing a call: refusals of peer input and
/// failures of background work (automatic checkpoints, retention).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Remote stamps refused for lying too far in the future.
    pub clock_drift_refusals: u64,
    /// Sync requests or replies refused as malformed or against the protocol.
    pub peer_violations: u64,
    /// Automatic checkpoints or retention steps that failed after a commit
    /// (the commit itself was durable and reported as such).
    pub background_failures: u64,
    /// The last such failure's message.
    pub last_background_error: Option<String>,
}

impl Database {
    /// The storage's monitoring counters (log fsyncs, log bytes on disk).
    pub fn storage_stats(&self) -> crate::storage::StorageStats {
        self.storage.stats()
    }

    /// Refusal counters and background failures since opening.
    pub fn health(&self) -> Health {
        let h = &self.health;
        Health {
            clock_drift_refusals: h.clock_drift_refusals.load(Ordering::Relaxed),
            peer_violations: h.peer_violations.load(Ordering::Relaxed),
            background_failures: h.background_failures.load(Ordering::Relaxed),
            last_background_error: h
                .last_background_error
                .lock()
                .map(|g| g.clone())
                .unwrap_or_default(),
        }
    }

    /// The largest lead (ms) a remote stamp may have over this region's clock.
    pub fn max_clock_drift_ms(&self) -> i64 {
        self.max_drift_ms
    }

    /// Count a failed exchange with a peer when the peer is to blame
    /// (malformed or hostile bytes, protocol violations, clock drift).
    pub(crate) fn note_peer_error(&self, e: &Error) {
        use crate::model::error::ErrorClass as C;
        if matches!(
            e.class(),
            C::CorruptData | C::PeerViolation | C::InvalidArgument | C::ClockDrift
        ) {
            self.health.peer_violations.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Record a background failure (reported through [`health`](Self::health)).
    pub(crate) fn note_background_error(&self, e: &Error) {
        self.health
            .background_failures
            .fetch_add(1, Ordering::Relaxed);
        if let Ok(mut g) = self.health.last_background_error.lock() {
            *g = Some(e.to_string());
        }
    }

    /// Refuse a remote HLC value whose clock time is more than the allowed
    /// drift ahead of this region's clock (it would pin the HLC).
    pub(crate) fn check_remote_stamp(&self, origin: &str, hlc: u64) -> Result<()> {
        let now_ms = self.now_ms();
        let stamp_ms = hlc_millis(hlc);
        if stamp_ms.saturating_sub(now_ms) > self.max_drift_ms {
            self.health
                .clock_drift_refusals
                .fetch_add(1, Ordering::Relaxed);
            return Err(Error::ClockDrift {
                origin: origin.to_string(),
                stamp_ms,
                now_ms,
                max_drift_ms: self.max_drift_ms,
            });
        }
        Ok(())
    }

    /// Refuse a claim on `origin`'s sequence numbers `from..=to` that no
    /// honest peer makes: empty, beyond [`MAX_SEQ`], or on this region's own
    /// records above the last sequence number it handed out.
    pub(crate) fn check_seq_claim(&self, origin: &str, from: u64, to: u64) -> Result<()> {
        if origin.is_empty() || origin.len() > 255 {
            return Err(Error::peer("origin names are 1–255 bytes"));
        }
        if from == 0 || from > to {
            return Err(Error::peer(format!(
                "sequence range {from}..={to} of '{origin}' is empty or starts at 0"
            )));
        }
        if to > MAX_SEQ {
            return Err(Error::peer(format!(
                "sequence number {to} of '{origin}' exceeds {MAX_SEQ}"
            )));
        }
        if origin == self.region && to > self.log.local_seq() {
            return Err(Error::peer(format!(
                "a claim on this region's own records up to {to}, above its last sequence number {}",
                self.log.local_seq()
            )));
        }
        Ok(())
    }

    /// Validate a whole row state from a peer like a record: every stamp
    /// real and within the clock drift, column names valid and not key
    /// columns, cells within the size limit, timestamps not negative.
    /// Returns the largest HLC value it carries.
    pub(crate) fn check_remote_row(&self, schema: &TableSchema, state: &[u8]) -> Result<u64> {
        let st = decode_row_state(state)?;
        let mut stamps = vec![st.deleted, st.live];
        for c in &st.columns {
            validate_name(&c.name, "column")?;
            if schema.primary_key.iter().any(|k| k.name == c.name) {
                return Err(Error::peer(format!(
                    "row state has a column named like key column '{}'",
                    c.name
                )));
            }
            stamps.push(c.cleared);
            for v in &c.versions {
                if v.ts < 0 {
                    return Err(Error::peer("negative version timestamp in a row state"));
                }
                if let Some(val) = &v.value {
                    check_cell_size(&c.name, val)?;
                }
                stamps.push(v.stamp);
            }
        }
        let mut max = 0;
        for s in stamps.into_iter().filter(|s| !s.is_zero()) {
            if s.hlc == 0 {
                return Err(Error::peer("row state carries a stamp with HLC 0"));
            }
            max = max.max(s.hlc);
        }
        self.check_remote_stamp("", max)?;
        Ok(max)
    }
}
