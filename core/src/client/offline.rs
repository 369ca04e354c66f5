//! Offline check and repair of a durable region's directory:
//! [`check_dir`] reads every checkpoint and segment, replays them in memory
//! and recomputes every table's digest from its rows; [`repair_dir`] cuts a
//! damaged tail (keeping the bytes) and checks again. The `*_in` forms do
//! the same on any [`Vfs`] (the simulated disk in tests).

use super::{Database, DatabaseOptions};
use crate::clock::ManualClock;
use crate::model::error::{Error, Result};
use crate::storage::fs::{repair_files_in, scan_dir_in, CheckReport, ReadOnly, RepairReport};
use crate::storage::vfs::{RealFs, Vfs};
use std::path::Path;
use std::sync::Arc;

/// Check `dir` read-only (no lock, nothing cut or written).
pub fn check_dir(dir: &Path) -> Result<CheckReport> {
    check_dir_in(&RealFs, dir)
}

/// Check `dir` on `vfs` read-only (no lock, nothing cut or written).
pub fn check_dir_in<V: Vfs>(vfs: &V, dir: &Path) -> Result<CheckReport> {
    let (mut rep, recovered) = scan_dir_in(vfs, dir)?;
    if let Some(snap) = &recovered.snapshot {
        match Database::import_snapshot(snap, Arc::new(ManualClock::new(0))) {
            Ok(db) => {
                if let Some(m) = rep.region.as_deref().filter(|&m| m != db.region()) {
                    rep.problems.push(format!(
                        "the MANIFEST names region '{m}' but the newest checkpoint is of region '{}'",
                        db.region()
                    ));
                }
                rep.region = Some(db.region().to_string());
            }
            Err(e) => rep.problems.push(format!("newest checkpoint: {e}")),
        }
    }
    if !rep.problems.is_empty() {
        return Ok(rep);
    }
    let region = rep.region.clone().unwrap_or_else(|| "offline-check".into());
    // Stamps are the region's own history here: no drift limit applies.
    let options = DatabaseOptions::with_clock(region, Arc::new(ManualClock::new(0)))
        .max_clock_drift(i64::MAX);
    match Database::with_storage(options, Box::new(ReadOnly(Some(recovered)))) {
        Ok(db) => {
            for t in db.list_tables()? {
                match db.verify_table_digest(&t) {
                    Ok(d) => rep.tables.push((t, d)),
                    Err(e) => rep.problems.push(e.to_string()),
                }
            }
            match check_log(&db) {
                Ok(n) => rep.log_records = n,
                Err(e) => rep.problems.push(format!("change log: {e}")),
            }
        }
        Err(e) => rep.problems.push(format!("replaying the log: {e}")),
    }
    Ok(rep)
}

/// Read back every record the region's change log keeps (those a paged
/// region moved into its page store included) and decode it, checking the
/// cursors run consecutively up to the next one; the number of records.
fn check_log(db: &Database) -> Result<u64> {
    let (mut cursor, mut expect, mut n) = (0, None, 0u64);
    loop {
        let page = db.changes_since(cursor, 1024)?;
        if page.records.is_empty() {
            break;
        }
        for r in &page.records {
            if expect.is_some_and(|e| e != r.cursor) {
                return Err(Error::corrupt(format!(
                    "record at cursor {} where {} was expected",
                    r.cursor,
                    expect.unwrap_or_default()
                )));
            }
            expect = Some(r.cursor + 1);
            n += 1;
        }
        cursor = page.next_cursor;
    }
    let next = db.next_cursor()?;
    if expect.is_some_and(|e| e != next) {
        return Err(Error::corrupt(format!(
            "the records end before cursor {next}, the log's next one"
        )));
    }
    Ok(n)
}

/// Repair what can be repaired without guessing (see
/// [`repair_files`](crate::storage::fs::repair_files)), keeping every
/// removed byte, then check again.
pub fn repair_dir(dir: &Path) -> Result<RepairReport> {
    repair_dir_in(&RealFs, dir)
}

/// [`repair_dir`] on `vfs`.
pub fn repair_dir_in<V: Vfs>(vfs: &V, dir: &Path) -> Result<RepairReport> {
    let actions = repair_files_in(vfs, dir)?;
    Ok(RepairReport {
        actions,
        after: check_dir_in(vfs, dir)?,
    })
}
