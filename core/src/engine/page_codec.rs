//! A leaf page's encoding in a durable region's page store (FORMAT.md §12
//! "Page"): what [`super::pages::PageMap::flush`] writes and a page fault
//! reads back. Bytes read back are checked (CRC, lengths, key order) before
//! anything of them is used: a damaged page is `CorruptData`.

use super::pages::{prefix, Leaf, Slot};
use crate::codec::buf::{put_varint, Reader};
use crate::model::error::{Error, Result};

/// Version byte of a page stored as it is.
pub const PAGE_VERSION: u8 = 1;

/// Version byte of a page stored LZ4-compressed (the version-1 body after
/// its version byte, as one LZ4 block). What [`encode_leaf`] writes unless
/// compressing saves nothing.
pub const PAGE_VERSION_LZ4: u8 = 2;

/// Flag of a row that exists (has a digest).
const EXISTS: u8 = 1;

/// The most an LZ4 block expands (a length byte of 255 per output run):
/// a compressed page claiming a larger body is refused before anything is
/// reserved for it.
const LZ4_MAX_RATIO: u64 = 255;

/// Encode `leaf`: LZ4-compressed (version 2) when that is smaller, else as
/// it is (version 1). A page's rows repeat their column names and stamps,
/// so pages of typical rows compress 2–3× (FORMAT.md §12 "Page store").
pub fn encode_leaf(leaf: &Leaf) -> Vec<u8> {
    let body = encode_body(leaf);
    let bound = lz4_flex::block::get_maximum_output_size(body.len());
    let mut out = Vec::with_capacity(1 + 10 + bound + 4);
    out.push(PAGE_VERSION_LZ4);
    put_varint(&mut out, body.len() as u64);
    let at = out.len();
    out.resize(at + bound, 0);
    match lz4_flex::block::compress_into(&body, &mut out[at..]) {
        Ok(n) if at + n <= body.len() => out.truncate(at + n),
        _ => {
            out.clear();
            out.push(PAGE_VERSION);
            out.extend_from_slice(&body);
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A version-1 page's bytes between its version byte and its CRC.
fn encode_body(leaf: &Leaf) -> Vec<u8> {
    let n = leaf.len();
    let digests = leaf.slots.iter().filter(|s| s.exists()).count();
    let mut out = Vec::with_capacity(16 + n * 14 + digests * 32 + leaf.data.len());
    put_varint(&mut out, leaf.shared as u64);
    put_varint(&mut out, n as u64);
    for i in 0..n {
        let slot = &leaf.slots[i];
        let state_len = slot.end as usize - leaf.start(i) - slot.key_len();
        put_varint(&mut out, slot.key_len() as u64);
        put_varint(&mut out, state_len as u64);
        out.push(if slot.exists() { EXISTS } else { 0 });
        out.extend_from_slice(&slot.id.to_le_bytes());
    }
    for (slot, digest) in leaf.slots.iter().zip(&leaf.digests) {
        if slot.exists() {
            out.extend_from_slice(digest);
        }
    }
    out.extend_from_slice(&leaf.data);
    out
}

/// Decode a page encoded by [`encode_leaf`], checking everything.
pub fn decode_leaf(bytes: &[u8]) -> Result<Leaf> {
    let mut leaf = Leaf::default();
    decode_leaf_into(bytes, &mut leaf)?;
    Ok(leaf)
}

/// [`decode_leaf`] into `leaf`, reusing its buffers (a page fault decodes
/// into an evicted page's buffers, so a steady stream of faults allocates
/// nothing). On an error `leaf` holds no row.
pub fn decode_leaf_into(bytes: &[u8], leaf: &mut Leaf) -> Result<()> {
    leaf.shared = 0;
    leaf.data.clear();
    leaf.slots.clear();
    leaf.digests.clear();
    let r = decode_parts(bytes, leaf);
    if r.is_err() {
        leaf.shared = 0;
        leaf.data.clear();
        leaf.slots.clear();
        leaf.digests.clear();
    }
    r
}

/// Check `bytes` (CRC, version) and decode them into `leaf` (whose buffers
/// are empty), decompressing a version-2 page into a per-thread buffer
/// first.
fn decode_parts(bytes: &[u8], leaf: &mut Leaf) -> Result<()> {
    let Some((body, crc)) = bytes.split_last_chunk::<4>() else {
        return Err(Error::corrupt("page: shorter than its checksum"));
    };
    if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
        return Err(Error::corrupt("page: checksum mismatch"));
    }
    let mut r = Reader::new(body, "page");
    match r.u8()? {
        PAGE_VERSION => decode_body(&body[1..], leaf),
        PAGE_VERSION_LZ4 => {
            let len = r.varint()?;
            let packed = r.take(r.remaining())?;
            let len = usize::try_from(len)
                .ok()
                .filter(|&n| n as u64 <= (packed.len() as u64).saturating_mul(LZ4_MAX_RATIO))
                .ok_or_else(|| {
                    r.error(format!(
                        "{len} bytes cannot come out of {} compressed bytes",
                        packed.len()
                    ))
                })?;
            UNPACKED.with(|buf| {
                let mut buf = buf.borrow_mut();
                buf.clear();
                buf.resize(len, 0);
                let got = lz4_flex::block::decompress_into(packed, &mut buf)
                    .map_err(|e| Error::corrupt(format!("page: {e}")))?;
                if got != buf.len() {
                    return Err(Error::corrupt(
                        "page: shorter than its length once decompressed",
                    ));
                }
                let r = decode_body(&buf, leaf);
                if buf.capacity() > UNPACKED_KEEP {
                    *buf = Vec::new();
                }
                r
            })
        }
        version => Err(r.error(format!("unknown page version {version}"))),
    }
}

/// Bytes of decompression buffer a thread keeps between faults.
const UNPACKED_KEEP: usize = 1 << 20;

std::thread_local! {
    /// Where a fault decompresses a page (reused: a steady stream of
    /// faults allocates nothing).
    static UNPACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Decode a version-1 body (after the version byte, before the CRC) into
/// `leaf`: the headers straight into the slots (their `end` first holds
/// the state length and their `prefix` the key length until the data is
/// read), then the digests, the data, and the checks that need the keys.
fn decode_body(body: &[u8], leaf: &mut Leaf) -> Result<()> {
    let mut r = Reader::new(body, "page");
    let shared = r.count()?;
    let n = r.varint()?;
    // Each row's header takes at least 11 bytes: a count the bytes left
    // cannot hold is refused before anything is reserved.
    if n > (r.remaining() / 11) as u64 {
        return Err(r.error(format!(
            "count {n} exceeds what the {} bytes left can hold",
            r.remaining()
        )));
    }
    let n = n as usize;
    // Exact: a reused buffer grows to what this page needs, not double.
    leaf.slots.reserve_exact(n);
    let mut digests = 0;
    for _ in 0..n {
        let key_len = r.count()?;
        let state_len = r.count()?;
        let flags = r.u8()?;
        if flags & !EXISTS != 0 {
            return Err(r.error(format!("unknown row flags {flags:#x}")));
        }
        let exists = flags == EXISTS;
        let id = r.u64_le()?;
        // Both counts are within the page's bytes; a key length must also
        // leave the slot's exists bit free.
        let state_len = u32::try_from(state_len)
            .ok()
            .filter(|_| key_len < 1 << 31)
            .ok_or_else(|| Error::corrupt("page: rows run past its data"))?;
        digests += usize::from(exists);
        leaf.slots.push(Slot {
            prefix: key_len as u64,
            end: state_len,
            key_len: Slot::key_field(key_len, exists),
            id,
        });
    }
    if digests > r.remaining() / 32 {
        return Err(r.error("digests run past the page"));
    }
    leaf.digests.reserve_exact(n);
    for slot in &leaf.slots {
        leaf.digests.push(if slot.exists() {
            r.take(32)?.try_into().unwrap_or_default()
        } else {
            [0; 32]
        });
    }
    let data = r.take(r.remaining())?;
    let mut end = 0usize;
    for slot in &mut leaf.slots {
        let start = end;
        let key_len = slot.prefix as usize;
        end = end
            .checked_add(key_len)
            .and_then(|e| e.checked_add(slot.end as usize))
            .filter(|&e| e <= data.len() && e <= u32::MAX as usize)
            .ok_or_else(|| Error::corrupt("page: rows run past its data"))?;
        let key = &data[start..start + key_len];
        if key.len() < shared {
            return Err(Error::corrupt("page: a key shorter than the shared prefix"));
        }
        slot.prefix = prefix(&key[shared..]);
        slot.end = end as u32;
    }
    if end != data.len() {
        return Err(Error::corrupt("page: bytes after its last row"));
    }
    leaf.shared = shared;
    leaf.data.reserve_exact(data.len());
    leaf.data.extend_from_slice(data);
    for i in 1..leaf.len() {
        let (a, b) = (leaf.key(i - 1), leaf.key(i));
        if a >= b {
            return Err(Error::corrupt("page: keys out of order"));
        }
        if b[..shared] != leaf.key(0)[..shared] {
            return Err(Error::corrupt("page: a key outside the shared prefix"));
        }
    }
    Ok(())
}

/// Version byte of a page's row entry.
pub const ROW_ENTRY_VERSION: u8 = 1;
/// Flag of a row entry that holds a row (clear: the key was removed).
const PRESENT: u8 = 2;

/// A row entry: what a checkpoint stores for one row of a page that
/// changed only in some rows (the page itself is not rewritten; a fault
/// applies its entries to it). `row` is the row now under `key`, `None`
/// when the key was removed (FORMAT.md §12 "Page store").
///
/// ```text
/// u8      version = 1
/// u8      flags (bit 0: the row exists, has a digest; bit 1: a row is present)
/// if present:  u64 LE state id ‖ [32-byte digest if it exists] ‖ state
/// u32 LE  CRC of the row key and every byte before it
/// ```
pub fn encode_row_entry(key: &[u8], row: Option<super::pages::StoredRow<'_>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + row.map_or(0, |r| r.state.len()));
    out.push(ROW_ENTRY_VERSION);
    match row {
        None => out.push(0),
        Some(r) => {
            out.push(PRESENT | if r.digest.is_some() { EXISTS } else { 0 });
            out.extend_from_slice(&r.state_id.to_le_bytes());
            if let Some(d) = r.digest {
                out.extend_from_slice(d);
            }
            out.extend_from_slice(r.state);
        }
    }
    let mut h = crc32fast::Hasher::new();
    h.update(key);
    h.update(&out);
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out
}

/// Decode a row entry stored for `key`, checking its CRC: the row it holds
/// (`None`: the key was removed).
pub fn decode_row_entry<'a>(
    key: &[u8],
    bytes: &'a [u8],
) -> Result<Option<super::pages::NewRow<'a>>> {
    let bad = |why: &str| Error::corrupt(format!("page row entry: {why}"));
    let n = bytes.len().checked_sub(4).ok_or_else(|| bad("truncated"))?;
    let (body, crc) = bytes.split_at(n);
    let mut h = crc32fast::Hasher::new();
    h.update(key);
    h.update(body);
    if h.finalize().to_le_bytes() != crc {
        return Err(bad("checksum mismatch"));
    }
    let mut r = Reader::new(body, "page row entry");
    if r.u8()? != ROW_ENTRY_VERSION {
        return Err(bad("unknown version"));
    }
    let flags = r.u8()?;
    if flags & !(PRESENT | EXISTS) != 0 || flags == EXISTS {
        return Err(bad("unknown flags"));
    }
    if flags & PRESENT == 0 {
        r.finish()?;
        return Ok(None);
    }
    let state_id = r.u64_le()?;
    let digest = if flags & EXISTS != 0 {
        Some(r.take(32)?.try_into().map_err(|_| bad("digest"))?)
    } else {
        None
    };
    let state = r.take(r.remaining())?;
    Ok(Some(super::pages::NewRow {
        digest,
        state,
        state_id,
    }))
}
