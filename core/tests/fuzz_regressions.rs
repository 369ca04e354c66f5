//! Replays the fuzz corpus kept in the repo (`fuzz/corpus/<target>/`) and
//! every crash input (`fuzz/regressions/<target>/`) through the same
//! decoders as the cargo-fuzz targets, on stable and without sanitizers:
//! none may panic. A crash found by `scripts/test-fuzz` is copied to
//! `fuzz/regressions/<target>/` so this test keeps it fixed.
#![cfg(feature = "fs")]

use std::path::Path;
use std::sync::Arc;
use tablesync::codec::frame::{encode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION};
use tablesync::codec::key::decode_key_values;
use tablesync::codec::record::decode_record;
use tablesync::codec::row_state::decode_row_state;
use tablesync::codec::row_wire::{decode_request as decode_js_wire, WireCall};
use tablesync::storage::fs::{decode_checkpoint, scan_segment};
use tablesync::storage::WalEntry;
use tablesync::sync::message::SYNC_FRAME_VERSION;
use tablesync::sync::message::{decode_reply, decode_request, MAGIC_SYNC};
use tablesync::{Database, ManualClock};

/// The calls of the `js_wire` target, picked by its first byte.
const CALLS: [WireCall; 5] = [
    WireCall::PutRow,
    WireCall::GetRow,
    WireCall::GetRange,
    WireCall::BatchWrite,
    WireCall::BatchGet,
];

fn decode_all(target: &str, data: &[u8]) {
    let clock = || Arc::new(ManualClock::new(1_700_000_000_000));
    match target {
        "sync_frame" => {
            let _ = decode_request(data, 1 << 20);
            let _ = decode_reply(data, 1 << 20, 0, 0);
        }
        "sync_message" => {
            let frame = encode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, data, false);
            let _ = decode_request(&frame, 1 << 20);
            let _ = decode_reply(&frame, 1 << 20, 0, 0);
        }
        "change_record" => {
            let _ = decode_record(data);
        }
        "wal_entry" => {
            let _ = WalEntry::decode(data);
        }
        "segment" => {
            let _ = scan_segment(data, "wal-fuzz.log", 1, true, 0);
            let _ = scan_segment(data, "wal-fuzz.log", 1, false, 0);
        }
        "checkpoint" => {
            if let Ok(s) = decode_checkpoint(data.to_vec(), "c", 1) {
                let _ = Database::import_snapshot(&s, clock());
            }
        }
        "snapshot" => {
            let _ = Database::import_snapshot(data, clock());
            let _ = Database::import_snapshot(
                &encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, data, true),
                clock(),
            );
        }
        "key" => {
            let _ = decode_key_values(data);
        }
        "row_state" => {
            let _ = decode_row_state(data);
        }
        "js_wire" => {
            if let Some((&pick, body)) = data.split_first() {
                let _ = decode_js_wire(CALLS[pick as usize % CALLS.len()], body);
            }
        }
        _ => {}
    }
}

fn replay(root: &Path) -> usize {
    let mut n = 0;
    let Ok(targets) = std::fs::read_dir(root) else {
        return 0;
    };
    for t in targets {
        let t = t.unwrap();
        let target = t.file_name().into_string().unwrap();
        for f in std::fs::read_dir(t.path()).unwrap() {
            let path = f.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            decode_all(&target, &data);
            n += 1;
        }
    }
    n
}

#[test]
fn the_kept_fuzz_corpus_and_crashes_decode_without_panics() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let n = replay(&fuzz.join("corpus")) + replay(&fuzz.join("regressions"));
    assert!(n > 0, "the kept corpus under fuzz/corpus is missing");
}
