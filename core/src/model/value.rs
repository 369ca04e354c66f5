//! Attribute values and their types.

use serde::{Deserialize, Serialize};

/// The type of an attribute value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueType {
    /// 64-bit signed integer.
    Integer,
    /// IEEE-754 double.
    Double,
    /// Boolean.
    Boolean,
    /// UTF-8 string.
    String,
    /// Raw bytes.
    Binary,
}

impl ValueType {
    /// The Tablestore-style upper-case name (`INTEGER`, `DOUBLE`, …).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Integer => "INTEGER",
            ValueType::Double => "DOUBLE",
            ValueType::Boolean => "BOOLEAN",
            ValueType::String => "STRING",
            ValueType::Binary => "BINARY",
        }
    }
}

/// An attribute column value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    /// 64-bit signed integer.
    Integer(i64),
    /// IEEE-754 double.
    Double(f64),
    /// Boolean.
    Boolean(bool),
    /// UTF-8 string.
    String(String),
    /// Raw bytes.
    Binary(Vec<u8>),
}

impl Value {
    /// The type of this value.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Integer(_) => ValueType::Integer,
            Value::Double(_) => ValueType::Double,
            Value::Boolean(_) => ValueType::Boolean,
            Value::String(_) => ValueType::String,
            Value::Binary(_) => ValueType::Binary,
        }
    }

    /// Size in bytes as Tablestore counts it for row-size limits
    /// (8 for numbers, 1 for booleans, byte length for strings and binaries).
    pub fn size(&self) -> usize {
        match self {
            Value::Integer(_) | Value::Double(_) => 8,
            Value::Boolean(_) => 1,
            Value::String(s) => s.len(),
            Value::Binary(b) => b.len(),
        }
    }

    /// Compare two values of the same type; `None` when the types differ
    /// (or a NaN is involved).
    pub fn compare(&self, other: &Value) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => Some(a.cmp(b)),
            (Value::Double(a), Value::Double(b)) => a.partial_cmp(b),
            (Value::Integer(a), Value::Double(b)) => (*a as f64).partial_cmp(b),
            (Value::Double(a), Value::Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Boolean(a), Value::Boolean(b)) => Some(a.cmp(b)),
            (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::Binary(a), Value::Binary(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Values are equal when their canonical encodings are equal
/// (so a `Double` NaN equals itself and `0.0` differs from `-0.0`).
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits(),
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Binary(a), Value::Binary(b)) => a == b,
            _ => false,
        }
    }
}
impl Eq for Value {}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Integer(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Binary(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Binary(v.to_vec())
    }
}
