//! Write conditions and column conditions / filters, in API.md's shape:
//! `"IGNORE" | "EXPECT_EXIST" | "EXPECT_NOT_EXIST"`, `{ row, column }`, and
//! `{ column, op, value, pass_if_missing, latest_version_only }`,
//! `{ and: [...] }`, `{ or: [...] }`, `{ not: c }` (camelCase option names
//! `passIfMissing` / `latestVersionOnly` are accepted too).

use crate::error::{invalid, type_error, JsResult};
use crate::js;
use crate::value::to_value;
use tablesync::{ColumnCondition, CompareOp, Condition, RowExistence};
use wasm_bindgen::prelude::*;

/// Deepest nesting of `and` / `or` / `not` accepted (bounds recursion on hostile input).
pub const MAX_CONDITION_DEPTH: usize = 64;

const SINGLE_KEYS: &[&str] = &[
    "column",
    "op",
    "value",
    "pass_if_missing",
    "passIfMissing",
    "latest_version_only",
    "latestVersionOnly",
];

fn row_existence(v: &JsValue, what: &str) -> JsResult<RowExistence> {
    parse_row_existence(&js::string(v, &what)?, what)
}

/// A row condition name (`IGNORE`, `EXPECT_EXIST`, `EXPECT_NOT_EXIST`).
pub fn parse_row_existence(s: &str, what: &str) -> JsResult<RowExistence> {
    RowExistence::parse(s).ok_or_else(|| {
        invalid(format!(
            "{what}: unknown row condition {s:?} (IGNORE, EXPECT_EXIST or EXPECT_NOT_EXIST)"
        ))
    })
}

fn flag(v: &JsValue, snake: &str, camel: &str, default: bool) -> JsResult<bool> {
    let a = js::get(v, snake)?;
    let b = js::get(v, camel)?;
    match (js::is_nullish(&a), js::is_nullish(&b)) {
        (true, true) => Ok(default),
        (false, _) => js::boolean(&a, &snake),
        (true, false) => js::boolean(&b, &camel),
    }
}

/// A column condition or filter.
pub fn to_column_condition(v: &JsValue) -> JsResult<ColumnCondition> {
    column_condition(v, 0)
}

fn column_condition(v: &JsValue, depth: usize) -> JsResult<ColumnCondition> {
    if depth > MAX_CONDITION_DEPTH {
        return Err(invalid(format!(
            "column condition nested deeper than {MAX_CONDITION_DEPTH} levels"
        )));
    }
    if !js::is_object(v) || js::is_array(v) {
        return Err(type_error(format!(
            "a column condition must be an object, got {}",
            js::type_name(v)
        )));
    }
    for (key, make) in [
        (
            "and",
            ColumnCondition::And as fn(Vec<ColumnCondition>) -> ColumnCondition,
        ),
        ("or", ColumnCondition::Or),
    ] {
        let list = js::get(v, key)?;
        if !js::is_nullish(&list) {
            js::check_keys(v, &[key], "column condition")?;
            let items = js::array_items(&list, &format!("'{key}' of a column condition"))?;
            if items.is_empty() {
                return Err(invalid(format!("'{key}' needs at least one condition")));
            }
            let parts = items
                .iter()
                .map(|c| column_condition(c, depth + 1))
                .collect::<JsResult<Vec<_>>>()?;
            return Ok(make(parts));
        }
    }
    let not = js::get(v, "not")?;
    if !js::is_nullish(&not) {
        js::check_keys(v, &["not"], "column condition")?;
        return Ok(ColumnCondition::Not(Box::new(column_condition(
            &not,
            depth + 1,
        )?)));
    }
    js::check_keys(v, SINGLE_KEYS, "column condition")?;
    let column = js::string(&js::get(v, "column")?, &"column condition 'column'")?;
    let op_s = js::string(&js::get(v, "op")?, &"column condition 'op'")?;
    let op = CompareOp::parse(&op_s).ok_or_else(|| {
        invalid(format!(
            "unknown comparison operator {op_s:?} (== != > >= < <=)"
        ))
    })?;
    let raw_value = js::get(v, "value")?;
    if raw_value.is_undefined() {
        return Err(type_error("column condition 'value' is missing"));
    }
    let value = to_value(&raw_value, &format_args!("condition on '{column}'"))?;
    Ok(ColumnCondition::Single {
        column,
        op,
        value,
        pass_if_missing: flag(v, "pass_if_missing", "passIfMissing", true)?,
        latest_version_only: flag(v, "latest_version_only", "latestVersionOnly", true)?,
    })
}

/// A write condition (`undefined` means IGNORE).
pub fn to_condition(v: Option<JsValue>) -> JsResult<Condition> {
    let Some(v) = v else {
        return Ok(Condition::ignore());
    };
    if v.as_string().is_some() {
        return Ok(Condition::row(row_existence(&v, "condition")?));
    }
    if !js::is_object(&v) || js::is_array(&v) {
        return Err(type_error(format!(
            "a condition must be a string or an object, got {}",
            js::type_name(&v)
        )));
    }
    let column = js::get(&v, "column")?;
    let is_composite = ["and", "or", "not", "op"]
        .iter()
        .map(|k| js::get(&v, k))
        .collect::<JsResult<Vec<_>>>()?
        .iter()
        .any(|x| !js::is_nullish(x));
    if is_composite || column.as_string().is_some() {
        // A bare column condition: the row part is IGNORE.
        return Ok(Condition::ignore().with_column(to_column_condition(&v)?));
    }
    js::check_keys(&v, &["row", "column"], "condition")?;
    let row = js::get(&v, "row")?;
    let row_existence = if js::is_nullish(&row) {
        RowExistence::Ignore
    } else {
        row_existence(&row, "condition 'row'")?
    };
    let column_condition = if js::is_nullish(&column) {
        None
    } else {
        Some(to_column_condition(&column)?)
    };
    Ok(Condition {
        row_existence,
        column_condition,
    })
}
