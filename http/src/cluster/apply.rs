//! Cluster row writes and reads against the region's database.

use tablesync::cluster::wire::RowWrite;
use tablesync::codec::key::{decode_key_values, encode_bound};
use tablesync::{
    Cell, ChangeKind, ChangeRecord, Column, ColumnOp, Condition, Database, Error, GetOptions,
    PkBound, PrimaryKey, RangeBound, RangeOptions, RegionRead, Result, Row, RowExistence,
    RowUpdate, TableSchema, WriteOp,
};

/// The database write a cluster write stands for; `condition` overrides
/// the write's own (2PC applies with `IGNORE`: it checked at prepare).
pub fn to_write_op(w: &RowWrite, condition: RowExistence) -> Result<WriteOp> {
    let condition = Condition {
        row_existence: condition,
        column_condition: None,
    };
    let table = w.table.clone();
    let primary_key = w.primary_key.clone();
    Ok(match w.kind {
        ChangeKind::Put => {
            let mut columns = Vec::with_capacity(w.columns.len());
            for c in &w.columns {
                match c {
                    ColumnOp::Put {
                        name,
                        value,
                        timestamp,
                    } => columns.push(Column::new(name.clone(), value.clone()).at(*timestamp)),
                    _ => return Err(Error::invalid("a put carries only column values")),
                }
            }
            WriteOp::Put {
                table,
                primary_key,
                columns,
                condition,
            }
        }
        ChangeKind::Update => {
            let mut update = RowUpdate::default();
            for c in &w.columns {
                match c {
                    ColumnOp::Put {
                        name,
                        value,
                        timestamp,
                    } => update
                        .put
                        .push(Column::new(name.clone(), value.clone()).at(*timestamp)),
                    ColumnOp::DeleteOneVersion { name, timestamp } => {
                        update.delete.push((name.clone(), *timestamp))
                    }
                    ColumnOp::DeleteAllVersions { name } => update.delete_all.push(name.clone()),
                }
            }
            WriteOp::Update {
                table,
                primary_key,
                update,
                condition,
            }
        }
        ChangeKind::Delete => WriteOp::Delete {
            table,
            primary_key,
            condition,
        },
    })
}

/// Apply `ops` (in order) and return the change records they produced.
/// Each op is checked before any is applied, so a refused op applies nothing.
pub fn write_capture(db: &mut Database, ops: Vec<WriteOp>) -> Result<Vec<ChangeRecord>> {
    let cursor = db.next_cursor()?;
    if ops.len() == 1 {
        db.write(ops.into_iter().next().expect("one"))?;
    } else {
        for r in db.batch_write(ops)? {
            r?;
        }
    }
    let mut out = Vec::new();
    let mut next = cursor;
    loop {
        let page = db.changes_since(next, 1000)?;
        if page.records.is_empty() {
            break;
        }
        next = page.next_cursor;
        out.extend(page.records);
    }
    Ok(out)
}

/// Whether `w`'s row-existence condition holds on the current data.
pub fn check_condition(db: &Database, w: &RowWrite) -> Result<()> {
    if w.condition == RowExistence::Ignore {
        // Still refuse an unknown table or a malformed key at prepare.
        db.get_row(&w.table, &w.primary_key, &GetOptions::default())?;
        return Ok(());
    }
    let exists = db
        .get_row(&w.table, &w.primary_key, &GetOptions::default())?
        .is_some();
    match (w.condition, exists) {
        (RowExistence::ExpectExist, false) => Err(Error::ConditionCheckFail(format!(
            "row of '{}' does not exist",
            w.table
        ))),
        (RowExistence::ExpectNotExist, true) => Err(Error::ConditionCheckFail(format!(
            "row of '{}' already exists",
            w.table
        ))),
        _ => Ok(()),
    }
}

/// A row as a `Put` record of its cells.
pub fn row_record(table: &str, row: Row) -> ChangeRecord {
    ChangeRecord {
        cursor: 0,
        origin: String::new(),
        seq: 0,
        stamp: 0,
        table: table.to_string(),
        kind: ChangeKind::Put,
        primary_key: row.primary_key,
        columns: row
            .cells
            .into_iter()
            .map(
                |Cell {
                     name,
                     value,
                     timestamp,
                 }| ColumnOp::Put {
                    name,
                    value,
                    timestamp,
                },
            )
            .collect(),
    }
}

/// A range bound from an encoded (possibly partial) key: the given leading
/// values, the rest `fill` (INF_MIN for both ends: a partial start includes
/// the keys with that prefix, a partial end excludes them). Empty → all `empty`.
pub fn bound_of(schema: &TableSchema, key: &[u8], empty: PkBound) -> Result<RangeBound> {
    let values = if key.is_empty() {
        Vec::new()
    } else {
        decode_key_values(key)?
    };
    if values.len() > schema.primary_key.len() {
        return Err(Error::InvalidPk(
            "range bound has too many key columns".into(),
        ));
    }
    if values.is_empty() {
        return Ok(RangeBound::all(schema, empty));
    }
    let leading = schema
        .primary_key
        .iter()
        .zip(values)
        .map(|(c, v)| (c.name.clone(), PkBound::Value(v)));
    RangeBound::new(leading).expand(schema, PkBound::InfMin)
}

/// Rows of `table` with keys in `[start, end)`, at most `limit`; the
/// encoded key of the next row (empty when done).
pub fn read_range(
    db: &(impl RegionRead + ?Sized),
    table: &str,
    start: &[u8],
    end: &[u8],
    limit: usize,
) -> Result<(Vec<ChangeRecord>, Vec<u8>)> {
    let schema = db.describe_table(table)?.schema;
    let s = bound_of(&schema, start, PkBound::InfMin)?;
    let e = bound_of(&schema, end, PkBound::InfMax)?;
    let page = db.get_range(
        table,
        &s,
        &e,
        &RangeOptions {
            limit: Some(limit.clamp(1, 5000)),
            ..Default::default()
        },
    )?;
    let next = match &page.next_start {
        Some(b) => encode_bound(&schema, b)?,
        None => Vec::new(),
    };
    Ok((
        page.rows
            .into_iter()
            .map(|r| row_record(table, r))
            .collect(),
        next,
    ))
}

/// One row by encoded key.
pub fn read_row(
    db: &(impl RegionRead + ?Sized),
    table: &str,
    key: &[u8],
) -> Result<Option<ChangeRecord>> {
    let schema = db.describe_table(table)?.schema;
    let values = decode_key_values(key)?;
    if values.len() != schema.primary_key.len() {
        return Err(Error::InvalidPk(format!(
            "table '{table}' has {} key columns, the key has {}",
            schema.primary_key.len(),
            values.len()
        )));
    }
    let pk = PrimaryKey(
        schema
            .primary_key
            .iter()
            .map(|c| c.name.clone())
            .zip(values)
            .collect(),
    );
    Ok(db
        .get_row(table, &pk, &GetOptions::default())?
        .map(|r| row_record(table, r)))
}
