//! Golden vectors: the one generator of `tests/vectors/*.json`, shared by
//! `examples/gen_vectors.rs` (writes the files) and `tests/vectors.rs`
//! (checks the files are exactly what it produces, then replays them).
#![allow(dead_code)]

pub mod backup_bundle;
pub mod cases;
pub mod cluster;
pub mod cluster_moves;
pub mod cluster_wire;
pub mod json;
pub mod runner;
pub mod storage_delta;
pub mod storage_fold;
pub mod storage_manifest;

use std::path::PathBuf;

/// Where the vector files live (`<workspace>/tests/vectors`).
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("vectors")
}

/// Pretty JSON with a trailing newline (the files' exact text).
pub fn to_text(j: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(j).expect("json");
    s.push('\n');
    s
}

/// Every vector file: `(file name, content)`.
pub fn generate_all() -> Vec<(&'static str, String)> {
    let backup = cases::backup();
    vec![
        ("keys.json", to_text(&cases::keys())),
        ("values.json", to_text(&cases::values())),
        ("records.json", to_text(&cases::records())),
        ("schemas.json", to_text(&cases::schemas())),
        ("row_states.json", to_text(&cases::row_states())),
        ("regions.json", to_text(&cases::regions())),
        ("wal_entries.json", to_text(&cases::wal_entries())),
        ("frames.json", to_text(&cases::frames())),
        ("digests.json", to_text(&cases::digests())),
        ("snapshot.json", to_text(&cases::snapshot())),
        ("sync_frames.json", to_text(&cases::sync_frames())),
        ("cluster_map.json", to_text(&cluster::cluster_map())),
        ("cluster_wire.json", to_text(&cluster_wire::cluster_wire())),
        ("backup.json", to_text(&backup)),
        (
            "backup_bundle.json",
            to_text(&backup_bundle::backup_bundle(&backup)),
        ),
        (
            "storage_manifest.json",
            to_text(&storage_manifest::storage_manifest()),
        ),
        (
            "storage_delta.json",
            to_text(&storage_delta::storage_delta()),
        ),
        ("storage_fold.json", to_text(&storage_fold::storage_fold())),
        (
            "cluster_moves.json",
            to_text(&cluster_moves::cluster_moves()),
        ),
    ]
}
