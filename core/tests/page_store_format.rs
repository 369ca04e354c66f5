//! The page store file's format (FORMAT.md §12 "Page store file") is
//! redb's: a file written by redb 4.1 must keep opening, with the same
//! contents, under whatever redb this build links. If a redb upgrade
//! changes its file format this test fails, and the upgrade needs a
//! directory migration.
//!
//! Fixture: `fixtures/page_store_redb_4_1.lz4`, a store written by
//! `RedbKv` over redb 4.1.0 (closed cleanly), compressed with
//! `lz4_flex::compress_prepend_size` (the 1 MiB file is mostly zeros).
//! Regenerate (only with redb 4.1) with
//! `cargo test -p tablesync --test page_store_format -- --ignored`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use tablesync::storage::kv::{KvBatch, KvSnapshot, KvStore, RedbKv, Space};
use tablesync::storage::vfs::{SimFs, Vfs, VfsFile};

const FILE: &str = "/region/pages.redb";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/page_store_redb_4_1.lz4")
}

/// What the fixture holds: a few entries in each space, keys encoded as
/// the spaces document them, and one removed key.
fn batches() -> Vec<(KvBatch, bool)> {
    let mut first = KvBatch::default();
    for id in 1u64..=3 {
        first.put(Space::Pages, id.to_be_bytes(), vec![id as u8; 5000]);
        first.put(
            Space::Index,
            [&7u32.to_be_bytes()[..], format!("fence-{id}").as_bytes()].concat(),
            id.to_be_bytes(),
        );
        first.put(Space::Log, id.to_be_bytes(), format!("record {id}"));
    }
    first.put(Space::Meta, "head", "region eu, epoch 1");
    let mut second = KvBatch::default();
    second.remove(Space::Pages, 2u64.to_be_bytes());
    second.put(Space::Meta, "covers", 4u64.to_le_bytes());
    vec![(first, false), (second, true)]
}

fn entries(snap: &dyn KvSnapshot, space: Space) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    snap.range(space, &[], None, &mut |k, v| {
        out.push((k.to_vec(), v.to_vec()));
        Ok(ControlFlow::Continue(()))
    })
    .unwrap();
    out
}

#[test]
fn a_file_written_by_redb_4_1_opens_with_its_contents() {
    let packed = std::fs::read(fixture()).unwrap();
    let bytes = lz4_flex::decompress_size_prepended(&packed).unwrap();
    // redb's magic number opens the file.
    assert_eq!(&bytes[..9], b"redb\x1a\x0a\xa9\x0d\x0a");
    let fs = SimFs::new(1);
    fs.create_dir_all(Path::new("/region")).unwrap();
    fs.open_rw(Path::new(FILE))
        .unwrap()
        .write_at(0, &bytes)
        .unwrap();
    let store = RedbKv::open(fs.clone(), Path::new(FILE), 1 << 20).unwrap();
    let snap = store.snapshot().unwrap();
    let pages = entries(&*snap, Space::Pages);
    assert_eq!(
        pages,
        [1u64, 3]
            .map(|id| (id.to_be_bytes().to_vec(), vec![id as u8; 5000]))
            .to_vec()
    );
    let index = entries(&*snap, Space::Index);
    assert_eq!(index.len(), 3);
    assert_eq!(index[1].0, b"\0\0\0\x07fence-2");
    assert_eq!(index[1].1, 2u64.to_be_bytes());
    assert_eq!(
        entries(&*snap, Space::Meta),
        vec![
            (b"covers".to_vec(), 4u64.to_le_bytes().to_vec()),
            (b"head".to_vec(), b"region eu, epoch 1".to_vec()),
        ]
    );
    assert_eq!(
        entries(&*snap, Space::Log)[2],
        (3u64.to_be_bytes().to_vec(), b"record 3".to_vec())
    );
    // And it takes commits.
    let mut b = KvBatch::default();
    b.put(Space::Log, 4u64.to_be_bytes(), "record 4");
    store.commit(&b, true).unwrap();
    assert_eq!(entries(&*store.snapshot().unwrap(), Space::Log).len(), 4);
}

#[test]
#[ignore = "writes the fixture; run by hand with redb 4.1 only"]
fn write_fixture() {
    let fs = SimFs::new(1);
    fs.create_dir_all(Path::new("/region")).unwrap();
    let store = RedbKv::open(fs.clone(), Path::new(FILE), 1 << 20).unwrap();
    for (b, durable) in batches() {
        store.commit(&b, durable).unwrap();
    }
    drop(store);
    let bytes = fs.read(Path::new(FILE)).unwrap();
    std::fs::write(fixture(), lz4_flex::compress_prepend_size(&bytes)).unwrap();
}
