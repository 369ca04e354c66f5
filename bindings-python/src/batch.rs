//! Batch-write operations and batch-get requests from their Python forms.
//!
//! A write operation is a dict: `{"op": "put", "table": t, "primary_key": pk,
//! "columns": {...}, "condition": c}`, `{"op": "update", "table": t,
//! "primary_key": pk, "put": ..., "delete": ..., "delete_all": ...,
//! "increment": ..., "condition": c}` or `{"op": "delete", "table": t,
//! "primary_key": pk, "condition": c}`.
//!
//! A get request is a dict `{"table": t, "primary_key": pk, "columns": ...,
//! "max_versions": n, "time_range": ..., "column_filter": ...}` or a
//! `(table, primary_key)` tuple.

use crate::conditions::condition_from_py;
use crate::errors::{invalid, type_error};
use crate::options::{columns_from_py, get_options_from_py, is_seq, row_update_from_py};
use crate::values::{pk_from_py, str_from_py};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tablesync::{GetRequest, WriteOp};

fn check_keys(d: &Bound<'_, PyDict>, allowed: &[&str], what: &str) -> PyResult<()> {
    for (k, _) in d.iter() {
        let key = str_from_py(&k, &format!("keys of {what}"))?;
        if !allowed.contains(&key.as_str()) {
            return Err(invalid(format!(
                "unknown key {key:?} in {what} (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn required<'py>(d: &Bound<'py, PyDict>, key: &str, what: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| invalid(format!("{what} has no \"{key}\"")))
}

/// One batch-write operation.
pub fn write_op_from_py(obj: &Bound<'_, PyAny>, index: usize) -> PyResult<WriteOp> {
    let what = format!("batch operation #{index}");
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| type_error(&what, "a dict", obj))?;
    let op = str_from_py(&required(d, "op", &what)?, &format!("\"op\" of {what}"))?;
    let table = str_from_py(
        &required(d, "table", &what)?,
        &format!("\"table\" of {what}"),
    )?;
    let primary_key = pk_from_py(&required(d, "primary_key", &what)?)?;
    let condition = condition_from_py(d.get_item("condition")?.as_ref())?;
    match op.to_ascii_lowercase().as_str() {
        "put" => {
            check_keys(
                d,
                &["op", "table", "primary_key", "columns", "condition"],
                &what,
            )?;
            Ok(WriteOp::Put {
                table,
                primary_key,
                columns: columns_from_py(d.get_item("columns")?.as_ref(), "columns")?,
                condition,
            })
        }
        "update" => {
            check_keys(
                d,
                &[
                    "op",
                    "table",
                    "primary_key",
                    "put",
                    "delete",
                    "delete_all",
                    "increment",
                    "condition",
                ],
                &what,
            )?;
            Ok(WriteOp::Update {
                table,
                primary_key,
                update: row_update_from_py(
                    d.get_item("put")?.as_ref(),
                    d.get_item("delete")?.as_ref(),
                    d.get_item("delete_all")?.as_ref(),
                    d.get_item("increment")?.as_ref(),
                )?,
                condition,
            })
        }
        "delete" => {
            check_keys(d, &["op", "table", "primary_key", "condition"], &what)?;
            Ok(WriteOp::Delete {
                table,
                primary_key,
                condition,
            })
        }
        other => Err(invalid(format!(
            "{what}: unknown op {other:?} (put, update or delete)"
        ))),
    }
}

/// The table an operation writes.
pub fn op_table(op: &WriteOp) -> &str {
    match op {
        WriteOp::Put { table, .. }
        | WriteOp::Update { table, .. }
        | WriteOp::Delete { table, .. } => table,
    }
}

/// One batch-get request.
pub fn get_request_from_py(obj: &Bound<'_, PyAny>, index: usize) -> PyResult<GetRequest> {
    let what = format!("batch get request #{index}");
    if is_seq(obj) {
        if obj.len()? != 2 {
            return Err(PyTypeError::new_err(format!(
                "{what} must be a dict or a (table, primary_key) pair"
            )));
        }
        let one = 1i64.into_pyobject(obj.py())?.into_any();
        return Ok(GetRequest {
            table: str_from_py(&obj.get_item(0)?, &format!("table of {what}"))?,
            primary_key: pk_from_py(&obj.get_item(1)?)?,
            options: get_options_from_py(None, &one, None, None)?,
        });
    }
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| type_error(&what, "a dict or a (table, primary_key) pair", obj))?;
    check_keys(
        d,
        &[
            "table",
            "primary_key",
            "columns",
            "max_versions",
            "time_range",
            "column_filter",
        ],
        &what,
    )?;
    let one = 1i64.into_pyobject(obj.py())?.into_any();
    let max_versions = d.get_item("max_versions")?.unwrap_or(one);
    Ok(GetRequest {
        table: str_from_py(
            &required(d, "table", &what)?,
            &format!("\"table\" of {what}"),
        )?,
        primary_key: pk_from_py(&required(d, "primary_key", &what)?)?,
        options: get_options_from_py(
            d.get_item("columns")?.as_ref(),
            &max_versions,
            d.get_item("time_range")?.as_ref(),
            d.get_item("column_filter")?.as_ref(),
        )?,
    })
}
