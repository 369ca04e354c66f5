//! JSON encoding of values, keys and rows for the row API (the CLI's encoding):
//! INTEGER a number without fraction, DOUBLE a number with one (or
//! `{"$double": "NaN"|"inf"|"-inf"}`), BOOLEAN, STRING, and BINARY as
//! `{"$binary": "<base64>"}`; key bounds `{"$inf": "min"|"max"}`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Number, Value as Json};
use tablesync::{
    ChangeRecord, ColumnCondition, ColumnOp, CompareOp, Error, PkBound, PkValue, PrimaryKey,
    RangeBound, Result, Row, TableSchema, Value,
};

fn binary_of(o: &Map<String, Json>) -> Option<Result<Vec<u8>>> {
    let s = o.get("$binary")?.as_str()?;
    Some(
        B64.decode(s)
            .map_err(|e| Error::invalid(format!("invalid base64 in $binary: {e}"))),
    )
}

/// A value from JSON.
pub fn to_value(j: &Json) -> Result<Value> {
    Ok(match j {
        Json::Bool(b) => Value::Boolean(*b),
        Json::String(s) => Value::String(s.clone()),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.to_string().contains(['.', 'e', 'E']) => Value::Integer(i),
            _ => Value::Double(
                n.as_f64()
                    .ok_or_else(|| Error::invalid(format!("{n} is not a number")))?,
            ),
        },
        Json::Object(o) if o.len() == 1 => {
            if let Some(b) = binary_of(o) {
                Value::Binary(b?)
            } else if let Some(d) = o.get("$double").and_then(Json::as_str) {
                Value::Double(match d {
                    "NaN" => f64::NAN,
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    s => s
                        .parse()
                        .map_err(|_| Error::invalid(format!("{s:?} is not a DOUBLE")))?,
                })
            } else {
                return Err(Error::invalid(format!("unknown value object {j}")));
            }
        }
        _ => return Err(Error::invalid(format!("{j} is not a column value"))),
    })
}

/// A value as JSON.
pub fn of_value(v: &Value) -> Json {
    match v {
        Value::Integer(i) => json!(i),
        Value::Double(d) if d.is_nan() => json!({"$double": "NaN"}),
        Value::Double(d) if d.is_infinite() => {
            json!({"$double": if *d > 0.0 { "inf" } else { "-inf" }})
        }
        Value::Double(d) => Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::Boolean(b) => json!(b),
        Value::String(s) => json!(s),
        Value::Binary(b) => json!({"$binary": B64.encode(b)}),
    }
}

fn to_pk_value(j: &Json) -> Result<PkValue> {
    Ok(match j {
        Json::Number(n) => PkValue::Integer(
            n.as_i64()
                .ok_or_else(|| Error::invalid(format!("{n} is not an INTEGER key")))?,
        ),
        Json::String(s) => PkValue::String(s.clone()),
        Json::Object(o) if o.len() == 1 => match binary_of(o) {
            Some(b) => PkValue::Binary(b?),
            None if o.get("$auto_increment") == Some(&Json::Bool(true)) => PkValue::AutoIncrement,
            None => return Err(Error::invalid(format!("unknown key object {j}"))),
        },
        _ => return Err(Error::invalid(format!("{j} is not a key value"))),
    })
}

fn of_pk_value(v: &PkValue) -> Json {
    match v {
        PkValue::Integer(i) => json!(i),
        PkValue::String(s) => json!(s),
        PkValue::Binary(b) => json!({"$binary": B64.encode(b)}),
        PkValue::AutoIncrement => json!({"$auto_increment": true}),
    }
}

fn key_object(j: &Json) -> Result<&Map<String, Json>> {
    j.as_object()
        .ok_or_else(|| Error::invalid("a primary key is a JSON object"))
}

/// A primary key from a JSON object, in the schema's column order.
pub fn to_pk(schema: &TableSchema, j: &Json) -> Result<PrimaryKey> {
    let o = key_object(j)?;
    if o.len() != schema.primary_key.len() {
        return Err(Error::InvalidPk(format!(
            "the key has {} columns, the table {}",
            o.len(),
            schema.primary_key.len()
        )));
    }
    let mut parts = Vec::with_capacity(o.len());
    for c in &schema.primary_key {
        let v = o
            .get(&c.name)
            .ok_or_else(|| Error::InvalidPk(format!("key column '{}' is missing", c.name)))?;
        parts.push((c.name.clone(), to_pk_value(v)?));
    }
    Ok(PrimaryKey(parts))
}

/// A range bound from a JSON object, in the schema's column order; a
/// column may be `{"$inf": "min"}` or `{"$inf": "max"}`.
pub fn to_bound(schema: &TableSchema, j: &Json) -> Result<RangeBound> {
    let o = key_object(j)?;
    let mut parts = Vec::with_capacity(o.len());
    for c in &schema.primary_key {
        let v = o
            .get(&c.name)
            .ok_or_else(|| Error::InvalidPk(format!("bound column '{}' is missing", c.name)))?;
        let b = match v.get("$inf").and_then(Json::as_str) {
            Some("min") => PkBound::InfMin,
            Some("max") => PkBound::InfMax,
            Some(x) => return Err(Error::invalid(format!("$inf must be min or max, got {x}"))),
            None => PkBound::Value(to_pk_value(v)?),
        };
        parts.push((c.name.clone(), b));
    }
    Ok(RangeBound(parts))
}

/// A range bound as JSON.
pub fn of_bound(b: &RangeBound) -> Json {
    let mut o = Map::new();
    for (n, v) in &b.0 {
        let j = match v {
            PkBound::InfMin => json!({"$inf": "min"}),
            PkBound::InfMax => json!({"$inf": "max"}),
            PkBound::Value(v) => of_pk_value(v),
        };
        o.insert(n.clone(), j);
    }
    Json::Object(o)
}

/// A primary key as JSON.
pub fn of_pk(pk: &PrimaryKey) -> Json {
    Json::Object(
        pk.columns()
            .iter()
            .map(|(n, v)| (n.clone(), of_pk_value(v)))
            .collect(),
    )
}

/// A row as `{"primary_key": {...}, "columns": {...}}` (newest value of each column).
pub fn of_row(row: &Row) -> Json {
    let mut cols = Map::new();
    for c in &row.cells {
        // Cells come newest first within a column: keep the first.
        cols.entry(c.name.clone())
            .or_insert_with(|| of_value(&c.value));
    }
    json!({"primary_key": of_pk(&row.primary_key), "columns": cols})
}

/// A column condition, in the Python binding's dict form:
/// `{"column", "op": "=="|"!="|">"|">="|"<"|"<=", "value", "pass_if_missing"?,
/// "latest_version_only"?}`, `{"and": [...]}`, `{"or": [...]}`, `{"not": C}`.
pub fn to_column_condition(j: &Json) -> Result<ColumnCondition> {
    let o = j
        .as_object()
        .ok_or_else(|| Error::invalid("a column condition is a JSON object"))?;
    let list = |k: &str| -> Result<Vec<ColumnCondition>> {
        o[k].as_array()
            .ok_or_else(|| Error::invalid(format!("'{k}' takes a list of conditions")))?
            .iter()
            .map(to_column_condition)
            .collect()
    };
    if o.contains_key("and") {
        return Ok(ColumnCondition::And(list("and")?));
    }
    if o.contains_key("or") {
        return Ok(ColumnCondition::Or(list("or")?));
    }
    if let Some(n) = o.get("not") {
        return Ok(ColumnCondition::Not(Box::new(to_column_condition(n)?)));
    }
    let column = o
        .get("column")
        .and_then(Json::as_str)
        .ok_or_else(|| Error::invalid("a column condition names its 'column'"))?;
    let op = o
        .get("op")
        .and_then(Json::as_str)
        .and_then(CompareOp::parse)
        .ok_or_else(|| Error::invalid("a column condition's 'op' is ==, !=, >, >=, < or <="))?;
    let value = to_value(
        o.get("value")
            .ok_or_else(|| Error::invalid("a column condition needs a 'value'"))?,
    )?;
    let flag = |k: &str| o.get(k).and_then(Json::as_bool).unwrap_or(true);
    Ok(ColumnCondition::Single {
        column: column.to_string(),
        op,
        value,
        pass_if_missing: flag("pass_if_missing"),
        latest_version_only: flag("latest_version_only"),
    })
}

/// A change record as JSON: `{"cursor", "origin", "seq", "stamp", "table",
/// "kind", "primary_key", "columns": [{"put"|"delete_version"|"delete_all": NAME, ...}]}`.
pub fn of_record(r: &ChangeRecord) -> Json {
    let cols: Vec<Json> = r
        .columns
        .iter()
        .map(|c| match c {
            ColumnOp::Put {
                name,
                value,
                timestamp,
            } => json!({"put": name, "value": of_value(value), "timestamp": timestamp}),
            ColumnOp::DeleteOneVersion { name, timestamp } => {
                json!({"delete_version": name, "timestamp": timestamp})
            }
            ColumnOp::DeleteAllVersions { name } => json!({ "delete_all": name }),
        })
        .collect();
    json!({
        "cursor": r.cursor,
        "origin": r.origin,
        "seq": r.seq,
        "stamp": r.stamp,
        "table": r.table,
        "kind": r.kind.name(),
        "primary_key": of_pk(&r.primary_key),
        "columns": cols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json() {
        for v in [
            Value::Integer(-7),
            Value::Double(1.0),
            Value::Double(f64::INFINITY),
            Value::Boolean(true),
            Value::String("x".into()),
            Value::Binary(vec![0, 255]),
        ] {
            let j = of_value(&v);
            let text = j.to_string();
            let back = to_value(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back, v, "{text}");
        }
        assert!(to_value(&json!(null)).is_err());
        assert!(to_value(&json!({"$binary": "%%"})).is_err());
    }

    /// The golden vectors in tests/vectors/http_json.json.
    #[test]
    fn golden_vectors_hold() {
        let v: Json =
            serde_json::from_str(include_str!("../../tests/vectors/http_json.json")).unwrap();
        for case in v["values"].as_array().unwrap() {
            let text = case["text"].as_str().unwrap();
            let want = match case["type"].as_str().unwrap() {
                "INTEGER" => Value::Integer(text.parse().unwrap()),
                "DOUBLE" => Value::Double(match text {
                    "NaN" => f64::NAN,
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    t => t.parse().unwrap(),
                }),
                "BOOLEAN" => Value::Boolean(text == "true"),
                "STRING" => Value::String(text.into()),
                "BINARY" => Value::Binary(
                    (0..text.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                        .collect(),
                ),
                t => panic!("unknown type {t}"),
            };
            let got = to_value(&case["json"]).unwrap();
            match (&got, &want) {
                (Value::Double(a), Value::Double(b)) if a.is_nan() => assert!(b.is_nan()),
                _ => assert_eq!(got, want, "{case}"),
            }
            assert_eq!(of_value(&want), case["json"], "{case}");
        }
        for bad in v["rejects"].as_array().unwrap() {
            assert!(to_value(bad).is_err(), "{bad}");
        }
    }
}
