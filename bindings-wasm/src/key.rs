//! Primary keys and range bounds between JS and tablesync.
//!
//! A key is a plain object `{ uid: 1, name: "a" }` or a list of pairs
//! `[["uid", 1], ["name", "a"]]`; keys come back as objects in schema order.
//! Range bounds also take `INF_MIN` / `INF_MAX` per column, or alone for
//! the whole bound.

use crate::error::{type_error, JsResult};
use crate::js;
use crate::value::{integer, integer_to_js, IntegerMode};
use js_sys::Object;
use tablesync::{PkBound, PkValue, PrimaryKey, RangeBound, TableSchema};
use wasm_bindgen::prelude::*;

thread_local! {
    static INF_MIN: JsValue = js_sys::Symbol::for_("tablesync.INF_MIN").into();
    static INF_MAX: JsValue = js_sys::Symbol::for_("tablesync.INF_MAX").into();
    static AUTO_INCREMENT: JsValue = js_sys::Symbol::for_("tablesync.AUTO_INCREMENT").into();
}

/// The registered symbol `Symbol.for("tablesync.INF_MIN")`: the smallest bound.
pub fn inf_min() -> JsValue {
    INF_MIN.with(|s| s.clone())
}
/// The registered symbol `Symbol.for("tablesync.INF_MAX")`: the largest bound.
pub fn inf_max() -> JsValue {
    INF_MAX.with(|s| s.clone())
}
/// The registered symbol `Symbol.for("tablesync.AUTO_INCREMENT")`: asks
/// `putRow` to assign an auto-increment key value.
pub fn auto_increment() -> JsValue {
    AUTO_INCREMENT.with(|s| s.clone())
}

/// A primary-key part.
pub fn to_pk_value(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<PkValue> {
    if let Some(s) = v.as_string() {
        return Ok(PkValue::String(s));
    }
    if let Some(i) = integer(v, &what)? {
        return Ok(PkValue::Integer(i));
    }
    if let Some(b) = js::as_bytes(v) {
        return Ok(PkValue::Binary(b));
    }
    if v.is_symbol() && *v == auto_increment() {
        return Ok(PkValue::AutoIncrement);
    }
    if v.as_f64().is_some() {
        return Err(type_error(format!(
            "{what}: primary-key numbers must be integers (INTEGER), got {}",
            v.as_f64().unwrap_or_default()
        )));
    }
    Err(type_error(format!(
        "{what}: a primary-key value must be an integer number, bigint, string or Uint8Array, got {}",
        js::type_name(v)
    )))
}

/// `(name, value)` pairs from a key-like JS value (object or list of pairs).
fn pairs(v: &JsValue, what: &str) -> JsResult<Vec<(String, JsValue)>> {
    if js::is_array(v) {
        js::array_items(v, what)?
            .into_iter()
            .map(|item| {
                let pair = js::array_items(&item, &format!("{what} entry"))?;
                match pair.as_slice() {
                    [n, val] => Ok((
                        js::string(n, &format_args!("{what} column name"))?,
                        val.clone(),
                    )),
                    _ => Err(type_error(format!(
                        "{what}: each entry must be a [name, value] pair"
                    ))),
                }
            })
            .collect()
    } else if js::is_object(v) && js::as_bytes(v).is_none() {
        js::object_entries(v, what)
    } else {
        Err(type_error(format!(
            "{what} must be an object {{ column: value }} or a list of [column, value] pairs, got {}",
            js::type_name(v)
        )))
    }
}

/// A primary key.
pub fn to_primary_key(v: &JsValue) -> JsResult<PrimaryKey> {
    let parts = pairs(v, "primary key")?;
    let mut out = Vec::with_capacity(parts.len());
    for (name, val) in parts {
        let pv = to_pk_value(&val, &format_args!("primary-key column '{name}'"))?;
        out.push((name, pv));
    }
    Ok(PrimaryKey(out))
}

fn to_bound_part(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<PkBound> {
    if v.is_symbol() {
        if *v == inf_min() {
            return Ok(PkBound::InfMin);
        }
        if *v == inf_max() {
            return Ok(PkBound::InfMax);
        }
    }
    Ok(PkBound::Value(to_pk_value(v, &what)?))
}

/// A range bound; `INF_MIN` / `INF_MAX` alone stand for every column.
pub fn to_range_bound(v: &JsValue, schema: &TableSchema, what: &str) -> JsResult<RangeBound> {
    if v.is_symbol() {
        let b = if *v == inf_min() {
            PkBound::InfMin
        } else if *v == inf_max() {
            PkBound::InfMax
        } else {
            return Err(type_error(format!(
                "{what}: the only symbols allowed are INF_MIN and INF_MAX"
            )));
        };
        return Ok(RangeBound::all(schema, b));
    }
    let parts = pairs(v, what)?;
    let mut out = Vec::with_capacity(parts.len());
    for (name, val) in parts {
        let b = to_bound_part(&val, &format_args!("{what} column '{name}'"))?;
        out.push((name, b));
    }
    Ok(RangeBound(out))
}

/// A primary-key part as JS.
pub fn pk_value_to_js(
    v: &PkValue,
    mode: IntegerMode,
    what: &dyn std::fmt::Display,
) -> JsResult<JsValue> {
    Ok(match v {
        PkValue::Integer(i) => integer_to_js(*i, mode, &what)?,
        PkValue::String(s) => JsValue::from_str(s),
        PkValue::Binary(b) => js_sys::Uint8Array::from(b.as_slice()).into(),
        PkValue::AutoIncrement => auto_increment(),
    })
}

/// A primary key as a JS object in schema order.
pub fn primary_key_to_js(pk: &PrimaryKey, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    for (name, v) in &pk.0 {
        let jv = pk_value_to_js(v, mode, &format_args!("primary-key column '{name}'"))?;
        js::set_dynamic(&obj, name, &jv);
    }
    Ok(obj.into())
}

/// A range bound as a JS object (INF parts as the symbols).
pub fn range_bound_to_js(b: &RangeBound, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    for (name, part) in &b.0 {
        let jv = match part {
            PkBound::InfMin => inf_min(),
            PkBound::InfMax => inf_max(),
            PkBound::Value(v) => {
                pk_value_to_js(v, mode, &format_args!("range bound column '{name}'"))?
            }
        };
        js::set(&obj, name, &jv);
    }
    Ok(obj.into())
}
