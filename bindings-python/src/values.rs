//! Conversions of values, primary keys and range bounds between Python and the core.
//!
//! Python `bool` is BOOLEAN (never INTEGER), `int` is INTEGER (outside i64 →
//! `InvalidArgument` with code `IntegerOutOfRange`), `float` is DOUBLE, `str`
//! is STRING, `bytes`/`bytearray` are BINARY. Anything else is a `TypeError`.

use crate::errors::{invalid_with_code, type_error, INTEGER_OUT_OF_RANGE};
use crate::markers::{marker, KeyMarker, MarkerKind};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use tablesync::{PkBound, PkValue, PrimaryKey, RangeBound, Value};

/// An `int` (not `bool`) as i64; out of range is `IntegerOutOfRange`.
pub fn int_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(type_error(what, "an int", obj));
    }
    obj.extract::<i64>().map_err(|_| {
        invalid_with_code(
            INTEGER_OUT_OF_RANGE,
            format!(
                "{what} {} is outside the signed 64-bit range",
                obj.repr()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        )
    })
}

/// An `int` ≥ 0 as u64 (cursors, sequence numbers, stamps).
pub fn uint_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(type_error(what, "an int", obj));
    }
    obj.extract::<u64>().map_err(|_| {
        invalid_with_code(
            INTEGER_OUT_OF_RANGE,
            format!(
                "{what} {} is outside 0..2**64",
                obj.repr()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        )
    })
}

/// A `str`.
pub fn str_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if !obj.is_instance_of::<PyString>() {
        return Err(type_error(what, "a str", obj));
    }
    obj.extract::<String>()
}

/// An optional `bool` argument given as a Python object (strictly `bool`).
pub fn bool_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<bool> {
    if !obj.is_instance_of::<PyBool>() {
        return Err(type_error(what, "a bool", obj));
    }
    obj.extract::<bool>()
}

/// `bytes` / `bytearray` as a byte vector, or `None` if `obj` is neither.
fn bytes_of(obj: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Some(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Some(b.to_vec());
    }
    None
}

/// An attribute value.
pub fn value_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Boolean(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(Value::Integer(int_from_py(obj, what)?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Double(obj.extract::<f64>()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract::<String>()?));
    }
    if let Some(b) = bytes_of(obj) {
        return Ok(Value::Binary(b));
    }
    Err(type_error(
        what,
        "int, float, bool, str, bytes or bytearray",
        obj,
    ))
}

/// An attribute value as a Python object.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        Value::Double(d) => d.into_pyobject(py)?.into_any(),
        Value::Boolean(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Binary(b) => PyBytes::new(py, b).into_any(),
    })
}

/// A primary-key value (`int`, `str`, `bytes`, or `PK_AUTO_INCR`).
pub fn pk_value_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PkValue> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be int, str or bytes, not bool (booleans cannot be key values)"
        )));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(PkValue::Integer(int_from_py(obj, what)?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(PkValue::String(obj.extract::<String>()?));
    }
    if let Some(b) = bytes_of(obj) {
        return Ok(PkValue::Binary(b));
    }
    if let Ok(m) = obj.cast::<KeyMarker>() {
        return match m.get().kind {
            MarkerKind::AutoIncrement => Ok(PkValue::AutoIncrement),
            MarkerKind::InfMin | MarkerKind::InfMax => Err(crate::errors::invalid(format!(
                "{what}: INF_MIN / INF_MAX are range bounds, not key values"
            ))),
        };
    }
    Err(type_error(
        what,
        "int, str, bytes, bytearray or PK_AUTO_INCR",
        obj,
    ))
}

/// A primary-key value as a Python object.
pub fn pk_value_to_py<'py>(py: Python<'py>, v: &PkValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        PkValue::Integer(i) => i.into_pyobject(py)?.into_any(),
        PkValue::String(s) => PyString::new(py, s).into_any(),
        PkValue::Binary(b) => PyBytes::new(py, b).into_any(),
        PkValue::AutoIncrement => marker(py, MarkerKind::AutoIncrement),
    })
}

/// `(name, value)` pairs of a `dict`, or of a list/tuple of 2-item lists/tuples.
pub fn pairs<'py>(
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(d.iter().collect());
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            let item = item?;
            if !(item.is_instance_of::<PyList>() || item.is_instance_of::<PyTuple>()) {
                return Err(type_error(
                    &format!("each item of {what}"),
                    "a (name, value) pair",
                    &item,
                ));
            }
            if item.len()? != 2 {
                return Err(PyTypeError::new_err(format!(
                    "each item of {what} must be a (name, value) pair, got {} items",
                    item.len()?
                )));
            }
            out.push((item.get_item(0)?, item.get_item(1)?));
        }
        return Ok(out);
    }
    Err(type_error(
        what,
        "a dict or a list of (name, value) pairs",
        obj,
    ))
}

/// A primary key from a dict or a list of `(name, value)` pairs.
pub fn pk_from_py(obj: &Bound<'_, PyAny>) -> PyResult<PrimaryKey> {
    let mut out = Vec::new();
    for (k, v) in pairs(obj, "primary key")? {
        let name = str_from_py(&k, "a primary-key column name")?;
        let value = pk_value_from_py(&v, &format!("primary-key column '{name}'"))?;
        out.push((name, value));
    }
    Ok(PrimaryKey(out))
}

/// A primary key as a dict, in schema order.
pub fn pk_to_py<'py>(py: Python<'py>, pk: &PrimaryKey) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (n, v) in &pk.0 {
        d.set_item(n, pk_value_to_py(py, v)?)?;
    }
    Ok(d)
}

/// One part of a range bound.
fn pk_bound_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PkBound> {
    if let Ok(m) = obj.cast::<KeyMarker>() {
        return match m.get().kind {
            MarkerKind::InfMin => Ok(PkBound::InfMin),
            MarkerKind::InfMax => Ok(PkBound::InfMax),
            MarkerKind::AutoIncrement => Err(crate::errors::invalid(format!(
                "{what}: PK_AUTO_INCR is not a range bound"
            ))),
        };
    }
    Ok(PkBound::Value(pk_value_from_py(obj, what)?))
}

/// A range bound: `None` or a bare `INF_MIN`/`INF_MAX` (every key column at
/// that bound, through the core's `RangeBound::all_named`; `None` means
/// `default`), or a dict / list of pairs whose values may be `INF_MIN` / `INF_MAX`.
pub fn bound_from_py(
    obj: Option<&Bound<'_, PyAny>>,
    key_columns: &[String],
    default: PkBound,
) -> PyResult<RangeBound> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(RangeBound::all_named(key_columns, default));
    };
    if let Ok(m) = obj.cast::<KeyMarker>() {
        let b = match m.get().kind {
            MarkerKind::AutoIncrement => {
                return Err(crate::errors::invalid("PK_AUTO_INCR is not a range bound"))
            }
            MarkerKind::InfMin => PkBound::InfMin,
            MarkerKind::InfMax => PkBound::InfMax,
        };
        return Ok(RangeBound::all_named(key_columns, b));
    }
    let mut out = Vec::new();
    for (k, v) in pairs(obj, "range bound")? {
        let name = str_from_py(&k, "a primary-key column name")?;
        let b = pk_bound_from_py(&v, &format!("range bound column '{name}'"))?;
        out.push((name, b));
    }
    Ok(RangeBound(out))
}

/// A range bound as a dict (`INF_MIN` / `INF_MAX` as the markers).
pub fn bound_to_py<'py>(py: Python<'py>, b: &RangeBound) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (n, v) in &b.0 {
        let obj = match v {
            PkBound::InfMin => marker(py, MarkerKind::InfMin),
            PkBound::InfMax => marker(py, MarkerKind::InfMax),
            PkBound::Value(v) => pk_value_to_py(py, v)?,
        };
        d.set_item(n, obj)?;
    }
    Ok(d)
}

/// Python's `repr()` of a string (single quotes, escapes).
pub fn py_repr(py: Python<'_>, s: &str) -> String {
    PyString::new(py, s)
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| format!("{s:?}"))
}
