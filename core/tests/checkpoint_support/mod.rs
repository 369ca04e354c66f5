//! Helpers shared by the background checkpoint tests
//! (`background_delta.rs`, `background_full.rs`): a region on a manual
//! clock, its checkpoint files, and a region on a simulated disk.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::{FsOptions, VfsStorage};
use tablesync::storage::vfs::SimFs;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema,
};

/// Start of the manual clock.
pub const T0: i64 = 1_700_000_000_000;

/// Region "eu" on `clock`, without fsyncs, checkpointing every
/// `checkpoint_bytes` of log.
pub fn options(clock: &ManualClock, checkpoint_bytes: u64) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(checkpoint_bytes)
}

/// A table keyed by one integer `k`.
pub fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("k", PkType::Integer)])
}

/// Put row `k` with column `v`.
pub fn put(db: &mut Database, table: &str, k: i64, v: &str) {
    db.put_row(
        table,
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .unwrap();
}

/// Files of `dir` whose name starts with `prefix`: name → bytes.
pub fn files(dir: &Path, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Names of the checkpoint files of `dir` ending in `suffix`, sorted.
pub fn names(dir: &Path, suffix: &str) -> Vec<String> {
    files(dir, "checkpoint-")
        .into_keys()
        .filter(|n| n.ends_with(suffix))
        .collect()
}

/// The region's state after reopening `dir`.
pub fn reopened(dir: &Path, clock: &ManualClock) -> Vec<u8> {
    let db = Database::open(dir, options(clock, 1 << 30)).unwrap();
    db.export_snapshot().unwrap()
}

/// Assert the checkpoint chain of `dir` alone holds `want`: with every
/// log segment deleted, the region reopens as `want`.
pub fn reopens_from_checkpoints_alone(dir: &Path, clock: &ManualClock, want: &[u8]) {
    for name in files(dir, "wal-").into_keys() {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    assert_eq!(reopened(dir, clock), want);
}

/// Where the simulated region lives.
pub const SIM_DIR: &str = "/data/region";

/// Region "power" on the simulated disk, `sync=always`, no automatic
/// checkpoints.
pub fn sim_open(fs: &SimFs) -> tablesync::Result<Database> {
    let options = DatabaseOptions::new("power").checkpoint_bytes(1 << 30);
    let fso = FsOptions::new(SyncPolicy::Always, options.checkpoint_bytes);
    let now = options.clock.now_ms();
    let storage = VfsStorage::open_region_in(fs.clone(), Path::new(SIM_DIR), fso, "power", now)?;
    Database::with_storage(options, Box::new(storage))
}

/// Checkpoint files on the simulated disk, sorted.
pub fn sim_checkpoints(fs: &SimFs) -> Vec<String> {
    let mut v: Vec<String> = fs
        .files()
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    v.sort();
    v
}
