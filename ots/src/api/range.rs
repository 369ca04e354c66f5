//! GetRange: one page, at most 5,000 rows and about 4 MiB, with
//! `next_start_primary_key` where the next page starts.

use super::rows::{no_transaction, read_spec};
use super::wide::{skip_returned, split, Resume};
use super::{consumed, schema};
use crate::convert::{check_key, from_range_bound, from_row, to_range_bound, KeyUse};
use crate::error::{OtsError, OtsResult};
use crate::pb;
use crate::plainbuffer::{decode_row, encode_pk_row, RowWriter};
use tablesync::{Database, Direction, RangeBound, RangeOptions};

/// Most rows of one page.
pub const MAX_PAGE_ROWS: usize = 5000;
/// Most bytes of one page's rows (the page stops at the first row past it).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

pub fn get_range(db: &Database, req: pb::GetRangeRequest) -> OtsResult<pb::GetRangeResponse> {
    no_transaction(req.transaction_id.as_deref())?;
    let s = schema(db, &req.table_name)?;
    let direction = match pb::Direction::try_from(req.direction) {
        Ok(pb::Direction::Forward) => Direction::Forward,
        Ok(pb::Direction::Backward) => Direction::Backward,
        Err(_) => {
            return Err(OtsError::invalid(format!(
                "Invalid direction: {}.",
                req.direction
            )))
        }
    };
    let start = decode_row(&req.inclusive_start_primary_key)?;
    let end = decode_row(&req.exclusive_end_primary_key)?;
    check_key(&s, &start.primary_key, KeyUse::Bound)?;
    check_key(&s, &end.primary_key, KeyUse::Bound)?;
    let start = to_range_bound(&start.primary_key)?;
    let end = to_range_bound(&end.primary_key)?;
    let limit = match req.limit {
        None => MAX_PAGE_ROWS,
        Some(n) if n <= 0 => {
            return Err(OtsError::invalid(format!(
                "Invalid limit: {n}, it must be positive."
            )))
        }
        Some(n) => (n as usize).min(MAX_PAGE_ROWS),
    };
    let spec = read_spec(
        &s,
        &req.columns_to_get,
        req.time_range.as_ref(),
        req.max_versions,
        req.filter.as_deref(),
        req.start_column,
        req.end_column,
    )?;
    let page = db
        .get_range(
            &req.table_name,
            &start,
            &end,
            &RangeOptions {
                direction,
                limit: Some(limit),
                read: spec.options.clone(),
            },
        )
        .map_err(|e| match e {
            tablesync::Error::ParameterInvalid(m) if m.contains("range needs start") => {
                OtsError::invalid(match direction {
                    Direction::Forward => "Begin key must less than end key in FORWARD",
                    Direction::Backward => "Begin key must more than end key in BACKWARD",
                })
            }
            other => OtsError::from(other),
        })?;
    let resume = Resume::decode(req.token.as_deref())?;
    let mut w = RowWriter::new();
    let mut next: Option<RangeBound> = page.next_start;
    let mut next_token = None;
    for (i, row) in page.rows.into_iter().enumerate() {
        if i > 0 && w.len() >= MAX_PAGE_BYTES {
            next = Some(RangeBound::from(row.primary_key.clone()));
            break;
        }
        let mut row = spec.trim(row);
        if i == 0 {
            // A token continues the page's first row, the start key's.
            if let Some(r) = &resume {
                if RangeBound::from(row.primary_key.clone()) == start {
                    skip_returned(&mut row, r);
                }
            }
            // A first row wider than a page comes in parts.
            if let Some(t) = split(&mut row, MAX_PAGE_BYTES) {
                next = Some(RangeBound::from(row.primary_key.clone()));
                next_token = Some(t);
                let (pk, cells) = from_row(&row);
                w.row(&pk, &cells, false);
                break;
            }
        }
        let (pk, cells) = from_row(&row);
        w.row(&pk, &cells, false);
    }
    let rows = if w.is_empty() { Vec::new() } else { w.finish() };
    let read_cu = (rows.len() / 4096 + 1) as i32;
    Ok(pb::GetRangeResponse {
        consumed: consumed(read_cu, 0),
        rows,
        next_start_primary_key: next.map(|b| encode_pk_row(&from_range_bound(&b))),
        next_token,
    })
}
