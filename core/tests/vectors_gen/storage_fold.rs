//! `storage_fold.json`: a directory-format-4 chain after a background fold
//! (FORMAT.md §12 "Background fold"): the manifest, the folded full
//! checkpoint, a delta written while the fold ran (its `base` is the
//! chain's older full checkpoint) and one written after it, and the
//! snapshot (§11) of the region they give back.

use super::json::hex;
use serde_json::{json, Value as J};
use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::{decode_delta, DeltaLink, MANIFEST_FILE};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema,
};

fn put(db: &mut Database, k: i64, v: &str) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .expect("put");
}

/// The directory's files after the fold: `(name, bytes)` (the manifest
/// first, then the checkpoint files in name order), and the region's snapshot.
pub fn chain(dir: &Path) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let clock = ManualClock::new(1_700_000_000_000);
    let options = DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX);
    let mut db = Database::open(dir, options).expect("open");
    db.set_background_folds(true);
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .expect("create");
    for k in 0..20 {
        clock.advance(1);
        put(&mut db, k, &format!("v{k}"));
    }
    db.checkpoint().expect("full checkpoint");
    clock.advance(10);
    put(&mut db, 3, "changed before the fold");
    db.checkpoint().expect("delta 1");
    let fold = db.begin_fold().expect("begin").expect("a fold");
    clock.advance(10);
    put(&mut db, 4, "changed while folding");
    db.checkpoint().expect("delta 2, on the chain being folded");
    assert!(db.finish_fold(fold.run()).expect("finish"), "installed");
    clock.advance(10);
    put(&mut db, 5, "changed after the fold");
    db.checkpoint().expect("delta 3, on the folded checkpoint");
    let snapshot = db.export_snapshot().expect("snapshot");
    drop(db);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    names.sort();
    names.insert(0, MANIFEST_FILE.to_string());
    let files = names
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).expect("read");
            (n, b)
        })
        .collect();
    (files, snapshot)
}

fn link_json(l: DeltaLink) -> J {
    json!({
        "base": l.base.to_string(),
        "prev": l.prev.to_string(),
        "next_seq": l.next_seq.to_string(),
    })
}

/// The whole file.
pub fn storage_fold() -> J {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (files, snapshot) = chain(&tmp.path().join("db"));
    let manifest = &files[0].1;
    json!({
        "region": "eu",
        "manifest_hex": hex(manifest),
        "files": files[1..].iter().map(|(n, b)| {
            let next: u64 = n["checkpoint-".len().."checkpoint-".len() + 20].parse().expect("number");
            let link = n.ends_with(".delta").then(|| {
                link_json(decode_delta(b.clone(), n, next).expect("delta").0)
            });
            json!({ "name": n, "link": link, "hex": hex(b) })
        }).collect::<Vec<_>>(),
        "snapshot_hex": hex(&snapshot),
    })
}
