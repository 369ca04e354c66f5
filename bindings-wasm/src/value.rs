//! Values between JS and tablesync.
//!
//! In: `bigint` or an integer `number` → INTEGER (an unsafe integer number
//! is a `RangeError`), any other `number` → DOUBLE, `double(x)` → DOUBLE,
//! `boolean`, `string`, `Uint8Array` → BINARY.
//! Out: INTEGER → `number` (a `RangeError` beyond ±(2^53−1)) or `bigint` in
//! bigint mode; DOUBLE → `number`, except integral values (and −0), which
//! come back as `Double` so that writing them back keeps the type.

use crate::error::{integer_out_of_range, is_double, make_double, type_error, JsResult};
use crate::js;
use tablesync::Value;
use wasm_bindgen::prelude::*;

/// Largest integer a JS number holds exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// How reads return INTEGER values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerMode {
    /// As `number`; values beyond ±(2^53−1) throw `IntegerOutOfRange`.
    Number,
    /// Always as `bigint`.
    BigInt,
    /// `number` when safe, else `bigint`: only for echoing back keys the
    /// caller wrote (a write must not fail after it committed).
    Echo,
}

impl IntegerMode {
    /// Parse the `integers` option (`"number"` or `"bigint"`).
    pub fn parse(v: Option<JsValue>) -> JsResult<IntegerMode> {
        let Some(v) = v else {
            return Ok(IntegerMode::Number);
        };
        match v.as_string().as_deref() {
            Some("number") => Ok(IntegerMode::Number),
            Some("bigint") => Ok(IntegerMode::BigInt),
            _ => Err(type_error(
                r#"option 'integers' must be "number" or "bigint""#,
            )),
        }
    }

    /// The option's name.
    pub fn name(self) -> &'static str {
        match self {
            IntegerMode::Number | IntegerMode::Echo => "number",
            IntegerMode::BigInt => "bigint",
        }
    }

    /// The mode for keys a write returns.
    pub fn echo(self) -> IntegerMode {
        match self {
            IntegerMode::Number => IntegerMode::Echo,
            m => m,
        }
    }
}

/// An integer from a `bigint` or an integer `number`; `None` if `v` is neither.
/// Out-of-range values (beyond i64, or unsafe numbers) are a `RangeError`.
pub fn integer(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<Option<i64>> {
    if v.is_bigint() {
        return i64::try_from(v.clone())
            .map(Some)
            .map_err(|_| integer_out_of_range(format!("{what}: bigint outside the 64-bit range")));
    }
    if let Some(x) = v.as_f64() {
        if x.is_finite() && x.fract() == 0.0 {
            if x.abs() > MAX_SAFE_INTEGER as f64 {
                return Err(integer_out_of_range(format!(
                    "{what}: {x} is not a safe integer; pass a bigint for integers beyond ±(2^53−1)"
                )));
            }
            return Ok(Some(x as i64));
        }
    }
    Ok(None)
}

/// An integer argument (`bigint` or integer `number`), else a `TypeError`.
pub fn require_integer(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<i64> {
    integer(v, &what)?.ok_or_else(|| {
        type_error(format!(
            "{what} must be an integer (number or bigint), got {}",
            js::type_name(v)
        ))
    })
}

/// A non-negative count or size argument.
pub fn require_count(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<u64> {
    let i = require_integer(v, &what)?;
    u64::try_from(i).map_err(|_| crate::error::invalid(format!("{what} must not be negative")))
}

/// A JS value as an attribute value.
pub fn to_value(v: &JsValue, what: &dyn std::fmt::Display) -> JsResult<Value> {
    if let Some(s) = v.as_string() {
        return Ok(Value::String(s));
    }
    if let Some(x) = v.as_f64() {
        return Ok(match integer(v, &what)? {
            Some(i) => Value::Integer(i),
            None => Value::Double(x),
        });
    }
    if v.is_bigint() {
        return Ok(Value::Integer(require_integer(v, &what)?));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Boolean(b));
    }
    if let Some(bytes) = js::as_bytes(v) {
        return Ok(Value::Binary(bytes));
    }
    if js::is_object(v) && is_double(v) {
        let inner = js::get(v, "value")?;
        return inner
            .as_f64()
            .map(Value::Double)
            .ok_or_else(|| type_error(format!("{what}: a Double must hold a number")));
    }
    Err(type_error(format!(
        "{what}: unsupported value of type {} (expected number, bigint, boolean, string, Uint8Array or double(x))",
        js::type_name(v)
    )))
}

/// An INTEGER as the integer mode returns it to JS.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsInt {
    /// A JS `number` (exact: within ±(2^53−1)).
    Number(f64),
    /// A JS `bigint`.
    BigInt(i64),
}

/// How an INTEGER goes out in `mode`; `IntegerOutOfRange` when a number
/// cannot hold it exactly.
pub fn integer_out(i: i64, mode: IntegerMode, what: &dyn std::fmt::Display) -> JsResult<JsInt> {
    match mode {
        IntegerMode::BigInt => Ok(JsInt::BigInt(i)),
        IntegerMode::Echo if i.unsigned_abs() > MAX_SAFE_INTEGER as u64 => Ok(JsInt::BigInt(i)),
        IntegerMode::Number | IntegerMode::Echo => {
            if i.unsigned_abs() > MAX_SAFE_INTEGER as u64 {
                Err(integer_out_of_range(format!(
                    "{what}: {i} does not fit a JS number exactly; open the database with {{ integers: \"bigint\" }}"
                )))
            } else {
                Ok(JsInt::Number(i as f64))
            }
        }
    }
}

/// An INTEGER as JS, following the integer mode.
pub fn integer_to_js(i: i64, mode: IntegerMode, what: &dyn std::fmt::Display) -> JsResult<JsValue> {
    Ok(match integer_out(i, mode, what)? {
        JsInt::Number(x) => JsValue::from_f64(x),
        JsInt::BigInt(i) => JsValue::from(i),
    })
}

/// Whether a DOUBLE goes out as a `Double` object: integral values (and −0)
/// would come back as INTEGER if written as plain numbers.
pub fn double_needs_wrapper(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0
}

/// A timestamp (ms) as a JS number.
pub fn timestamp_to_js(ts: i64, what: &dyn std::fmt::Display) -> JsResult<JsValue> {
    integer_to_js(ts, IntegerMode::Number, &what)
}

/// An attribute value as JS.
pub fn from_value(v: &Value, mode: IntegerMode, what: &dyn std::fmt::Display) -> JsResult<JsValue> {
    Ok(match v {
        Value::Integer(i) => integer_to_js(*i, mode, &what)?,
        Value::Double(x) => {
            if double_needs_wrapper(*x) {
                make_double(*x)
            } else {
                JsValue::from_f64(*x)
            }
        }
        Value::Boolean(b) => JsValue::from_bool(*b),
        Value::String(s) => JsValue::from_str(s),
        Value::Binary(b) => js_sys::Uint8Array::from(b.as_slice()).into(),
    })
}
