//! Well-formed but hostile sync messages (issue 12): each test names the
//! finding it pins. A refused message is answered with an error, counted in
//! `Database::health`, and leaves the region unchanged.

use std::sync::Arc;
use tablesync::codec::key::encode_key_values;
use tablesync::codec::row_state::encode_row_state;
use tablesync::engine::row_state::{ColumnState, RowState, Version};
use tablesync::log::hlc::{region_id, LOGICAL_BITS};
use tablesync::sync::message::*;
use tablesync::sync::{respond, Initiator, SessionStep, SyncConfig, SyncDirection, SyncMode};
use tablesync::*;

mod common;
use common::{put, region};

const CAP: usize = 1 << 20;
const T0: i64 = 1_700_000_000_000;

/// Send one request frame; return the decoded reply.
fn ask(db: &mut Database, req: Request) -> Reply {
    let frame = encode_request(9, 1, &req, CAP).unwrap();
    let reply = respond(db, &frame, CAP).unwrap();
    decode_reply(&reply, CAP, 9, 1).unwrap().reply
}

fn failed_code(reply: &Reply) -> &str {
    match reply {
        Reply::Failed { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn state_of(db: &Database) -> (Vec<u8>, VersionVector, u64) {
    (
        db.export_snapshot().unwrap(),
        db.version_vector_full().unwrap(),
        db.next_cursor().unwrap(),
    )
}

/// Finding: a `MarkHeld` range `("x", 2, 10^12)` was inserted one sequence
/// number at a time under the region lock (CPU and memory until OOM). It
/// is now one range, recorded at once.
#[test]
fn a_huge_held_range_costs_one_entry() {
    let clock = ManualClock::new(T0);
    let mut b = region("b", &clock);
    let reply = ask(
        &mut b,
        Request::MarkHeld {
            entries: vec![("x".into(), 2, 1_000_000_000_000)],
        },
    );
    assert!(matches!(reply, Reply::Ack { .. }), "{reply:?}");
    let vv = b.version_vector_full().unwrap();
    assert!(vv.contains("x", 999_999_999_999) && !vv.contains("x", 1));
    assert_eq!(vv.out_of_order()["x"].len(), 1);
    // Survives a snapshot round trip in one range too.
    let snap = b.export_snapshot().unwrap();
    let back = Database::import_snapshot(&snap, Arc::new(clock)).unwrap();
    assert_eq!(back.version_vector_full().unwrap(), vv);
}

/// Finding: a range claiming the server's own region at `u64::MAX - 1` was
/// written to the WAL, so the next local write's sequence overflowed on
/// every open.
#[test]
fn a_claim_on_our_own_records_is_refused() {
    let clock = ManualClock::new(T0);
    let mut b = region("b", &clock);
    put(&mut b, 1, "x");
    let before = state_of(&b);
    let reply = ask(
        &mut b,
        Request::MarkHeld {
            entries: vec![("b".into(), 2, u64::MAX - 1)],
        },
    );
    assert_eq!(failed_code(&reply), "PeerProtocolViolation");
    assert_eq!(state_of(&b), before);
    assert_eq!(b.health().peer_violations, 1);
    put(&mut b, 2, "y");
    let last = b.changes_since(0, 10).unwrap().records.pop().unwrap();
    assert_eq!((last.origin.as_str(), last.seq), ("b", 2));
}

/// Finding: a `PushChanges` record claiming the server's own region at
/// `u64::MAX - 1` was applied (same overflow), and `validate_record` had no
/// upper bound on sequence numbers.
#[test]
fn records_claiming_our_region_or_huge_seqs_are_refused() {
    let clock = ManualClock::new(T0);
    let mut a = region("a", &clock);
    put(&mut a, 1, "x");
    let mut rec = a.changes_since(0, 1).unwrap().records.remove(0);
    let mut b = region("b", &clock);
    let before = state_of(&b);
    rec.origin = "b".into();
    rec.seq = u64::MAX - 1;
    let reply = ask(
        &mut b,
        Request::PushChanges {
            records: vec![rec.clone()].into(),
        },
    );
    assert_eq!(failed_code(&reply), "PeerProtocolViolation");
    rec.origin = "a".into();
    let reply = ask(
        &mut b,
        Request::PushChanges {
            records: vec![rec].into(),
        },
    );
    assert_eq!(failed_code(&reply), "PeerProtocolViolation");
    assert_eq!(state_of(&b), before);
    assert_eq!(b.health().peer_violations, 2);
}

/// Finding: only stamp 0 was rejected; a record stamped `u64::MAX` pinned
/// the HLC forever, so auto-increment keys all got the same value.
#[test]
fn a_far_future_stamp_is_refused_and_counted() {
    let clock = ManualClock::new(T0);
    let mut a = region("a", &clock);
    put(&mut a, 1, "x");
    let mut rec = a.changes_since(0, 1).unwrap().records.remove(0);
    rec.stamp = u64::MAX;
    let mut b = region("b", &clock);
    let before = state_of(&b);
    let err = b.apply_changes(std::slice::from_ref(&rec)).unwrap_err();
    assert_eq!(err.code(), "ClockDrift");
    assert!(matches!(err, Error::ClockDrift { .. }));
    let reply = ask(
        &mut b,
        Request::PushChanges {
            records: vec![rec].into(),
        },
    );
    assert_eq!(failed_code(&reply), "ClockDrift");
    assert_eq!(state_of(&b), before);
    let h = b.health();
    assert_eq!(h.clock_drift_refusals, 2);
    assert_eq!(h.peer_violations, 1);

    // Within the drift (59 s ahead) is accepted; the limit is configurable.
    let mut rec = a.changes_since(0, 1).unwrap().records.remove(0);
    rec.stamp = ((T0 + 59_000) as u64) << LOGICAL_BITS;
    b.apply_changes(std::slice::from_ref(&rec)).unwrap();
    let mut strict = Database::memory(
        DatabaseOptions::with_clock("s", Arc::new(clock.clone())).max_clock_drift(1_000),
    )
    .unwrap();
    strict
        .create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    assert_eq!(
        strict.apply_changes(&[rec]).unwrap_err().code(),
        "ClockDrift"
    );
}

fn row_with(stamp_hlc: u64, column: &str, ts: i64) -> RowState {
    let stamp = Stamp::new(stamp_hlc, region_id("a"));
    RowState {
        deleted: stamp,
        live: stamp,
        columns: vec![ColumnState {
            name: column.into(),
            cleared: Stamp::ZERO,
            versions: vec![Version {
                ts,
                stamp,
                value: Some(Value::from("evil")),
            }],
        }],
    }
}

/// Finding: merged row states skipped the name, key, size and timestamp
/// checks that records get, and their stamps were not bounded.
#[test]
fn hostile_row_states_are_refused() {
    let clock = ManualClock::new(T0);
    let mut b = region("b", &clock);
    put(&mut b, 1, "x");
    let before = state_of(&b);
    let now = (T0 as u64) << LOGICAL_BITS;
    let key = encode_key_values([&PkValue::Integer(5)]);
    let cases = [
        (row_with(u64::MAX, "v", 1), "ClockDrift"),
        (row_with(now, "k", 1), "PeerProtocolViolation"),
        (row_with(now, "not a name", 1), "OTSParameterInvalid"),
        (row_with(now, "v", -5), "PeerProtocolViolation"),
    ];
    for (state, code) in cases {
        let rows = vec![
            (
                encode_key_values([&PkValue::Integer(4)]),
                encode_row_state(&row_with(now, "v", 1)),
            ),
            (key.clone(), encode_row_state(&state)),
        ];
        let reply = ask(
            &mut b,
            Request::PushRows {
                table: "t".into(),
                rows,
            },
        );
        assert_eq!(failed_code(&reply), code, "{state:?}");
        assert_eq!(state_of(&b), before, "nothing half-applied");
    }
    // A key that does not decode under the schema.
    let rows = vec![(
        b"\xff\xff".to_vec(),
        encode_row_state(&row_with(now, "v", 1)),
    )];
    let reply = ask(
        &mut b,
        Request::PushRows {
            table: "t".into(),
            rows,
        },
    );
    assert_eq!(failed_code(&reply), "CorruptData");
    assert_eq!(b.health().peer_violations, 5);
}

/// Finding: full, hybrid and reconcile pulls did not `observe` the merged
/// rows' stamps, so after pulling from a peer whose clock is ahead, a local
/// write could be silently hidden behind the pulled row.
#[test]
fn pulled_rows_move_the_clock() {
    for mode in [SyncMode::Full, SyncMode::Hybrid, SyncMode::Reconcile] {
        let clock_a = ManualClock::new(T0);
        let clock_b = ManualClock::new(T0 + 30_000); // 30 s ahead: within the drift
        let mut a = region("a", &clock_a);
        let mut b = region("b", &clock_b);
        put(&mut a, 0, "seed");
        put(&mut b, 1, "from b");
        a.sync_with(&mut b, SyncConfig::new(mode, SyncDirection::Pull))
            .unwrap();
        put(&mut a, 1, "from a, later");
        let row = a
            .get_row("t", &PrimaryKey::new([("k", 1)]), &GetOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            row.get("v"),
            Some(&Value::from("from a, later")),
            "{mode:?}: the later local write must win"
        );
    }
}

/// A responder that rewrites every reply's table infos to claim `stored`.
fn lying_responder(b: &mut Database, frame: &[u8], stored: u64) -> Vec<u8> {
    let (session, index, _) = decode_request(frame, CAP).unwrap();
    let reply = respond(b, frame, CAP).unwrap();
    let mut env = decode_reply(&reply, CAP, session, index).unwrap();
    for i in env.infos.iter_mut() {
        i.stored = stored;
    }
    if let Reply::Welcome { infos, .. } = &mut env.reply {
        for i in infos.iter_mut() {
            i.stored = stored;
        }
    }
    encode_reply(session, index, &env, CAP).unwrap()
}

/// Finding: row counts supplied by the peer fed unchecked arithmetic in
/// the initiator (`4 * most` overflowed: a panic in debug builds).
#[test]
fn a_huge_remote_row_count_does_not_overflow() {
    let clock = ManualClock::new(T0);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..40 {
        put(&mut a, i, "a");
        put(&mut b, i + 20, "b");
    }
    let mut config = SyncConfig::new(SyncMode::Reconcile, SyncDirection::Both);
    config.initial_symbols = 1;
    config.max_frame_bytes = CAP;
    let mut session = Initiator::new(config);
    let mut step = session.start(&mut a).unwrap();
    let mut rounds = 0;
    let outcome = loop {
        rounds += 1;
        assert!(rounds < 1000, "the session must end");
        match step {
            SessionStep::Send(frame) => {
                let reply = lying_responder(&mut b, &frame, u64::MAX);
                match session.receive(&mut a, &reply) {
                    Ok(s) => step = s,
                    Err(e) => break Err(e),
                }
            }
            SessionStep::Done(r) => break Ok(r),
        }
    };
    // Either way the session ended without a panic.
    if let Ok(r) = outcome {
        assert!(r.round_trips > 0);
    }
}

/// What the Python and JS `health()` tests rely on: pulling, by a sync
/// session, from a region whose clock is 10 minutes ahead fails with
/// `ClockDrift`, is counted, and changes nothing; a larger limit accepts it.
#[test]
fn a_session_pulling_from_a_clock_far_ahead_is_refused_and_counted() {
    let ahead_clock = ManualClock::new(T0 + 600_000);
    let clock = ManualClock::new(T0);
    let mut ahead = region("ahead", &ahead_clock);
    put(&mut ahead, 1, "x");
    let mut behind = region("behind", &clock);
    let before = state_of(&behind);
    let cfg = SyncConfig {
        mode: SyncMode::Incremental,
        direction: SyncDirection::Pull,
        ..SyncConfig::default()
    };
    behind.sync_with(&mut ahead, cfg.clone()).unwrap_err();
    assert!(behind.health().clock_drift_refusals >= 1);
    assert_eq!(state_of(&behind), before);
    let mut patient = Database::memory(
        DatabaseOptions::with_clock("patient", Arc::new(clock.clone())).max_clock_drift(3_600_000),
    )
    .unwrap();
    patient
        .create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    patient.sync_with(&mut ahead, cfg).unwrap();
    assert_eq!(patient.health().clock_drift_refusals, 0);
    assert_eq!(
        patient.table_digest("t").unwrap(),
        ahead.table_digest("t").unwrap()
    );
}
