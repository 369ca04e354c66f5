//! One module per group of subcommands.

mod demo;
mod inspect;
mod rows;
mod table;
mod transfer;

use crate::args::{Cli, Command, ConditionArg};
use crate::error::{CliError, CliResult, FILE_IO};
use tablesync::{Condition, RowExistence, SyncPolicy};

/// Run one parsed command line.
pub fn run(cli: Cli) -> CliResult<()> {
    let region = cli.region.as_str();
    let sync = |default: SyncPolicy| crate::open::sync_policy(cli.sync, default);
    match cli.command {
        Command::Demo(a) => demo::run(&a, region, sync(SyncPolicy::Batch)),
        Command::CreateTable {
            dir,
            table,
            pk,
            max_versions,
            ttl,
        } => table::create(
            &dir,
            region,
            sync(SyncPolicy::Always),
            &table,
            &pk,
            max_versions,
            ttl,
        ),
        Command::Tables { dir } => table::list(&dir, region),
        Command::Put {
            dir,
            table,
            pk,
            col,
            timestamp,
            condition,
        } => rows::put(
            &dir,
            region,
            sync(SyncPolicy::Always),
            &table,
            &pk,
            &col,
            timestamp,
            condition,
        ),
        Command::Get {
            dir,
            table,
            pk,
            max_versions,
            columns,
        } => rows::get(&dir, region, &table, &pk, max_versions, columns),
        Command::Delete {
            dir,
            table,
            pk,
            condition,
        } => rows::delete(
            &dir,
            region,
            sync(SyncPolicy::Always),
            &table,
            &pk,
            condition,
        ),
        Command::Scan(a) => rows::scan(&a, region),
        Command::Import(a) => transfer::import(&a, region, sync(SyncPolicy::Batch)),
        Command::Export(a) => transfer::export(&a, region),
        Command::Digest { dir, table, verify } => inspect::digest(&dir, region, &table, verify),
        Command::Log { dir, since, limit } => inspect::log(&dir, region, since, limit),
    }
}

/// The core condition for a `--condition` value.
pub fn condition(c: ConditionArg) -> Condition {
    match c {
        ConditionArg::Ignore => Condition::ignore(),
        ConditionArg::ExpectExist => Condition::row(RowExistence::ExpectExist),
        ConditionArg::ExpectNotExist => Condition::row(RowExistence::ExpectNotExist),
    }
}

/// Turn a failed write to standard output into an error; a closed pipe
/// (`tablesync scan … | head`) ends the program quietly instead.
pub fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    CliError::new(FILE_IO, format!("standard output: {e}"))
}
