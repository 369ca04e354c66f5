//! Building the rows reads return.

use super::condition::{evaluate, validate};
use super::table::StoredRow;
use super::visible::{row_visible, Visible};
use crate::client::types::{Cell, GetOptions, Row};
use crate::codec::key::decode_key;
use crate::model::error::{Error, Result};
use crate::model::schema::{validate_name, TableSchema};

/// Check read options.
pub fn validate_get_options(o: &GetOptions) -> Result<()> {
    if o.max_versions == 0 {
        return Err(Error::invalid("max_versions must be at least 1"));
    }
    if let Some(cols) = &o.columns {
        if cols.len() > crate::model::limits::MAX_COLUMNS_PER_WRITE {
            return Err(Error::OutOfColumnCountLimit(format!(
                "{} columns to get exceeds {}",
                cols.len(),
                crate::model::limits::MAX_COLUMNS_PER_WRITE
            )));
        }
        for c in cols {
            validate_name(c, "column")?;
        }
    }
    if let Some(r) = &o.time_range {
        if r.start < 0 || r.start >= r.end {
            return Err(Error::invalid(format!(
                "time range [{}, {}) is empty or negative",
                r.start, r.end
            )));
        }
    }
    if let Some(f) = &o.filter {
        validate(f)?;
    }
    Ok(())
}

/// The row a read returns for a stored row, or `None` when it does not exist
/// or the filter rejects it. The filter sees every visible column; the
/// projection (`columns`) and `max_versions` apply to what is returned.
pub fn read_row(
    schema: &TableSchema,
    key: &[u8],
    stored: &StoredRow,
    o: &GetOptions,
    now_ms: i64,
) -> Result<Option<Row>> {
    if stored.digest.is_none() {
        return Ok(None);
    }
    let state = stored.decode()?;
    if !row_visible(&state, &schema.options, now_ms) {
        return Ok(None);
    }
    let pk = decode_key(schema, key)?;
    let visible = Visible::of(&state, &schema.options, now_ms, o.time_range.as_ref());
    if let Some(f) = &o.filter {
        if !evaluate(f, &pk, Some(&visible)) {
            return Ok(None);
        }
    }
    let mut cells = Vec::new();
    for (name, versions) in &visible.columns {
        if let Some(cols) = &o.columns {
            if !cols.iter().any(|c| c == name) {
                continue;
            }
        }
        for (ts, v) in versions.iter().take(o.max_versions as usize) {
            cells.push(Cell {
                name: name.to_string(),
                value: (*v).clone(),
                timestamp: *ts,
            });
        }
    }
    Ok(Some(Row {
        primary_key: pk,
        cells,
    }))
}
