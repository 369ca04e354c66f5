//! Rows and cells as reads return them, columns and column changes as
//! writes take them, and version-time ranges: plain data shared by the
//! engine (which reads and writes rows) and the [`Database`](crate::Database)
//! façade, which re-exports them from `crate::client::types`.

use super::primary_key::PrimaryKey;
use super::value::Value;
use serde::{Deserialize, Serialize};

/// An attribute column to write: name, value and an optional version timestamp (ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Value.
    pub value: Value,
    /// Version timestamp in milliseconds; `None` lets the database assign the clock's time.
    pub timestamp: Option<i64>,
}

impl Column {
    /// A column whose version timestamp the database assigns.
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Column {
            name: name.into(),
            value: value.into(),
            timestamp: None,
        }
    }
    /// Set an explicit version timestamp (ms).
    pub fn at(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// One returned cell version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Column name.
    pub name: String,
    /// Value.
    pub value: Value,
    /// Version timestamp (ms).
    pub timestamp: i64,
}

/// A row as reads return it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The primary key, in schema order.
    pub primary_key: PrimaryKey,
    /// Every returned version, ordered by column name, then newest timestamp first.
    pub cells: Vec<Cell>,
}

impl Row {
    /// Latest returned value of each column, in column-name order.
    pub fn columns(&self) -> Vec<(&str, &Value)> {
        let mut out: Vec<(&str, &Value)> = Vec::new();
        for c in &self.cells {
            if out.last().map(|(n, _)| *n) != Some(c.name.as_str()) {
                out.push((c.name.as_str(), &c.value));
            }
        }
        out
    }
    /// Latest returned value of one column.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.cells.iter().find(|c| c.name == name).map(|c| &c.value)
    }
}

/// A half-open timestamp range `[start, end)` in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: i64,
    /// Exclusive end.
    pub end: i64,
}

impl TimeRange {
    /// Exactly one timestamp.
    pub fn exact(ts: i64) -> Self {
        TimeRange {
            start: ts,
            end: ts.saturating_add(1),
        }
    }
}

/// Column changes of an `update_row`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct RowUpdate {
    /// Columns to put (a new version each).
    pub put: Vec<Column>,
    /// Single versions to delete: `(column, timestamp)`.
    pub delete: Vec<(String, i64)>,
    /// Columns whose every version is deleted.
    pub delete_all: Vec<String>,
    /// INTEGER columns to increment (a missing column counts as 0).
    pub increment: Vec<(String, i64)>,
}

impl RowUpdate {
    /// An empty update.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a put.
    pub fn put(mut self, c: Column) -> Self {
        self.put.push(c);
        self
    }
    /// Add a single-version delete.
    pub fn delete(mut self, name: impl Into<String>, ts: i64) -> Self {
        self.delete.push((name.into(), ts));
        self
    }
    /// Add a delete of all versions.
    pub fn delete_all(mut self, name: impl Into<String>) -> Self {
        self.delete_all.push(name.into());
        self
    }
    /// Add an increment.
    pub fn increment(mut self, name: impl Into<String>, by: i64) -> Self {
        self.increment.push((name.into(), by));
        self
    }
    /// Number of column operations.
    pub fn len(&self) -> usize {
        self.put.len() + self.delete.len() + self.delete_all.len() + self.increment.len()
    }
    /// Whether there are no column operations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
