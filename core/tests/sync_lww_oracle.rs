//! A second, independent check of the sync promise (issue 8): proptest
//! draws sequences of writes, clock moves, log truncations and sync sessions
//! (every mode and direction, some cut off mid-way) over three regions,
//! shrinks any failure to a minimal sequence, and checks that after healing
//! every region shows exactly the last-writer-wins merge of the
//! acknowledged writes.
//!
//! The oracle shares nothing with the simulation's reference (which is a
//! `Database` that applied every record): it takes each acknowledged
//! write's stamp and operations and computes the visible rows itself, from
//! the rules in `docs/FORMAT.md` §5 and §6 (stamp order, per-version LWW,
//! row tombstones and delete-all floors, `max_versions`).
//!
//! `SYNC_ORACLE_CASES` sets the number of cases (default 256).

use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use tablesync::sync::{respond, Initiator, SessionStep, SyncConfig, SyncDirection, SyncMode};
use tablesync::*;

const REGIONS: usize = 5;
const MAX_VERSIONS: u32 = 2;

#[derive(Clone, Debug)]
enum Op {
    Write {
        region: usize,
        key: i64,
        kind: u8,
        value: i64,
    },
    Tick {
        region: usize,
        ms: i64,
    },
    Truncate {
        region: usize,
        keep: u64,
    },
    Sync {
        a: usize,
        b: usize,
        mode: u8,
        direction: u8,
        cut_after: Option<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..REGIONS, 0..6i64, 0..6u8, 0..50i64)
            .prop_map(|(region, key, kind, value)| Op::Write { region, key, kind, value }),
        2 => (0..REGIONS, 0..4i64).prop_map(|(region, ms)| Op::Tick { region, ms }),
        1 => (0..REGIONS, 0..3u64).prop_map(|(region, keep)| Op::Truncate { region, keep }),
        4 => (0..REGIONS, 1..REGIONS, 0..5u8, 0..3u8, proptest::option::of(0..4u8)).prop_map(
            |(a, d, mode, direction, cut_after)| Op::Sync {
                a,
                b: (a + d) % REGIONS,
                mode,
                direction,
                cut_after,
            }
        ),
    ]
}

/// One acknowledged write, as the oracle sees it.
#[derive(Clone, Debug)]
struct Acked {
    stamp: (u64, u64),
    kind: ChangeKind,
    key: i64,
    ops: Vec<ColumnOp>,
}

/// FORMAT.md §6.1, computed here rather than taken from the crate.
fn region_id(name: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"tablesync.region:");
    h.update(name.as_bytes());
    u64::from_be_bytes(h.finalize()[..8].try_into().unwrap())
}

/// Visible cells per existing row: `(column, timestamp, value)`, columns in
/// name order, newest version first, at most `MAX_VERSIONS` per column.
type Visible = BTreeMap<i64, Vec<(String, i64, Value)>>;

/// The entry that holds a `(column, timestamp)`: its stamp, and its value
/// (`None`: a version tombstone).
type Winner = ((u64, u64), Option<Value>);

/// The last-writer-wins merge of exactly these writes.
fn oracle(writes: &[Acked]) -> Visible {
    let mut out = Visible::new();
    let mut keys: Vec<i64> = writes.iter().map(|w| w.key).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let mine: Vec<&Acked> = writes.iter().filter(|w| w.key == key).collect();
        // A put replaces the whole row: it is a tombstone for everything older.
        let row_floor = mine
            .iter()
            .filter(|w| matches!(w.kind, ChangeKind::Put | ChangeKind::Delete))
            .map(|w| w.stamp)
            .max()
            .unwrap_or((0, 0));
        let live = mine
            .iter()
            .filter(|w| matches!(w.kind, ChangeKind::Put | ChangeKind::Update))
            .map(|w| w.stamp)
            .max();
        let exists = live.is_some_and(|l| l >= row_floor);
        if !exists {
            continue;
        }
        // Per (column, timestamp): the entry with the greatest stamp.
        let mut versions: BTreeMap<(String, i64), Winner> = BTreeMap::new();
        let mut cleared: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for w in &mine {
            for op in &w.ops {
                let (name, ts, value) = match op {
                    ColumnOp::Put {
                        name,
                        value,
                        timestamp,
                    } => (name, *timestamp, Some(value.clone())),
                    ColumnOp::DeleteOneVersion { name, timestamp } => (name, *timestamp, None),
                    ColumnOp::DeleteAllVersions { name } => {
                        let c = cleared.entry(name.clone()).or_default();
                        *c = (*c).max(w.stamp);
                        continue;
                    }
                };
                let slot = versions.entry((name.clone(), ts)).or_insert(((0, 0), None));
                if w.stamp > slot.0 {
                    *slot = (w.stamp, value);
                }
            }
        }
        let mut cells: Vec<(String, i64, Value)> = Vec::new();
        // A deleted version takes one of the newest places (FORMAT.md §5.1).
        let mut per_column: BTreeMap<String, Vec<(i64, Option<Value>)>> = BTreeMap::new();
        for ((name, ts), (stamp, value)) in versions {
            let floor = row_floor.max(cleared.get(&name).copied().unwrap_or((0, 0)));
            if stamp < floor {
                continue;
            }
            per_column.entry(name).or_default().push((ts, value));
        }
        for (name, mut vs) in per_column {
            vs.sort_by_key(|v| std::cmp::Reverse(v.0));
            for (ts, v) in vs.into_iter().take(MAX_VERSIONS as usize) {
                if let Some(v) = v {
                    cells.push((name.clone(), ts, v));
                }
            }
        }
        out.insert(key, cells);
    }
    out
}

fn visible(db: &Database) -> Visible {
    db.scan(
        "t",
        RangeBound::new([("k", PkBound::InfMin)]),
        RangeBound::new([("k", PkBound::InfMax)]),
        RangeOptions {
            read: GetOptions {
                max_versions: MAX_VERSIONS,
                ..GetOptions::default()
            },
            ..RangeOptions::default()
        },
    )
    .map(|r| {
        let r = r.unwrap();
        let PkValue::Integer(k) = r.primary_key.0[0].1 else {
            panic!("integer key")
        };
        let cells = r
            .cells
            .into_iter()
            .map(|c| (c.name, c.timestamp, c.value))
            .collect();
        (k, cells)
    })
    .collect()
}

fn write(db: &mut Database, key: i64, kind: u8, value: i64) -> Option<Acked> {
    let pk = PrimaryKey::new([("k", key)]);
    let before = db.next_cursor().unwrap();
    let r = match kind {
        0 | 1 => db.put_row(
            "t",
            pk,
            vec![
                Column::new("v", value),
                Column::new("s", format!("x{value}")),
            ],
            Condition::ignore(),
        ),
        2 => db.update_row(
            "t",
            pk,
            RowUpdate::new()
                .increment("n", 1)
                .put(Column::new("s", "u")),
            Condition::ignore(),
        ),
        3 => db.update_row(
            "t",
            pk,
            RowUpdate::new().delete_all("s"),
            Condition::ignore(),
        ),
        4 => {
            // Delete the newest version of `v`, if the row shows one here.
            let ts = db
                .get_row("t", &pk, &GetOptions::default())
                .ok()
                .flatten()
                .and_then(|r| r.cells.iter().find(|c| c.name == "v").map(|c| c.timestamp))?;
            db.update_row(
                "t",
                pk,
                RowUpdate::new().delete("v", ts),
                Condition::ignore(),
            )
        }
        _ => db
            .delete_row("t", pk.clone(), Condition::ignore())
            .map(|_| pk),
    };
    r.ok()?;
    // A write that changes nothing (deleting columns of a missing row) logs nothing.
    let cursor = db
        .next_cursor()
        .unwrap()
        .checked_sub(1)
        .filter(|c| *c >= before)?;
    let rec = db.changes_since(cursor, 1).unwrap().records.remove(0);
    Some(Acked {
        stamp: (rec.stamp, region_id(&rec.origin)),
        kind: rec.kind,
        key,
        ops: rec.columns,
    })
}

/// A session from `a` to `b`; `cut_after` abandons it after that many
/// replies (a timeout or a dropped reply).
fn session(a: &mut Database, b: &mut Database, config: SyncConfig, cut_after: Option<u8>) {
    let cap = config.max_frame_bytes;
    let mut s = Initiator::new(config);
    let Ok(mut step) = s.start(a) else { return };
    let mut replies = 0u8;
    while let SessionStep::Send(req) = step {
        if cut_after == Some(replies) {
            return;
        }
        let reply = respond(b, &req, cap).expect("well-formed request");
        replies += 1;
        step = match s.receive(a, &reply) {
            Ok(st) => st,
            Err(e) => {
                assert!(matches!(e.code(), "LogGap" | "SyncError"), "{e}");
                return;
            }
        };
    }
}

fn pair(dbs: &mut [Database], i: usize, j: usize) -> (&mut Database, &mut Database) {
    if i < j {
        let (l, r) = dbs.split_at_mut(j);
        (&mut l[i], &mut r[0])
    } else {
        let (l, r) = dbs.split_at_mut(i);
        (&mut r[0], &mut l[j])
    }
}

fn check(ops: &[Op]) -> std::result::Result<(), TestCaseError> {
    let clocks: Vec<ManualClock> = (0..REGIONS)
        .map(|_| ManualClock::new(1_700_000_000_000))
        .collect();
    let mut dbs: Vec<Database> = (0..REGIONS)
        .map(|i| {
            let mut db = Database::memory(DatabaseOptions::with_clock(
                format!("r{i}"),
                Arc::new(clocks[i].clone()),
            ))
            .unwrap();
            db.create_table(
                TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)]).with_options(
                    TableOptions {
                        max_versions: MAX_VERSIONS,
                        time_to_live: -1,
                    },
                ),
            )
            .unwrap();
            db
        })
        .collect();
    let mut acked = Vec::new();
    let modes = [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Hybrid,
        SyncMode::Reconcile,
        SyncMode::Auto,
    ];
    let directions = [
        SyncDirection::Pull,
        SyncDirection::Push,
        SyncDirection::Both,
    ];
    let mut session_id = 1;
    for op in ops {
        match *op {
            Op::Write {
                region,
                key,
                kind,
                value,
            } => acked.extend(write(&mut dbs[region], key, kind, value)),
            Op::Tick { region, ms } => clocks[region].advance(ms),
            Op::Truncate { region, keep } => {
                let next = dbs[region].next_cursor().unwrap();
                dbs[region].truncate_log(next.saturating_sub(keep)).unwrap();
            }
            Op::Sync {
                a,
                b,
                mode,
                direction,
                cut_after,
            } => {
                session_id += 1;
                let config = SyncConfig {
                    session_id,
                    initial_symbols: 8,
                    ..SyncConfig::new(modes[mode as usize], directions[direction as usize])
                };
                let (x, y) = pair(&mut dbs, a, b);
                session(x, y, config, cut_after);
            }
        }
    }
    // Heal: two rounds of fault-free auto syncs, both ways around the ring.
    // Each session leaves both sides with equal states, so after two rounds
    // every region holds the merge of everything; a third round may still
    // complete logs (records whose effects came as row states) but must move
    // no row and change nothing anyone sees.
    let want = oracle(&acked);
    for round in 0..3 {
        let mut rows_moved = 0;
        for i in 0..REGIONS {
            session_id += 1;
            let (x, y) = pair(&mut dbs, i, (i + 1) % REGIONS);
            let r = x
                .sync_with(
                    y,
                    SyncConfig {
                        session_id,
                        ..SyncConfig::default()
                    },
                )
                .unwrap();
            prop_assert!(r.verified, "a fault-free auto session did not verify");
            rows_moved += r.rows_pulled + r.rows_pushed;
        }
        if round == 2 {
            prop_assert_eq!(rows_moved, 0, "a third healing round still moved rows");
        }
        if round >= 1 {
            for (i, db) in dbs.iter().enumerate() {
                let got = visible(db);
                prop_assert_eq!(
                    &got,
                    &want,
                    "after {} healing rounds region r{} differs from the LWW merge of the acknowledged writes",
                    round + 1,
                    i
                );
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SYNC_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_region_shows_the_lww_merge_of_the_acknowledged_writes(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        check(&ops)?;
    }
}

/// The oracle itself, on hand-made cases whose answer is known.
#[test]
fn the_oracle_merges_by_stamp() {
    let put = |stamp: u64, key: i64, v: i64, ts: i64| Acked {
        stamp: (stamp, 1),
        kind: ChangeKind::Put,
        key,
        ops: vec![ColumnOp::Put {
            name: "v".into(),
            value: Value::Integer(v),
            timestamp: ts,
        }],
    };
    let delete = |stamp: u64, key: i64| Acked {
        stamp: (stamp, 1),
        kind: ChangeKind::Delete,
        key,
        ops: vec![],
    };
    // A later delete hides the row; an earlier one does not.
    assert!(oracle(&[put(2, 1, 7, 10), delete(3, 1)]).is_empty());
    assert_eq!(
        oracle(&[delete(1, 1), put(2, 1, 7, 10)])[&1],
        vec![("v".to_string(), 10, Value::Integer(7))]
    );
    // A put replaces older cells; same timestamp: the greater stamp wins.
    assert_eq!(
        oracle(&[put(5, 1, 8, 10), put(4, 1, 9, 10)])[&1],
        vec![("v".to_string(), 10, Value::Integer(8))]
    );
    // Updates keep older versions, newest first, at most MAX_VERSIONS.
    let update = |stamp: u64, v: i64, ts: i64| Acked {
        kind: ChangeKind::Update,
        ..put(stamp, 1, v, ts)
    };
    assert_eq!(
        oracle(&[put(1, 1, 1, 1), update(2, 2, 2), update(3, 3, 3)])[&1],
        vec![
            ("v".to_string(), 3, Value::Integer(3)),
            ("v".to_string(), 2, Value::Integer(2))
        ]
    );
    // Ties on the HLC are broken by the origin's region id.
    assert!(region_id("a") == 0x64f5_2883_0625_d0e8);
}
