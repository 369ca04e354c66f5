//! How a database is opened.

use crate::clock::Clock;
use crate::log::Retention;
use crate::storage::{SyncPolicy, DEFAULT_CACHE_BYTES};
use std::sync::Arc;

/// Options of [`Database::memory`](crate::Database::memory) and
/// [`Database::open`](crate::Database::open).
#[derive(Clone)]
pub struct DatabaseOptions {
    /// This region's name (the origin of its writes). Non-empty, ≤ 255 bytes.
    pub region: String,
    /// Source of time.
    pub clock: Arc<dyn Clock>,
    /// When appended log entries are fsynced (durable databases).
    pub sync: SyncPolicy,
    /// How long the change log keeps records.
    pub retention: Retention,
    /// Write a checkpoint after this many log bytes (durable databases).
    pub checkpoint_bytes: u64,
    /// Refuse remote stamps (records, merged rows) more than this many ms
    /// ahead of the clock: one far-future stamp would otherwise pin the
    /// hybrid logical clock. Refusals are counted in `Database::health`.
    pub max_clock_drift_ms: i64,
    /// Keep a durable region's rows in a page store on disk behind a cache
    /// of this many bytes: [`DEFAULT_CACHE_BYTES`] (256 MiB) unless set. A
    /// new directory is created paged (directory format 8) and an older
    /// one is converted on open. `None` ([`DatabaseOptions::rows_in_memory`])
    /// keeps every row of a directory that is not paged yet in memory; a
    /// paged directory opens paged whatever this says, with the default
    /// cache when `None`. Ignored by in-memory regions.
    /// The cache bounds what the region holds for its rows as a whole: the
    /// store's own cache, the page indexes and the pages reads may fault in
    /// between two trims come out of it before the pages kept resident
    /// (docs/ENGINE.md "Paged regions").
    pub cache_bytes: Option<u64>,
}

impl DatabaseOptions {
    /// Options with a given clock and defaults otherwise.
    pub fn with_clock(region: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        DatabaseOptions {
            region: region.into(),
            clock,
            sync: SyncPolicy::Always,
            retention: Retention::default(),
            checkpoint_bytes: 64 * 1024 * 1024,
            max_clock_drift_ms: super::remote_checks::DEFAULT_MAX_CLOCK_DRIFT_MS,
            cache_bytes: Some(DEFAULT_CACHE_BYTES),
        }
    }

    /// Options using the system clock (native builds).
    #[cfg(feature = "fs")]
    pub fn new(region: impl Into<String>) -> Self {
        Self::with_clock(region, Arc::new(crate::clock::SystemClock))
    }

    /// Set the sync policy.
    pub fn sync(mut self, sync: SyncPolicy) -> Self {
        self.sync = sync;
        self
    }

    /// Set the retention.
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Set the largest lead (ms) a remote stamp may have over the clock.
    pub fn max_clock_drift(mut self, ms: i64) -> Self {
        self.max_clock_drift_ms = ms;
        self
    }

    /// Keep a durable region's rows on disk behind a cache of `bytes`
    /// (see [`DatabaseOptions::cache_bytes`]).
    pub fn cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = Some(bytes);
        self
    }

    /// Keep every row of a durable region in memory, with whole-region
    /// checkpoints (directory format 4), as before paged regions: for
    /// regions that fit in memory many times over and want no page faults.
    /// A directory that is already paged stays paged.
    pub fn rows_in_memory(mut self) -> Self {
        self.cache_bytes = None;
        self
    }

    /// Set the checkpoint threshold.
    pub fn checkpoint_bytes(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes;
        self
    }
}

impl std::fmt::Debug for DatabaseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseOptions")
            .field("region", &self.region)
            .field("sync", &self.sync)
            .field("retention", &self.retention)
            .field("checkpoint_bytes", &self.checkpoint_bytes)
            .field("max_clock_drift_ms", &self.max_clock_drift_ms)
            .field("cache_bytes", &self.cache_bytes)
            .finish()
    }
}
