//! Request options and results of the [`Database`](crate::Database) façade.

use crate::model::primary_key::{PrimaryKey, RangeBound};
use serde::{Deserialize, Serialize};

pub use crate::model::read_options::GetOptions;
pub use crate::model::row::{Cell, Column, Row, RowUpdate, TimeRange};

/// Range direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Direction {
    /// Ascending keys; `start` < `end`.
    #[default]
    Forward,
    /// Descending keys; `start` > `end`.
    Backward,
}

impl Direction {
    /// Parse `FORWARD` / `BACKWARD`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "FORWARD" => Some(Direction::Forward),
            "BACKWARD" => Some(Direction::Backward),
            _ => None,
        }
    }
}

/// Options of `get_range` and `scan`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct RangeOptions {
    /// Direction.
    pub direction: Direction,
    /// Most rows in the page (capped at 5000).
    pub limit: Option<usize>,
    /// Row-read options applied to each row.
    pub read: GetOptions,
}

/// One page of a range read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangePage {
    /// Rows in key order (or reverse for backward).
    pub rows: Vec<Row>,
    /// Where the next page starts; `None` when the range is exhausted.
    pub next_start: Option<RangeBound>,
}

/// One operation of a batch write.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    /// A `put_row`.
    Put {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Columns.
        columns: Vec<Column>,
        /// Condition.
        condition: crate::model::condition::Condition,
    },
    /// An `update_row`.
    Update {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Changes.
        update: RowUpdate,
        /// Condition.
        condition: crate::model::condition::Condition,
    },
    /// A `delete_row`.
    Delete {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Condition.
        condition: crate::model::condition::Condition,
    },
}

/// One row request of a batch get.
#[derive(Clone, Debug, PartialEq)]
pub struct GetRequest {
    /// Table.
    pub table: String,
    /// Key.
    pub primary_key: PrimaryKey,
    /// Read options.
    pub options: GetOptions,
}

/// Progress of a `copy_table`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyProgress {
    /// Rows copied so far.
    pub copied: u64,
    /// Rows to copy in all.
    pub total: u64,
}

/// What `describe_table` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDescription {
    /// The schema.
    pub schema: crate::model::schema::TableSchema,
    /// Rows that exist.
    pub row_count: u64,
}
