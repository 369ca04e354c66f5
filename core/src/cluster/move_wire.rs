//! The bytes of rebalance messages (FORMAT.md §17.3): the body of a
//! `ClusterMsg::Move` (tag 19) inside a `TSCX` frame.

use super::map::ClusterMap;
use super::rebalance::{KeyFilter, MoveMsg};
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::schema::{put_schema, read_schema};
use crate::model::error::Result;

fn put_u32s(out: &mut Vec<u8>, v: &[u32]) {
    put_varint(out, v.len() as u64);
    for x in v {
        put_varint(out, *x as u64);
    }
}

fn read_u32(r: &mut Reader<'_>) -> Result<u32> {
    let v = r.varint()?;
    u32::try_from(v).map_err(|_| r.error(format!("{v} does not fit 32 bits")))
}

fn read_u32s(r: &mut Reader<'_>) -> Result<Vec<u32>> {
    r.read_vec(1, read_u32)
}

/// Append a key filter: `0` ‖ bytes start ‖ bytes end, or `1` ‖ varint
/// buckets ‖ varint count ‖ varint ids (increasing).
pub fn put_filter(out: &mut Vec<u8>, f: &KeyFilter) {
    match f {
        KeyFilter::Range { start, end } => {
            out.push(0);
            put_bytes(out, start);
            put_bytes(out, end);
        }
        KeyFilter::Buckets { buckets, ids } => {
            out.push(1);
            put_varint(out, *buckets as u64);
            put_u32s(out, ids);
        }
    }
}

/// Read a key filter written by [`put_filter`].
pub fn read_filter(r: &mut Reader<'_>) -> Result<KeyFilter> {
    match r.u8()? {
        0 => Ok(KeyFilter::Range {
            start: r.bytes()?.to_vec(),
            end: r.bytes()?.to_vec(),
        }),
        1 => {
            let buckets = read_u32(r)?;
            let ids = read_u32s(r)?;
            if buckets == 0
                || ids.windows(2).any(|w| w[0] >= w[1])
                || ids.last().is_some_and(|l| *l >= buckets)
            {
                return Err(r.error("bucket ids must increase and stay below the bucket count"));
            }
            Ok(KeyFilter::Buckets { buckets, ids })
        }
        t => Err(r.error(format!("unknown key filter tag {t}"))),
    }
}

/// Append a rebalance message: `u8` kind ‖ fields.
pub fn put_move(out: &mut Vec<u8>, m: &MoveMsg) {
    match m {
        MoveMsg::Install { map } => {
            out.push(1);
            put_bytes(out, &map.to_bytes());
        }
        MoveMsg::Installed { epoch } => {
            out.push(2);
            put_varint(out, *epoch);
        }
        MoveMsg::Copy {
            id,
            fence,
            epoch,
            table,
            filter,
            source,
        } => {
            out.push(3);
            put_varint(out, *id as u64);
            put_varint(out, *fence);
            put_bytes(out, table.as_bytes());
            put_filter(out, filter);
            put_bytes(out, source.as_bytes());
            put_varint(out, *epoch);
        }
        MoveMsg::Copied { id, fence, rows } => {
            out.push(4);
            put_varint(out, *id as u64);
            put_varint(out, *fence);
            put_varint(out, *rows);
        }
        MoveMsg::Release {
            id,
            epoch,
            table,
            partitions,
        } => {
            out.push(5);
            put_varint(out, *id as u64);
            put_varint(out, *epoch);
            put_bytes(out, table.as_bytes());
            put_u32s(out, partitions);
        }
        MoveMsg::Released { id } => {
            out.push(6);
            put_varint(out, *id as u64);
        }
        MoveMsg::Rows {
            fence,
            table,
            filter,
            after,
            max_bytes,
        } => {
            out.push(7);
            put_varint(out, *fence);
            put_bytes(out, table.as_bytes());
            put_filter(out, filter);
            put_bytes(out, after);
            put_varint(out, *max_bytes);
        }
        MoveMsg::RowsPage { rows, next } => {
            out.push(8);
            put_varint(out, rows.len() as u64);
            for (k, s) in rows {
                put_bytes(out, k);
                put_bytes(out, s);
            }
            put_bytes(out, next);
        }
        MoveMsg::Purge {
            id,
            epoch,
            table,
            filter,
        } => {
            out.push(9);
            put_varint(out, *id as u64);
            put_varint(out, *epoch);
            put_bytes(out, table.as_bytes());
            put_filter(out, filter);
        }
        MoveMsg::Purged { id, rows } => {
            out.push(10);
            put_varint(out, *id as u64);
            put_varint(out, *rows);
        }
        MoveMsg::SchemaGet { table } => {
            out.push(11);
            put_bytes(out, table.as_bytes());
        }
        MoveMsg::Schema { schema } => {
            out.push(12);
            put_schema(out, schema);
        }
    }
}

/// Read a rebalance message written by [`put_move`].
pub fn read_move(r: &mut Reader<'_>) -> Result<MoveMsg> {
    Ok(match r.u8()? {
        1 => MoveMsg::Install {
            map: ClusterMap::from_bytes(r.bytes()?)?,
        },
        2 => MoveMsg::Installed { epoch: r.varint()? },
        3 => {
            let id = read_u32(r)?;
            let fence = r.varint()?;
            let table = r.string()?.to_string();
            let filter = read_filter(r)?;
            let source = r.string()?.to_string();
            MoveMsg::Copy {
                id,
                fence,
                epoch: r.varint()?,
                table,
                filter,
                source,
            }
        }
        4 => MoveMsg::Copied {
            id: read_u32(r)?,
            fence: r.varint()?,
            rows: r.varint()?,
        },
        5 => MoveMsg::Release {
            id: read_u32(r)?,
            epoch: r.varint()?,
            table: r.string()?.to_string(),
            partitions: read_u32s(r)?,
        },
        6 => MoveMsg::Released { id: read_u32(r)? },
        7 => MoveMsg::Rows {
            fence: r.varint()?,
            table: r.string()?.to_string(),
            filter: read_filter(r)?,
            after: r.bytes()?.to_vec(),
            max_bytes: r.varint()?,
        },
        8 => {
            let rows = r.read_vec(2, |r| Ok((r.bytes()?.to_vec(), r.bytes()?.to_vec())))?;
            MoveMsg::RowsPage {
                rows,
                next: r.bytes()?.to_vec(),
            }
        }
        9 => MoveMsg::Purge {
            id: read_u32(r)?,
            epoch: r.varint()?,
            table: r.string()?.to_string(),
            filter: read_filter(r)?,
        },
        10 => MoveMsg::Purged {
            id: read_u32(r)?,
            rows: r.varint()?,
        },
        11 => MoveMsg::SchemaGet {
            table: r.string()?.to_string(),
        },
        12 => MoveMsg::Schema {
            schema: read_schema(r)?,
        },
        t => return Err(r.error(format!("unknown rebalance message kind {t}"))),
    })
}
