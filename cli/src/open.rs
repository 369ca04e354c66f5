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

/// The global `--cache-bytes` (`None`: `--rows-in-memory`), for every
/// directory this process opens.
static CACHE_BYTES: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();

/// Set the page cache every directory is opened with (the global
/// `--cache-bytes`, `None` for `--rows-in-memory`; once per process).
pub fn set_cache_bytes(bytes: Option<u64>) {
    let _ = CACHE_BYTES.set(bytes);
}

/// The options a directory of region `name` is opened with.
pub fn options(name: &str, sync: SyncPolicy) -> DatabaseOptions {
    let o = DatabaseOptions::new(name).sync(sync);
    match CACHE_BYTES.get().copied() {
        Some(Some(bytes)) => o.cache_bytes(bytes),
        Some(None) => o.rows_in_memory(),
        None => o,
    }
}

/// File in which CLIs before the directory manifest recorded a directory's
/// region (one line). Still read, so such a directory opens as the region
/// it was created as (and its manifest then records it); never written.
pub const REGION_FILE: &str = "REGION";
/// Region of a directory made before `REGION` files and manifests existed.
pub const LEGACY_REGION: &str = "local";

/// Open a database directory that must already exist.
pub fn open_existing(dir: &Path, region: Option<&str>, sync: SyncPolicy) -> CliResult<Database> {
    if !dir.is_dir() {
        return Err(file_error(dir, "no such database directory"));
    }
    open_or_create(dir, region, sync)
}

/// Open a database directory, creating it if missing.
///
/// The region name is the one the directory's manifest records (the core
/// refuses `region`, from `--region`, if it differs: `RegionMismatch`). A
/// directory without a manifest gets `region`, or else the name of an old
/// CLI's `REGION` file, or `local` if it already holds a database made
/// before either existed, or else a fresh name (`<directory name>-<8 random
/// hex digits>`, so two directories never share a region by accident); the
/// core records it in the manifest.
pub fn open_or_create(dir: &Path, region: Option<&str>, sync: SyncPolicy) -> CliResult<Database> {
    let name = resolve_region(dir, region)?;
    let mut db = Database::open(dir, options(&name, sync))?;
    // A region of a failover group writes only while it is the primary.
    if let Some(g) = tablesync::replication::files::load_group(dir)? {
        let fence = tablesync::replication::Fence::from_state(&g, &name);
        db.set_write_guard(Some(std::sync::Arc::new(fence)));
    }
    Ok(db)
}

/// The region `dir` holds, as its manifest (or an old CLI's `REGION` file)
/// records it, if either exists.
pub fn recorded_region(dir: &Path) -> CliResult<Option<String>> {
    if let Some(m) = tablesync::storage::fs::read_manifest(&tablesync::storage::vfs::RealFs, dir)? {
        return Ok(Some(m.region));
    }
    legacy_region_file(dir)
}

/// The region name an old CLI's `REGION` file records in `dir`, if any.
fn legacy_region_file(dir: &Path) -> CliResult<Option<String>> {
    let path = dir.join(REGION_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let name = text.trim_end_matches(['\n', '\r']).to_string();
            if name.is_empty() {
                return Err(file_error(&path, "the region file is empty"));
            }
            Ok(Some(name))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(&path, e)),
    }
}

/// The region to open `dir` with.
fn resolve_region(dir: &Path, asked: Option<&str>) -> CliResult<String> {
    if let Some(m) = tablesync::storage::fs::read_manifest(&tablesync::storage::vfs::RealFs, dir)? {
        // A different --region is refused by the open (RegionMismatch).
        return Ok(asked.map_or(m.region, str::to_string));
    }
    if let Some(stored) = legacy_region_file(dir)? {
        return match asked {
            Some(a) if a != stored => Err(tablesync::Error::RegionMismatch(format!(
                "{} holds region '{stored}', not '{a}' (its {REGION_FILE} file says so)",
                dir.display()
            ))
            .into()),
            _ => Ok(stored),
        };
    }
    if let Some(a) = asked {
        return Ok(a.to_string());
    }
    if holds_database(dir) {
        return Ok(LEGACY_REGION.to_string());
    }
    fresh_region_name(dir)
}

/// Whether `dir` already holds log segments or checkpoints.
fn holds_database(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            (name.starts_with("wal-") && name.ends_with(".log"))
                || (name.starts_with("checkpoint-") && name.ends_with(".snap"))
        })
    })
}

/// `<directory name>-<8 hex digits from the OS>`, e.g. `db-b-3f9a1c0e`.
fn fresh_region_name(dir: &Path) -> CliResult<String> {
    let base: String = dir
        .canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    let base = if base.is_empty() || base.chars().all(|c| c == '.') {
        "region".to_string()
    } else {
        base
    };
    Ok(format!("{base}-{:08x}", random_u64()? as u32))
}

/// 64 random bits from the operating system.
pub fn random_u64() -> CliResult<u64> {
    getrandom::u64().map_err(|e| {
        CliError::new(
            crate::error::FILE_IO,
            format!("reading the operating system's randomness: {e}"),
        )
    })
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

/// Parse range-bound arguments; key columns not given get `fill`
/// (`RangeBound::expand` in the core: schema order, a column named twice
/// is refused).
pub fn parse_range_bound(
    schema: &TableSchema,
    args: &[String],
    fill: PkBound,
) -> CliResult<RangeBound> {
    let mut parts = Vec::with_capacity(args.len());
    for arg in args {
        let (name, ty, text) = split_assignment(arg)?;
        let col = find_col(schema, name)?;
        let forced = check_forced_type(col, ty, arg)?;
        parts.push((
            name.to_string(),
            parse_bound_text(col.pk_type, forced, text)
                .map_err(|e| e.context(format!("bound column '{name}'")))?,
        ));
    }
    Ok(RangeBound(parts).expand(schema, fill)?)
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
