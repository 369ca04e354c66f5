//! tablesync's durable region as it is today: `Database::open` on a
//! directory with `sync=batch` (group commit: entries reach the OS at once,
//! fsync every 4,096 entries or 10 ms, and at close — the mode comparable
//! to SQLite's WAL with `synchronous=NORMAL`). Without a cache every row is
//! in memory once open; with one (`tablesync-paged`) the rows live in the
//! region's page store behind `cache_bytes`, and the change log is capped
//! at 100,000 records by retention (the log of a paged region is still
//! held in memory whole: issue 11 item 2), so both sides keep the rows and
//! a bounded history — SQLite keeps no history at all.

use crate::data;
use crate::engine::{batches, text, Reader};
use std::path::Path;
use tablesync::{
    Database, DatabaseOptions, GetOptions, PkBound, PrimaryKey, RangeBound, RangeOptions,
    SyncPolicy,
};

fn options(cache: Option<u64>) -> DatabaseOptions {
    let o = DatabaseOptions::new("bench").sync(SyncPolicy::Batch);
    match cache {
        Some(c) => o.cache_bytes(c).retention(tablesync::Retention {
            max_records: Some(100_000),
            max_age_ms: None,
        }),
        None => o.rows_in_memory(),
    }
}

/// Load rows 1..=n.
pub fn load(path: &Path, n: u64, cache: Option<u64>) -> Result<(), String> {
    let mut db = Database::open(path, options(cache)).map_err(text)?;
    db.create_table(data::schema()).map_err(text)?;
    write(&mut db, n)?;
    db.close().map_err(text)
}

/// Rewrite rows 1..=rows (`visits` + 1: real changes, logged), then exit
/// without closing (the entries are in the OS, like storage-bench's crash).
pub fn rewrite_then_exit(path: &Path, rows: u64, cache: Option<u64>) -> Result<(), String> {
    let mut db = Database::open(path, options(cache)).map_err(text)?;
    for (start, end) in batches(rows) {
        let ops = (start..=end)
            .map(|u| {
                let mut r = data::rec(u);
                r.visits += 1;
                r.put()
            })
            .collect();
        for r in db.batch_write(ops).map_err(text)? {
            r.map_err(text)?;
        }
    }
    db.flush().map_err(text)?;
    std::process::exit(0)
}

fn write(db: &mut Database, n: u64) -> Result<(), String> {
    for (start, end) in batches(n) {
        let ops = (start..=end).map(|u| data::rec(u).put()).collect();
        for r in db.batch_write(ops).map_err(text)? {
            r.map_err(text)?;
        }
    }
    Ok(())
}

struct OursReader(Database);

/// Open for reading.
pub fn open(path: &Path, cache: Option<u64>) -> Result<Box<dyn Reader>, String> {
    Ok(Box::new(OursReader(
        Database::open(path, options(cache)).map_err(text)?,
    )))
}

impl Reader for OursReader {
    fn get(&mut self, uid: i64) -> Result<bool, String> {
        let row = self
            .0
            .get_row(
                data::TABLE,
                &PrimaryKey::new([("uid", uid)]),
                &GetOptions::default(),
            )
            .map_err(text)?;
        // A paged region trims what reads faulted in back to its cache.
        self.0.maybe_trim_cache();
        Ok(std::hint::black_box(row).is_some())
    }

    fn scan(&mut self, limit: u64) -> Result<u64, String> {
        let mut rows = 0;
        for r in self.0.scan(
            data::TABLE,
            RangeBound::new([("uid", PkBound::InfMin)]),
            RangeBound::new([("uid", PkBound::InfMax)]),
            RangeOptions::default(),
        ) {
            if rows == limit {
                break;
            }
            std::hint::black_box(r.map_err(text)?);
            rows += 1;
        }
        Ok(rows)
    }

    fn detail(&self) -> String {
        format!(
            "{:?}\n{:?}",
            self.0.paged_stats(),
            self.0.page_stats(data::TABLE)
        )
    }
}
