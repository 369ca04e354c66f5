//! Checkpoint files (FORMAT.md §12): header checks, then the snapshot they
//! carry restored into a region.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use tablesync::storage::fs::decode_checkpoint;
use tablesync::{Database, ManualClock};

fuzz_target!(|data: &[u8]| {
    let covers = data
        .get(8..16)
        .map_or(1, |b| u64::from_le_bytes(b.try_into().unwrap()));
    if let Ok(snap) = decode_checkpoint(data.to_vec(), "checkpoint-fuzz.snap", covers) {
        let _ = Database::import_snapshot(&snap, Arc::new(ManualClock::new(0)));
    }
});
