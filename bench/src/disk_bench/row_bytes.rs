//! The bytes a tablesync durable region would hand an embedded engine for
//! each row: key = the encoded primary key (FORMAT.md §4, order-preserving),
//! value = the encoded row state (FORMAT.md §5) of a freshly put row. Built
//! with the core's codec functions, and checked byte for byte against what
//! an in-memory `Database` stores for the same rows ([`check_against_database`]).

use crate::data::{self, Rec};
use tablesync::codec::key::encode_key_values;
use tablesync::codec::row_state::{decode_row_state, encode_row_state};
use tablesync::model::row_state::{ColumnState, RowState, Version};
use tablesync::model::stamp::Stamp;
use tablesync::sync::SyncStore;
use tablesync::{Database, DatabaseOptions, PkValue};

/// Version timestamp (ms) of the generated rows: a 2026 date, so its
/// varint has the size a real put's has.
const TS_MS: i64 = 1_796_300_000_000;
/// Origin of the generated stamps.
const ORIGIN: u64 = 0x5EED_0000_0000_0011;

/// The encoded primary key of row `uid`.
pub fn key(uid: i64) -> Vec<u8> {
    encode_key_values([&PkValue::Integer(uid)])
}

/// The encoded state of `rec` as one put stamped `stamp` at `ts`.
fn state_with(rec: &Rec, stamp: Stamp, ts: i64) -> Vec<u8> {
    let mut columns: Vec<ColumnState> = rec
        .columns()
        .into_iter()
        .map(|c| ColumnState {
            name: c.name,
            cleared: Stamp::ZERO,
            versions: vec![Version {
                ts,
                stamp,
                value: Some(c.value),
            }],
        })
        .collect();
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    // A put replaces the whole row: its stamp is also the row's tombstone.
    encode_row_state(&RowState {
        deleted: stamp,
        live: stamp,
        columns,
    })
}

/// The encoded state of row `uid` as the bench stores it.
pub fn state(uid: i64) -> Vec<u8> {
    let stamp = Stamp {
        hlc: ((TS_MS as u64) << 16) + uid as u64,
        origin: ORIGIN,
    };
    state_with(&data::rec(uid), stamp, TS_MS)
}

/// Decode a stored state (what a get or scan over an engine's bytes must
/// do before it can return a row); its column count.
pub fn decode(bytes: &[u8]) -> Result<usize, String> {
    decode_row_state(bytes)
        .map(|s| s.columns.len())
        .map_err(|e| e.to_string())
}

/// Put `rows` rows through an in-memory region, read their (key, state)
/// bytes back, and check that [`key`] and the encoding of [`state`] (with
/// the stamp and timestamp the region gave each row) are the same bytes.
pub fn check_against_database(rows: u64) -> Result<(), String> {
    let err = |e: tablesync::Error| e.to_string();
    let mut db = Database::memory(DatabaseOptions::new("row-bytes")).map_err(err)?;
    db.create_table(data::schema()).map_err(err)?;
    for (start, end) in crate::engine::batches(rows) {
        for r in db
            .batch_write((start..=end).map(|u| data::rec(u).put()).collect())
            .map_err(err)?
        {
            r.map_err(err)?;
        }
    }
    let (stored, _) = db.rows_page(data::TABLE, None, usize::MAX).map_err(err)?;
    if stored.len() as u64 != rows {
        return Err(format!("{} rows stored of {rows}", stored.len()));
    }
    for (uid, (k, v)) in (1..).zip(&stored) {
        if *k != key(uid) {
            return Err(format!("row {uid}: encoded key differs from the region's"));
        }
        let real = decode_row_state(v).map_err(err)?;
        let ts = real.columns.first().and_then(|c| c.versions.first());
        let ts = ts.map(|v| v.ts).ok_or("a stored row without a version")?;
        if state_with(&data::rec(uid), real.live, ts) != *v {
            return Err(format!(
                "row {uid}: encoded state differs from the region's"
            ));
        }
        if state(uid).len() != v.len() {
            return Err(format!(
                "row {uid}: bench state is {} bytes, the region's {}",
                state(uid).len(),
                v.len()
            ));
        }
    }
    Ok(())
}
