//! Change records as Python dicts, in API.md's shape:
//! `{"cursor", "origin", "seq", "stamp", "table", "kind", "primary_key",
//! "columns": [{"name", "op", "value"?, "timestamp"?}]}`.

use crate::errors::{invalid, type_error};
use crate::options::is_seq;
use crate::values::{
    int_from_py, pk_from_py, pk_to_py, str_from_py, uint_from_py, value_from_py, value_to_py,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tablesync::{ChangeKind, ChangeRecord, ColumnOp};

/// A record as a dict.
pub fn record_to_py<'py>(py: Python<'py>, r: &ChangeRecord) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cursor", r.cursor)?;
    d.set_item("origin", &r.origin)?;
    d.set_item("seq", r.seq)?;
    d.set_item("stamp", r.stamp)?;
    d.set_item("table", &r.table)?;
    d.set_item("kind", r.kind.name())?;
    d.set_item("primary_key", pk_to_py(py, &r.primary_key)?)?;
    let cols = PyList::empty(py);
    for op in &r.columns {
        let c = PyDict::new(py);
        c.set_item("name", op.name())?;
        c.set_item("op", op.op_name())?;
        match op {
            ColumnOp::Put {
                value, timestamp, ..
            } => {
                c.set_item("value", value_to_py(py, value)?)?;
                c.set_item("timestamp", *timestamp)?;
            }
            ColumnOp::DeleteOneVersion { timestamp, .. } => {
                c.set_item("timestamp", *timestamp)?;
            }
            ColumnOp::DeleteAllVersions { .. } => {}
        }
        cols.append(c)?;
    }
    d.set_item("columns", cols)?;
    Ok(d)
}

fn required<'py>(d: &Bound<'py, PyDict>, key: &str, what: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| invalid(format!("{what} has no \"{key}\"")))
}

fn column_op_from_py(obj: &Bound<'_, PyAny>) -> PyResult<ColumnOp> {
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| type_error("each column operation of a record", "a dict", obj))?;
    let what = "a column operation";
    let name = str_from_py(&required(d, "name", what)?, "column operation \"name\"")?;
    let op = str_from_py(&required(d, "op", what)?, "column operation \"op\"")?;
    match op.as_str() {
        "PUT" => Ok(ColumnOp::Put {
            value: value_from_py(&required(d, "value", what)?, "column operation \"value\"")?,
            timestamp: int_from_py(
                &required(d, "timestamp", what)?,
                "column operation \"timestamp\"",
            )?,
            name,
        }),
        "DELETE_ONE_VERSION" => Ok(ColumnOp::DeleteOneVersion {
            timestamp: int_from_py(
                &required(d, "timestamp", what)?,
                "column operation \"timestamp\"",
            )?,
            name,
        }),
        "DELETE_ALL_VERSIONS" => Ok(ColumnOp::DeleteAllVersions { name }),
        other => Err(invalid(format!(
            "unknown column operation {other:?} (PUT, DELETE_ONE_VERSION or DELETE_ALL_VERSIONS)"
        ))),
    }
}

/// A record from a dict (`cursor` is optional and ignored on apply).
pub fn record_from_py(obj: &Bound<'_, PyAny>) -> PyResult<ChangeRecord> {
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| type_error("each change record", "a dict", obj))?;
    let what = "a change record";
    let cursor = match d.get_item("cursor")? {
        Some(c) if !c.is_none() => uint_from_py(&c, "record \"cursor\"")?,
        _ => 0,
    };
    let kind_s = str_from_py(&required(d, "kind", what)?, "record \"kind\"")?;
    let kind = ChangeKind::parse(&kind_s).ok_or_else(|| {
        invalid(format!(
            "unknown record kind {kind_s:?} (PUT, UPDATE or DELETE)"
        ))
    })?;
    let cols_obj = match d.get_item("columns")? {
        Some(c) if !c.is_none() => Some(c),
        _ => None,
    };
    let mut columns = Vec::new();
    if let Some(c) = cols_obj {
        if !is_seq(&c) {
            return Err(type_error("record \"columns\"", "a list", &c));
        }
        for item in c.try_iter()? {
            columns.push(column_op_from_py(&item?)?);
        }
    }
    Ok(ChangeRecord {
        cursor,
        origin: str_from_py(&required(d, "origin", what)?, "record \"origin\"")?,
        seq: uint_from_py(&required(d, "seq", what)?, "record \"seq\"")?,
        stamp: uint_from_py(&required(d, "stamp", what)?, "record \"stamp\"")?,
        table: str_from_py(&required(d, "table", what)?, "record \"table\"")?,
        kind,
        primary_key: pk_from_py(&required(d, "primary_key", what)?)?,
        columns,
    })
}
