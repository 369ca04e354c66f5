//! Safe access to user-supplied JS values.
//!
//! Every step that can run user code (getters, proxies, iterators) goes
//! through a `catch` import (`Reflect.*`), so an exception thrown by user
//! code comes back as an `Err` and unwinds through Rust normally instead of
//! jumping over Rust frames.

use crate::error::{type_error, JsResult};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `obj[key]` (may run a getter; its exception is returned).
pub fn get(obj: &JsValue, key: &str) -> JsResult<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
}

/// `obj[key] = value` on an object this crate created.
pub fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &wasm_bindgen::intern(key).into(), value);
}

/// Most column names [`name`] keeps converted; past it the cache restarts.
const NAME_CACHE_LIMIT: usize = 4096;

thread_local! {
    static NAMES: std::cell::RefCell<std::collections::HashMap<String, JsValue>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// A column name as a JS string, from a bounded cache: the same few names
/// repeat in every row, and decoding them once saves a copy per cell.
pub fn name(s: &str) -> JsValue {
    if s.len() > 64 {
        return JsValue::from_str(s);
    }
    NAMES.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(v) = c.get(s) {
            return v.clone();
        }
        if c.len() >= NAME_CACHE_LIMIT {
            c.clear();
        }
        let v = JsValue::from_str(s);
        c.insert(s.to_string(), v.clone());
        v
    })
}

/// `obj[key] = value` with a user-chosen key (a column name).
pub fn set_dynamic(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &name(key), value);
}

/// Whether `v` is `undefined` or `null`.
pub fn is_nullish(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// Whether `v` is an object (not a function, not null).
pub fn is_object(v: &JsValue) -> bool {
    v.is_object() && !v.is_function()
}

/// Whether `v` is an array (including a proxy of one).
pub fn is_array(v: &JsValue) -> bool {
    Array::is_array(v)
}

/// Longest array any call accepts (no request needs more; bounds the work
/// a hostile `length` can ask for).
pub const MAX_ARRAY_LEN: u32 = 1 << 24;

/// The elements of an array, read through `Reflect` (proxy-safe). A hole or
/// `undefined` element is a `TypeError` (no list of the API holds one), so a
/// sparse array with a huge `length` fails at its first hole.
pub fn array_items(v: &JsValue, what: &str) -> JsResult<Vec<JsValue>> {
    if !is_array(v) {
        return Err(type_error(format!(
            "{what} must be an array, got {}",
            type_name(v)
        )));
    }
    let len = Reflect::get(v, &JsValue::from_str("length"))?;
    let len = len
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= u32::MAX as f64)
        .ok_or_else(|| type_error(format!("{what} has an invalid length")))? as u32;
    if len > MAX_ARRAY_LEN {
        return Err(crate::error::invalid(format!(
            "{what} has {len} entries; at most {MAX_ARRAY_LEN} are accepted"
        )));
    }
    let mut out = Vec::with_capacity(len.min(1 << 12) as usize);
    for i in 0..len {
        let item = Reflect::get_u32(v, i)?;
        if item.is_undefined() {
            return Err(type_error(format!(
                "{what}: entry {i} is empty or undefined"
            )));
        }
        out.push(item);
    }
    Ok(out)
}

/// The own enumerable string-keyed properties of a plain object, in order.
pub fn object_entries(v: &JsValue, what: &str) -> JsResult<Vec<(String, JsValue)>> {
    if !is_object(v) || is_array(v) {
        return Err(type_error(format!("{what} must be a plain object")));
    }
    let keys = Reflect::own_keys(v)?;
    let mut out = Vec::with_capacity(keys.length() as usize);
    for k in keys.iter() {
        // Symbol keys are not column names; skip them.
        if let Some(name) = k.as_string() {
            let value = Reflect::get(v, &k)?;
            out.push((name, value));
        }
    }
    Ok(out)
}

/// Reject option keys this call does not know (catches typos such as `maxversions`).
pub fn check_keys(v: &JsValue, allowed: &[&str], what: &str) -> JsResult<()> {
    let keys = Reflect::own_keys(v)?;
    for k in keys.iter() {
        if let Some(name) = k.as_string() {
            if !allowed.contains(&name.as_str()) {
                return Err(type_error(format!(
                    "{what}: unknown option '{name}' (expected one of: {})",
                    allowed.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// An options argument: `undefined`/`null` means none, otherwise a plain
/// object whose keys are all in `allowed`.
pub fn options(v: &JsValue, allowed: &[&str], what: &str) -> JsResult<Option<JsValue>> {
    if is_nullish(v) {
        return Ok(None);
    }
    if !is_object(v) || is_array(v) {
        return Err(type_error(format!("{what} must be an object")));
    }
    check_keys(v, allowed, what)?;
    Ok(Some(v.clone()))
}

/// `opts[key]`, with `undefined`/`null` (or no options) as `None`.
pub fn opt(opts: &Option<JsValue>, key: &str) -> JsResult<Option<JsValue>> {
    match opts {
        None => Ok(None),
        Some(o) => {
            let v = get(o, key)?;
            Ok(if is_nullish(&v) { None } else { Some(v) })
        }
    }
}

/// A string argument or a `TypeError`.
pub fn string(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<String> {
    v.as_string()
        .ok_or_else(|| type_error(format!("{what} must be a string, got {}", type_name(v))))
}

/// A boolean argument or a `TypeError`.
pub fn boolean(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<bool> {
    v.as_bool()
        .ok_or_else(|| type_error(format!("{what} must be a boolean, got {}", type_name(v))))
}

/// A genuine `Uint8Array` (or subclass such as Node's `Buffer`), not a proxy.
pub fn as_bytes(v: &JsValue) -> Option<Vec<u8>> {
    if js_sys::ArrayBuffer::is_view(v) {
        v.dyn_ref::<js_sys::Uint8Array>().map(|a| a.to_vec())
    } else {
        None
    }
}

/// A short description of a value's JS type for error messages.
pub fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if is_array(v) {
        "array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}
