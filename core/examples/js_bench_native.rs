//! The native reference for `benches/js_bench.mjs`: the same workload the JS
//! bench runs through the npm package — batched put (200 rows per batch) and
//! point get of 100,000 rows — measured natively after a warm-up, printed
//! as one JSON line for the JS bench to read.
//!
//! ```sh
//! cargo run --release -p tablesync --example js_bench_native
//! ```

use std::sync::Arc;
use std::time::Instant;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, FnClock, GetOptions, PkColumn, PkType,
    PrimaryKey, TableSchema, WriteOp,
};

const ROWS: i64 = 100_000;
const BATCH: i64 = 200;
const WARMUP_ROWS: i64 = 10_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn open() -> Database {
    // A closure clock, as the JS binding uses (there: `Date.now()`).
    let clock = Arc::new(FnClock(now_ms));
    let mut db = Database::memory(DatabaseOptions::with_clock("bench", clock)).expect("open");
    db.create_table(TableSchema::new(
        "users",
        vec![PkColumn::new("uid", PkType::Integer)],
    ))
    .expect("create table");
    db
}

fn put_all(db: &mut Database, rows: i64) {
    for start in (0..rows).step_by(BATCH as usize) {
        let ops = (start..(start + BATCH).min(rows))
            .map(|i| WriteOp::Put {
                table: "users".into(),
                primary_key: PrimaryKey::new([("uid", i)]),
                // Fixed version timestamps: the JS bench writes the same
                // cells, so both runs end with the same table digest.
                columns: vec![
                    Column::new("name", format!("user-{i}")).at(1000),
                    Column::new("age", i % 100).at(1000),
                    Column::new("score", i as f64 * 0.5 + 0.25).at(1000),
                ],
                condition: Condition::ignore(),
            })
            .collect();
        for r in db.batch_write(ops).expect("batch") {
            r.expect("put");
        }
    }
}

fn get_all(db: &Database, rows: i64) -> usize {
    let opts = GetOptions::default();
    let mut found = 0;
    for i in 0..rows {
        let row = db
            .get_row("users", &PrimaryKey::new([("uid", i)]), &opts)
            .expect("get");
        found += usize::from(row.is_some());
    }
    found
}

fn main() {
    // Warm-up: the same code paths on a throwaway database.
    let mut warm = open();
    put_all(&mut warm, WARMUP_ROWS);
    assert_eq!(get_all(&warm, WARMUP_ROWS), WARMUP_ROWS as usize);
    drop(warm);

    let mut db = open();
    let t = Instant::now();
    put_all(&mut db, ROWS);
    let put_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let found = get_all(&db, ROWS);
    let get_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(found, ROWS as usize);
    println!(
        "{{\"rows\":{ROWS},\"batch\":{BATCH},\"put_ms\":{put_ms:.3},\"get_ms\":{get_ms:.3},\"digest\":\"{}\"}}",
        db.table_digest("users").expect("digest")
    );
}
