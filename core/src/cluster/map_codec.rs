//! The cluster map's bytes (FORMAT.md §16): a `TSCM` frame whose payload is
//! the epoch, the datacenters and the table placements.

use super::map::{
    ClusterMap, Datacenter, Placement, RangePartition, RegionEndpoint, TablePlacement,
};
use super::mode::{Consistency, WriteMode};
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame, encode_frame};
use crate::model::error::{Error, Result};

/// Magic of a cluster-map frame.
pub const MAGIC_CLUSTER_MAP: [u8; 4] = *b"TSCM";
/// Largest map payload a reader accepts.
pub const MAX_MAP_PAYLOAD: usize = 16 << 20;

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// Append a write mode: `u8` kind (1 async, 2 semi-sync ‖ `varint`
/// timeout ms, 3 sync ‖ `u8` level (1 ONE, 2 QUORUM, 3 LOCAL_QUORUM,
/// 4 EACH_QUORUM, 5 ALL, 6 DCS ‖ `u8` n)).
pub fn put_write_mode(out: &mut Vec<u8>, m: WriteMode) {
    match m {
        WriteMode::Async => out.push(1),
        WriteMode::SemiSync { timeout_ms } => {
            out.push(2);
            put_varint(out, timeout_ms);
        }
        WriteMode::Sync(c) => {
            out.push(3);
            match c {
                Consistency::One => out.push(1),
                Consistency::Quorum => out.push(2),
                Consistency::LocalQuorum => out.push(3),
                Consistency::EachQuorum => out.push(4),
                Consistency::All => out.push(5),
                Consistency::Datacenters(n) => {
                    out.push(6);
                    out.push(n);
                }
            }
        }
    }
}

/// Read a write mode written by [`put_write_mode`].
pub fn read_write_mode(r: &mut Reader<'_>) -> Result<WriteMode> {
    Ok(match r.u8()? {
        1 => WriteMode::Async,
        2 => WriteMode::SemiSync {
            timeout_ms: r.varint()?,
        },
        3 => WriteMode::Sync(match r.u8()? {
            1 => Consistency::One,
            2 => Consistency::Quorum,
            3 => Consistency::LocalQuorum,
            4 => Consistency::EachQuorum,
            5 => Consistency::All,
            6 => match r.u8()? {
                0 => return Err(r.error("DCS(0) is not a consistency level")),
                n => Consistency::Datacenters(n),
            },
            x => return Err(r.error(format!("unknown consistency level {x}"))),
        }),
        x => return Err(r.error(format!("unknown write mode {x}"))),
    })
}

/// The map's payload (no frame).
pub fn map_payload(m: &ClusterMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&m.epoch.to_le_bytes());
    put_varint(&mut out, m.datacenters.len() as u64);
    for dc in &m.datacenters {
        put_str(&mut out, &dc.name);
        put_varint(&mut out, dc.regions.len() as u64);
        for r in &dc.regions {
            put_str(&mut out, &r.name);
            put_str(&mut out, &r.endpoint);
        }
    }
    put_varint(&mut out, m.tables.len() as u64);
    for t in &m.tables {
        put_str(&mut out, &t.table);
        out.push(t.replication_factor);
        put_write_mode(&mut out, t.write_mode);
        match &t.placement {
            Placement::Hash { buckets } => {
                out.push(1);
                put_varint(&mut out, *buckets as u64);
            }
            Placement::Range { partitions } => {
                out.push(2);
                put_varint(&mut out, partitions.len() as u64);
                for p in partitions {
                    put_varint(&mut out, p.id as u64);
                    put_bytes(&mut out, &p.start);
                    put_varint(&mut out, p.datacenters.len() as u64);
                    for d in &p.datacenters {
                        put_str(&mut out, d);
                    }
                }
            }
        }
    }
    out
}

fn u32_field(r: &mut Reader<'_>, what: &str) -> Result<u32> {
    let v = r.varint()?;
    u32::try_from(v).map_err(|_| r.error(format!("{what} {v} exceeds u32")))
}

/// Parse a payload written by [`map_payload`] and validate the map
/// (an invalid map is `CorruptData`).
pub fn read_map_payload(bytes: &[u8]) -> Result<ClusterMap> {
    let mut r = Reader::new(bytes, "cluster map");
    let epoch = r.u64_le()?;
    // Lists through `read_vec` (issue 12: reservations bounded by the bytes
    // left, not by a count times the item size).
    let datacenters = r.read_vec(2, |r| {
        let name = r.string()?.to_string();
        let regions = r.read_vec(2, |r| {
            Ok(RegionEndpoint {
                name: r.string()?.to_string(),
                endpoint: r.string()?.to_string(),
            })
        })?;
        Ok(Datacenter { name, regions })
    })?;
    let tables = r.read_vec(4, |r| {
        let table = r.string()?.to_string();
        let replication_factor = r.u8()?;
        let write_mode = read_write_mode(r)?;
        let placement = match r.u8()? {
            1 => Placement::Hash {
                buckets: u32_field(r, "bucket count")?,
            },
            2 => Placement::Range {
                partitions: r.read_vec(3, |r| {
                    let id = u32_field(r, "partition id")?;
                    let start = r.bytes()?.to_vec();
                    let datacenters = r.read_vec(1, |r| Ok(r.string()?.to_string()))?;
                    Ok(RangePartition {
                        id,
                        start,
                        datacenters,
                    })
                })?,
            },
            x => return Err(r.error(format!("unknown placement kind {x}"))),
        };
        Ok(TablePlacement {
            table,
            replication_factor,
            write_mode,
            placement,
        })
    })?;
    r.finish()?;
    let m = ClusterMap {
        epoch,
        datacenters,
        tables,
    };
    m.validate()
        .map_err(|e| Error::corrupt(format!("cluster map: {}", e.message())))?;
    Ok(m)
}

impl ClusterMap {
    /// The map as a `TSCM` frame (uncompressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_frame(MAGIC_CLUSTER_MAP, &map_payload(self), false)
    }

    /// Parse and validate a `TSCM` frame.
    pub fn from_bytes(bytes: &[u8]) -> Result<ClusterMap> {
        read_map_payload(&decode_frame(MAGIC_CLUSTER_MAP, bytes, MAX_MAP_PAYLOAD)?)
    }
}
