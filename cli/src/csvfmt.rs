//! Rows as CSV with a typed header.
//!
//! The header names each field `name:TYPE`:
//! - primary-key columns (`uid:INTEGER`, `name:STRING`, `key:BINARY`), which must
//!   match the table's schema;
//! - attribute columns (`age:INTEGER`, `score:DOUBLE`, `ok:BOOLEAN`,
//!   `name:STRING`, `blob:BINARY`); a column that holds values of different
//!   types in different rows gets one field per type;
//! - `name:TIMESTAMP`: the version timestamp (ms) of column `name`'s value.
//!
//! An empty field means the column is absent from that row, except that a
//! STRING or BINARY field with a non-empty `TIMESTAMP` holds the empty value.
//! BINARY fields are standard base64; DOUBLE fields print the shortest text
//! that reads back to the same bits (`NaN`, `inf`, `-inf` included).

use crate::error::{CliError, CliResult};
use crate::values::{
    parse_integer, parse_pk_text, parse_typed, parse_value_type, pk_text, value_text,
};
use std::collections::{BTreeMap, BTreeSet};
use tablesync::{Column, PrimaryKey, Row, TableSchema, Value, ValueType};

/// What one header field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// The primary-key column at this schema index.
    Pk(usize),
    /// An attribute value of one type.
    Value(String, ValueType),
    /// The version timestamp of an attribute.
    Timestamp(String),
}

/// A parsed header.
#[derive(Clone, Debug)]
pub struct Header {
    /// One entry per CSV field.
    pub fields: Vec<Field>,
}

impl Header {
    /// Read a header against the table schema.
    pub fn parse(schema: &TableSchema, names: &[&str]) -> CliResult<Header> {
        let mut fields = Vec::with_capacity(names.len());
        let mut seen = BTreeSet::new();
        let mut pk_seen = vec![false; schema.primary_key.len()];
        for raw in names {
            let (name, ty) = raw.rsplit_once(':').ok_or_else(|| {
                CliError::input(format!("header field {raw:?} must be name:TYPE"))
            })?;
            if !seen.insert((name.to_string(), ty.to_ascii_uppercase())) {
                return Err(CliError::input(format!(
                    "header field {raw:?} appears twice"
                )));
            }
            if let Some(i) = schema.primary_key.iter().position(|c| c.name == name) {
                let col = &schema.primary_key[i];
                if !ty.eq_ignore_ascii_case(col.pk_type.name()) {
                    return Err(CliError::input(format!(
                        "header field {raw:?}: primary-key column '{name}' is {}",
                        col.pk_type.name()
                    )));
                }
                pk_seen[i] = true;
                fields.push(Field::Pk(i));
            } else if ty.eq_ignore_ascii_case("TIMESTAMP") {
                fields.push(Field::Timestamp(name.to_string()));
            } else {
                let vt = parse_value_type(ty).ok_or_else(|| {
                    CliError::input(format!(
                        "header field {raw:?}: unknown type (INTEGER, DOUBLE, BOOLEAN, STRING, BINARY, TIMESTAMP)"
                    ))
                })?;
                fields.push(Field::Value(name.to_string(), vt));
            }
        }
        if let Some(i) = pk_seen.iter().position(|s| !s) {
            return Err(CliError::input(format!(
                "the header lacks primary-key column '{}:{}'",
                schema.primary_key[i].name,
                schema.primary_key[i].pk_type.name()
            )));
        }
        for f in &fields {
            if let Field::Timestamp(n) = f {
                if !fields
                    .iter()
                    .any(|g| matches!(g, Field::Value(m, _) if m == n))
                {
                    return Err(CliError::input(format!(
                        "header field '{n}:TIMESTAMP' has no value field for '{n}'"
                    )));
                }
            }
        }
        Ok(Header { fields })
    }

    /// Turn one record into a key and the columns to put.
    pub fn row(
        &self,
        schema: &TableSchema,
        record: &[&str],
    ) -> CliResult<(PrimaryKey, Vec<Column>)> {
        if record.len() != self.fields.len() {
            return Err(CliError::input(format!(
                "{} fields, the header has {}",
                record.len(),
                self.fields.len()
            )));
        }
        let mut pk = vec![None; schema.primary_key.len()];
        let mut values: BTreeMap<&str, Vec<(ValueType, &str)>> = BTreeMap::new();
        let mut stamps: BTreeMap<&str, i64> = BTreeMap::new();
        for (f, text) in self.fields.iter().zip(record) {
            match f {
                Field::Pk(i) => {
                    let col = &schema.primary_key[*i];
                    let v = parse_pk_text(col.pk_type, text).map_err(|e| {
                        CliError::input(e.message)
                            .context(format!("primary-key column '{}'", col.name))
                    })?;
                    pk[*i] = Some((col.name.clone(), v));
                }
                Field::Value(name, ty) => values.entry(name).or_default().push((*ty, text)),
                Field::Timestamp(name) if !text.is_empty() => {
                    let ts = parse_integer(text).map_err(|e| {
                        CliError::input(e.message).context(format!("timestamp of '{name}'"))
                    })?;
                    stamps.insert(name, ts);
                }
                Field::Timestamp(_) => {}
            }
        }
        let pk = PrimaryKey(
            pk.into_iter()
                .map(|p| p.expect("every key field parsed"))
                .collect(),
        );
        let mut columns = Vec::new();
        for (name, candidates) in values {
            let ts = stamps.get(name).copied();
            let filled: Vec<_> = candidates.iter().filter(|(_, t)| !t.is_empty()).collect();
            let value = match (filled.as_slice(), ts) {
                ([], None) => continue,
                ([(ty, text)], _) => parse_typed(*ty, text)
                    .map_err(|e| CliError::input(e.message).context(format!("column '{name}'")))?,
                ([], Some(_)) => {
                    let empties: Vec<_> = candidates
                        .iter()
                        .filter(|(ty, _)| matches!(ty, ValueType::String | ValueType::Binary))
                        .collect();
                    match empties.as_slice() {
                        [(ValueType::String, _)] => Value::String(String::new()),
                        [(ValueType::Binary, _)] => Value::Binary(Vec::new()),
                        _ => {
                            return Err(CliError::input(format!(
                                "column '{name}' has a timestamp but no value"
                            )))
                        }
                    }
                }
                _ => {
                    return Err(CliError::input(format!(
                        "column '{name}' has values in more than one typed field"
                    )))
                }
            };
            let mut c = Column::new(name.to_string(), value);
            if let Some(ts) = ts {
                c = c.at(ts);
            }
            columns.push(c);
        }
        Ok((pk, columns))
    }
}

/// The header an export writes, learned from the rows it will write.
#[derive(Clone, Debug, Default)]
pub struct ExportLayout {
    /// Attribute columns and the types seen for each.
    columns: BTreeMap<String, BTreeSet<ValueType>>,
    /// Whether to write `TIMESTAMP` fields.
    timestamps: bool,
}

impl ExportLayout {
    /// An empty layout.
    pub fn new(timestamps: bool) -> Self {
        ExportLayout {
            columns: BTreeMap::new(),
            timestamps,
        }
    }

    /// Learn one row's columns; CSV cannot hold several versions of one column.
    pub fn observe(&mut self, row: &Row) -> CliResult<()> {
        let mut prev: Option<&str> = None;
        for c in &row.cells {
            if prev == Some(c.name.as_str()) {
                return Err(CliError::arg(format!(
                    "column '{}' has more than one version; CSV holds one per column (use --format jsonl)",
                    c.name
                )));
            }
            prev = Some(&c.name);
            if !self.timestamps
                && matches!(&c.value, Value::String(s) if s.is_empty())
                    | matches!(&c.value, Value::Binary(b) if b.is_empty())
            {
                return Err(CliError::arg(format!(
                    "column '{}' holds an empty value, which CSV without timestamps cannot tell from a missing one (drop --no-timestamps or use --format jsonl)",
                    c.name
                )));
            }
            self.columns
                .entry(c.name.clone())
                .or_default()
                .insert(c.value.value_type());
        }
        Ok(())
    }

    fn fields(&self, schema: &TableSchema) -> Vec<Field> {
        let mut out: Vec<Field> = (0..schema.primary_key.len()).map(Field::Pk).collect();
        for (name, types) in &self.columns {
            for t in types {
                out.push(Field::Value(name.clone(), *t));
            }
            if self.timestamps {
                out.push(Field::Timestamp(name.clone()));
            }
        }
        out
    }

    /// The header record.
    pub fn header(&self, schema: &TableSchema) -> Vec<String> {
        self.fields(schema)
            .into_iter()
            .map(|f| match f {
                Field::Pk(i) => format!(
                    "{}:{}",
                    schema.primary_key[i].name,
                    schema.primary_key[i].pk_type.name()
                ),
                Field::Value(n, t) => format!("{n}:{}", t.name()),
                Field::Timestamp(n) => format!("{n}:TIMESTAMP"),
            })
            .collect()
    }

    /// One row's record.
    pub fn record(&self, schema: &TableSchema, row: &Row) -> Vec<String> {
        self.fields(schema)
            .into_iter()
            .map(|f| match f {
                Field::Pk(i) => pk_text(&row.primary_key.columns()[i].1),
                Field::Value(n, t) => row
                    .cells
                    .iter()
                    .find(|c| c.name == n && c.value.value_type() == t)
                    .map(|c| value_text(&c.value))
                    .unwrap_or_default(),
                Field::Timestamp(n) => row
                    .cells
                    .iter()
                    .find(|c| c.name == n)
                    .map(|c| c.timestamp.to_string())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tablesync::{Cell, PkColumn, PkType, PkValue};

    fn schema() -> TableSchema {
        TableSchema::new(
            "t",
            vec![
                PkColumn::new("uid", PkType::Integer),
                PkColumn::new("s", PkType::String),
            ],
        )
    }

    #[test]
    fn export_then_parse_keeps_types_empties_and_timestamps() {
        let rows = vec![
            Row {
                primary_key: PrimaryKey::new([
                    ("uid", PkValue::Integer(1)),
                    ("s", PkValue::from("a,b")),
                ]),
                cells: vec![
                    Cell {
                        name: "age".into(),
                        value: Value::Integer(3),
                        timestamp: 100,
                    },
                    Cell {
                        name: "e".into(),
                        value: Value::String(String::new()),
                        timestamp: 7,
                    },
                ],
            },
            Row {
                primary_key: PrimaryKey::new([
                    ("uid", PkValue::Integer(2)),
                    ("s", PkValue::from("")),
                ]),
                cells: vec![Cell {
                    name: "age".into(),
                    value: Value::Double(3.0),
                    timestamp: 9,
                }],
            },
        ];
        let s = schema();
        let mut layout = ExportLayout::new(true);
        for r in &rows {
            layout.observe(r).unwrap();
        }
        let header = layout.header(&s);
        assert_eq!(
            header,
            [
                "uid:INTEGER",
                "s:STRING",
                "age:INTEGER",
                "age:DOUBLE",
                "age:TIMESTAMP",
                "e:STRING",
                "e:TIMESTAMP"
            ]
        );
        let h = Header::parse(&s, &header.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        for r in &rows {
            let rec = layout.record(&s, r);
            let (pk, cols) = h
                .row(&s, &rec.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap();
            assert_eq!(pk, r.primary_key);
            let want: Vec<Column> = r
                .cells
                .iter()
                .map(|c| Column::new(c.name.clone(), c.value.clone()).at(c.timestamp))
                .collect();
            assert_eq!(cols, want);
        }
    }

    #[test]
    fn bad_headers_and_records_are_refused() {
        let s = schema();
        assert!(Header::parse(&s, &["uid:INTEGER"]).is_err());
        assert!(Header::parse(&s, &["uid:STRING", "s:STRING"]).is_err());
        assert!(Header::parse(&s, &["uid:INTEGER", "s:STRING", "x"]).is_err());
        assert!(Header::parse(&s, &["uid:INTEGER", "s:STRING", "x:FLOAT"]).is_err());
        assert!(Header::parse(&s, &["uid:INTEGER", "s:STRING", "x:TIMESTAMP"]).is_err());
        let h = Header::parse(&s, &["uid:INTEGER", "s:STRING", "x:INTEGER", "x:STRING"]).unwrap();
        assert!(h.row(&s, &["1", "a", "2", "b"]).is_err());
        assert!(h.row(&s, &["one", "a", "", ""]).is_err());
        assert!(h.row(&s, &["1", "a", "2"]).is_err());
        assert_eq!(h.row(&s, &["1", "a", "", ""]).unwrap().1, vec![]);
    }

    #[test]
    fn layout_refuses_what_csv_cannot_hold() {
        let mut l = ExportLayout::new(true);
        let two_versions = Row {
            primary_key: PrimaryKey::new([("uid", 1)]),
            cells: vec![
                Cell {
                    name: "a".into(),
                    value: Value::Integer(1),
                    timestamp: 2,
                },
                Cell {
                    name: "a".into(),
                    value: Value::Integer(0),
                    timestamp: 1,
                },
            ],
        };
        assert!(l.observe(&two_versions).is_err());
        let mut l = ExportLayout::new(false);
        let empty = Row {
            primary_key: PrimaryKey::new([("uid", 1)]),
            cells: vec![Cell {
                name: "a".into(),
                value: Value::String(String::new()),
                timestamp: 2,
            }],
        };
        assert!(l.observe(&empty).is_err());
    }
}
