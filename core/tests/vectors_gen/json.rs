//! The JSON shapes of `tests/vectors/*.json` (see `tests/vectors/README.md`):
//! typed values, keys, bounds, schemas, conditions and change records, both ways.

use serde_json::{json, Value as J};
use tablesync::{
    ChangeKind, ChangeRecord, ColumnCondition, ColumnOp, CompareOp, Condition, PkBound, PkColumn,
    PkType, PkValue, PrimaryKey, RangeBound, RowExistence, TableOptions, TableSchema, Value,
};

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes of a hex string (panics on bad input: vectors are trusted test data).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// A JSON string holding a decimal integer.
pub fn int_str(j: &J) -> i64 {
    j.as_str()
        .unwrap_or_else(|| panic!("expected a decimal string, got {j}"))
        .parse()
        .expect("decimal i64")
}

/// A JSON string holding a decimal unsigned integer.
pub fn uint_str(j: &J) -> u64 {
    j.as_str()
        .unwrap_or_else(|| panic!("expected a decimal string, got {j}"))
        .parse()
        .expect("decimal u64")
}

/// A string field.
pub fn s(j: &J) -> &str {
    j.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {j}"))
}

/// An array field.
pub fn arr(j: &J) -> &Vec<J> {
    j.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {j}"))
}

fn double_str(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d == f64::INFINITY {
        "Infinity".into()
    } else if d == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        format!("{d:?}")
    }
}

/// `{"type": "INTEGER", "value": "123"}` and friends.
pub fn value_json(v: &Value) -> J {
    match v {
        Value::Integer(i) => json!({"type": "INTEGER", "value": i.to_string()}),
        Value::Double(d) => json!({
            "type": "DOUBLE",
            "value": double_str(*d),
            "bits": format!("{:016x}", d.to_bits()),
        }),
        Value::Boolean(b) => json!({"type": "BOOLEAN", "value": b}),
        Value::String(x) => json!({"type": "STRING", "value": x}),
        Value::Binary(b) => json!({"type": "BINARY", "value": hex(b)}),
    }
}

/// Inverse of [`value_json`]; a DOUBLE is read from `bits`.
pub fn value_from_json(j: &J) -> Value {
    match s(&j["type"]) {
        "INTEGER" => Value::Integer(int_str(&j["value"])),
        "DOUBLE" => Value::Double(f64::from_bits(
            u64::from_str_radix(s(&j["bits"]), 16).expect("bits"),
        )),
        "BOOLEAN" => Value::Boolean(j["value"].as_bool().expect("bool")),
        "STRING" => Value::String(s(&j["value"]).to_string()),
        "BINARY" => Value::Binary(unhex(s(&j["value"]))),
        t => panic!("unknown value type {t}"),
    }
}

/// A primary-key value, including the `AUTO_INCREMENT` placeholder.
pub fn pk_value_json(v: &PkValue) -> J {
    match v {
        PkValue::Integer(i) => json!({"type": "INTEGER", "value": i.to_string()}),
        PkValue::String(x) => json!({"type": "STRING", "value": x}),
        PkValue::Binary(b) => json!({"type": "BINARY", "value": hex(b)}),
        PkValue::AutoIncrement => json!({"type": "AUTO_INCREMENT"}),
    }
}

/// Inverse of [`pk_value_json`].
pub fn pk_value_from_json(j: &J) -> PkValue {
    match s(&j["type"]) {
        "INTEGER" => PkValue::Integer(int_str(&j["value"])),
        "STRING" => PkValue::String(s(&j["value"]).to_string()),
        "BINARY" => PkValue::Binary(unhex(s(&j["value"]))),
        "AUTO_INCREMENT" => PkValue::AutoIncrement,
        t => panic!("unknown key type {t}"),
    }
}

/// `[[name, typed], ...]`.
pub fn pk_json(pk: &PrimaryKey) -> J {
    J::Array(
        pk.0.iter()
            .map(|(n, v)| json!([n, pk_value_json(v)]))
            .collect(),
    )
}

/// Inverse of [`pk_json`].
pub fn pk_from_json(j: &J) -> PrimaryKey {
    PrimaryKey(
        arr(j)
            .iter()
            .map(|p| (s(&p[0]).to_string(), pk_value_from_json(&p[1])))
            .collect(),
    )
}

/// A range bound: like a key, with `{"type": "INF_MIN"}` / `{"type": "INF_MAX"}` allowed.
pub fn bound_json(b: &RangeBound) -> J {
    J::Array(
        b.0.iter()
            .map(|(n, p)| match p {
                PkBound::InfMin => json!([n, {"type": "INF_MIN"}]),
                PkBound::InfMax => json!([n, {"type": "INF_MAX"}]),
                PkBound::Value(v) => json!([n, pk_value_json(v)]),
            })
            .collect(),
    )
}

/// Inverse of [`bound_json`].
pub fn bound_from_json(j: &J) -> RangeBound {
    RangeBound(
        arr(j)
            .iter()
            .map(|p| {
                let b = match s(&p[1]["type"]) {
                    "INF_MIN" => PkBound::InfMin,
                    "INF_MAX" => PkBound::InfMax,
                    _ => PkBound::Value(pk_value_from_json(&p[1])),
                };
                (s(&p[0]).to_string(), b)
            })
            .collect(),
    )
}

/// `{"name", "primary_key": [[name, type] | [name, "INTEGER", "AUTO_INCREMENT"]], "max_versions", "time_to_live"}`.
pub fn schema_json(sc: &TableSchema) -> J {
    let pk: Vec<J> = sc
        .primary_key
        .iter()
        .map(|c| {
            if c.auto_increment {
                json!([c.name, c.pk_type.name(), "AUTO_INCREMENT"])
            } else {
                json!([c.name, c.pk_type.name()])
            }
        })
        .collect();
    json!({
        "name": sc.name,
        "primary_key": pk,
        "max_versions": sc.options.max_versions,
        "time_to_live": sc.options.time_to_live,
    })
}

/// Inverse of [`schema_json`].
pub fn schema_from_json(j: &J) -> TableSchema {
    let pk = arr(&j["primary_key"])
        .iter()
        .map(|c| {
            let t = PkType::parse(s(&c[1])).expect("key type");
            let mut col = PkColumn::new(s(&c[0]), t);
            col.auto_increment = c.get(2).and_then(|x| x.as_str()) == Some("AUTO_INCREMENT");
            col
        })
        .collect();
    TableSchema::new(s(&j["name"]), pk).with_options(TableOptions {
        max_versions: j["max_versions"].as_u64().unwrap_or(1) as u32,
        time_to_live: j["time_to_live"].as_i64().unwrap_or(-1),
    })
}

/// A change record (cursor omitted: it is local).
pub fn record_json(r: &ChangeRecord) -> J {
    let cols: Vec<J> = r
        .columns
        .iter()
        .map(|c| match c {
            ColumnOp::Put {
                name,
                value,
                timestamp,
            } => json!({"name": name, "op": "PUT", "value": value_json(value),
                        "timestamp": timestamp.to_string()}),
            ColumnOp::DeleteOneVersion { name, timestamp } => {
                json!({"name": name, "op": "DELETE_ONE_VERSION", "timestamp": timestamp.to_string()})
            }
            ColumnOp::DeleteAllVersions { name } => {
                json!({"name": name, "op": "DELETE_ALL_VERSIONS"})
            }
        })
        .collect();
    json!({
        "origin": r.origin,
        "seq": r.seq.to_string(),
        "stamp": r.stamp.to_string(),
        "table": r.table,
        "kind": r.kind.name(),
        "primary_key": pk_json(&r.primary_key),
        "columns": cols,
    })
}

/// Inverse of [`record_json`] (cursor 0).
pub fn record_from_json(j: &J) -> ChangeRecord {
    let columns = arr(&j["columns"])
        .iter()
        .map(|c| {
            let name = s(&c["name"]).to_string();
            match s(&c["op"]) {
                "PUT" => ColumnOp::Put {
                    name,
                    value: value_from_json(&c["value"]),
                    timestamp: int_str(&c["timestamp"]),
                },
                "DELETE_ONE_VERSION" => ColumnOp::DeleteOneVersion {
                    name,
                    timestamp: int_str(&c["timestamp"]),
                },
                "DELETE_ALL_VERSIONS" => ColumnOp::DeleteAllVersions { name },
                o => panic!("unknown column op {o}"),
            }
        })
        .collect();
    ChangeRecord {
        cursor: 0,
        origin: s(&j["origin"]).to_string(),
        seq: uint_str(&j["seq"]),
        stamp: uint_str(&j["stamp"]),
        table: s(&j["table"]).to_string(),
        kind: ChangeKind::parse(s(&j["kind"])).expect("kind"),
        primary_key: pk_from_json(&j["primary_key"]),
        columns,
    }
}

/// A column condition / filter in the shared shape of API.md.
pub fn column_condition_from_json(j: &J) -> ColumnCondition {
    if let Some(v) = j.get("and") {
        return ColumnCondition::And(arr(v).iter().map(column_condition_from_json).collect());
    }
    if let Some(v) = j.get("or") {
        return ColumnCondition::Or(arr(v).iter().map(column_condition_from_json).collect());
    }
    if let Some(v) = j.get("not") {
        return ColumnCondition::Not(Box::new(column_condition_from_json(v)));
    }
    ColumnCondition::Single {
        column: s(&j["column"]).to_string(),
        op: CompareOp::parse(s(&j["op"])).expect("op"),
        value: value_from_json(&j["value"]),
        pass_if_missing: j
            .get("pass_if_missing")
            .and_then(|x| x.as_bool())
            .unwrap_or(true),
        latest_version_only: j
            .get("latest_version_only")
            .and_then(|x| x.as_bool())
            .unwrap_or(true),
    }
}

/// `"IGNORE"` / `"EXPECT_EXIST"` / `"EXPECT_NOT_EXIST"`, or `{"row": ..., "column": ...}`; absent means IGNORE.
pub fn condition_from_json(j: Option<&J>) -> Condition {
    match j {
        None | Some(J::Null) => Condition::ignore(),
        Some(J::String(x)) => Condition::row(RowExistence::parse(x).expect("row existence")),
        Some(o) => {
            let row = o
                .get("row")
                .and_then(|x| x.as_str())
                .map(|x| RowExistence::parse(x).expect("row existence"))
                .unwrap_or_default();
            let mut c = Condition::row(row);
            if let Some(cc) = o.get("column") {
                c = c.with_column(column_condition_from_json(cc));
            }
            c
        }
    }
}
