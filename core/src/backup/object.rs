//! The envelope of every repository object: magic, version, kind, flags,
//! length, CRC-32, then the (lz4-compressed, optionally sealed) payload
//! (FORMAT.md §19.2).

use super::crypto::Keys;
use crate::model::error::{Error, Result};

/// Magic of every backup object.
pub const MAGIC_BACKUP: [u8; 4] = *b"TSBK";
/// Envelope version.
pub const OBJECT_VERSION: u8 = 1;
/// Bytes before the body.
pub const OBJECT_HEADER_LEN: usize = 16;
/// Flag: the payload is lz4-compressed (size-prepended block).
pub const FLAG_LZ4: u8 = 1;
/// Flag: the (compressed) payload is sealed with XChaCha20-Poly1305.
pub const FLAG_SEALED: u8 = 2;
/// Largest payload a reader accepts (uncompressed).
pub const MAX_OBJECT_PAYLOAD: usize = 256 << 20;

/// What an object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// The repository configuration (`config`).
    Config = 1,
    /// A chunk of rows or records.
    Chunk = 2,
    /// A backup manifest.
    Manifest = 3,
    /// The list of backups (`index`).
    Index = 4,
}

fn crc(header: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header);
    h.update(body);
    h.finalize()
}

fn aad(header8: &[u8], name: &str) -> Vec<u8> {
    let mut a = header8.to_vec();
    a.extend_from_slice(name.as_bytes());
    a
}

/// Wrap a payload: lz4 when `compress`, sealed under `keys` when given
/// (the object's name is authenticated with it, so objects cannot be swapped).
pub fn encode_object(
    kind: ObjectKind,
    name: &str,
    payload: &[u8],
    compress: bool,
    keys: Option<&Keys>,
) -> Result<Vec<u8>> {
    let mut flags = 0;
    if compress {
        flags |= FLAG_LZ4;
    }
    if keys.is_some() {
        flags |= FLAG_SEALED;
    }
    let header8 = [
        MAGIC_BACKUP[0],
        MAGIC_BACKUP[1],
        MAGIC_BACKUP[2],
        MAGIC_BACKUP[3],
        OBJECT_VERSION,
        kind as u8,
        flags,
        0,
    ];
    let packed: Vec<u8> = if compress {
        lz4_flex::compress_prepend_size(payload)
    } else {
        payload.to_vec()
    };
    let body = match keys {
        Some(k) => k.seal(&aad(&header8, name), &packed)?,
        None => packed,
    };
    if body.len() > u32::MAX as usize {
        return Err(Error::invalid("backup object larger than 4 GiB"));
    }
    let mut out = Vec::with_capacity(OBJECT_HEADER_LEN + body.len());
    out.extend_from_slice(&header8);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let c = crc(&out[..12], &body);
    out.extend_from_slice(&c.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

fn corrupt(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::BackupCorrupt(format!("{name}: {msg}"))
}

/// Check and unwrap an object read under `name`. Every damage is
/// [`Error::BackupCorrupt`]; a sealed object without keys is
/// [`Error::BackupKeyInvalid`].
pub fn decode_object(
    kind: ObjectKind,
    name: &str,
    bytes: &[u8],
    keys: Option<&Keys>,
) -> Result<Vec<u8>> {
    if bytes.len() < OBJECT_HEADER_LEN {
        return Err(corrupt(
            name,
            format!("object of {} bytes is truncated", bytes.len()),
        ));
    }
    if bytes[..4] != MAGIC_BACKUP {
        return Err(corrupt(name, "bad magic"));
    }
    let len = u32::from_le_bytes(bytes[8..12].try_into().expect("4")) as usize;
    if bytes.len() != OBJECT_HEADER_LEN + len {
        return Err(corrupt(
            name,
            format!(
                "header says {len} body bytes, object has {}",
                bytes.len() - OBJECT_HEADER_LEN
            ),
        ));
    }
    let body = &bytes[OBJECT_HEADER_LEN..];
    let stored = u32::from_le_bytes(bytes[12..16].try_into().expect("4"));
    if crc(&bytes[..12], body) != stored {
        return Err(corrupt(name, "checksum mismatch"));
    }
    if bytes[4] != OBJECT_VERSION {
        return Err(Error::UnsupportedVersion(format!(
            "{name}: backup object version {} (this build reads {OBJECT_VERSION})",
            bytes[4]
        )));
    }
    if bytes[5] != kind as u8 {
        return Err(corrupt(
            name,
            format!("object kind {} where {} was expected", bytes[5], kind as u8),
        ));
    }
    let flags = bytes[6];
    if flags & !(FLAG_LZ4 | FLAG_SEALED) != 0 || bytes[7] != 0 {
        return Err(Error::UnsupportedVersion(format!(
            "{name}: unknown object flags {flags:#04x}"
        )));
    }
    let opened;
    let packed: &[u8] = if flags & FLAG_SEALED != 0 {
        let k = keys.ok_or_else(|| {
            Error::BackupKeyInvalid(format!(
                "{name} is encrypted: a passphrase or key file is needed"
            ))
        })?;
        opened = k.open(&aad(&bytes[..8], name), body)?;
        &opened
    } else {
        if keys.is_some() {
            return Err(corrupt(
                name,
                "object of an encrypted repository is not sealed",
            ));
        }
        body
    };
    if flags & FLAG_LZ4 != 0 {
        if packed.len() < 4 {
            return Err(corrupt(name, "compressed payload is truncated"));
        }
        let size = u32::from_le_bytes(packed[..4].try_into().expect("4")) as usize;
        if size > MAX_OBJECT_PAYLOAD || size > (packed.len() - 4).saturating_mul(255) {
            return Err(corrupt(
                name,
                format!("impossible uncompressed size {size}"),
            ));
        }
        lz4_flex::decompress_size_prepended(packed).map_err(|e| corrupt(name, format!("lz4: {e}")))
    } else {
        if packed.len() > MAX_OBJECT_PAYLOAD {
            return Err(corrupt(name, "payload exceeds the cap"));
        }
        Ok(packed.to_vec())
    }
}
