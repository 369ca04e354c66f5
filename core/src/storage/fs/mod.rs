//! Durable directory storage: a write-ahead log in numbered segments,
//! checkpoints written atomically, and a lock file so that one process (one
//! open handle) owns the directory at a time.
//!
//! Directory layout (byte formats in `docs/FORMAT.md`, "Storage directory"):
//!
//! ```text
//! LOCK                                   exclusive lock, holds the owner's pid
//! MANIFEST                               region, directory format, creation time, options
//! checkpoint-<next_seq:020>.snap         snapshot covering records < next_seq
//! checkpoint-<next_seq:020>.delta        what changed since the checkpoint before (format 3)
//! wal-<first_seq:020>.log                log segment starting at record first_seq
//! *.tmp                                  files being written (removed on open)
//! ```
//!
//! Every [`Storage::append`] call becomes one commit record with a
//! sequence number, written to the OS with one `write` and synced per the
//! [`SyncPolicy`]. Recovery drops a torn final record of the last segment
//! (a write cut short by a crash) and reports damage anywhere else as
//! [`Error::Corrupt`], never skipping it.

mod background_delta;
mod background_full;
#[cfg(feature = "fs")]
mod check;
mod checkpoint;
mod delta;
mod fold;
mod io;
mod manifest;
mod names;
mod recovery;
mod segment;

#[cfg(feature = "fs")]
pub use check::{
    repair_files, repair_files_in, scan_dir, scan_dir_in, CheckReport, ReadOnly, RepairReport,
};
pub use checkpoint::{
    decode_checkpoint, CHECKPOINT_HEADER_LEN, CHECKPOINT_VERSION, MAGIC_CHECKPOINT,
};
pub use delta::{decode_delta, DeltaLink, DELTA_HEADER_LEN, DELTA_VERSION, MAGIC_DELTA};
#[cfg(feature = "fs")]
pub use io::{build_then_rename, building_path};
pub use manifest::{
    decode_manifest, decode_manifest_format, encode_manifest, read_manifest, read_manifest_format,
    Manifest, DIR_FORMAT, MAGIC_MANIFEST, OLDEST_MANIFEST_FORMAT, OLDEST_PAGED_DIR_FORMAT,
    PAGED_DIR_FORMAT,
};
pub use names::{
    checkpoint_name, delta_name, segment_name, LOCK_FILE, MANIFEST_FILE, SYNC_FAILED_FILE,
};
pub use segment::{scan_segment, SegmentScan};
pub use segment::{MAX_RECORD_PAYLOAD, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN, SEGMENT_VERSION};

use super::kv::{layout, KvBatch, KvSnapshot, KvStore, Space};
use super::{Recovered, Storage, SyncPolicy, WalEntry};
use crate::model::error::{Error, Result};
#[cfg(feature = "fs")]
use crate::storage::vfs::RealFs;
use crate::storage::vfs::{Vfs, VfsFile};
use io::{io_error, open_for_append, read_file, remove_files, write_file_atomic};
use segment::{encode_record, segment_header};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A segment rolls over to a new file once it would grow past this size.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// At most this many delta checkpoints sit on a full one; the next
/// checkpoint is full.
pub const MAX_DELTAS: usize = 64;
/// With background folds on, the writer folds inline only once the chain
/// reaches this many times [`MAX_DELTAS`] deltas, or (with no fold in
/// flight) its payloads add up to half this many times the full checkpoint:
/// the driver fell far behind or stopped.
pub const FOLD_HARD_FACTOR: usize = 4;

/// [`SyncPolicy::Batch`]: fsync once this many entries are pending.
pub const DEFAULT_BATCH_ENTRIES: u64 = 4096;
/// [`SyncPolicy::Batch`]: fsync once the oldest pending entry is this old (ms).
pub const DEFAULT_BATCH_MILLIS: i64 = 10;

/// Tuning of an [`FsStorage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsOptions {
    /// When appends are fsynced.
    pub sync: SyncPolicy,
    /// [`Storage::checkpoint_due`] turns true after this many log bytes.
    pub checkpoint_bytes: u64,
    /// Roll to a new segment file when the current one would exceed this.
    pub segment_bytes: u64,
    /// Group commit: fsync when this many entries are pending.
    pub batch_entries: u64,
    /// Group commit: fsync when the oldest pending entry is this many ms old.
    pub batch_millis: i64,
    /// Keep the rows in a page store behind a cache of this many bytes
    /// (a new directory is created paged, directory format 8); `None`
    /// keeps every row in memory. A paged directory opens paged whatever
    /// this says (with [`super::DEFAULT_CACHE_BYTES`] when `None`).
    pub cache_bytes: Option<u64>,
}

/// The page store's own cache for a region cache of `cache_bytes`: the
/// region caches decoded pages itself (that is what `cache_bytes` bounds),
/// so the store keeps only a sixty-fourth (4–64 MiB) for its B-tree's
/// branch pages; its leaves come from the OS page cache. More would
/// mostly hold again the values just decoded into the region's cache: at
/// 10M rows a sixteenth (16 MiB) saved 11% of the store's reads (177k
/// against 198k for 100k gets), gave no faster gets, and cost 12–20 MiB
/// of peak memory (docs/benchmarks.md "Session 10").
pub fn store_cache(cache_bytes: u64) -> u64 {
    (cache_bytes / 64).clamp(4 << 20, 64 << 20)
}

/// The page store's file in a paged region's directory.
pub const PAGE_STORE_FILE: &str = "pages.redb";

/// The page store's meta key holding the commit sequence number its
/// state covers up to (u64 little-endian): recovery replays the log from there.
pub const META_COVERS: &[u8] = b"covers";

/// The commit sequence number a page store covers up to (its `covers`
/// mark), `None` before its first checkpoint.
pub fn read_covers(snapshot: &dyn KvSnapshot) -> Result<Option<u64>> {
    let Some(v) = snapshot.get(Space::Meta, META_COVERS)? else {
        return Ok(None);
    };
    let value = layout::unseal(Space::Meta, META_COVERS, &v)?;
    value
        .try_into()
        .map(|b| Some(u64::from_le_bytes(b)))
        .map_err(|_| Error::corrupt(format!("{PAGE_STORE_FILE}: a damaged covers mark")))
}

impl FsOptions {
    /// Options with the given policy and checkpoint threshold, defaults otherwise.
    pub fn new(sync: SyncPolicy, checkpoint_bytes: u64) -> Self {
        FsOptions {
            sync,
            checkpoint_bytes,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            batch_entries: DEFAULT_BATCH_ENTRIES,
            batch_millis: DEFAULT_BATCH_MILLIS,
            cache_bytes: None,
        }
    }

    /// Keep the rows of a new directory in a page store behind a cache of
    /// `bytes` (see [`FsOptions::cache_bytes`]).
    pub fn cache_bytes(mut self, bytes: Option<u64>) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// Set the segment size.
    pub fn segment_bytes(mut self, bytes: u64) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// Set the group-commit thresholds of [`SyncPolicy::Batch`].
    pub fn batch(mut self, entries: u64, millis: i64) -> Self {
        self.batch_entries = entries;
        self.batch_millis = millis;
        self
    }
}

impl Default for FsOptions {
    fn default() -> Self {
        Self::new(SyncPolicy::Always, 64 * 1024 * 1024)
    }
}

/// A database directory on the real file system (see [`VfsStorage`]).
#[cfg(feature = "fs")]
pub type FsStorage = VfsStorage<RealFs>;

/// A database directory: write-ahead log segments, checkpoints and a lock,
/// kept in any [`Vfs`] (the real file system, or a simulated disk for
/// power-loss and fault tests).
pub struct VfsStorage<V: Vfs> {
    vfs: V,
    dir: PathBuf,
    options: FsOptions,
    /// Held for the storage's lifetime; dropping it releases the lock.
    _lock: V::Lock,
    active: V::File,
    active_start: u64,
    active_len: u64,
    /// Starts of the segment files present, ascending (the active one last).
    segments: Vec<u64>,
    checkpoint: Option<u64>,
    /// The full checkpoint under the deltas, and its size in bytes.
    base: Option<(u64, u64)>,
    /// Delta checkpoints on top of `base` (ascending), their payload sizes
    /// and the sizes' total.
    deltas: Vec<u64>,
    delta_sizes: Vec<u64>,
    delta_bytes: u64,
    /// Whether a driver folds the chain in the background (looser inline limits).
    background_folds: bool,
    /// The background fold in flight, if any.
    folding: Option<fold::InFlight>,
    /// Whether a driver writes delta checkpoints in the background.
    background_deltas: bool,
    /// The background delta in flight, if any.
    delta_flight: Option<background_delta::DeltaInFlight>,
    /// The background full checkpoint in flight, if any (never together
    /// with a background delta).
    full_flight: Option<background_full::FullInFlight>,
    /// A background delta failed: the next checkpoint must be full.
    force_full: bool,
    next_seq: u64,
    since_checkpoint: u64,
    pending_entries: u64,
    pending_since: Option<i64>,
    unsynced: bool,
    syncs: u64,
    recovered: Option<Recovered>,
    torn: Option<String>,
    failed: Option<String>,
    /// The directory's manifest (once written; `None` for a directory
    /// opened without a region that has none).
    manifest: Option<Manifest>,
    /// A manifest to write once the database accepted what recovery read
    /// (a directory made before manifests existed: see [`Storage::opened`]).
    pending_manifest: Option<Manifest>,
    /// The page store of a paged directory (formats 5–7).
    pages: Option<Arc<dyn KvStore>>,
    /// Converting to a paged directory: the first page checkpoint rewrites
    /// the manifest and removes the checkpoint files.
    converting: bool,
}

fn create_segment<V: Vfs>(vfs: &V, dir: &Path, start: u64) -> Result<V::File> {
    let name = segment_name(start);
    write_file_atomic(vfs, dir, &name, &[&segment_header(start)])?;
    open_for_append(vfs, &dir.join(name))
}

#[cfg(feature = "fs")]
impl VfsStorage<RealFs> {
    /// Open or create `dir` and recover it; fails with [`Error::Locked`] if
    /// another handle has it open and [`Error::Corrupt`] if it is damaged.
    pub fn open(dir: &Path, sync: SyncPolicy, checkpoint_bytes: u64) -> Result<FsStorage> {
        Self::open_with(dir, FsOptions::new(sync, checkpoint_bytes))
    }

    /// [`open`](Self::open) with every option.
    pub fn open_with(dir: &Path, options: FsOptions) -> Result<FsStorage> {
        Self::open_in(RealFs, dir, options)
    }

    /// [`open_with`](Self::open_with) for region `region`: see
    /// [`VfsStorage::open_region_in`].
    pub fn open_region(
        dir: &Path,
        options: FsOptions,
        region: &str,
        now_ms: i64,
    ) -> Result<FsStorage> {
        Self::open_region_in(RealFs, dir, options, region, now_ms)
    }
}

/// Whether `dir` holds log segments or checkpoints (a database).
fn holds_database<V: Vfs>(vfs: &V, dir: &Path) -> Result<bool> {
    let names = vfs
        .list(dir)
        .map_err(|e| io_error(format_args!("listing {}", dir.display()), e))?;
    Ok(names.iter().any(|n| {
        matches!(
            names::classify(n),
            names::FileKind::Segment(_)
                | names::FileKind::Checkpoint(_)
                | names::FileKind::Delta(_)
        )
    }))
}

impl<V: Vfs> VfsStorage<V> {
    /// Open or create `dir` in file system `vfs` and recover it (as
    /// [`FsStorage::open_with`] does on the real file system).
    ///
    /// Without a region this neither writes nor checks a region in the
    /// manifest; a manifest that is there must still be of a format this
    /// build reads (`UnsupportedVersion` otherwise, before any file changes).
    pub fn open_in(vfs: V, dir: &Path, options: FsOptions) -> Result<VfsStorage<V>> {
        Self::open_inner(vfs, dir, options, None)
    }

    /// Open or create `dir` as the directory of region `region`.
    ///
    /// The manifest is read first, before recovery touches any file: a
    /// directory of another region is [`Error::RegionMismatch`], one of a
    /// newer directory format `UnsupportedVersion`. A new directory gets its
    /// manifest (created at `now_ms`) before its first segment. A directory
    /// made before manifests existed (format 1) is migrated: its manifest is
    /// written by [`Storage::opened`], once the database has checked the
    /// checkpoint's region and replayed the log.
    pub fn open_region_in(
        vfs: V,
        dir: &Path,
        options: FsOptions,
        region: &str,
        now_ms: i64,
    ) -> Result<VfsStorage<V>> {
        Self::open_inner(vfs, dir, options, Some((region, now_ms)))
    }

    fn open_inner(
        vfs: V,
        dir: &Path,
        options: FsOptions,
        expect: Option<(&str, i64)>,
    ) -> Result<VfsStorage<V>> {
        if options.segment_bytes == 0 || options.batch_entries == 0 || options.batch_millis < 0 {
            return Err(Error::invalid(
                "segment_bytes and batch_entries must be positive and batch_millis not negative",
            ));
        }
        // The directories this open creates: the region's and any missing
        // ancestor (issue 12: a new `/data` whose own entry was never synced
        // takes every acknowledged write of `/data/region` with it in a
        // power loss). Each entry is durable once its parent is synced.
        let created: Vec<&Path> = dir
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .take_while(|p| !vfs.is_dir(p))
            .collect();
        vfs.create_dir_all(dir)
            .map_err(|e| io_error(format_args!("creating {}", dir.display()), e))?;
        for new in created.iter().rev() {
            if let Some(parent) = new.parent().filter(|p| !p.as_os_str().is_empty()) {
                io::sync_dir(&vfs, parent)?;
            }
        }
        let lock = vfs.lock(dir)?;
        let (mut manifest, format) = match manifest::read_manifest_format(&vfs, dir)? {
            Some((m, f)) => (Some(m), f),
            None => (None, DIR_FORMAT),
        };
        // An older directory format (2: no delta checkpoints yet) holds
        // nothing this build reads differently: its manifest is rewritten
        // as this format once the database accepted the directory, before
        // any delta is written (an older build must not open it then).
        let mut pending_manifest =
            manifest
                .as_ref()
                .filter(|_| format < DIR_FORMAT)
                .map(|m| Manifest {
                    migrated_from: m.migrated_from.or(Some(format)),
                    ..m.clone()
                });
        match (&manifest, expect) {
            (Some(m), Some((region, _))) if m.region != region => {
                return Err(manifest::region_mismatch(dir, &m.region, region));
            }
            (None, Some((region, now_ms))) => {
                let mut m = Manifest::new(region, now_ms, &options);
                if holds_database(&vfs, dir)? {
                    m.migrated_from = Some(1);
                    pending_manifest = Some(m);
                } else {
                    m.paged = options.cache_bytes.is_some();
                    manifest::write_manifest(&vfs, dir, &m)?;
                    manifest = Some(m);
                }
            }
            _ => {}
        }
        // A paged directory: the page store's state covers the log up to
        // its `covers`; recovery replays from there. A directory with a
        // manifest opened with `cache_bytes` is converted: recovered as
        // it is, then (`begin_pages`, once the database checked the
        // region) its first checkpoint goes into a new page store.
        let paged = manifest.as_ref().is_some_and(|m| m.paged);
        let convert = !paged
            && options.cache_bytes.is_some()
            && expect.is_some()
            && (manifest.is_some() || pending_manifest.is_some());
        let (pages, covers) = if paged {
            let path = dir.join(PAGE_STORE_FILE);
            let cache = options.cache_bytes.unwrap_or(super::DEFAULT_CACHE_BYTES);
            let store = crate::storage::kv::open_page_store(&vfs, &path, store_cache(cache))?;
            // A format-5 directory's store is rewritten in this build's
            // layout (one commit), then its manifest says so.
            layout::migrate(&*store)?;
            if let Some(m) = manifest.as_mut().filter(|_| format < PAGED_DIR_FORMAT) {
                m.migrated_from = m.migrated_from.or(Some(format));
                manifest::write_manifest(&vfs, dir, m)?;
            }
            let covers = read_covers(&*store.snapshot()?)?.unwrap_or(1);
            (Some(store), covers)
        } else {
            (None, 1)
        };
        let mut state = recovery::recover_dir(&vfs, dir, options.sync, paged.then_some(covers))?;
        if let Some(store) = &pages {
            state.checkpoint = (covers > 1).then_some(covers);
            state.recovered.pages = Some(crate::storage::PagedRecovery {
                snapshot: store.snapshot()?,
                store: store.clone(),
            });
        }
        state.recovered.convert_to_pages = convert;
        let sync_failed = vfs.read(&dir.join(SYNC_FAILED_FILE)).is_ok();
        let (active, start, len) = match state.tail {
            Some(t) => {
                let name = segment_name(t.start);
                if sync_failed {
                    // After a failed fsync the page cache may hold log bytes
                    // the disk lost, and fsyncing again would not write them
                    // (the kernel marked them clean): rewrite the segment
                    // from what recovery read, into fresh durable pages.
                    let mut bytes = read_file(&vfs, dir, &name)?;
                    bytes.truncate(t.len as usize);
                    write_file_atomic(&vfs, dir, &name, &[&bytes])?;
                }
                (open_for_append(&vfs, &dir.join(name))?, t.start, t.len)
            }
            None => {
                let f = create_segment(&vfs, dir, state.next_seq)?;
                state
                    .obsolete
                    .extend(state.segments.drain(..).map(segment_name));
                state.segments.push(state.next_seq);
                (f, state.next_seq, SEGMENT_HEADER_LEN as u64)
            }
        };
        if sync_failed {
            state.obsolete.push(SYNC_FAILED_FILE.to_string());
        }
        remove_files(&vfs, dir, &state.obsolete)?;
        Ok(VfsStorage {
            vfs,
            dir: dir.to_path_buf(),
            options,
            _lock: lock,
            active,
            active_start: start,
            active_len: len,
            segments: state.segments,
            checkpoint: state.checkpoint,
            base: state.base,
            deltas: state.deltas.0,
            delta_bytes: state.deltas.1.iter().sum(),
            delta_sizes: state.deltas.1,
            background_folds: false,
            folding: None,
            background_deltas: false,
            delta_flight: None,
            full_flight: None,
            force_full: false,
            next_seq: state.next_seq,
            since_checkpoint: state.bytes_since_checkpoint,
            pending_entries: 0,
            pending_since: None,
            unsynced: false,
            syncs: 0,
            recovered: Some(state.recovered),
            torn: state.torn,
            failed: None,
            manifest,
            pending_manifest,
            pages,
            converting: convert,
        })
    }

    /// The directory's manifest, if it has one (yet).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> FsOptions {
        self.options
    }

    /// Sequence number the next commit record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Segment files currently present (first sequence numbers, ascending).
    pub fn segments(&self) -> &[u64] {
        &self.segments
    }

    /// What the newest checkpoint covers (records before this number).
    pub fn checkpoint_seq(&self) -> Option<u64> {
        self.checkpoint
    }

    /// How many times appended log data was fsynced since opening (sync
    /// policy at work; rotation and checkpoints sync files of their own).
    pub fn log_syncs(&self) -> u64 {
        self.syncs
    }

    /// Whether some appended data has not been fsynced yet.
    pub fn has_unsynced(&self) -> bool {
        self.unsynced
    }

    /// If opening dropped a torn final record, where and why.
    pub fn torn_tail(&self) -> Option<&str> {
        self.torn.as_deref()
    }

    fn check_failed(&self) -> Result<()> {
        match &self.failed {
            Some(why) => Err(Error::Stopped(format!(
                "storage stopped after an earlier failure ({why}); reopen the directory"
            ))),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.failed = Some(e.message());
        e
    }

    fn sync_active(&mut self) -> Result<()> {
        if let Err(e) = self.active.sync_data() {
            // After a failed fsync the page cache state is unknown: stop,
            // and leave a mark so that the next open does not trust the
            // cached bytes of this segment (best effort: if even this
            // fails, the disk is gone).
            let _ = write_file_atomic(&self.vfs, &self.dir, SYNC_FAILED_FILE, &[b"1"]);
            return Err(self.fail(io_error(
                format_args!("syncing {}", segment_name(self.active_start)),
                e,
            )));
        }
        self.syncs += 1;
        self.unsynced = false;
        self.pending_entries = 0;
        self.pending_since = None;
        Ok(())
    }

    /// Start a new segment at `next_seq`; the old one is synced first when
    /// `seal` (so that only the last segment can ever end torn).
    fn roll(&mut self, seal: bool) -> Result<()> {
        if seal && self.unsynced {
            self.sync_active()?;
        }
        let start = self.next_seq;
        let name = segment_name(start);
        // A failure here (an fsync of the new file or of the directory)
        // leaves the directory's state unknown: stop, as after any failed fsync.
        if let Err(e) = write_file_atomic(&self.vfs, &self.dir, &name, &[&segment_header(start)]) {
            return Err(self.fail(e));
        }
        // The new file is in place: appending anywhere else now would split
        // the sequence, so failing to open it stops the storage.
        let f = match open_for_append(&self.vfs, &self.dir.join(&name)) {
            Ok(f) => f,
            Err(e) => return Err(self.fail(e)),
        };
        self.active = f;
        self.active_start = start;
        self.active_len = SEGMENT_HEADER_LEN as u64;
        self.segments.push(start);
        self.unsynced = false;
        self.pending_entries = 0;
        self.pending_since = None;
        Ok(())
    }

    /// A checkpoint covering the records before `covers` is in place:
    /// continue in a fresh segment, and remove the segments it covers and
    /// the `obsolete` files.
    fn covered(&mut self, covers: u64, mut obsolete: Vec<String>) -> Result<()> {
        // Continue in a fresh segment so every older file is fully covered.
        if self.next_seq > self.active_start {
            self.roll(false)?;
        }
        obsolete.extend(
            self.segments
                .iter()
                .filter(|&&s| s < self.active_start)
                .map(|&s| segment_name(s)),
        );
        self.checkpoint = Some(covers);
        self.since_checkpoint = 0;
        let active = self.active_start;
        self.segments.retain(|&s| s >= active);
        remove_files(&self.vfs, &self.dir, &obsolete)
    }

    /// Log bytes after which a checkpoint is due: `checkpoint_bytes`, and
    /// for a paged region at most an eighth of its cache (at least 1 MiB):
    /// until a checkpoint stores them, the pages the log dirtied cannot be
    /// evicted and the log is replayed on open, so a paged checkpoint —
    /// which costs the pages that changed — comes sooner.
    fn checkpoint_threshold(&self) -> u64 {
        match (&self.pages, self.options.cache_bytes) {
            (Some(_), cache) => {
                let cache = cache.unwrap_or(super::DEFAULT_CACHE_BYTES);
                self.options.checkpoint_bytes.min((cache / 8).max(1 << 20))
            }
            (None, _) => self.options.checkpoint_bytes,
        }
    }

    /// The delta checkpoints on top of the newest full one (ascending).
    pub fn delta_checkpoints(&self) -> &[u64] {
        &self.deltas
    }

    fn write_active(&mut self, bytes: &[u8]) -> Result<()> {
        if let Err(e) = self.active.write_all(bytes) {
            // Take a partial write back so no garbage sits before later records.
            // The cut is not durable until the next sync: until then the
            // segment counts as unsynced, so a roll seals it first (else a
            // power loss could keep the partial bytes in a segment that is
            // no longer the last; found by the 20,000-seed simulation run).
            self.unsynced = true;
            let undone = self.active.set_len(self.active_len);
            let err = io_error(
                format_args!("appending to {}", segment_name(self.active_start)),
                e,
            );
            return Err(if undone.is_err() { self.fail(err) } else { err });
        }
        Ok(())
    }
}

impl<V: Vfs> Storage for VfsStorage<V> {
    fn stats(&self) -> crate::storage::StorageStats {
        // Sealed segments are sized from the file system; the active one is
        // tracked (a segment that vanished meanwhile counts as empty).
        let sealed: u64 = self
            .segments
            .iter()
            .filter(|&&s| s != self.active_start)
            .filter_map(|&s| self.vfs.len(&self.dir.join(segment_name(s))).ok())
            .sum();
        crate::storage::StorageStats {
            log_syncs: self.syncs,
            log_bytes: sealed + self.active_len,
        }
    }

    fn recover(&mut self) -> Result<Recovered> {
        self.recovered
            .take()
            .ok_or_else(|| Error::invalid("the storage was already recovered"))
    }

    fn append(&mut self, entries: &[WalEntry], now_ms: i64) -> Result<()> {
        self.check_failed()?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(256);
        encode_record(&mut buf, self.next_seq, entries)?;
        let n = buf.len() as u64;
        if self.next_seq > self.active_start
            && self.active_len.saturating_add(n) > self.options.segment_bytes
        {
            self.roll(true)?;
        }
        self.write_active(&buf)?;
        self.active_len += n;
        self.next_seq += 1;
        self.since_checkpoint += n;
        self.unsynced = true;
        match self.options.sync {
            SyncPolicy::Always => self.sync_active()?,
            SyncPolicy::Batch => {
                self.pending_entries += entries.len() as u64;
                let since = *self.pending_since.get_or_insert(now_ms);
                if self.pending_entries >= self.options.batch_entries
                    || now_ms.saturating_sub(since) >= self.options.batch_millis
                {
                    self.sync_active()?;
                }
            }
            SyncPolicy::Never => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.check_failed()?;
        if self.unsynced {
            self.sync_active()?;
        }
        Ok(())
    }

    fn checkpoint_due(&self) -> bool {
        self.since_checkpoint > 0 && self.since_checkpoint >= self.checkpoint_threshold()
    }

    fn checkpoint(&mut self, snapshot: &[u8]) -> Result<()> {
        self.check_failed()?;
        if self.pages.is_some() {
            return Err(Error::invalid(
                "a paged region checkpoints into its page store, not into checkpoint files",
            ));
        }
        let covers = self.next_seq;
        if self.folding.as_ref().is_some_and(|f| f.covers == covers) {
            // Nothing was appended since the chain a background fold is
            // turning into this very checkpoint (same file name): that
            // fold writes it.
            return Ok(());
        }
        if self.full_flight.is_some_and(|f| f.covers == covers) {
            // Likewise a background full checkpoint in flight writes this
            // very file (the same state: nothing was appended since it began).
            return Ok(());
        }
        let header = checkpoint::checkpoint_header(covers, snapshot);
        let name = checkpoint_name(covers);
        write_file_atomic(&self.vfs, &self.dir, &name, &[&header, snapshot])?;
        // Read it back before anything it covers goes: the previous
        // checkpoint and the old segments stay until this one is proven.
        let back = read_file(&self.vfs, &self.dir, &name)
            .and_then(|b| checkpoint::decode_checkpoint(b, &name, covers));
        match back {
            Ok(b) if b == snapshot => {}
            Ok(_) | Err(_) => {
                if self.base.map(|(b, _)| b) != Some(covers) {
                    let _ = self.vfs.remove(&self.dir.join(&name));
                }
                return Err(Error::corrupt(format!(
                    "checkpoint {name} did not read back as written; kept the previous one"
                )));
            }
        }
        let mut obsolete: Vec<String> = self.deltas.drain(..).map(delta_name).collect();
        self.delta_sizes.clear();
        if let Some((old, _)) = self.base.filter(|&(c, _)| c != covers) {
            obsolete.push(checkpoint_name(old));
        }
        self.base = Some((covers, snapshot.len() as u64));
        self.delta_bytes = 0;
        self.force_full = false;
        self.covered(covers, obsolete)
    }

    fn page_store(&self) -> Option<Arc<dyn KvStore>> {
        self.pages.clone()
    }

    fn begin_pages(&mut self) -> Result<crate::storage::PagedRecovery> {
        if !self.converting || self.pages.is_some() {
            return Err(Error::invalid("this directory is not converting to pages"));
        }
        let path = self.dir.join(PAGE_STORE_FILE);
        // What an interrupted conversion left: not authoritative.
        match self.vfs.remove(&path) {
            Ok(()) => io::sync_dir(&self.vfs, &self.dir)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(format_args!("removing {PAGE_STORE_FILE}"), e)),
        }
        let cache = self
            .options
            .cache_bytes
            .unwrap_or(super::DEFAULT_CACHE_BYTES);
        let store = crate::storage::kv::open_page_store(&self.vfs, &path, store_cache(cache))?;
        self.pages = Some(store.clone());
        Ok(crate::storage::PagedRecovery {
            snapshot: store.snapshot()?,
            store,
        })
    }

    fn checkpoint_pages(&mut self, mut batch: KvBatch) -> Result<()> {
        self.check_failed()?;
        let Some(store) = self.pages.clone() else {
            return Err(Error::invalid("this region keeps no page store"));
        };
        let covers = self.next_seq;
        batch.put(
            Space::Meta,
            META_COVERS,
            layout::seal(META_COVERS, &covers.to_le_bytes()),
        );
        layout::put_format(&mut batch);
        store.commit(&batch, true)?;
        let mut obsolete = Vec::new();
        if self.converting {
            // The page store holds the region now: the manifest says so
            // before any file it replaces goes (a crash in between leaves
            // a paged directory whose leftover checkpoints are removed on
            // open, or the old directory whose page store is discarded).
            let Some(old) = self
                .pending_manifest
                .clone()
                .or_else(|| self.manifest.clone())
            else {
                return Err(Error::invalid("converting a directory without a manifest"));
            };
            let m = Manifest {
                paged: true,
                migrated_from: old.migrated_from.or(Some(DIR_FORMAT)),
                ..old
            };
            manifest::write_manifest(&self.vfs, &self.dir, &m)?;
            self.manifest = Some(m);
            self.pending_manifest = None;
            self.converting = false;
            obsolete.extend(self.base.take().map(|(n, _)| checkpoint_name(n)));
            obsolete.extend(self.deltas.drain(..).map(delta_name));
            self.delta_sizes.clear();
            self.delta_bytes = 0;
        }
        self.covered(covers, obsolete)
    }

    fn delta_allowed(&self) -> bool {
        if self.pages.is_some() {
            return false;
        }
        // While a background delta is in flight the chain's tip is not
        // known yet (it may fail): an inline checkpoint then is full. So
        // is the one after a failed background delta.
        if self.delta_flight.is_some() || self.full_flight.is_some() || self.force_full {
            return false;
        }
        match self.base {
            // With background folds the writer folds inline only when they
            // fall far behind (FOLD_HARD_FACTOR × the usual limits); the
            // size limit waits while a fold is in flight (it shortens the
            // chain soon; a small region's base is easily outgrown by the
            // deltas written meanwhile).
            Some((_, base_bytes)) if self.background_folds => {
                self.deltas.len() < MAX_DELTAS * FOLD_HARD_FACTOR
                    && (self.folding.is_some()
                        || self.delta_bytes
                            <= base_bytes.saturating_mul(FOLD_HARD_FACTOR as u64 / 2))
            }
            Some((_, base_bytes)) => {
                self.deltas.len() < MAX_DELTAS && self.delta_bytes.saturating_mul(2) <= base_bytes
            }
            None => false,
        }
    }

    fn set_background_folds(&mut self, on: bool) {
        let on = on && self.pages.is_none();
        self.background_folds = on;
    }

    fn fold_due(&self) -> bool {
        self.background_folds
            && self.folding.is_none()
            && self.failed.is_none()
            && match self.base {
                Some((_, base_bytes)) => {
                    !self.deltas.is_empty()
                        && (self.deltas.len() >= MAX_DELTAS
                            || self.delta_bytes.saturating_mul(2) > base_bytes)
                }
                None => false,
            }
    }

    fn begin_fold(&mut self) -> Result<Option<crate::storage::FoldPlan>> {
        self.check_failed()?;
        Ok(self.start_fold())
    }

    fn finish_fold(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        self.end_fold(covers, result)
    }

    fn checkpoint_delta(&mut self, payload: &[u8]) -> Result<()> {
        self.check_failed()?;
        // A migrated directory's manifest names this format before any delta.
        self.opened()?;
        let Some((base, _)) = self.base else {
            return Err(Error::invalid(
                "a delta checkpoint needs a full checkpoint under it",
            ));
        };
        let covers = self.next_seq;
        let prev = self.checkpoint.unwrap_or(base);
        if prev == covers {
            // Nothing was appended since the newest checkpoint.
            return Ok(());
        }
        let link = delta::DeltaLink {
            base,
            prev,
            next_seq: covers,
        };
        background_delta::write_delta_file(&self.vfs, &self.dir, link, payload)?;
        self.deltas.push(covers);
        self.delta_sizes.push(payload.len() as u64);
        self.delta_bytes += payload.len() as u64;
        self.covered(covers, Vec::new())
    }

    fn set_background_deltas(&mut self, on: bool) {
        let on = on && self.pages.is_none();
        self.background_deltas = on;
    }

    fn delta_due(&self) -> bool {
        self.background_deltas
            && self.delta_flight.is_none()
            && self.full_flight.is_none()
            && self.failed.is_none()
            && self.checkpoint_due()
    }

    fn inline_checkpoint_due(&self) -> bool {
        // With a driver writing them, a commit checkpoints only once the
        // log since the last checkpoint is FOLD_HARD_FACTOR times the
        // threshold (the driver fell far behind or stopped).
        self.checkpoint_due()
            && (!self.background_deltas
                || self.since_checkpoint
                    >= self
                        .options
                        .checkpoint_bytes
                        .saturating_mul(FOLD_HARD_FACTOR as u64))
    }

    fn delta_in_flight(&self) -> bool {
        self.delta_flight.is_some() || self.full_flight.is_some()
    }

    fn begin_delta(&mut self) -> Result<Option<crate::storage::DeltaPlan>> {
        self.start_delta()
    }

    fn finish_delta(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        self.end_delta(covers, result)
    }

    fn begin_full(&mut self) -> Result<Option<crate::storage::FullPlan>> {
        self.start_full()
    }

    fn finish_full(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        self.end_full(covers, result)
    }

    fn is_durable(&self) -> bool {
        true
    }

    fn opened(&mut self) -> Result<()> {
        if let Some(m) = self.pending_manifest.take() {
            manifest::write_manifest(&self.vfs, &self.dir, &m)?;
            self.manifest = Some(m);
        }
        Ok(())
    }
}

impl<V: Vfs> Drop for VfsStorage<V> {
    fn drop(&mut self) {
        if self.unsynced && self.failed.is_none() {
            // A failure here leaves the SYNC-FAILED mark for the next open.
            let _ = self.sync_active();
        }
        // The lock is released when `_lock` drops, after this.
    }
}

impl<V: Vfs> std::fmt::Debug for VfsStorage<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfsStorage")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .field("segments", &self.segments)
            .field("checkpoint", &self.checkpoint)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}
