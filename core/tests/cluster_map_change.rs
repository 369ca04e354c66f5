//! The map-change protocol under a seeded simulation: partitions move
//! between regions and split while clients write with cached maps, with
//! message loss, duplication and delay and region crashes. In every run:
//! for each partition, writes are admitted under non-decreasing epochs
//! and by one region per epoch (never two writable homes); no
//! acknowledged write is missing from its key's final home; every change
//! completes and every client write is acknowledged once faults stop.

mod cluster_support;

use cluster_support::Rng;
use std::collections::BTreeMap;
use tablesync::cluster::map_change::{Admission, ChangePhase, MapChange, MapMsg, RegionMap};
use tablesync::cluster::*;
use tablesync::codec::key::encode_key_values;
use tablesync::PkValue;

fn key(k: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(k)])
}

#[derive(Clone, Debug)]
enum Net {
    Map(MapMsg),
    Write {
        client: usize,
        k: i64,
        id: u64,
        epoch: u64,
    },
    Ack {
        id: u64,
    },
    Stale {
        map: Box<ClusterMap>,
    },
    Retry,
    Pull {
        from_region: usize,
        partition: u32,
    },
    PullReply {
        partition: u32,
        writes: BTreeMap<i64, Vec<u64>>,
    },
}

const CHANGE: usize = 99;

struct Region {
    rm: RegionMap,
    writes: BTreeMap<i64, Vec<u64>>,
    up_at: i64,
}

struct Client {
    map: ClusterMap,
    out: Option<(i64, u64, i64)>, // key, id, sent at
    left: usize,
}

struct Sim {
    rng: Rng,
    now: i64,
    regions: Vec<Region>,
    clients: Vec<Client>,
    net: Vec<(i64, usize, Net)>, // deliver at, to (region index, CHANGE, or 100 + client)
    change: Option<MapChange>,
    latest: ClusterMap,
    changes_left: usize,
    admitted: Vec<(i64, u32, u64, usize)>, // time, partition, epoch, region
    acked: BTreeMap<u64, i64>,             // id → key
    next_id: u64,
    faults: bool,
}

fn region_index(name: &str) -> usize {
    name[1..].parse().unwrap()
}

impl Sim {
    fn send(&mut self, to: usize, m: Net) {
        if self.faults && self.rng.chance(10) {
            return;
        }
        let n = if self.faults && self.rng.chance(5) {
            2
        } else {
            1
        };
        for _ in 0..n {
            let at = self.now + 1 + self.rng.below(30) as i64;
            self.net.push((at, to, m.clone()));
        }
    }

    fn position(writes: &BTreeMap<i64, Vec<u64>>, map: &ClusterMap, table: &str, p: u32) -> u64 {
        writes
            .iter()
            .filter(|(k, _)| map.partition_of(table, &key(**k)).unwrap() == p)
            .map(|(_, v)| v.len() as u64)
            .sum()
    }

    fn deliver(&mut self, to: usize, m: Net) {
        if to == CHANGE {
            if let (Some(c), Net::Map(msg)) = (self.change.as_mut(), m) {
                let out = c.on_message(msg);
                for (r, msg) in out {
                    self.send(region_index(&r), Net::Map(msg));
                }
            }
            return;
        }
        if to >= 100 {
            let c = to - 100;
            match m {
                Net::Ack { id } => {
                    if let Some((k, oid, _)) = self.clients[c].out {
                        if oid == id {
                            self.acked.insert(id, k);
                            self.clients[c].out = None;
                        }
                    }
                }
                Net::Stale { map } if map.epoch > self.clients[c].map.epoch => {
                    self.clients[c].map = *map;
                }
                _ => {}
            }
            return;
        }
        if self.regions[to].up_at > self.now {
            return; // down: the message is lost
        }
        match m {
            Net::Map(msg) => {
                let reg = &mut self.regions[to];
                let writes = reg.writes.clone();
                let map_for_pos = match &msg {
                    MapMsg::Fence { map, .. } | MapMsg::Install { map, .. } => map.clone(),
                    _ => reg.rm.map.clone(),
                };
                let reply = reg
                    .rm
                    .on_message(msg, |t, p| Self::position(&writes, &map_for_pos, t, p));
                if let Some(r) = reply {
                    self.send(CHANGE, Net::Map(r));
                }
            }
            Net::Write {
                client,
                k,
                id,
                epoch,
            } => {
                let adm = self.regions[to].rm.admit("t", &key(k), epoch).unwrap();
                match adm {
                    Admission::Admit => {
                        let reg = &mut self.regions[to];
                        let p = reg.rm.map.partition_of("t", &key(k)).unwrap();
                        self.admitted.push((self.now, p, reg.rm.map.epoch, to));
                        reg.writes.entry(k).or_default().push(id);
                        self.send(100 + client, Net::Ack { id });
                    }
                    Admission::Stale(e) => {
                        assert_eq!(e.code(), "StaleClusterMap");
                        let map = Box::new(self.regions[to].rm.map.clone());
                        self.send(100 + client, Net::Stale { map });
                    }
                    Admission::NotHome => {
                        panic!("a client routed with the region's own epoch to a non-home")
                    }
                    Admission::RegionBehind | Admission::CatchingUp => {
                        self.send(100 + client, Net::Retry);
                    }
                }
            }
            Net::Pull {
                from_region,
                partition,
            } => {
                let reg = &self.regions[to];
                let map = &self.regions[from_region].rm.map;
                let writes: BTreeMap<i64, Vec<u64>> = reg
                    .writes
                    .iter()
                    .filter(|(k, _)| map.partition_of("t", &key(**k)).unwrap() == partition)
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                self.send(from_region, Net::PullReply { partition, writes });
            }
            Net::PullReply { partition, writes } => {
                let reg = &mut self.regions[to];
                for (k, v) in writes {
                    let mine = reg.writes.entry(k).or_default();
                    if v.len() > mine.len() {
                        assert!(v.starts_with(mine), "histories diverged for key {k}");
                        *mine = v;
                    }
                }
                let pos = Self::position(&reg.writes, &reg.rm.map, "t", partition);
                reg.rm.on_caught_up("t", partition, pos);
            }
            _ => {}
        }
    }

    fn new_change(&mut self) {
        let m = &self.latest;
        let Placement::Range { partitions } = &m.table("t").unwrap().placement else {
            unreachable!()
        };
        let next = if self.rng.chance(35) {
            let at = self.rng.below(200) as i64;
            let id = m.partition_of("t", &key(at)).unwrap();
            match m.split("t", id, key(at)) {
                Ok((n, _)) => n,
                Err(_) => return,
            }
        } else {
            let p = partitions[self.rng.below(partitions.len() as u64) as usize].id;
            let dc = format!("dc{}", self.rng.below(3));
            m.move_partition("t", p, vec![dc]).unwrap()
        };
        self.change = Some(MapChange::new(&self.latest, next.clone()).unwrap());
        self.latest = next;
        self.changes_left -= 1;
    }

    fn step(&mut self) {
        self.now += 10;
        if self.faults && self.rng.chance(3) {
            let r = self.rng.below(3) as usize;
            self.regions[r].up_at = self.now + 50 + self.rng.below(300) as i64;
        }
        let mut i = 0;
        let mut due = vec![];
        while i < self.net.len() {
            if self.net[i].0 <= self.now {
                due.push(self.net.swap_remove(i));
            } else {
                i += 1;
            }
        }
        while !due.is_empty() {
            let k = self.rng.below(due.len() as u64) as usize;
            let (_, to, m) = due.swap_remove(k);
            self.deliver(to, m);
        }
        // The change: resend; start the next one when done.
        match &self.change {
            Some(c) if c.phase() != ChangePhase::Done => {
                if self.now % 100 == 0 {
                    for (r, m) in c.tick() {
                        self.send(region_index(&r), Net::Map(m));
                    }
                }
            }
            _ => {
                if self.changes_left > 0 && self.rng.chance(10) {
                    self.new_change();
                }
            }
        }
        // Regions catching up pull from the old home.
        if self.now % 50 == 0 {
            for r in 0..3 {
                if self.regions[r].up_at > self.now {
                    continue;
                }
                for h in self.regions[r].rm.pending.clone() {
                    self.send(
                        region_index(&h.from),
                        Net::Pull {
                            from_region: r,
                            partition: h.partition,
                        },
                    );
                }
            }
        }
        // Clients write (or resend), routing with their cached map; a
        // client that keeps failing refreshes its map from a random region.
        for c in 0..self.clients.len() {
            let cl = &self.clients[c];
            let send = match cl.out {
                None if cl.left > 0 => {
                    self.next_id += 1;
                    let k = self.rng.below(200) as i64;
                    self.clients[c].out = Some((k, self.next_id, self.now));
                    self.clients[c].left -= 1;
                    Some((k, self.next_id))
                }
                Some((k, id, at)) if self.now - at >= 200 => {
                    if self.rng.chance(30) {
                        let r = self.rng.below(3) as usize;
                        if self.regions[r].rm.map.epoch > self.clients[c].map.epoch {
                            self.clients[c].map = self.regions[r].rm.map.clone();
                        }
                    }
                    self.clients[c].out = Some((k, id, self.now));
                    Some((k, id))
                }
                _ => None,
            };
            if let Some((k, id)) = send {
                let map = &self.clients[c].map;
                let home = map.route_key("t", &key(k)).unwrap().home().region.clone();
                let epoch = map.epoch;
                self.send(
                    region_index(&home),
                    Net::Write {
                        client: c,
                        k,
                        id,
                        epoch,
                    },
                );
            }
        }
    }

    fn done(&self) -> bool {
        self.changes_left == 0
            && self
                .change
                .as_ref()
                .is_none_or(|c| c.phase() == ChangePhase::Done)
            && self.clients.iter().all(|c| c.out.is_none() && c.left == 0)
            && self.regions.iter().all(|r| r.rm.pending.is_empty())
    }
}

fn run(seed: u64) -> (usize, u64) {
    let dcs: Vec<Datacenter> = (0..3)
        .map(|i| {
            Datacenter::new(
                format!("dc{i}"),
                [(format!("r{i}"), format!("http://r{i}"))],
            )
        })
        .collect();
    let map = ClusterMap::new(dcs)
        .unwrap()
        .add_table(TablePlacement {
            table: "t".into(),
            replication_factor: 1,
            write_mode: WriteMode::Async,
            placement: Placement::Range {
                partitions: vec![
                    RangePartition {
                        id: 0,
                        start: vec![],
                        datacenters: vec!["dc0".into()],
                    },
                    RangePartition {
                        id: 1,
                        start: key(100),
                        datacenters: vec!["dc1".into()],
                    },
                ],
            },
        })
        .unwrap();
    let mut sim = Sim {
        rng: Rng(seed),
        now: 0,
        regions: (0..3)
            .map(|i| Region {
                rm: RegionMap::new(format!("r{i}"), map.clone()),
                writes: BTreeMap::new(),
                up_at: 0,
            })
            .collect(),
        clients: (0..2)
            .map(|_| Client {
                map: map.clone(),
                out: None,
                left: 25,
            })
            .collect(),
        net: vec![],
        change: None,
        latest: map,
        changes_left: 4,
        admitted: vec![],
        acked: BTreeMap::new(),
        next_id: 0,
        faults: true,
    };
    let mut steps = 0;
    while !sim.done() {
        steps += 1;
        if steps == 300 {
            sim.faults = false; // faults stop; everything must settle
            for r in &mut sim.regions {
                r.up_at = 0;
            }
        }
        assert!(
            steps < 20_000,
            "seed {seed}: did not settle: change {:?} handoffs {:?}, pending {:?}, clients {:?}, epochs {:?}/{:?}",
            sim.change.as_ref().map(|c| c.phase()),
            sim.change.as_ref().map(|c| c.handoffs().to_vec()),
            sim.regions.iter().map(|r| r.rm.pending.clone()).collect::<Vec<_>>(),
            sim.clients.iter().map(|c| (c.out, c.left, c.map.epoch)).collect::<Vec<_>>(),
            sim.regions.iter().map(|r| r.rm.map.epoch).collect::<Vec<_>>(),
            sim.latest.epoch,
        );
        sim.step();
    }
    // One writable home per partition per epoch, epochs never go back.
    let mut by_part: BTreeMap<u32, Vec<(i64, u64, usize)>> = BTreeMap::new();
    for (t, p, e, r) in &sim.admitted {
        by_part.entry(*p).or_default().push((*t, *e, *r));
    }
    for (p, mut v) in by_part {
        v.sort();
        let mut owner: BTreeMap<u64, usize> = BTreeMap::new();
        for w in v.windows(2) {
            assert!(
                w[0].1 <= w[1].1,
                "seed {seed}: partition {p} admitted at epoch {} after {}",
                w[1].1,
                w[0].1
            );
        }
        for (_, e, r) in v {
            assert_eq!(
                *owner.entry(e).or_insert(r),
                r,
                "seed {seed}: two homes for partition {p} at epoch {e}"
            );
        }
    }
    // No acknowledged write lost: the key's final home holds it.
    for (id, k) in &sim.acked {
        let home = region_index(&sim.latest.route_key("t", &key(*k)).unwrap().home().region);
        assert!(
            sim.regions[home]
                .writes
                .get(k)
                .is_some_and(|v| v.contains(id)),
            "seed {seed}: acknowledged write {id} of key {k} is missing at its final home r{home}"
        );
    }
    assert_eq!(sim.acked.len(), 50);
    (sim.admitted.len(), sim.latest.epoch)
}

#[test]
fn map_changes_never_give_a_partition_two_homes_or_lose_acknowledged_writes() {
    let mut epochs = 0;
    for seed in 0..300 {
        let (_, e) = run(seed);
        epochs += e;
    }
    assert!(epochs >= 300 * 4, "changes happened: {epochs}");
}
