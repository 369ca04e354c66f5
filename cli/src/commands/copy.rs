//! `copy-table`: a table's visible rows into a new table, here or in another directory.

use crate::args::CopyTableArgs;
use crate::error::{CliError, CliResult};
use crate::open::{open_existing, open_or_create};
use crate::progress;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use tablesync::{CopyProgress, SyncPolicy};

/// Code of a copy whose digest differs from its source's.
pub const COPY_CHECK: &str = "CopyCheckFailed";

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// `tablesync copy-table`.
pub fn copy_table(a: &CopyTableArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    let same = same_dir(&a.src_dir, &a.dst_dir);
    if !same && region.is_some() {
        return Err(CliError::arg(
            "--region names one directory's region; with two directories each keeps its own (recorded in its MANIFEST)",
        ));
    }
    let mut src = open_existing(&a.src_dir, region, policy)?;
    let total = src.describe_table(&a.source_table)?.row_count;
    let bar = progress::rows(total, "copying");
    // Ctrl-C cancels between chunks: the copy stops with `Cancelled`, the
    // chunks committed so far stay (docs/cli.md), and both directories are
    // closed cleanly (fsynced) before the command exits.
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let _ = ctrlc::set_handler(move || stop2.store(true, Ordering::SeqCst));
    let mut on_progress = |p: CopyProgress| {
        bar.set_length(p.total);
        bar.set_position(p.copied);
        if stop.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let (copied, source_digest, copy_digest) = if same {
        let n = src.copy_table(&a.source_table, &a.target_table, &mut on_progress);
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                bar.abandon();
                src.close()?;
                return Err(e.into());
            }
        };
        let d = (
            src.table_digest(&a.source_table)?,
            src.table_digest(&a.target_table)?,
        );
        src.close()?;
        (n, d.0, d.1)
    } else {
        let mut dst = open_or_create(&a.dst_dir, None, policy)?;
        let n = src.copy_table_to(&a.source_table, &mut dst, &a.target_table, &mut on_progress);
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                bar.abandon();
                dst.close()?;
                src.close()?;
                return Err(e.into());
            }
        };
        let d = (
            src.table_digest(&a.source_table)?,
            dst.table_digest(&a.target_table)?,
        );
        dst.close()?;
        src.close()?;
        (n, d.0, d.1)
    };
    bar.finish_and_clear();
    if source_digest != copy_digest {
        return Err(CliError::new(
            COPY_CHECK,
            format!("the copy's digest {copy_digest} differs from the source's {source_digest}"),
        ));
    }
    println!(
        "copied {copied} rows of '{}' ({}) into '{}' ({}); digest {copy_digest}, equal to the source's",
        a.source_table,
        a.src_dir.display(),
        a.target_table,
        a.dst_dir.display()
    );
    Ok(())
}
