//! Paths next to the issue 8 divergence, each checked with a scenario that
//! failed (or would fail) before the fixes:
//!
//! - equal content, different states: a tombstone must travel even when the
//!   content digests already match;
//! - a full push with a local write landing between two pages must not
//!   claim that write as held by the responder;
//! - a genuine reply applied twice (a duplicated request) changes nothing
//!   the second time.

use std::sync::Arc;
use tablesync::sync::{respond, Initiator, SessionStep, SyncConfig, SyncDirection, SyncMode};
use tablesync::*;

fn region(name: &str, clock: &ManualClock) -> Database {
    let mut db =
        Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock.clone()))).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db
}

fn pk(k: i64) -> PrimaryKey {
    PrimaryKey::new([("k", k)])
}

fn put(db: &mut Database, k: i64, v: &str) {
    db.put_row("t", pk(k), vec![Column::new("v", v)], Condition::ignore())
        .unwrap();
}

fn exists(db: &Database, k: i64) -> bool {
    db.get_row("t", &pk(k), &GetOptions::default())
        .unwrap()
        .is_some()
}

fn cfg(mode: SyncMode, direction: SyncDirection, session_id: u64) -> SyncConfig {
    SyncConfig {
        session_id,
        ..SyncConfig::new(mode, direction)
    }
}

/// The shape of seed 2845: `x` writes a row, `y` gets it by reconcile (row
/// state, no record), `x` deletes it and `z` gets only the tombstone state.
/// `w` never saw the row: its content equals `z`'s. Syncing `w` with `z`
/// must still hand `w` the tombstone, or a later reconcile with `y` (which
/// still holds the live state) brings the deleted row back on `w`.
#[test]
fn a_tombstone_moves_even_when_content_digests_match() {
    let clock = ManualClock::new(1_000_000);
    let mut x = region("x", &clock);
    let mut y = region("y", &clock);
    let mut z = region("z", &clock);
    let mut w = region("w", &clock);
    put(&mut x, 10, "live");
    clock.advance(5);
    let r = cfg(SyncMode::Reconcile, SyncDirection::Pull, 1);
    y.sync_with(&mut x, r).unwrap();
    assert!(exists(&y, 10));
    x.delete_row("t", pk(10), Condition::ignore()).unwrap();
    z.sync_with(&mut x, cfg(SyncMode::Reconcile, SyncDirection::Pull, 2))
        .unwrap();
    assert!(!exists(&z, 10));
    // w and z show the same (empty) content, but z holds a tombstone.
    assert_eq!(w.table_digest("t").unwrap(), z.table_digest("t").unwrap());
    let report = w
        .sync_with(&mut z, cfg(SyncMode::Auto, SyncDirection::Both, 3))
        .unwrap();
    assert!(report.verified);
    assert_eq!(
        report.rows_pulled, 1,
        "the tombstone must move although the content digests matched"
    );
    // Now w meets y, which still holds the older live state.
    let report = w
        .sync_with(&mut y, cfg(SyncMode::Auto, SyncDirection::Both, 4))
        .unwrap();
    assert!(report.verified);
    assert!(!exists(&w, 10), "a deleted row came back");
    assert!(!exists(&y, 10), "the tombstone reached y too");
}

/// A full push reads its pages one request at a time; a local write that
/// lands between two pages (another thread, while a reply is in flight)
/// may miss the pages already sent. The responder must not be told it holds
/// that write, or incremental sync never sends it.
#[test]
fn a_write_between_full_push_pages_is_not_claimed_as_held() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    let wide = "w".repeat(2000);
    for k in 0..200 {
        put(&mut a, k, &wide);
    }
    let config = SyncConfig {
        max_frame_bytes: 64 * 1024,
        ..cfg(SyncMode::Full, SyncDirection::Push, 9)
    };
    let cap = config.max_frame_bytes;
    let mut session = Initiator::new(config);
    let mut step = session.start(&mut a).unwrap();
    let mut round = 0;
    while let SessionStep::Send(req) = step {
        let reply = respond(&mut b, &req, cap).unwrap();
        round += 1;
        if round == 3 {
            // Key 0 sits on the first page, which has already been pushed.
            clock.advance(1);
            put(&mut a, 0, "late");
        }
        step = session.receive(&mut a, &reply).unwrap();
    }
    assert!(round > 4, "the push took several pages ({round} rounds)");
    // Incremental sync alone must bring the late write over.
    let report = a
        .sync_with(&mut b, cfg(SyncMode::Incremental, SyncDirection::Push, 10))
        .unwrap();
    assert!(
        report.verified,
        "incremental sync skipped a write the responder was told it held"
    );
    let row = b.get_row("t", &pk(0), &GetOptions::default()).unwrap();
    assert_eq!(row.unwrap().get("v"), Some(&Value::String("late".into())));
}

/// The same reply handed to the initiator twice: the second copy is refused
/// (the session moved on) and changes nothing.
#[test]
fn a_reply_delivered_twice_is_applied_once() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for k in 0..20 {
        put(&mut b, k, "b");
    }
    let config = cfg(SyncMode::Incremental, SyncDirection::Pull, 11);
    let cap = config.max_frame_bytes;
    let mut session = Initiator::new(config);
    let SessionStep::Send(req) = session.start(&mut a).unwrap() else {
        panic!("a first request")
    };
    let reply = respond(&mut b, &req, cap).unwrap();
    assert!(matches!(
        session.receive(&mut a, &reply).unwrap(),
        SessionStep::Done(_)
    ));
    let digest = a.table_digest("t").unwrap();
    let next = a.next_cursor().unwrap();
    assert!(session.receive(&mut a, &reply).is_err());
    assert_eq!(a.table_digest("t").unwrap(), digest);
    assert_eq!(a.next_cursor().unwrap(), next);
}
