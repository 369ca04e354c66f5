//! Criterion benchmarks of the core operations on ~100-byte rows.
//!
//! `cargo bench -p tablesync --bench ops`. These give stable per-operation
//! figures for regressions; `bench-compare` (crate `tablesync-bench`) puts
//! them next to SQLite and raw SHA-256 measured in the same run.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use tablesync::{
    ChangeRecord, Column, Condition, Database, DatabaseOptions, Direction, GetOptions, ManualClock,
    PkBound, PkColumn, PkType, PrimaryKey, RangeBound, RangeOptions, TableSchema, WriteOp,
};

const TABLE: &str = "users";
const ROWS: i64 = 10_000;

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn key(uid: i64) -> PrimaryKey {
    PrimaryKey::new([("uid", uid)])
}

fn columns(uid: i64) -> Vec<Column> {
    let r = mix(uid as u64);
    vec![
        Column::new("name", format!("user-{uid:06}")),
        Column::new("email", format!("user{uid}@example.com")),
        Column::new("age", 18 + (r % 60) as i64),
        Column::new("score", (r >> 11) as f64 / (1u64 << 53) as f64),
        Column::new("active", r % 3 != 0),
        Column::new("visits", (r >> 20) as i64 % 1000),
        Column::new("token", mix(r).to_le_bytes().to_vec()),
    ]
}

fn empty_db(region: &str) -> Database {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut db = Database::memory(DatabaseOptions::with_clock(region, clock)).unwrap();
    db.create_table(TableSchema::new(
        TABLE,
        vec![PkColumn::new("uid", PkType::Integer)],
    ))
    .unwrap();
    db
}

fn batches(n: i64) -> Vec<Vec<WriteOp>> {
    (1..=n)
        .collect::<Vec<_>>()
        .chunks(200)
        .map(|c| {
            c.iter()
                .map(|&u| WriteOp::Put {
                    table: TABLE.into(),
                    primary_key: key(u),
                    columns: columns(u),
                    condition: Condition::ignore(),
                })
                .collect()
        })
        .collect()
}

fn loaded_db() -> Database {
    let mut db = empty_db("a");
    for b in batches(ROWS) {
        db.batch_write(b).unwrap();
    }
    db
}

fn records(db: &Database) -> Vec<ChangeRecord> {
    db.changes_since(0, ROWS as usize).unwrap().records
}

fn writes(c: &mut Criterion) {
    let mut g = c.benchmark_group("write");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("batched_put_10k_rows", |b| {
        b.iter_batched(
            || (empty_db("a"), batches(ROWS)),
            |(mut db, bs)| {
                for batch in bs {
                    black_box(db.batch_write(batch).unwrap());
                }
                db
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(2_000));
    g.bench_function("single_put_2k_rows", |b| {
        b.iter_batched(
            || {
                let rows: Vec<_> = (1..=2_000).map(|u| (key(u), columns(u))).collect();
                (empty_db("a"), rows)
            },
            |(mut db, rows)| {
                for (k, cols) in rows {
                    db.put_row(TABLE, k, cols, Condition::ignore()).unwrap();
                }
                db
            },
            BatchSize::LargeInput,
        )
    });
    let source = loaded_db();
    let recs = records(&source);
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.bench_function("apply_changes_10k_records", |b| {
        b.iter_batched(
            || empty_db("b"),
            |mut db| {
                black_box(db.apply_changes(&recs).unwrap());
                db
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn reads(c: &mut Criterion) {
    let db = loaded_db();
    let mut g = c.benchmark_group("read");
    let probes: Vec<PrimaryKey> = (0..1_000u64)
        .map(|i| key((mix(i) % ROWS as u64) as i64 + 1))
        .collect();
    g.throughput(Throughput::Elements(probes.len() as u64));
    let opts = GetOptions::default();
    g.bench_function("point_get_1k_random", |b| {
        b.iter(|| {
            for k in &probes {
                black_box(db.get_row(TABLE, k, &opts).unwrap());
            }
        })
    });
    g.throughput(Throughput::Elements(1_000));
    let range = RangeOptions {
        direction: Direction::Forward,
        limit: Some(1_000),
        ..RangeOptions::default()
    };
    let end = RangeBound::new([("uid", PkBound::InfMax)]);
    let mut i = 0u64;
    g.bench_function("range_scan_1k_rows", |b| {
        b.iter(|| {
            i += 1;
            let start = RangeBound::from(key((mix(i) % (ROWS as u64 - 1_000)) as i64 + 1));
            let page = db.get_range(TABLE, &start, &end, &range).unwrap();
            assert_eq!(page.rows.len(), 1_000);
            black_box(page)
        })
    });
    g.sample_size(20);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("digest_rescan_10k_rows", |b| {
        b.iter(|| black_box(db.verify_table_digest(TABLE).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, writes, reads);
criterion_main!(benches);
