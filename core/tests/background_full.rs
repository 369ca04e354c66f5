//! Background full checkpoints (issues 11 and 13; FORMAT.md §12
//! "Background full checkpoint"): when a background-delta driver needs a
//! full checkpoint (the region has none yet, a background checkpoint
//! failed, the chain is at its limit), `begin_delta` takes the whole region
//! as shared bytes under the lock and `DeltaCheckpoint::run` encodes,
//! compresses and writes the snapshot off it; `finish_delta` installs it as
//! the base. Same bytes as the inline `checkpoint_full`; crash points are
//! in power_loss.rs.

mod checkpoint_support;

use checkpoint_support::*;
use std::path::Path;
use tablesync::storage::vfs::{CrashMode, FaultPlan, SimFs};
use tablesync::{Condition, Database, ManualClock, PrimaryKey};

/// A region with tables `t` (rows 0..300, some replaced and deleted) and
/// `u`, no checkpoint yet, background deltas and folds on.
fn region(dir: &Path, clock: &ManualClock) -> Database {
    let mut db = Database::open(dir, options(clock, 1 << 30)).unwrap();
    db.set_background_deltas(true);
    db.set_background_folds(true);
    db.create_table(schema("t")).unwrap();
    db.create_table(schema("u")).unwrap();
    for k in 0..300 {
        clock.advance(1);
        put(&mut db, "t", k, &format!("first-{k:040}"));
    }
    for k in 0..30 {
        clock.advance(1);
        put(&mut db, "t", k * 7, "replaced");
        put(&mut db, "u", k, "other table");
        db.delete_row(
            "t",
            PrimaryKey::new([("k", k * 5 + 1)]),
            Condition::ignore(),
        )
        .unwrap();
    }
    db
}

fn change(db: &mut Database, clock: &ManualClock, round: i64) {
    for k in 0..25 {
        clock.advance(1);
        put(db, "t", k * 11, &format!("round-{round}-{k}"));
        put(db, "u", 100 + round * 25 + k, "new");
    }
}

/// The full checkpoint `begin_delta` must write (the region has none).
fn begin_full(db: &mut Database) -> tablesync::DeltaCheckpoint {
    let c = db.begin_delta().unwrap().expect("a checkpoint to write");
    assert!(c.is_full(), "{c:?}");
    c
}

/// Same state, inline `checkpoint_full` vs the background full checkpoint:
/// the same checkpoint file, byte for byte, and the same log left.
#[test]
fn a_background_full_checkpoint_has_the_bytes_of_an_inline_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("inline"), tmp.path().join("background"));
    let (ca, cb) = (ManualClock::new(T0), ManualClock::new(T0));
    let mut inline = region(&a, &ca);
    let mut bg = region(&b, &cb);
    inline.checkpoint_full().unwrap();
    let c = begin_full(&mut bg);
    let done = c.run();
    assert!(done.is_full());
    assert!(bg.finish_delta(done).unwrap());
    let (fa, fb) = (files(&a, "checkpoint-"), files(&b, "checkpoint-"));
    assert_eq!(names(&a, ".snap").len(), 1, "{:?}", fa.keys());
    assert_eq!(fa, fb);
    // The snapshot inside is export_snapshot's.
    let snap = &fb.values().next().unwrap()[28..];
    assert_eq!(snap, &bg.export_snapshot().unwrap()[..]);
    // Deltas follow on the new base, as after the inline one.
    change(&mut inline, &ca, 0);
    change(&mut bg, &cb, 0);
    inline.checkpoint().unwrap();
    let d = bg.begin_delta().unwrap().expect("a delta");
    assert!(!d.is_full());
    assert!(bg.finish_delta(d.run()).unwrap());
    assert_eq!(files(&a, "checkpoint-"), files(&b, "checkpoint-"));
    assert_eq!(names(&b, ".delta").len(), 1);
}

/// Rows changed while the full checkpoint is in flight go into the next
/// delta, on the new base; no commit writes a checkpoint meanwhile; the
/// segments go only at the install; reopening from the checkpoints alone
/// gives the region back.
#[test]
fn rows_changed_while_it_runs_go_into_the_next_delta() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = region(&dir, &clock);
    let wal = files(&dir, "wal-").into_keys().collect::<Vec<_>>();
    let c = begin_full(&mut db);
    assert!(
        db.begin_delta().unwrap().is_none(),
        "one checkpoint at a time"
    );
    assert!(!db.delta_due());
    change(&mut db, &clock, 0);
    let done = c.run();
    assert!(names(&dir, ".snap").len() == 1);
    let now = files(&dir, "wal-").into_keys().collect::<Vec<_>>();
    assert!(wal.iter().all(|w| now.contains(w)), "{wal:?} → {now:?}");
    let covers = done.covers();
    assert!(db.finish_delta(done).unwrap());
    let d = db.begin_delta().unwrap().expect("a delta");
    assert!(!d.is_full());
    assert!(db.finish_delta(d.run()).unwrap());
    let deltas = names(&dir, ".delta");
    assert_eq!(deltas.len(), 1);
    assert_eq!(
        names(&dir, ".snap"),
        vec![format!("checkpoint-{covers:020}.snap")]
    );
    let want = db.export_snapshot().unwrap();
    drop(db);
    reopens_from_checkpoints_alone(&dir, &clock, &want);
}

/// A crash after the full checkpoint began, or after it ran but before it
/// was installed, loses nothing (every segment is still there; a written
/// file is a correct checkpoint of a prefix of the log).
#[test]
fn a_crash_before_the_install_loses_nothing() {
    for ran in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock);
        let c = begin_full(&mut db);
        change(&mut db, &clock, 0);
        if ran {
            let done = c.run();
            assert!(done.result().is_ok());
            std::mem::forget(done);
        } else {
            drop(c);
        }
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(reopened(&dir, &clock), want, "ran: {ran}");
    }
}

/// An explicit `checkpoint()` while the background full checkpoint is in
/// flight is full, inline; the background one is then dropped on finish
/// (its file removed), in either order of run and checkpoint.
#[test]
fn an_explicit_checkpoint_in_flight_supersedes_it() {
    for run_first in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = region(&dir, &clock);
        let c = begin_full(&mut db);
        change(&mut db, &clock, 0);
        let done = if run_first {
            let d = c.run();
            db.checkpoint().unwrap();
            d
        } else {
            db.checkpoint().unwrap();
            c.run()
        };
        assert!(!db.finish_delta(done).unwrap());
        assert_eq!(names(&dir, ".snap").len(), 1, "{:?}", names(&dir, ""));
        assert!(names(&dir, ".delta").is_empty());
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(reopened(&dir, &clock), want, "run first: {run_first}");
    }
}

/// [`checkpoint_support::sim_open`] with background deltas and folds on.
fn sim_open(fs: &SimFs) -> tablesync::Result<Database> {
    let mut db = checkpoint_support::sim_open(fs)?;
    db.set_background_deltas(true);
    db.set_background_folds(true);
    Ok(db)
}

fn sim_puts(db: &mut Database, keys: std::ops::Range<i64>) {
    for k in keys {
        put(db, "t", k, &format!("value-{k}"));
    }
}

fn sim_files(fs: &SimFs) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs
        .files()
        .into_iter()
        .map(|(p, b)| (p.to_string_lossy().into_owned(), b))
        .collect();
    v.sort();
    v
}

/// Run `c` with the disk full (ENOSPC a little past what is used now).
fn run_on_full_disk(fs: &SimFs, c: tablesync::DeltaCheckpoint) -> tablesync::DeltaDone {
    let used: u64 = fs.files().iter().map(|(_, b)| b.len() as u64).sum();
    fs.set_faults(FaultPlan {
        capacity: Some(used + 100),
        ..FaultPlan::default()
    });
    let done = c.run();
    fs.set_faults(FaultPlan::default());
    done
}

/// ENOSPC while the background full checkpoint writes its file:
/// `finish_delta` returns the error (counted in `health()`), the directory
/// holds exactly what it held, and the next checkpoint is full again; no
/// row is lost, with or without a power loss before it.
#[test]
fn a_failed_background_full_checkpoint_changes_nothing() {
    for crash in [false, true] {
        let fs = SimFs::new(5);
        let mut db = sim_open(&fs).unwrap();
        db.create_table(schema("t")).unwrap();
        sim_puts(&mut db, 0..60);
        let before = sim_files(&fs);
        let c = begin_full(&mut db);
        let done = run_on_full_disk(&fs, c);
        assert!(fs.stats().enospc > 0);
        let e = db.finish_delta(done).unwrap_err();
        assert_eq!(e.code(), "StorageIo", "{e}");
        assert_eq!(db.health().background_failures, 1);
        assert_eq!(sim_files(&fs), before);
        sim_puts(&mut db, 60..70);
        if crash {
            drop(db);
            fs.crash(CrashMode::DropUnsynced);
        } else {
            let c = begin_full(&mut db);
            assert!(db.finish_delta(c.run()).unwrap());
            let now = sim_checkpoints(&fs);
            assert_eq!(now.len(), 1, "{now:?}");
            assert!(now[0].ends_with(".snap"));
            sim_puts(&mut db, 70..71);
            let d = db.begin_delta().unwrap().expect("a delta");
            assert!(!d.is_full());
            assert!(db.finish_delta(d.run()).unwrap());
            drop(db);
        }
        let db = sim_open(&fs).unwrap();
        let n = if crash { 70 } else { 71 };
        for k in 0..n {
            let row = db
                .get_row(
                    "t",
                    &PrimaryKey::new([("k", k)]),
                    &tablesync::GetOptions::default(),
                )
                .unwrap();
            assert!(row.is_some(), "row {k} lost (crash: {crash})");
        }
    }
}

/// How a fold and a background full checkpoint overlap.
#[derive(Clone, Copy, Debug)]
enum Overlap {
    /// The fold begins first and is installed first.
    FoldFirst,
    /// The fold begins first; the full checkpoint is installed first (the
    /// fold then finds its chain replaced).
    FullFirst,
    /// No fold can begin while the full checkpoint is in flight other
    /// than of the installed chain; it is dropped on finish.
    FoldDuring,
}

/// Folds and background full checkpoints in flight together (the full one
/// needed after a failed delta): a fold reads only installed files, the
/// full checkpoint ends as the only base in every order, no fold's file
/// outlives it, and the region reopens with every row.
#[test]
fn folds_and_full_checkpoints_in_flight_together() {
    for overlap in [Overlap::FoldFirst, Overlap::FullFirst, Overlap::FoldDuring] {
        let fs = SimFs::new(7);
        let mut db = sim_open(&fs).unwrap();
        db.create_table(schema("t")).unwrap();
        sim_puts(&mut db, 0..40);
        let c = begin_full(&mut db);
        assert!(db.finish_delta(c.run()).unwrap());
        sim_puts(&mut db, 40..60);
        let d = db.begin_delta().unwrap().expect("a delta");
        assert!(db.finish_delta(d.run()).unwrap());
        let mut fold = match overlap {
            Overlap::FoldDuring => None,
            _ => Some(db.begin_fold().unwrap().expect("a fold")),
        };
        // A failed delta: the next checkpoint must be full.
        sim_puts(&mut db, 60..80);
        let d = db.begin_delta().unwrap().expect("a delta");
        let done = run_on_full_disk(&fs, d);
        assert!(db.finish_delta(done).is_err());
        sim_puts(&mut db, 80..90);
        let full = begin_full(&mut db);
        if let Overlap::FoldDuring = overlap {
            // Only the installed chain (base and one delta) can be folded.
            fold = Some(db.begin_fold().unwrap().expect("a fold"));
        }
        let fold = fold.unwrap();
        assert!(fold.covers() < full.covers(), "{fold:?} {full:?}");
        sim_puts(&mut db, 90..100);
        let full_done = full.run();
        match overlap {
            Overlap::FoldFirst => {
                assert!(db.finish_fold(fold.run()).unwrap());
                assert!(db.finish_delta(full_done).unwrap());
            }
            Overlap::FullFirst | Overlap::FoldDuring => {
                assert!(db.finish_delta(full_done).unwrap());
                assert!(!db.finish_fold(fold.run()).unwrap());
            }
        }
        let cps = sim_checkpoints(&fs);
        assert_eq!(cps.len(), 1, "{overlap:?}: {cps:?}");
        assert!(cps[0].ends_with(".snap"));
        sim_puts(&mut db, 100..101);
        let d = db.begin_delta().unwrap().expect("a delta");
        assert!(!d.is_full());
        assert!(db.finish_delta(d.run()).unwrap());
        let want = db.export_snapshot().unwrap();
        drop(db);
        fs.crash(CrashMode::DropUnsynced);
        let db = sim_open(&fs).unwrap();
        assert_eq!(db.export_snapshot().unwrap(), want, "{overlap:?}");
    }
}
