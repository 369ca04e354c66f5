//! The SQLite reference ([`crate::sqlite_file`]: WAL, `synchronous=NORMAL`,
//! `cache_size` = the bench's cache): 200-row transactions, point gets by
//! `uid`, a scan in `uid` order; gets and the scan read every column, as
//! ours return every column.

use crate::data;
use crate::engine::{batches, text, Reader};
use crate::sqlite_file;
use rusqlite::{params, Connection};
use std::path::Path;

fn cache_mib(cache_bytes: u64) -> u64 {
    (cache_bytes / (1 << 20)).max(1)
}

/// Load rows 1..=n.
pub fn load(path: &Path, n: u64, cache_bytes: u64) -> Result<(), String> {
    let mut c = sqlite_file::open(path, cache_mib(cache_bytes)).map_err(text)?;
    sqlite_file::create_table(&c).map_err(text)?;
    write(&mut c, n)?;
    c.close().map_err(|(_, e)| e.to_string())
}

/// Rewrite rows 1..=rows, then exit without closing.
pub fn rewrite_then_exit(path: &Path, rows: u64, cache_bytes: u64) -> Result<(), String> {
    let mut c = sqlite_file::open(path, cache_mib(cache_bytes)).map_err(text)?;
    write(&mut c, rows)?;
    std::process::exit(0)
}

fn write(c: &mut Connection, n: u64) -> Result<(), String> {
    for (start, end) in batches(n) {
        let tx = c.transaction().map_err(text)?;
        for uid in start..=end {
            sqlite_file::put(&tx, &data::rec(uid)).map_err(text)?;
        }
        tx.commit().map_err(text)?;
    }
    Ok(())
}

struct SqliteReader(Connection);

/// Open for reading.
pub fn open(path: &Path, cache_bytes: u64) -> Result<Box<dyn Reader>, String> {
    Ok(Box::new(SqliteReader(
        sqlite_file::open(path, cache_mib(cache_bytes)).map_err(text)?,
    )))
}

impl Reader for SqliteReader {
    fn get(&mut self, uid: i64) -> Result<bool, String> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT * FROM users WHERE uid = ?1")
            .map_err(text)?;
        let mut rows = stmt.query(params![uid]).map_err(text)?;
        match rows.next().map_err(text)? {
            Some(row) => {
                std::hint::black_box(data::rec_from_sqlite(row).map_err(text)?);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn scan(&mut self, limit: u64) -> Result<u64, String> {
        let mut stmt = self
            .0
            .prepare("SELECT * FROM users ORDER BY uid LIMIT ?1")
            .map_err(text)?;
        let mut q = stmt.query(params![limit as i64]).map_err(text)?;
        let mut rows = 0;
        while let Some(row) = q.next().map_err(text)? {
            std::hint::black_box(data::rec_from_sqlite(row).map_err(text)?);
            rows += 1;
        }
        Ok(rows)
    }
}
