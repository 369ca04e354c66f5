//! An exhaustive model check (the `stateright` crate, breadth-first) of the
//! core's map-change protocol: the real `MapChange` and `RegionMap` of
//! `tablesync::cluster::map_change`, in a bounded world:
//!
//! - two regions (datacenters dc0 and dc1) and one range partition whose
//!   home moves dc0 → dc1, then back (two changes, run one at a time);
//! - clients writing to either region under any epoch they may have cached
//!   (stale maps included), a bounded number of writes;
//! - a network that loses, duplicates and reorders every protocol message
//!   (a sent message stays deliverable any number of times, or never);
//! - replication copying a region's log to the other at any time (how a new
//!   home catches up), reporting the position it reached.
//!
//! Checked in every reachable state: never two regions admitting writes for
//! the partition; writes admitted under non-decreasing epochs, by one
//! region per epoch; a region admitting writes holds every acknowledged
//! write; and from every reachable state, healing (messages delivered,
//! replication, resends) finishes every change with the last map's home
//! serving and holding every acknowledged write. A second test plants a
//! bug (a new home serving while still catching up) and the checker finds
//! the lost write.
//!
//! Bounds (CI): 3 client writes — about 2,900 distinct states, a few
//! seconds on a debug build; `TABLESYNC_MAP_MODEL_WRITES=N` widens them.
//! Region crashes are not modelled: a region's `RegionMap` and log are
//! durable (the driver persists the map after each change), so a restart
//! is the same state (the seeded `cluster_map_change.rs` crashes regions).

use stateright::{Checker, Model, Property};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use tablesync::cluster::map_change::{Admission, ChangePhase, MapChange, MapMsg, RegionMap};
use tablesync::cluster::{
    ClusterMap, Datacenter, Placement, RangePartition, TablePlacement, WriteMode,
};
use tablesync::codec::key::encode_key_values;
use tablesync::PkValue;

const CHANGE: &str = "change";
const REGIONS: [&str; 2] = ["r0", "r1"];
/// The key every write goes to (the partition has every key).
fn key() -> Vec<u8> {
    encode_key_values([PkValue::Integer(7)].iter())
}

fn base_map() -> ClusterMap {
    let dcs: Vec<Datacenter> = (0..2)
        .map(|i| {
            Datacenter::new(
                format!("dc{i}"),
                [(REGIONS[i].to_string(), format!("http://r{i}"))],
            )
        })
        .collect();
    ClusterMap::new(dcs)
        .unwrap()
        .add_table(TablePlacement {
            table: "t".into(),
            replication_factor: 1,
            write_mode: WriteMode::Async,
            placement: Placement::Range {
                partitions: vec![RangePartition {
                    id: 0,
                    start: vec![],
                    datacenters: vec!["dc0".into()],
                }],
            },
        })
        .unwrap()
}

/// A write the partition's log holds: (write id, epoch it was admitted under).
type Entry = (u8, u64);

#[derive(Clone, Debug)]
struct Region {
    rm: RegionMap,
    /// The partition's log, in order (own writes and copied ones).
    log: Vec<Entry>,
}

#[derive(Clone, Debug)]
struct World {
    regions: [Region; 2],
    change: Option<MapChange>,
    /// Maps still to change to, in order.
    next: Vec<ClusterMap>,
    /// The newest map (what the next change starts from).
    latest: ClusterMap,
    /// Protocol messages in flight, keyed by their printed form.
    net: BTreeMap<String, (String, MapMsg)>,
    /// Acknowledged writes in admission order: (id, region, epoch).
    acked: Vec<(u8, usize, u64)>,
    /// Writes tried (bound).
    writes: u8,
    /// A planted bug (tests of the model): a new home admits writes while
    /// still catching up.
    admit_catching_up: bool,
}

impl Hash for World {
    fn hash<H: Hasher>(&self, h: &mut H) {
        format!("{self:?}").hash(h);
    }
}

impl PartialEq for World {
    fn eq(&self, other: &World) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for World {}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Act {
    /// Start the next map change (the previous one is done).
    StartChange,
    /// The change resends what is unanswered.
    ChangeTick,
    /// Deliver a message (it stays in flight: duplicates, reordering, loss).
    Deliver(String),
    /// Region `r` copies the other region's log and reports the position.
    Replicate(usize),
    /// A client writes to region `r` under map epoch `epoch`.
    Write { r: usize, epoch: u64 },
}

#[derive(Clone, Copy)]
struct MapChangeModel {
    max_writes: u8,
}

fn position(log: &[Entry]) -> u64 {
    log.len() as u64
}

impl World {
    fn new() -> World {
        let m1 = base_map();
        let m2 = m1.move_partition("t", 0, vec!["dc1".into()]).unwrap();
        let m3 = m2.move_partition("t", 0, vec!["dc0".into()]).unwrap();
        World {
            regions: [0, 1].map(|i| Region {
                rm: RegionMap::new(REGIONS[i], m1.clone()),
                log: Vec::new(),
            }),
            change: None,
            next: vec![m2, m3],
            latest: m1,
            net: BTreeMap::new(),
            acked: Vec::new(),
            writes: 0,
            admit_catching_up: false,
        }
    }

    fn send_all(&mut self, msgs: Vec<(String, MapMsg)>) {
        for (to, m) in msgs {
            self.net.insert(format!("{to} {m:?}"), (to, m));
        }
    }

    fn change_done(&self) -> bool {
        self.change
            .as_ref()
            .is_none_or(|c| c.phase() == ChangePhase::Done)
    }

    fn start_change(&mut self) -> bool {
        if !self.change_done() || self.next.is_empty() {
            return false;
        }
        let next = self.next.remove(0);
        let c = MapChange::new(&self.latest, next.clone()).unwrap();
        self.send_all(c.tick());
        self.change = Some(c);
        self.latest = next;
        true
    }

    fn deliver(&mut self, to: &str, msg: MapMsg) {
        if to == CHANGE {
            if let Some(c) = self.change.as_mut() {
                let out = c.on_message(msg);
                self.send_all(out);
            }
            return;
        }
        let r = REGIONS.iter().position(|x| *x == to).expect("a region");
        let pos = position(&self.regions[r].log);
        if let Some(reply) = self.regions[r].rm.on_message(msg, |_, _| pos) {
            self.send_all(vec![(CHANGE.to_string(), reply)]);
        }
    }

    /// Region `r` copies what it lacks of the other's log, in order, and
    /// reports the other's position as caught up.
    fn replicate(&mut self, r: usize) {
        let other = self.regions[1 - r].log.clone();
        for e in &other {
            if !self.regions[r].log.iter().any(|x| x.0 == e.0) {
                self.regions[r].log.push(*e);
            }
        }
        self.regions[r].rm.on_caught_up("t", 0, position(&other));
    }

    fn admits(&self, r: usize, epoch: u64) -> bool {
        match self.regions[r].rm.admit("t", &key(), epoch) {
            Ok(Admission::Admit) => true,
            Ok(Admission::CatchingUp) => self.admit_catching_up,
            _ => false,
        }
    }

    fn write(&mut self, r: usize, epoch: u64) {
        self.writes += 1;
        if self.admits(r, epoch) {
            let id = self.writes;
            self.regions[r].log.push((id, epoch));
            self.acked.push((id, r, epoch));
        }
    }

    /// A region serving writes under its own epoch.
    fn serving(&self, r: usize) -> bool {
        self.admits(r, self.regions[r].rm.map.epoch)
    }

    fn holds_every_ack(&self, r: usize) -> bool {
        self.acked
            .iter()
            .all(|(id, _, _)| self.regions[r].log.iter().any(|e| e.0 == *id))
    }

    /// Faults stop: messages delivered as sent, replication both ways,
    /// resends, next changes started; rounds until settled.
    fn heal(mut self) -> World {
        for _ in 0..20 {
            if self.change_done() {
                self.start_change();
            }
            let msgs: Vec<(String, MapMsg)> = std::mem::take(&mut self.net).into_values().collect();
            for (to, m) in msgs {
                self.deliver(&to, m);
            }
            self.replicate(0);
            self.replicate(1);
            if let Some(c) = &self.change {
                let out = c.tick();
                self.send_all(out);
            }
        }
        self
    }
}

impl Model for MapChangeModel {
    type State = World;
    type Action = Act;

    fn init_states(&self) -> Vec<World> {
        vec![World::new()]
    }

    fn actions(&self, s: &World, out: &mut Vec<Act>) {
        if s.change_done() && !s.next.is_empty() {
            out.push(Act::StartChange);
        }
        if s.change.is_some() {
            out.push(Act::ChangeTick);
        }
        for k in s.net.keys() {
            out.push(Act::Deliver(k.clone()));
        }
        out.push(Act::Replicate(0));
        out.push(Act::Replicate(1));
        if s.writes < self.max_writes {
            for r in 0..2 {
                for epoch in 1..=s.latest.epoch {
                    out.push(Act::Write { r, epoch });
                }
            }
        }
    }

    fn next_state(&self, s: &World, a: Act) -> Option<World> {
        let mut w = s.clone();
        match a {
            Act::StartChange => {
                w.start_change();
            }
            Act::ChangeTick => {
                let out = w.change.as_ref()?.tick();
                w.send_all(out);
            }
            Act::Deliver(k) => {
                let (to, m) = w.net.get(&k)?.clone();
                w.deliver(&to, m);
            }
            Act::Replicate(r) => w.replicate(r),
            Act::Write { r, epoch } => w.write(r, epoch),
        }
        (w != *s).then_some(w)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("never two homes admitting writes", |_, s: &World| {
                !(s.serving(0) && s.serving(1))
            }),
            Property::always(
                "writes admitted under non-decreasing epochs, one region per epoch",
                |_, s: &World| {
                    let epochs_ok = s.acked.windows(2).all(|w| w[0].2 <= w[1].2);
                    let one_region = s
                        .acked
                        .iter()
                        .all(|(_, r, e)| s.acked.iter().all(|(_, r2, e2)| e != e2 || r == r2));
                    epochs_ok && one_region
                },
            ),
            Property::always(
                "a region admitting writes holds every acknowledged write",
                |_, s: &World| (0..2).all(|r| !s.serving(r) || s.holds_every_ack(r)),
            ),
            Property::always(
                "healing finishes every change, the last home serves with every write",
                |_, s: &World| {
                    let h = s.clone().heal();
                    let home = 0; // the last change moves the partition back to dc0
                    h.next.is_empty()
                        && h.change_done()
                        && h.regions.iter().all(|r| r.rm.pending.is_empty())
                        && h.serving(home)
                        && !h.serving(1 - home)
                        && h.holds_every_ack(home)
                },
            ),
            Property::sometimes("the new home takes a write", |_, s: &World| {
                s.acked.iter().any(|(_, r, _)| *r == 1)
            }),
            Property::sometimes("writes at both homes, in turn", |_, s: &World| {
                s.acked.iter().any(|(_, r, _)| *r == 1)
                    && s.acked.last().is_some_and(|(_, r, _)| *r == 0)
                    && s.acked.first().is_some_and(|(_, r, _)| *r == 0)
            }),
            Property::sometimes("a new home catching up", |_, s: &World| {
                s.regions.iter().any(|r| !r.rm.pending.is_empty())
            }),
        ]
    }
}

#[test]
fn map_changes_never_give_two_homes_nor_lose_acknowledged_writes() {
    let max_writes = std::env::var("TABLESYNC_MAP_MODEL_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let model = MapChangeModel { max_writes };
    let checker = model.checker().spawn_bfs().join();
    eprintln!(
        "map-change model ({max_writes} writes, 2 changes): {} states, {} unique, depth {}",
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth()
    );
    checker.assert_properties();
}

/// The same model catches a new home that admits writes before it caught
/// up with the old home's log (an acknowledged write would be missing).
#[test]
fn the_model_catches_a_new_home_serving_before_it_caught_up() {
    #[derive(Clone, Copy)]
    struct Eager(MapChangeModel);
    impl Model for Eager {
        type State = World;
        type Action = Act;
        fn init_states(&self) -> Vec<World> {
            let mut w = World::new();
            w.admit_catching_up = true;
            vec![w]
        }
        fn actions(&self, s: &World, out: &mut Vec<Act>) {
            self.0.actions(s, out)
        }
        fn next_state(&self, s: &World, a: Act) -> Option<World> {
            self.0.next_state(s, a)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::always(
                "a region admitting writes holds every acknowledged write",
                |_, s: &World| (0..2).all(|r| !s.serving(r) || s.holds_every_ack(r)),
            )]
        }
    }
    let checker = Eager(MapChangeModel { max_writes: 2 })
        .checker()
        .spawn_bfs()
        .join();
    checker.assert_any_discovery("a region admitting writes holds every acknowledged write");
}
