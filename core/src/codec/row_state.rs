//! Row-state encoding: how rows are held in memory, in snapshots and when
//! whole rows move between regions.
//!
//! `n_stamps varint ‖ stamps (hlc u64 LE ‖ origin u64 LE)… ‖ deleted ref ‖
//! live ref ‖ n_columns varint ‖ per column: name ‖ cleared ref ‖ n_versions
//! varint ‖ per version: ts zigzag ‖ stamp ref ‖ 0 (tombstone) or value`.
//! A stamp ref is a varint: 0 for none, else 1 + index into the stamp table;
//! the table lists stamps in order of first use, so equal states encode equally.

use super::buf::{put_bytes, put_varint, put_zigzag, Reader};
use super::value::{put_value, read_value_body};
use crate::model::error::Result;
use crate::model::row_state::{ColumnState, RowState, Version};
use crate::model::stamp::Stamp;

struct StampTable(Vec<Stamp>);

impl StampTable {
    fn index(&mut self, s: Stamp) -> u64 {
        if s.is_zero() {
            return 0;
        }
        match self.0.iter().position(|x| *x == s) {
            Some(i) => i as u64 + 1,
            None => {
                self.0.push(s);
                self.0.len() as u64
            }
        }
    }
}

/// Encode a state (one allocation, sized up front).
pub fn encode_row_state(s: &RowState) -> Vec<u8> {
    let mut table = StampTable(Vec::with_capacity(4));
    table.index(s.deleted);
    table.index(s.live);
    let mut size = 8;
    for c in &s.columns {
        table.index(c.cleared);
        size += c.name.len() + 4;
        for v in &c.versions {
            table.index(v.stamp);
            size += 14 + v.value.as_ref().map_or(0, |x| x.size() + 4);
        }
    }
    let mut out = Vec::with_capacity(size + 1 + 16 * table.0.len());
    put_varint(&mut out, table.0.len() as u64);
    for st in &table.0 {
        out.extend_from_slice(&st.hlc.to_le_bytes());
        out.extend_from_slice(&st.origin.to_le_bytes());
    }
    put_varint(&mut out, table.index(s.deleted));
    put_varint(&mut out, table.index(s.live));
    put_varint(&mut out, s.columns.len() as u64);
    for c in &s.columns {
        put_bytes(&mut out, c.name.as_bytes());
        put_varint(&mut out, table.index(c.cleared));
        put_varint(&mut out, c.versions.len() as u64);
        for v in &c.versions {
            put_zigzag(&mut out, v.ts);
            put_varint(&mut out, table.index(v.stamp));
            match &v.value {
                None => out.push(0),
                Some(val) => put_value(&mut out, val),
            }
        }
    }
    out
}

fn stamp_ref(r: &mut Reader<'_>, table: &[Stamp]) -> Result<Stamp> {
    let i = r.varint()?;
    if i == 0 {
        return Ok(Stamp::ZERO);
    }
    table
        .get(i as usize - 1)
        .copied()
        .ok_or_else(|| r.error(format!("stamp ref {i} out of range")))
}

/// Decode a state that fills `bytes` exactly.
pub fn decode_row_state(bytes: &[u8]) -> Result<RowState> {
    let mut r = Reader::new(bytes, "row state");
    let table = r.read_vec(16, |r| {
        let hlc = r.u64_le()?;
        let origin = r.u64_le()?;
        Ok(Stamp { hlc, origin })
    })?;
    let deleted = stamp_ref(&mut r, &table)?;
    let live = stamp_ref(&mut r, &table)?;
    // Column: name (≥ 1) ‖ cleared ref ‖ version count. Version: ts ‖ stamp ref ‖ tag.
    let mut last_name: Option<String> = None;
    let columns = r.read_vec(3, |r| {
        let name = r.string()?.to_string();
        if last_name.as_ref().is_some_and(|l| *l >= name) {
            return Err(r.error("columns out of order"));
        }
        last_name = Some(name.clone());
        let cleared = stamp_ref(r, &table)?;
        let mut last_ts: Option<i64> = None;
        let versions = r.read_vec(3, |r| {
            let ts = r.zigzag()?;
            if last_ts.is_some_and(|l| l <= ts) {
                return Err(r.error("versions out of order"));
            }
            last_ts = Some(ts);
            let stamp = stamp_ref(r, &table)?;
            let value = match r.u8()? {
                0 => None,
                tag => Some(read_value_body(r, tag)?),
            };
            Ok(Version { ts, stamp, value })
        })?;
        Ok(ColumnState {
            name,
            cleared,
            versions,
        })
    })?;
    r.finish()?;
    Ok(RowState {
        deleted,
        live,
        columns,
    })
}
