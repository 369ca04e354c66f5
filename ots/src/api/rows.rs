//! GetRow, PutRow, UpdateRow and DeleteRow, plus the pieces batches and
//! ranges share: read options, write decoding, return contents.

use super::wide::{skip_returned, split, Resume, MAX_ROW_PART_BYTES};
use super::{consumed, schema};
use crate::convert::{
    check_key, from_primary_key, from_row, to_condition, to_primary_key, to_read_filter, to_value,
    KeyUse,
};
use crate::error::{OtsError, OtsResult};
use crate::limits::{check_cells, check_columns_to_get, check_write_bytes, row_data_bytes};
use crate::pb;
use crate::plainbuffer::{decode_row, encode_pk_row, encode_row, CellOp, PbRow};
use tablesync::{
    Column, Condition, Database, GetOptions, PrimaryKey, Row, RowExistence, RowUpdate, TableSchema,
    TimeRange, WriteOp,
};

/// Read options of a GetRow, a BatchGetRow table or a GetRange.
pub(super) struct ReadSpec {
    pub options: GetOptions,
    /// Only columns `>= start_column` (by name).
    pub start_column: Option<String>,
    /// Only columns `< end_column` (by name).
    pub end_column: Option<String>,
    /// `ColumnPaginationFilter`s (the whole filter, or inside AND/OR/NOT),
    /// applied in order: skip `.0` attribute columns, then keep at most
    /// `.1` (columns in name order, every kept version).
    pub pagination: Vec<(usize, usize)>,
}

impl ReadSpec {
    /// Apply the column-name window to a row read by the core.
    pub fn trim(&self, mut row: Row) -> Row {
        if self.start_column.is_some() || self.end_column.is_some() {
            row.cells.retain(|c| {
                self.start_column.as_ref().is_none_or(|s| c.name >= *s)
                    && self.end_column.as_ref().is_none_or(|e| c.name < *e)
            });
        }
        for &(offset, limit) in &self.pagination {
            // Cells come grouped by column in name order.
            let mut seen = 0usize;
            let mut last: Option<String> = None;
            row.cells.retain(|c| {
                if last.as_deref() != Some(c.name.as_str()) {
                    seen += 1;
                    last = Some(c.name.clone());
                }
                seen > offset && seen - offset <= limit
            });
        }
        row
    }
}

pub(super) fn read_spec(
    schema: &TableSchema,
    columns_to_get: &[String],
    time_range: Option<&pb::TimeRange>,
    max_versions: Option<i32>,
    filter: Option<&[u8]>,
    start_column: Option<String>,
    end_column: Option<String>,
) -> OtsResult<ReadSpec> {
    check_columns_to_get(columns_to_get.len())?;
    let columns = if columns_to_get.is_empty() {
        None
    } else {
        Some(
            columns_to_get
                .iter()
                .filter(|c| !schema.primary_key.iter().any(|k| k.name == **c))
                .cloned()
                .collect(),
        )
    };
    let time_range = match time_range {
        None => None,
        Some(t) => Some(match (t.specific_time, t.start_time, t.end_time) {
            (Some(ts), _, _) => TimeRange::exact(ts),
            (None, Some(start), Some(end)) => {
                if start < 0 || start >= end {
                    return Err(OtsError::invalid(format!(
                        "Invalid time range: start {start} must be at least 0 and less than end {end}."
                    )));
                }
                TimeRange { start, end }
            }
            _ => {
                return Err(OtsError::invalid(
                    "A time range needs either specific_time or both start_time and end_time.",
                ))
            }
        }),
    };
    let max_versions = match (max_versions, &time_range) {
        (Some(n), _) if n < 1 => {
            return Err(OtsError::invalid(format!(
                "Invalid max_versions: {n}, it must be positive."
            )))
        }
        (Some(n), _) => n as u32,
        (None, Some(_)) => i32::MAX as u32,
        (None, None) => {
            return Err(OtsError::invalid(
                "Neither max_versions nor time_range is set.",
            ))
        }
    };
    let (filter, pagination) = match filter {
        Some(b) if !b.is_empty() => to_read_filter(b)?,
        _ => (None, Vec::new()),
    };
    Ok(ReadSpec {
        options: GetOptions {
            columns,
            max_versions,
            time_range,
            filter,
        },
        start_column,
        end_column,
        pagination,
    })
}

/// Read one row for a response (`None`: absent or filtered out).
pub(super) fn read_one(
    db: &Database,
    table: &str,
    pk: &PrimaryKey,
    spec: &ReadSpec,
) -> OtsResult<Option<Row>> {
    Ok(db.get_row(table, pk, &spec.options)?.map(|r| spec.trim(r)))
}

/// Read one part of a row: the cells after `resume` that fit one response,
/// and the `next_token` of the rest when some are left.
pub(super) fn read_part(
    db: &Database,
    table: &str,
    pk: &PrimaryKey,
    spec: &ReadSpec,
    resume: Option<&Resume>,
) -> OtsResult<(Option<Row>, Option<Vec<u8>>)> {
    let Some(mut row) = read_one(db, table, pk, spec)? else {
        return Ok((None, None));
    };
    if let Some(r) = resume {
        skip_returned(&mut row, r);
    }
    let next = split(&mut row, MAX_ROW_PART_BYTES);
    Ok((Some(row), next))
}

pub(super) fn encode_read_row(row: Option<&Row>) -> Vec<u8> {
    match row {
        None => Vec::new(),
        Some(r) => {
            let (pk, cells) = from_row(r);
            encode_row(&pk, &cells, false)
        }
    }
}

pub fn get_row(db: &Database, req: pb::GetRowRequest) -> OtsResult<pb::GetRowResponse> {
    let s = schema(db, &req.table_name)?;
    if req.transaction_id.is_some() {
        return Err(OtsError::unsupported(
            "Transactions are not supported by tablesync.",
        ));
    }
    let pb_row = decode_row(&req.primary_key)?;
    check_key(&s, &pb_row.primary_key, KeyUse::Row)?;
    let pk = to_primary_key(&pb_row.primary_key)?;
    let spec = read_spec(
        &s,
        &req.columns_to_get,
        req.time_range.as_ref(),
        req.max_versions,
        req.filter.as_deref(),
        req.start_column,
        req.end_column,
    )?;
    let resume = Resume::decode(req.token.as_deref())?;
    let (row, next_token) = read_part(db, &req.table_name, &pk, &spec, resume.as_ref())?;
    Ok(pb::GetRowResponse {
        consumed: consumed(1, 0),
        row: encode_read_row(row.as_ref()),
        next_token,
    })
}

/// What a write wants back.
pub(super) struct ReturnSpec {
    kind: pb::ReturnType,
    columns: Vec<String>,
}

pub(super) fn return_spec(rc: Option<&pb::ReturnContent>) -> OtsResult<ReturnSpec> {
    let Some(rc) = rc else {
        return Ok(ReturnSpec {
            kind: pb::ReturnType::RtNone,
            columns: Vec::new(),
        });
    };
    let kind = match rc.return_type {
        None => pb::ReturnType::RtNone,
        Some(t) => pb::ReturnType::try_from(t)
            .map_err(|_| OtsError::invalid(format!("Invalid return type: {t}.")))?,
    };
    Ok(ReturnSpec {
        kind,
        columns: rc.return_column_names.clone(),
    })
}

/// The `row` of a write response: nothing, the key, or the key with the
/// named columns' values after the write (RT_AFTER_MODIFY).
pub(super) fn return_row(
    db: &Database,
    table: &str,
    pk: &PrimaryKey,
    spec: &ReturnSpec,
) -> OtsResult<Option<Vec<u8>>> {
    match spec.kind {
        pb::ReturnType::RtNone => Ok(None),
        pb::ReturnType::RtPk => Ok(Some(encode_pk_row(&from_primary_key(pk)))),
        pb::ReturnType::RtAfterModify => {
            let opts = GetOptions {
                columns: Some(spec.columns.clone()),
                ..GetOptions::default()
            };
            let cells = match db.get_row(table, pk, &opts)? {
                Some(r) => from_row(&r).1,
                None => Vec::new(),
            };
            Ok(Some(encode_row(&from_primary_key(pk), &cells, false)))
        }
    }
}

/// A decoded, key-checked write.
pub(super) struct Write {
    pub op: WriteOp,
    /// Its data size, as the service counts it against the 4 MiB limit.
    pub bytes: usize,
}

fn put_columns(row: &PbRow) -> OtsResult<Vec<Column>> {
    let mut out = Vec::with_capacity(row.cells.len());
    for c in &row.cells {
        if c.op.is_some() {
            return Err(OtsError::invalid(format!(
                "OpType cannot be given for column name:{} in PutRow.",
                c.name
            )));
        }
        let v = c.value.as_ref().ok_or_else(|| {
            OtsError::invalid("Invalid request of put row: find cells without values.")
        })?;
        out.push(Column {
            name: c.name.clone(),
            value: to_value(&c.name, v)?,
            timestamp: c.timestamp,
        });
    }
    Ok(out)
}

fn update_changes(row: &PbRow) -> OtsResult<RowUpdate> {
    let mut u = RowUpdate::new();
    for c in &row.cells {
        match c.op {
            None => {
                let v = c.value.as_ref().ok_or_else(|| {
                    OtsError::invalid(format!("Column {} to put has no value.", c.name))
                })?;
                u.put.push(Column {
                    name: c.name.clone(),
                    value: to_value(&c.name, v)?,
                    timestamp: c.timestamp,
                });
            }
            Some(CellOp::DeleteOneVersion) => {
                let ts = c.timestamp.ok_or_else(|| {
                    OtsError::invalid(format!(
                        "Deleting one version of column {} needs a timestamp.",
                        c.name
                    ))
                })?;
                u.delete.push((c.name.clone(), ts));
            }
            Some(CellOp::DeleteAllVersions) => u.delete_all.push(c.name.clone()),
            Some(CellOp::Increment) => match c.value.as_ref().map(|v| to_value(&c.name, v)) {
                Some(Ok(tablesync::Value::Integer(by))) => u.increment.push((c.name.clone(), by)),
                _ => {
                    return Err(OtsError::invalid(format!(
                        "The increment of column {} must be an INTEGER.",
                        c.name
                    )))
                }
            },
        }
    }
    Ok(u)
}

/// Decode one write of a PutRow / UpdateRow / DeleteRow / BatchWriteRow row.
pub(super) fn decode_write(
    s: &TableSchema,
    kind: pb::OperationType,
    row_bytes: &[u8],
    condition: &pb::Condition,
) -> OtsResult<Write> {
    let row = decode_row(row_bytes)?;
    let usage = if kind == pb::OperationType::Put {
        KeyUse::Put
    } else {
        KeyUse::Row
    };
    check_key(s, &row.primary_key, usage)?;
    check_cells(&row)?;
    let bytes = row_data_bytes(&row);
    let primary_key = to_primary_key(&row.primary_key)?;
    let condition = to_condition(condition)?;
    let table = s.name.clone();
    Ok(match kind {
        pb::OperationType::Put => Write {
            op: WriteOp::Put {
                table,
                primary_key,
                columns: put_columns(&row)?,
                condition,
            },
            bytes,
        },
        pb::OperationType::Update => {
            let update = update_changes(&row)?;
            if update.is_empty() {
                return Err(OtsError::invalid("Attribute column is missing."));
            }
            Write {
                op: WriteOp::Update {
                    table,
                    primary_key,
                    update,
                    condition,
                },
                bytes,
            }
        }
        pb::OperationType::Delete => {
            if !row.cells.is_empty() {
                return Err(OtsError::invalid(
                    "Invalid delete row request: unexpected cells in request.",
                ));
            }
            Write {
                op: WriteOp::Delete {
                    table,
                    primary_key,
                    condition,
                },
                bytes,
            }
        }
    })
}

pub(super) fn op_parts(op: &WriteOp) -> (&str, &PrimaryKey, &Condition) {
    match op {
        WriteOp::Put {
            table,
            primary_key,
            condition,
            ..
        }
        | WriteOp::Update {
            table,
            primary_key,
            condition,
            ..
        }
        | WriteOp::Delete {
            table,
            primary_key,
            condition,
        } => (table, primary_key, condition),
    }
}

/// Whether the row exists now (auto-increment puts never name an existing row).
fn row_exists(db: &Database, table: &str, pk: &PrimaryKey) -> OtsResult<bool> {
    if pk
        .0
        .iter()
        .any(|(_, v)| *v == tablesync::PkValue::AutoIncrement)
    {
        return Ok(false);
    }
    let opts = GetOptions::default();
    Ok(db.get_row(table, pk, &opts)?.is_some())
}

/// The service checks the row-existence expectation before anything about
/// the columns; the core checks the columns first, so check it here too
/// (under the same lock, so the answer cannot change before the write).
pub(super) fn precheck(db: &Database, w: &Write) -> OtsResult<()> {
    let (table, pk, cond) = op_parts(&w.op);
    if cond.row_existence == RowExistence::Ignore {
        return Ok(());
    }
    let exists = row_exists(db, table, pk)?;
    match cond.row_existence {
        RowExistence::ExpectExist if !exists => Err(OtsError::condition_failed()),
        RowExistence::ExpectNotExist if exists => Err(OtsError::condition_failed()),
        _ => Ok(()),
    }
}

fn write_one(db: &mut Database, w: Write, ret: &ReturnSpec) -> OtsResult<Option<Vec<u8>>> {
    precheck(db, &w)?;
    let table = op_parts(&w.op).0.to_string();
    let pk = db.write(w.op)?;
    return_row(db, &table, &pk, ret)
}

pub fn put_row(db: &mut Database, req: pb::PutRowRequest) -> OtsResult<pb::PutRowResponse> {
    no_transaction(req.transaction_id.as_deref())?;
    let s = schema(db, &req.table_name)?;
    let ret = return_spec(req.return_content.as_ref())?;
    let w = decode_write(&s, pb::OperationType::Put, &req.row, &req.condition)?;
    check_write_bytes("PutRow", w.bytes)?;
    let row = write_one(db, w, &ret)?;
    Ok(pb::PutRowResponse {
        consumed: consumed(0, 1),
        row,
    })
}

pub fn update_row(
    db: &mut Database,
    req: pb::UpdateRowRequest,
) -> OtsResult<pb::UpdateRowResponse> {
    no_transaction(req.transaction_id.as_deref())?;
    let s = schema(db, &req.table_name)?;
    let ret = return_spec(req.return_content.as_ref())?;
    let w = decode_write(
        &s,
        pb::OperationType::Update,
        &req.row_change,
        &req.condition,
    )?;
    check_write_bytes("UpdateRow", w.bytes)?;
    let row = write_one(db, w, &ret)?;
    Ok(pb::UpdateRowResponse {
        consumed: consumed(0, 1),
        row,
    })
}

pub fn delete_row(
    db: &mut Database,
    req: pb::DeleteRowRequest,
) -> OtsResult<pb::DeleteRowResponse> {
    no_transaction(req.transaction_id.as_deref())?;
    let s = schema(db, &req.table_name)?;
    let ret = return_spec(req.return_content.as_ref())?;
    let w = decode_write(
        &s,
        pb::OperationType::Delete,
        &req.primary_key,
        &req.condition,
    )?;
    let row = write_one(db, w, &ret)?;
    Ok(pb::DeleteRowResponse {
        consumed: consumed(0, 1),
        row,
    })
}

pub(super) fn no_transaction(id: Option<&str>) -> OtsResult<()> {
    match id {
        Some(_) => Err(OtsError::unsupported(
            "Transactions are not supported by tablesync.",
        )),
        None => Ok(()),
    }
}
