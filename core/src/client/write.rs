//! Writes: put, update, delete and batch write.

use super::database::{Database, Pending, PendingOps};
use super::types::{Column, RowUpdate, WriteOp};
use crate::codec::key::{encode_key, normalize_key};
use crate::engine::condition::{evaluate, validate};
use crate::engine::visible::{row_visible, Visible};
use crate::engine::write::{check_put, update_ops};
use crate::log::record::ChangeKind;
use crate::model::condition::{Condition, RowExistence};
use crate::model::error::{Error, Result};
use crate::model::limits::MAX_BATCH_WRITE_ROWS;
use crate::model::primary_key::{PkValue, PrimaryKey};
use crate::table::Table;

/// Check a write condition against the row as it is now.
fn check_condition(
    t: &Table,
    key: &[u8],
    pk: &PrimaryKey,
    cond: &Condition,
    now: i64,
) -> Result<()> {
    if cond.row_existence == RowExistence::Ignore && cond.column_condition.is_none() {
        return Ok(());
    }
    let state = t.state(key)?;
    let exists = state
        .as_ref()
        .is_some_and(|s| row_visible(s, &t.schema.options, now));
    match cond.row_existence {
        RowExistence::ExpectExist if !exists => {
            return Err(Error::ConditionCheckFail(
                "the row does not exist (EXPECT_EXIST)".into(),
            ))
        }
        RowExistence::ExpectNotExist if exists => {
            return Err(Error::ConditionCheckFail(
                "the row exists (EXPECT_NOT_EXIST)".into(),
            ))
        }
        _ => {}
    }
    if let Some(c) = &cond.column_condition {
        validate(c)?;
        let visible = match (&state, exists) {
            (Some(s), true) => Some(Visible::of(s, &t.schema.options, now, None)),
            _ => None,
        };
        if !evaluate(c, pk, visible.as_ref()) {
            return Err(Error::ConditionCheckFail(
                "the column condition does not hold".into(),
            ));
        }
    }
    Ok(())
}

impl Database {
    /// Whether a prepared write changes nothing: an update that only deletes
    /// columns of a row that does not exist leaves it absent (as Tablestore
    /// does), rather than creating a key-only row.
    fn changes_nothing(&self, p: &Pending, now: i64) -> Result<bool> {
        if p.kind != ChangeKind::Update || p.ops.has_put() {
            return Ok(false);
        }
        let t = self.table(p.table)?;
        let state = t.state(&p.key)?;
        Ok(!state
            .as_ref()
            .is_some_and(|s| row_visible(s, &t.schema.options, now)))
    }

    fn prepare_put<'a>(
        &self,
        table: &'a str,
        pk: &PrimaryKey,
        columns: &'a [Column],
        cond: &Condition,
        now: i64,
    ) -> Result<Pending<'a>> {
        let t = self.table(table)?;
        let mut pk = pk.clone();
        let mut auto_increment = None;
        if let Some(i) = t.schema.auto_increment_index() {
            let name = &t.schema.primary_key[i].name;
            if let Some(slot) = pk.0.iter_mut().find(|(n, _)| n == name) {
                if slot.1 == PkValue::AutoIncrement {
                    slot.1 = PkValue::Integer(0);
                    auto_increment = Some(i);
                }
            }
        }
        let mut pk = normalize_key(&t.schema, &pk)?;
        let key = encode_key(&t.schema, &pk)?;
        check_put(&t.schema, key.len(), columns, now)?;
        if auto_increment.is_some() {
            if cond.row_existence != RowExistence::Ignore || cond.column_condition.is_some() {
                return Err(Error::invalid(
                    "a put with an auto-increment key must use the IGNORE condition",
                ));
            }
        } else {
            check_condition(t, &key, &pk, cond, now)?;
        }
        if let Some(i) = auto_increment {
            pk.0[i].1 = PkValue::AutoIncrement;
        }
        Ok(Pending {
            table,
            primary_key: pk,
            key: if auto_increment.is_some() {
                Vec::new()
            } else {
                key
            },
            auto_increment,
            kind: ChangeKind::Put,
            ops: PendingOps::Columns { columns, now },
        })
    }

    fn prepare_update<'a>(
        &self,
        table: &'a str,
        pk: &PrimaryKey,
        update: &RowUpdate,
        cond: &Condition,
        now: i64,
    ) -> Result<Pending<'a>> {
        let t = self.table(table)?;
        let pk = normalize_key(&t.schema, pk)?;
        let key = encode_key(&t.schema, &pk)?;
        check_condition(t, &key, &pk, cond, now)?;
        let state = t.state(&key)?;
        let visible = state
            .as_ref()
            .filter(|s| row_visible(s, &t.schema.options, now))
            .map(|s| Visible::of(s, &t.schema.options, now, None));
        let ops = update_ops(
            &t.schema,
            key.len(),
            update,
            visible.as_ref(),
            state.as_ref(),
            now,
        )?;
        Ok(Pending {
            table,
            primary_key: pk,
            auto_increment: None,
            key,
            kind: ChangeKind::Update,
            ops: PendingOps::Owned(ops),
        })
    }

    fn prepare_delete<'a>(
        &self,
        table: &'a str,
        pk: &PrimaryKey,
        cond: &Condition,
        now: i64,
    ) -> Result<Pending<'a>> {
        let t = self.table(table)?;
        let pk = normalize_key(&t.schema, pk)?;
        let key = encode_key(&t.schema, &pk)?;
        check_condition(t, &key, &pk, cond, now)?;
        Ok(Pending {
            table,
            primary_key: pk,
            auto_increment: None,
            key,
            kind: ChangeKind::Delete,
            ops: PendingOps::Owned(Vec::new()),
        })
    }

    /// Replace a row (Tablestore `PutRow`). Returns the key, with an
    /// auto-increment column filled in.
    pub fn put_row(
        &mut self,
        table: &str,
        pk: PrimaryKey,
        columns: Vec<Column>,
        condition: Condition,
    ) -> Result<PrimaryKey> {
        let now = self.now_ms();
        let p = self.prepare_put(table, &pk, &columns, &condition, now)?;
        Ok(self.commit_local(vec![p])?.remove(0))
    }

    /// Change columns of a row, creating it if absent (Tablestore `UpdateRow`).
    pub fn update_row(
        &mut self,
        table: &str,
        pk: PrimaryKey,
        update: RowUpdate,
        condition: Condition,
    ) -> Result<PrimaryKey> {
        let now = self.now_ms();
        let p = self.prepare_update(table, &pk, &update, &condition, now)?;
        if self.changes_nothing(&p, now)? {
            return Ok(p.primary_key);
        }
        Ok(self.commit_local(vec![p])?.remove(0))
    }

    /// Delete a row (Tablestore `DeleteRow`).
    pub fn delete_row(&mut self, table: &str, pk: PrimaryKey, condition: Condition) -> Result<()> {
        let now = self.now_ms();
        let p = self.prepare_delete(table, &pk, &condition, now)?;
        self.commit_local(vec![p])?;
        Ok(())
    }

    /// Run one write operation on its own (`put_row`, `update_row` or
    /// `delete_row`); returns the row's key.
    pub fn write(&mut self, op: WriteOp) -> Result<PrimaryKey> {
        match op {
            WriteOp::Put {
                table,
                primary_key,
                columns,
                condition,
            } => self.put_row(&table, primary_key, columns, condition),
            WriteOp::Update {
                table,
                primary_key,
                update,
                condition,
            } => self.update_row(&table, primary_key, update, condition),
            WriteOp::Delete {
                table,
                primary_key,
                condition,
            } => {
                self.delete_row(&table, primary_key.clone(), condition)?;
                Ok(primary_key)
            }
        }
    }

    /// Run up to 200 writes; each succeeds or fails on its own (one result
    /// per operation, in order), and the successful ones are committed with
    /// one log append. Two operations on the same row are rejected as a whole.
    pub fn batch_write(&mut self, ops: Vec<WriteOp>) -> Result<Vec<Result<PrimaryKey>>> {
        self.check_open()?;
        if ops.is_empty() || ops.len() > MAX_BATCH_WRITE_ROWS {
            return Err(Error::invalid(format!(
                "a batch write takes 1 to {MAX_BATCH_WRITE_ROWS} operations, got {}",
                ops.len()
            )));
        }
        // Two operations on one row reject the whole batch, whether or not
        // either would succeed on its own (keys that do not encode, e.g. an
        // auto-increment placeholder, are never duplicates).
        let mut seen = std::collections::HashSet::with_capacity(ops.len());
        for op in &ops {
            let (table, primary_key) = match op {
                WriteOp::Put {
                    table, primary_key, ..
                }
                | WriteOp::Update {
                    table, primary_key, ..
                }
                | WriteOp::Delete {
                    table, primary_key, ..
                } => (table, primary_key),
            };
            let Some(t) = self.tables.get(table) else {
                continue;
            };
            if let Ok(key) = encode_key(&t.schema, primary_key) {
                if !seen.insert((table.as_str(), key)) {
                    return Err(Error::invalid(format!(
                        "a batch write may not contain two operations on the same row of table '{table}'"
                    )));
                }
            }
        }
        let now = self.now_ms();
        let mut prepared: Vec<Result<Pending>> = Vec::with_capacity(ops.len());
        for op in &ops {
            let r = match op {
                WriteOp::Put {
                    table,
                    primary_key,
                    columns,
                    condition,
                } => self.prepare_put(table, primary_key, columns, condition, now),
                WriteOp::Update {
                    table,
                    primary_key,
                    update,
                    condition,
                } => self.prepare_update(table, primary_key, update, condition, now),
                WriteOp::Delete {
                    table,
                    primary_key,
                    condition,
                } => self.prepare_delete(table, primary_key, condition, now),
            };
            prepared.push(r);
        }
        let mut ok = Vec::new();
        // Ok(Ok(i)): committed as ok[i]; Ok(Err(key)): succeeded without a change.
        let mut slots = Vec::with_capacity(prepared.len());
        for r in prepared {
            match r {
                Ok(p) if self.changes_nothing(&p, now)? => slots.push(Ok(Err(p.primary_key))),
                Ok(p) => {
                    slots.push(Ok(Ok(ok.len())));
                    ok.push(p);
                }
                Err(e) => slots.push(Err(e)),
            }
        }
        let keys = if ok.is_empty() {
            Vec::new()
        } else {
            self.commit_local(ok)?
        };
        Ok(slots
            .into_iter()
            .map(|s| {
                s.map(|slot| match slot {
                    Ok(i) => keys[i].clone(),
                    Err(key) => key,
                })
            })
            .collect())
    }
}
