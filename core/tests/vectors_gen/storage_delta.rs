//! `storage_delta.json`: a directory-format-4 chain (delta frames version 2, with purged keys) (FORMAT.md §12 "Delta
//! checkpoint file"): a full checkpoint file, two delta files on it, and
//! the snapshot (§11) of the region they give back.

use super::json::hex;
use serde_json::{json, Value as J};
use std::path::Path;
use std::sync::Arc;
use tablesync::storage::fs::{decode_delta, DeltaLink};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    SyncPolicy, TableSchema,
};

fn options(clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .checkpoint_bytes(u64::MAX)
}

fn put(db: &mut Database, table: &str, k: i64, v: &str) {
    db.put_row(
        table,
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .expect("put");
}

fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("k", PkType::Integer)])
}

/// The chain's files, in order: `(name, bytes)`, and the region's snapshot.
pub fn chain(dir: &Path) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let clock = ManualClock::new(1_700_000_000_000);
    let mut db = Database::open(dir, options(&clock)).expect("open");
    db.create_table(schema("a")).expect("create");
    db.create_table(schema("b")).expect("create");
    for k in 0..40 {
        clock.advance(1);
        put(&mut db, "a", k, &format!("a{k}"));
        put(&mut db, "b", k, &format!("b{k}"));
    }
    db.checkpoint().expect("full checkpoint");
    clock.advance(10);
    put(&mut db, "a", 3, "changed");
    db.delete_row("a", PrimaryKey::new([("k", 4)]), Condition::ignore())
        .expect("delete");
    db.delete_table("b").expect("delete table");
    db.create_table(schema("c")).expect("create");
    put(&mut db, "c", 1, "c1");
    db.checkpoint().expect("delta 1");
    clock.advance(10);
    put(&mut db, "c", 2, "c2");
    // Purged rows (FORMAT.md §9 PURGE_ROWS) leave the delta as purged keys.
    db.purge_rows(
        "a",
        &[PrimaryKey::new([("k", 5)]), PrimaryKey::new([("k", 6)])],
    )
    .expect("purge");
    let cut = db.next_cursor().expect("cursor") - 2;
    db.truncate_log(cut).expect("truncate");
    db.checkpoint().expect("delta 2");
    let snapshot = db.export_snapshot().expect("snapshot");
    drop(db);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    names.sort();
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
pub fn storage_delta() -> J {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (files, snapshot) = chain(&tmp.path().join("db"));
    json!({
        "region": "eu",
        "files": files.iter().map(|(n, b)| {
            let next: u64 = n["checkpoint-".len().."checkpoint-".len() + 20].parse().expect("number");
            let link = n.ends_with(".delta").then(|| {
                link_json(decode_delta(b.clone(), n, next).expect("delta").0)
            });
            json!({ "name": n, "link": link, "hex": hex(b) })
        }).collect::<Vec<_>>(),
        "snapshot_hex": hex(&snapshot),
    })
}
