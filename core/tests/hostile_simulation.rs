//! A seeded simulation with one hostile region (issue 12): two honest
//! regions write and sync while a third sends well-formed hostile requests
//! (claims on the victim's own records, far-future stamps, huge sequence
//! numbers, row states with bad names or stamps). Every refusal must leave
//! the victim byte-for-byte unchanged and be counted; the honest regions
//! must still converge and keep numbering their own writes from where they
//! were. `HOSTILE_SIM_SEEDS` sets the number of seeds (default 200).

use std::sync::Arc;
use tablesync::codec::key::encode_key_values;
use tablesync::codec::row_state::encode_row_state;
use tablesync::engine::row_state::{ColumnState, RowState, Version};
use tablesync::log::hlc::{region_id, LOGICAL_BITS};
use tablesync::sync::message::*;
use tablesync::sync::{respond, SyncConfig};
use tablesync::*;

const CAP: usize = 1 << 20;
const T0: i64 = 1_700_000_000_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

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

fn write(db: &mut Database, rng: &mut Rng) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", rng.below(20) as i64)]),
        vec![Column::new("v", rng.below(1000) as i64)],
        Condition::ignore(),
    )
    .unwrap();
}

fn hostile_request(rng: &mut Rng, victim: &str, clock: &ManualClock) -> Request {
    let now = (clock.now_ms() as u64) << LOGICAL_BITS;
    let stamp = |hlc| Stamp::new(hlc, region_id("x"));
    let record = |origin: &str, seq: u64, hlc: u64| ChangeRecord {
        cursor: 0,
        origin: origin.into(),
        seq,
        stamp: hlc,
        table: "t".into(),
        kind: ChangeKind::Put,
        primary_key: PrimaryKey::new([("k", 1)]),
        columns: vec![ColumnOp::Put {
            name: "v".into(),
            value: Value::from(666),
            timestamp: 1,
        }],
    };
    let row = |name: &str, hlc: u64| RowState {
        deleted: stamp(hlc),
        live: stamp(hlc),
        columns: vec![ColumnState {
            name: name.into(),
            cleared: Stamp::ZERO,
            versions: vec![Version {
                ts: 1,
                stamp: stamp(hlc),
                value: Some(Value::from(666)),
            }],
        }],
    };
    let far = now + ((120_000 + rng.below(1 << 30)) << LOGICAL_BITS);
    match rng.below(5) {
        0 => Request::MarkHeld {
            entries: vec![(victim.into(), 1 + rng.below(5), u64::MAX - rng.below(5))],
        },
        1 => Request::PushChanges {
            records: vec![record("x", 1 + rng.below(3), far)].into(),
        },
        2 => Request::PushChanges {
            records: vec![record(victim, 1_000_000 + rng.below(1 << 40), now)].into(),
        },
        3 => Request::PushRows {
            table: "t".into(),
            rows: vec![(
                encode_key_values([&PkValue::Integer(rng.below(20) as i64)]),
                encode_row_state(&row("k", now)),
            )],
        },
        _ => Request::PushRows {
            table: "t".into(),
            rows: vec![(
                encode_key_values([&PkValue::Integer(rng.below(20) as i64)]),
                encode_row_state(&row("v", far)),
            )],
        },
    }
}

fn run(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let clock = ManualClock::new(T0);
    let mut honest = [region("h0", &clock), region("h1", &clock)];
    let mut refusals = [0u64; 2];
    for step in 0..30u32 {
        clock.advance(rng.below(50) as i64);
        let i = rng.below(2) as usize;
        match rng.below(4) {
            0 => write(&mut honest[i], &mut rng),
            1 => {
                let [a, b] = &mut honest;
                a.sync_with(b, SyncConfig::default())
                    .unwrap_or_else(|e| panic!("seed {seed} step {step}: honest sync: {e}"));
            }
            _ => {
                let victim = &mut honest[i];
                let name = victim.region().to_string();
                let before = victim.export_snapshot().unwrap();
                let req = hostile_request(&mut rng, &name, &clock);
                let frame = encode_request(seed, step, &req, CAP).unwrap();
                let reply = respond(victim, &frame, CAP).unwrap();
                let env = decode_reply(&reply, CAP, seed, step).unwrap();
                match env.reply {
                    Reply::Failed { .. } => refusals[i] += 1,
                    other => panic!("seed {seed} step {step}: {req:?} was accepted: {other:?}"),
                }
                assert_eq!(
                    victim.export_snapshot().unwrap(),
                    before,
                    "seed {seed} step {step}: a refused request changed the region"
                );
            }
        }
    }
    for (db, n) in honest.iter().zip(refusals) {
        assert_eq!(
            db.health().peer_violations,
            n,
            "seed {seed}: refusals counted"
        );
    }
    let [a, b] = &mut honest;
    let report = a.sync_with(b, SyncConfig::default()).unwrap();
    assert!(report.verified, "seed {seed}: honest regions converge");
    for db in &mut honest {
        let own = db.version_vector().unwrap().get(db.region()).copied();
        write(db, &mut rng);
        let last = db.changes_since(0, 100_000).unwrap().records.pop().unwrap();
        assert_eq!(
            last.seq,
            own.unwrap_or(0) + 1,
            "seed {seed}: own numbering intact"
        );
    }
}

#[test]
fn honest_regions_survive_a_hostile_one() {
    let seeds: u64 = std::env::var("HOSTILE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    for seed in 0..seeds {
        run(seed);
    }
}
