//! Read options, attribute columns to write and row updates.

use crate::condition::{to_column_condition, to_condition};
use crate::error::{invalid, type_error, JsResult};
use crate::js;
use crate::value::{require_integer, to_value};
use tablesync::{Column, Condition, Direction, GetOptions, RangeOptions, RowUpdate, TimeRange};
use wasm_bindgen::prelude::*;

/// Option names of `getRow` (and of each `batchGet` request).
pub const GET_KEYS: &[&str] = &["columns", "maxVersions", "timeRange", "filter"];
/// Option names of `getRange`.
pub const RANGE_KEYS: &[&str] = &[
    "columns",
    "maxVersions",
    "timeRange",
    "filter",
    "direction",
    "limit",
];

fn time_range(v: &JsValue) -> JsResult<TimeRange> {
    let (start, end) = if js::is_array(v) {
        match js::array_items(v, "timeRange")?.as_slice() {
            [s, e] => (s.clone(), e.clone()),
            _ => return Err(type_error("timeRange must be [start, end]")),
        }
    } else if js::is_object(v) {
        js::check_keys(v, &["start", "end"], "timeRange")?;
        (js::get(v, "start")?, js::get(v, "end")?)
    } else {
        return Err(type_error(
            "timeRange must be [start, end] or { start, end }",
        ));
    };
    let start = require_integer(&start, &"timeRange start")?;
    let end = require_integer(&end, &"timeRange end")?;
    Ok(TimeRange { start, end })
}

/// Read options from an options object (already key-checked).
pub fn to_get_options(opts: &Option<JsValue>) -> JsResult<GetOptions> {
    let mut out = GetOptions::default();
    if let Some(v) = js::opt(opts, "columns")? {
        let names = js::array_items(&v, "columns")?
            .iter()
            .map(|n| js::string(n, &"a column name in 'columns'"))
            .collect::<JsResult<Vec<_>>>()?;
        out.columns = Some(names);
    }
    if let Some(v) = js::opt(opts, "maxVersions")? {
        out.max_versions = max_versions(require_integer(&v, &"maxVersions")?)?;
    }
    if let Some(v) = js::opt(opts, "timeRange")? {
        out.time_range = Some(time_range(&v)?);
    }
    if let Some(v) = js::opt(opts, "filter")? {
        out.filter = Some(to_column_condition(&v)?);
    }
    Ok(out)
}

/// Range options from an options object (already key-checked).
pub fn to_range_options(opts: &Option<JsValue>) -> JsResult<RangeOptions> {
    let mut out = RangeOptions {
        read: to_get_options(opts)?,
        ..RangeOptions::default()
    };
    if let Some(v) = js::opt(opts, "direction")? {
        out.direction = direction(&js::string(&v, &"direction")?)?;
    }
    if let Some(v) = js::opt(opts, "limit")? {
        out.limit = Some(limit(require_integer(&v, &"limit")?)?);
    }
    Ok(out)
}

/// The `maxVersions` option's value (1 and up; 0 is refused by the core).
pub fn max_versions(n: i64) -> JsResult<u32> {
    u32::try_from(n).map_err(|_| invalid(format!("maxVersions out of range: {n}")))
}

/// The `direction` option's value.
pub fn direction(s: &str) -> JsResult<Direction> {
    Direction::parse(s)
        .ok_or_else(|| invalid(format!("direction must be FORWARD or BACKWARD, got {s:?}")))
}

/// The `limit` option's value (at least 1).
pub fn limit(n: i64) -> JsResult<usize> {
    if n < 1 {
        return Err(invalid(format!("limit must be at least 1, got {n}")));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

fn column_entry(item: &JsValue) -> JsResult<Column> {
    if js::is_array(item) {
        let parts = js::array_items(item, "a column entry")?;
        let (name, value, ts) = match parts.as_slice() {
            [n, v] => (n, v, None),
            [n, v, t] => (n, v, Some(t)),
            _ => {
                return Err(type_error(
                    "a column entry must be [name, value] or [name, value, timestamp]",
                ))
            }
        };
        let name = js::string(name, &"column name")?;
        let value = to_value(value, &format_args!("column '{name}'"))?;
        let timestamp = match ts {
            Some(t) if !js::is_nullish(t) => Some(require_integer(
                t,
                &format_args!("timestamp of column '{name}'"),
            )?),
            _ => None,
        };
        return Ok(Column {
            name,
            value,
            timestamp,
        });
    }
    if js::is_object(item) {
        js::check_keys(item, &["name", "value", "timestamp"], "a column entry")?;
        let name = js::string(&js::get(item, "name")?, &"column name")?;
        let value = to_value(&js::get(item, "value")?, &format_args!("column '{name}'"))?;
        let ts = js::get(item, "timestamp")?;
        let timestamp = if js::is_nullish(&ts) {
            None
        } else {
            Some(require_integer(
                &ts,
                &format_args!("timestamp of column '{name}'"),
            )?)
        };
        return Ok(Column {
            name,
            value,
            timestamp,
        });
    }
    Err(type_error(format!(
        "a column entry must be [name, value, timestamp?] or {{ name, value, timestamp? }}, got {}",
        js::type_name(item)
    )))
}

/// Attribute columns to write: `{ name: value }`, or a list of
/// `[name, value, timestamp?]` / `{ name, value, timestamp? }` entries
/// (so a row's `cells` can be written back as they are).
pub fn to_columns(v: &JsValue, what: &str) -> JsResult<Vec<Column>> {
    if js::is_nullish(v) {
        return Ok(Vec::new());
    }
    if js::is_array(v) {
        return js::array_items(v, what)?.iter().map(column_entry).collect();
    }
    if js::is_object(v) {
        return js::object_entries(v, what)?
            .into_iter()
            .map(|(name, val)| {
                let value = to_value(&val, &format_args!("column '{name}'"))?;
                Ok(Column {
                    name,
                    value,
                    timestamp: None,
                })
            })
            .collect();
    }
    Err(type_error(format!(
        "{what} must be an object {{ name: value }} or a list of entries, got {}",
        js::type_name(v)
    )))
}

fn name_number_pairs(v: &JsValue, what: &str) -> JsResult<Vec<(String, i64)>> {
    let pairs: Vec<(String, JsValue)> = if js::is_array(v) {
        js::array_items(v, what)?
            .iter()
            .map(|item| {
                if js::is_array(item) {
                    match js::array_items(item, what)?.as_slice() {
                        [n, x] => Ok((
                            js::string(n, &format_args!("{what} column name"))?,
                            x.clone(),
                        )),
                        _ => Err(type_error(format!(
                            "{what}: entries must be [name, number]"
                        ))),
                    }
                } else {
                    js::check_keys(item, &["name", "timestamp"], what)?;
                    Ok((
                        js::string(&js::get(item, "name")?, &format_args!("{what} column name"))?,
                        js::get(item, "timestamp")?,
                    ))
                }
            })
            .collect::<JsResult<_>>()?
    } else {
        js::object_entries(v, what)?
    };
    pairs
        .into_iter()
        .map(|(n, x)| {
            let i = require_integer(&x, &format_args!("{what} of '{n}'"))?;
            Ok((n, i))
        })
        .collect()
}

/// Option names of `updateRow` (and of an UPDATE in `batchWrite`).
pub const UPDATE_KEYS: &[&str] = &["put", "delete", "deleteAll", "increment", "condition"];

/// The changes and condition of an `updateRow`.
pub fn to_update(opts: &Option<JsValue>) -> JsResult<(RowUpdate, Condition)> {
    let mut u = RowUpdate::new();
    if let Some(v) = js::opt(opts, "put")? {
        u.put = to_columns(&v, "put")?;
    }
    if let Some(v) = js::opt(opts, "delete")? {
        u.delete = name_number_pairs(&v, "delete")?;
    }
    if let Some(v) = js::opt(opts, "deleteAll")? {
        u.delete_all = js::array_items(&v, "deleteAll")?
            .iter()
            .map(|n| js::string(n, &"a column name in 'deleteAll'"))
            .collect::<JsResult<_>>()?;
    }
    if let Some(v) = js::opt(opts, "increment")? {
        u.increment = name_number_pairs(&v, "increment")?;
    }
    let cond = to_condition(js::opt(opts, "condition")?)?;
    Ok((u, cond))
}
