//! A cluster read's answer: the records a replica returns, as rows.

use crate::client::types::{Cell, Row};
use crate::log::record::{ChangeRecord, ColumnOp};

/// A change record as the row a cluster read returns: its primary key and
/// its `Put` cells (deletes carry no cell).
pub fn record_row(rec: ChangeRecord) -> Row {
    Row {
        primary_key: rec.primary_key,
        cells: rec
            .columns
            .into_iter()
            .filter_map(|c| match c {
                ColumnOp::Put {
                    name,
                    value,
                    timestamp,
                } => Some(Cell {
                    name,
                    value,
                    timestamp,
                }),
                _ => None,
            })
            .collect(),
    }
}
