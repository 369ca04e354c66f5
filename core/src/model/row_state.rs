//! The merged state of one row as data: its versions, columns and row
//! stamps. The merge rule is in [`crate::engine::row_state`] and the
//! canonical bytes in [`crate::codec::row_state`]; both import these types
//! from here, so neither imports the other.

use super::stamp::Stamp;
use super::value::Value;

/// One version of a cell: a value, or a tombstone for that timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// Version timestamp (ms).
    pub ts: i64,
    /// Stamp of the write that set it.
    pub stamp: Stamp,
    /// The value; `None` marks a deleted version.
    pub value: Option<Value>,
}

/// The versions of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnState {
    /// Column name.
    pub name: String,
    /// Greatest delete-all stamp (ZERO: none).
    pub cleared: Stamp,
    /// Versions, newest timestamp first.
    pub versions: Vec<Version>,
}

/// The merged state of one row.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RowState {
    /// Greatest row-tombstone stamp (ZERO: none).
    pub deleted: Stamp,
    /// Greatest stamp of a put or update (ZERO: none after the tombstone).
    pub live: Stamp,
    /// Columns in name order.
    pub columns: Vec<ColumnState>,
}
