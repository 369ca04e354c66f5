//! Log segments: a header, then commit records back to back.
//!
//! Segment header (20 bytes):
//! `"TSWL" ‖ version u8 ‖ flags u8 ‖ reserved u16 ‖ first_seq u64 LE ‖ crc32 u32 LE`
//! (the CRC covers the 16 bytes before it).
//!
//! Commit record (20-byte header, then the payload):
//! `payload_len u32 LE ‖ seq u64 LE ‖ payload_crc u32 LE ‖ header_crc u32 LE ‖ payload`
//! where `header_crc` covers the 16 bytes before it, and the payload is
//! `count varint ‖ (len varint ‖ WalEntry bytes) × count`: every entry of
//! one [`Storage::append`](crate::storage::Storage::append) call, so a
//! commit is recovered whole or not at all.

use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::MAGIC_WAL;
use crate::model::error::{Error, Result};
use crate::storage::WalEntry;

/// Bytes of a segment header.
pub const SEGMENT_HEADER_LEN: usize = 20;
/// Bytes of a record header.
pub const RECORD_HEADER_LEN: usize = 20;
/// Segment format version this build writes and reads.
pub const SEGMENT_VERSION: u8 = 1;
/// Largest payload of one commit record.
pub const MAX_RECORD_PAYLOAD: usize = 1 << 30;

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The header of a segment whose first record is `first_seq`.
pub fn segment_header(first_seq: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC_WAL);
    h[4] = SEGMENT_VERSION;
    h[8..16].copy_from_slice(&first_seq.to_le_bytes());
    let c = crc(&h[..16]);
    h[16..20].copy_from_slice(&c.to_le_bytes());
    h
}

/// Check the header of segment `name`, which must start at `first_seq`.
pub fn check_segment_header(bytes: &[u8], name: &str, first_seq: u64) -> Result<()> {
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(Error::corrupt(format!(
            "log segment {name}: header is truncated ({} bytes)",
            bytes.len()
        )));
    }
    if bytes[..4] != MAGIC_WAL {
        return Err(Error::corrupt(format!(
            "log segment {name}: bad magic at byte 0"
        )));
    }
    let stored = u32::from_le_bytes(bytes[16..20].try_into().expect("4"));
    if crc(&bytes[..16]) != stored {
        return Err(Error::corrupt(format!(
            "log segment {name}: header checksum mismatch at byte 0"
        )));
    }
    if bytes[4] != SEGMENT_VERSION || bytes[5] != 0 {
        return Err(Error::UnsupportedVersion(format!(
            "log segment {name} has version {} flags {:#04x} (this build reads version {SEGMENT_VERSION})",
            bytes[4], bytes[5]
        )));
    }
    let start = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
    if start != first_seq {
        return Err(Error::corrupt(format!(
            "log segment {name}: header says it starts at record {start}"
        )));
    }
    Ok(())
}

/// Append one commit record holding `entries` to `out`.
pub fn encode_record(out: &mut Vec<u8>, seq: u64, entries: &[WalEntry]) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER_LEN]);
    put_varint(out, entries.len() as u64);
    let mut scratch = Vec::with_capacity(128);
    for e in entries {
        scratch.clear();
        e.encode(&mut scratch);
        put_bytes(out, &scratch);
    }
    let len = out.len() - start - RECORD_HEADER_LEN;
    if len > MAX_RECORD_PAYLOAD {
        out.truncate(start);
        return Err(Error::invalid(format!(
            "one commit of {len} bytes exceeds the log record limit of {MAX_RECORD_PAYLOAD} bytes"
        )));
    }
    let payload_crc = crc(&out[start + RECORD_HEADER_LEN..]);
    let h = &mut out[start..start + RECORD_HEADER_LEN];
    h[..4].copy_from_slice(&(len as u32).to_le_bytes());
    h[4..12].copy_from_slice(&seq.to_le_bytes());
    h[12..16].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc(&h[..16]);
    h[16..20].copy_from_slice(&header_crc.to_le_bytes());
    Ok(())
}

fn decode_payload(payload: &[u8]) -> Result<Vec<WalEntry>> {
    let mut r = Reader::new(payload, "log record");
    // Entry: length ‖ at least its type byte.
    let entries = r.read_vec(2, |r| WalEntry::decode(r.bytes()?))?;
    r.finish()?;
    Ok(entries)
}

/// What scanning one segment found.
#[derive(Debug, Default)]
pub struct SegmentScan {
    /// Entries of the records at or after the `keep_from` sequence, in order.
    pub entries: Vec<WalEntry>,
    /// Bytes (headers included) of those records.
    pub kept_bytes: u64,
    /// Sequence number the next record would have.
    pub next_seq: u64,
    /// Offset just past the last whole record.
    pub valid_len: u64,
    /// Why the bytes after `valid_len` were judged a torn final write, if any.
    pub torn: Option<String>,
    /// The torn final record was whole (its full length present) but failed
    /// its checksum with a payload that is not all zeros: under
    /// `sync=always` that record may have been acknowledged, so recovery
    /// treats it as corruption instead of cutting it.
    pub damaged_final: bool,
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// Read every record of segment `name` (whole file in `bytes`), which starts
/// at record `first_seq`. Records before `keep_from` are checked but not
/// decoded. Only the last segment (`is_last`) may end in a torn record: a
/// partial header, a payload cut short, a final record whose checksum
/// fails, or a run of zero bytes. Any other damage is [`Error::Corrupt`].
pub fn scan_segment(
    bytes: &[u8],
    name: &str,
    first_seq: u64,
    is_last: bool,
    keep_from: u64,
) -> Result<SegmentScan> {
    scan(bytes, name, first_seq, is_last, keep_from, false)
}

/// [`scan_segment`] for the last segment of a region whose sync policy is
/// `batch` or `never`: there, the writes after the last fsync may have
/// reached the disk in any order (a power loss can keep a later record and
/// lose an earlier one), so any damaged record ends the log as a torn tail
/// instead of being [`Error::Corrupt`]. Recovery saves the cut bytes.
pub fn scan_unsynced_tail(
    bytes: &[u8],
    name: &str,
    first_seq: u64,
    keep_from: u64,
) -> Result<SegmentScan> {
    scan(bytes, name, first_seq, true, keep_from, true)
}

fn scan(
    bytes: &[u8],
    name: &str,
    first_seq: u64,
    is_last: bool,
    keep_from: u64,
    lenient: bool,
) -> Result<SegmentScan> {
    check_segment_header(bytes, name, first_seq)?;
    let mut scan = SegmentScan {
        next_seq: first_seq,
        ..SegmentScan::default()
    };
    let mut off = SEGMENT_HEADER_LEN;
    let corrupt = |off: usize, why: String| {
        Error::corrupt(format!("log segment {name}: {why} at byte {off}"))
    };
    while off < bytes.len() {
        if lenient {
            match next_record(bytes, off, &mut scan, is_last, keep_from, &corrupt) {
                Ok(Some(next)) => off = next,
                Ok(None) => break,
                Err(e) => {
                    scan.torn = Some(format!(
                        "{} (unsynced writes may land out of order)",
                        e.message()
                    ));
                    scan.damaged_final = false;
                    break;
                }
            }
            continue;
        }
        match next_record(bytes, off, &mut scan, is_last, keep_from, &corrupt)? {
            Some(next) => off = next,
            None => break,
        }
    }
    scan.valid_len = off as u64;
    Ok(scan)
}

/// Read the record at `off` into `scan`: the offset after it, `None` when
/// the log ends there (torn tail, noted in `scan.torn`), or an error.
fn next_record(
    bytes: &[u8],
    off: usize,
    scan: &mut SegmentScan,
    is_last: bool,
    keep_from: u64,
    corrupt: &dyn Fn(usize, String) -> Error,
) -> Result<Option<usize>> {
    {
        let rest = &bytes[off..];
        let torn_or_corrupt = |why: String| -> Result<Option<String>> {
            if is_last {
                Ok(Some(format!("{why} at byte {off}")))
            } else {
                Err(corrupt(
                    off,
                    format!("{why} in a segment that is not the last"),
                ))
            }
        };
        if rest.len() < RECORD_HEADER_LEN {
            scan.torn = torn_or_corrupt("incomplete record header".into())?;
            return Ok(None);
        }
        let h = &rest[..RECORD_HEADER_LEN];
        let len = u32::from_le_bytes(h[..4].try_into().expect("4")) as usize;
        let seq = u64::from_le_bytes(h[4..12].try_into().expect("8"));
        let payload_crc = u32::from_le_bytes(h[12..16].try_into().expect("4"));
        let header_crc = u32::from_le_bytes(h[16..20].try_into().expect("4"));
        if crc(&h[..16]) != header_crc {
            if all_zero(rest) {
                scan.torn = torn_or_corrupt("zero-filled tail".into())?;
                return Ok(None);
            }
            return Err(corrupt(off, "record header checksum mismatch".into()));
        }
        if len > MAX_RECORD_PAYLOAD {
            return Err(corrupt(
                off,
                format!("record length {len} exceeds the limit"),
            ));
        }
        if seq != scan.next_seq {
            return Err(corrupt(
                off,
                format!("record has sequence {seq}, expected {}", scan.next_seq),
            ));
        }
        let total = RECORD_HEADER_LEN + len;
        if rest.len() < total {
            scan.torn = torn_or_corrupt(format!(
                "record {seq} cut short ({} of {total} bytes)",
                rest.len()
            ))?;
            return Ok(None);
        }
        let payload = &rest[RECORD_HEADER_LEN..total];
        if crc(payload) != payload_crc {
            if all_zero(&rest[total..]) {
                scan.torn = torn_or_corrupt(format!("final record {seq} fails its checksum"))?;
                scan.damaged_final = !all_zero(payload);
                return Ok(None);
            }
            return Err(corrupt(
                off,
                format!("record {seq} payload checksum mismatch"),
            ));
        }
        if seq >= keep_from {
            let entries = decode_payload(payload)
                .map_err(|e| corrupt(off, format!("record {seq}: {}", e.message())))?;
            scan.entries.extend(entries);
            scan.kept_bytes += total as u64;
        }
        scan.next_seq += 1;
        Ok(Some(off + total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(first: u64, commits: &[Vec<WalEntry>]) -> Vec<u8> {
        let mut b = segment_header(first).to_vec();
        for (i, c) in commits.iter().enumerate() {
            encode_record(&mut b, first + i as u64, c).unwrap();
        }
        b
    }

    fn commits() -> Vec<Vec<WalEntry>> {
        vec![
            vec![WalEntry::TruncateLog { cursor: 5 }],
            vec![
                WalEntry::DeleteTable { name: "a".into() },
                WalEntry::TruncateLog { cursor: 9 },
            ],
            vec![WalEntry::DeleteTable { name: "b".into() }],
        ]
    }

    #[test]
    fn records_round_trip() {
        let b = segment(7, &commits());
        let s = scan_segment(&b, "x", 7, true, 0).unwrap();
        assert_eq!(s.entries, commits().concat());
        assert_eq!(s.next_seq, 10);
        assert_eq!(s.valid_len, b.len() as u64);
        assert_eq!(s.kept_bytes, (b.len() - SEGMENT_HEADER_LEN) as u64);
        assert!(s.torn.is_none());
        // Records before keep_from are skipped.
        let s = scan_segment(&b, "x", 7, true, 9).unwrap();
        assert_eq!(s.entries, commits()[2]);
    }

    #[test]
    fn every_cut_of_the_last_record_is_a_torn_tail() {
        let b = segment(1, &commits());
        let whole2 = scan_segment(&b, "x", 1, true, 0).unwrap();
        let two = segment(1, &commits()[..2]);
        for cut in two.len() + 1..b.len() {
            let s = scan_segment(&b[..cut], "x", 1, true, 0).unwrap();
            assert_eq!(s.valid_len, two.len() as u64, "cut {cut}");
            assert_eq!(s.entries, commits()[..2].concat());
            assert!(s.torn.is_some());
            let e = scan_segment(&b[..cut], "x", 1, false, 0).unwrap_err();
            assert_eq!(e.code(), "CorruptData");
        }
        assert!(whole2.torn.is_none());
    }

    #[test]
    fn a_flipped_byte_before_the_last_record_is_corruption() {
        let b = segment(1, &commits());
        let last = segment(1, &commits()[..2]).len();
        for i in SEGMENT_HEADER_LEN..last {
            let mut d = b.clone();
            d[i] ^= 0x40;
            let e = scan_segment(&d, "wal-x", 1, true, 0).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "byte {i}");
            assert!(e.message().contains("wal-x"), "{e}");
        }
    }

    #[test]
    fn zero_tail_is_torn_and_bad_header_is_refused() {
        let mut b = segment(1, &commits());
        let n = b.len();
        b.extend_from_slice(&[0u8; 100]);
        let s = scan_segment(&b, "x", 1, true, 0).unwrap();
        assert_eq!(s.valid_len, n as u64);
        let mut h = segment(1, &[]);
        h[4] = 9;
        let c = crc(&h[..16]);
        h[16..20].copy_from_slice(&c.to_le_bytes());
        assert_eq!(
            scan_segment(&h, "x", 1, true, 0).unwrap_err().code(),
            "UnsupportedVersion"
        );
        assert_eq!(
            scan_segment(&segment(2, &[]), "x", 1, true, 0)
                .unwrap_err()
                .code(),
            "CorruptData"
        );
    }
}
