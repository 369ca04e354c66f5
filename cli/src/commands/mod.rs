//! One module per group of subcommands.

mod backup;
mod check;
mod cluster;
mod cluster_move;
mod cluster_status;
mod copy;
mod demo;
mod demo_cluster;
mod demo_sync;
mod failover;
mod group_remote;
mod inspect;
mod replicate;
mod replicate_bench;
mod replicate_plot;
mod rows;
mod serve;
mod serve_ots;
mod sides;
mod status;
mod summary;
mod sync;
mod table;
mod transfer;

use crate::args::{Cli, Command, ConditionArg};
use crate::error::{CliError, CliResult, FILE_IO};
use tablesync::{Condition, RowExistence, SyncPolicy};

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit status 0).
    Done,
    /// `verify` found differences (exit status 1).
    Differ,
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> CliResult<Outcome> {
    crate::open::set_cache_bytes(if cli.rows_in_memory {
        None
    } else {
        Some(cli.cache_bytes.unwrap_or(tablesync::DEFAULT_CACHE_BYTES))
    });
    if let Command::Check { dir } | Command::Repair { dir } = &cli.command {
        let repair = matches!(cli.command, Command::Repair { .. });
        return Ok(if check::run(dir, repair)? {
            Outcome::Done
        } else {
            Outcome::Differ
        });
    }
    if let Command::Verify(a) = &cli.command {
        return Ok(if sync::verify(a, cli.region.as_deref())? {
            Outcome::Done
        } else {
            Outcome::Differ
        });
    }
    if let Command::Backup(a) = &cli.command {
        return backup::run(a, cli.region.as_deref());
    }
    run_other(cli).map(|()| Outcome::Done)
}

fn run_other(cli: Cli) -> CliResult<()> {
    let region = cli.region.as_deref();
    let sync = |default: SyncPolicy| crate::open::sync_policy(cli.sync, default);
    match cli.command {
        Command::Demo(a) if a.cluster => demo_cluster::run(&a),
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
        Command::Sync(a) => sync::sync(&a, region, sync(SyncPolicy::Batch)),
        Command::Verify(a) => sync::verify(&a, region).map(|_| ()),
        Command::CopyTable(a) => copy::copy_table(&a, region, sync(SyncPolicy::Batch)),
        Command::Serve(a) => serve::serve(&a, region, sync(SyncPolicy::Always)),
        Command::Cluster(a) => cluster::run(&a),
        Command::Replicate(a) => replicate::replicate(&a, region, sync(SyncPolicy::Batch)),
        Command::Status(a) => status::status(&a, region),
        Command::Failover(a) => failover::failover(&a),
        Command::Failback(a) => failover::failback(&a),
        Command::Restore(a) => backup::restore(&a, region, sync(SyncPolicy::Batch)),
        Command::Backup(a) => backup::run(&a, region).map(|_| ()),
        Command::Check { dir } | Command::Repair { dir } => check::run(&dir, false).map(|_| ()),
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
