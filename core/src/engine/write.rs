//! Turning write requests into validated column operations.

use super::row_state::RowState;
use super::visible::Visible;
use crate::model::error::{Error, Result};
use crate::model::limits::*;
use crate::model::record::ColumnOp;
use crate::model::row::{Column, RowUpdate};
use crate::model::schema::{validate_column_name, TableSchema};
use crate::model::value::Value;
use std::collections::HashSet;

/// Remembers `(column, timestamp)` pairs of one write to refuse duplicates;
/// a linear scan for the usual handful of columns, a hash set beyond.
#[derive(Default)]
struct Seen<'a> {
    few: Vec<(&'a str, i64)>,
    many: HashSet<(&'a str, i64)>,
}

impl<'a> Seen<'a> {
    fn insert(&mut self, name: &'a str, ts: i64) -> bool {
        if self.few.len() < 32 {
            if self.few.iter().any(|(n, t)| *n == name && *t == ts) {
                return false;
            }
            self.few.push((name, ts));
            true
        } else {
            !self.few.iter().any(|(n, t)| *n == name && *t == ts) && self.many.insert((name, ts))
        }
    }
}

/// Check one cell against the 2 MiB limit.
pub fn check_cell_size(name: &str, value: &Value) -> Result<()> {
    if value.size() > MAX_CELL_SIZE {
        return Err(Error::OutOfRowSizeLimit(format!(
            "column '{name}': value of {} bytes exceeds {MAX_CELL_SIZE}",
            value.size()
        )));
    }
    Ok(())
}

fn check_attr_name(schema: &TableSchema, name: &str) -> Result<()> {
    validate_column_name(name, "column")?;
    if schema.primary_key.iter().any(|c| c.name == name) {
        return Err(Error::invalid(format!(
            "'{name}' is a primary-key column and cannot be written as an attribute"
        )));
    }
    Ok(())
}

fn check_count(n: usize) -> Result<()> {
    if n > MAX_COLUMNS_PER_WRITE {
        return Err(Error::OutOfColumnCountLimit(format!(
            "{n} columns in one write exceeds {MAX_COLUMNS_PER_WRITE}"
        )));
    }
    Ok(())
}

fn check_ts(name: &str, ts: i64) -> Result<()> {
    if ts < 0 {
        return Err(Error::invalid(format!(
            "column '{name}': negative timestamp {ts}"
        )));
    }
    Ok(())
}

fn check_row_size(key_size: usize, ops: &[ColumnOp]) -> Result<()> {
    let mut size = key_size;
    for op in ops {
        size += op.name().len();
        if let ColumnOp::Put { value, .. } = op {
            size += value.size();
        }
    }
    if size > MAX_ROW_SIZE {
        return Err(Error::OutOfRowSizeLimit(format!(
            "row of {size} bytes exceeds {MAX_ROW_SIZE}"
        )));
    }
    Ok(())
}

/// Validate a `put_row`'s columns by borrowing them (nothing is copied:
/// the record is then encoded straight from them); a column without a
/// timestamp gets `now_ms`.
pub fn check_put(
    schema: &TableSchema,
    key_size: usize,
    columns: &[Column],
    now_ms: i64,
) -> Result<()> {
    check_count(columns.len())?;
    let mut seen = Seen::default();
    let mut size = key_size;
    for c in columns {
        check_attr_name(schema, &c.name)?;
        check_cell_size(&c.name, &c.value)?;
        let ts = c.timestamp.unwrap_or(now_ms);
        check_ts(&c.name, ts)?;
        if !seen.insert(c.name.as_str(), ts) {
            return Err(Error::invalid(format!(
                "column '{}' is written twice with timestamp {ts}",
                c.name
            )));
        }
        size += c.name.len() + c.value.size();
    }
    if size > MAX_ROW_SIZE {
        return Err(Error::OutOfRowSizeLimit(format!(
            "row of {size} bytes exceeds {MAX_ROW_SIZE}"
        )));
    }
    Ok(())
}

/// Column operations of a `put_row` (validated as [`check_put`] does).
pub fn put_ops(
    schema: &TableSchema,
    key_size: usize,
    columns: &[Column],
    now_ms: i64,
) -> Result<Vec<ColumnOp>> {
    check_put(schema, key_size, columns, now_ms)?;
    Ok(columns
        .iter()
        .map(|c| ColumnOp::Put {
            name: c.name.clone(),
            value: c.value.clone(),
            timestamp: c.timestamp.unwrap_or(now_ms),
        })
        .collect())
}

/// Column operations of an `update_row`; increments read `current`. A
/// version delete is kept only when `state` holds a value at that timestamp:
/// a version tombstone takes one of the newest `max_versions` places
/// (FORMAT.md §5.1), so deleting a version the row does not hold must not
/// hide the ones it does.
pub fn update_ops(
    schema: &TableSchema,
    key_size: usize,
    update: &RowUpdate,
    current: Option<&Visible<'_>>,
    state: Option<&RowState>,
    now_ms: i64,
) -> Result<Vec<ColumnOp>> {
    if update.is_empty() {
        return Err(Error::invalid(
            "update_row needs at least one column operation",
        ));
    }
    check_count(update.len())?;
    let mut seen = Seen::default();
    let mut ops = Vec::with_capacity(update.len());
    for c in &update.put {
        check_attr_name(schema, &c.name)?;
        check_cell_size(&c.name, &c.value)?;
        let ts = c.timestamp.unwrap_or(now_ms);
        check_ts(&c.name, ts)?;
        if !seen.insert(c.name.as_str(), ts) {
            return Err(Error::invalid(format!(
                "column '{}' is written twice with timestamp {ts}",
                c.name
            )));
        }
        ops.push(ColumnOp::Put {
            name: c.name.clone(),
            value: c.value.clone(),
            timestamp: ts,
        });
    }
    for (name, by) in &update.increment {
        check_attr_name(schema, name)?;
        let base = match current.and_then(|v| v.get(name)).and_then(|vs| vs.first()) {
            None => 0,
            Some((_, Value::Integer(i))) => *i,
            Some((_, other)) => {
                return Err(Error::invalid(format!(
                    "cannot increment column '{name}' of type {}",
                    other.value_type().name()
                )))
            }
        };
        let value = base.checked_add(*by).ok_or_else(|| {
            Error::invalid(format!("increment of column '{name}' overflows INTEGER"))
        })?;
        if !seen.insert(name.as_str(), now_ms) {
            return Err(Error::invalid(format!(
                "column '{name}' is written twice with timestamp {now_ms}"
            )));
        }
        ops.push(ColumnOp::Put {
            name: name.clone(),
            value: Value::Integer(value),
            timestamp: now_ms,
        });
    }
    for (name, ts) in &update.delete {
        check_attr_name(schema, name)?;
        check_ts(name, *ts)?;
        if !state.is_some_and(|s| s.has_value(name, *ts)) {
            continue;
        }
        ops.push(ColumnOp::DeleteOneVersion {
            name: name.clone(),
            timestamp: *ts,
        });
    }
    for name in &update.delete_all {
        check_attr_name(schema, name)?;
        ops.push(ColumnOp::DeleteAllVersions { name: name.clone() });
    }
    check_row_size(key_size, &ops)?;
    Ok(ops)
}
