//! Building a cluster [`RowWrite`] from an update, once for every driver.

use super::wire::RowWrite;
use crate::client::types::RowUpdate;
use crate::log::record::{ChangeKind, ColumnOp};
use crate::model::condition::RowExistence;
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;

impl RowWrite {
    /// An update as a cluster write: puts stamped `now_ms` where they carry
    /// no timestamp (so every replica stores the same versions), single-
    /// version and all-version deletes. Increments are refused with
    /// `OTSParameterInvalid`: they would not replay to the same value on
    /// every replica.
    pub fn update(
        table: &str,
        primary_key: PrimaryKey,
        update: RowUpdate,
        condition: RowExistence,
        now_ms: i64,
    ) -> Result<RowWrite> {
        if !update.increment.is_empty() {
            return Err(Error::invalid(
                "cluster updates do not support increments (they would not replay to the same value on every replica)",
            ));
        }
        let mut cols: Vec<ColumnOp> = update
            .put
            .into_iter()
            .map(|c| ColumnOp::Put {
                name: c.name,
                value: c.value,
                timestamp: c.timestamp.unwrap_or(now_ms),
            })
            .collect();
        cols.extend(
            update
                .delete
                .into_iter()
                .map(|(name, timestamp)| ColumnOp::DeleteOneVersion { name, timestamp }),
        );
        cols.extend(
            update
                .delete_all
                .into_iter()
                .map(|name| ColumnOp::DeleteAllVersions { name }),
        );
        Ok(RowWrite::new(
            condition,
            table,
            ChangeKind::Update,
            primary_key,
            cols,
        ))
    }
}
