//! Primary keys, primary-key values and range bounds.

use super::value::Value;
use serde::{Deserialize, Serialize};

/// The type of a primary-key column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PkType {
    /// 64-bit signed integer.
    Integer,
    /// UTF-8 string (≤ 1 KiB).
    String,
    /// Raw bytes (≤ 1 KiB).
    Binary,
}

impl PkType {
    /// The Tablestore-style upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            PkType::Integer => "INTEGER",
            PkType::String => "STRING",
            PkType::Binary => "BINARY",
        }
    }

    /// Parse `INTEGER` / `STRING` / `BINARY` (case-insensitive).
    pub fn parse(s: &str) -> Option<PkType> {
        match s.to_ascii_uppercase().as_str() {
            "INTEGER" => Some(PkType::Integer),
            "STRING" => Some(PkType::String),
            "BINARY" => Some(PkType::Binary),
            _ => None,
        }
    }
}

/// A primary-key column value.
///
/// `AutoIncrement` is only a placeholder a caller may pass to `put_row` for
/// the table's auto-increment column; stored keys never contain it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PkValue {
    /// Integer key part.
    Integer(i64),
    /// String key part.
    String(String),
    /// Binary key part.
    Binary(Vec<u8>),
    /// Placeholder asking the table to assign the next auto-increment value.
    AutoIncrement,
}

impl PkValue {
    /// The key column type of this value (`None` for the placeholder).
    pub fn pk_type(&self) -> Option<PkType> {
        match self {
            PkValue::Integer(_) => Some(PkType::Integer),
            PkValue::String(_) => Some(PkType::String),
            PkValue::Binary(_) => Some(PkType::Binary),
            PkValue::AutoIncrement => None,
        }
    }

    /// This key part as an attribute [`Value`] (for conditions and filters).
    pub fn to_value(&self) -> Option<Value> {
        match self {
            PkValue::Integer(i) => Some(Value::Integer(*i)),
            PkValue::String(s) => Some(Value::String(s.clone())),
            PkValue::Binary(b) => Some(Value::Binary(b.clone())),
            PkValue::AutoIncrement => None,
        }
    }

    /// Size in bytes as counted for limits.
    pub fn size(&self) -> usize {
        match self {
            PkValue::Integer(_) => 8,
            PkValue::String(s) => s.len(),
            PkValue::Binary(b) => b.len(),
            PkValue::AutoIncrement => 8,
        }
    }
}

impl From<i64> for PkValue {
    fn from(v: i64) -> Self {
        PkValue::Integer(v)
    }
}
impl From<i32> for PkValue {
    fn from(v: i32) -> Self {
        PkValue::Integer(v as i64)
    }
}
impl From<&str> for PkValue {
    fn from(v: &str) -> Self {
        PkValue::String(v.to_string())
    }
}
impl From<String> for PkValue {
    fn from(v: String) -> Self {
        PkValue::String(v)
    }
}
impl From<Vec<u8>> for PkValue {
    fn from(v: Vec<u8>) -> Self {
        PkValue::Binary(v)
    }
}

/// A full primary key: `(column name, value)` pairs in schema order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PrimaryKey(pub Vec<(String, PkValue)>);

impl PrimaryKey {
    /// Build a key from pairs.
    pub fn new<N: Into<String>, V: Into<PkValue>>(parts: impl IntoIterator<Item = (N, V)>) -> Self {
        PrimaryKey(
            parts
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }

    /// The value of the named column.
    pub fn get(&self, name: &str) -> Option<&PkValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The pairs.
    pub fn columns(&self) -> &[(String, PkValue)] {
        &self.0
    }
}

/// One part of a range bound: a value, or the infinite bounds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PkBound {
    /// Smaller than every value.
    InfMin,
    /// A concrete value.
    Value(PkValue),
    /// Larger than every value.
    InfMax,
}

impl<T: Into<PkValue>> From<T> for PkBound {
    fn from(v: T) -> Self {
        PkBound::Value(v.into())
    }
}

/// A range bound: one `(column, bound)` pair per primary-key column, in schema order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct RangeBound(pub Vec<(String, PkBound)>);

impl RangeBound {
    /// Build a bound from pairs.
    pub fn new<N: Into<String>>(parts: impl IntoIterator<Item = (N, PkBound)>) -> Self {
        RangeBound(parts.into_iter().map(|(n, v)| (n.into(), v)).collect())
    }
}

impl From<PrimaryKey> for RangeBound {
    fn from(pk: PrimaryKey) -> Self {
        RangeBound(
            pk.0.into_iter()
                .map(|(n, v)| (n, PkBound::Value(v)))
                .collect(),
        )
    }
}
