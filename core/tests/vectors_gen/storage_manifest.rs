//! `storage_manifest.json`: directory manifests (FORMAT.md §12 "Manifest"),
//! valid ones with their fields and refused ones with their error codes.

use super::json::hex;
use serde_json::{json, Value as J};
use tablesync::storage::fs::{encode_manifest, FsOptions, Manifest};
use tablesync::SyncPolicy;

fn sync_name(s: SyncPolicy) -> &'static str {
    match s {
        SyncPolicy::Always => "always",
        SyncPolicy::Batch => "batch",
        SyncPolicy::Never => "never",
    }
}

/// The manifests the file lists.
pub fn samples() -> Vec<Manifest> {
    let mut migrated = Manifest::new(
        "local",
        1_796_216_220_353,
        &FsOptions::new(SyncPolicy::Always, 64 << 20),
    );
    migrated.migrated_from = Some(1);
    let mut from_3 = Manifest::new(
        "eu",
        1_700_000_000_000,
        &FsOptions::new(SyncPolicy::Always, 64 << 20),
    );
    from_3.migrated_from = Some(3);
    let mut paged = Manifest::new(
        "eu",
        1_700_000_000_000,
        &FsOptions::new(SyncPolicy::Batch, 64 << 20).cache_bytes(Some(256 << 20)),
    );
    paged.paged = true;
    let mut converted = paged.clone();
    converted.migrated_from = Some(4);
    vec![
        Manifest::new(
            "eu",
            1_700_000_000_000,
            &FsOptions::new(SyncPolicy::Always, 64 << 20),
        ),
        Manifest::new(
            "région-østre",
            -1,
            &FsOptions::new(SyncPolicy::Batch, 1 << 20).segment_bytes(4096),
        ),
        Manifest::new(
            &"r".repeat(255),
            i64::MAX,
            &FsOptions::new(SyncPolicy::Never, 1),
        ),
        migrated,
        from_3,
        paged,
        converted,
    ]
}

/// A manifest as vector JSON.
pub fn manifest_json(m: &Manifest) -> J {
    json!({
        "region": m.region,
        "region_id": m.region_id().to_string(),
        "created_ms": m.created_ms.to_string(),
        "migrated_from": m.migrated_from,
        "sync": sync_name(m.sync),
        "checkpoint_bytes": m.checkpoint_bytes.to_string(),
        "segment_bytes": m.segment_bytes.to_string(),
        "paged": m.paged,
    })
}

fn fix_header_crc(b: &mut [u8]) {
    let c = crc32fast::hash(&b[..8]);
    b[8..12].copy_from_slice(&c.to_le_bytes());
}

fn fix_body_crc(b: &mut [u8]) {
    let n = b.len();
    let c = crc32fast::hash(&b[16..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

/// Refused manifests: `(why, bytes, error code)`.
pub fn invalid() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = encode_manifest(&samples()[0]).expect("encode");
    let mut out = Vec::new();
    let mut b = good.clone();
    b[4] = 9;
    fix_header_crc(&mut b);
    out.push((
        "directory format 9 (newer)",
        b.clone(),
        "UnsupportedVersion",
    ));
    b.truncate(16);
    out.push((
        "directory format 9 with a body this build cannot parse",
        b,
        "UnsupportedVersion",
    ));
    let mut b = good.clone();
    b[5] = 1;
    fix_header_crc(&mut b);
    out.push(("unknown flags", b, "UnsupportedVersion"));
    let mut b = good.clone();
    b[4] = 1;
    fix_header_crc(&mut b);
    out.push((
        "directory format 1 (which had no manifest)",
        b,
        "UnsupportedVersion",
    ));
    let mut b = good.clone();
    b[4] = 7;
    out.push(("version changed without its header CRC", b, "CorruptData"));
    let mut b = good.clone();
    b[0] = b'X';
    out.push(("bad magic", b, "CorruptData"));
    out.push(("truncated", good[..good.len() - 1].to_vec(), "CorruptData"));
    let mut b = good.clone();
    let last = b.len() - 5;
    b[last] ^= 1;
    out.push(("body byte flipped", b, "CorruptData"));
    let mut b = good.clone();
    b[24] ^= 1; // region id
    fix_body_crc(&mut b);
    out.push(("region id not the region's", b, "CorruptData"));
    let mut b = good.clone();
    b[32] = 9; // sync policy code
    fix_body_crc(&mut b);
    out.push(("unknown sync policy", b, "CorruptData"));
    let mut b = good.clone();
    b[49] = 4; // migrated from format 4 (not older)
    fix_body_crc(&mut b);
    out.push(("migrated from a format that is not older", b, "CorruptData"));
    let mut b = good;
    let n = b.len();
    b[n - 6] = 0xff; // region name not UTF-8
    fix_body_crc(&mut b);
    out.push(("region name not UTF-8", b, "CorruptData"));
    out
}

/// The whole file.
pub fn storage_manifest() -> J {
    json!({
        "manifests": samples().iter().map(|m| json!({
            "manifest": manifest_json(m),
            "hex": hex(&encode_manifest(m).expect("encode")),
        })).collect::<Vec<_>>(),
        "invalid": invalid().into_iter().map(|(why, b, error)| json!({
            "why": why,
            "hex": hex(&b),
            "error": error,
        })).collect::<Vec<_>>(),
    })
}
