//! The service's request limits, checked before the core sees a request so
//! the SDKs get the service's own status, code and message (the core keeps
//! the same limits with its own wording).

use crate::error::{OtsError, OtsResult};
use crate::plainbuffer::{PbRow, PbValue};

/// Longest STRING or BINARY primary-key value, in bytes.
pub const MAX_PK_VALUE_BYTES: usize = 1024;
/// Longest STRING or BINARY attribute value, in bytes.
pub const MAX_CELL_VALUE_BYTES: usize = 2 * 1024 * 1024;
/// Most attribute columns one write may carry, and most `columns_to_get`.
pub const MAX_COLUMNS: usize = 1024;
/// Most bytes of data in one PutRow / UpdateRow, or in a whole BatchWriteRow.
pub const MAX_WRITE_BYTES: usize = 4 * 1024 * 1024;

fn value_bytes(v: &PbValue) -> usize {
    match v {
        PbValue::String(s) => s.len(),
        PbValue::Binary(b) => b.len(),
        PbValue::Integer(_) | PbValue::Double(_) => 8,
        PbValue::Boolean(_) => 1,
        _ => 0,
    }
}

/// `The length of primary key column: 'PK' exceeded the MaxLength:1024 with CurrentLength:N.`
pub fn check_pk_lengths(pk: &[(String, PbValue)]) -> OtsResult<()> {
    for (name, v) in pk {
        let n = match v {
            PbValue::String(s) => s.len(),
            PbValue::Binary(b) => b.len(),
            _ => continue,
        };
        if n > MAX_PK_VALUE_BYTES {
            return Err(OtsError::invalid(format!(
                "The length of primary key column: '{name}' exceeded the MaxLength:{MAX_PK_VALUE_BYTES} with CurrentLength:{n}."
            )));
        }
    }
    Ok(())
}

/// Column count and value lengths of one write's cells.
pub fn check_cells(row: &PbRow) -> OtsResult<()> {
    if row.cells.len() > MAX_COLUMNS {
        return Err(OtsError::invalid(format!(
            "The number of attribute columns exceeds the limit, limit count: {MAX_COLUMNS}, column count: {}.",
            row.cells.len()
        )));
    }
    for c in &row.cells {
        let n = c.value.as_ref().map_or(0, |v| match v {
            PbValue::String(_) | PbValue::Binary(_) => value_bytes(v),
            _ => 0,
        });
        if n > MAX_CELL_VALUE_BYTES {
            return Err(OtsError::invalid(format!(
                "The length of attribute column: '{}' exceeded the MaxLength:{MAX_CELL_VALUE_BYTES} with CurrentLength:{n}.",
                c.name
            )));
        }
    }
    Ok(())
}

/// Data size of one written row: key names and values, column names and values.
pub fn row_data_bytes(row: &PbRow) -> usize {
    let pk: usize = row
        .primary_key
        .iter()
        .map(|(n, v)| n.len() + value_bytes(v))
        .sum();
    let cells: usize = row
        .cells
        .iter()
        .map(|c| c.name.len() + c.value.as_ref().map_or(0, value_bytes))
        .sum();
    pk + cells
}

/// `The total data size of {api} request exceeds the limit, limit size: 4194304, data size: N.`
pub fn check_write_bytes(api: &str, size: usize) -> OtsResult<()> {
    if size > MAX_WRITE_BYTES {
        return Err(OtsError::invalid(format!(
            "The total data size of {api} request exceeds the limit, limit size: {MAX_WRITE_BYTES}, data size: {size}."
        )));
    }
    Ok(())
}

/// `The number of columns from the request exceeds the limit, limit count: 1024, column count: N.`
pub fn check_columns_to_get(n: usize) -> OtsResult<()> {
    if n > MAX_COLUMNS {
        return Err(OtsError::invalid(format!(
            "The number of columns from the request exceeds the limit, limit count: {MAX_COLUMNS}, column count: {n}."
        )));
    }
    Ok(())
}
