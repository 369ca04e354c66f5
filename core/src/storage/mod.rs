//! Where a database keeps its bytes: the [`Storage`] trait, an in-memory
//! implementation, and a durable directory ([`fs::VfsStorage`]) kept in a
//! [`vfs::Vfs`]: the real file system (feature `fs`) or a simulated disk.
//!
//! The database computes each change, hands it to [`Storage::append`] and
//! only then applies it in memory, so a write that storage refused changes
//! nothing. Opening replays the newest checkpoint and then the entries after it.

mod memory;
mod wal_entry;

pub mod fs;
pub mod kv;
pub mod vfs;

pub use memory::MemoryStorage;
pub use wal_entry::WalEntry;

/// The page cache of a durable region when its options name none: a new
/// directory keeps its rows on disk behind a cache of this many bytes.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

use crate::model::error::Result;
use kv::{KvBatch, KvSnapshot, KvStore};
use std::sync::Arc;

/// When appended entries are forced to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// fsync before every write returns (default).
    #[default]
    Always,
    /// Group commit: fsync when `batch_entries` entries are pending or
    /// `batch_millis` ms passed since the oldest pending one (checked on each
    /// append), and on flush/close. Entries are written to the OS at once, so
    /// a process crash loses nothing; a power loss may lose the last group.
    Batch,
    /// Never fsync (the OS decides). A process crash still loses nothing.
    Never,
}

impl SyncPolicy {
    /// Parse `always` / `batch` / `never`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(SyncPolicy::Always),
            "batch" => Some(SyncPolicy::Batch),
            "never" => Some(SyncPolicy::Never),
            _ => None,
        }
    }
}

/// A paged region's page store as recovery found it.
#[derive(Clone)]
pub struct PagedRecovery {
    /// The store.
    pub store: Arc<dyn KvStore>,
    /// Its committed state at open: the region as of the last checkpoint.
    pub snapshot: Arc<dyn KvSnapshot>,
}

impl std::fmt::Debug for PagedRecovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PagedRecovery")
    }
}

/// What storage hands back on open.
#[derive(Debug, Default)]
pub struct Recovered {
    /// A paged region's page store (its rows, head and log as of the last
    /// checkpoint); `entries` then hold what was appended after it.
    pub pages: Option<PagedRecovery>,
    /// The directory is to be converted to pages: the region is recovered
    /// from its checkpoint files and log, then (once the database has
    /// checked it is the region it was opened as) [`Storage::begin_pages`]
    /// makes the page store its first page checkpoint writes it all into.
    pub convert_to_pages: bool,
    /// The newest checkpoint's snapshot bytes (see `codec::snapshot`), if any.
    pub snapshot: Option<Vec<u8>>,
    /// Delta checkpoints on top of that snapshot (each the bytes of
    /// `Database`'s delta frame), oldest first: applied in order, they give
    /// the state the newest checkpoint covers.
    pub deltas: Vec<Vec<u8>>,
    /// Entries appended after the newest checkpoint, in order.
    pub entries: Vec<WalEntry>,
}

/// The disk side of a background fold (see [`Storage::begin_fold`]): it
/// reads the checkpoint chain and writes the folded full checkpoint, and
/// needs no access to the storage it came from, so a driver can run it on
/// another thread while writers go on.
pub trait FoldFiles: Send {
    /// The full checkpoint's snapshot bytes and the delta payloads on it
    /// (oldest first) that the fold covers, each checked (CRC, name, chain).
    fn read_chain(&self) -> Result<(Vec<u8>, Vec<Vec<u8>>)>;
    /// Write `snapshot` as the full checkpoint covering what the chain
    /// covers (temp file, fsync, rename, directory fsync), then read it
    /// back and compare; on a mismatch the file is removed (`CorruptData`).
    fn write_folded(&self, snapshot: &[u8]) -> Result<()>;
}

/// A fold of the delta chain into a full checkpoint, started by
/// [`Storage::begin_fold`].
pub struct FoldPlan {
    /// The commit sequence number the folded checkpoint covers up to (the
    /// newest delta's, when the fold began).
    pub covers: u64,
    /// Reading the chain and writing the result (off the database's lock).
    pub files: Box<dyn FoldFiles>,
}

impl std::fmt::Debug for FoldPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoldPlan")
            .field("covers", &self.covers)
            .finish()
    }
}

/// The disk side of a background delta checkpoint (see
/// [`Storage::begin_delta`]): it writes the delta file and needs no access
/// to the storage it came from, so a driver can run it on another thread
/// while writers go on.
pub trait DeltaFiles: Send {
    /// Write `frame` (a delta frame) as the delta checkpoint the plan
    /// covers, with the chain link taken when it began (temp file, fsync,
    /// rename, directory fsync), then read it back and compare; on a
    /// mismatch the file is removed (`CorruptData`).
    fn write_delta(&self, frame: &[u8]) -> Result<()>;
}

/// A delta checkpoint written off the writer's path, started by
/// [`Storage::begin_delta`].
pub struct DeltaPlan {
    /// The commit sequence number the delta covers up to (exclusive).
    pub covers: u64,
    /// Writing the file (off the database's lock).
    pub files: Box<dyn DeltaFiles>,
}

impl std::fmt::Debug for DeltaPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaPlan")
            .field("covers", &self.covers)
            .finish()
    }
}

/// The disk side of a background full checkpoint (see
/// [`Storage::begin_full`]): it writes the checkpoint file and needs no
/// access to the storage it came from, so a driver can run it on another
/// thread while writers go on.
pub trait FullFiles: Send {
    /// Write `snapshot` (a snapshot frame) as the full checkpoint the plan
    /// covers (temp file, fsync, rename, directory fsync), then read it back
    /// and compare; on a mismatch the file is removed (`CorruptData`).
    fn write_full(&self, snapshot: &[u8]) -> Result<()>;
}

/// A full checkpoint written off the writer's path, started by
/// [`Storage::begin_full`].
pub struct FullPlan {
    /// The commit sequence number the checkpoint covers up to (exclusive).
    pub covers: u64,
    /// Writing the file (off the database's lock).
    pub files: Box<dyn FullFiles>,
}

impl std::fmt::Debug for FullPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FullPlan")
            .field("covers", &self.covers)
            .finish()
    }
}

/// A database's persistence (`Sync` too, so a `Database` can be shared
/// behind a `RwLock` by readers on several threads).
pub trait Storage: Send + Sync {
    /// Read back what earlier sessions left. Called once, before any append.
    fn recover(&mut self) -> Result<Recovered>;
    /// Append entries (one commit); durable per the sync policy when this returns.
    fn append(&mut self, entries: &[WalEntry], now_ms: i64) -> Result<()>;
    /// Force everything appended so far to stable storage.
    fn flush(&mut self) -> Result<()>;
    /// Whether enough was appended since the last checkpoint that one is due.
    fn checkpoint_due(&self) -> bool;
    /// Store a snapshot that covers every entry appended so far; entries it
    /// covers may then be discarded.
    fn checkpoint(&mut self, snapshot: &[u8]) -> Result<()>;
    /// Whether the next checkpoint may be a delta (only what changed since
    /// the last one, see [`checkpoint_delta`](Self::checkpoint_delta)); when
    /// false the database writes a whole snapshot.
    fn delta_allowed(&self) -> bool {
        false
    }
    /// Store a delta that, applied on top of the newest checkpoint, covers
    /// every entry appended so far; entries it covers may then be
    /// discarded. Only called when [`delta_allowed`](Self::delta_allowed).
    fn checkpoint_delta(&mut self, _delta: &[u8]) -> Result<()> {
        Err(crate::model::error::Error::invalid(
            "this storage keeps whole checkpoints only",
        ))
    }
    /// Let folds of the delta chain run in the background (a driver calls
    /// [`begin_fold`](Self::begin_fold) when [`fold_due`](Self::fold_due)):
    /// the writer then folds inline only past a looser hard limit.
    fn set_background_folds(&mut self, _on: bool) {}
    /// Whether background folds are on and the chain is long enough that a
    /// fold should start (none is in flight).
    fn fold_due(&self) -> bool {
        false
    }
    /// Start a fold of the current chain (cheap: names and numbers only);
    /// `None` when there is nothing to fold or one is already in flight.
    fn begin_fold(&mut self) -> Result<Option<FoldPlan>> {
        Ok(None)
    }
    /// End the fold that covers up to `covers`: with `Ok(snapshot_len)` the
    /// folded checkpoint becomes the chain's base (the folded deltas and the
    /// old base are removed) and this returns `true`; `false` when a full
    /// checkpoint replaced the chain meanwhile (the fold's file is removed).
    /// A failed fold changes nothing and its error is returned.
    fn finish_fold(&mut self, _covers: u64, _result: Result<u64>) -> Result<bool> {
        Ok(false)
    }
    /// Let delta checkpoints be written in the background (a driver calls
    /// [`begin_delta`](Self::begin_delta) when [`delta_due`](Self::delta_due)):
    /// commits then checkpoint inline only past a looser hard limit (see
    /// [`inline_checkpoint_due`](Self::inline_checkpoint_due)).
    fn set_background_deltas(&mut self, _on: bool) {}
    /// Whether background deltas are on, none is in flight and a checkpoint
    /// is due.
    fn delta_due(&self) -> bool {
        false
    }
    /// Whether a commit should write a checkpoint itself: when one is due
    /// and no background driver writes it (or the driver fell far behind).
    fn inline_checkpoint_due(&self) -> bool {
        self.checkpoint_due()
    }
    /// Whether a background delta is in flight (begun, not finished).
    fn delta_in_flight(&self) -> bool {
        false
    }
    /// Start a background delta covering every entry appended so far
    /// (cheap: names and numbers, and the change counter is reset); `None`
    /// when nothing was appended since the newest checkpoint, one is in
    /// flight, or no delta may be written. Only called when
    /// [`delta_allowed`](Self::delta_allowed). Entries it covers stay until
    /// [`finish_delta`](Self::finish_delta) installs it.
    fn begin_delta(&mut self) -> Result<Option<DeltaPlan>> {
        Ok(None)
    }
    /// End the delta that covers up to `covers`: with `Ok(frame_len)` it
    /// joins the chain (the log segments it covers are removed) and this
    /// returns `true`; `false` when a full checkpoint replaced the chain
    /// meanwhile (its file is removed). A failed delta is returned as the
    /// error, and the next checkpoint is then a full one, so nothing it
    /// held is lost.
    fn finish_delta(&mut self, _covers: u64, _result: Result<u64>) -> Result<bool> {
        Ok(false)
    }
    /// Start a background full checkpoint covering every entry appended
    /// so far (cheap: names and numbers, and the change counter is reset);
    /// `None` when background deltas are off, a background checkpoint is in
    /// flight, or nothing was appended since the newest checkpoint (the
    /// database then writes the full checkpoint inline, if one is needed).
    /// Entries it covers, the delta chain and the old full checkpoint stay
    /// until [`finish_full`](Self::finish_full) installs it.
    fn begin_full(&mut self) -> Result<Option<FullPlan>> {
        Ok(None)
    }
    /// End the full checkpoint that covers up to `covers`: with
    /// `Ok(snapshot_len)` it becomes the base (the delta chain, the old
    /// full checkpoint and the log segments it covers are removed) and this
    /// returns `true`; `false` when a newer full checkpoint was written
    /// meanwhile (its file is removed). A failed one changes nothing but is
    /// returned as the error, and the next checkpoint is full again.
    fn finish_full(&mut self, _covers: u64, _result: Result<u64>) -> Result<bool> {
        Ok(false)
    }
    /// The page store a paged region keeps its rows in (`None`: rows in
    /// memory and checkpoint files).
    fn page_store(&self) -> Option<Arc<dyn KvStore>> {
        None
    }
    /// Create the page store of a directory being converted to pages
    /// ([`Recovered::convert_to_pages`]); nothing is written before this.
    fn begin_pages(&mut self) -> Result<PagedRecovery> {
        Err(crate::model::error::Error::invalid(
            "this storage is not converting to pages",
        ))
    }
    /// Commit a paged region's checkpoint: `batch` (its dirty pages, head,
    /// tables and log records since the last one) goes into the page store
    /// in one durable commit, marked as covering every entry appended so
    /// far; the log segments it covers are then removed.
    fn checkpoint_pages(&mut self, _batch: KvBatch) -> Result<()> {
        Err(crate::model::error::Error::invalid(
            "this storage keeps no page store",
        ))
    }
    /// Whether this storage survives the process (false for memory).
    fn is_durable(&self) -> bool;
    /// Called once by the database after it has replayed what
    /// [`recover`](Self::recover) returned and found it to be its region's;
    /// a storage records here what it deferred until then (a migrated
    /// directory's manifest). An error fails the open.
    fn opened(&mut self) -> Result<()> {
        Ok(())
    }
    /// Counters for monitoring (zeros for a storage that keeps none).
    fn stats(&self) -> StorageStats {
        StorageStats::default()
    }
}

/// A storage's monitoring counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// Times appended log data was fsynced since opening.
    pub log_syncs: u64,
    /// Bytes of write-ahead log segments on disk now.
    pub log_bytes: u64,
}
