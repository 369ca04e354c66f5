//! The realtime one-frame push path (docs/FORMAT.md §18): once a realtime
//! link has a cursor, each batch of new commits is ONE `TSRP` frame answered
//! by ONE `TSRA` ack; `auto` sessions only catch up (first contact, errors,
//! records no log batch carries). Counts are exact.

use tablesync::replication::push_frame::{decode_ack, MAGIC_PUSH, MAGIC_PUSH_ACK};
use tablesync::replication::{respond, Link, LinkAction, LinkConfig, CATCHUP_EVERY_MS};
use tablesync::sync::message::MAGIC_SYNC;
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::*;

mod common;
use common::{put, region};

const CAP: usize = sync::DEFAULT_MAX_FRAME_BYTES;

fn same(a: &Database, b: &Database) -> bool {
    a.table_digest("t").unwrap() == b.table_digest("t").unwrap()
}

/// Frames sent, by magic.
#[derive(Default, Debug)]
struct Sent {
    sync: u64,
    push: u64,
}

/// Carry every frame to `peer` and its answer back; counts frames by kind.
fn carry(
    link: &mut Link,
    src: &mut Database,
    peer: &mut Database,
    mut actions: Vec<LinkAction>,
    now: i64,
    sent: &mut Sent,
) {
    while let Some(a) = actions.pop() {
        if let LinkAction::Send(bytes) = a {
            match &bytes[..4] {
                m if m == MAGIC_PUSH => sent.push += 1,
                m if m == MAGIC_SYNC => sent.sync += 1,
                m => panic!("unexpected frame {m:?}"),
            }
            let reply = respond(peer, &bytes, CAP).unwrap();
            actions.extend(link.on_reply(src, &reply, now));
        }
    }
}

#[test]
fn after_first_contact_each_commit_is_one_frame_and_counts_are_exact() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    for k in 0..50 {
        put(&mut a, k, "before");
    }
    let mut link = Link::new(LinkConfig::new("ab", "b"), 7).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sent = Sent::default();
    let acts = link.tick(&mut a, clock.now_ms());
    carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    assert!(same(&a, &b));
    assert_eq!(sent.push, 0, "first contact is an auto session");
    assert!(sent.sync >= 1);
    assert_eq!(link.status(&a, clock.now_ms()).records_shipped, 50);
    let sync_frames = sent.sync;
    for k in 50..150 {
        clock.advance(1);
        put(&mut a, k, "live");
        let acts = link.on_commit(&mut a, clock.now_ms());
        let sends = acts
            .iter()
            .filter(|x| matches!(x, LinkAction::Send(_)))
            .count();
        assert_eq!(sends, 1, "one frame per commit");
        carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    }
    assert_eq!(
        sent.sync, sync_frames,
        "no sync session once the link has a cursor"
    );
    assert_eq!(sent.push, 100);
    assert!(same(&a, &b));
    let s = link.status(&a, clock.now_ms());
    assert_eq!(
        (s.records_shipped, s.pending, s.lag_ms),
        (150, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.last_error, None);
}

#[test]
fn commits_during_a_flight_go_in_one_batch_and_a_lost_ack_counts_once() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(LinkConfig::new("ab", "b"), 8).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sent = Sent::default();
    let acts = link.tick(&mut a, clock.now_ms());
    carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    put(&mut a, 1, "x");
    let acts = link.on_commit(&mut a, clock.now_ms());
    let Some(LinkAction::Send(first)) = acts.into_iter().find(|x| matches!(x, LinkAction::Send(_)))
    else {
        panic!("no frame")
    };
    for k in 2..12 {
        put(&mut a, k, "x");
        let queued = link.on_commit(&mut a, clock.now_ms());
        assert!(queued.iter().all(|x| !matches!(x, LinkAction::Send(_))));
    }
    // The peer applies the batch but its ack is lost: the link times out and
    // sends the record again (with the ten new ones) after a catch-up.
    let ack = respond(&mut b, &first, CAP).unwrap();
    assert_eq!(&ack[..4], MAGIC_PUSH_ACK);
    assert_eq!(decode_ack(&ack).unwrap().outcome, Ok((1, 0)));
    clock.advance(10_000);
    let acts = link.tick(&mut a, clock.now_ms());
    carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    for _ in 0..5 {
        clock.advance(10_000);
        let acts = link.tick(&mut a, clock.now_ms());
        carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    }
    assert!(same(&a, &b));
    let s = link.status(&a, clock.now_ms());
    assert_eq!(s.sessions_failed, 1, "{s:?}");
    // Record 1 reached b once, through the lost-ack batch; the link counts
    // what b newly applied through it: the ten others.
    assert_eq!((s.records_shipped, s.pending), (10, 0), "{s:?}");
    // Only the 11 records are in b's log (nothing applied twice).
    assert_eq!(b.changes_since(1, 1000).unwrap().records.len(), 11);

    // In flight with the ack answered: ten commits made meanwhile go as one frame.
    put(&mut a, 20, "y");
    let acts = link.on_commit(&mut a, clock.now_ms());
    let Some(LinkAction::Send(frame)) = acts.into_iter().find(|x| matches!(x, LinkAction::Send(_)))
    else {
        panic!("no frame")
    };
    for k in 21..31 {
        put(&mut a, k, "y");
        let _ = link.on_commit(&mut a, clock.now_ms());
    }
    let reply = respond(&mut b, &frame, CAP).unwrap();
    let next = link.on_reply(&mut a, &reply, clock.now_ms());
    let frames: Vec<_> = next
        .iter()
        .filter_map(|x| match x {
            LinkAction::Send(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0][..4], MAGIC_PUSH, "the batch, not a session");
    carry(&mut link, &mut a, &mut b, next, clock.now_ms(), &mut sent);
    assert!(same(&a, &b));
    assert_eq!(link.status(&a, clock.now_ms()).records_shipped, 21);
}

#[test]
fn a_peer_missing_acked_records_is_caught_up_at_the_next_ack() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(LinkConfig::new("ab", "b"), 9).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sent = Sent::default();
    for k in 0..10 {
        put(&mut a, k, "x");
        let acts = link.on_commit(&mut a, clock.now_ms());
        carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    }
    assert!(same(&a, &b));
    // b is replaced by an empty copy (restored from an old backup): the
    // cursor says it holds a's records, its vv in the next ack says not.
    let mut b = region("b", &clock);
    put(&mut a, 10, "live");
    let before = sent.sync;
    let acts = link.on_commit(&mut a, clock.now_ms());
    carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    assert!(
        sent.sync > before,
        "the ack's vv sent the link back to auto"
    );
    assert!(same(&a, &b), "every record is back at b");
    assert_eq!(link.status(&a, clock.now_ms()).pending, 0);
}

#[test]
fn rows_that_came_by_reconcile_reach_the_peer_by_the_next_catch_up() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b, mut c) = (
        region("a", &clock),
        region("b", &clock),
        region("c", &clock),
    );
    let mut link = Link::new(LinkConfig::new("ab", "b"), 9).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sent = Sent::default();
    let acts = link.tick(&mut a, clock.now_ms());
    carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
    // c's rows come to a by reconcile: no log record, no vv entry at a.
    for k in 100..110 {
        put(&mut c, k, "from-c");
    }
    let pull = SyncConfig {
        mode: SyncMode::Reconcile,
        direction: SyncDirection::Pull,
        ..SyncConfig::default()
    };
    a.sync_with(&mut c, pull).unwrap();
    assert!(same(&a, &c) && !same(&a, &b));
    // Live commits go as frames; the periodic catch-up session brings the rest.
    let start = clock.now_ms();
    let mut k = 0;
    while clock.now_ms() <= start + CATCHUP_EVERY_MS {
        put(&mut a, k, "live");
        k += 1;
        let acts = link.on_commit(&mut a, clock.now_ms());
        carry(&mut link, &mut a, &mut b, acts, clock.now_ms(), &mut sent);
        clock.advance(50);
    }
    assert!(sent.push >= 15, "{sent:?}");
    assert!(
        same(&a, &b),
        "c's rows reached b within one catch-up period"
    );
    assert!(link.next_wake().unwrap() <= clock.now_ms() + CATCHUP_EVERY_MS);
}

#[test]
fn the_peer_validates_a_pushed_batch_like_a_sync_push() {
    // b's clock is 10 minutes behind a's: a's stamps exceed b's drift limit.
    let (ca, cb) = (ManualClock::new(10_000_000), ManualClock::new(9_400_000));
    let (mut a, mut b) = (region("a", &ca), region("b", &cb));
    let mut link = Link::new(LinkConfig::new("ab", "b"), 10).unwrap();
    link.start(ca.now_ms()).unwrap();
    let mut sent = Sent::default();
    let acts = link.tick(&mut a, ca.now_ms());
    carry(&mut link, &mut a, &mut b, acts, ca.now_ms(), &mut sent);
    assert_eq!(link.status(&a, ca.now_ms()).last_error, None);
    put(&mut a, 1, "future");
    let acts = link.on_commit(&mut a, ca.now_ms());
    let Some(LinkAction::Send(frame)) = acts.into_iter().find(|x| matches!(x, LinkAction::Send(_)))
    else {
        panic!("no frame")
    };
    assert_eq!(&frame[..4], MAGIC_PUSH);
    let reply = respond(&mut b, &frame, CAP).unwrap();
    let ack = decode_ack(&reply).unwrap();
    assert_eq!(ack.outcome.as_ref().unwrap_err().0, "ClockDrift");
    assert_eq!(ack.vv, None);
    let _ = link.on_reply(&mut a, &reply, ca.now_ms());
    let s = link.status(&a, ca.now_ms());
    assert!(
        s.last_error.as_deref().unwrap().contains("ClockDrift"),
        "{s:?}"
    );
    assert_eq!((s.records_shipped, s.pending, s.sessions_failed), (0, 1, 1));
    assert!(
        b.changes_since(1, 10).unwrap().records.is_empty(),
        "nothing applied"
    );
    // A damaged frame is refused with a stable code, not applied.
    let mut bad = frame.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(
        respond(&mut b, &bad, CAP).unwrap_err().code(),
        "CorruptData"
    );
}
