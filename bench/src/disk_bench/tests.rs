//! The bench's own checks (run by `cargo test -p tablesync-bench --bins`):
//! the row bytes are a region's, and every engine reads back what it loaded.

use crate::engine::{batches, Engine, BATCH};
use crate::row_bytes;

#[test]
fn row_bytes_are_what_an_in_memory_region_stores() {
    row_bytes::check_against_database(300).unwrap();
}

#[test]
fn row_bytes_decode_to_the_seven_columns() {
    assert_eq!(row_bytes::decode(&row_bytes::state(42)).unwrap(), 7);
    assert!(row_bytes::decode(&row_bytes::state(42)[..10]).is_err());
}

#[test]
fn batches_cover_every_row_once() {
    let b: Vec<_> = batches(2 * BATCH + 1).collect();
    let last = 2 * BATCH as i64 + 1;
    assert_eq!(b, [(1, 200), (201, 400), (last, last)]);
    assert_eq!(batches(BATCH).count(), 1);
}

#[test]
fn every_engine_reads_back_what_it_loaded() {
    let n = 1_000;
    for e in Engine::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("store");
        e.load(&path, n, 8 << 20).unwrap();
        let mut r = e.open(&path, 8 << 20).unwrap();
        for uid in [1, 500, n as i64] {
            assert!(r.get(uid).unwrap(), "{}: row {uid}", e.name());
        }
        assert!(
            !r.get(n as i64 + 1).unwrap(),
            "{}: a row never put",
            e.name()
        );
        assert_eq!(r.scan(n).unwrap(), n, "{}", e.name());
        assert_eq!(r.scan(10).unwrap(), 10, "{}", e.name());
        assert_eq!(r.scan_raw(n + 5).unwrap(), n, "{}", e.name());
        assert_eq!(Engine::parse(e.name()), Some(e));
    }
}
