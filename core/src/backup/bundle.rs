//! A whole repository in one byte string (FORMAT.md §19.9): what the JS
//! `db.backup()` returns and `Database.restore(bytes)` reads, for hosts
//! with no directory (browsers keep it in IndexedDB).
//!
//! Layout: magic `TSBN`, version byte 1, object count (u32 LE), then per
//! object in strictly ascending name order: name length (u16 LE), name
//! (ASCII), payload length (u32 LE), payload (the object's stored bytes,
//! unchanged); then the SHA-256 of every byte before it.

use super::store::{MemoryStore, ObjectStore};
use crate::model::error::{Error, Result};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// First bytes of a bundle.
pub const MAGIC_BUNDLE: [u8; 4] = *b"TSBN";
/// The bundle format version this build writes and reads.
pub const BUNDLE_VERSION: u8 = 1;
/// Longest object name accepted.
const MAX_NAME: usize = 1024;

fn corrupt(msg: impl Into<String>) -> Error {
    Error::BackupCorrupt(format!("bundle: {}", msg.into()))
}

/// Every object of `store` as one bundle.
pub fn encode_bundle(store: &dyn ObjectStore) -> Result<Vec<u8>> {
    let mut objects = BTreeMap::new();
    for name in store.list("")? {
        if let Some(bytes) = store.get(&name)? {
            objects.insert(name, bytes);
        }
    }
    encode_objects(&objects)
}

/// These objects as one bundle.
pub fn encode_objects(objects: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>> {
    let size: usize = objects.iter().map(|(k, v)| 6 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(9 + size + 32);
    out.extend_from_slice(&MAGIC_BUNDLE);
    out.push(BUNDLE_VERSION);
    let count = u32::try_from(objects.len()).map_err(|_| Error::invalid("too many objects"))?;
    out.extend_from_slice(&count.to_le_bytes());
    for (name, bytes) in objects {
        if name.is_empty() || name.len() > MAX_NAME || !name.is_ascii() {
            return Err(Error::invalid(format!(
                "object name {name:?} is not 1–1024 ASCII bytes"
            )));
        }
        let len = u32::try_from(bytes.len())
            .map_err(|_| Error::invalid(format!("object {name} is 4 GiB or more")))?;
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    Ok(out)
}

fn take<'a>(b: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8]> {
    if b.len() < n {
        return Err(corrupt(format!("truncated in {what}")));
    }
    let (h, t) = b.split_at(n);
    *b = t;
    Ok(h)
}

/// The objects of a bundle, by name. Any damage (checksum, truncation,
/// order, trailing bytes, another version) is `BackupCorrupt`.
pub fn decode_bundle(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    if bytes.len() < 4 + 1 + 4 + 32 || bytes[..4] != MAGIC_BUNDLE {
        return Err(corrupt("not a tablesync backup bundle (no TSBN magic)"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(corrupt("checksum mismatch"));
    }
    if body[4] != BUNDLE_VERSION {
        return Err(Error::UnsupportedVersion(format!(
            "backup bundle version {} (this build reads {BUNDLE_VERSION})",
            body[4]
        )));
    }
    let mut b = &body[5..];
    let count = u32::from_le_bytes(take(&mut b, 4, "count")?.try_into().expect("4"));
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for _ in 0..count {
        let n = u16::from_le_bytes(take(&mut b, 2, "name length")?.try_into().expect("2")) as usize;
        if n == 0 || n > MAX_NAME {
            return Err(corrupt(format!("object name length {n}")));
        }
        let name = std::str::from_utf8(take(&mut b, n, "name")?)
            .ok()
            .filter(|s| s.is_ascii())
            .ok_or_else(|| corrupt("object name is not ASCII"))?
            .to_string();
        if last.as_ref().is_some_and(|l| *l >= name) {
            return Err(corrupt("object names out of order"));
        }
        let len = u32::from_le_bytes(take(&mut b, 4, "length")?.try_into().expect("4")) as usize;
        let data = take(&mut b, len, "payload")?.to_vec();
        last = Some(name.clone());
        out.insert(name, data);
    }
    if !b.is_empty() {
        return Err(corrupt("bytes after the last object"));
    }
    Ok(out)
}

/// A memory store holding a bundle's objects.
pub fn bundle_store(bytes: &[u8]) -> Result<MemoryStore> {
    let store = MemoryStore::new();
    for (name, data) in decode_bundle(bytes)? {
        store.put(&name, &data)?;
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        m.insert("config".to_string(), b"cfg".to_vec());
        m.insert("index".to_string(), vec![]);
        m
    }

    #[test]
    fn round_trip_and_pinned_bytes() {
        let b = encode_objects(&sample()).unwrap();
        // Pinned layout (FORMAT.md §19.9); the checksum is the last 32 bytes.
        let body = hex(&b[..b.len() - 32]);
        assert_eq!(
            body,
            "5453424e0102000000\
             0600636f6e66696703000000636667\
             0500696e64657800000000"
        );
        assert_eq!(decode_bundle(&b).unwrap(), sample());
    }

    #[test]
    fn every_damage_is_refused() {
        let b = encode_objects(&sample()).unwrap();
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut d = b.clone();
                d[i] ^= 1 << bit;
                assert!(decode_bundle(&d).is_err(), "flip at {i}:{bit}");
            }
        }
        for n in 0..b.len() {
            assert!(decode_bundle(&b[..n]).is_err(), "truncated to {n}");
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
