//! Formats written by earlier builds still open (FORMAT.md §2, §11).
//!
//! `fixtures/snapshot_v1_out_of_order.bin` was exported by the build before
//! snapshot version 2: region `eu` holding `us` records 1, 3 and 4 (3 and 4
//! out of order) and one write of its own. Version 1 listed out-of-order
//! sequence numbers one by one; version 2 lists ranges. A checkpoint is the
//! same frame, so a durable directory migrates the same way on open.

use std::sync::Arc;
use tablesync::*;

const V1: &[u8] = include_bytes!("fixtures/snapshot_v1_out_of_order.bin");
const V1_DIGEST: &str = "3d5164c97dbafcea8585bb1795e1e2182841e0776ed80bbe7902f6bbfa42fd4a";

#[test]
fn a_version_1_snapshot_opens_and_is_rewritten_as_version_2() {
    assert_eq!(V1[4], 1, "the fixture is a version-1 frame");
    let clock = Arc::new(ManualClock::new(1_700_000_000_100));
    let db = Database::import_snapshot(V1, clock.clone()).unwrap();
    assert_eq!(db.region(), "eu");
    assert_eq!(db.table_digest("t").unwrap().to_hex(), V1_DIGEST);
    let vv = db.version_vector_full().unwrap();
    assert!(vv.contains("us", 1) && !vv.contains("us", 2));
    assert!(vv.contains("us", 3) && vv.contains("us", 4) && !vv.contains("us", 5));
    assert_eq!(vv.get("eu"), 1);
    let again = db.export_snapshot().unwrap();
    assert_eq!(again[4], 2, "snapshots are written as version 2");
    let back = Database::import_snapshot(&again, clock).unwrap();
    assert_eq!(back.version_vector_full().unwrap(), vv);
    assert_eq!(back.export_snapshot().unwrap(), again);
}

#[test]
fn an_unknown_snapshot_version_is_refused() {
    let mut bad = V1.to_vec();
    bad[4] = 9;
    // Fix the CRC so only the version is wrong.
    let mut h = crc32fast::Hasher::new();
    h.update(&bad[..10]);
    h.update(&bad[14..]);
    bad[10..14].copy_from_slice(&h.finalize().to_le_bytes());
    let e = Database::import_snapshot(&bad, Arc::new(ManualClock::new(0))).unwrap_err();
    assert_eq!(e.code(), "UnsupportedVersion");
}
