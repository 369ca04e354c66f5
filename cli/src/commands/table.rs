//! `create-table` and `tables`.

use crate::error::CliResult;
use crate::open::{open_existing, open_or_create, parse_pk_def};
use std::path::Path;
use tablesync::{SyncPolicy, TableOptions, TableSchema};

/// Create a table.
pub fn create(
    dir: &Path,
    region: Option<&str>,
    sync: SyncPolicy,
    table: &str,
    pk: &[String],
    max_versions: Option<u32>,
    ttl: Option<i64>,
) -> CliResult<()> {
    let columns = pk
        .iter()
        .map(|s| parse_pk_def(s))
        .collect::<CliResult<Vec<_>>>()?;
    let defaults = TableOptions::default();
    let schema = TableSchema::new(table, columns).with_options(TableOptions {
        max_versions: max_versions.unwrap_or(defaults.max_versions),
        time_to_live: ttl.unwrap_or(defaults.time_to_live),
    });
    schema.validate()?;
    let mut db = open_or_create(dir, region, sync)?;
    db.create_table(schema)?;
    db.close()?;
    println!("created table '{table}' in {}", dir.display());
    Ok(())
}

/// List tables.
pub fn list(dir: &Path, region: Option<&str>) -> CliResult<()> {
    let mut db = open_existing(dir, region, SyncPolicy::Always)?;
    for name in db.list_tables()? {
        let d = db.describe_table(&name)?;
        let key: Vec<String> = d
            .schema
            .primary_key
            .iter()
            .map(|c| {
                format!(
                    "{}:{}{}",
                    c.name,
                    c.pk_type.name(),
                    if c.auto_increment {
                        ":AUTO_INCREMENT"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        println!(
            "{name}\tkey={}\tmax_versions={}\tttl={}\trows={}",
            key.join(","),
            d.schema.options.max_versions,
            d.schema.options.time_to_live,
            d.row_count
        );
    }
    db.close()?;
    Ok(())
}
