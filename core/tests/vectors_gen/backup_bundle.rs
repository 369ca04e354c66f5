//! `backup_bundle.json`: the repositories of `backup.json` as one bundle
//! each (FORMAT.md §19.9), built from that case's objects. The
//! `*_format1` bundles were written by repository format 1 and are frozen:
//! they are carried over from the file as it is, so readers keep proving
//! they read the old format.

use super::json::{hex, unhex};
use serde_json::{json, Value as J};
use std::collections::BTreeMap;
use tablesync::backup::encode_objects;

/// The bundle of one repository of `backup.json` (`plain` or `encrypted`).
fn bundle_of(repo: &J) -> String {
    let objects: BTreeMap<String, Vec<u8>> = repo["objects"]
        .as_object()
        .expect("objects")
        .iter()
        .map(|(name, bytes)| (name.clone(), unhex(bytes.as_str().expect("hex"))))
        .collect();
    hex(&encode_objects(&objects).expect("bundle"))
}

/// The frozen format-1 bundles, from the checked-in file.
fn format1(name: &str) -> J {
    let path = super::vectors_dir().join("backup_bundle.json");
    let text = std::fs::read_to_string(&path).expect("backup_bundle.json");
    let old: J = serde_json::from_str(&text).expect("json");
    let v = old[name].clone();
    assert!(v.is_string(), "{name} missing from {}", path.display());
    v
}

/// The whole file, from `backup.json`'s case.
pub fn backup_bundle(backup: &J) -> J {
    json!({
        "description": "Repository bundles (FORMAT.md §19.9): `plain` and `encrypted` are the repositories of backup.json as one bundle each (objects in name order). Restoring the latest backup of `plain` gives table `users` with digest `final_digest`; of `encrypted` (passphrase as in backup.json) `full_digest`. Built from backup.json by core/tests/vectors_gen/backup_bundle.rs; `plain_format1` and `encrypted_format1` are the same repositories as written by repository format 1 (before row ids; FORMAT.md §19.4), frozen, kept so that readers prove they still read them (same digests). Asserted by core/tests/backup_bundle.rs and tests/js/unit/backup.test.mjs.",
        "final_digest": backup["final_digest"],
        "full_digest": backup["full_digest"],
        "passphrase": backup["passphrase"],
        "plain": bundle_of(&backup["plain"]),
        "encrypted": bundle_of(&backup["encrypted"]),
        "plain_format1": format1("plain_format1"),
        "encrypted_format1": format1("encrypted_format1"),
    })
}
