//! `check` and `repair`: offline checks of a database directory.

use crate::error::CliResult;
use std::path::Path;
use tablesync::client::offline::{check_dir, repair_dir};
use tablesync::storage::fs::CheckReport;

fn print(rep: &CheckReport) {
    if let Some(r) = &rep.region {
        println!("region      {r}");
    }
    println!("checkpoints {}", rep.checkpoints.len());
    println!(
        "segments    {} ({} records)",
        rep.segments.len(),
        rep.records
    );
    for (t, d) in &rep.tables {
        println!("table       {t} {d} (recomputed from its rows)");
    }
    println!("log         {} records read back", rep.log_records);
    if let Some(t) = &rep.torn_tail {
        println!("torn tail   {t}");
    }
    for p in &rep.problems {
        println!("PROBLEM     {p}");
    }
    println!("{}", if rep.is_ok() { "ok" } else { "DAMAGED" });
}

/// Check (or repair, then check) `dir`; `Ok(true)` when it is sound.
pub fn run(dir: &Path, repair: bool) -> CliResult<bool> {
    let rep = if repair {
        let r = repair_dir(dir)?;
        for a in &r.actions {
            println!("repaired    {a}");
        }
        if r.actions.is_empty() {
            println!("repaired    nothing to do");
        }
        r.after
    } else {
        check_dir(dir)?
    };
    print(&rep);
    Ok(rep.is_ok())
}
