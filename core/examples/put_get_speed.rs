//! Native figure for `benches/python_bench.py`: write N rows with
//! `batch_write` (200 per batch) and read each back with `get_row`, in
//! memory, and print one JSON line with the times.
//!
//! Run: `cargo run --release -p tablesync --example put_get_speed [N]`

use std::time::Instant;

/// The allocator the shipped binaries use (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, PkColumn, PkType, PrimaryKey,
    TableSchema, WriteOp,
};

fn main() -> Result<(), tablesync::Error> {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let mut db = Database::memory(DatabaseOptions::new("bench"))?;
    db.create_table(TableSchema::new(
        "users",
        vec![PkColumn::new("uid", PkType::Integer)],
    ))?;

    let t = Instant::now();
    let mut base = 0;
    while base < n {
        let ops = (base..(base + 200).min(n))
            .map(|k| WriteOp::Put {
                table: "users".into(),
                primary_key: PrimaryKey::new([("uid", k)]),
                columns: vec![
                    Column::new("name", format!("user{k}")),
                    Column::new("age", k % 90),
                    Column::new("score", k as f64 * 0.5),
                ],
                condition: Condition::ignore(),
            })
            .collect();
        for r in db.batch_write(ops)? {
            r?;
        }
        base += 200;
    }
    let write_s = t.elapsed().as_secs_f64();

    let opts = GetOptions::default();
    let t = Instant::now();
    let mut found = 0u64;
    for k in 0..n {
        if db
            .get_row("users", &PrimaryKey::new([("uid", k)]), &opts)?
            .is_some()
        {
            found += 1;
        }
    }
    let read_s = t.elapsed().as_secs_f64();
    assert_eq!(found, n as u64);
    println!("{{\"rows\": {n}, \"write_s\": {write_s:.6}, \"read_s\": {read_s:.6}}}");
    Ok(())
}
