//! What a region's full checkpoint costs the writer: the background full
//! checkpoint (`begin_delta` + `finish_delta` under the database, `run`
//! off it; FORMAT.md §12 "Background full checkpoint") next to the inline
//! `checkpoint_full()` of the same region, same run.
//!
//! `cargo run --release -p tablesync --example full_checkpoint_cost [ROWS] [ROW_BYTES] [RUNS]`
//! (default 60000 rows of 1024 bytes, about the region at `replicate
//! --load 20000 --load-bytes 1024`'s first 64 MiB checkpoint; 3 runs, each
//! on a fresh region in the temp directory).

use std::time::Instant;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, PkColumn, PkType, PrimaryKey, SyncPolicy,
    TableSchema, WriteOp,
};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A row value of `n` hex digits of a pseudo-random sequence.
fn value(k: u64, n: usize) -> String {
    let mut x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(n);
    s
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() -> tablesync::Result<()> {
    let (rows, bytes, runs) = (arg(1, 60_000), arg(2, 1024) as usize, arg(3, 3));
    for run in 1..=runs {
        let dir = std::env::temp_dir().join(format!("tablesync-fullcost-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Rows in memory: full and delta checkpoints are that mode's.
        let options = DatabaseOptions::new("cost")
            .rows_in_memory()
            .sync(SyncPolicy::Batch)
            .checkpoint_bytes(1 << 40);
        let mut db = Database::open(&dir, options)?;
        db.set_background_deltas(true);
        db.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))?;
        for start in (0..rows).step_by(200) {
            let ops = (start..(start + 200).min(rows))
                .map(|k| WriteOp::Put {
                    table: "t".into(),
                    primary_key: PrimaryKey::new([("k", k as i64)]),
                    columns: vec![Column::new("v", value(k, bytes))],
                    condition: Condition::ignore(),
                })
                .collect();
            for r in db.batch_write(ops)? {
                r?;
            }
        }
        let t = Instant::now();
        let Some(c) = db.begin_delta()? else {
            panic!("no checkpoint begun");
        };
        assert!(c.is_full(), "the region's first checkpoint is a full one");
        let begin = ms(t);
        let t = Instant::now();
        let done = c.run();
        let work = ms(t);
        let size = done.result().expect("the checkpoint was written");
        let t = Instant::now();
        assert!(db.finish_delta(done)?, "installed");
        let finish = ms(t);
        // The reference: the same region checkpointed inline.
        db.put_row(
            "t",
            PrimaryKey::new([("k", 0)]),
            vec![Column::new("v", value(rows, bytes))],
            Condition::ignore(),
        )?;
        let t = Instant::now();
        db.checkpoint_full()?;
        let inline = ms(t);
        db.close()?;
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "run {run}: {rows} rows of {bytes} B, snapshot {:.1} MiB: background held {:.2} ms (begin {begin:.2} + finish {finish:.2}), run off the lock {work:.1} ms; inline checkpoint_full {inline:.1} ms (held/inline {:.4})",
            size as f64 / (1 << 20) as f64,
            begin + finish,
            (begin + finish) / inline
        );
    }
    Ok(())
}
