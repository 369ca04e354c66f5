//! Opening a durable directory and reading key arguments against a schema.

use crate::args::SyncArg;
use crate::error::{file_error, CliError, CliResult};
use crate::values::{parse_bound_text, parse_pk_text, split_assignment};
use std::path::Path;
use tablesync::{
    Database, DatabaseOptions, PkBound, PkColumn, PkType, PrimaryKey, RangeBound, SyncPolicy,
    TableSchema,
};

/// The sync policy asked for, or the command's default.
pub fn sync_policy(arg: Option<SyncArg>, default: SyncPolicy) -> SyncPolicy {
    match arg {
        None => default,
        Some(SyncArg::Always) => SyncPolicy::Always,
        Some(SyncArg::Batch) => SyncPolicy::Batch,
        Some(SyncArg::Never) => SyncPolicy::Never,
    }
}

/// Open a database directory that must already exist.
pub fn open_existing(dir: &Path, region: &str, sync: SyncPolicy) -> CliResult<Database> {
    if !dir.is_dir() {
        return Err(file_error(dir, "no such database directory"));
    }
    open_or_create(dir, region, sync)
}

/// Open a database directory, creating it if missing.
pub fn open_or_create(dir: &Path, region: &str, sync: SyncPolicy) -> CliResult<Database> {
    Ok(Database::open(
        dir,
        DatabaseOptions::new(region).sync(sync),
    )?)
}

/// A table's schema.
pub fn schema_of(db: &Database, table: &str) -> CliResult<TableSchema> {
    Ok(db.describe_table(table)?.schema)
}

/// Parse a key-column definition `name:TYPE` or `name:INTEGER:AUTO_INCREMENT`.
pub fn parse_pk_def(s: &str) -> CliResult<PkColumn> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || {
        CliError::arg(format!(
            "primary-key column {s:?} must be name:TYPE (INTEGER, STRING, BINARY) or name:INTEGER:AUTO_INCREMENT"
        ))
    };
    match parts.as_slice() {
        [name, ty] => Ok(PkColumn::new(*name, PkType::parse(ty).ok_or_else(bad)?)),
        [name, ty, auto]
            if PkType::parse(ty) == Some(PkType::Integer)
                && auto.eq_ignore_ascii_case("AUTO_INCREMENT") =>
        {
            Ok(PkColumn::auto_increment(*name))
        }
        _ => Err(bad()),
    }
}

fn check_forced_type(col: &PkColumn, ty: Option<&str>, arg: &str) -> CliResult<bool> {
    match ty {
        None => Ok(false),
        Some(t) if PkType::parse(t) == Some(col.pk_type) => Ok(true),
        Some(t) => Err(CliError::arg(format!(
            "{arg:?}: primary-key column '{}' is {}, not {t}",
            col.name,
            col.pk_type.name()
        ))),
    }
}

fn find_col<'a>(schema: &'a TableSchema, name: &str) -> CliResult<&'a PkColumn> {
    schema
        .primary_key
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            CliError::arg(format!(
                "'{name}' is not a primary-key column of table '{}' (key: {})",
                schema.name,
                key_names(schema)
            ))
        })
}

fn key_names(schema: &TableSchema) -> String {
    schema
        .primary_key
        .iter()
        .map(|c| format!("{}:{}", c.name, c.pk_type.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `--pk name=value` arguments into a full key in schema order.
pub fn parse_primary_key(schema: &TableSchema, args: &[String]) -> CliResult<PrimaryKey> {
    let mut slots = vec![None; schema.primary_key.len()];
    for arg in args {
        let (name, ty, text) = split_assignment(arg)?;
        let col = find_col(schema, name)?;
        check_forced_type(col, ty, arg)?;
        let i = schema
            .primary_key
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(0);
        if slots[i].is_some() {
            return Err(CliError::arg(format!(
                "primary-key column '{name}' given twice"
            )));
        }
        let v = parse_pk_text(col.pk_type, text)
            .map_err(|e| e.context(format!("primary-key column '{name}'")))?;
        slots[i] = Some((name.to_string(), v));
    }
    let mut parts = Vec::with_capacity(slots.len());
    for (slot, col) in slots.into_iter().zip(&schema.primary_key) {
        parts.push(slot.ok_or_else(|| {
            CliError::arg(format!(
                "missing --pk {}=… (table '{}' has key {})",
                col.name,
                schema.name,
                key_names(schema)
            ))
        })?);
    }
    Ok(PrimaryKey(parts))
}

/// Parse range-bound arguments; key columns not given get `fill`.
pub fn parse_range_bound(
    schema: &TableSchema,
    args: &[String],
    fill: PkBound,
) -> CliResult<RangeBound> {
    let mut slots: Vec<Option<PkBound>> = vec![None; schema.primary_key.len()];
    for arg in args {
        let (name, ty, text) = split_assignment(arg)?;
        let col = find_col(schema, name)?;
        let forced = check_forced_type(col, ty, arg)?;
        let i = schema
            .primary_key
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(0);
        if slots[i].is_some() {
            return Err(CliError::arg(format!("bound column '{name}' given twice")));
        }
        slots[i] = Some(
            parse_bound_text(col.pk_type, forced, text)
                .map_err(|e| e.context(format!("bound column '{name}'")))?,
        );
    }
    Ok(RangeBound::new(schema.primary_key.iter().zip(slots).map(
        |(c, s)| (c.name.clone(), s.unwrap_or_else(|| fill.clone())),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> TableSchema {
        TableSchema::new(
            "t",
            vec![
                PkColumn::new("uid", PkType::Integer),
                PkColumn::new("name", PkType::String),
            ],
        )
    }

    #[test]
    fn keys_come_back_in_schema_order() {
        let pk = parse_primary_key(&schema(), &["name=Ada".into(), "uid=1".into()]).unwrap();
        assert_eq!(
            pk,
            PrimaryKey::new([
                ("uid", tablesync::PkValue::Integer(1)),
                ("name", "Ada".into())
            ])
        );
        assert!(parse_primary_key(&schema(), &["uid=1".into()]).is_err());
        assert!(parse_primary_key(&schema(), &["uid=x".into(), "name=a".into()]).is_err());
        assert!(parse_primary_key(
            &schema(),
            &["uid=1".into(), "uid=2".into(), "name=a".into()]
        )
        .is_err());
        assert!(parse_primary_key(&schema(), &["uid:STRING=1".into(), "name=a".into()]).is_err());
        assert!(parse_primary_key(&schema(), &["x=1".into(), "name=a".into()]).is_err());
    }

    #[test]
    fn bounds_fill_missing_columns() {
        let b = parse_range_bound(&schema(), &["uid=5".into()], PkBound::InfMin).unwrap();
        assert_eq!(b.0[1].1, PkBound::InfMin);
        let b = parse_range_bound(&schema(), &["name=INF_MAX".into()], PkBound::InfMin).unwrap();
        assert_eq!(b.0[0].1, PkBound::InfMin);
        assert_eq!(b.0[1].1, PkBound::InfMax);
        let b =
            parse_range_bound(&schema(), &["name:STRING=INF_MAX".into()], PkBound::InfMin).unwrap();
        assert_eq!(b.0[1].1, PkBound::Value("INF_MAX".into()));
    }

    #[test]
    fn key_definitions() {
        assert_eq!(
            parse_pk_def("uid:INTEGER").unwrap(),
            PkColumn::new("uid", PkType::Integer)
        );
        assert!(
            parse_pk_def("id:integer:auto_increment")
                .unwrap()
                .auto_increment
        );
        assert!(parse_pk_def("uid").is_err());
        assert!(parse_pk_def("uid:DOUBLE").is_err());
        assert!(parse_pk_def("n:STRING:AUTO_INCREMENT").is_err());
    }
}
