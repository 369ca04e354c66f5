//! `tablesync`: the command-line tool.
//!
//! `tablesync demo` walks through a durable region end to end, then syncs it
//! with a second one; the other subcommands work on durable directories:
//! create tables, put/get/delete rows, scan ranges, import and export CSV or
//! JSON Lines, print and verify table digests, read the change log, copy
//! tables, sync and verify two regions (directories, or a directory and a
//! `tablesync serve` server). See `docs/cli.md`.

mod args;
mod backup_args;
mod cluster_args;
mod commands;
mod csvfmt;
mod error;
mod open;
mod progress;
mod rowjson;
mod values;

use clap::Parser;

/// mimalloc instead of the system allocator: glibc's malloc spends more time
/// than the engine on the many small row and record allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use error::{CliError, USAGE};

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                std::process::exit(if e.use_stderr() { 2 } else { 0 });
            }
            // Clap renders several lines (usage, tips); keep the first, which names the problem.
            let rendered = e.to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            let msg = if first.is_empty() {
                "invalid command line"
            } else {
                first
            };
            eprintln!(
                "{}",
                CliError::new(USAGE, format!("{msg} (see 'tablesync --help')")).line()
            );
            std::process::exit(2);
        }
    };
    // `verify` answers like cmp(1): 0 same, 1 different, 2 trouble.
    let verify = matches!(cli.command, args::Command::Verify(_));
    match commands::run(cli) {
        Ok(commands::Outcome::Done) => {}
        Ok(commands::Outcome::Differ) => std::process::exit(1),
        Err(e) => {
            eprintln!("{}", e.line());
            std::process::exit(if verify { 2 } else { 1 });
        }
    }
}
