//! `put`, `get`, `delete` and `scan`.

use super::{condition, stdout_error};
use crate::args::{ConditionArg, ScanArgs};
use crate::error::{CliError, CliResult};
use crate::open::{open_existing, parse_primary_key, parse_range_bound, schema_of};
use crate::rowjson::{push_pk, row_to_json};
use crate::values::parse_column_arg;
use std::io::Write;
use std::path::Path;
use tablesync::{Column, Direction, GetOptions, RangeOptions, SyncPolicy};

fn read_options(max_versions: u32, columns: Vec<String>) -> GetOptions {
    GetOptions {
        columns: if columns.is_empty() {
            None
        } else {
            Some(columns)
        },
        max_versions,
        ..GetOptions::default()
    }
}

/// Write one row.
#[allow(clippy::too_many_arguments)]
pub fn put(
    dir: &Path,
    region: Option<&str>,
    sync: SyncPolicy,
    table: &str,
    pk: &[String],
    cols: &[String],
    timestamp: Option<i64>,
    cond: ConditionArg,
) -> CliResult<()> {
    let columns = cols
        .iter()
        .map(|c| {
            let (name, value) = parse_column_arg(c)?;
            let col = Column::new(name, value);
            Ok(match timestamp {
                Some(ts) => col.at(ts),
                None => col,
            })
        })
        .collect::<CliResult<Vec<_>>>()?;
    let mut db = open_existing(dir, region, sync)?;
    let schema = schema_of(&db, table)?;
    let key = parse_primary_key(&schema, pk)?;
    let written = db.put_row(table, key, columns, condition(cond))?;
    db.close()?;
    let mut key_json = String::new();
    push_pk(&mut key_json, &written);
    println!("put {key_json}");
    Ok(())
}

/// Read one row.
pub fn get(
    dir: &Path,
    region: Option<&str>,
    table: &str,
    pk: &[String],
    max_versions: u32,
    columns: Vec<String>,
) -> CliResult<()> {
    let mut db = open_existing(dir, region, SyncPolicy::Always)?;
    let schema = schema_of(&db, table)?;
    let key = parse_primary_key(&schema, pk)?;
    let row = db.get_row(table, &key, &read_options(max_versions, columns))?;
    db.close()?;
    match row {
        Some(r) => println!("{}", row_to_json(&r, true)),
        None => println!("null"),
    }
    Ok(())
}

/// Delete one row.
pub fn delete(
    dir: &Path,
    region: Option<&str>,
    sync: SyncPolicy,
    table: &str,
    pk: &[String],
    cond: ConditionArg,
) -> CliResult<()> {
    let mut db = open_existing(dir, region, sync)?;
    let schema = schema_of(&db, table)?;
    let key = parse_primary_key(&schema, pk)?;
    db.delete_row(table, key, condition(cond))?;
    db.close()?;
    println!("deleted");
    Ok(())
}

/// Print a range as JSON Lines.
pub fn scan(a: &ScanArgs, region: Option<&str>) -> CliResult<()> {
    if a.limit == Some(0) {
        return Err(CliError::arg("--limit must be at least 1"));
    }
    let mut db = open_existing(&a.dir, region, SyncPolicy::Always)?;
    let schema = schema_of(&db, &a.table)?;
    let direction = if a.backward {
        Direction::Backward
    } else {
        Direction::Forward
    };
    let (low, high) = (direction.first_bound(), direction.last_bound());
    // Key columns a bound leaves out take the value that comes first in the
    // scan's direction (INF_MIN forward, INF_MAX backward): `--start uid=5
    // --end uid=9` covers every row with uid 5 to 8, whatever the other columns.
    let start = parse_range_bound(&schema, &a.start, low.clone())?;
    let end = if a.end.is_empty() {
        parse_range_bound(&schema, &[], high)?
    } else {
        parse_range_bound(&schema, &a.end, low)?
    };
    let options = RangeOptions {
        direction,
        limit: None,
        read: read_options(a.max_versions, Vec::new()),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let rows = db.scan(&a.table, start, end, options);
    for row in rows.take(a.limit.unwrap_or(usize::MAX)) {
        writeln!(out, "{}", row_to_json(&row?, true)).map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    drop(out);
    db.close()?;
    Ok(())
}
