//! Frames: every byte string that leaves a process is wrapped in one.
//!
//! `magic[4] ‖ version u8 ‖ flags u8 ‖ length u32 LE ‖ crc32 u32 LE ‖ payload`
//! where the CRC-32 (IEEE) covers the 10 header bytes before it and the
//! payload, and flag bit 0 means the payload is lz4 block-compressed with
//! its uncompressed size prepended (lz4_flex `compress_prepend_size`).

use crate::model::error::{Error, Result};

/// Bytes before the payload.
pub const FRAME_HEADER_LEN: usize = 14;
/// Current frame version.
pub const FRAME_VERSION: u8 = 1;
/// Flag: payload is lz4-compressed.
pub const FLAG_LZ4: u8 = 1;

/// Magic of a database snapshot (checkpoint or exported snapshot).
pub const MAGIC_SNAPSHOT: [u8; 4] = *b"TSSN";
/// Format version of snapshot frames (FORMAT.md §11): 2 lists held
/// sequence numbers as ranges; version 1 is still read.
pub const SNAPSHOT_VERSION: u8 = 2;
/// Magic of a write-ahead-log segment header.
pub const MAGIC_WAL: [u8; 4] = *b"TSWL";

fn crc(header: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header);
    h.update(payload);
    h.finalize()
}

/// Largest stored (possibly compressed) payload a frame can describe: its
/// length field is 32 bits.
pub const MAX_FRAME_STORED: usize = u32::MAX as usize;

/// [`encode_frame`], refusing a payload whose stored form exceeds
/// `max_stored` bytes (at most [`MAX_FRAME_STORED`]) instead of writing a
/// frame no reader can read back.
pub fn try_encode_frame(
    magic: [u8; 4],
    payload: &[u8],
    compress: bool,
    max_stored: usize,
) -> Result<Vec<u8>> {
    try_encode_frame_version(magic, FRAME_VERSION, payload, compress, max_stored)
}

/// [`try_encode_frame`] for a frame kind with a format version of its own
/// (sync frames: [`crate::sync::message::SYNC_FRAME_VERSION`]).
pub fn try_encode_frame_version(
    magic: [u8; 4],
    version: u8,
    payload: &[u8],
    compress: bool,
    max_stored: usize,
) -> Result<Vec<u8>> {
    // In u64: on 32-bit targets usize cannot exceed the format's limit anyway.
    let limit = (max_stored as u64).min(u32::MAX as u64);
    let body: std::borrow::Cow<'_, [u8]> = if compress {
        lz4_flex::compress_prepend_size(payload).into()
    } else {
        payload.into()
    };
    if body.len() as u64 > limit || payload.len() as u64 > u32::MAX as u64 {
        return Err(Error::invalid(format!(
            "a frame of {} bytes ({} stored) exceeds the {limit}-byte limit of the format",
            payload.len(),
            body.len()
        )));
    }
    Ok(frame_of(magic, version, &body, compress))
}

fn frame_of(magic: [u8; 4], version: u8, body: &[u8], compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + body.len());
    out.extend_from_slice(&magic);
    out.push(version);
    out.push(if compress { FLAG_LZ4 } else { 0 });
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let c = crc(&out[..10], body);
    out.extend_from_slice(&c.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Wrap `payload` in a frame, lz4-compressing it when `compress` is set.
/// The caller guarantees the stored payload fits in 32 bits (sync frames
/// are capped far below); use [`try_encode_frame`] otherwise.
pub fn encode_frame(magic: [u8; 4], payload: &[u8], compress: bool) -> Vec<u8> {
    let body: std::borrow::Cow<'_, [u8]> = if compress {
        lz4_flex::compress_prepend_size(payload).into()
    } else {
        payload.into()
    };
    assert!(
        body.len() as u64 <= u32::MAX as u64,
        "frame payload over 4 GiB: use try_encode_frame"
    );
    frame_of(magic, FRAME_VERSION, &body, compress)
}

/// [`encode_frame`] for a frame kind with a format version of its own
/// (snapshots: [`SNAPSHOT_VERSION`]; sync: `sync::message::SYNC_FRAME_VERSION`).
pub fn encode_frame_version(
    magic: [u8; 4],
    version: u8,
    payload: &[u8],
    compress: bool,
) -> Vec<u8> {
    let mut f = encode_frame(magic, payload, compress);
    f[4] = version;
    let c = crc(&f[..10], &f[FRAME_HEADER_LEN..]);
    f[10..14].copy_from_slice(&c.to_le_bytes());
    f
}

/// Check and unwrap a frame that fills `bytes` exactly; returns the
/// (decompressed) payload. `max_payload` caps the uncompressed size.
pub fn decode_frame(magic: [u8; 4], bytes: &[u8], max_payload: usize) -> Result<Vec<u8>> {
    decode_frame_version(magic, FRAME_VERSION, bytes, max_payload)
}

/// [`decode_frame`] for a frame kind whose current format version is `version`.
pub fn decode_frame_version(
    magic: [u8; 4],
    version: u8,
    bytes: &[u8],
    max_payload: usize,
) -> Result<Vec<u8>> {
    if bytes.len() < FRAME_HEADER_LEN {
        return Err(Error::corrupt(format!(
            "frame of {} bytes is truncated",
            bytes.len()
        )));
    }
    if bytes[..4] != magic {
        return Err(Error::corrupt(format!(
            "bad magic {:?}, expected {:?}",
            String::from_utf8_lossy(&bytes[..4]),
            String::from_utf8_lossy(&magic)
        )));
    }
    let len = u32::from_le_bytes(bytes[6..10].try_into().expect("4")) as usize;
    if bytes.len() != FRAME_HEADER_LEN + len {
        return Err(Error::corrupt(format!(
            "frame says {len} payload bytes, has {}",
            bytes.len().saturating_sub(FRAME_HEADER_LEN)
        )));
    }
    let stored = u32::from_le_bytes(bytes[10..14].try_into().expect("4"));
    let body = &bytes[FRAME_HEADER_LEN..];
    if crc(&bytes[..10], body) != stored {
        return Err(Error::corrupt("frame checksum mismatch"));
    }
    if bytes[4] != version {
        return Err(Error::UnsupportedVersion(format!(
            "frame version {} (this build reads {version})",
            bytes[4]
        )));
    }
    let flags = bytes[5];
    if flags & !FLAG_LZ4 != 0 {
        return Err(Error::UnsupportedVersion(format!(
            "unknown frame flags {flags:#04x}"
        )));
    }
    if flags & FLAG_LZ4 != 0 {
        if body.len() < 4 {
            return Err(Error::corrupt("compressed payload is truncated"));
        }
        let size = u32::from_le_bytes(body[..4].try_into().expect("4")) as usize;
        if size > max_payload {
            return Err(Error::corrupt(format!(
                "payload of {size} bytes exceeds the cap of {max_payload}"
            )));
        }
        // lz4 expands each input byte to at most 255 output bytes; a larger
        // claimed size is damage, and must not make the reader allocate it.
        if size > (body.len() - 4).saturating_mul(255) {
            return Err(Error::corrupt(format!(
                "compressed payload of {} bytes cannot hold {size} bytes",
                body.len() - 4
            )));
        }
        lz4_flex::decompress_size_prepended(body)
            .map_err(|e| Error::corrupt(format!("lz4 payload: {e}")))
    } else {
        if body.len() > max_payload {
            return Err(Error::corrupt(format!(
                "payload of {} bytes exceeds the cap of {max_payload}",
                body.len()
            )));
        }
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding: checkpoints over 4 GiB were written with a 32-bit length and
    /// could not be read back. A frame that does not fit is now refused.
    #[test]
    fn a_frame_that_cannot_be_read_back_is_refused() {
        let payload = vec![7u8; 5000];
        assert!(try_encode_frame(MAGIC_SNAPSHOT, &payload, false, 4999).is_err());
        let f = try_encode_frame(MAGIC_SNAPSHOT, &payload, false, 5000).unwrap();
        assert_eq!(decode_frame(MAGIC_SNAPSHOT, &f, 5000).unwrap(), payload);
        assert_eq!(f, encode_frame(MAGIC_SNAPSHOT, &payload, false));
    }
}
