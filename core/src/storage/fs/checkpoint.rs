//! Checkpoint files: a header, then the snapshot bytes exactly as
//! `Database::export_snapshot` produced them.
//!
//! `"TSCK" ‖ version u8 ‖ flags u8 ‖ reserved u16 ‖ next_seq u64 LE ‖
//! snapshot_len u64 LE ‖ crc32 u32 LE ‖ snapshot` where the CRC covers the
//! 24 header bytes before it and the snapshot.

use crate::model::error::{Error, Result};

/// Magic of a checkpoint file.
pub const MAGIC_CHECKPOINT: [u8; 4] = *b"TSCK";
/// Bytes before the snapshot.
pub const CHECKPOINT_HEADER_LEN: usize = 28;
/// Checkpoint format version this build writes and reads.
pub const CHECKPOINT_VERSION: u8 = 1;

fn checksum(header: &[u8], snapshot: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header);
    h.update(snapshot);
    h.finalize()
}

/// The header of a checkpoint covering the records before `next_seq`.
pub fn checkpoint_header(next_seq: u64, snapshot: &[u8]) -> [u8; CHECKPOINT_HEADER_LEN] {
    let mut h = [0u8; CHECKPOINT_HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC_CHECKPOINT);
    h[4] = CHECKPOINT_VERSION;
    h[8..16].copy_from_slice(&next_seq.to_le_bytes());
    h[16..24].copy_from_slice(&(snapshot.len() as u64).to_le_bytes());
    let c = checksum(&h[..24], snapshot);
    h[24..28].copy_from_slice(&c.to_le_bytes());
    h
}

/// Check checkpoint file `name` (whole file in `bytes`), which must cover
/// the records before `next_seq`, and return its snapshot bytes.
pub fn decode_checkpoint(mut bytes: Vec<u8>, name: &str, next_seq: u64) -> Result<Vec<u8>> {
    let bad = |why: &str| Error::corrupt(format!("checkpoint {name}: {why}"));
    if bytes.len() < CHECKPOINT_HEADER_LEN {
        return Err(bad(&format!("truncated to {} bytes", bytes.len())));
    }
    if bytes[..4] != MAGIC_CHECKPOINT {
        return Err(bad("bad magic at byte 0"));
    }
    let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8"));
    let have = (bytes.len() - CHECKPOINT_HEADER_LEN) as u64;
    if len != have {
        return Err(bad(&format!(
            "header says {len} snapshot bytes, the file holds {have}"
        )));
    }
    let stored = u32::from_le_bytes(bytes[24..28].try_into().expect("4"));
    if checksum(&bytes[..24], &bytes[CHECKPOINT_HEADER_LEN..]) != stored {
        return Err(bad("checksum mismatch"));
    }
    if bytes[4] != CHECKPOINT_VERSION || bytes[5] != 0 {
        return Err(Error::UnsupportedVersion(format!(
            "checkpoint {name} has version {} flags {:#04x} (this build reads version {CHECKPOINT_VERSION})",
            bytes[4], bytes[5]
        )));
    }
    let covers = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
    if covers != next_seq {
        return Err(bad(&format!(
            "header says it covers records before {covers}, its name says {next_seq}"
        )));
    }
    bytes.drain(..CHECKPOINT_HEADER_LEN);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(next: u64, snap: &[u8]) -> Vec<u8> {
        let mut b = checkpoint_header(next, snap).to_vec();
        b.extend_from_slice(snap);
        b
    }

    #[test]
    fn round_trip() {
        let b = file(12, b"snapshot bytes");
        assert_eq!(decode_checkpoint(b, "c", 12).unwrap(), b"snapshot bytes");
        assert_eq!(decode_checkpoint(file(1, b""), "c", 1).unwrap(), b"");
    }

    #[test]
    fn any_damage_is_corruption() {
        let b = file(12, b"snapshot bytes");
        for i in 0..b.len() {
            let mut d = b.clone();
            d[i] ^= 1;
            let e = decode_checkpoint(d, "checkpoint-x", 12).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "byte {i}");
            assert!(e.message().contains("checkpoint-x"));
        }
        for cut in 0..b.len() {
            let e = decode_checkpoint(b[..cut].to_vec(), "c", 12).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "cut {cut}");
        }
        assert_eq!(
            decode_checkpoint(b, "c", 13).unwrap_err().code(),
            "CorruptData"
        );
    }
}
