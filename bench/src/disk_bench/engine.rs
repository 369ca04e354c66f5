//! The engines `disk-bench` measures, behind one small interface: load `n`
//! rows in batches, then (in another process) open and read.

use std::path::Path;

/// Rows per commit for every engine (storage-bench's batch size).
pub const BATCH: u64 = 200;

/// Reads on an opened store.
pub trait Reader {
    /// Get row `uid` and decode it; whether it was found.
    fn get(&mut self, uid: i64) -> Result<bool, String>;
    /// Read the first `limit` rows in key order, decoding each; rows read.
    fn scan(&mut self, limit: u64) -> Result<u64, String>;
    /// Read the first `limit` rows in key order without decoding the row
    /// state (what the engine alone costs); the same as [`Reader::scan`]
    /// where the engine hands back decoded rows (SQLite, tablesync).
    fn scan_raw(&mut self, limit: u64) -> Result<u64, String> {
        self.scan(limit)
    }
    /// What the engine holds, for a person reading (printed to stderr by
    /// the read phase when `DISK_BENCH_DETAIL` is set); empty by default.
    fn detail(&self) -> String {
        String::new()
    }
}

/// One engine under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// SQLite file database, WAL, `synchronous=NORMAL`.
    Sqlite,
    /// redb, every batch a durable (`Durability::Immediate`) commit.
    Redb,
    /// redb as it would sit under our change log: batches committed with
    /// `Durability::None`, a durable commit every [`crate::redb_store::CHECKPOINT_ROWS`]
    /// rows and at the end (the checkpoint; the WAL holds what is newer).
    RedbCkpt,
    /// `RedbCkpt` with redb's quick repair on its durable commits (the
    /// allocator state saved with each, so opening after a crash need not
    /// rebuild it from the whole file).
    RedbCkptQr,
    /// tablesync's page store (`RedbKv` over the core's `Vfs`) with
    /// `RedbCkptQr`'s commit rule.
    RedbKv,
    /// fjall (LSM tree), each batch written to the OS, fsync at the end.
    Fjall,
    /// tablesync's durable region with every row in memory (`Database::open`, `sync=batch`).
    Ours,
    /// tablesync's paged region: rows in its page store behind `cache_bytes`
    /// (`sync=batch`, change log capped by retention: see ours_store.rs).
    OursPaged,
}

impl Engine {
    /// Every engine, SQLite (the reference) first.
    pub const ALL: [Engine; 8] = [
        Engine::Sqlite,
        Engine::Redb,
        Engine::RedbCkpt,
        Engine::RedbCkptQr,
        Engine::RedbKv,
        Engine::Fjall,
        Engine::Ours,
        Engine::OursPaged,
    ];

    /// Name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Redb => "redb",
            Engine::RedbCkpt => "redb-ckpt",
            Engine::RedbCkptQr => "redb-ckpt-qr",
            Engine::RedbKv => "redb-kv",
            Engine::Fjall => "fjall",
            Engine::Ours => "tablesync",
            Engine::OursPaged => "tablesync-paged",
        }
    }

    /// The engine named `s`.
    pub fn parse(s: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == s)
    }

    /// Create the store at `path` and load rows 1..=n in batches of [`BATCH`].
    pub fn load(self, path: &Path, n: u64, cache_bytes: u64) -> Result<(), String> {
        match self {
            Engine::Sqlite => crate::sqlite_store::load(path, n, cache_bytes),
            Engine::Redb | Engine::RedbCkpt | Engine::RedbCkptQr => {
                crate::redb_store::load(path, n, cache_bytes, self.redb_mode())
            }
            Engine::RedbKv => crate::kv_store::load(path, n, cache_bytes),
            Engine::Fjall => crate::fjall_store::load(path, n, cache_bytes),
            Engine::Ours => crate::ours_store::load(path, n, None),
            Engine::OursPaged => crate::ours_store::load(path, n, Some(cache_bytes)),
        }
    }

    fn redb_mode(self) -> crate::redb_store::Commits {
        use crate::redb_store::Commits;
        match self {
            Engine::RedbCkpt => Commits::Checkpoint,
            Engine::RedbCkptQr => Commits::CheckpointQuickRepair,
            _ => Commits::Durable,
        }
    }

    /// Open the existing store at `path`, rewrite rows 1..=rows in batches
    /// (the load's commit rule), then exit the process without closing
    /// anything: a crash with `rows` rows written since the load.
    pub fn rewrite_then_exit(self, path: &Path, rows: u64, cache_bytes: u64) -> Result<(), String> {
        match self {
            Engine::Sqlite => crate::sqlite_store::rewrite_then_exit(path, rows, cache_bytes),
            Engine::Redb | Engine::RedbCkpt | Engine::RedbCkptQr => {
                crate::redb_store::rewrite_then_exit(path, rows, cache_bytes, self.redb_mode())
            }
            Engine::RedbKv => crate::kv_store::rewrite_then_exit(path, rows, cache_bytes),
            Engine::Fjall => crate::fjall_store::rewrite_then_exit(path, rows, cache_bytes),
            Engine::Ours => crate::ours_store::rewrite_then_exit(path, rows, None),
            Engine::OursPaged => {
                crate::ours_store::rewrite_then_exit(path, rows, Some(cache_bytes))
            }
        }
    }

    /// Open the store at `path` for reading.
    pub fn open(self, path: &Path, cache_bytes: u64) -> Result<Box<dyn Reader>, String> {
        match self {
            Engine::Sqlite => crate::sqlite_store::open(path, cache_bytes),
            Engine::Redb | Engine::RedbCkpt | Engine::RedbCkptQr => {
                crate::redb_store::open(path, cache_bytes)
            }
            Engine::RedbKv => crate::kv_store::open(path, cache_bytes),
            Engine::Fjall => crate::fjall_store::open(path, cache_bytes),
            Engine::Ours => crate::ours_store::open(path, None),
            Engine::OursPaged => crate::ours_store::open(path, Some(cache_bytes)),
        }
    }
}

/// `[start, end]` uid ranges of the batches loading rows 1..=n.
pub fn batches(n: u64) -> impl Iterator<Item = (i64, i64)> {
    (0..n.div_ceil(BATCH)).map(move |b| {
        let start = b * BATCH + 1;
        (start as i64, (start + BATCH - 1).min(n) as i64)
    })
}

/// Any error as a string.
pub fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
