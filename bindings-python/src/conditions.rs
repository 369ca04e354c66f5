//! Write conditions and column conditions / filters from their Python forms.
//!
//! Column conditions and filters: `{"column": "age", "op": ">=", "value": 20,
//! "pass_if_missing": True, "latest_version_only": True}`, `{"and": [...]}`,
//! `{"or": [...]}`, `{"not": c}`, or any object with a
//! `__tablesync_condition__()` method returning that form (what
//! `tablesync.col("age") >= 20` builds).
//!
//! Write conditions: `None`, `"IGNORE" | "EXPECT_EXIST" | "EXPECT_NOT_EXIST"`,
//! `{"row": "EXPECT_EXIST", "column": <column condition>}` (either part may
//! be left out), or a bare column condition (row part `IGNORE`).

use crate::errors::{invalid, type_error};
use crate::values::{bool_from_py, str_from_py, value_from_py};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use tablesync::engine::condition::MAX_CONDITION_DEPTH;
use tablesync::{ColumnCondition, CompareOp, Condition, RowExistence};

const HOOK: &str = "__tablesync_condition__";

/// The dict form of a column condition: the object itself, or what its hook returns.
fn as_condition_dict<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(d.clone());
    }
    if obj.hasattr(HOOK)? {
        let v = obj.call_method0(HOOK)?;
        return match v.cast::<PyDict>() {
            Ok(d) => Ok(d.clone()),
            Err(_) => Err(type_error(&format!("{HOOK}() result"), "a dict", &v)),
        };
    }
    Err(type_error(
        "a column condition",
        "a dict like {\"column\": ..., \"op\": ..., \"value\": ...} or a tablesync.col(...) expression",
        obj,
    ))
}

fn is_condition_like(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(!obj.is_instance_of::<PyDict>() && obj.hasattr(HOOK)?)
}

fn operands(v: &Bound<'_, PyAny>, key: &str, depth: usize) -> PyResult<Vec<ColumnCondition>> {
    if !(v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>()) {
        return Err(type_error(&format!("\"{key}\""), "a list of conditions", v));
    }
    let mut out = Vec::new();
    for item in v.try_iter()? {
        out.push(column_condition_at(&item?, depth + 1)?);
    }
    if out.is_empty() {
        return Err(invalid(format!("\"{key}\" needs at least one operand")));
    }
    Ok(out)
}

fn column_condition_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<ColumnCondition> {
    if depth > MAX_CONDITION_DEPTH {
        return Err(invalid(format!(
            "condition nested deeper than {MAX_CONDITION_DEPTH} levels"
        )));
    }
    let d = as_condition_dict(obj)?;
    for (k, _) in d.iter() {
        if !k.is_instance_of::<PyString>() {
            return Err(type_error("condition keys", "str", &k));
        }
    }
    for combinator in ["and", "or", "not"] {
        if let Some(v) = d.get_item(combinator)? {
            if d.len() != 1 {
                return Err(invalid(format!(
                    "a \"{combinator}\" condition has no other keys"
                )));
            }
            return Ok(match combinator {
                "and" => ColumnCondition::And(operands(&v, combinator, depth)?),
                "or" => ColumnCondition::Or(operands(&v, combinator, depth)?),
                _ => ColumnCondition::Not(Box::new(column_condition_at(&v, depth + 1)?)),
            });
        }
    }
    let mut column = None;
    let mut op = None;
    let mut value = None;
    let mut pass_if_missing = true;
    let mut latest_version_only = true;
    for (k, v) in d.iter() {
        let key: String = k.extract()?;
        match key.as_str() {
            "column" => column = Some(str_from_py(&v, "condition \"column\"")?),
            "op" => {
                let s = str_from_py(&v, "condition \"op\"")?;
                op = Some(CompareOp::parse(&s).ok_or_else(|| {
                    invalid(format!(
                        "unknown comparison {s:?}: use one of == != > >= < <="
                    ))
                })?);
            }
            "value" => value = Some(value_from_py(&v, "condition \"value\"")?),
            "pass_if_missing" => pass_if_missing = bool_from_py(&v, "\"pass_if_missing\"")?,
            "latest_version_only" => {
                latest_version_only = bool_from_py(&v, "\"latest_version_only\"")?
            }
            other => {
                return Err(invalid(format!(
                    "unknown condition key {other:?} (expected column, op, value, pass_if_missing, latest_version_only, or one of and/or/not)"
                )))
            }
        }
    }
    match (column, op, value) {
        (Some(column), Some(op), Some(value)) => Ok(ColumnCondition::Single {
            column,
            op,
            value,
            pass_if_missing,
            latest_version_only,
        }),
        _ => Err(invalid(
            "a single column condition needs \"column\", \"op\" and \"value\"",
        )),
    }
}

/// A column condition or filter.
pub fn column_condition_from_py(obj: &Bound<'_, PyAny>) -> PyResult<ColumnCondition> {
    column_condition_at(obj, 0)
}

/// An optional filter (`None` → no filter).
pub fn filter_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ColumnCondition>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Ok(Some(column_condition_from_py(o)?)),
    }
}

fn row_existence_from_py(obj: &Bound<'_, PyAny>) -> PyResult<RowExistence> {
    let s = str_from_py(obj, "a row-existence condition")?;
    RowExistence::parse(&s).ok_or_else(|| {
        invalid(format!(
            "unknown row condition {s:?}: use IGNORE, EXPECT_EXIST or EXPECT_NOT_EXIST"
        ))
    })
}

/// A write condition (see the module docs for the accepted forms).
pub fn condition_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Condition> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Condition::ignore());
    };
    if obj.is_instance_of::<PyString>() {
        return Ok(Condition::row(row_existence_from_py(obj)?));
    }
    if is_condition_like(obj)? {
        return Ok(Condition::ignore().with_column(column_condition_from_py(obj)?));
    }
    let Ok(d) = obj.cast::<PyDict>() else {
        return Err(type_error(
            "condition",
            "None, a str, a dict or a tablesync.col(...) expression",
            obj,
        ));
    };
    let is_column_form = ["op", "and", "or", "not"]
        .iter()
        .map(|k| d.contains(*k))
        .collect::<PyResult<Vec<bool>>>()?
        .into_iter()
        .any(|b| b);
    if is_column_form {
        return Ok(Condition::ignore().with_column(column_condition_from_py(obj)?));
    }
    let mut cond = Condition::ignore();
    for (k, v) in d.iter() {
        let key = str_from_py(&k, "condition keys")?;
        match key.as_str() {
            "row" => cond.row_existence = row_existence_from_py(&v)?,
            "column" => {
                if !v.is_none() {
                    cond.column_condition = Some(column_condition_from_py(&v)?);
                }
            }
            other => {
                return Err(invalid(format!(
                    "unknown condition key {other:?} (expected \"row\" and/or \"column\")"
                )))
            }
        }
    }
    Ok(cond)
}
