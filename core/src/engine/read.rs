//! Building the rows reads return.

use super::condition::{evaluate, validate};
use super::table::StoredRow;
use super::visible::{row_visible, Visible};
use crate::codec::key::decode_key;
use crate::model::error::{Error, Result};
use crate::model::read_options::GetOptions;
use crate::model::row::{Cell, Row};
use crate::model::schema::{validate_column_name, TableSchema};

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
            validate_column_name(c, "column")?;
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
    stored: StoredRow<'_>,
    o: &GetOptions,
    now_ms: i64,
) -> Result<Option<Row>> {
    if stored.digest.is_none() {
        return Ok(None);
    }
    if o.filter.is_none() {
        return read_row_direct(schema, key, stored.state, o, now_ms);
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

/// [`read_row`] without a filter, straight from the encoded state (FORMAT.md
/// §5): no intermediate row state is built, only the returned cells.
/// Stored states are normalized, so every version holding a value is live.
fn read_row_direct(
    schema: &TableSchema,
    key: &[u8],
    state: &[u8],
    o: &GetOptions,
    now_ms: i64,
) -> Result<Option<Row>> {
    use crate::codec::buf::Reader;
    use crate::codec::value::read_value_body;
    let opts = &schema.options;
    let expired_before = if opts.time_to_live < 0 {
        i64::MIN
    } else {
        now_ms.saturating_sub(opts.time_to_live.saturating_mul(1000))
    };
    let mut r = Reader::new(state, "row state");
    let n = r.count()?;
    r.take(
        n.checked_mul(16)
            .ok_or_else(|| r.error("stamp table too large"))?,
    )?;
    r.varint()?; // deleted
    r.varint()?; // live (the caller checked the row exists)
    let mut cells = Vec::new();
    let (mut has_live, mut has_unexpired) = (false, false);
    for _ in 0..r.count()? {
        let name = r.string()?;
        r.varint()?; // cleared
        let wanted = o
            .columns
            .as_ref()
            .is_none_or(|cols| cols.iter().any(|c| c == name));
        let (mut seen, mut returned) = (0u32, 0u32);
        for _ in 0..r.count()? {
            let ts = r.zigzag()?;
            r.varint()?; // stamp
            let tag = r.u8()?;
            // A version tombstone takes one of the newest `max_versions` places.
            seen = seen.saturating_add(1);
            if tag == 0 {
                continue;
            }
            let in_top = seen <= opts.max_versions;
            has_live |= in_top;
            let in_view = in_top && ts > expired_before;
            has_unexpired |= in_view;
            let in_range = o
                .time_range
                .as_ref()
                .is_none_or(|t| ts >= t.start && ts < t.end);
            if wanted && in_view && in_range && returned < o.max_versions {
                returned += 1;
                let value = read_value_body(&mut r, tag)?;
                cells.push(Cell {
                    name: name.to_string(),
                    value,
                    timestamp: ts,
                });
            } else {
                read_value_body(&mut r, tag)?;
            }
        }
    }
    r.finish()?;
    if has_live && !has_unexpired {
        return Ok(None); // every version expired
    }
    Ok(Some(Row {
        primary_key: decode_key(schema, key)?,
        cells,
    }))
}
