//! Snapshots (FORMAT.md §11): raw bytes as a frame, and the bytes as the
//! payload of a valid frame. A snapshot that imports exports byte-exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use tablesync::codec::frame::{encode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION};
use tablesync::{Database, ManualClock};

fuzz_target!(|data: &[u8]| {
    let clock = || Arc::new(ManualClock::new(1_700_000_000_000));
    let _ = Database::import_snapshot(data, clock());
    let framed = encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, data, true);
    if let Ok(db) = Database::import_snapshot(&framed, clock()) {
        let out = db.export_snapshot().expect("exports");
        let again = Database::import_snapshot(&out, clock()).expect("re-imports");
        assert_eq!(again.export_snapshot().unwrap(), out);
    }
});
