//! Every sync mode and direction between in-process regions.

use std::sync::Arc;
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::*;

mod common;
use common::{put, region};

fn get(db: &Database, k: i64) -> Option<String> {
    db.get_row("t", &PrimaryKey::new([("k", k)]), &GetOptions::default())
        .unwrap()
        .and_then(|r| match r.get("v") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        })
}

fn cfg(mode: SyncMode, direction: SyncDirection) -> SyncConfig {
    SyncConfig {
        session_id: 7,
        ..SyncConfig::new(mode, direction)
    }
}

#[test]
fn every_mode_converges_both_ways() {
    for mode in [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Hybrid,
        SyncMode::Reconcile,
        SyncMode::Auto,
    ] {
        let clock = ManualClock::new(1_000_000);
        let mut a = region("a", &clock);
        let mut b = region("b", &clock);
        for i in 0..200 {
            put(&mut a, i, "a");
            clock.advance(1);
        }
        for i in 150..300 {
            put(&mut b, i, "b");
            clock.advance(1);
        }
        b.delete_row("t", PrimaryKey::new([("k", 5)]), Condition::ignore())
            .unwrap();
        let report = a.sync_with(&mut b, cfg(mode, SyncDirection::Both)).unwrap();
        assert!(report.verified, "{mode:?}: {report:?}");
        assert_eq!(
            a.table_digest("t").unwrap(),
            b.table_digest("t").unwrap(),
            "{mode:?}"
        );
        // b's later writes to 150..200 win; b's delete of 5 happened after a's put.
        assert_eq!(get(&a, 160).as_deref(), Some("b"), "{mode:?}");
        assert_eq!(get(&b, 10).as_deref(), Some("a"), "{mode:?}");
        if matches!(
            mode,
            SyncMode::Incremental | SyncMode::Auto | SyncMode::Hybrid
        ) {
            assert_eq!(get(&a, 5), None, "{mode:?}");
        }
        // A second session finds nothing to do and verifies in one round trip.
        let again = a
            .sync_with(&mut b, cfg(SyncMode::Auto, SyncDirection::Both))
            .unwrap();
        assert!(again.verified);
        assert!(again.round_trips <= 2, "{mode:?}: {again:?}");
    }
}

#[test]
fn pull_and_push_move_one_way_only() {
    for mode in [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Reconcile,
        SyncMode::Auto,
    ] {
        let clock = ManualClock::new(1_000_000);
        let mut a = region("a", &clock);
        let mut b = region("b", &clock);
        put(&mut a, 1, "a");
        put(&mut b, 2, "b");
        let r = a.sync_with(&mut b, cfg(mode, SyncDirection::Pull)).unwrap();
        assert_eq!(get(&a, 2).as_deref(), Some("b"), "{mode:?}");
        assert_eq!(get(&b, 1), None, "{mode:?} pull must not push");
        assert!(!r.verified);
        let r = a.sync_with(&mut b, cfg(mode, SyncDirection::Push)).unwrap();
        assert_eq!(get(&b, 1).as_deref(), Some("a"), "{mode:?}");
        assert!(r.verified, "{mode:?}: {r:?}");
    }
}

#[test]
fn identical_replicas_verify_in_one_small_round_trip() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..1000 {
        put(&mut a, i, "x");
    }
    a.sync_with(&mut b, cfg(SyncMode::Auto, SyncDirection::Both))
        .unwrap();
    let r = a
        .sync_with(&mut b, cfg(SyncMode::Verify, SyncDirection::Both))
        .unwrap();
    assert!(r.verified);
    assert_eq!(r.round_trips, 1);
    assert!(r.bytes_sent + r.bytes_received < 1024, "{r:?}");
}

#[test]
fn verify_finds_the_differing_keys_without_moving_rows() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..2000 {
        put(&mut a, i, "x");
    }
    a.sync_with(&mut b, cfg(SyncMode::Full, SyncDirection::Push))
        .unwrap();
    clock.advance(10);
    put(&mut a, 17, "changed");
    put(&mut b, 1500, "changed-b");
    b.delete_row("t", PrimaryKey::new([("k", 42)]), Condition::ignore())
        .unwrap();
    let before = (a.table_digest("t").unwrap(), b.table_digest("t").unwrap());
    let r = a.verify_with(&mut b, None).unwrap();
    assert!(!r.verified, "{r:?} {before:?}");
    let keys: Vec<i64> = r.tables[0]
        .differing_keys
        .iter()
        .map(|k| match k.get("k") {
            Some(PkValue::Integer(i)) => *i,
            _ => panic!(),
        })
        .collect();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, vec![17, 42, 1500]);
    assert_eq!(
        before,
        (a.table_digest("t").unwrap(), b.table_digest("t").unwrap())
    );
    let r = a.repair_with(&mut b, None).unwrap();
    assert!(r.verified, "{r:?}");
    assert!(r.rows_pulled + r.rows_pushed <= 8, "{r:?}");
    assert_eq!(get(&b, 17).as_deref(), Some("changed"));
    assert_eq!(get(&a, 1500).as_deref(), Some("changed-b"));
    assert_eq!(get(&a, 42), None);
}

#[test]
fn auto_falls_back_to_reconcile_after_truncation() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..500 {
        put(&mut a, i, "v1");
        clock.advance(1);
    }
    a.sync_with(&mut b, cfg(SyncMode::Auto, SyncDirection::Both))
        .unwrap();
    for i in 0..50 {
        put(&mut a, i, "v2");
        clock.advance(1);
    }
    let next = a.next_cursor().unwrap();
    a.truncate_log(next).unwrap();
    let err = b
        .sync_with(&mut a, cfg(SyncMode::Incremental, SyncDirection::Pull))
        .unwrap_err();
    assert_eq!(err.code(), "LogGap");
    let r = b
        .sync_with(&mut a, cfg(SyncMode::Auto, SyncDirection::Both))
        .unwrap();
    assert!(r.fell_back_to_reconcile, "{r:?}");
    assert!(r.verified, "{r:?}");
    assert_eq!(get(&b, 3).as_deref(), Some("v2"));
    assert!(r.rows_pulled <= 60, "{r:?}");
}

#[test]
fn a_third_region_syncs_through_a_hybrid_copy() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b =
        Database::memory(DatabaseOptions::with_clock("b", Arc::new(clock.clone()))).unwrap();
    let mut c = region("c", &clock);
    for i in 0..300 {
        put(&mut a, i, "a");
    }
    let r = b
        .sync_with(&mut a, cfg(SyncMode::Hybrid, SyncDirection::Pull))
        .unwrap();
    assert!(r.verified, "{r:?}");
    assert_eq!(b.version_vector().unwrap(), a.version_vector().unwrap());
    // b holds a's writes without their records: c can't get them incrementally from b.
    let err = c
        .sync_with(&mut b, cfg(SyncMode::Incremental, SyncDirection::Pull))
        .unwrap_err();
    assert_eq!(err.code(), "LogGap");
    let r = c
        .sync_with(&mut b, cfg(SyncMode::Auto, SyncDirection::Pull))
        .unwrap();
    assert!(r.verified, "{r:?}");
    assert_eq!(get(&c, 299).as_deref(), Some("a"));
}

#[test]
fn replies_from_another_session_or_replayed_are_rejected() {
    use tablesync::sync::{respond, Initiator, SessionStep};
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    put(&mut b, 1, "b");
    let mut s1 = Initiator::new(SyncConfig {
        session_id: 1,
        ..SyncConfig::default()
    });
    let mut s2 = Initiator::new(SyncConfig {
        session_id: 2,
        ..SyncConfig::default()
    });
    let SessionStep::Send(req1) = s1.start(&mut a).unwrap() else {
        panic!()
    };
    let SessionStep::Send(req2) = s2.start(&mut a).unwrap() else {
        panic!()
    };
    let reply1 = respond(&mut b, &req1, 1 << 20).unwrap();
    let reply2 = respond(&mut b, &req2, 1 << 20).unwrap();
    let digest = a.table_digest("t").unwrap();
    assert_eq!(
        s1.receive(&mut a, &reply2).unwrap_err().code(),
        "CorruptData"
    );
    assert_eq!(a.table_digest("t").unwrap(), digest);
    // The right reply still works after a rejected one.
    let step = s1.receive(&mut a, &reply1).unwrap();
    assert!(matches!(step, SessionStep::Send(_) | SessionStep::Done(_)));
}

#[test]
fn rows_merged_by_sync_survive_a_reopen_of_a_durable_region() {
    for mode in [SyncMode::Full, SyncMode::Hybrid, SyncMode::Reconcile] {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_000_000);
        let mut a = region("a", &clock);
        for i in 0..300 {
            put(&mut a, i, "a");
        }
        let opts = || DatabaseOptions::with_clock("d", Arc::new(clock.clone()));
        let mut d = Database::open(dir.path(), opts()).unwrap();
        d.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
        put(&mut d, 1000, "d");
        let r = d.sync_with(&mut a, cfg(mode, SyncDirection::Both)).unwrap();
        assert!(r.verified, "{mode:?}: {r:?}");
        let (digest, vv) = (d.table_digest("t").unwrap(), d.version_vector().unwrap());
        d.close().unwrap();
        let d = Database::open(dir.path(), opts()).unwrap();
        assert_eq!(d.table_digest("t").unwrap(), digest, "{mode:?}");
        assert_eq!(d.version_vector().unwrap(), vv, "{mode:?}");
        d.verify_table_digest("t").unwrap();
    }
}

#[test]
fn a_small_frame_cap_pages_every_mode() {
    for mode in [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Hybrid,
        SyncMode::Reconcile,
    ] {
        let clock = ManualClock::new(1_000_000);
        let mut a = region("a", &clock);
        let mut b = region("b", &clock);
        for i in 0..3000 {
            put(&mut b, i, "some longer value to fill the frames up");
        }
        put(&mut a, 5000, "a");
        let config = SyncConfig {
            max_frame_bytes: 8192,
            initial_symbols: 64,
            ..cfg(mode, SyncDirection::Both)
        };
        let r = a.sync_with(&mut b, config).unwrap();
        assert!(r.verified, "{mode:?}: {r:?}");
        assert!(
            r.round_trips > 5,
            "{mode:?} should need many small pages: {r:?}"
        );
        assert!(
            r.bytes_received / r.round_trips as u64 <= 8192 + 64,
            "{mode:?}: {r:?}"
        );
    }
}

#[test]
fn after_a_full_sync_the_next_auto_session_moves_nothing() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..500 {
        put(&mut a, i, "a");
        put(&mut b, 1000 + i, "b");
    }
    let r = a
        .sync_with(&mut b, cfg(SyncMode::Full, SyncDirection::Both))
        .unwrap();
    assert!(r.verified, "{r:?}");
    assert_eq!(a.version_vector().unwrap(), b.version_vector().unwrap());
    let again = a
        .sync_with(&mut b, cfg(SyncMode::Auto, SyncDirection::Both))
        .unwrap();
    assert!(again.verified);
    assert_eq!(
        (again.records_pulled, again.records_pushed),
        (0, 0),
        "{again:?}"
    );
    assert!(again.bytes_sent + again.bytes_received < 1024, "{again:?}");
}
