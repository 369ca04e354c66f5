//! One engine phase at a time, for a profiler (docs/ENGINE.md "Where the
//! time goes"): `put` (batched load), `get` (random point gets), `range`
//! (100-row pages over the table), `rescan` (`verify_table_digest`) or
//! `apply` (`apply_change_bytes` of the log's records into an empty
//! region), on rows shaped like `bench-compare`'s (7 columns, ~104 raw
//! bytes), or `all` of them in turn. Inputs are built before the timed
//! phase. Prints rows/s.
//!
//! Run: `perf record -g target/release/examples/engine_profile get 300000`

use std::time::Instant;

/// The allocator the shipped binaries use (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, GetOptions, PkBound, PkColumn, PkType,
    PrimaryKey, RangeBound, RangeOptions, TableSchema, WriteOp,
};

fn row(uid: i64) -> WriteOp {
    let r = (uid as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    WriteOp::Put {
        table: "users".into(),
        primary_key: PrimaryKey::new([("uid", uid)]),
        columns: vec![
            Column::new("name", format!("user-{uid:06}")),
            Column::new("email", format!("user{uid}@example.com")),
            Column::new("age", 18 + (r % 60) as i64),
            Column::new("score", (r >> 8) as f64 / (1u64 << 56) as f64 * 100.0),
            Column::new("active", r % 3 != 0),
            Column::new("visits", (r >> 20) as i64 % 1000),
            Column::new("token", r.to_le_bytes().to_vec()),
        ],
        condition: Condition::ignore(),
    }
}

fn region() -> Result<Database, tablesync::Error> {
    let mut db = Database::memory(DatabaseOptions::new("profile"))?;
    db.create_table(TableSchema::new(
        "users",
        vec![PkColumn::new("uid", PkType::Integer)],
    ))?;
    Ok(db)
}

fn load(db: &mut Database, batches: Vec<Vec<WriteOp>>) -> Result<(), tablesync::Error> {
    for b in batches {
        for r in db.batch_write(b)? {
            r?;
        }
    }
    Ok(())
}

fn batches(n: i64) -> Vec<Vec<WriteOp>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(200)
        .map(|c| c.iter().map(|&k| row(k)).collect())
        .collect()
}

/// Every phase, in order (`all`: the test script's smoke run).
const PHASES: [&str; 5] = ["put", "get", "range", "rescan", "apply"];

fn main() -> Result<(), tablesync::Error> {
    let mut args = std::env::args().skip(1);
    let phase = args.next().unwrap_or_else(|| "get".into());
    let n: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(300_000);
    if phase == "all" {
        return PHASES.iter().try_for_each(|p| run(p, n));
    }
    run(&phase, n)
}

/// Load `n` rows and time `phase` on them.
fn run(phase: &str, n: i64) -> Result<(), tablesync::Error> {
    let phase = phase.to_string();
    let mut db = region()?;
    let input = batches(n);
    let t = Instant::now();
    if phase == "put" {
        load(&mut db, input)?;
        return report(&phase, n as u64, t);
    }
    load(&mut db, input)?;
    let mut done = 0u64;
    let t = Instant::now();
    match phase.as_str() {
        "get" => {
            let keys: Vec<PrimaryKey> = (0..n)
                .map(|i| PrimaryKey::new([("uid", (i * 7_919) % n)]))
                .collect();
            let opts = GetOptions::default();
            let t = Instant::now();
            // Repeated so the phase, not the load, dominates a profile.
            for _ in 0..5 {
                for k in &keys {
                    done += u64::from(db.get_row("users", k, &opts)?.is_some());
                }
            }
            return report(&phase, done, t);
        }
        "range" => {
            let end = RangeBound::new([("uid", PkBound::InfMax)]);
            let mut start: RangeBound = RangeBound::new([("uid", PkBound::InfMin)]);
            let opts = RangeOptions {
                limit: Some(100),
                ..RangeOptions::default()
            };
            for _ in 0..10 {
                loop {
                    let page = db.get_range("users", &start, &end, &opts)?;
                    done += page.rows.len() as u64;
                    match page.next_start {
                        Some(s) => start = s,
                        None => break,
                    }
                }
                start = RangeBound::new([("uid", PkBound::InfMin)]);
            }
        }
        "rescan" => {
            for _ in 0..15 {
                db.verify_table_digest("users")?;
                done += n as u64;
            }
        }
        "apply" => {
            let mut records = Vec::new();
            let mut cursor = 0;
            loop {
                let page = db.changes_since(cursor, 10_000)?;
                if page.records.is_empty() {
                    break;
                }
                cursor = page.next_cursor;
                records.extend(
                    page.records
                        .iter()
                        .map(tablesync::codec::record::encode_record),
                );
            }
            let mut dst = region()?;
            let t = Instant::now();
            for chunk in records.chunks(1000) {
                dst.apply_change_bytes(chunk)?;
            }
            return report(&phase, records.len() as u64, t);
        }
        other => panic!("unknown phase {other}: put | get | range | rescan | apply | all"),
    }
    report(&phase, done, t)
}

fn report(phase: &str, rows: u64, t: Instant) -> Result<(), tablesync::Error> {
    let s = t.elapsed().as_secs_f64();
    println!(
        "{{\"phase\": \"{phase}\", \"rows\": {rows}, \"s\": {s:.6}, \"rows_per_s\": {:.0}}}",
        rows as f64 / s
    );
    Ok(())
}
