//! `digest` and `log`.

use super::stdout_error;
use crate::error::CliResult;
use crate::open::open_existing;
use crate::rowjson::record_to_json;
use std::io::Write;
use std::path::Path;
use tablesync::SyncPolicy;

/// Print a table's digest, optionally after rehashing every row.
pub fn digest(dir: &Path, region: Option<&str>, table: &str, verify: bool) -> CliResult<()> {
    let mut db = open_existing(dir, region, SyncPolicy::Always)?;
    let d = if verify {
        db.verify_table_digest(table)?
    } else {
        db.table_digest(table)?
    };
    db.close()?;
    println!("{d}");
    Ok(())
}

/// Print change-log records.
pub fn log(dir: &Path, region: Option<&str>, since: u64, limit: usize) -> CliResult<()> {
    let mut db = open_existing(dir, region, SyncPolicy::Always)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut cursor = since;
    let mut left = limit;
    // Pages are capped by the core; walk them until `limit` records are out.
    while left > 0 {
        let page = db.changes_since(cursor, left.min(10_000))?;
        if page.records.is_empty() {
            break;
        }
        for r in &page.records {
            writeln!(out, "{}", record_to_json(r)).map_err(stdout_error)?;
        }
        left -= page.records.len();
        cursor = page.next_cursor;
    }
    out.flush().map_err(stdout_error)?;
    drop(out);
    db.close()?;
    Ok(())
}
