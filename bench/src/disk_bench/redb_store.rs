//! redb: one table, key = encoded primary key, value = encoded row state
//! ([`crate::row_bytes`]), page cache set with `Builder::set_cache_size`.

use crate::engine::{batches, text, Reader};
use crate::row_bytes;
use redb::{Builder, Database, Durability, ReadOnlyTable, ReadableDatabase, TableDefinition};
use std::path::Path;

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("users");

/// Rows between durable commits in the checkpoint modes.
pub const CHECKPOINT_ROWS: u64 = 10_000;

/// How batches are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commits {
    /// Every batch durable (`Durability::Immediate`).
    Durable,
    /// Batches non-durable, a durable commit every [`CHECKPOINT_ROWS`] rows
    /// and at the end.
    Checkpoint,
    /// `Checkpoint` with quick repair on the durable commits.
    CheckpointQuickRepair,
}

fn builder(cache_bytes: u64) -> Builder {
    let mut b = Builder::new();
    b.set_cache_size(cache_bytes as usize);
    b
}

/// Load rows 1..=n, committing as `commits` says.
pub fn load(path: &Path, n: u64, cache_bytes: u64, commits: Commits) -> Result<(), String> {
    let db = builder(cache_bytes).create(path).map_err(text)?;
    write(&db, n, commits)
}

/// Rewrite rows 1..=rows of an existing file, then exit without closing it.
pub fn rewrite_then_exit(
    path: &Path,
    rows: u64,
    cache_bytes: u64,
    commits: Commits,
) -> Result<(), String> {
    let db = builder(cache_bytes).open(path).map_err(text)?;
    write(&db, rows, commits)?;
    std::process::exit(0)
}

fn write(db: &Database, n: u64, commits: Commits) -> Result<(), String> {
    for (start, end) in batches(n) {
        let mut tx = db.begin_write().map_err(text)?;
        let durable = commits == Commits::Durable
            || end as u64 == n
            || (end as u64).is_multiple_of(CHECKPOINT_ROWS);
        if !durable {
            tx.set_durability(Durability::None).map_err(text)?;
        } else if commits == Commits::CheckpointQuickRepair {
            tx.set_quick_repair(true);
        }
        {
            let mut t = tx.open_table(TABLE).map_err(text)?;
            for uid in start..=end {
                let (k, v) = (row_bytes::key(uid), row_bytes::state(uid));
                t.insert(k.as_slice(), v.as_slice()).map_err(text)?;
            }
        }
        tx.commit().map_err(text)?;
    }
    Ok(())
}

struct RedbReader {
    // Keeps the database open for the table's lifetime.
    _db: Database,
    table: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

/// Open for reading (one read transaction for the whole phase).
pub fn open(path: &Path, cache_bytes: u64) -> Result<Box<dyn Reader>, String> {
    let db = builder(cache_bytes).open(path).map_err(text)?;
    let table = db
        .begin_read()
        .map_err(text)?
        .open_table(TABLE)
        .map_err(text)?;
    Ok(Box::new(RedbReader { _db: db, table }))
}

impl Reader for RedbReader {
    fn get(&mut self, uid: i64) -> Result<bool, String> {
        let k = row_bytes::key(uid);
        match self.table.get(k.as_slice()).map_err(text)? {
            Some(v) => row_bytes::decode(v.value()).map(|_| true),
            None => Ok(false),
        }
    }

    fn scan(&mut self, limit: u64) -> Result<u64, String> {
        self.walk(limit, true)
    }

    fn scan_raw(&mut self, limit: u64) -> Result<u64, String> {
        self.walk(limit, false)
    }
}

impl RedbReader {
    fn walk(&mut self, limit: u64, decode: bool) -> Result<u64, String> {
        let mut rows = 0;
        for kv in self.table.range::<&[u8]>(..).map_err(text)? {
            if rows == limit {
                break;
            }
            let (_, v) = kv.map_err(text)?;
            if decode {
                row_bytes::decode(v.value())?;
            } else {
                std::hint::black_box(v.value().len());
            }
            rows += 1;
        }
        Ok(rows)
    }
}
