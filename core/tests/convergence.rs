//! Convergence: random mutations in three regions (skewed manual clocks,
//! occasional pairwise syncs), then every record applied to fresh regions
//! in random orders, with duplicates, in random chunks. Every replica must
//! end with identical digests and identical reads; so must the three
//! regions after pairwise exchange through `changes_since`/`apply_changes`.
//!
//! `CONVERGENCE_SEED=n` replays one seed; `CONVERGENCE_SEEDS=n` runs n seeds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tablesync::{
    ChangeRecord, Column, ColumnCondition, CompareOp, Condition, Database, DatabaseOptions,
    GetOptions, ManualClock, PkBound, PkColumn, PkType, PkValue, PrimaryKey, RangeBound,
    RangeOptions, Row, RowExistence, RowUpdate, TableOptions, TableSchema, Value, WriteOp,
};

const T0: i64 = 1_700_000_000_000;

/// SplitMix64: a small deterministic generator (the core takes no global randomness).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

fn schemas() -> Vec<TableSchema> {
    vec![
        TableSchema::new(
            "t",
            vec![
                PkColumn::new("k", PkType::Integer),
                PkColumn::new("s", PkType::String),
            ],
        )
        .with_options(TableOptions {
            max_versions: 2,
            time_to_live: -1,
        }),
        TableSchema::new("u", vec![PkColumn::new("id", PkType::Binary)]).with_options(
            TableOptions {
                max_versions: 1,
                time_to_live: 86_400,
            },
        ),
    ]
}

struct Region {
    db: Database,
    clock: ManualClock,
}

fn region(name: &str, clock_ms: i64) -> Region {
    let clock = ManualClock::new(clock_ms);
    let mut db =
        Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock.clone()))).unwrap();
    for s in schemas() {
        db.create_table(s).unwrap();
    }
    Region { db, clock }
}

fn key(rng: &mut Rng, table: &str) -> PrimaryKey {
    if table == "t" {
        PrimaryKey(vec![
            ("k".into(), PkValue::Integer(rng.below(5) as i64 - 1)),
            (
                "s".into(),
                PkValue::String(rng.pick(&["", "x", "x\0"]).to_string()),
            ),
        ])
    } else {
        PrimaryKey::new([("id", vec![rng.below(4) as u8])])
    }
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 | 1 => Value::Integer(rng.below(7) as i64 - 3),
        2 => Value::Double(rng.below(4) as f64 / 2.0 - 0.5),
        3 => Value::Boolean(rng.chance(50)),
        _ => Value::String(rng.pick(&["", "a", "b"]).to_string()),
    }
}

fn column(rng: &mut Rng) -> Column {
    let c = Column::new(*rng.pick(&["a", "b", "c"]), value(rng));
    // Explicit timestamps from a small set make regions write the same cell version.
    if rng.chance(50) {
        c.at(rng.below(4) as i64 + 1)
    } else {
        c
    }
}

fn condition(rng: &mut Rng) -> Condition {
    let mut c = Condition::row(*rng.pick(&[
        RowExistence::Ignore,
        RowExistence::Ignore,
        RowExistence::ExpectExist,
        RowExistence::ExpectNotExist,
    ]));
    if rng.chance(20) {
        c = c.with_column(ColumnCondition::single(
            *rng.pick(&["a", "b"]),
            *rng.pick(&[CompareOp::Equal, CompareOp::NotEqual, CompareOp::Greater]),
            Value::Integer(rng.below(3) as i64),
        ));
    }
    c
}

fn write_op(rng: &mut Rng) -> WriteOp {
    let table = rng.pick(&["t", "t", "u"]).to_string();
    let primary_key = key(rng, &table);
    let condition = condition(rng);
    match rng.below(6) {
        0 | 1 => WriteOp::Put {
            table,
            primary_key,
            columns: (0..rng.below(4)).map(|_| column(rng)).collect(),
            condition,
        },
        2..=4 => {
            let mut u = RowUpdate::new();
            for _ in 0..rng.below(3) {
                u = u.put(column(rng));
            }
            if rng.chance(25) {
                u = u.increment(*rng.pick(&["a", "n"]), rng.below(5) as i64 - 2);
            }
            if rng.chance(25) {
                u = u.delete(*rng.pick(&["a", "b", "c"]), rng.below(4) as i64 + 1);
            }
            if rng.chance(15) {
                u = u.delete_all(*rng.pick(&["a", "b", "c"]));
            }
            if u.is_empty() {
                u = u.put(column(rng));
            }
            WriteOp::Update {
                table,
                primary_key,
                update: u,
                condition,
            }
        }
        _ => WriteOp::Delete {
            table,
            primary_key,
            condition,
        },
    }
}

fn run_write(db: &mut Database, op: WriteOp) {
    let r = db.write(op).map(|_| ());
    if let Err(e) = r {
        // Conditions and increments of non-integers may fail; nothing else may.
        assert!(
            matches!(e.code(), "OTSConditionCheckFail" | "OTSParameterInvalid"),
            "unexpected error {e}"
        );
    }
}

/// Pull everything `from` has that `to` lacks, by cursor.
fn pull(to: &mut Database, from: &Database, cursor: &mut u64) {
    loop {
        let page = from.changes_since(*cursor, 7).unwrap();
        if page.records.is_empty() {
            *cursor = page.next_cursor;
            return;
        }
        let stats = to.apply_changes(&page.records).unwrap();
        assert_eq!(stats.applied + stats.skipped, page.records.len() as u64);
        *cursor = page.next_cursor;
    }
}

/// What every replica must agree on: per table the digest, the row count and every read.
fn observe(db: &Database) -> BTreeMap<String, (String, u64, Vec<Row>)> {
    let mut out = BTreeMap::new();
    for s in schemas() {
        let all = |b: PkBound| {
            RangeBound(
                s.primary_key
                    .iter()
                    .map(|c| (c.name.clone(), b.clone()))
                    .collect(),
            )
        };
        let rows: Vec<Row> = db
            .scan(
                &s.name,
                all(PkBound::InfMin),
                all(PkBound::InfMax),
                RangeOptions {
                    read: GetOptions {
                        max_versions: 5,
                        ..GetOptions::default()
                    },
                    ..RangeOptions::default()
                },
            )
            .collect::<Result<_, _>>()
            .unwrap();
        let digest = db.verify_table_digest(&s.name).unwrap();
        assert_eq!(digest, db.table_digest(&s.name).unwrap());
        let count = db.describe_table(&s.name).unwrap().row_count;
        out.insert(s.name.clone(), (digest.to_hex(), count, rows));
    }
    out
}

#[allow(clippy::needless_range_loop)] // regions are addressed by index in pairs
fn run_seed(seed: u64) {
    let mut rng = Rng(seed);
    let names = ["r0", "r1", "r2"];
    let mut regions: Vec<Region> = names
        .iter()
        .map(|n| region(n, T0 + rng.below(100) as i64 - 50))
        .collect();
    let mut cursors = [[0u64; 3]; 3];
    let steps = 30 + rng.below(50);
    for _ in 0..steps {
        let i = rng.below(3) as usize;
        let r = &mut regions[i];
        match rng.below(20) {
            0 => r.clock.advance(-(rng.below(20) as i64)), // clocks may step back
            1..=3 => {
                let j = (i + 1 + rng.below(2) as usize) % 3;
                let (to, from) = pair(&mut regions, i, j);
                pull(&mut to.db, &from.db, &mut cursors[i][j]);
            }
            4 => {
                let ops = (0..1 + rng.below(4)).map(|_| write_op(&mut rng)).collect();
                let r = &mut regions[i];
                match r.db.batch_write(ops) {
                    Ok(_) => {}
                    Err(e) => assert_eq!(e.code(), "OTSParameterInvalid", "{e}"),
                }
            }
            _ => {
                r.clock.advance(rng.below(3) as i64);
                let op = write_op(&mut rng);
                run_write(&mut regions[i].db, op);
            }
        }
    }

    // Every record any region made, once.
    let mut all: BTreeMap<(String, u64), ChangeRecord> = BTreeMap::new();
    for r in &regions {
        for rec in r.db.changes_since(0, 100_000).unwrap().records {
            all.entry((rec.origin.clone(), rec.seq)).or_insert(rec);
        }
    }
    let records: Vec<ChangeRecord> = all.into_values().collect();

    // Fresh replicas: random order, duplicates, random chunks.
    let now = T0 + 1_000;
    let mut observed = Vec::new();
    for f in 0..4 {
        let mut fresh = region(&format!("fresh{f}"), now);
        let mut feed = records.clone();
        for _ in 0..rng.below(records.len() as u64 + 1) {
            let dup = rng.pick(&records).clone();
            feed.push(dup);
        }
        rng.shuffle(&mut feed);
        let mut rest = &feed[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(8) as usize).min(rest.len());
            fresh.db.apply_changes(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        let vv: BTreeSet<(String, u64)> =
            records.iter().map(|r| (r.origin.clone(), r.seq)).collect();
        for (o, s) in &vv {
            assert!(fresh.db.version_vector_full().unwrap().contains(o, *s));
        }
        observed.push(observe(&fresh.db));
        // A snapshot of the replica reads the same.
        let back = Database::import_snapshot(
            &fresh.db.export_snapshot().unwrap(),
            Arc::new(ManualClock::new(now)),
        )
        .unwrap();
        assert_eq!(observe(&back), observed[0], "snapshot of fresh replica {f}");
    }
    for (f, o) in observed.iter().enumerate() {
        assert_eq!(o, &observed[0], "fresh replica {f} differs from replica 0");
    }

    // Pairwise exchange until every region has everything.
    for _ in 0..2 {
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    let (to, from) = pair(&mut regions, i, j);
                    pull(&mut to.db, &from.db, &mut cursors[i][j]);
                }
            }
        }
    }
    for (i, r) in regions.iter_mut().enumerate() {
        r.clock.set(now);
        assert_eq!(
            r.db.version_vector().unwrap(),
            regions_vv(&records),
            "region {i} version vector"
        );
        assert_eq!(
            observe(&r.db),
            observed[0],
            "region {} after pairwise exchange",
            names[i]
        );
    }
}

fn regions_vv(records: &[ChangeRecord]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in records {
        let e = m.entry(r.origin.clone()).or_insert(0);
        *e = (*e).max(r.seq);
    }
    m
}

fn pair(regions: &mut [Region], i: usize, j: usize) -> (&mut Region, &Region) {
    assert_ne!(i, j);
    if i < j {
        let (a, b) = regions.split_at_mut(j);
        (&mut a[i], &b[0])
    } else {
        let (a, b) = regions.split_at_mut(i);
        (&mut b[0], &a[j])
    }
}

#[test]
fn replicas_converge_for_every_seed() {
    let seeds: Vec<u64> = match std::env::var("CONVERGENCE_SEED") {
        Ok(s) => vec![s.parse().expect("CONVERGENCE_SEED")],
        Err(_) => {
            let n = std::env::var("CONVERGENCE_SEEDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(240u64);
            (0..n).collect()
        }
    };
    for seed in seeds {
        if std::panic::catch_unwind(|| run_seed(seed)).is_err() {
            panic!("convergence failed for seed {seed}; rerun with CONVERGENCE_SEED={seed}");
        }
    }
}

#[test]
fn same_cell_version_written_in_two_regions_resolves_by_stamp() {
    // Two regions write the same (column, timestamp) concurrently; both
    // orders of exchange end with the write of the greater stamp.
    let mut a = region("a", T0);
    let mut b = region("b", T0 + 5);
    let pk = PrimaryKey::new([("id", vec![1u8])]);
    a.db.put_row(
        "u",
        pk.clone(),
        vec![Column::new("v", "from-a").at(T0)],
        Condition::ignore(),
    )
    .unwrap();
    b.db.put_row(
        "u",
        pk.clone(),
        vec![Column::new("v", "from-b").at(T0)],
        Condition::ignore(),
    )
    .unwrap();
    let ra = a.db.changes_since(0, 10).unwrap().records;
    let rb = b.db.changes_since(0, 10).unwrap().records;
    a.db.apply_changes(&rb).unwrap();
    b.db.apply_changes(&ra).unwrap();
    let get = |db: &Database| {
        db.get_row("u", &pk, &GetOptions::default())
            .unwrap()
            .unwrap()
    };
    // b's clock is ahead, so its stamp is greater.
    assert_eq!(get(&a.db).get("v"), Some(&Value::from("from-b")));
    assert_eq!(get(&b.db).get("v"), Some(&Value::from("from-b")));
    assert_eq!(
        a.db.table_digest("u").unwrap(),
        b.db.table_digest("u").unwrap()
    );
    // a's clock observed b's stamp: its next write wins over b's.
    a.db.put_row(
        "u",
        pk.clone(),
        vec![Column::new("v", "a-again").at(T0)],
        Condition::ignore(),
    )
    .unwrap();
    let ra2 = a.db.changes_since(0, 10).unwrap().records;
    b.db.apply_changes(&ra2).unwrap();
    assert_eq!(get(&b.db).get("v"), Some(&Value::from("a-again")));
}
