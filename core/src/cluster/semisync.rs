//! Semi-sync degradation per table (or per home link): after a write waits
//! `timeout` for a second datacenter the table degrades to async, never
//! blocks writes while degraded, and returns to semi-sync once a replica
//! datacenter has caught up with the home.

/// Whether semi-sync currently waits for a second datacenter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemiSyncState {
    /// Writes wait for the home and one other datacenter.
    Normal,
    /// Writes are acknowledged after the home alone, since `since_ms`.
    Degraded {
        /// When the degradation began.
        since_ms: i64,
    },
}

/// Semi-sync status of one table: state plus counters for status and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemiSync {
    state: SemiSyncState,
    /// Times the table degraded.
    pub degradations: u64,
    /// Times it recovered.
    pub recoveries: u64,
    /// Milliseconds spent degraded, over finished degradations.
    pub degraded_ms: i64,
}

impl Default for SemiSync {
    fn default() -> Self {
        Self::new()
    }
}

impl SemiSync {
    /// A table in normal semi-sync.
    pub fn new() -> Self {
        SemiSync {
            state: SemiSyncState::Normal,
            degradations: 0,
            recoveries: 0,
            degraded_ms: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> SemiSyncState {
        self.state
    }

    /// Whether writes are currently acknowledged after the home alone.
    pub fn is_degraded(&self) -> bool {
        matches!(self.state, SemiSyncState::Degraded { .. })
    }

    /// A write was acknowledged degraded (its timeout passed): degrade.
    pub fn on_write_degraded(&mut self, now_ms: i64) {
        if self.state == SemiSyncState::Normal {
            self.state = SemiSyncState::Degraded { since_ms: now_ms };
            self.degradations += 1;
        }
    }

    /// A replica datacenter reports it has applied the home's log up to
    /// `replica_applied`; the home has committed up to `home_committed`.
    /// Once a replica has caught up, semi-sync resumes. Returns whether it
    /// recovered now.
    pub fn on_replica_progress(
        &mut self,
        replica_applied: u64,
        home_committed: u64,
        now_ms: i64,
    ) -> bool {
        if let SemiSyncState::Degraded { since_ms } = self.state {
            if replica_applied >= home_committed {
                self.state = SemiSyncState::Normal;
                self.recoveries += 1;
                self.degraded_ms += now_ms.saturating_sub(since_ms).max(0);
                return true;
            }
        }
        false
    }
}
