//! The bytes of a version vector (FORMAT.md §11), shared by snapshots,
//! sync frames and backup manifests.

use super::version_vector::VersionVector;
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::model::error::Result;
use std::collections::BTreeMap;

/// Append a version vector: contiguous prefixes, then held ranges.
pub(crate) fn put_vv(out: &mut Vec<u8>, vv: &VersionVector) {
    put_varint(out, vv.contiguous().len() as u64);
    for (o, n) in vv.contiguous() {
        put_bytes(out, o.as_bytes());
        put_varint(out, *n);
    }
    put_varint(out, vv.out_of_order().len() as u64);
    for (o, ranges) in vv.out_of_order() {
        put_bytes(out, o.as_bytes());
        put_varint(out, ranges.len() as u64);
        for (first, last) in ranges {
            put_varint(out, *first);
            put_varint(out, *last);
        }
    }
}

/// Read a version vector written by [`put_vv`].
pub(crate) fn read_vv(r: &mut Reader<'_>) -> Result<VersionVector> {
    let mut map = BTreeMap::new();
    for _ in 0..r.count()? {
        let o = r.string()?.to_string();
        map.insert(o, r.varint()?);
    }
    let mut vv = VersionVector::from_map(map);
    for _ in 0..r.count()? {
        let o = r.string()?.to_string();
        for _ in 0..r.count()? {
            let first = r.varint()?;
            let last = r.varint()?;
            if first == 0 || first > last {
                return Err(r.error("empty or zero sequence range"));
            }
            vv.insert_range(&o, first, last);
        }
    }
    Ok(vv)
}

/// A version vector in the version-1 layout: per origin, a count of single
/// sequence numbers held out of order.
pub(crate) fn read_vv_v1(r: &mut Reader<'_>) -> Result<VersionVector> {
    let mut map = BTreeMap::new();
    for _ in 0..r.count()? {
        let o = r.string()?.to_string();
        map.insert(o, r.varint()?);
    }
    let mut vv = VersionVector::from_map(map);
    for _ in 0..r.count()? {
        let o = r.string()?.to_string();
        for _ in 0..r.count()? {
            let seq = r.varint()?;
            if seq == 0 {
                return Err(r.error("sequence number 0"));
            }
            vv.insert_range(&o, seq, seq);
        }
    }
    Ok(vv)
}
