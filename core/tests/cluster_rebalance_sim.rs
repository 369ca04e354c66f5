//! Map changes with data movement (`tablesync::cluster::rebalance`) under
//! a seeded simulation: a cluster runs `add-dc`, a range `split`, a
//! `move`, a `remove-dc`, another `add-dc` and another `move` one after
//! the other while clients with cached
//! (often stale) maps write, with message loss and duplication, region
//! crashes at any step (copies in progress are lost, the map, pending set
//! and rows survive) and coordinator crashes (the change is run again from
//! the start, as the CLI does). After every step:
//!
//! - no two regions would accept a write of the same key (each under its
//!   own epoch): never two owners;
//! - a region that would accept a read or a write of a key holds every
//!   acknowledged write of it: never a lost acknowledged write.
//!
//! Some writes are 2PC: prepared at the home (durable, survives crashes)
//! and committed and acknowledged later, possibly after the map changed;
//! a fenced copy waits until its source has none in doubt on its rows.
//!
//! Once faults stop, every change completes and no partition stays pending,
//! and every region of the new map holds only rows of partitions the map
//! gives it (what it lost was purged; late copies merge nothing).
//! `REBALANCE_SIM_SEEDS` sets the number of runs (default 100; 10,000 in release: see docs/CLUSTER.md).

mod cluster_support;

use cluster_support::Rng;
use std::collections::{BTreeMap, BTreeSet};
use tablesync::cluster::rebalance::{KeyFilter, MoveMsg, Phase, Rebalance, RegionMoves};
use tablesync::cluster::*;
use tablesync::codec::key::encode_key_values;
use tablesync::PkValue;

const TABLES: [&str; 2] = ["h", "r"];
const KEYS: i64 = 100;

fn key(k: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(k)])
}

struct Job {
    id: u32,
    fence: u64,
    /// The change's new map epoch.
    epoch: u64,
    table: String,
    filter: KeyFilter,
    source: String,
    after: i64,
    rows: u64,
}

struct Region {
    moves: RegionMoves,
    /// (table, key) → newest version held (row states merge by max).
    data: BTreeMap<(&'static str, i64), u64>,
    up: bool,
    /// Gone for good (its datacenter is removed while down): never up again.
    dead: bool,
    /// Copies in progress, by (move id, fence).
    jobs: BTreeMap<(u32, u64), Job>,
    /// `admits` for every (table, key), recomputed when `moves` changes.
    admit: Vec<bool>,
    /// 2PC writes prepared here (durable) and not committed yet: table,
    /// key, version, and the step from which the decision may arrive.
    prepared: Vec<(&'static str, i64, u64, u64)>,
}

impl Region {
    fn refresh(&mut self, name: &str) {
        self.admit = TABLES
            .iter()
            .flat_map(|t| (0..KEYS).map(move |k| (*t, k)))
            .map(|(t, k)| Sim::admits(self, name, t, k))
            .collect();
    }
}

enum Net {
    ToRegion(String, MoveMsg),
    ToChange(String, MoveMsg),
}

struct Sim {
    rng: Rng,
    regions: BTreeMap<String, Region>,
    clients: Vec<ClusterMap>,
    acked: BTreeMap<(&'static str, i64), u64>,
    version: u64,
    net: Vec<Net>,
    faults: bool,
    steps: u64,
    /// Writes are acknowledged only once the home and another replica (of
    /// the home's map) applied them: `sync` with two replicas.
    sync_writes: bool,
}

fn dc(name: &str) -> Datacenter {
    Datacenter::new(name, [(format!("{name}-1"), format!("sim://{name}"))])
}

fn initial() -> ClusterMap {
    ClusterMap::new(vec![dc("d0"), dc("d1"), dc("d2")])
        .unwrap()
        .add_table(TablePlacement {
            table: "h".into(),
            replication_factor: 2,
            write_mode: WriteMode::Async,
            placement: Placement::Hash { buckets: 16 },
        })
        .unwrap()
        .add_table(TablePlacement {
            table: "r".into(),
            replication_factor: 2,
            write_mode: WriteMode::Async,
            placement: Placement::Range {
                partitions: vec![
                    RangePartition {
                        id: 0,
                        start: vec![],
                        datacenters: vec![],
                    },
                    RangePartition {
                        id: 1,
                        start: key(50),
                        datacenters: vec![],
                    },
                ],
            },
        })
        .unwrap()
}

impl Sim {
    fn new(seed: u64, map: &ClusterMap) -> Sim {
        let mut regions = BTreeMap::new();
        for n in ["d0-1", "d1-1", "d2-1", "d3-1", "d4-1"] {
            let m = (n != "d3-1" && n != "d4-1").then(|| map.clone());
            regions.insert(
                n.to_string(),
                Region {
                    moves: RegionMoves::new(n, m, Default::default()),
                    data: BTreeMap::new(),
                    up: true,
                    dead: false,
                    jobs: BTreeMap::new(),
                    prepared: Vec::new(),
                    admit: Vec::new(),
                },
            );
        }
        for (n, r) in regions.iter_mut() {
            r.refresh(n);
        }
        Sim {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            regions,
            clients: vec![map.clone(); 3],
            acked: BTreeMap::new(),
            version: 0,
            net: Vec::new(),
            faults: true,
            steps: 0,
            sync_writes: false,
        }
    }

    /// Whether `r` would accept a write (or a read) of `k` of `table`
    /// routed with its own map.
    fn admits(r: &Region, name: &str, table: &str, k: i64) -> bool {
        let Some(map) = &r.moves.map else {
            return false;
        };
        let Ok(route) = map.route_key(table, &key(k)) else {
            return false;
        };
        route.home().region == name && r.moves.check_key(table, &key(k)).is_ok()
    }

    fn check_invariants(&self, seed: u64) {
        for (ti, table) in TABLES.iter().enumerate() {
            for k in 0..KEYS {
                let i = ti * KEYS as usize + k as usize;
                let owners: Vec<&String> = self
                    .regions
                    .iter()
                    .filter(|(_, r)| r.admit[i] && !r.dead)
                    .map(|(n, _)| n)
                    .collect();
                assert!(
                    owners.len() <= 1,
                    "seed {seed} step {}: {table}/{k} writable at {owners:?}",
                    self.steps
                );
                let want = self.acked.get(&(*table, k)).copied().unwrap_or(0);
                for o in owners {
                    let have = self.regions[o].data.get(&(*table, k)).copied().unwrap_or(0);
                    assert!(
                        have >= want,
                        "seed {seed} step {}: {o} serves {table}/{k} at version {have}, acknowledged {want}",
                        self.steps
                    );
                }
            }
        }
    }

    /// A participant commits one prepared write (after any map change:
    /// a prepared transaction always finishes where it was prepared).
    fn commit_prepared(&mut self) {
        let names: Vec<String> = self
            .regions
            .iter()
            .filter(|(_, r)| r.up && r.prepared.iter().any(|p| p.3 <= self.steps))
            .map(|(n, _)| n.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        let n = &names[self.rng.below(names.len() as u64) as usize];
        let r = self.regions.get_mut(n).unwrap();
        let due: Vec<usize> = (0..r.prepared.len())
            .filter(|i| r.prepared[*i].3 <= self.steps)
            .collect();
        let i = due[self.rng.below(due.len() as u64) as usize];
        let (table, k, v, _) = r.prepared.swap_remove(i);
        let e = r.data.entry((table, k)).or_default();
        *e = (*e).max(v);
        let a = self.acked.entry((table, k)).or_default();
        *a = (*a).max(v);
    }

    fn client_write(&mut self, two_phase: bool) {
        let c = self.rng.below(self.clients.len() as u64) as usize;
        let table = TABLES[self.rng.below(2) as usize];
        let k = self.rng.below(KEYS as u64) as i64;
        let cmap = self.clients[c].clone();
        let home = cmap
            .route_key(table, &key(k))
            .unwrap()
            .home()
            .region
            .clone();
        let r = self.regions.get_mut(&home).expect("region");
        if !r.up {
            return;
        }
        let rmap = r.moves.map.clone();
        match rmap {
            Some(m) if m.epoch > cmap.epoch => self.clients[c] = m, // stale: refresh
            Some(m) if m.epoch < cmap.epoch => {
                if r.moves.install(cmap) == Ok(true) {
                    // the driver pushes its map
                    r.refresh(&home);
                }
            }
            None => {
                if r.moves.install(cmap) == Ok(true) {
                    r.refresh(&home);
                }
            }
            Some(m) => {
                let mine = m.route_key(table, &key(k)).unwrap().home().region == home;
                if !mine {
                    self.clients[c] = m; // NotHome: refresh
                } else if r.moves.check_key(table, &key(k)).is_ok() {
                    self.version += 1;
                    let v = self.version;
                    if two_phase {
                        // Prepared under the lock the install waits for;
                        // committed (and acknowledged) later.
                        // In doubt for up to 400 steps (a slow coordinator).
                        let due = self.steps + self.rng.below(400);
                        r.prepared.push((table, k, v, due));
                        return;
                    }
                    let e = r.data.entry((table, k)).or_default();
                    *e = (*e).max(v);
                    if self.sync_writes {
                        // The home's records reach its other replicas now;
                        // acknowledged once one of them applied them.
                        let mut reached = 0;
                        for x in m.route_key(table, &key(k)).unwrap().replicas {
                            let Some(o) = self.regions.get_mut(&x.region) else {
                                continue;
                            };
                            if x.region == home || !o.up {
                                continue;
                            }
                            let e = o.data.entry((table, k)).or_default();
                            *e = (*e).max(v);
                            reached += 1;
                        }
                        if reached == 0 {
                            return; // failed: not acknowledged
                        }
                    }
                    // The acknowledgement may be lost; the write still counts.
                    self.acked.insert((table, k), v);
                }
            }
        }
    }

    fn send(&mut self, n: Net) {
        // A bounded network: beyond 100 messages in flight, more are lost.
        if self.net.len() >= 100 || (self.faults && self.rng.chance(15)) {
            return; // lost
        }
        if self.faults && self.rng.chance(10) {
            let dup = match &n {
                Net::ToRegion(r, m) => Net::ToRegion(r.clone(), m.clone()),
                Net::ToChange(r, m) => Net::ToChange(r.clone(), m.clone()),
            };
            self.net.push(dup);
        }
        self.net.push(n);
    }

    fn deliver_to_region(&mut self, name: String, m: MoveMsg) {
        let Some(r) = self.regions.get_mut(&name) else {
            return;
        };
        if !r.up {
            return;
        }
        let reply = match m {
            MoveMsg::Install { map } => {
                if r.moves.install(map) == Ok(true) {
                    r.refresh(&name);
                }
                Some(MoveMsg::Installed {
                    epoch: r.moves.map.as_ref().map(|m| m.epoch).unwrap_or(0),
                })
            }
            MoveMsg::Copy {
                id,
                fence,
                epoch,
                table,
                filter,
                source,
            } => {
                let source = source.trim_start_matches("sim://").to_string() + "-1";
                if !r.moves.copy_current(epoch) {
                    // A late copy of a finished change: nothing to merge.
                    return;
                }
                if r.jobs.contains_key(&(id, fence)) {
                    return; // already copying (a resent request)
                }
                let job = Job {
                    id,
                    fence,
                    epoch,
                    table,
                    filter,
                    source,
                    after: -1,
                    rows: 0,
                };
                r.jobs.insert((id, fence), job);
                None
            }
            MoveMsg::Release {
                id,
                epoch,
                table,
                partitions,
            } => {
                let done = r.moves.release(epoch, &table, &partitions).ok();
                r.refresh(&name);
                done.map(|_| MoveMsg::Released { id })
            }
            MoveMsg::Purge {
                id,
                epoch,
                table,
                filter,
            } => {
                if r.moves.check_purge(epoch).is_err() {
                    return;
                }
                let before = r.data.len();
                let moves = &r.moves;
                r.data.retain(|(t, k), _| {
                    *t != table || !filter.contains(&key(*k)) || moves.holds(t, &key(*k))
                });
                let rows = (before - r.data.len()) as u64;
                Some(MoveMsg::Purged { id, rows })
            }
            _ => None,
        };
        if let Some(reply) = reply {
            self.send(Net::ToChange(name, reply));
        }
    }

    /// One page (up to 3 rows) of a region's copy in progress.
    fn advance_copy(&mut self) {
        let names: Vec<String> = self
            .regions
            .iter()
            .filter(|(_, r)| r.up && !r.jobs.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        let name = names[self.rng.below(names.len() as u64) as usize].clone();
        let jobs = &mut self.regions.get_mut(&name).unwrap().jobs;
        let which = *jobs
            .keys()
            .nth(self.rng.below(jobs.len() as u64) as usize)
            .unwrap();
        let job = jobs.remove(&which).unwrap();
        if !self.regions[&name].moves.copy_current(job.epoch) {
            return; // the region's map moved past the change: dropped
        }
        let t: &'static str = TABLES.iter().copied().find(|t| *t == job.table).unwrap();
        let src = &self.regions[&job.source];
        if !src.up
            || src
                .moves
                .check_source(
                    job.fence,
                    src.prepared
                        .iter()
                        .any(|(t, k, _, _)| *t == job.table && job.filter.contains(&key(*k))),
                )
                .is_err()
        {
            return; // the copy fails; the change sends it again
        }
        let page: Vec<(i64, u64)> = src
            .data
            .range((t, job.after + 1)..(t, i64::MAX))
            .filter(|((_, k), _)| job.filter.contains(&key(*k)))
            .take(3)
            .map(|((_, k), v)| (*k, *v))
            .collect();
        let r = self.regions.get_mut(&name).unwrap();
        let mut job = job;
        for (k, v) in &page {
            let e = r.data.entry((t, *k)).or_default();
            *e = (*e).max(*v);
            job.after = *k;
            job.rows += 1;
        }
        if page.len() < 3 {
            let reply = MoveMsg::Copied {
                id: job.id,
                fence: job.fence,
                rows: job.rows,
            };
            self.send(Net::ToChange(name, reply));
        } else {
            r.jobs.insert(which, job);
        }
    }

    /// Run the change `old` → `new` to completion; `Err` if it did not
    /// finish within the step budget once faults stopped.
    fn change(&mut self, seed: u64, old: &ClusterMap, new: &ClusterMap) {
        self.change_without(seed, old, new, &BTreeSet::new())
    }

    /// [`change`](Self::change) with the regions in `down` gone for good.
    fn change_without(
        &mut self,
        seed: u64,
        old: &ClusterMap,
        new: &ClusterMap,
        down: &BTreeSet<String>,
    ) {
        let mut rb = Rebalance::without(old, new.clone(), down.clone()).unwrap();
        let fault_steps = 200 + self.rng.below(400);
        for i in 0..20_000u64 {
            if i == fault_steps {
                self.faults = false;
                for r in self.regions.values_mut() {
                    r.up = !r.dead;
                }
            }
            if rb.phase() == Phase::Done {
                break;
            }
            self.steps += 1;
            match self.rng.below(100) {
                0..=29 => {
                    let two_phase = !self.sync_writes && self.rng.chance(5);
                    self.client_write(two_phase)
                }
                30..=37 => {
                    // Resends (the coordinator's timer).
                    for (to, m) in rb.tick() {
                        self.send(Net::ToRegion(to, m));
                    }
                }
                38..=79 if !self.net.is_empty() => {
                    let i = self.rng.below(self.net.len() as u64) as usize;
                    match self.net.swap_remove(i) {
                        Net::ToRegion(to, m) => self.deliver_to_region(to, m),
                        Net::ToChange(from, m) => {
                            rb.on_reply(&from, m);
                        }
                    }
                }
                80..=93 => self.advance_copy(),
                94..=96 if self.faults => {
                    let names: Vec<String> = self.regions.keys().cloned().collect();
                    let n = &names[self.rng.below(names.len() as u64) as usize];
                    let r = self.regions.get_mut(n).unwrap();
                    r.up = !r.up && !r.dead; // crash (copies in progress lost) or restart
                    r.jobs.clear();
                }
                97 if self.faults => {
                    // The coordinator crashes; the command is run again.
                    rb = Rebalance::without(old, new.clone(), down.clone()).unwrap();
                }
                // 98..=99, and crash steps once faults stopped.
                _ => self.commit_prepared(),
            }
            self.check_invariants(seed);
        }
        assert_eq!(
            rb.phase(),
            Phase::Done,
            "seed {seed}: change to epoch {} did not finish: {:?}; {:?}",
            new.epoch,
            rb.tick(),
            self.regions
                .iter()
                .map(|(n, r)| (
                    n,
                    r.up,
                    r.moves.map.as_ref().map(|m| m.epoch),
                    r.jobs.keys().collect::<Vec<_>>()
                ))
                .collect::<Vec<_>>()
        );
        self.check_purged(seed, new);
        self.faults = true;
    }

    /// Once a change is done, every region of its map holds only rows of
    /// partitions the map gives it: what it lost was purged.
    fn check_purged(&self, seed: u64, map: &ClusterMap) {
        for (name, r) in &self.regions {
            if map.datacenter_of_region(name).is_none() {
                continue;
            }
            assert_eq!(r.moves.map.as_ref(), Some(map), "seed {seed}: {name}");
            for (t, k) in r.data.keys() {
                let route = map.route_key(t, &key(*k)).unwrap();
                assert!(
                    route.replicas.iter().any(|x| x.region == *name),
                    "seed {seed}: {name} still holds {t}/{k} after the change to epoch {}",
                    map.epoch
                );
            }
        }
    }
}

fn run(seed: u64) {
    let m1 = initial();
    let mut sim = Sim::new(seed, &m1);
    let m2 = m1.add_datacenter(dc("d3")).unwrap();
    let (m3, id) = m2.split("r", 1, key(75)).unwrap();
    let m4 = m3
        .move_partition("r", id, vec!["d3".into(), "d0".into()])
        .unwrap();
    let m5 = m4.remove_datacenter("d1").unwrap();
    // A fifth datacenter takes buckets from regions that got them by copies
    // (they purge them), then the moved range partition leaves d0 (which
    // holds it from a copy) for d2 and d4.
    let m6 = m5.add_datacenter(dc("d4")).unwrap();
    let m7 = m6
        .move_partition("r", id, vec!["d2".into(), "d4".into()])
        .unwrap();
    let maps = [m1, m2, m3, m4, m5, m6, m7];
    for w in maps.windows(2) {
        sim.change(seed, &w[0], &w[1]);
    }
    let last = &maps[6];
    for (name, r) in &sim.regions {
        if last.datacenter_of_region(name).is_none() {
            continue; // d1-1 left the cluster
        }
        assert_eq!(r.moves.map.as_ref(), Some(last), "seed {seed}: {name}");
        assert!(
            r.moves.pending.is_empty(),
            "seed {seed}: {name} still pending"
        );
    }
    for ((table, k), v) in &sim.acked {
        let home = last
            .route_key(table, &key(*k))
            .unwrap()
            .home()
            .region
            .clone();
        let have = sim.regions[&home].data.get(&(*table, *k)).copied();
        assert!(have >= Some(*v), "seed {seed}: {table}/{k} lost at {home}");
    }
    assert!(!sim.acked.is_empty());
    if std::env::var("REBALANCE_SIM_VERBOSE").is_ok() {
        eprintln!(
            "seed {seed}: {} steps, {} keys acknowledged",
            sim.steps,
            sim.acked.len()
        );
    }
}

#[test]
fn rebalances_never_give_a_key_two_owners_or_lose_acknowledged_writes() {
    let seeds: u64 = std::env::var("REBALANCE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    for seed in 0..seeds {
        run(seed);
    }
}

/// `remove-dc` of a datacenter that is down for good: writes are `sync`
/// (home and one more replica before the acknowledgement); d1 dies after
/// `add-dc`, and its removal copies each partition d1 was home of from the
/// surviving old replica: every acknowledged write survives.
fn run_dead(seed: u64) {
    let m1 = initial();
    let mut sim = Sim::new(seed, &m1);
    sim.sync_writes = true;
    let m2 = m1.add_datacenter(dc("d3")).unwrap();
    sim.change(seed, &m1, &m2);
    // Writes go on a while, then d1 dies for good.
    for _ in 0..200 {
        sim.steps += 1;
        sim.client_write(false);
    }
    let d1 = sim.regions.get_mut("d1-1").unwrap();
    d1.dead = true;
    d1.up = false;
    d1.jobs.clear();
    let m3 = m2.remove_datacenter("d1").unwrap();
    let down: BTreeSet<String> = ["d1-1".to_string()].into();
    sim.change_without(seed, &m2, &m3, &down);
    for ((table, k), v) in &sim.acked {
        for r in m3.route_key(table, &key(*k)).unwrap().replicas {
            let have = sim.regions[&r.region].data.get(&(*table, *k)).copied();
            assert!(
                have >= Some(*v),
                "seed {seed}: {table}/{k} (acknowledged {v}) lost at {}",
                r.region
            );
        }
    }
    assert!(!sim.acked.is_empty());
}

#[test]
fn remove_dc_of_a_dead_datacenter_keeps_sync_writes() {
    let seeds: u64 = std::env::var("REBALANCE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    for seed in 0..seeds {
        run_dead(seed);
    }
    // The plain plan copies from d1-1, which is down: that change would
    // never finish; the plan without it copies from survivors only.
    let m2 = initial().add_datacenter(dc("d3")).unwrap();
    let m3 = m2.remove_datacenter("d1").unwrap();
    let plain = tablesync::cluster::rebalance::plan(&m2, &m3).unwrap();
    assert!(plain.iter().any(|m| m.source == "d1-1"));
    let down: BTreeSet<String> = ["d1-1".to_string()].into();
    let moves = tablesync::cluster::rebalance::plan_without(&m2, &m3, &down).unwrap();
    assert!(!moves.is_empty() && moves.iter().all(|m| m.source != "d1-1"));
    // A region that stays may not be down.
    let down: BTreeSet<String> = ["d0-1".to_string()].into();
    assert!(tablesync::cluster::rebalance::plan_without(&m2, &m3, &down).is_err());
}

#[test]
fn plan_moves_only_what_changes() {
    let m1 = initial();
    let m2 = m1.add_datacenter(dc("d3")).unwrap();
    let moves = tablesync::cluster::rebalance::plan(&m1, &m2).unwrap();
    // Range partitions stay on their datacenters when one is added.
    assert!(moves.iter().all(|m| m.table == "h"));
    assert!(moves
        .iter()
        .all(|m| m.target == "d3-1" || m.source != m.target));
    // The regions that lose buckets to d3-1 held them and hold them no more.
    let lost = tablesync::cluster::rebalance::lost(&m1, &m2).unwrap();
    assert!(!lost.is_empty());
    for l in &lost {
        assert_eq!(l.table, "h");
        for p in &l.partitions {
            let before = m1.route_partition("h", *p).unwrap().replicas;
            let after = m2.route_partition("h", *p).unwrap().replicas;
            assert!(before.iter().any(|r| r.region == l.region));
            assert!(!after.iter().any(|r| r.region == l.region));
        }
    }
    let (m3, id) = m2.split("r", 1, key(75)).unwrap();
    assert!(tablesync::cluster::rebalance::plan(&m2, &m3)
        .unwrap()
        .is_empty());
    assert!(tablesync::cluster::rebalance::lost(&m2, &m3)
        .unwrap()
        .is_empty());
    // A region leaving the cluster is never asked to purge (it may be down).
    let m4 = m3
        .move_partition("r", id, vec!["d3".into(), "d0".into()])
        .unwrap();
    let m5 = m4.remove_datacenter("d1").unwrap();
    let lost = tablesync::cluster::rebalance::lost(&m4, &m5).unwrap();
    assert!(lost.iter().all(|l| l.region != "d1-1"));
    // The moved range partition: its old replicas outside d3, d0 lose it.
    let lost = tablesync::cluster::rebalance::lost(&m3, &m4).unwrap();
    assert!(lost
        .iter()
        .all(|l| l.table == "r" && l.partitions == vec![id]));
    // Every region's pending set is exactly what the plan gives it.
    for r in ["d0-1", "d1-1", "d2-1", "d3-1"] {
        let gained = tablesync::cluster::rebalance::newly_held(&m1, &m2, r).unwrap();
        let planned: std::collections::BTreeSet<(String, u32)> = moves
            .iter()
            .filter(|m| m.target == r)
            .flat_map(|m| m.partitions.iter().map(|p| (m.table.clone(), *p)))
            .collect();
        assert_eq!(gained, planned, "{r}");
    }
}
