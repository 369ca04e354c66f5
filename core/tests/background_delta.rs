//! Background delta checkpoints (issue 11 item 3, issue 13 lag; FORMAT.md
//! §12 "Background delta"): a delta checkpoint in three steps —
//! `begin_delta` (a copy of the changed bytes under the lock),
//! `DeltaCheckpoint::run` (encode, compress, write, fsync; no database),
//! `finish_delta` (install, then release the log segments it covers) — so
//! no commit pays for one. Same files as the inline path; crash points are
//! in power_loss.rs.

mod checkpoint_support;

use checkpoint_support::*;
use std::path::Path;
use tablesync::storage::vfs::{CrashMode, FaultPlan, SimFs};
use tablesync::{Column, Condition, Database, ManualClock, PrimaryKey};

fn del(db: &mut Database, k: i64) {
    db.delete_row("t", PrimaryKey::new([("k", k)]), Condition::ignore())
        .unwrap();
}

/// A region with table `t` holding rows 0..1000 under a full checkpoint, and
/// no automatic checkpoints.
fn based(dir: &Path, clock: &ManualClock) -> Database {
    let mut db = Database::open(dir, options(clock, 1 << 30)).unwrap();
    db.create_table(schema("t")).unwrap();
    for k in 0..1000 {
        clock.advance(1);
        put(&mut db, "t", k, &format!("first-{k}"));
    }
    db.checkpoint_full().unwrap();
    db
}

/// Changes of every kind on top of `based`: replaced rows, new rows,
/// deleted rows, and a table created since the full checkpoint.
fn change(db: &mut Database, clock: &ManualClock, round: i64) {
    for k in 0..40 {
        clock.advance(1);
        put(db, "t", k * 3, &format!("round-{round}-{k}"));
    }
    for k in 0..5 {
        clock.advance(1);
        del(db, 50 + round * 7 + k);
    }
    if round == 0 {
        db.create_table(schema("fresh")).unwrap();
    }
    for k in 0..10 {
        clock.advance(1);
        put(db, "fresh", k + round * 10, "in a fresh table");
    }
}

/// Run a background delta to its end; whether it joined the chain.
fn background(db: &mut Database) -> bool {
    let c = db.begin_delta().unwrap().expect("a delta to write");
    db.finish_delta(c.run()).unwrap()
}

/// The same state checkpointed inline and in the background gives the same
/// files, byte for byte (the delta, and the chain it sits on).
#[test]
fn a_background_delta_has_the_bytes_of_an_inline_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("inline"), tmp.path().join("background"));
    let (ca, cb) = (ManualClock::new(T0), ManualClock::new(T0));
    let mut inline = based(&a, &ca);
    let mut bg = based(&b, &cb);
    for round in 0..2 {
        change(&mut inline, &ca, round);
        change(&mut bg, &cb, round);
        inline.checkpoint().unwrap();
        assert!(background(&mut bg));
    }
    let (fa, fb) = (files(&a, "checkpoint-"), files(&b, "checkpoint-"));
    assert_eq!(names(&a, ".delta").len(), 2, "{:?}", fa.keys());
    assert_eq!(fa, fb);
    assert_eq!(
        inline.export_snapshot().unwrap(),
        bg.export_snapshot().unwrap()
    );
}

/// Rows written while a delta is in flight (some of them rows it holds,
/// changed again) go into the next delta: once both are installed the log
/// they were in is gone, and reopening from the chain alone gives the
/// region back. No commit wrote a checkpoint.
#[test]
fn rows_changed_while_a_delta_is_in_flight_go_to_the_next_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = based(&dir, &clock);
    change(&mut db, &clock, 0);
    let first = db.begin_delta().unwrap().expect("a delta");
    assert!(db.begin_delta().unwrap().is_none(), "one delta at a time");
    let before = files(&dir, "checkpoint-");
    change(&mut db, &clock, 1);
    put(&mut db, "t", 1_000, "written during the delta");
    assert_eq!(files(&dir, "checkpoint-"), before, "a commit checkpointed");
    let covers = first.covers();
    assert!(db.finish_delta(first.run()).unwrap());
    assert!(background(&mut db));
    assert_eq!(names(&dir, ".delta").len(), 2);
    assert_eq!(names(&dir, ".snap").len(), 1);
    assert!(
        names(&dir, ".delta")[0].contains(&format!("{covers:020}")),
        "{:?}",
        names(&dir, ".delta")
    );
    let want = db.export_snapshot().unwrap();
    drop(db);
    // Everything is in the chain: without the log it reopens the same.
    reopens_from_checkpoints_alone(&dir, &clock, &want);
}

/// The log segments a delta covers stay until it is installed: a crash
/// after it began, or after it ran but before it was installed, loses
/// nothing (the file it may have written is a valid link of the chain).
#[test]
fn a_crash_before_the_install_loses_nothing() {
    for ran in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = based(&dir, &clock);
        change(&mut db, &clock, 0);
        let wal = files(&dir, "wal-").into_keys().collect::<Vec<_>>();
        let c = db.begin_delta().unwrap().expect("a delta");
        change(&mut db, &clock, 1);
        if ran {
            let done = c.run();
            assert!(done.result().is_ok());
            assert_eq!(names(&dir, ".delta").len(), 1);
            // Not installed: no segment went.
            std::mem::forget(done);
        } else {
            drop(c);
        }
        let now = files(&dir, "wal-").into_keys().collect::<Vec<_>>();
        assert!(wal.iter().all(|w| now.contains(w)), "{wal:?} → {now:?}");
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(reopened(&dir, &clock), want, "ran: {ran}");
    }
}

/// An explicit `checkpoint()` while a delta is in flight writes a full
/// checkpoint (the chain's tip is not known yet); the delta is then
/// dropped on finish, its file removed.
#[test]
fn a_checkpoint_while_a_delta_is_in_flight_is_full_and_drops_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let clock = ManualClock::new(T0);
    let mut db = based(&dir, &clock);
    let old = names(&dir, ".snap");
    change(&mut db, &clock, 0);
    let c = db.begin_delta().unwrap().expect("a delta");
    change(&mut db, &clock, 1);
    let done = c.run();
    db.checkpoint().unwrap();
    assert_ne!(names(&dir, ".snap"), old);
    assert!(!db.finish_delta(done).unwrap());
    assert!(names(&dir, ".delta").is_empty());
    let want = db.export_snapshot().unwrap();
    drop(db);
    assert_eq!(reopened(&dir, &clock), want);
}

/// A fold begun while a delta is in flight folds only installed deltas
/// (never the in-flight delta's file, even once written); the delta then
/// installs on top of the folded checkpoint, in either finishing order.
#[test]
fn folds_never_read_a_delta_in_flight_and_deltas_chain_on_folds() {
    for fold_first in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = based(&dir, &clock);
        db.set_background_folds(true);
        change(&mut db, &clock, 0);
        assert!(background(&mut db));
        change(&mut db, &clock, 1);
        let c = db.begin_delta().unwrap().expect("a delta");
        let done = c.run();
        let fold = db.begin_fold().unwrap().expect("a fold");
        assert!(fold.covers() < done.covers());
        change(&mut db, &clock, 2);
        if fold_first {
            assert!(db.finish_fold(fold.run()).unwrap());
            assert!(db.finish_delta(done).unwrap());
        } else {
            assert!(db.finish_delta(done).unwrap());
            assert!(db.finish_fold(fold.run()).unwrap());
        }
        assert!(background(&mut db));
        assert_eq!(names(&dir, ".snap").len(), 1);
        assert_eq!(names(&dir, ".delta").len(), 2);
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(reopened(&dir, &clock), want, "fold first: {fold_first}");
    }
}

/// Property: with background deltas on and a driver that keeps up, no
/// commit writes a checkpoint file (only the driver's steps do), and the
/// region reopens as it was; with them off, commits do (so the check can
/// fail). With the driver gone, commits checkpoint again past 4× the
/// threshold (the log does not grow without bound).
#[test]
fn commits_leave_checkpoints_to_the_driver() {
    fn run(on: bool, driver: bool) -> usize {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("db");
        let clock = ManualClock::new(T0);
        let mut db = Database::open(&dir, options(&clock, 2_000)).unwrap();
        db.create_table(schema("t")).unwrap();
        db.checkpoint_full().unwrap();
        db.set_background_folds(on);
        db.set_background_deltas(on);
        let mut inline = 0;
        let mut flight = None;
        for k in 0..1_500i64 {
            let before = files(&dir, "checkpoint-").into_keys().collect::<Vec<_>>();
            clock.advance(1);
            put(&mut db, "t", k % 200, &format!("value-{k:036}"));
            if files(&dir, "checkpoint-").into_keys().collect::<Vec<_>>() != before {
                inline += 1;
            }
            if !driver {
                continue;
            }
            match flight.take() {
                Some((c, since)) if k >= since + 7 => {
                    let c: tablesync::DeltaCheckpoint = c;
                    assert!(db.finish_delta(c.run()).unwrap());
                }
                Some(c) => flight = Some(c),
                None if db.delta_due() => flight = db.begin_delta().unwrap().map(|c| (c, k)),
                None if db.fold_due() => {
                    let f = db.begin_fold().unwrap().unwrap();
                    assert!(db.finish_fold(f.run()).unwrap());
                }
                None => {}
            }
        }
        if let Some((c, _)) = flight {
            db.finish_delta(c.run()).unwrap();
        }
        let want = db.export_snapshot().unwrap();
        drop(db);
        assert_eq!(reopened(&dir, &clock), want);
        inline
    }
    assert_eq!(run(true, true), 0, "a commit checkpointed");
    assert!(run(false, false) > 10);
    let behind = run(true, false);
    assert!(behind > 0 && behind < run(false, false), "{behind}");
}

fn sim_put(db: &mut Database, k: i64) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", format!("value-{k}"))],
        Condition::ignore(),
    )
    .unwrap();
}

/// ENOSPC while the background delta writes its file: `finish_delta`
/// returns the error (and counts it in `health()`), the chain on disk is
/// what it was, the log it covered is kept, and the next checkpoint is a
/// full one — so the rows it held (no longer in the change tracking) are
/// not lost, with or without a power loss before that checkpoint.
#[test]
fn a_failed_background_delta_loses_nothing() {
    for crash in [false, true] {
        let fs = SimFs::new(5);
        let mut db = sim_open(&fs).unwrap();
        db.create_table(schema("t")).unwrap();
        for k in 0..20 {
            sim_put(&mut db, k);
        }
        db.checkpoint_full().unwrap();
        // The rows only the failed delta would have held.
        for k in 20..60 {
            sim_put(&mut db, k);
        }
        let before = sim_checkpoints(&fs);
        let c = db.begin_delta().unwrap().expect("a delta");
        let used: u64 = fs.files().iter().map(|(_, b)| b.len() as u64).sum();
        fs.set_faults(FaultPlan {
            capacity: Some(used + 100),
            ..FaultPlan::default()
        });
        let done = c.run();
        fs.set_faults(FaultPlan::default());
        let e = db.finish_delta(done).unwrap_err();
        assert_eq!(e.code(), "StorageIo", "{e}");
        assert!(fs.stats().enospc > 0);
        assert_eq!(db.health().background_failures, 1);
        assert_eq!(sim_checkpoints(&fs), before);
        for k in 60..70 {
            sim_put(&mut db, k);
        }
        if crash {
            drop(db);
            fs.crash(CrashMode::DropUnsynced);
        } else {
            // The next checkpoint is full (written inline by begin_delta).
            assert!(db.begin_delta().unwrap().is_none());
            let now = sim_checkpoints(&fs);
            assert_eq!(now.len(), 1, "{now:?}");
            assert_ne!(now, before);
            assert!(now[0].ends_with(".snap"));
            // And later ones are deltas again.
            sim_put(&mut db, 70);
            assert!(background(&mut db));
            drop(db);
        }
        let db = sim_open(&fs).unwrap();
        let n = if crash { 70 } else { 71 };
        for k in 0..n {
            assert!(
                db.get_row(
                    "t",
                    &PrimaryKey::new([("k", k)]),
                    &tablesync::GetOptions::default()
                )
                .unwrap()
                .is_some(),
                "row {k} lost (crash: {crash})"
            );
        }
    }
}
