//! The directory manifest (`MANIFEST`): which region a directory holds,
//! the directory format version, when it was created and with which
//! options. Written when a directory is created (or when a directory made
//! before manifests existed is first opened), read before anything else on
//! every open. Byte format in `docs/FORMAT.md` §12 "Manifest".

use super::io::{io_error, read_file, write_file_atomic};
use super::names::MANIFEST_FILE;
use super::FsOptions;
use crate::log::hlc::region_id;
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use crate::storage::SyncPolicy;
use std::path::Path;

/// Magic of a manifest file.
pub const MAGIC_MANIFEST: [u8; 4] = *b"TSMF";
/// Directory format version this build writes and reads. A directory
/// without a manifest is format 1; format 2 has no delta checkpoints;
/// format 3 has neither purges (WAL entry `PURGE_ROWS`, delta frames
/// version 2) nor background folds (a delta's base is always the newest
/// full checkpoint). All are migrated to this one on open.
pub const DIR_FORMAT: u8 = 4;
/// Directory format of a region whose rows live in its page store
/// (`pages.redb`, FORMAT.md §12 "Page store"): format 4's files, no
/// checkpoint files, and the page store holding the checkpointed state.
/// A build that reads only format 4 refuses it (`UnsupportedVersion`).
/// Format 6 is the page store's format 2 (sealed `meta` and `index`
/// values, the log in chunks); format 7 its format 3 (pages may be
/// LZ4-compressed); format 8 its format 4 (each table's index has a block
/// list, so an open reads the index on demand). Formats 5 to 7 are
/// migrated on open.
pub const PAGED_DIR_FORMAT: u8 = 8;
/// The oldest paged directory format this build reads (and migrates).
pub const OLDEST_PAGED_DIR_FORMAT: u8 = 5;
/// The oldest directory format with a manifest this build reads (and
/// migrates: its manifest is rewritten as [`DIR_FORMAT`]).
pub const OLDEST_MANIFEST_FORMAT: u8 = 2;
/// Bytes before the body: magic, format, flags, reserved, header CRC, body length.
pub const MANIFEST_HEADER_LEN: usize = 16;
/// Fixed body bytes before the region name.
const BODY_FIXED: usize = 8 + 8 + 1 + 8 + 8 + 1 + 1;

/// What a directory's manifest records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The region the directory holds.
    pub region: String,
    /// When the manifest was written (ms since the Unix epoch, database clock).
    pub created_ms: i64,
    /// The directory format it was written by (or migrated from, see `migrated_from`).
    pub migrated_from: Option<u8>,
    /// Sync policy the directory was created with (informational: every
    /// open may choose its own).
    pub sync: SyncPolicy,
    /// Checkpoint threshold it was created with (informational).
    pub checkpoint_bytes: u64,
    /// Segment size it was created with (informational).
    pub segment_bytes: u64,
    /// Whether the rows live in the page store (directory format
    /// [`PAGED_DIR_FORMAT`]) rather than in checkpoint files.
    pub paged: bool,
}

impl Manifest {
    /// A manifest for a directory created now for `region` with `options`.
    pub fn new(region: &str, created_ms: i64, options: &FsOptions) -> Manifest {
        Manifest {
            region: region.to_string(),
            created_ms,
            migrated_from: None,
            sync: options.sync,
            checkpoint_bytes: options.checkpoint_bytes,
            segment_bytes: options.segment_bytes,
            paged: false,
        }
    }

    /// The region's 64-bit id (FORMAT.md §6.1).
    pub fn region_id(&self) -> u64 {
        region_id(&self.region)
    }
}

fn sync_code(s: SyncPolicy) -> u8 {
    match s {
        SyncPolicy::Always => 0,
        SyncPolicy::Batch => 1,
        SyncPolicy::Never => 2,
    }
}

/// The manifest's bytes.
pub fn encode_manifest(m: &Manifest) -> Result<Vec<u8>> {
    let region = m.region.as_bytes();
    if region.is_empty() || region.len() > 255 || m.region.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "region name {:?} must be 1–255 bytes without control characters",
            m.region
        )));
    }
    let mut body = Vec::with_capacity(BODY_FIXED + region.len());
    body.extend_from_slice(&m.created_ms.to_le_bytes());
    body.extend_from_slice(&m.region_id().to_le_bytes());
    body.push(sync_code(m.sync));
    body.extend_from_slice(&m.checkpoint_bytes.to_le_bytes());
    body.extend_from_slice(&m.segment_bytes.to_le_bytes());
    body.push(m.migrated_from.unwrap_or(0));
    body.push(region.len() as u8);
    body.extend_from_slice(region);
    let mut out = Vec::with_capacity(MANIFEST_HEADER_LEN + body.len() + 4);
    out.extend_from_slice(&MAGIC_MANIFEST);
    out.push(if m.paged {
        PAGED_DIR_FORMAT
    } else {
        DIR_FORMAT
    });
    out.push(0);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&crc32fast::hash(&out[..8]).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    Ok(out)
}

/// Decode a manifest file's bytes. Damage is `CorruptData`; a directory
/// format newer than [`DIR_FORMAT`] (or unknown flags) is `UnsupportedVersion`,
/// judged from the header alone so a future body layout never reads as damage.
pub fn decode_manifest(bytes: &[u8]) -> Result<Manifest> {
    decode_manifest_format(bytes).map(|(m, _)| m)
}

/// [`decode_manifest`], with the directory format the header names (from
/// [`OLDEST_MANIFEST_FORMAT`] to [`DIR_FORMAT`]).
pub fn decode_manifest_format(bytes: &[u8]) -> Result<(Manifest, u8)> {
    let bad = |why: String| Error::corrupt(format!("{MANIFEST_FILE}: {why}"));
    if bytes.len() < MANIFEST_HEADER_LEN {
        return Err(bad(format!("truncated to {} bytes", bytes.len())));
    }
    if bytes[..4] != MAGIC_MANIFEST {
        return Err(bad("bad magic at byte 0".into()));
    }
    let header_crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4"));
    if crc32fast::hash(&bytes[..8]) != header_crc {
        return Err(bad("header checksum mismatch".into()));
    }
    let format = bytes[4];
    if !(OLDEST_MANIFEST_FORMAT..=PAGED_DIR_FORMAT).contains(&format)
        || bytes[5] != 0
        || bytes[6..8] != [0, 0]
    {
        return Err(Error::UnsupportedVersion(format!(
            "{MANIFEST_FILE} says directory format {} flags {:#04x}; this build reads formats {DIR_FORMAT} and {PAGED_DIR_FORMAT} (and older directories, which it migrates)",
            bytes[4], bytes[5]
        )));
    }
    let body_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4")) as usize;
    let have = bytes.len() - MANIFEST_HEADER_LEN;
    if have < 4 || body_len != have - 4 {
        return Err(bad(format!(
            "header says {body_len} body bytes, the file holds {have} after the header (body and checksum)"
        )));
    }
    let body = &bytes[MANIFEST_HEADER_LEN..MANIFEST_HEADER_LEN + body_len];
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4"));
    if crc32fast::hash(body) != stored {
        return Err(bad("body checksum mismatch".into()));
    }
    if body.len() < BODY_FIXED {
        return Err(bad(format!("body of {} bytes is too short", body.len())));
    }
    let u64_at = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().expect("8"));
    let created_ms = u64_at(0) as i64;
    let id = u64_at(8);
    let sync = match body[16] {
        0 => SyncPolicy::Always,
        1 => SyncPolicy::Batch,
        2 => SyncPolicy::Never,
        n => return Err(bad(format!("unknown sync policy code {n}"))),
    };
    let checkpoint_bytes = u64_at(17);
    let segment_bytes = u64_at(25);
    let migrated_from = match body[33] {
        0 => None,
        n if n < format => Some(n),
        n => return Err(bad(format!("migrated from format {n}, not an older one"))),
    };
    let n = body[34] as usize;
    if n == 0 || body.len() != BODY_FIXED + n {
        return Err(bad(format!(
            "region name of {n} bytes does not fill the {}-byte body",
            body.len()
        )));
    }
    let region = std::str::from_utf8(&body[BODY_FIXED..])
        .map_err(|_| bad("region name is not UTF-8".into()))?
        .to_string();
    let m = Manifest {
        region,
        created_ms,
        migrated_from,
        sync,
        checkpoint_bytes,
        segment_bytes,
        paged: format >= OLDEST_PAGED_DIR_FORMAT,
    };
    if m.region_id() != id {
        return Err(bad(format!(
            "region id {id:#018x} is not the id of region '{}'",
            m.region
        )));
    }
    Ok((m, format))
}

/// The manifest of `dir`, if it has one.
pub fn read_manifest<V: Vfs>(vfs: &V, dir: &Path) -> Result<Option<Manifest>> {
    Ok(read_manifest_format(vfs, dir)?.map(|(m, _)| m))
}

/// [`read_manifest`], with the directory format its header names.
pub fn read_manifest_format<V: Vfs>(vfs: &V, dir: &Path) -> Result<Option<(Manifest, u8)>> {
    if !vfs.is_dir(dir) {
        return Ok(None);
    }
    match vfs.len(&dir.join(MANIFEST_FILE)) {
        Ok(_) => decode_manifest_format(&read_file(vfs, dir, MANIFEST_FILE)?).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // Anything else (unreadable, not a file) must not pass for "no
        // manifest": that would migrate, i.e. write one over it.
        Err(e) => Err(io_error(format_args!("reading {MANIFEST_FILE}"), e)),
    }
}

/// Write `m` as `dir`'s manifest, atomically (temp file, fsync, rename,
/// directory fsync).
pub fn write_manifest<V: Vfs>(vfs: &V, dir: &Path, m: &Manifest) -> Result<()> {
    write_file_atomic(vfs, dir, MANIFEST_FILE, &[&encode_manifest(m)?])
}

/// The error for opening a directory as a region it does not hold.
pub fn region_mismatch(dir: &Path, holds: &str, asked: &str) -> Error {
    Error::RegionMismatch(format!(
        "{} holds region '{holds}', not '{asked}'",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest::new(
            "eu-west",
            1_700_000_000_000,
            &FsOptions::new(SyncPolicy::Batch, 1 << 20),
        )
    }

    #[test]
    fn round_trip() {
        let m = sample();
        assert_eq!(decode_manifest(&encode_manifest(&m).unwrap()).unwrap(), m);
        let mut old = m.clone();
        old.migrated_from = Some(1);
        assert_eq!(
            decode_manifest(&encode_manifest(&old).unwrap()).unwrap(),
            old
        );
    }

    #[test]
    fn any_damage_is_corruption_or_a_version_error() {
        let b = encode_manifest(&sample()).unwrap();
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut d = b.clone();
                d[i] ^= 1 << bit;
                let e = decode_manifest(&d).unwrap_err();
                assert_eq!(e.code(), "CorruptData", "byte {i} bit {bit}");
            }
        }
        for cut in 0..b.len() {
            let e = decode_manifest(&b[..cut]).unwrap_err();
            assert_eq!(e.code(), "CorruptData", "cut {cut}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_eq!(decode_manifest(&longer).unwrap_err().code(), "CorruptData");
    }

    #[test]
    fn a_newer_format_is_refused_as_such() {
        let mut b = encode_manifest(&sample()).unwrap();
        b[4] = PAGED_DIR_FORMAT + 1;
        let c = crc32fast::hash(&b[..8]);
        b[8..12].copy_from_slice(&c.to_le_bytes());
        let e = decode_manifest(&b).unwrap_err();
        assert_eq!(e.code(), "UnsupportedVersion");
        // Even with a body this build cannot parse.
        b.truncate(MANIFEST_HEADER_LEN);
        assert_eq!(
            decode_manifest(&b).unwrap_err().code(),
            "UnsupportedVersion"
        );
        // Older than any manifest.
        let mut b = encode_manifest(&sample()).unwrap();
        b[4] = 1;
        let c = crc32fast::hash(&b[..8]);
        b[8..12].copy_from_slice(&c.to_le_bytes());
        assert_eq!(
            decode_manifest(&b).unwrap_err().code(),
            "UnsupportedVersion"
        );
    }

    #[test]
    fn a_format_2_manifest_is_read_with_its_format() {
        let mut b = encode_manifest(&sample()).unwrap();
        b[4] = 2;
        let c = crc32fast::hash(&b[..8]);
        b[8..12].copy_from_slice(&c.to_le_bytes());
        assert_eq!(decode_manifest_format(&b).unwrap(), (sample(), 2));
        // A format-2 manifest cannot say it was migrated from format 2.
        let n = b.len();
        b[MANIFEST_HEADER_LEN + 33] = 2;
        let c = crc32fast::hash(&b[MANIFEST_HEADER_LEN..n - 4]);
        b[n - 4..].copy_from_slice(&c.to_le_bytes());
        assert_eq!(decode_manifest(&b).unwrap_err().code(), "CorruptData");
    }
}
