//! Change records between JS and tablesync:
//! `{ cursor, origin, seq, stamp, table, kind, primaryKey, columns: [{ name, op, value?, timestamp? }] }`.
//! `stamp` is a 64-bit HLC value and always a `bigint`; `cursor` and `seq` are numbers.

use crate::error::{integer_out_of_range, invalid, type_error, JsResult};
use crate::js;
use crate::key::{primary_key_to_js, to_primary_key};
use crate::value::{
    from_value, integer, integer_to_js, require_integer, timestamp_to_js, to_value, IntegerMode,
};
use js_sys::{Array, Object};
use tablesync::{ChangeKind, ChangePage, ChangeRecord, ColumnOp};
use wasm_bindgen::prelude::*;

fn count_to_js(n: u64, what: &str) -> JsResult<JsValue> {
    let i = i64::try_from(n).map_err(|_| integer_out_of_range(format!("{what}: {n}")))?;
    integer_to_js(i, IntegerMode::Number, &what)
}

fn column_op_to_js(op: &ColumnOp, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    js::set(&obj, "name", &JsValue::from_str(op.name()));
    js::set(&obj, "op", &JsValue::from_str(op.op_name()));
    match op {
        ColumnOp::Put {
            name,
            value,
            timestamp,
        } => {
            let what = format!("column '{name}'");
            js::set(&obj, "value", &from_value(value, mode, &what)?);
            js::set(&obj, "timestamp", &timestamp_to_js(*timestamp, &what)?);
        }
        ColumnOp::DeleteOneVersion { name, timestamp } => {
            js::set(
                &obj,
                "timestamp",
                &timestamp_to_js(*timestamp, &format_args!("column '{name}'"))?,
            );
        }
        ColumnOp::DeleteAllVersions { .. } => {}
    }
    Ok(obj.into())
}

/// A change record as JS.
pub fn record_to_js(r: &ChangeRecord, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    js::set(&obj, "cursor", &count_to_js(r.cursor, "cursor")?);
    js::set(&obj, "origin", &JsValue::from_str(&r.origin));
    js::set(&obj, "seq", &count_to_js(r.seq, "seq")?);
    js::set(&obj, "stamp", &JsValue::from(r.stamp));
    js::set(&obj, "table", &JsValue::from_str(&r.table));
    js::set(&obj, "kind", &JsValue::from_str(r.kind.name()));
    js::set(
        &obj,
        "primaryKey",
        &primary_key_to_js(&r.primary_key, mode)?,
    );
    let cols = Array::new_with_length(r.columns.len() as u32);
    for (i, c) in r.columns.iter().enumerate() {
        cols.set(i as u32, column_op_to_js(c, mode)?);
    }
    js::set(&obj, "columns", &cols);
    Ok(obj.into())
}

/// A change page as `{ records, nextCursor }`.
pub fn page_to_js(p: &ChangePage, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    let recs = Array::new_with_length(p.records.len() as u32);
    for (i, r) in p.records.iter().enumerate() {
        recs.set(i as u32, record_to_js(r, mode)?);
    }
    js::set(&obj, "records", &recs);
    js::set(
        &obj,
        "nextCursor",
        &count_to_js(p.next_cursor, "nextCursor")?,
    );
    Ok(obj.into())
}

fn unsigned(v: &JsValue, what: &str) -> JsResult<u64> {
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| integer_out_of_range(format!("{what}: bigint outside 0..2^64")));
    }
    let i = require_integer(v, &what)?;
    u64::try_from(i).map_err(|_| invalid(format!("{what} must not be negative")))
}

fn column_op(v: &JsValue) -> JsResult<ColumnOp> {
    if !js::is_object(v) || js::is_array(v) {
        return Err(type_error(
            "a record column must be an object { name, op, value?, timestamp? }",
        ));
    }
    js::check_keys(v, &["name", "op", "value", "timestamp"], "a record column")?;
    let name = js::string(&js::get(v, "name")?, &"record column 'name'")?;
    let op = js::string(&js::get(v, "op")?, &"record column 'op'")?;
    let ts = || -> JsResult<i64> {
        require_integer(
            &js::get(v, "timestamp")?,
            &format_args!("timestamp of record column '{name}'"),
        )
    };
    match op.as_str() {
        "PUT" => {
            let value = to_value(
                &js::get(v, "value")?,
                &format_args!("record column '{name}'"),
            )?;
            let timestamp = ts()?;
            Ok(ColumnOp::Put {
                name,
                value,
                timestamp,
            })
        }
        "DELETE_ONE_VERSION" => {
            let timestamp = ts()?;
            Ok(ColumnOp::DeleteOneVersion { name, timestamp })
        }
        "DELETE_ALL_VERSIONS" => Ok(ColumnOp::DeleteAllVersions { name }),
        other => Err(invalid(format!(
            "record column op {other:?} (PUT, DELETE_ONE_VERSION or DELETE_ALL_VERSIONS)"
        ))),
    }
}

/// A change record from JS (`cursor` is ignored: it is local to each region).
pub fn to_record(v: &JsValue) -> JsResult<ChangeRecord> {
    if !js::is_object(v) || js::is_array(v) {
        return Err(type_error(format!(
            "a change record must be an object, got {}",
            js::type_name(v)
        )));
    }
    js::check_keys(
        v,
        &[
            "cursor",
            "origin",
            "seq",
            "stamp",
            "table",
            "kind",
            "primaryKey",
            "primary_key",
            "columns",
        ],
        "a change record",
    )?;
    let origin = js::string(&js::get(v, "origin")?, &"record 'origin'")?;
    let seq = unsigned(&js::get(v, "seq")?, "record 'seq'")?;
    let stamp = unsigned(&js::get(v, "stamp")?, "record 'stamp'")?;
    let table = js::string(&js::get(v, "table")?, &"record 'table'")?;
    let kind_s = js::string(&js::get(v, "kind")?, &"record 'kind'")?;
    let kind = ChangeKind::parse(&kind_s)
        .ok_or_else(|| invalid(format!("record kind {kind_s:?} (PUT, UPDATE or DELETE)")))?;
    let mut pk = js::get(v, "primaryKey")?;
    if js::is_nullish(&pk) {
        pk = js::get(v, "primary_key")?;
    }
    let primary_key = to_primary_key(&pk)?;
    let cols = js::get(v, "columns")?;
    let columns = if js::is_nullish(&cols) {
        Vec::new()
    } else {
        js::array_items(&cols, "record 'columns'")?
            .iter()
            .map(column_op)
            .collect::<JsResult<_>>()?
    };
    let cursor_v = js::get(v, "cursor")?;
    let cursor = if js::is_nullish(&cursor_v) {
        0
    } else {
        integer(&cursor_v, &"record 'cursor'")?.unwrap_or(0).max(0) as u64
    };
    Ok(ChangeRecord {
        cursor,
        origin,
        seq,
        stamp,
        table,
        kind,
        primary_key,
        columns,
    })
}
