//! Change records: what every committed mutation leaves in the log.
//!
//! These are plain data types, so they live in the model layer: the codec
//! (`codec::record`), the engine and the log all import them from here, and
//! `crate::log::record` re-exports them under their old path.

use crate::model::primary_key::PrimaryKey;
use crate::model::value::Value;
use serde::{Deserialize, Serialize};

/// The kind of mutation a record carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeKind {
    /// `put_row`: the row is replaced (a row tombstone at the record's stamp, then its cells).
    Put,
    /// `update_row`: column operations on the existing row (which it creates if absent).
    Update,
    /// `delete_row`: a row tombstone.
    Delete,
}

impl ChangeKind {
    /// `PUT` / `UPDATE` / `DELETE`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Put => "PUT",
            ChangeKind::Update => "UPDATE",
            ChangeKind::Delete => "DELETE",
        }
    }
    /// Parse the upper-case name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PUT" => Some(ChangeKind::Put),
            "UPDATE" => Some(ChangeKind::Update),
            "DELETE" => Some(ChangeKind::Delete),
            _ => None,
        }
    }
}

/// One column operation of a record. Timestamps are always resolved (never "now").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnOp {
    /// Write one version.
    Put {
        /// Column.
        name: String,
        /// Value.
        value: Value,
        /// Version timestamp (ms).
        timestamp: i64,
    },
    /// Delete one version.
    DeleteOneVersion {
        /// Column.
        name: String,
        /// Version timestamp (ms).
        timestamp: i64,
    },
    /// Delete every version older than the record's stamp.
    DeleteAllVersions {
        /// Column.
        name: String,
    },
}

impl ColumnOp {
    /// The column name.
    pub fn name(&self) -> &str {
        match self {
            ColumnOp::Put { name, .. }
            | ColumnOp::DeleteOneVersion { name, .. }
            | ColumnOp::DeleteAllVersions { name } => name,
        }
    }
    /// `PUT` / `DELETE_ONE_VERSION` / `DELETE_ALL_VERSIONS`.
    pub fn op_name(&self) -> &'static str {
        match self {
            ColumnOp::Put { .. } => "PUT",
            ColumnOp::DeleteOneVersion { .. } => "DELETE_ONE_VERSION",
            ColumnOp::DeleteAllVersions { .. } => "DELETE_ALL_VERSIONS",
        }
    }
}

/// A committed mutation, as the change log holds it and replication ships it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// Position in this region's log (local; not part of the wire encoding).
    pub cursor: u64,
    /// Region that made the mutation.
    pub origin: String,
    /// The origin region's sequence number for it (1, 2, 3, … per origin).
    pub seq: u64,
    /// Hybrid-logical-clock stamp; with the origin it orders all mutations totally.
    pub stamp: u64,
    /// Table.
    pub table: String,
    /// Kind.
    pub kind: ChangeKind,
    /// Full primary key (auto-increment values resolved).
    pub primary_key: PrimaryKey,
    /// Column operations (empty for `Delete`).
    pub columns: Vec<ColumnOp>,
}

/// A borrowed column operation: what a write hands to the record encoder and
/// the table without copying names or values (the caller's `Column`s, or a
/// [`ColumnOp`] already held).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OpRef<'a> {
    /// Write one version.
    Put {
        /// Column.
        name: &'a str,
        /// Value.
        value: &'a Value,
        /// Version timestamp (ms).
        timestamp: i64,
    },
    /// Delete one version.
    DeleteOneVersion {
        /// Column.
        name: &'a str,
        /// Version timestamp (ms).
        timestamp: i64,
    },
    /// Delete every version older than the record's stamp.
    DeleteAllVersions {
        /// Column.
        name: &'a str,
    },
}

impl<'a> OpRef<'a> {
    /// The column name.
    pub fn name(&self) -> &'a str {
        match *self {
            OpRef::Put { name, .. }
            | OpRef::DeleteOneVersion { name, .. }
            | OpRef::DeleteAllVersions { name } => name,
        }
    }
}

impl ColumnOp {
    /// This operation, borrowed.
    pub fn as_op_ref(&self) -> OpRef<'_> {
        match self {
            ColumnOp::Put {
                name,
                value,
                timestamp,
            } => OpRef::Put {
                name,
                value,
                timestamp: *timestamp,
            },
            ColumnOp::DeleteOneVersion { name, timestamp } => OpRef::DeleteOneVersion {
                name,
                timestamp: *timestamp,
            },
            ColumnOp::DeleteAllVersions { name } => OpRef::DeleteAllVersions { name },
        }
    }
}
