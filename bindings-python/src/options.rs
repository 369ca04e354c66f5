//! Read options, column lists, update parts and table options from Python arguments.

use crate::conditions::filter_from_py;
use crate::errors::{invalid, type_error};
use crate::values::{int_from_py, pairs, str_from_py, value_from_py};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use tablesync::{Column, Direction, GetOptions, RowUpdate, TimeRange};

/// Whether `obj` is a list or tuple.
pub fn is_seq(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()
}

/// A list of column names (`None` → `None`). A bare `str` is refused, since
/// iterating it would give single letters.
pub fn names_from_py(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<String>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.is_instance_of::<PyString>()
        || !(is_seq(obj)
            || obj.is_instance_of::<pyo3::types::PySet>()
            || obj.is_instance_of::<pyo3::types::PyFrozenSet>())
    {
        return Err(type_error(what, "a list of str", obj));
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        out.push(str_from_py(&item?, &format!("each item of {what}"))?);
    }
    Ok(Some(out))
}

/// A `max_versions` value (an int from 1 to 2**31-1).
pub fn max_versions_from_py(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    let v = int_from_py(obj, "max_versions")?;
    u32::try_from(v)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| invalid(format!("max_versions must be at least 1, got {v}")))
}

/// A time range: `None`, an int (exactly that timestamp) or `(start, end)` (end exclusive).
pub fn time_range_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<TimeRange>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if is_seq(obj) {
        if obj.len()? != 2 {
            return Err(PyTypeError::new_err(
                "time_range must be (start_ms, end_ms) or one timestamp",
            ));
        }
        let start = int_from_py(&obj.get_item(0)?, "time_range start")?;
        let end = int_from_py(&obj.get_item(1)?, "time_range end")?;
        return Ok(Some(TimeRange { start, end }));
    }
    Ok(Some(TimeRange::exact(int_from_py(obj, "time_range")?)))
}

/// The options of a row read.
pub fn get_options_from_py(
    columns: Option<&Bound<'_, PyAny>>,
    max_versions: &Bound<'_, PyAny>,
    time_range: Option<&Bound<'_, PyAny>>,
    column_filter: Option<&Bound<'_, PyAny>>,
) -> PyResult<GetOptions> {
    Ok(GetOptions {
        columns: names_from_py(columns, "columns")?,
        max_versions: max_versions_from_py(max_versions)?,
        time_range: time_range_from_py(time_range)?,
        filter: filter_from_py(column_filter)?,
    })
}

/// `"FORWARD"` / `"BACKWARD"`.
pub fn direction_from_py(s: &str) -> PyResult<Direction> {
    Direction::parse(s)
        .ok_or_else(|| invalid(format!("direction must be FORWARD or BACKWARD, got {s:?}")))
}

/// A page or scan limit (`None` or an int ≥ 1).
pub fn limit_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let v = int_from_py(obj, "limit")?;
    if v < 1 {
        return Err(invalid(format!("limit must be at least 1, got {v}")));
    }
    Ok(Some(usize::try_from(v).unwrap_or(usize::MAX)))
}

/// Columns to write: a dict `{name: value}`, or a list of `(name, value)` /
/// `(name, value, timestamp_ms)` tuples.
pub fn columns_from_py(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<Column>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let name = str_from_py(&k, "a column name")?;
            let value = value_from_py(&v, &format!("column '{name}'"))?;
            out.push(Column {
                name,
                value,
                timestamp: None,
            });
        }
        return Ok(out);
    }
    if !is_seq(obj) {
        return Err(type_error(
            what,
            "a dict or a list of (name, value[, timestamp]) tuples",
            obj,
        ));
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let n = if is_seq(&item) { item.len()? } else { 0 };
        if n != 2 && n != 3 {
            return Err(PyTypeError::new_err(format!(
                "each item of {what} must be a (name, value) or (name, value, timestamp) tuple"
            )));
        }
        let name = str_from_py(&item.get_item(0)?, "a column name")?;
        let value = value_from_py(&item.get_item(1)?, &format!("column '{name}'"))?;
        let timestamp = if n == 3 {
            let t = item.get_item(2)?;
            if t.is_none() {
                None
            } else {
                Some(int_from_py(&t, &format!("timestamp of column '{name}'"))?)
            }
        } else {
            None
        };
        out.push(Column {
            name,
            value,
            timestamp,
        });
    }
    Ok(out)
}

/// The parts of an `update_row`.
pub fn row_update_from_py(
    put: Option<&Bound<'_, PyAny>>,
    delete: Option<&Bound<'_, PyAny>>,
    delete_all: Option<&Bound<'_, PyAny>>,
    increment: Option<&Bound<'_, PyAny>>,
) -> PyResult<RowUpdate> {
    let mut u = RowUpdate::new();
    u.put = columns_from_py(put, "put")?;
    if let Some(d) = delete.filter(|o| !o.is_none()) {
        for (k, v) in pairs(d, "delete")? {
            let name = str_from_py(&k, "a column name in delete")?;
            let ts = int_from_py(&v, &format!("timestamp to delete of column '{name}'"))?;
            u.delete.push((name, ts));
        }
    }
    u.delete_all = names_from_py(delete_all, "delete_all")?.unwrap_or_default();
    if let Some(inc) = increment.filter(|o| !o.is_none()) {
        for (k, v) in pairs(inc, "increment")? {
            let name = str_from_py(&k, "a column name in increment")?;
            let by = int_from_py(&v, &format!("increment of column '{name}'"))?;
            u.increment.push((name, by));
        }
    }
    Ok(u)
}

/// `time_to_live` in seconds (`-1`: forever).
pub fn ttl_from_py(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    int_from_py(obj, "time_to_live")
}
