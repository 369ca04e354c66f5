//! The digest of one row.

use crate::codec::buf::put_bytes;
use sha2::{Digest as _, Sha256};

/// SHA-256 over `"tablesync.row.v1" ‖ key (varint length ‖ bytes) ‖ for each
/// column with live versions (name order): name (varint length ‖ bytes) ‖
/// version count varint ‖ per version (newest first, at most `max_versions`):
/// ts i64 LE ‖ value`; `None` when the row does not exist. Computed straight
/// from an encoded row state (FORMAT.md §5) without decoding it: stored
/// states are normalized, so every version with a value is live. `scratch`
/// is reused between rows.
pub(crate) fn row_digest_encoded(
    key: &[u8],
    state: &[u8],
    max_versions: u32,
    scratch: &mut Vec<u8>,
) -> crate::model::error::Result<Option<[u8; 32]>> {
    use crate::codec::buf::{put_varint, Reader};
    use crate::log::hlc::Stamp;
    let mut r = Reader::new(state, "row state");
    let n = r.count()?;
    let stamps = r.take(
        n.checked_mul(16)
            .ok_or_else(|| r.error("stamp table too large"))?,
    )?;
    let stamp = |i: u64| -> Option<Stamp> {
        if i == 0 || i as usize > n {
            return None;
        }
        let b = &stamps[(i as usize - 1) * 16..i as usize * 16];
        Some(Stamp {
            hlc: u64::from_le_bytes(b[..8].try_into().expect("8")),
            origin: u64::from_le_bytes(b[8..].try_into().expect("8")),
        })
    };
    let deleted = stamp(r.varint()?);
    let live = stamp(r.varint()?);
    let exists = match (live, deleted) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(l), Some(d)) => l >= d,
    };
    if !exists {
        return Ok(None);
    }
    scratch.clear();
    scratch.extend_from_slice(b"tablesync.row.v1");
    put_bytes(scratch, key);
    let ncols = r.count()?;
    for _ in 0..ncols {
        let name = r.bytes()?;
        r.varint()?; // cleared
        let nv = r.count()?;
        // Two passes over the versions: count the live ones among the newest
        // `max_versions`, then hash them.
        let mut first = r.clone();
        let mut taken = 0u64;
        for _ in 0..nv.min(max_versions as usize) {
            if skip_version(&mut first)?.is_some() {
                taken += 1;
            }
        }
        if taken > 0 {
            put_bytes(scratch, name);
            put_varint(scratch, taken);
        }
        let mut written = 0u64;
        for i in 0..nv {
            let ts = r.zigzag()?;
            r.varint()?; // stamp ref
            let start = r.position();
            if skip_value(&mut r)? && (i as u64) < u64::from(max_versions) && written < taken {
                written += 1;
                scratch.extend_from_slice(&ts.to_le_bytes());
                scratch.extend_from_slice(&state[start..r.position()]);
            }
        }
    }
    r.finish()?;
    Ok(Some(Sha256::digest(&scratch[..]).into()))
}

/// Skip one encoded value (tag and payload); `false` for a tombstone.
fn skip_value(r: &mut crate::codec::buf::Reader<'_>) -> crate::model::error::Result<bool> {
    match r.u8()? {
        0 => return Ok(false),
        1 | 2 => {
            r.take(8)?;
        }
        3 => {
            r.take(1)?;
        }
        4 | 5 => {
            r.bytes()?;
        }
        t => return Err(r.error(format!("unknown value tag {t}"))),
    }
    Ok(true)
}

/// Skip one encoded version; its timestamp when it holds a value.
fn skip_version(r: &mut crate::codec::buf::Reader<'_>) -> crate::model::error::Result<Option<i64>> {
    let ts = r.zigzag()?;
    r.varint()?;
    Ok(skip_value(r)?.then_some(ts))
}
