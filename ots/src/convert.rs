//! Between the wire (PlainBuffer values, protobuf filters) and the core's types,
//! with the service's validation messages.

use crate::error::{OtsError, OtsResult};
use crate::pb;
use crate::plainbuffer::{decode_variant, PbCell, PbValue};
use prost::Message;
use tablesync::{
    ColumnCondition, CompareOp, Condition, PkBound, PkType, PkValue, PrimaryKey, RangeBound, Row,
    RowExistence, TableSchema, Value,
};

/// The service's name of a key value's type, as its messages print it.
fn vt_name(v: &PbValue) -> &'static str {
    match v {
        PbValue::Integer(_) => "VT_INTEGER",
        PbValue::Double(_) => "VT_DOUBLE",
        PbValue::Boolean(_) => "VT_BOOLEAN",
        PbValue::String(_) => "VT_STRING",
        PbValue::Binary(_) => "VT_BLOB",
        PbValue::Null => "VT_NULL",
        PbValue::InfMin => "VT_INF_MIN",
        PbValue::InfMax => "VT_INF_MAX",
        PbValue::AutoIncrement => "VT_AUTO_INCREMENT",
    }
}

fn pk_type_vt(t: PkType) -> &'static str {
    match t {
        PkType::Integer => "VT_INTEGER",
        PkType::String => "VT_STRING",
        PkType::Binary => "VT_BLOB",
    }
}

/// How a key's parts may be given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A concrete row key.
    Row,
    /// A PutRow key: the auto-increment column may be `PK_AUTO_INCR`.
    Put,
    /// A range bound: `INF_MIN` / `INF_MAX` allowed.
    Bound,
}

/// Check a key's size, names and types against the schema, with the service's messages.
pub fn check_key(schema: &TableSchema, pk: &[(String, PbValue)], usage: KeyUse) -> OtsResult<()> {
    if pk.len() != schema.primary_key.len() {
        return Err(OtsError::invalid(format!(
            "Validate PK size fail. Input: {}, Meta: {}.",
            pk.len(),
            schema.primary_key.len()
        )));
    }
    for ((name, v), col) in pk.iter().zip(&schema.primary_key) {
        if *name != col.name {
            return Err(OtsError::invalid(format!(
                "Validate PK name fail. Input: {name}, Meta: {}.",
                col.name
            )));
        }
        let ok = match v {
            PbValue::Integer(_) => col.pk_type == PkType::Integer,
            PbValue::String(_) => col.pk_type == PkType::String,
            PbValue::Binary(_) => col.pk_type == PkType::Binary,
            PbValue::InfMin | PbValue::InfMax => usage == KeyUse::Bound,
            PbValue::AutoIncrement => usage == KeyUse::Put && col.auto_increment,
            _ => false,
        };
        if !ok {
            if matches!(v, PbValue::AutoIncrement) {
                return Err(OtsError::invalid(format!(
                    "Validate PK fail. The auto-increment value is only allowed in PutRow for the auto-increment column; column: {name}."
                )));
            }
            if matches!(v, PbValue::InfMin | PbValue::InfMax) {
                return Err(OtsError::invalid(format!(
                    "Validate PK fail. INF_MIN and INF_MAX are only allowed in range bounds; column: {name}."
                )));
            }
            return Err(OtsError::invalid(format!(
                "Validate PK type fail. Input: {}, Meta: {}.",
                vt_name(v),
                pk_type_vt(col.pk_type)
            )));
        }
    }
    crate::limits::check_pk_lengths(pk)
}

/// A checked key as the core's `PrimaryKey`.
pub fn to_primary_key(pk: &[(String, PbValue)]) -> OtsResult<PrimaryKey> {
    let mut out = Vec::with_capacity(pk.len());
    for (n, v) in pk {
        let v = match v {
            PbValue::Integer(i) => PkValue::Integer(*i),
            PbValue::String(s) => PkValue::String(s.clone()),
            PbValue::Binary(b) => PkValue::Binary(b.clone()),
            PbValue::AutoIncrement => PkValue::AutoIncrement,
            other => {
                return Err(OtsError::invalid(format!(
                    "Invalid primary key value type {} for column {n}.",
                    vt_name(other)
                )))
            }
        };
        out.push((n.clone(), v));
    }
    Ok(PrimaryKey(out))
}

/// A checked range bound as the core's `RangeBound`.
pub fn to_range_bound(pk: &[(String, PbValue)]) -> OtsResult<RangeBound> {
    let mut out = Vec::with_capacity(pk.len());
    for (n, v) in pk {
        let b = match v {
            PbValue::InfMin => PkBound::InfMin,
            PbValue::InfMax => PkBound::InfMax,
            PbValue::Integer(i) => PkBound::Value(PkValue::Integer(*i)),
            PbValue::String(s) => PkBound::Value(PkValue::String(s.clone())),
            PbValue::Binary(b) => PkBound::Value(PkValue::Binary(b.clone())),
            other => {
                return Err(OtsError::invalid(format!(
                    "Invalid range bound type {} for column {n}.",
                    vt_name(other)
                )))
            }
        };
        out.push((n.clone(), b));
    }
    Ok(RangeBound(out))
}

/// The core's key as PlainBuffer key parts.
pub fn from_primary_key(pk: &PrimaryKey) -> Vec<(String, PbValue)> {
    pk.0.iter()
        .map(|(n, v)| {
            let v = match v {
                PkValue::Integer(i) => PbValue::Integer(*i),
                PkValue::String(s) => PbValue::String(s.clone()),
                PkValue::Binary(b) => PbValue::Binary(b.clone()),
                PkValue::AutoIncrement => PbValue::AutoIncrement,
            };
            (n.clone(), v)
        })
        .collect()
}

/// The core's range bound as PlainBuffer key parts.
pub fn from_range_bound(b: &RangeBound) -> Vec<(String, PbValue)> {
    b.0.iter()
        .map(|(n, v)| {
            let v = match v {
                PkBound::InfMin => PbValue::InfMin,
                PkBound::InfMax => PbValue::InfMax,
                PkBound::Value(PkValue::Integer(i)) => PbValue::Integer(*i),
                PkBound::Value(PkValue::String(s)) => PbValue::String(s.clone()),
                PkBound::Value(PkValue::Binary(b)) => PbValue::Binary(b.clone()),
                PkBound::Value(PkValue::AutoIncrement) => PbValue::AutoIncrement,
            };
            (n.clone(), v)
        })
        .collect()
}

/// An attribute value from the wire.
pub fn to_value(name: &str, v: &PbValue) -> OtsResult<Value> {
    Ok(match v {
        PbValue::Integer(i) => Value::Integer(*i),
        PbValue::Double(d) => Value::Double(*d),
        PbValue::Boolean(b) => Value::Boolean(*b),
        PbValue::String(s) => Value::String(s.clone()),
        PbValue::Binary(b) => Value::Binary(b.clone()),
        other => {
            return Err(OtsError::invalid(format!(
                "Invalid column value type {} of column {name}.",
                vt_name(other)
            )))
        }
    })
}

/// An attribute value for the wire.
pub fn from_value(v: &Value) -> PbValue {
    match v {
        Value::Integer(i) => PbValue::Integer(*i),
        Value::Double(d) => PbValue::Double(*d),
        Value::Boolean(b) => PbValue::Boolean(*b),
        Value::String(s) => PbValue::String(s.clone()),
        Value::Binary(b) => PbValue::Binary(b.clone()),
    }
}

/// A row for the wire: its key and every returned cell version with its timestamp.
pub fn from_row(row: &Row) -> (Vec<(String, PbValue)>, Vec<PbCell>) {
    let cells = row
        .cells
        .iter()
        .map(|c| PbCell {
            name: c.name.clone(),
            value: Some(from_value(&c.value)),
            op: None,
            timestamp: Some(c.timestamp),
        })
        .collect();
    (from_primary_key(&row.primary_key), cells)
}

/// Deepest filter nesting accepted (the core checks its own bound again).
const MAX_FILTER_DEPTH: usize = 32;

/// A serialized `Filter` (column conditions and read filters) as the core's condition.
pub fn to_column_condition(bytes: &[u8]) -> OtsResult<ColumnCondition> {
    filter(bytes, 0)
}

fn filter(bytes: &[u8], depth: usize) -> OtsResult<ColumnCondition> {
    if depth > MAX_FILTER_DEPTH {
        return Err(OtsError::invalid(format!(
            "The filter is nested deeper than {MAX_FILTER_DEPTH} levels."
        )));
    }
    let f = pb::Filter::decode(bytes)?;
    match pb::FilterType::try_from(f.r#type) {
        Ok(pb::FilterType::FtSingleColumnValue) => {
            let s = pb::SingleColumnValueFilter::decode(f.filter.as_slice())?;
            let op = match pb::ComparatorType::try_from(s.comparator) {
                Ok(pb::ComparatorType::CtEqual) => CompareOp::Equal,
                Ok(pb::ComparatorType::CtNotEqual) => CompareOp::NotEqual,
                Ok(pb::ComparatorType::CtGreaterThan) => CompareOp::Greater,
                Ok(pb::ComparatorType::CtGreaterEqual) => CompareOp::GreaterEqual,
                Ok(pb::ComparatorType::CtLessThan) => CompareOp::Less,
                Ok(pb::ComparatorType::CtLessEqual) => CompareOp::LessEqual,
                Ok(c @ (pb::ComparatorType::CtExist | pb::ComparatorType::CtNotExist)) => {
                    if s.value_trans_rule.is_some() {
                        return Err(OtsError::unsupported(
                            "Filters with a value transfer rule are not supported by tablesync.",
                        ));
                    }
                    let exists = column_exists(&s.column_name, s.latest_version_only);
                    return Ok(if c == pb::ComparatorType::CtExist {
                        exists
                    } else {
                        ColumnCondition::Not(Box::new(exists))
                    });
                }
                Err(_) => {
                    return Err(OtsError::invalid(format!(
                        "Invalid comparator type: {}.",
                        s.comparator
                    )))
                }
            };
            if s.value_trans_rule.is_some() {
                return Err(OtsError::unsupported(
                    "Filters with a value transfer rule are not supported by tablesync.",
                ));
            }
            let v = decode_variant(&s.column_value)?;
            let value = to_value(&s.column_name, &v)?;
            Ok(ColumnCondition::Single {
                column: s.column_name,
                op,
                value,
                pass_if_missing: !s.filter_if_missing,
                latest_version_only: s.latest_version_only,
            })
        }
        Ok(pb::FilterType::FtCompositeColumnValue) => {
            let c = pb::CompositeColumnValueFilter::decode(f.filter.as_slice())?;
            let mut subs = Vec::with_capacity(c.sub_filters.len());
            for sf in &c.sub_filters {
                subs.push(filter(&sf.encode_to_vec(), depth + 1)?);
            }
            match pb::LogicalOperator::try_from(c.combinator) {
                Ok(pb::LogicalOperator::LoNot) => {
                    if subs.len() != 1 {
                        return Err(OtsError::invalid(
                            "Invalid NOT operator: the number of sub-filters must be 1.",
                        ));
                    }
                    Ok(ColumnCondition::Not(Box::new(subs.remove(0))))
                }
                Ok(pb::LogicalOperator::LoAnd) | Ok(pb::LogicalOperator::LoOr)
                    if subs.len() < 2 =>
                {
                    Err(OtsError::invalid(
                        "Invalid AND/OR operator: the number of sub-filters must be 2.",
                    ))
                }
                Ok(pb::LogicalOperator::LoAnd) => Ok(ColumnCondition::And(subs)),
                Ok(pb::LogicalOperator::LoOr) => Ok(ColumnCondition::Or(subs)),
                Err(_) => Err(OtsError::invalid(format!(
                    "Invalid logical operator: {}.",
                    c.combinator
                ))),
            }
        }
        Ok(pb::FilterType::FtColumnPagination) => Err(OtsError::invalid(
            "Invalid type of sub-filter: a ColumnPaginationFilter filters the columns a read returns; it has no meaning in a write condition.",
        )),
        Err(_) => Err(OtsError::invalid(format!(
            "Invalid filter type: {}.",
            f.r#type
        ))),
    }
}

/// A read filter: the row condition (`None`: every row passes) and the
/// `(offset, limit)` of each `ColumnPaginationFilter`, in order.
pub type ReadFilter = (Option<ColumnCondition>, Vec<(usize, usize)>);

/// A read's serialized `Filter`: its row condition (`None`: every row
/// passes) and its `ColumnPaginationFilter`s, wherever they sit.
///
/// A pagination filter is a predicate every row meets; its offset and
/// limit apply to the returned columns. Nested in a composite it folds
/// like the constant TRUE: `AND(page, f)` is `f`, `OR(page, f)` passes
/// every row, `NOT(page)` passes none; the columns are paginated in each
/// case.
pub fn to_read_filter(bytes: &[u8]) -> OtsResult<ReadFilter> {
    let mut pages = Vec::new();
    let cond = match read_filter(bytes, 0, &mut pages)? {
        Folded::True => None,
        // A condition no row meets: a column both exists and does not.
        Folded::False => Some(ColumnCondition::And(vec![
            column_exists("_", false),
            ColumnCondition::Not(Box::new(column_exists("_", false))),
        ])),
        Folded::Cond(c) => Some(c),
    };
    Ok((cond, pages))
}

/// A read filter with its pagination filters folded out.
enum Folded {
    True,
    False,
    Cond(ColumnCondition),
}

fn read_filter(bytes: &[u8], depth: usize, pages: &mut Vec<(usize, usize)>) -> OtsResult<Folded> {
    if depth > MAX_FILTER_DEPTH {
        return Err(OtsError::invalid(format!(
            "The filter is nested deeper than {MAX_FILTER_DEPTH} levels."
        )));
    }
    let f = pb::Filter::decode(bytes)?;
    match pb::FilterType::try_from(f.r#type) {
        Ok(pb::FilterType::FtColumnPagination) => {
            let p = pb::ColumnPaginationFilter::decode(f.filter.as_slice())?;
            if p.offset < 0 {
                return Err(OtsError::invalid(
                    "Offset in ColumnPaginationFilter must be greater than or equal to 0.",
                ));
            }
            if p.limit < 0 {
                return Err(OtsError::invalid(
                    "Limit in ColumnPaginationFilter must be greater than 0.",
                ));
            }
            pages.push((p.offset as usize, p.limit as usize));
            Ok(Folded::True)
        }
        Ok(pb::FilterType::FtCompositeColumnValue) => {
            let c = pb::CompositeColumnValueFilter::decode(f.filter.as_slice())?;
            let mut subs = Vec::with_capacity(c.sub_filters.len());
            for sf in &c.sub_filters {
                subs.push(read_filter(&sf.encode_to_vec(), depth + 1, pages)?);
            }
            let op = pb::LogicalOperator::try_from(c.combinator).map_err(|_| {
                OtsError::invalid(format!("Invalid logical operator: {}.", c.combinator))
            })?;
            match op {
                pb::LogicalOperator::LoNot => {
                    if subs.len() != 1 {
                        return Err(OtsError::invalid(
                            "Invalid NOT operator: the number of sub-filters must be 1.",
                        ));
                    }
                    Ok(match subs.remove(0) {
                        Folded::True => Folded::False,
                        Folded::False => Folded::True,
                        Folded::Cond(c) => Folded::Cond(ColumnCondition::Not(Box::new(c))),
                    })
                }
                _ if subs.len() < 2 => Err(OtsError::invalid(
                    "Invalid AND/OR operator: the number of sub-filters must be 2.",
                )),
                pb::LogicalOperator::LoAnd => {
                    if subs.iter().any(|s| matches!(s, Folded::False)) {
                        return Ok(Folded::False);
                    }
                    Ok(join(subs, ColumnCondition::And, Folded::True))
                }
                pb::LogicalOperator::LoOr => {
                    if subs.iter().any(|s| matches!(s, Folded::True)) {
                        return Ok(Folded::True);
                    }
                    Ok(join(subs, ColumnCondition::Or, Folded::False))
                }
            }
        }
        _ => filter(bytes, depth).map(Folded::Cond),
    }
}

/// The conditions among `subs` joined by `op`; `empty` when none is left.
fn join(
    subs: Vec<Folded>,
    op: fn(Vec<ColumnCondition>) -> ColumnCondition,
    empty: Folded,
) -> Folded {
    let mut conds: Vec<ColumnCondition> = subs
        .into_iter()
        .filter_map(|s| match s {
            Folded::Cond(c) => Some(c),
            _ => None,
        })
        .collect();
    match conds.len() {
        0 => empty,
        1 => Folded::Cond(conds.remove(0)),
        _ => Folded::Cond(op(conds)),
    }
}

/// `CT_EXIST` on `column` as a core condition: true when the column has a
/// value (its latest one, or any, per `latest_version_only`). The
/// comparison value the SDK sends with EXIST is a placeholder and ignored;
/// `x == 0 OR x != 0` holds for every present value (a value of another
/// type is "not equal"), and `filter_if_missing` does not apply: a missing
/// column fails EXIST and passes NOT_EXIST.
fn column_exists(column: &str, latest_version_only: bool) -> ColumnCondition {
    let leg = |op| ColumnCondition::Single {
        column: column.to_string(),
        op,
        value: tablesync::Value::Integer(0),
        pass_if_missing: false,
        latest_version_only,
    };
    ColumnCondition::Or(vec![leg(CompareOp::Equal), leg(CompareOp::NotEqual)])
}

/// A request's `Condition` as the core's.
pub fn to_condition(c: &pb::Condition) -> OtsResult<Condition> {
    let row_existence = match pb::RowExistenceExpectation::try_from(c.row_existence) {
        Ok(pb::RowExistenceExpectation::Ignore) => RowExistence::Ignore,
        Ok(pb::RowExistenceExpectation::ExpectExist) => RowExistence::ExpectExist,
        Ok(pb::RowExistenceExpectation::ExpectNotExist) => RowExistence::ExpectNotExist,
        Err(_) => {
            return Err(OtsError::invalid(format!(
                "Invalid row existence expectation: {}.",
                c.row_existence
            )))
        }
    };
    let column_condition = match &c.column_condition {
        Some(b) if !b.is_empty() => Some(to_column_condition(b)?),
        _ => None,
    };
    Ok(Condition {
        row_existence,
        column_condition,
    })
}
