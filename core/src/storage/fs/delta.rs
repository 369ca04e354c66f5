//! Delta checkpoint files (directory format 3): what changed since the
//! checkpoint before, on top of a full checkpoint (`checkpoint.rs`). The
//! payload is opaque here (the database's delta frame, FORMAT.md §12.3).
//!
//! `"TSCD" ‖ version u8 ‖ flags u8 ‖ reserved u16 ‖ base u64 LE ‖ prev u64 LE
//! ‖ next_seq u64 LE ‖ payload_len u64 LE ‖ crc32 u32 LE ‖ payload`, where
//! `base` is the `next_seq` of the full checkpoint it builds on, `prev` that
//! of the checkpoint (full or delta) just before it, and the CRC covers the
//! 40 header bytes before it and the payload.

use crate::model::error::{Error, Result};

/// Magic of a delta checkpoint file.
pub const MAGIC_DELTA: [u8; 4] = *b"TSCD";
/// Bytes before the payload.
pub const DELTA_HEADER_LEN: usize = 44;
/// Delta file format version this build writes and reads.
pub const DELTA_VERSION: u8 = 1;

/// Where a delta sits in its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaLink {
    /// `next_seq` of the full checkpoint the chain starts from.
    pub base: u64,
    /// `next_seq` of the checkpoint just before this delta.
    pub prev: u64,
    /// Records before this sequence number are covered.
    pub next_seq: u64,
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header);
    h.update(payload);
    h.finalize()
}

/// The header of a delta at `link` holding `payload`.
pub fn delta_header(link: DeltaLink, payload: &[u8]) -> [u8; DELTA_HEADER_LEN] {
    let mut h = [0u8; DELTA_HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC_DELTA);
    h[4] = DELTA_VERSION;
    h[8..16].copy_from_slice(&link.base.to_le_bytes());
    h[16..24].copy_from_slice(&link.prev.to_le_bytes());
    h[24..32].copy_from_slice(&link.next_seq.to_le_bytes());
    h[32..40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    let c = checksum(&h[..40], payload);
    h[40..44].copy_from_slice(&c.to_le_bytes());
    h
}

/// Check delta file `name` (whole file in `bytes`), which must cover the
/// records before `next_seq`; return its link and payload.
pub fn decode_delta(mut bytes: Vec<u8>, name: &str, next_seq: u64) -> Result<(DeltaLink, Vec<u8>)> {
    let bad = |why: &str| Error::corrupt(format!("delta checkpoint {name}: {why}"));
    if bytes.len() < DELTA_HEADER_LEN {
        return Err(bad(&format!("truncated to {} bytes", bytes.len())));
    }
    if bytes[..4] != MAGIC_DELTA {
        return Err(bad("bad magic at byte 0"));
    }
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8"));
    let len = u64_at(&bytes, 32);
    let have = (bytes.len() - DELTA_HEADER_LEN) as u64;
    if len != have {
        return Err(bad(&format!(
            "header says {len} payload bytes, the file holds {have}"
        )));
    }
    let stored = u32::from_le_bytes(bytes[40..44].try_into().expect("4"));
    if checksum(&bytes[..40], &bytes[DELTA_HEADER_LEN..]) != stored {
        return Err(bad("checksum mismatch"));
    }
    if bytes[4] != DELTA_VERSION || bytes[5] != 0 {
        return Err(Error::UnsupportedVersion(format!(
            "delta checkpoint {name} has version {} flags {:#04x} (this build reads version {DELTA_VERSION})",
            bytes[4], bytes[5]
        )));
    }
    let link = DeltaLink {
        base: u64_at(&bytes, 8),
        prev: u64_at(&bytes, 16),
        next_seq: u64_at(&bytes, 24),
    };
    if link.next_seq != next_seq {
        return Err(bad(&format!(
            "header says it covers records before {}, its name says {next_seq}",
            link.next_seq
        )));
    }
    if !(link.base <= link.prev && link.prev < link.next_seq) {
        return Err(bad(&format!(
            "base {} ≤ previous {} < covered {} does not hold",
            link.base, link.prev, link.next_seq
        )));
    }
    bytes.drain(..DELTA_HEADER_LEN);
    Ok((link, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(link: DeltaLink, payload: &[u8]) -> Vec<u8> {
        let mut b = delta_header(link, payload).to_vec();
        b.extend_from_slice(payload);
        b
    }

    const LINK: DeltaLink = DeltaLink {
        base: 3,
        prev: 7,
        next_seq: 12,
    };

    #[test]
    fn round_trip() {
        let (l, p) = decode_delta(file(LINK, b"delta bytes"), "d", 12).unwrap();
        assert_eq!((l, p.as_slice()), (LINK, &b"delta bytes"[..]));
    }

    #[test]
    fn any_damage_is_corruption() {
        let b = file(LINK, b"delta bytes");
        for i in 0..b.len() {
            let mut d = b.clone();
            d[i] ^= 1;
            let e = decode_delta(d, "checkpoint-x", 12).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "byte {i}");
            assert!(e.message().contains("checkpoint-x"));
        }
        for cut in 0..b.len() {
            let e = decode_delta(b[..cut].to_vec(), "c", 12).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "cut {cut}");
        }
        assert_eq!(decode_delta(b, "c", 13).unwrap_err().code(), "CorruptData");
        let back = DeltaLink { prev: 12, ..LINK };
        assert_eq!(
            decode_delta(file(back, b""), "c", 12).unwrap_err().code(),
            "CorruptData"
        );
    }
}
