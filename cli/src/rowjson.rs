//! Rows and change records as JSON Lines.
//!
//! A row is one object:
//! `{"primary_key": {...}, "columns": {...}, "timestamps": {...}, "versions": {...}}`
//! - `primary_key`: every key column, in schema order;
//! - `columns`: the newest visible value of each attribute column;
//! - `timestamps` (optional on import): the version timestamp (ms) of each
//!   value in `columns`; without it, import stamps the values with the time of import;
//! - `versions` (only for columns with more than one visible version):
//!   `[[timestamp, value], ...]`, newest first, including the newest.
//!
//! Values use the encoding of [`crate::values`].

use crate::error::{CliError, CliResult};
use crate::values::{json_to_pk, json_to_value, pk_to_json, value_to_json};
use serde_json::{Map, Value as Json};
use tablesync::{ChangeRecord, Column, ColumnOp, PrimaryKey, Row, TableSchema};

fn push_key(out: &mut String, k: &str) {
    out.push_str(&Json::String(k.to_string()).to_string());
    out.push(':');
}

/// Append a primary key as a JSON object, columns in schema order.
pub fn push_pk(out: &mut String, pk: &PrimaryKey) {
    out.push('{');
    for (i, (name, v)) in pk.columns().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_key(out, name);
        out.push_str(&pk_to_json(v).to_string());
    }
    out.push('}');
}

/// One row as a JSON Lines object (no trailing newline). `timestamps`
/// adds the version timestamps (and older versions) needed to restore the
/// row bit for bit.
pub fn row_to_json(row: &Row, timestamps: bool) -> String {
    let mut out = String::with_capacity(128);
    out.push_str("{\"primary_key\":");
    push_pk(&mut out, &row.primary_key);
    // Cells come grouped by column name, newest first within a column.
    let mut groups: Vec<(&str, Vec<(i64, &tablesync::Value)>)> = Vec::new();
    for c in &row.cells {
        match groups.last_mut() {
            Some((n, vs)) if *n == c.name => vs.push((c.timestamp, &c.value)),
            _ => groups.push((c.name.as_str(), vec![(c.timestamp, &c.value)])),
        }
    }
    out.push_str(",\"columns\":{");
    for (i, (name, vs)) in groups.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_key(&mut out, name);
        out.push_str(&value_to_json(vs[0].1).to_string());
    }
    out.push('}');
    if timestamps {
        out.push_str(",\"timestamps\":{");
        for (i, (name, vs)) in groups.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_key(&mut out, name);
            out.push_str(&vs[0].0.to_string());
        }
        out.push('}');
        let multi: Vec<_> = groups.iter().filter(|(_, vs)| vs.len() > 1).collect();
        if !multi.is_empty() {
            out.push_str(",\"versions\":{");
            for (i, (name, vs)) in multi.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_key(&mut out, name);
                out.push('[');
                for (j, (ts, v)) in vs.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str(&format!("[{ts},{}]", value_to_json(v)));
                }
                out.push(']');
            }
            out.push('}');
        }
    }
    out.push('}');
    out
}

/// Read a primary key object against the schema (every key column, nothing else).
pub fn json_to_primary_key(schema: &TableSchema, j: &Json) -> CliResult<PrimaryKey> {
    let obj = j
        .as_object()
        .ok_or_else(|| CliError::input("\"primary_key\" must be an object"))?;
    for k in obj.keys() {
        if !schema.primary_key.iter().any(|c| &c.name == k) {
            return Err(CliError::input(format!(
                "\"{k}\" is not a primary-key column of table '{}'",
                schema.name
            )));
        }
    }
    let mut parts = Vec::with_capacity(schema.primary_key.len());
    for col in &schema.primary_key {
        let v = obj
            .get(&col.name)
            .ok_or_else(|| CliError::input(format!("primary key lacks column '{}'", col.name)))?;
        let pv = json_to_pk(col.pk_type, v).map_err(|e| {
            CliError::input(e.message).context(format!("primary-key column '{}'", col.name))
        })?;
        parts.push((col.name.clone(), pv));
    }
    Ok(PrimaryKey(parts))
}

fn field<'a>(obj: &'a Map<String, Json>, name: &str) -> CliResult<Option<&'a Map<String, Json>>> {
    match obj.get(name) {
        None => Ok(None),
        Some(Json::Object(m)) => Ok(Some(m)),
        Some(_) => Err(CliError::input(format!("\"{name}\" must be an object"))),
    }
}

/// Parse one JSON Lines row into a key and the columns to put.
pub fn json_to_row(schema: &TableSchema, line: &str) -> CliResult<(PrimaryKey, Vec<Column>)> {
    let j: Json =
        serde_json::from_str(line).map_err(|e| CliError::input(format!("invalid JSON: {e}")))?;
    let obj = j
        .as_object()
        .ok_or_else(|| CliError::input("a row must be a JSON object"))?;
    for k in obj.keys() {
        if !["primary_key", "columns", "timestamps", "versions"].contains(&k.as_str()) {
            return Err(CliError::input(format!(
                "unknown field \"{k}\" (expected primary_key, columns, timestamps, versions)"
            )));
        }
    }
    let pk_json = obj
        .get("primary_key")
        .ok_or_else(|| CliError::input("a row needs \"primary_key\""))?;
    let pk = json_to_primary_key(schema, pk_json)?;
    let columns = field(obj, "columns")?;
    let timestamps = field(obj, "timestamps")?;
    let versions = field(obj, "versions")?;
    let mut out = Vec::new();
    if let Some(cols) = columns {
        for (name, v) in cols {
            if versions.is_some_and(|vs| vs.contains_key(name)) {
                continue;
            }
            let value = json_to_value(v)
                .map_err(|e| CliError::input(e.message).context(format!("column '{name}'")))?;
            let mut c = Column::new(name.clone(), value);
            if let Some(ts) = timestamps.and_then(|t| t.get(name)) {
                c = c.at(ts.as_i64().ok_or_else(|| {
                    CliError::input(format!("timestamp of '{name}' must be an integer"))
                })?);
            }
            out.push(c);
        }
    }
    if let Some(ts) = timestamps {
        if let Some(k) = ts
            .keys()
            .find(|k| !columns.is_some_and(|c| c.contains_key(*k)))
        {
            return Err(CliError::input(format!(
                "\"timestamps\" names '{k}', which is not in \"columns\""
            )));
        }
    }
    if let Some(vs) = versions {
        for (name, list) in vs {
            let list = list
                .as_array()
                .ok_or_else(|| CliError::input(format!("versions of '{name}' must be an array")))?;
            for item in list {
                let pair = item.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                    CliError::input(format!(
                        "each version of '{name}' must be [timestamp, value]"
                    ))
                })?;
                let ts = pair[0].as_i64().ok_or_else(|| {
                    CliError::input(format!("a version timestamp of '{name}' is not an integer"))
                })?;
                let value = json_to_value(&pair[1])
                    .map_err(|e| CliError::input(e.message).context(format!("column '{name}'")))?;
                out.push(Column::new(name.clone(), value).at(ts));
            }
        }
    }
    Ok((pk, out))
}

/// A change record as JSON (the shape of the shared API docs).
pub fn record_to_json(r: &ChangeRecord) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(&format!(
        "{{\"cursor\":{},\"origin\":{},\"seq\":{},\"stamp\":{},\"table\":{},\"kind\":\"{}\",\"primary_key\":",
        r.cursor,
        Json::String(r.origin.clone()),
        r.seq,
        r.stamp,
        Json::String(r.table.clone()),
        r.kind.name()
    ));
    push_pk(&mut out, &r.primary_key);
    out.push_str(",\"columns\":[");
    for (i, op) in r.columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        out.push_str(&Json::String(op.name().to_string()).to_string());
        out.push_str(&format!(",\"op\":\"{}\"", op.op_name()));
        match op {
            ColumnOp::Put {
                value, timestamp, ..
            } => out.push_str(&format!(
                ",\"value\":{},\"timestamp\":{timestamp}",
                value_to_json(value)
            )),
            ColumnOp::DeleteOneVersion { timestamp, .. } => {
                out.push_str(&format!(",\"timestamp\":{timestamp}"))
            }
            ColumnOp::DeleteAllVersions { .. } => {}
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tablesync::{Cell, PkColumn, PkType, PkValue, Value};

    fn schema() -> TableSchema {
        TableSchema::new(
            "t",
            vec![
                PkColumn::new("uid", PkType::Integer),
                PkColumn::new("b", PkType::Binary),
            ],
        )
    }

    #[test]
    fn row_round_trips_with_versions_and_types() {
        let row = Row {
            primary_key: PrimaryKey::new([
                ("uid", PkValue::Integer(7)),
                ("b", PkValue::Binary(vec![1, 2])),
            ]),
            cells: vec![
                Cell {
                    name: "a".into(),
                    value: Value::Double(1.0),
                    timestamp: 20,
                },
                Cell {
                    name: "a".into(),
                    value: Value::Integer(1),
                    timestamp: 10,
                },
                Cell {
                    name: "z".into(),
                    value: Value::Binary(vec![9]),
                    timestamp: 5,
                },
            ],
        };
        let line = row_to_json(&row, true);
        assert!(
            line.starts_with("{\"primary_key\":{\"uid\":7,\"b\":{\"$binary\":\"AQI=\"}}"),
            "{line}"
        );
        let (pk, cols) = json_to_row(&schema(), &line).unwrap();
        assert_eq!(pk, row.primary_key);
        let mut got: Vec<(String, Value, Option<i64>)> = cols
            .into_iter()
            .map(|c| (c.name, c.value, c.timestamp))
            .collect();
        got.sort_by_key(|c| (c.0.clone(), c.2));
        assert_eq!(
            got,
            vec![
                ("a".into(), Value::Integer(1), Some(10)),
                ("a".into(), Value::Double(1.0), Some(20)),
                ("z".into(), Value::Binary(vec![9]), Some(5)),
            ]
        );
    }

    #[test]
    fn malformed_rows_are_refused() {
        let s = schema();
        for bad in [
            "[]",
            "{",
            "{\"columns\":{}}",
            "{\"primary_key\":{\"uid\":1}}",
            "{\"primary_key\":{\"uid\":\"1\",\"b\":{\"$binary\":\"\"}}}",
            "{\"primary_key\":{\"uid\":1,\"b\":{\"$binary\":\"\"},\"x\":1}}",
            "{\"primary_key\":{\"uid\":1,\"b\":{\"$binary\":\"\"}},\"columns\":{\"a\":null}}",
            "{\"primary_key\":{\"uid\":1,\"b\":{\"$binary\":\"\"}},\"extra\":1}",
            "{\"primary_key\":{\"uid\":1,\"b\":{\"$binary\":\"\"}},\"timestamps\":{\"a\":1}}",
        ] {
            assert!(json_to_row(&s, bad).is_err(), "{bad}");
        }
    }
}
