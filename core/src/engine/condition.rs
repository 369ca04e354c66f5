//! Evaluating column conditions and filters against a row.

use super::visible::Visible;
use crate::model::condition::{ColumnCondition, CompareOp};
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;
use crate::model::value::Value;
use std::cmp::Ordering;

/// Most nesting levels a condition may have.
pub const MAX_CONDITION_DEPTH: usize = 32;
/// Most single comparisons in one condition.
pub const MAX_CONDITION_LEAVES: usize = 1024;

/// Check a condition's shape: non-empty AND/OR, bounded depth and size, valid names.
pub fn validate(c: &ColumnCondition) -> Result<()> {
    fn walk(c: &ColumnCondition, depth: usize, leaves: &mut usize) -> Result<()> {
        if depth > MAX_CONDITION_DEPTH {
            return Err(Error::invalid(format!(
                "condition nested deeper than {MAX_CONDITION_DEPTH} levels"
            )));
        }
        match c {
            ColumnCondition::Single { column, value, .. } => {
                *leaves += 1;
                if *leaves > MAX_CONDITION_LEAVES {
                    return Err(Error::invalid(format!(
                        "condition has more than {MAX_CONDITION_LEAVES} comparisons"
                    )));
                }
                crate::model::schema::validate_column_name(column, "condition column")?;
                crate::engine::write::check_cell_size(column, value)
            }
            ColumnCondition::And(v) | ColumnCondition::Or(v) => {
                if v.is_empty() {
                    return Err(Error::invalid(
                        "AND/OR condition needs at least one operand",
                    ));
                }
                v.iter().try_for_each(|x| walk(x, depth + 1, leaves))
            }
            ColumnCondition::Not(x) => walk(x, depth + 1, leaves),
        }
    }
    walk(c, 0, &mut 0)
}

fn compare(op: CompareOp, left: &Value, right: &Value) -> bool {
    match left.compare(right) {
        None => op == CompareOp::NotEqual,
        Some(o) => match op {
            CompareOp::Equal => o == Ordering::Equal,
            CompareOp::NotEqual => o != Ordering::Equal,
            CompareOp::Greater => o == Ordering::Greater,
            CompareOp::GreaterEqual => o != Ordering::Less,
            CompareOp::Less => o == Ordering::Less,
            CompareOp::LessEqual => o != Ordering::Greater,
        },
    }
}

/// Evaluate against a row's visible versions and key (`None`: row absent).
pub fn evaluate(c: &ColumnCondition, pk: &PrimaryKey, row: Option<&Visible<'_>>) -> bool {
    match c {
        ColumnCondition::Single {
            column,
            op,
            value,
            pass_if_missing,
            latest_version_only,
        } => {
            if let Some(k) = pk.get(column).and_then(|v| v.to_value()) {
                if row.is_some() {
                    return compare(*op, &k, value);
                }
            }
            let versions = row.and_then(|r| r.get(column)).unwrap_or(&[]);
            if versions.is_empty() {
                return *pass_if_missing;
            }
            if *latest_version_only {
                compare(*op, versions[0].1, value)
            } else {
                versions.iter().any(|(_, v)| compare(*op, v, value))
            }
        }
        ColumnCondition::And(v) => v.iter().all(|x| evaluate(x, pk, row)),
        ColumnCondition::Or(v) => v.iter().any(|x| evaluate(x, pk, row)),
        ColumnCondition::Not(x) => !evaluate(x, pk, row),
    }
}
