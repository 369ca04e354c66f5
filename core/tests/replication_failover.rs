//! Failure detection, failover and failback of a three-region group on a
//! perfect in-process network with one region cut off at will.

use std::collections::BTreeSet;
use std::sync::Arc;
use tablesync::replication::{GroupAction, GroupConfig, GroupMsg, GroupNode, PeerHealth, Role};
use tablesync::*;

const T0: i64 = 1_700_000_000_000;

struct Net {
    clock: ManualClock,
    dbs: Vec<Database>,
    nodes: Vec<GroupNode>,
    cut: Option<usize>,
    /// More regions cut off (several failovers in a row).
    down: BTreeSet<usize>,
}

impl Net {
    fn new(n: usize) -> Net {
        let clock = ManualClock::new(T0);
        let names: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
        let cfg = GroupConfig::new(names.clone());
        let mut dbs = Vec::new();
        let mut nodes = Vec::new();
        for name in &names {
            let mut db = Database::memory(DatabaseOptions::with_clock(
                name.clone(),
                Arc::new(clock.clone()),
            ))
            .unwrap();
            db.create_table(TableSchema::new(
                "t",
                vec![PkColumn::new("k", PkType::Integer)],
            ))
            .unwrap();
            let node = GroupNode::new(name, cfg.clone(), None, T0).unwrap();
            db.set_write_guard(Some(node.fence()));
            dbs.push(db);
            nodes.push(node);
        }
        Net {
            clock,
            dbs,
            nodes,
            cut: None,
            down: BTreeSet::new(),
        }
    }

    fn route(&mut self, from: usize, acts: Vec<GroupAction>) {
        let mut queue: Vec<(usize, usize, Vec<u8>)> = acts
            .into_iter()
            .map(|GroupAction::Send { to, bytes }| (from, to[1..].parse().unwrap(), bytes))
            .collect();
        while let Some((f, t, bytes)) = queue.pop() {
            if self.cut == Some(f)
                || self.cut == Some(t)
                || self.down.contains(&f)
                || self.down.contains(&t)
            {
                continue;
            }
            let now = self.clock.now_ms();
            let more = self.nodes[t].on_message(&self.dbs[t], &bytes, now).unwrap();
            queue.extend(
                more.into_iter()
                    .map(|GroupAction::Send { to, bytes }| (t, to[1..].parse().unwrap(), bytes)),
            );
        }
    }

    fn run(&mut self, ms: i64) {
        for _ in 0..ms / 10 {
            self.clock.advance(10);
            for i in 0..self.nodes.len() {
                let acts = self.nodes[i].tick(&self.dbs[i], self.clock.now_ms());
                self.route(i, acts);
            }
        }
    }

    fn write(&mut self, i: usize, k: i64) -> Result<PrimaryKey> {
        self.dbs[i].put_row(
            "t",
            PrimaryKey::new([("k", k)]),
            vec![Column::new("v", k)],
            Condition::ignore(),
        )
    }

    fn primary(&self, i: usize) -> String {
        self.nodes[i].state().primary.clone()
    }
}

#[test]
fn the_first_member_leads_after_one_lease_and_others_refuse_writes() {
    let mut net = Net::new(3);
    assert_eq!(
        net.write(0, 1).unwrap_err().code(),
        "StaleEpoch",
        "no write before the lease"
    );
    net.run(1_200);
    net.write(0, 1).unwrap();
    for i in 1..3 {
        let e = net.write(i, 2).unwrap_err();
        assert_eq!(e.code(), "StaleEpoch");
    }
    let s = net.nodes[0].status(net.clock.now_ms());
    assert_eq!((s.role, s.epoch, s.writable), (Role::Primary, 1, true));
    assert!(
        s.peers
            .iter()
            .all(|p| p.health == PeerHealth::Up && p.phi < 1.0),
        "{s:?}"
    );
    // A client that carries an old epoch is refused even at the primary.
    let fence = net.nodes[0].fence();
    assert_eq!(
        fence.check_epoch(0, net.clock.now_ms()).unwrap_err().code(),
        "StaleEpoch"
    );
    fence.check_epoch(1, net.clock.now_ms()).unwrap();
}

#[test]
fn a_cut_off_primary_is_detected_fenced_replaced_and_fails_back_after_resync() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    // r1 and r2 hold r0's first 6 writes, then r0 is cut off.
    let records = net.dbs[0].changes_since(0, 6).unwrap().records;
    net.dbs[1].apply_changes(&records).unwrap();
    net.dbs[2].apply_changes(&records).unwrap();
    net.cut = Some(0);
    let cut_at = net.clock.now_ms();
    // Detection: r0 is down for r1 within a second.
    let mut detected = None;
    while detected.is_none() {
        net.run(10);
        let v = net.nodes[1].status(net.clock.now_ms());
        if v.peers
            .iter()
            .any(|p| p.peer == "r0" && p.health == PeerHealth::Down)
        {
            detected = Some(net.clock.now_ms() - cut_at);
        }
    }
    assert!(detected.unwrap() <= 1_000, "detected after {detected:?} ms");
    // The old primary stops writing once its lease lapses (it keeps
    // acknowledging writes until then: async mode).
    net.run(1_000);
    assert_eq!(net.write(0, 50).unwrap_err().code(), "StaleEpoch");
    // After the grace period r1 (first in preference) is promoted.
    net.run(2_000);
    assert_eq!(net.primary(1), "r1");
    assert_eq!(net.nodes[1].state().epoch, 2);
    net.write(1, 100).unwrap();
    assert_eq!(net.write(2, 101).unwrap_err().code(), "StaleEpoch");
    // The old primary still believes it leads epoch 1, and cannot write.
    assert_eq!(net.primary(0), "r0");
    assert_eq!(net.write(0, 102).unwrap_err().code(), "StaleEpoch");
    // Heal: r0 learns epoch 2, steps down and reports what r1 lacked.
    net.cut = None;
    net.run(300);
    let s = net.nodes[0].status(net.clock.now_ms());
    assert_eq!(
        (s.epoch, s.primary.as_str(), s.role),
        (2, "r1", Role::Standby)
    );
    assert!(s.needs_resync);
    assert_eq!(s.lost.len(), 1, "{s:?}");
    let lost = &s.lost[0];
    assert_eq!(
        (lost.origin.as_str(), lost.from_seq, lost.to_seq, lost.epoch),
        ("r0", 7, 10, 1)
    );
    // Failback before resync is refused.
    let now = net.clock.now_ms();
    assert_eq!(
        net.nodes[0].promote(&net.dbs[0], now).unwrap_err().code(),
        "OTSParameterInvalid"
    );
    // Resync until digests match, then fail back.
    let (a, rest) = net.dbs.split_at_mut(1);
    let report = a[0]
        .sync_with(&mut rest[0], sync::SyncConfig::default())
        .unwrap();
    assert!(report.verified);
    net.nodes[0].mark_resynced();
    let now = net.clock.now_ms();
    let acts = net.nodes[0].promote(&net.dbs[0], now).unwrap();
    net.route(0, acts);
    assert_eq!(net.primary(0), "r0");
    net.run(1_200);
    assert_eq!(net.nodes[1].state().primary, "r0");
    assert_eq!(net.nodes[0].state().epoch, 3);
    net.write(0, 200).unwrap();
    assert_eq!(net.write(1, 201).unwrap_err().code(), "StaleEpoch");
    // The writes r1 lacked at promotion were merged back, not dropped.
    for k in 0..10 {
        assert!(net.dbs[1]
            .get_row("t", &PrimaryKey::new([("k", k)]), &GetOptions::default())
            .unwrap()
            .is_some());
    }
}

#[test]
fn a_minority_never_elects_a_primary() {
    let mut net = Net::new(3);
    net.run(1_200);
    // r2 alone: it cannot gather a majority however long it waits.
    net.cut = Some(2);
    net.run(5_000);
    assert_ne!(net.nodes[2].role(), Role::Primary);
    assert_eq!(net.write(2, 1).unwrap_err().code(), "StaleEpoch");
    // The majority side kept its primary.
    net.write(0, 1).unwrap();
}

#[test]
fn failover_rto_from_last_write_on_the_old_primary_to_first_on_the_new() {
    let mut net = Net::new(3);
    net.run(1_200);
    net.write(0, 0).unwrap();
    net.cut = Some(0);
    // Clients write every 10 ms to whichever region accepts.
    let (mut last_old, mut first_new) = (None, None);
    let mut k = 1;
    while first_new.is_none() {
        net.run(10);
        k += 1;
        if net.write(0, k).is_ok() {
            last_old = Some(net.clock.now_ms());
        }
        for i in 1..3 {
            if first_new.is_none() && net.write(i, k).is_ok() {
                first_new = Some(net.clock.now_ms());
            }
        }
        assert!(k < 1_000, "no new primary within 10 s");
    }
    let last_old = last_old.expect("the old primary kept its lease for a while");
    let rto = first_new.unwrap() - last_old;
    println!("failover RTO (simulated, 100 ms heartbeats, 1 s lease, 1.5 s grace): {rto} ms (target ≤ 2000 ms)");
    assert!(rto > 0, "the two primaries' write windows overlap");
    assert!(rto <= 2_000, "RTO {rto} ms");
}

#[test]
fn the_freshest_standby_is_elected_even_when_it_comes_later_in_preference() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    // r2 (last in preference) holds all ten writes, r1 only the first four.
    let all = net.dbs[0].changes_since(0, 10).unwrap().records;
    net.dbs[2].apply_changes(&all).unwrap();
    net.dbs[1].apply_changes(&all[..4]).unwrap();
    net.run(300); // heartbeats carry the new freshness
    net.cut = Some(0);
    net.run(4_000);
    assert_eq!(net.primary(1), "r2", "r1 knows r2 is fresher");
    assert_eq!(net.primary(2), "r2");
    assert_eq!(net.nodes[2].role(), Role::Primary);
    assert_eq!(net.nodes[2].state().handover().unwrap().held_seq, 10);
    net.write(2, 100).unwrap();
    // Nothing acknowledged by r0 was lost: r2 held all of it.
    net.cut = None;
    net.run(300);
    let s = net.nodes[0].status(net.clock.now_ms());
    assert_eq!((s.epoch, s.primary.as_str()), (2, "r2"));
    assert!(s.lost.is_empty(), "{s:?}");
}

#[test]
fn a_stale_candidate_never_wins_an_automatic_election() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..5 {
        net.write(0, k).unwrap();
    }
    let all = net.dbs[0].changes_since(0, 5).unwrap().records;
    net.dbs[2].apply_changes(&all).unwrap();
    net.cut = Some(0);
    net.run(2_000);
    // r1 (stale: none of r0's writes) asks r2 for a vote, claiming its own
    // freshness; r2 holds more and refuses, and its vote stays unspent.
    let now = net.clock.now_ms();
    let promised = net.nodes[2].state().voted_epoch;
    let req = GroupMsg::VoteRequest {
        from: "r1".into(),
        epoch: promised + 5,
        forced: false,
        freshness: Default::default(),
    }
    .encode();
    let answer = net.nodes[2].on_message(&net.dbs[2], &req, now).unwrap();
    let GroupAction::Send { to, bytes } = &answer[0];
    assert_eq!(to, "r1");
    match GroupMsg::decode(bytes).unwrap() {
        GroupMsg::Vote { granted, .. } => assert!(!granted, "a stale candidate got a vote"),
        m => panic!("unexpected answer {m:?}"),
    }
    assert_eq!(net.nodes[2].state().voted_epoch, promised);
    // However long the election runs, r1 never leads.
    for _ in 0..40 {
        net.run(100);
        assert_ne!(net.nodes[1].role(), Role::Primary);
    }
    assert_eq!(net.primary(2), "r2");
}

/// Issue 13 (the short lost-range report of `serve_failover_auto`): a
/// killed primary restarts from its persisted state and first learns the
/// new epoch from an ACK to its own heartbeat, not from the new primary's
/// heartbeat. It must report the writes the new primary lacked right then,
/// not only once a heartbeat carrying the handover happens to arrive.
#[test]
fn a_restarted_old_primary_reports_its_lost_writes_as_soon_as_it_learns_the_epoch() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    let records = net.dbs[0].changes_since(0, 8).unwrap().records;
    net.dbs[1].apply_changes(&records).unwrap();
    net.dbs[2].apply_changes(&records).unwrap();
    net.run(300); // freshness reaches the standbys
    net.cut = Some(0);
    net.run(4_000);
    assert_eq!(
        (net.primary(1), net.nodes[1].state().epoch),
        ("r1".into(), 2)
    );
    // r0 restarts (same directory: its database and group state).
    let now = net.clock.now_ms();
    let saved = net.nodes[0].state().clone();
    net.nodes[0] = GroupNode::new(
        "r0",
        GroupConfig::new(vec!["r0".into(), "r1".into(), "r2".into()]),
        Some(saved),
        now,
    )
    .unwrap();
    net.dbs[0].set_write_guard(Some(net.nodes[0].fence()));
    let s = net.nodes[0].status(now);
    assert!(!s.lost_pending && s.lost.is_empty());
    net.cut = None;
    // Only r0's first heartbeat and the answers to it: r1's own heartbeat
    // has not arrived yet.
    let acts = net.nodes[0].tick(&net.dbs[0], now);
    net.route(0, acts);
    let s = net.nodes[0].status(now);
    assert_eq!(
        (s.epoch, s.primary.as_str(), s.role),
        (2, "r1", Role::Standby)
    );
    assert!(s.needs_resync);
    assert!(!s.lost_pending, "{s:?}");
    let lost: Vec<_> = s
        .lost
        .iter()
        .map(|l| (l.origin.as_str(), l.from_seq, l.to_seq, l.epoch))
        .collect();
    assert_eq!(lost, [("r0", 9, 10, 1)]);
}

/// The handover's held sequence is what the new primary holds when it
/// wins, not when it stood: a record of the old primary that lands between
/// the two is not reported lost.
#[test]
fn the_handover_counts_what_the_candidate_holds_when_it_wins() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..6 {
        net.write(0, k).unwrap();
    }
    let records = net.dbs[0].changes_since(0, 6).unwrap().records;
    net.dbs[1].apply_changes(&records[..4]).unwrap();
    net.dbs[2].apply_changes(&records[..4]).unwrap();
    net.run(300);
    net.cut = Some(0);
    // Stop as soon as r1 stands, before r2 has answered.
    let mut stood = false;
    for _ in 0..500 {
        net.clock.advance(10);
        let now = net.clock.now_ms();
        let acts = net.nodes[1].tick(&net.dbs[1], now);
        if net.nodes[1].role() == Role::Candidate {
            // Two more of r0's records, in flight, reach r1.
            net.dbs[1].apply_changes(&records[4..]).unwrap();
            net.route(1, acts);
            stood = true;
            break;
        }
        net.route(1, acts);
        let acts = net.nodes[2].tick(&net.dbs[2], now);
        net.route(2, acts);
    }
    assert!(stood, "r1 never stood");
    assert_eq!(net.primary(1), "r1");
    assert_eq!(net.nodes[1].state().handover().unwrap().held_seq, 6);
}

/// Heartbeats that stall for a while (a loaded machine) but less than the
/// detector's threshold never start an election, however often it happens.
/// With 100 ms heartbeats and the 50 ms deviation floor, phi reaches 8
/// after about 360 ms of silence; a stall of up to 220 ms leaves at most
/// 320 ms (one heartbeat period more).
#[test]
fn stalls_below_the_detection_threshold_never_elect() {
    let mut net = Net::new(3);
    net.run(1_200);
    for round in 0..60 {
        net.cut = Some(0);
        net.run(180 + (round % 3) * 20);
        net.cut = None;
        net.run(700);
        for i in 0..3 {
            assert_eq!(net.nodes[i].state().epoch, 1, "round {round}: an election");
            assert_ne!(net.nodes[i].role(), Role::Candidate, "round {round}");
        }
    }
    net.write(0, 1).unwrap();
}

/// The group reads its region (the version vector, which a driver keeps
/// behind the database lock) only when it needs it: for heartbeats and
/// elections, not on every tick.
#[test]
fn ticks_between_heartbeats_do_not_read_the_region() {
    use std::cell::Cell;
    use std::collections::BTreeMap;
    use tablesync::replication::GroupRegion;
    struct Counting<'a>(&'a Database, &'a Cell<u32>);
    impl GroupRegion for Counting<'_> {
        fn version_vector(&self) -> Result<BTreeMap<String, u64>> {
            self.1.set(self.1.get() + 1);
            self.0.version_vector()
        }
    }
    let mut net = Net::new(3);
    net.run(1_200);
    let reads = Cell::new(0);
    // 1 s of 5 ms ticks on r1 (200 ticks, 10 heartbeat periods).
    for _ in 0..200 {
        net.clock.advance(5);
        let now = net.clock.now_ms();
        let region = Counting(&net.dbs[1], &reads);
        let acts = net.nodes[1].tick(&region, now);
        net.route(1, acts);
    }
    assert!(
        reads.get() <= 11,
        "{} region reads in 200 ticks",
        reads.get()
    );
    assert!(reads.get() >= 9, "heartbeats carry the vector");
}

/// A killed primary (no more heartbeats) is replaced, and the new primary
/// writes about one lease after the old one's last acknowledged heartbeat:
/// the election starts at detection and overlaps the lease wait.
#[test]
fn a_killed_primary_is_replaced_about_one_lease_after_its_last_heartbeat() {
    let mut net = Net::new(3);
    net.run(1_200);
    net.write(0, 0).unwrap();
    let killed = net.clock.now_ms();
    net.cut = Some(0);
    let mut first_new = None;
    let mut k = 1;
    while first_new.is_none() {
        net.run(10);
        k += 1;
        for i in 1..3 {
            if first_new.is_none() && net.write(i, k).is_ok() {
                first_new = Some(net.clock.now_ms() - killed);
            }
        }
        assert!(k < 1_000, "no new primary within 10 s");
    }
    let rto = first_new.unwrap();
    println!("RTO after a kill (simulated, 100 ms heartbeats, 1 s lease): {rto} ms");
    // One lease (1 s) from the last acknowledged heartbeat, which is at
    // most one heartbeat period before the kill, plus a tick.
    assert!((900..=1_150).contains(&rto), "RTO {rto} ms");
}

fn lost_of(net: &Net, i: usize) -> Vec<(String, u64, u64, u64)> {
    let s = net.nodes[i].status(net.clock.now_ms());
    assert!(!s.lost_pending, "{s:?}");
    s.lost
        .iter()
        .map(|l| (l.origin.clone(), l.from_seq, l.to_seq, l.epoch))
        .collect()
}

fn ship(net: &mut Net, from: usize, n: usize, to: &[usize]) {
    let records = net.dbs[from].changes_since(0, 1_000).unwrap().records;
    let own: Vec<_> = records
        .into_iter()
        .filter(|r| r.origin == format!("r{from}"))
        .take(n)
        .collect();
    for &t in to {
        net.dbs[t].apply_changes(&own).unwrap();
    }
}

/// Issue 13, two failovers before the old primary returns: r0 leads and
/// dies, r1 is elected and dies, r2 is elected, then r0 and r1 come back.
/// Each reports what it acknowledged and the primaries after it lacked,
/// although the handover that began the current epoch is about r1 only.
#[test]
fn after_two_failovers_each_returning_old_primary_reports_its_lost_writes() {
    let mut net = Net::new(5);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    ship(&mut net, 0, 6, &[1, 2, 3, 4]);
    net.run(300);
    net.down.insert(0);
    net.run(4_000);
    assert_eq!(
        (net.primary(1), net.nodes[1].state().epoch),
        ("r1".into(), 2)
    );
    for k in 100..105 {
        net.write(1, k).unwrap();
    }
    ship(&mut net, 1, 2, &[2, 3, 4]);
    net.run(300);
    net.down.insert(1);
    net.run(4_000);
    assert_eq!(
        (net.primary(2), net.nodes[2].state().epoch),
        ("r2".into(), 3)
    );
    net.write(2, 200).unwrap();
    // r0 comes back: two epochs passed, the newest handover names r1.
    net.down.remove(&0);
    net.run(300);
    assert_eq!(net.nodes[0].state().epoch, 3);
    assert_eq!(lost_of(&net, 0), [("r0".into(), 7, 10, 1)]);
    // r1 comes back too and reports its own.
    net.down.remove(&1);
    net.run(300);
    assert_eq!(lost_of(&net, 1), [("r1".into(), 3, 5, 2)]);
    // Every member keeps the chain.
    let epochs: Vec<u64> = net.nodes[4]
        .state()
        .handovers
        .iter()
        .map(|h| h.epoch)
        .collect();
    assert_eq!(epochs, [2, 3]);
}

/// The loss starts at the lowest hold over every handover after the epoch
/// the member led: an intermediate primary that held more of r0's writes
/// than its successor does not hide the ones the successor began without.
/// After a failback, only the handovers after r0's latest epoch count.
#[test]
fn writes_held_by_an_intermediate_primary_only_are_reported_and_old_handovers_do_not_count_again() {
    let mut net = Net::new(5);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    // r1 (the freshest, elected) holds r0's first 8; the others only 4.
    ship(&mut net, 0, 8, &[1]);
    ship(&mut net, 0, 4, &[2, 3, 4]);
    net.run(300);
    net.down.insert(0);
    net.run(4_000);
    assert_eq!(net.primary(1), "r1");
    assert_eq!(net.nodes[1].state().handover().unwrap().held_seq, 8);
    // r1 dies before passing r0's 5..8 on; r2 begins epoch 3 without them.
    net.down.insert(1);
    net.run(4_000);
    assert_eq!(
        (net.primary(2), net.nodes[2].state().epoch),
        ("r2".into(), 3)
    );
    assert_eq!(
        net.nodes[2].state().handover().unwrap().held_of("r0"),
        Some(4)
    );
    net.down.remove(&0);
    net.run(300);
    assert_eq!(lost_of(&net, 0), [("r0".into(), 5, 10, 1)]);
    // Failback: r0 resyncs with r2 and leads again.
    {
        let (a, b) = net.dbs.split_at_mut(2);
        assert!(
            a[0].sync_with(&mut b[0], sync::SyncConfig::default())
                .unwrap()
                .verified
        );
    }
    net.nodes[0].mark_resynced();
    let now = net.clock.now_ms();
    let acts = net.nodes[0].promote(&net.dbs[0], now).unwrap();
    net.route(0, acts);
    net.run(1_200);
    assert_eq!(net.primary(0), "r0");
    let led = net.nodes[0].state().epoch;
    // r2 led epoch 3: it resyncs too, so that it may stand again (a
    // standby defers to a fresher live peer, even one that must resync).
    {
        let (a, b) = net.dbs.split_at_mut(2);
        assert!(
            a[0].sync_with(&mut b[0], sync::SyncConfig::default())
                .unwrap()
                .verified
        );
    }
    net.nodes[2].mark_resynced();
    for k in 300..305 {
        net.write(0, k).unwrap();
    }
    // r0's seqs 11..15; the others get up to 13.
    let records = net.dbs[0].changes_since(0, 1_000).unwrap().records;
    let upto13: Vec<_> = records
        .into_iter()
        .filter(|r| r.origin == "r0" && r.seq <= 13)
        .collect();
    for t in 2..5 {
        net.dbs[t].apply_changes(&upto13).unwrap();
    }
    net.run(300);
    net.down.insert(0);
    net.run(4_000);
    let primary = net.primary(2);
    assert_ne!(primary, "r0");
    net.down.remove(&0);
    net.run(300);
    // The handover of epoch 3 (r0 held up to 4) is older than the epoch r0
    // led last: it does not count again.
    assert_eq!(
        lost_of(&net, 0),
        [("r0".into(), 5, 10, 1), ("r0".into(), 14, 15, led)]
    );
}

/// An old primary that learnt the new epoch from a peer that did not know
/// the handover yet, then restarted, still reports its lost writes once
/// the handover arrives: the pending step-down is persisted.
#[test]
fn a_pending_lost_report_survives_a_restart() {
    let mut net = Net::new(3);
    net.run(1_200);
    for k in 0..10 {
        net.write(0, k).unwrap();
    }
    ship(&mut net, 0, 7, &[1, 2]);
    net.run(300);
    net.cut = Some(0);
    net.run(4_000);
    assert_eq!(net.primary(1), "r1");
    // r0 hears of epoch 2 from r2, without any handover.
    let now = net.clock.now_ms();
    let hb = GroupMsg::Heartbeat {
        from: "r2".into(),
        epoch: 2,
        primary: "r1".into(),
        sent_ms: now,
        handovers: Vec::new(),
        freshness: Default::default(),
    }
    .encode();
    net.nodes[0].on_message(&net.dbs[0], &hb, now).unwrap();
    let s = net.nodes[0].status(now);
    assert_eq!((s.epoch, s.lost_pending), (2, true), "{s:?}");
    // r0 restarts from what it persisted.
    let saved = tablesync::replication::GroupState::decode(&net.nodes[0].state().encode()).unwrap();
    net.nodes[0] = GroupNode::new(
        "r0",
        GroupConfig::new(vec!["r0".into(), "r1".into(), "r2".into()]),
        Some(saved),
        now,
    )
    .unwrap();
    net.dbs[0].set_write_guard(Some(net.nodes[0].fence()));
    assert!(net.nodes[0].status(now).lost_pending);
    net.cut = None;
    net.run(300);
    assert_eq!(lost_of(&net, 0), [("r0".into(), 8, 10, 1)]);
}

/// Measured: with `min_silence_ms` = 1 200 ms, stalls of the primary of up
/// to 1 s (100 ms heartbeats) never start an election, and a killed primary
/// is still replaced; the default (0) elects on such a stall. Prints the
/// failover time after a kill with both settings (same run).
#[test]
fn min_silence_rides_out_one_second_stalls_at_a_measured_failover_cost() {
    fn net_with(min_silence_ms: i64) -> Net {
        let mut net = Net::new(3);
        for n in &mut net.nodes {
            let mut cfg = GroupConfig::new(vec!["r0".into(), "r1".into(), "r2".into()]);
            cfg.min_silence_ms = min_silence_ms;
            *n = GroupNode::new(n.me(), cfg, None, T0).unwrap();
        }
        for i in 0..3 {
            let fence = net.nodes[i].fence();
            net.dbs[i].set_write_guard(Some(fence));
        }
        net.run(1_200);
        net
    }
    fn stalls_elect(net: &mut Net, stall_ms: i64) -> bool {
        for round in 0..20 {
            net.cut = Some(0);
            net.run(stall_ms - (round % 3) * 10);
            net.cut = None;
            net.run(1_500);
            if net.nodes.iter().any(|n| n.state().epoch != 1) {
                return true;
            }
        }
        false
    }
    fn rto_after_kill(net: &mut Net) -> i64 {
        net.write(0, 0).unwrap();
        let killed = net.clock.now_ms();
        net.cut = Some(0);
        let mut k = 1;
        loop {
            net.run(10);
            k += 1;
            for i in 1..3 {
                if net.write(i, k).is_ok() {
                    return net.clock.now_ms() - killed;
                }
            }
            assert!(k < 1_000, "no new primary within 10 s");
        }
    }
    let mut default = net_with(0);
    assert!(
        stalls_elect(&mut default, 1_000),
        "the default (0) no longer elects on a 1 s stall"
    );
    let mut patient = net_with(1_200);
    assert!(!stalls_elect(&mut patient, 1_000), "a 1 s stall elected");
    let rto_default = rto_after_kill(&mut net_with(0));
    let rto_patient = rto_after_kill(&mut net_with(1_200));
    println!(
        "failover after a kill (simulated, 100 ms heartbeats, 1 s lease): min_silence 0: {rto_default} ms; min_silence 1200: {rto_patient} ms"
    );
    assert!(rto_patient > rto_default);
    assert!(rto_patient <= 1_600, "{rto_patient} ms");
}
