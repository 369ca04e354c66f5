//! `copy_table`: a table's visible content into a new table, here or in another region.

use super::database::{Database, Pending, PendingOps};
use super::types::CopyProgress;
use crate::codec::key::decode_key;
use crate::engine::row_state::RowState;
use crate::log::record::{ChangeKind, ColumnOp};
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::ops::{Bound, ControlFlow};

/// Rows committed per log append while copying.
const COPY_CHUNK: usize = 1000;

impl Database {
    /// Up to `COPY_CHUNK` existing rows after `after`, as PUT mutations for `target_table`.
    fn copy_chunk<'a>(
        &self,
        source: &str,
        target_table: &'a str,
        after: &Option<Vec<u8>>,
    ) -> Result<(Vec<Pending<'a>>, Option<Vec<u8>>)> {
        let t = self.table(source)?;
        let lower = match after {
            None => t.iter().next().map(|(k, _)| k.to_vec()),
            Some(k) => Some(k.clone()),
        };
        let Some(lower) = lower else {
            return Ok((Vec::new(), None));
        };
        let bound = if after.is_some() {
            Bound::Excluded(lower.as_slice())
        } else {
            Bound::Included(lower.as_slice())
        };
        let mut out = Vec::new();
        let mut last = None;
        for (key, stored) in t.range_from(bound) {
            if out.len() >= COPY_CHUNK {
                break;
            }
            last = Some(key.to_vec());
            if stored.digest.is_none() {
                continue;
            }
            let state = stored.decode()?;
            let mut ops = Vec::new();
            for col in &state.columns {
                for (ts, v) in RowState::live_versions(col, t.schema.options.max_versions) {
                    ops.push(ColumnOp::Put {
                        name: col.name.clone(),
                        value: v.clone(),
                        timestamp: ts,
                    });
                }
            }
            out.push(Pending {
                table: target_table,
                primary_key: decode_key(&t.schema, key)?,
                auto_increment: None,
                key: key.to_vec(),
                kind: ChangeKind::Put,
                ops: PendingOps::Owned(ops),
            });
        }
        Ok((out, last))
    }

    fn copy_schema(
        &self,
        source: &str,
        target_table: &str,
        target: &Database,
    ) -> Result<(TableSchema, u64)> {
        let t = self.table(source)?;
        target.check_open()?;
        let schema = TableSchema {
            name: target_table.to_string(),
            ..t.schema.clone()
        };
        schema.validate()?;
        if target.tables.contains_key(target_table) {
            return Err(Error::ObjectAlreadyExist(format!(
                "table '{target_table}' already exists"
            )));
        }
        Ok((schema, t.row_count()))
    }

    /// Copy a table's visible content into a new table of this database,
    /// with the same schema and options. Returns the rows copied; the copy's
    /// digest equals the source's. Each row becomes a PUT in the change log.
    ///
    /// `progress` is called once before the first row (`copied: 0`) and
    /// after each committed chunk of up to 1000 rows. Returning
    /// `ControlFlow::Break(())` cancels the copy with [`Error::Cancelled`]
    /// (`Cancelled`): at the first call nothing is left behind (the target
    /// table is not created); later, the target table stays with exactly
    /// the `copied` rows of the chunks committed so far (each chunk is one
    /// commit, in the change log like any write), and no further rows.
    pub fn copy_table(
        &mut self,
        source: &str,
        target_table: &str,
        progress: &mut dyn FnMut(CopyProgress) -> ControlFlow<()>,
    ) -> Result<u64> {
        let (schema, total) = self.copy_schema(source, target_table, self)?;
        let mut report = |copied: u64| match progress(CopyProgress { copied, total }) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(cancelled(source, target_table, copied, total)),
        };
        report(0)?;
        self.create_table(schema)?;
        let mut after = None;
        let mut copied = 0u64;
        loop {
            let (chunk, last) = self.copy_chunk(source, target_table, &after)?;
            if last.is_none() {
                break;
            }
            copied += chunk.len() as u64;
            if !chunk.is_empty() {
                self.commit_local(chunk)?;
            }
            report(copied)?;
            after = last;
        }
        Ok(copied)
    }

    /// Copy a table of this database into a new table of `target` (another
    /// region). `progress` and cancelling work as in
    /// [`copy_table`](Database::copy_table); what a cancel leaves behind is
    /// in `target`.
    pub fn copy_table_to(
        &self,
        source: &str,
        target: &mut Database,
        target_table: &str,
        progress: &mut dyn FnMut(CopyProgress) -> ControlFlow<()>,
    ) -> Result<u64> {
        let (schema, total) = self.copy_schema(source, target_table, target)?;
        let mut report = |copied: u64| match progress(CopyProgress { copied, total }) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(cancelled(source, target_table, copied, total)),
        };
        report(0)?;
        target.create_table(schema)?;
        let mut after = None;
        let mut copied = 0u64;
        loop {
            let (chunk, last) = self.copy_chunk(source, target_table, &after)?;
            if last.is_none() {
                break;
            }
            copied += chunk.len() as u64;
            if !chunk.is_empty() {
                target.commit_local(chunk)?;
            }
            report(copied)?;
            after = last;
        }
        Ok(copied)
    }
}

/// The error of a copy the progress callback stopped after `copied` rows.
fn cancelled(source: &str, target_table: &str, copied: u64, total: u64) -> Error {
    let left = if copied == 0 {
        "nothing was written and the target table was not created".to_string()
    } else {
        format!("the target table keeps the {copied} rows committed so far")
    };
    Error::Cancelled(format!(
        "copy of table '{source}' into '{target_table}' cancelled after {copied} of {total} rows: {left}"
    ))
}
