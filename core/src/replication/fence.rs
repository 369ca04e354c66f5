//! The epoch fence a region installs as its [`WriteGuard`]: local writes
//! pass only while this region is the write-primary of the current epoch
//! and holds its lease.

use crate::client::database::WriteGuard;
use crate::model::error::{Error, Result};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Shared between a [`GroupNode`](super::GroupNode) (which moves it) and
/// the region's database (which asks it before each write).
#[derive(Debug)]
pub struct Fence {
    epoch: AtomicU64,
    from_ms: AtomicI64,
    until_ms: AtomicI64,
}

impl Default for Fence {
    fn default() -> Self {
        Fence {
            epoch: AtomicU64::new(0),
            from_ms: AtomicI64::new(i64::MAX),
            until_ms: AtomicI64::new(i64::MIN),
        }
    }
}

impl Fence {
    /// Writes allowed at local times in `[from_ms, until_ms)` under `epoch`.
    pub(crate) fn set(&self, epoch: u64, from_ms: i64, until_ms: i64) {
        self.epoch.store(epoch, Ordering::SeqCst);
        self.from_ms.store(from_ms, Ordering::SeqCst);
        self.until_ms.store(until_ms, Ordering::SeqCst);
    }

    /// A fence for a region that is not running a [`GroupNode`](super::GroupNode)
    /// (a directory opened by a tool): open while `region` is the primary
    /// of the persisted `state` and need not resync, closed otherwise.
    pub fn from_state(state: &super::GroupState, region: &str) -> Fence {
        let f = Fence::default();
        if state.primary == region && !state.needs_resync && state.voted_epoch <= state.epoch {
            f.set(state.epoch, i64::MIN, i64::MAX);
        } else {
            f.close(state.epoch);
        }
        f
    }

    /// Refuse every write (not the primary).
    pub(crate) fn close(&self, epoch: u64) {
        self.set(epoch, i64::MAX, i64::MIN);
    }

    /// The epoch this region is in.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Whether a write at local time `now_ms` would pass.
    pub fn writable(&self, now_ms: i64) -> bool {
        now_ms >= self.from_ms.load(Ordering::SeqCst)
            && now_ms < self.until_ms.load(Ordering::SeqCst)
    }

    /// Check a write that carries the epoch its client believes in: refused
    /// with `StaleEpoch` unless it is this region's epoch and the region may
    /// write now.
    pub fn check_epoch(&self, client_epoch: u64, now_ms: i64) -> Result<()> {
        let e = self.epoch();
        if client_epoch != e {
            return Err(Error::StaleEpoch(format!(
                "the write carries epoch {client_epoch}, the region is at epoch {e}"
            )));
        }
        self.check(now_ms)
    }
}

impl WriteGuard for Fence {
    fn check(&self, now_ms: i64) -> Result<()> {
        if self.writable(now_ms) {
            Ok(())
        } else {
            Err(Error::StaleEpoch(format!(
                "this region is not the write-primary of epoch {} (or its lease lapsed)",
                self.epoch()
            )))
        }
    }
}
