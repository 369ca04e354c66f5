//! tablesync measurements.

use crate::data::{self, Rec, TABLE};
use std::path::Path;
use std::time::Instant;
use tablesync::codec::buf::{put_bytes, put_varint};
use tablesync::codec::key::encode_key_values;
use tablesync::codec::record::decode_record;
use tablesync::codec::value::put_value;
use tablesync::digest::Accumulator;
use tablesync::{
    ChangeRecord, Condition, Database, DatabaseOptions, Direction, GetOptions, RangeBound,
    RangeOptions, Result, SyncPolicy,
};

/// A fresh in-memory region with the table.
pub fn memory_db(region: &str) -> Result<Database> {
    let mut db = Database::memory(DatabaseOptions::new(region))?;
    db.create_table(data::schema())?;
    Ok(db)
}

/// Seconds `f` takes.
pub fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed().as_secs_f64(), out)
}

/// Load `recs` with `batch_write` (200 per call); seconds taken (generation excluded).
pub fn batched_put(db: &mut Database, recs: &[Rec]) -> Result<f64> {
    let batches = data::batches(recs);
    let (secs, r) = timed(|| -> Result<()> {
        for b in batches {
            for r in db.batch_write(b)? {
                r?;
            }
        }
        Ok(())
    });
    r?;
    Ok(secs)
}

/// One `put_row` per row; seconds taken.
pub fn single_put(db: &mut Database, recs: &[Rec]) -> Result<f64> {
    let items: Vec<_> = recs.iter().map(|r| (r.key(), r.columns())).collect();
    let (secs, r) = timed(|| -> Result<()> {
        for (k, c) in items {
            db.put_row(TABLE, k, c, Condition::ignore())?;
        }
        Ok(())
    });
    r?;
    Ok(secs)
}

/// Point reads; (seconds, rows found).
pub fn point_get(db: &Database, uids: &[i64]) -> Result<(f64, u64)> {
    let keys: Vec<_> = uids.iter().map(|u| data::rec(*u).key()).collect();
    let opts = GetOptions::default();
    let (secs, r) = timed(|| -> Result<u64> {
        let mut found = 0;
        for k in &keys {
            if let Some(row) = db.get_row(TABLE, k, &opts)? {
                std::hint::black_box(row);
                found += 1;
            }
        }
        Ok(found)
    });
    Ok((secs, r?))
}

/// Range pages of `page` rows from each start; (seconds, rows read).
pub fn range_scan(db: &Database, starts: &[i64], page: usize) -> Result<(f64, u64)> {
    let end = RangeBound::new([("uid", tablesync::PkBound::InfMax)]);
    let opts = RangeOptions {
        direction: Direction::Forward,
        limit: Some(page),
        ..RangeOptions::default()
    };
    let (secs, r) = timed(|| -> Result<u64> {
        let mut n = 0;
        for s in starts {
            let start = RangeBound::from(data::rec(*s).key());
            let p = db.get_range(TABLE, &start, &end, &opts)?;
            n += p.rows.len() as u64;
            std::hint::black_box(p);
        }
        Ok(n)
    });
    Ok((secs, r?))
}

/// Every record of a region's log.
pub fn all_records(db: &Database) -> Result<Vec<ChangeRecord>> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = db.changes_since(cursor, 100_000)?;
        if page.records.is_empty() {
            return Ok(out);
        }
        cursor = page.next_cursor;
        out.extend(page.records);
    }
}

/// Apply `records` to a fresh region; (seconds, records applied, digest matches source).
pub fn apply(records: &[ChangeRecord], source: &Database) -> Result<(f64, u64, bool)> {
    let mut db = memory_db("replica")?;
    let (secs, stats) = timed(|| db.apply_changes(records));
    let stats = stats?;
    Ok((
        secs,
        stats.applied,
        db.table_digest(TABLE)? == source.table_digest(TABLE)?,
    ))
}

/// The path sync and replication use: records arrive encoded (FORMAT.md
/// §7) in frames, are decoded and applied by value
/// (`apply_changes_owned`, as `apply_peer_changes` does). Times decode and
/// apply together into a fresh region; (seconds, applied, digest matches).
pub fn apply_sync_path(encoded: &[Vec<u8>], source: &Database) -> Result<(f64, u64, bool)> {
    let mut db = memory_db("replica")?;
    let (secs, stats) = timed(|| -> Result<_> {
        let records = encoded
            .iter()
            .map(|b| decode_record(b))
            .collect::<Result<Vec<_>>>()?;
        db.apply_changes_owned(records)
    });
    let stats = stats?;
    Ok((
        secs,
        stats.applied,
        db.table_digest(TABLE)? == source.table_digest(TABLE)?,
    ))
}

/// The records of `source` pulled by a fresh region in one `incremental`
/// sync session, in process: every page goes through real frames (encode
/// and lz4 on the sender, decode on the receiver, which applies the
/// records from the frame bytes). Both sides' work is timed; (seconds,
/// records applied, digest matches).
pub fn apply_over_frames(source: &mut Database) -> Result<(f64, u64, bool)> {
    use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
    let mut db = memory_db("replica")?;
    let config = SyncConfig::new(SyncMode::Incremental, SyncDirection::Pull);
    let (secs, report) = timed(|| db.sync_with(source, config));
    let report = report?;
    Ok((
        secs,
        report.records_pulled,
        db.table_digest(TABLE)? == source.table_digest(TABLE)?,
    ))
}

/// `apply_change_bytes`: the encoded records applied with their own bytes
/// kept for the log; (seconds, applied, digest matches).
pub fn apply_bytes(encoded: &[Vec<u8>], source: &Database) -> Result<(f64, u64, bool)> {
    let mut db = memory_db("replica")?;
    let (secs, stats) = timed(|| db.apply_change_bytes(encoded));
    let stats = stats?;
    Ok((
        secs,
        stats.applied,
        db.table_digest(TABLE)? == source.table_digest(TABLE)?,
    ))
}

/// The exact bytes the table digest hashes for each row (docs/FORMAT.md),
/// rebuilt from reads. Checked against the table digest before use.
pub fn digest_inputs(db: &Database) -> Result<Vec<Vec<u8>>> {
    let start = RangeBound::new([("uid", tablesync::PkBound::InfMin)]);
    let end = RangeBound::new([("uid", tablesync::PkBound::InfMax)]);
    let mut out = Vec::new();
    for row in db.scan(TABLE, start, end, RangeOptions::default()) {
        let row = row?;
        let key = encode_key_values(row.primary_key.columns().iter().map(|(_, v)| v));
        let mut buf = Vec::with_capacity(160);
        buf.extend_from_slice(b"tablesync.row.v1");
        put_bytes(&mut buf, &key);
        for c in &row.cells {
            put_bytes(&mut buf, c.name.as_bytes());
            put_varint(&mut buf, 1);
            buf.extend_from_slice(&c.timestamp.to_le_bytes());
            put_value(&mut buf, &c.value);
        }
        out.push(buf);
    }
    Ok(out)
}

/// Raw SHA-256 of each row's bytes plus the same sum; (seconds, accumulator).
pub fn raw_sha(inputs: &[Vec<u8>]) -> (f64, Accumulator) {
    use sha2::{Digest as _, Sha256};
    timed(|| {
        let mut acc = Accumulator::default();
        for b in inputs {
            let d: [u8; 32] = Sha256::digest(b).into();
            acc.add(&d);
        }
        acc
    })
}

/// A durable region in `dir` loaded with `batch_write`, closed at the end
/// (so the final fsync, and a paged region's checkpoint of every page and
/// record, are counted); seconds taken. `rows_in_memory`: the region keeps
/// its rows in memory (`DatabaseOptions::rows_in_memory`) instead of the
/// default page store.
pub fn durable_load(
    dir: &Path,
    sync: SyncPolicy,
    recs: &[Rec],
    rows_in_memory: bool,
) -> Result<f64> {
    let batches = data::batches(recs);
    let mut options = DatabaseOptions::new("bench").sync(sync);
    if rows_in_memory {
        options = options.rows_in_memory();
    }
    let (secs, r) = timed(|| -> Result<()> {
        let mut db = Database::open(dir, options)?;
        db.create_table(data::schema())?;
        for b in batches {
            for r in db.batch_write(b)? {
                r?;
            }
        }
        db.close()
    });
    r?;
    Ok(secs)
}
