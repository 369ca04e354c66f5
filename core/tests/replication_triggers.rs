//! Trigger semantics of replication links, driven in process with an
//! explicit clock: realtime, delayed(D), periodic, manual, pause/resume,
//! paused past log retention, status (lag, pending, RPO), persisted state.

use tablesync::replication::{respond, Link, LinkAction, LinkConfig, LinkState, Trigger};
use tablesync::sync::SyncDirection;
use tablesync::*;

mod common;
use common::{put, region};

const CAP: usize = sync::DEFAULT_MAX_FRAME_BYTES;

fn get(db: &Database, k: i64) -> Option<String> {
    let row = db
        .get_row("t", &PrimaryKey::new([("k", k)]), &GetOptions::default())
        .unwrap()?;
    match row.get("v") {
        Some(Value::String(s)) => Some(s.clone()),
        other => panic!("unexpected {other:?}"),
    }
}

/// Carries a link's frames to `peer` and back at once; returns bytes sent.
fn carry(
    link: &mut Link,
    src: &mut Database,
    peer: &mut Database,
    mut actions: Vec<LinkAction>,
    now: i64,
) -> u64 {
    let mut sent = 0;
    while let Some(a) = actions.pop() {
        if let LinkAction::Send(bytes) = a {
            sent += bytes.len() as u64;
            let reply = respond(peer, &bytes, CAP).unwrap();
            actions.extend(link.on_reply(src, &reply, now));
        }
    }
    sent
}

fn tick(link: &mut Link, src: &mut Database, peer: &mut Database, now: i64) -> u64 {
    let a = link.tick(src, now);
    carry(link, src, peer, a, now)
}

fn commit(link: &mut Link, src: &mut Database, peer: &mut Database, now: i64) -> u64 {
    let a = link.on_commit(src, now);
    carry(link, src, peer, a, now)
}

fn same(a: &Database, b: &Database) -> bool {
    a.table_digest("t").unwrap() == b.table_digest("t").unwrap()
}

#[test]
fn realtime_ships_each_commit_and_batches_while_in_flight() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(LinkConfig::new("ab", "b"), 1).unwrap();
    link.start(clock.now_ms()).unwrap();
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    for i in 0..20 {
        clock.advance(5);
        put(&mut a, i, "x");
        commit(&mut link, &mut a, &mut b, clock.now_ms());
        assert_eq!(
            get(&b, i).as_deref(),
            Some("x"),
            "commit {i} shipped at once"
        );
    }
    // Commits while a session is in flight wait for it, then go together.
    put(&mut a, 100, "y");
    let first = link.on_commit(&mut a, clock.now_ms());
    let LinkAction::Send(req) = &first[0] else {
        panic!("{first:?}")
    };
    put(&mut a, 101, "y");
    put(&mut a, 102, "y");
    let queued = link.on_commit(&mut a, clock.now_ms());
    assert!(
        queued.iter().all(|x| !matches!(x, LinkAction::Send(_))),
        "no second session while one is in flight"
    );
    let reply = respond(&mut b, req, CAP).unwrap();
    let next = link.on_reply(&mut a, &reply, clock.now_ms());
    assert!(
        next.iter().any(|x| matches!(x, LinkAction::Send(_))),
        "the batched commits go next"
    );
    carry(&mut link, &mut a, &mut b, next, clock.now_ms());
    assert!(same(&a, &b));
    let s = link.status(&a, clock.now_ms());
    assert_eq!((s.pending, s.lag_ms, s.state), (0, 0, LinkState::Running));
    assert!(s.records_shipped >= 23 && s.bytes_shipped > 0, "{s:?}");
}

#[test]
fn delayed_shows_nothing_before_d_and_everything_by_d_plus_one_period() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let d = 30_000;
    let cfg = LinkConfig::new("ab", "b").trigger(Trigger::Delayed(d));
    let mut link = Link::new(cfg, 2).unwrap();
    link.start(clock.now_ms()).unwrap();
    let t0 = clock.now_ms();
    for i in 0..10 {
        put(&mut a, i, "v");
        commit(&mut link, &mut a, &mut b, clock.now_ms());
        clock.advance(100);
    }
    // Tick every 500 ms until just before the first record is D old.
    while clock.now_ms() < t0 + d - 1 {
        tick(&mut link, &mut a, &mut b, clock.now_ms());
        assert!(
            (0..10).all(|i| get(&b, i).is_none()),
            "nothing before D (t={})",
            clock.now_ms() - t0
        );
        clock.advance(500);
    }
    clock.set(t0 + d - 1);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert!(get(&b, 0).is_none());
    // The link asks to be woken when the first record is due.
    let wake = link.next_wake().unwrap();
    assert!(wake <= t0 + d, "wake at {wake}");
    clock.set(t0 + d);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert_eq!(get(&b, 0).as_deref(), Some("v"));
    assert!(get(&b, 9).is_none(), "later records still wait");
    clock.set(t0 + d + 1_000 + 500);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert!(same(&a, &b), "everything by D + one period");
}

#[test]
fn a_delayed_link_stopped_before_d_never_shows_the_write() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(
        LinkConfig::new("ab", "b").trigger(Trigger::Delayed(5_000)),
        3,
    )
    .unwrap();
    link.start(clock.now_ms()).unwrap();
    put(&mut a, 1, "good");
    commit(&mut link, &mut a, &mut b, clock.now_ms());
    clock.advance(6_000);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert_eq!(get(&b, 1).as_deref(), Some("good"));
    put(&mut a, 1, "bad write");
    commit(&mut link, &mut a, &mut b, clock.now_ms());
    clock.advance(4_000);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    link.stop();
    clock.advance(60_000);
    assert_eq!(tick(&mut link, &mut a, &mut b, clock.now_ms()), 0);
    assert_eq!(
        get(&b, 1).as_deref(),
        Some("good"),
        "the standby never saw the bad write"
    );
}

#[test]
fn manual_sends_zero_bytes_until_triggered() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let cfg = LinkConfig::new("ab", "b")
        .trigger(Trigger::Manual)
        .direction(SyncDirection::Both);
    let mut link = Link::new(cfg, 4).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sent = 0;
    for i in 0..50 {
        put(&mut a, i, "a");
        put(&mut b, 1000 + i, "b");
        sent += commit(&mut link, &mut a, &mut b, clock.now_ms());
        clock.advance(1_000);
        sent += tick(&mut link, &mut a, &mut b, clock.now_ms());
    }
    assert_eq!(sent, 0);
    assert_eq!(link.next_wake(), None);
    let s = link.status(&a, clock.now_ms());
    assert_eq!(s.pending, 50);
    assert_eq!(s.lag_ms, 50_000);
    assert_eq!(s.rpo_ms, None, "unbounded until triggered");
    link.trigger().unwrap();
    assert!(tick(&mut link, &mut a, &mut b, clock.now_ms()) > 0);
    assert!(same(&a, &b));
    assert_eq!(get(&a, 1000).as_deref(), Some("b"));
    let s = link.status(&a, clock.now_ms());
    assert_eq!((s.pending, s.lag_ms, s.rpo_ms), (0, 0, Some(0)));
}

#[test]
fn periodic_runs_once_per_period() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(
        LinkConfig::new("ab", "b").trigger(Trigger::Periodic(10_000)),
        5,
    )
    .unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut sessions_with_bytes = 0;
    for step in 0..100 {
        put(&mut a, step, "p");
        let sent = commit(&mut link, &mut a, &mut b, clock.now_ms())
            + tick(&mut link, &mut a, &mut b, clock.now_ms());
        if sent > 0 {
            sessions_with_bytes += 1;
        }
        clock.advance(1_000);
    }
    // 100 s at one session per 10 s (the first at start).
    assert!(
        (10..=11).contains(&link.status(&a, clock.now_ms()).sessions_ok),
        "{:?}",
        link.status(&a, clock.now_ms())
    );
    assert!(sessions_with_bytes >= 9);
    let s = link.status(&a, clock.now_ms());
    assert!(s.pending > 0 && s.pending <= 10, "{s:?}");
    assert_eq!(s.rpo_ms, Some(s.lag_ms.max(10_000)));
}

#[test]
fn pause_writes_resume_loses_and_duplicates_nothing() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(LinkConfig::new("ab", "b"), 6).unwrap();
    link.start(clock.now_ms()).unwrap();
    for i in 0..10 {
        put(&mut a, i, "1");
        commit(&mut link, &mut a, &mut b, clock.now_ms());
    }
    // Pause with a session in flight: its reply arrives after the pause.
    put(&mut a, 10, "1");
    let acts = link.on_commit(&mut a, clock.now_ms());
    let LinkAction::Send(req) = &acts[0] else {
        panic!()
    };
    let late_reply = respond(&mut b, req, CAP).unwrap();
    link.pause().unwrap();
    assert!(link
        .on_reply(&mut a, &late_reply, clock.now_ms())
        .is_empty());
    for i in 0..40 {
        put(&mut a, i, "2");
        assert_eq!(
            commit(&mut link, &mut a, &mut b, clock.now_ms()),
            0,
            "paused: nothing moves"
        );
        clock.advance(10);
    }
    assert_eq!(get(&b, 20), None);
    link.resume(clock.now_ms()).unwrap();
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert!(same(&a, &b));
    // Each record is held once at the target, none missing.
    let ra = a.changes_since(0, 10_000).unwrap().records;
    let rb = b.changes_since(0, 10_000).unwrap().records;
    let ids = |r: &[ChangeRecord]| {
        let mut v: Vec<_> = r.iter().map(|r| (r.origin.clone(), r.seq)).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&ra), ids(&rb));
    assert_eq!(rb.len(), 51);
}

#[test]
fn a_link_paused_past_retention_converges_through_reconcile() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    for link_trigger in [Trigger::Realtime, Trigger::Delayed(1_000)] {
        let mut link =
            Link::new(LinkConfig::new("ab", "b").trigger(link_trigger.clone()), 7).unwrap();
        link.start(clock.now_ms()).unwrap();
        for i in 0..20 {
            put(&mut a, i, "before");
            commit(&mut link, &mut a, &mut b, clock.now_ms());
        }
        clock.advance(2_000);
        tick(&mut link, &mut a, &mut b, clock.now_ms());
        assert!(same(&a, &b), "{link_trigger:?}");
        link.pause().unwrap();
        for i in 0..300 {
            put(&mut a, i % 50, &format!("after{i}"));
        }
        let next = a.next_cursor().unwrap();
        a.truncate_log(next).unwrap();
        link.resume(clock.now_ms()).unwrap();
        clock.advance(2_000);
        for _ in 0..3 {
            tick(&mut link, &mut a, &mut b, clock.now_ms());
            clock.advance(100);
        }
        assert!(same(&a, &b), "{link_trigger:?}: converged without the log");
        let s = link.status(&a, clock.now_ms());
        assert_eq!(s.pending, 0, "{s:?}");
        assert!(s.last_error.is_none(), "{s:?}");
    }
}

#[test]
fn pull_links_bring_the_peer_writes_and_report_staleness() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let cfg = LinkConfig::new("ba", "b").direction(SyncDirection::Pull);
    let mut link = Link::new(cfg, 8).unwrap();
    link.start(clock.now_ms()).unwrap();
    for i in 0..5 {
        put(&mut b, i, "from b");
        clock.advance(250);
        tick(&mut link, &mut a, &mut b, clock.now_ms());
    }
    assert!(same(&a, &b));
    put(&mut a, 99, "local only");
    clock.advance(300);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert_eq!(get(&b, 99), None, "pull never pushes");
    assert!(link.status(&a, clock.now_ms()).lag_ms <= 300);
}

#[test]
fn link_state_survives_a_restart_and_resumes_from_its_cursor() {
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let mut link = Link::new(
        LinkConfig::new("ab", "b").trigger(Trigger::Delayed(1_000)),
        9,
    )
    .unwrap();
    link.start(clock.now_ms()).unwrap();
    for i in 0..30 {
        put(&mut a, i, "v");
    }
    clock.advance(1_500);
    tick(&mut link, &mut a, &mut b, clock.now_ms());
    assert!(same(&a, &b));
    let saved = link.encode_state();
    let mut restored = Link::decode_state(&saved, 10).unwrap();
    assert_eq!(restored.config(), link.config());
    assert_eq!(restored.state(), LinkState::Running);
    assert_eq!(restored.status(&a, clock.now_ms()).records_shipped, 30);
    assert_eq!(restored.status(&a, clock.now_ms()).pending, 0);
    // Nothing new: the restored link ships no records again.
    let before = restored.status(&a, clock.now_ms()).records_shipped;
    tick(&mut restored, &mut a, &mut b, clock.now_ms());
    assert_eq!(restored.status(&a, clock.now_ms()).records_shipped, before);
    // Damaged state is refused with a typed error.
    let mut bad = saved.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    assert_eq!(
        Link::decode_state(&bad, 1).err().unwrap().code(),
        "CorruptData"
    );
}

#[cfg(feature = "fs")]
#[test]
fn link_files_are_written_atomically_and_loaded_back() {
    let dir = tempfile::tempdir().unwrap();
    let a = Link::new(
        LinkConfig::new("to-us", "us").trigger(Trigger::Periodic(10_000)),
        1,
    )
    .unwrap();
    let b = Link::new(
        LinkConfig::new("to-ap", "ap").direction(SyncDirection::Both),
        1,
    )
    .unwrap();
    tablesync::replication::files::save(dir.path(), &a).unwrap();
    tablesync::replication::files::save(dir.path(), &b).unwrap();
    let loaded = tablesync::replication::files::load_all(dir.path(), 5).unwrap();
    let names: Vec<_> = loaded.iter().map(|l| l.config().name.clone()).collect();
    assert_eq!(names, ["to-ap", "to-us"]);
    assert_eq!(loaded[1].config(), a.config());
    tablesync::replication::files::remove(dir.path(), "to-us").unwrap();
    assert_eq!(
        tablesync::replication::files::load_all(dir.path(), 5)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn bad_configurations_are_refused() {
    let bad = [
        LinkConfig::new("", "b"),
        LinkConfig::new("a/b", "b"),
        LinkConfig::new("ab", ""),
        LinkConfig::new("ab", "b")
            .trigger(Trigger::Delayed(5))
            .direction(SyncDirection::Both),
    ];
    for c in bad {
        assert_eq!(Link::new(c, 1).err().unwrap().code(), "OTSParameterInvalid");
    }
    let mut l = Link::new(LinkConfig::new("ab", "b"), 1).unwrap();
    assert!(l.trigger().is_err(), "not started");
    l.start(0).unwrap();
    l.stop();
    assert!(l.resume(0).is_err());
}

#[test]
fn cron_runs_one_session_per_fire_time_and_survives_a_restart() {
    // Starts at 1,000,000 ms (a whole second), sim clock in 250 ms steps.
    let clock = ManualClock::new(1_000_000);
    let (mut a, mut b) = (region("a", &clock), region("b", &clock));
    let trigger = Trigger::parse("cron:*/5 * * * * *").unwrap();
    let mut link = Link::new(LinkConfig::new("ab", "b").trigger(trigger.clone()), 11).unwrap();
    link.start(clock.now_ms()).unwrap();
    let mut session_times = Vec::new();
    for step in 0..120 {
        if step % 4 == 0 {
            put(&mut a, step, "c");
        }
        let before = link.status(&a, clock.now_ms()).sessions_ok;
        commit(&mut link, &mut a, &mut b, clock.now_ms());
        tick(&mut link, &mut a, &mut b, clock.now_ms());
        if link.status(&a, clock.now_ms()).sessions_ok > before {
            session_times.push(clock.now_ms());
        }
        // The link asks to be woken no later than the next multiple of 5 s.
        let wake = link.next_wake().unwrap();
        assert!(wake <= (clock.now_ms() / 5_000 + 1) * 5_000, "wake {wake}");
        clock.advance(250);
    }
    // 30 s: the catch-up at start, then one session at each 5 s mark.
    assert_eq!(session_times[0], 1_000_000);
    assert_eq!(
        &session_times[1..],
        &[1_005_000, 1_010_000, 1_015_000, 1_020_000, 1_025_000][..]
    );
    let s = link.status(&a, clock.now_ms());
    assert_eq!(
        (s.trigger.as_str(), s.rpo_ms),
        ("cron:*/5 * * * * *", Some(s.lag_ms.max(5_000)))
    );
    // The expression is part of the saved state.
    let back = Link::decode_state(&link.encode_state(), 1).unwrap();
    assert_eq!(back.config().trigger, trigger);
}
