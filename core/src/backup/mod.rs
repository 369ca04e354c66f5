//! Backups, sans-IO over a narrow [`ObjectStore`] trait: a repository of
//! content-addressed, checksummed, lz4-compressed and optionally encrypted
//! chunks, with one manifest per backup (FORMAT.md §19).
//!
//! - [`create_backup`]: a full backup (every row, plus the retained change
//!   log and each table's row-id map) or an incremental one (the change
//!   records since its parent, and the rows whose state id changed since
//!   it, so rows that arrived by reconcile sync are kept too);
//!   the manifest is written last, so an interrupted backup never appears,
//!   and chunks already stored are skipped, so the next run resumes.
//! - [`restore`]: the latest backup, a named one, or any stamp the chain
//!   covers, for all tables or some (optionally renamed); digests are
//!   compared with the manifests at every backup point passed.
//! - [`verify`]: checks every object (or a rotating sample) without
//!   restoring; `deep` replays each chain into scratch regions.
//! - [`prune`]: `keep_last` / `keep_daily` retention.
//!
//! History: a full backup also stores the records its region's log still
//! holds. When that log was never truncated and replaying it into empty
//! tables gives the same digests (checked while backing up), the chain
//! covers every stamp from 0; otherwise it covers stamps from the full
//! backup's point on.
//!
//! `Database` implements [`BackupSource`] and [`RestoreTarget`]; its
//! `backup` / `restore_from` methods wrap these functions.

mod bundle;
mod chunk;
mod config;
mod create;
mod crypto;
mod history;
mod manifest;
mod object;
mod pipeline;
mod prune;
mod repo;
mod restore;
mod source;
mod store;
mod verify;

pub use bundle::{
    bundle_store, decode_bundle, encode_bundle, encode_objects, BUNDLE_VERSION, MAGIC_BUNDLE,
};
pub use chunk::{
    decode_chunk, key_hash, row_id_payloads, ChunkBuilder, ChunkItems, ChunkSizes, CHUNK_RECORDS,
    CHUNK_ROWS, CHUNK_ROW_IDS,
};
pub use config::{RepoConfig, CONFIG_NAME, REPO_FORMAT_VERSION};
pub use create::{create_backup, BackupMode, BackupOptions, BackupOutcome};
pub use crypto::{KdfParams, KeySlot, KeySource, Keys};
pub use manifest::{id_hex, BackupKind, Manifest, ObjectId, TableEntry, MANIFEST_VERSION};
pub use object::{decode_object, encode_object, ObjectKind, MAGIC_BACKUP, OBJECT_VERSION};
pub use prune::{keep_set, prune, PrunePolicy, PruneReport};
pub use repo::{
    chunk_name, manifest_name, BackupInfo, Repository, INIT_RANDOM_LEN, SLOT_RANDOM_LEN,
};
pub use restore::{plan, restore, RestoreOptions, RestorePoint, RestoreReport};
pub use source::{BackupSource, RecordVisitor, RestoreTarget, RowIdVisitor, RowVisitor};
pub use store::{MemoryStore, ObjectStore};
pub use verify::{in_sample, verify, VerifyOptions, VerifyReport};

/// Progress of a long backup, restore or verify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Items (rows, records or chunks) done.
    pub done: u64,
    /// Items expected in all.
    pub total: u64,
    /// Uncompressed bytes processed.
    pub bytes: u64,
}
