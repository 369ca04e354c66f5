//! Request options and results of the [`Database`](crate::Database) façade.

use crate::model::primary_key::{PkBound, PrimaryKey, RangeBound};
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

    /// What every key column of a missing start bound stands for: the
    /// first key in this direction (`InfMin` forward, `InfMax` backward).
    pub fn first_bound(self) -> PkBound {
        match self {
            Direction::Forward => PkBound::InfMin,
            Direction::Backward => PkBound::InfMax,
        }
    }

    /// What every key column of a missing end bound stands for: past the
    /// last key in this direction (`InfMax` forward, `InfMin` backward).
    pub fn last_bound(self) -> PkBound {
        match self {
            Direction::Forward => PkBound::InfMax,
            Direction::Backward => PkBound::InfMin,
        }
    }
}

/// Options of `get_range` and `scan`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct RangeOptions {
    /// Direction.
    pub direction: Direction,
    /// `get_range`: most rows in the page (capped at 5000). `scan` and
    /// [`ScanCursor`](crate::ScanCursor): most rows of the whole scan.
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

/// Progress of a `copy_table`. The callback that receives it returns
/// [`ControlFlow::Continue`](std::ops::ControlFlow) to go on or
/// `ControlFlow::Break(())` to cancel the copy (`Cancelled`).
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
