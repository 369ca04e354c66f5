//! BatchGetRow and BatchWriteRow: per-row results, the whole batch run under
//! the region's lock.

use super::rows::{
    decode_write, encode_read_row, no_transaction, precheck, read_part, read_spec, return_row,
    return_spec,
};
use super::wide::Resume;
use super::{consumed, schema};
use crate::convert::{check_key, to_primary_key, KeyUse};
use crate::error::{OtsError, OtsResult};
use crate::limits::{check_write_bytes, row_data_bytes};
use crate::pb;
use crate::plainbuffer::decode_row;
use tablesync::Database;

/// Most rows of one BatchGetRow.
pub const MAX_BATCH_GET_ROWS: usize = 100;
/// Most rows of one BatchWriteRow.
pub const MAX_BATCH_WRITE_ROWS: usize = 200;

fn error_pb(e: &OtsError) -> pb::Error {
    pb::Error {
        code: e.code.to_string(),
        message: Some(e.message.clone()),
    }
}

fn failed_get(e: &OtsError) -> pb::RowInBatchGetRowResponse {
    pb::RowInBatchGetRowResponse {
        is_ok: false,
        error: Some(error_pb(e)),
        consumed: None,
        row: None,
        next_token: None,
    }
}

fn get_table(
    db: &Database,
    t: &pb::TableInBatchGetRowRequest,
) -> OtsResult<Vec<pb::RowInBatchGetRowResponse>> {
    let s = schema(db, &t.table_name)?;
    let spec = read_spec(
        &s,
        &t.columns_to_get,
        t.time_range.as_ref(),
        t.max_versions,
        t.filter.as_deref(),
        t.start_column.clone(),
        t.end_column.clone(),
    )?;
    let mut out = Vec::with_capacity(t.primary_key.len());
    for (i, bytes) in t.primary_key.iter().enumerate() {
        let one = || -> OtsResult<(Vec<u8>, Option<Vec<u8>>)> {
            let row = decode_row(bytes)?;
            check_key(&s, &row.primary_key, KeyUse::Row)?;
            let pk = to_primary_key(&row.primary_key)?;
            // Tokens pair with keys by position (the SDKs send none, or one a key).
            let resume = Resume::decode(t.token.get(i).map(Vec::as_slice))?;
            let (row, next) = read_part(db, &t.table_name, &pk, &spec, resume.as_ref())?;
            Ok((encode_read_row(row.as_ref()), next))
        };
        out.push(match one() {
            Ok((row, next_token)) => pb::RowInBatchGetRowResponse {
                is_ok: true,
                error: None,
                consumed: Some(consumed(1, 0)),
                row: Some(row),
                next_token,
            },
            Err(e) => failed_get(&e),
        });
    }
    Ok(out)
}

pub fn batch_get_row(
    db: &Database,
    req: pb::BatchGetRowRequest,
) -> OtsResult<pb::BatchGetRowResponse> {
    let n: usize = req.tables.iter().map(|t| t.primary_key.len()).sum();
    if n == 0 {
        return Err(OtsError::invalid("No row is specified in BatchGetRow."));
    }
    if n > MAX_BATCH_GET_ROWS {
        return Err(OtsError::invalid(format!(
            "Rows count exceeds the upper limit: {MAX_BATCH_GET_ROWS}."
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for t in &req.tables {
        if !seen.insert(t.table_name.as_str()) {
            return Err(OtsError::invalid(format!(
                "The table {} appears more than once in the batch.",
                t.table_name
            )));
        }
    }
    let mut tables = Vec::with_capacity(req.tables.len());
    for t in &req.tables {
        // A table-level problem (missing table, bad options) fails each of its rows.
        let rows = match get_table(db, t) {
            Ok(rows) => rows,
            Err(e) => t.primary_key.iter().map(|_| failed_get(&e)).collect(),
        };
        tables.push(pb::TableInBatchGetRowResponse {
            table_name: t.table_name.clone(),
            rows,
        });
    }
    Ok(pb::BatchGetRowResponse { tables })
}

fn failed_write(e: &OtsError) -> pb::RowInBatchWriteRowResponse {
    pb::RowInBatchWriteRowResponse {
        is_ok: false,
        error: Some(error_pb(e)),
        consumed: None,
        row: None,
    }
}

/// Where a row's result comes from.
enum Slot {
    Failed(OtsError),
    /// Index into the operations handed to the core's batch.
    Op(usize),
}

pub fn batch_write_row(
    db: &mut Database,
    req: pb::BatchWriteRowRequest,
) -> OtsResult<pb::BatchWriteRowResponse> {
    no_transaction(req.transaction_id.as_deref())?;
    let n: usize = req.tables.iter().map(|t| t.rows.len()).sum();
    if n == 0 {
        return Err(OtsError::invalid("No row is specified in BatchWriteRow."));
    }
    if n > MAX_BATCH_WRITE_ROWS {
        return Err(OtsError::invalid(format!(
            "Rows count exceeds the upper limit: {MAX_BATCH_WRITE_ROWS}."
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for t in &req.tables {
        if !seen.insert(t.table_name.as_str()) {
            return Err(OtsError::invalid(format!(
                "The table {} appears more than once in the batch.",
                t.table_name
            )));
        }
    }
    // The whole request's data size (rows that do not decode fail on their own).
    let bytes: usize = req
        .tables
        .iter()
        .flat_map(|t| &t.rows)
        .filter_map(|r| decode_row(&r.row_change).ok())
        .map(|r| row_data_bytes(&r))
        .sum();
    check_write_bytes("BatchWriteRow", bytes)?;
    let mut slots: Vec<(String, Slot, super::rows::ReturnSpec)> = Vec::with_capacity(n);
    let mut ops = Vec::new();
    for t in &req.tables {
        let s = schema(db, &t.table_name);
        for r in &t.rows {
            let ret = return_spec(r.return_content.as_ref())?;
            let slot = (|| -> OtsResult<Slot> {
                let s = s.as_ref().map_err(Clone::clone)?;
                let kind = pb::OperationType::try_from(r.r#type).map_err(|_| {
                    OtsError::invalid(format!("Invalid operation type: {}.", r.r#type))
                })?;
                let w = decode_write(s, kind, &r.row_change, &r.condition)?;
                precheck(db, &w)?;
                ops.push(w.op);
                Ok(Slot::Op(ops.len() - 1))
            })();
            let slot = slot.unwrap_or_else(Slot::Failed);
            slots.push((t.table_name.clone(), slot, ret));
        }
    }
    let results = if ops.is_empty() {
        Vec::new()
    } else {
        db.batch_write(ops)?
    };
    let mut tables: Vec<pb::TableInBatchWriteRowResponse> = Vec::new();
    for (table, slot, ret) in slots {
        let row = match slot {
            Slot::Failed(e) => failed_write(&e),
            Slot::Op(i) => match &results[i] {
                Ok(pk) => ok_write(db, &table, pk, &ret),
                Err(e) => failed_write(&OtsError::from(e.clone())),
            },
        };
        match tables.last_mut() {
            Some(t) if t.table_name == table => t.rows.push(row),
            _ => tables.push(pb::TableInBatchWriteRowResponse {
                table_name: table,
                rows: vec![row],
            }),
        }
    }
    Ok(pb::BatchWriteRowResponse { tables })
}

fn ok_write(
    db: &Database,
    table: &str,
    pk: &tablesync::PrimaryKey,
    ret: &super::rows::ReturnSpec,
) -> pb::RowInBatchWriteRowResponse {
    match return_row(db, table, pk, ret) {
        Ok(row) => pb::RowInBatchWriteRowResponse {
            is_ok: true,
            error: None,
            consumed: Some(consumed(0, 1)),
            row,
        },
        Err(e) => failed_write(&e),
    }
}
