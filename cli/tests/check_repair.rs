//! `tablesync check DIR` (read-only) and `tablesync repair DIR` (keeps what
//! it removes), issue 12.

mod common;
use common::*;

#[test]
fn check_finds_a_damaged_tail_and_repair_cuts_it_keeping_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let db = p(tmp.path(), "db");
    // Rows in memory: the log stays in segments after the import (a paged
    // region's close moves it into its page store).
    load_with(
        tmp.path(),
        &db,
        "users",
        &[(1, "a", 1), (2, "b", 2), (3, "c", 3)],
        &["--rows-in-memory"],
    );
    let out = ok(&["check", &db]);
    assert!(out.lines().last() == Some("ok"), "{out}");
    assert!(out.contains("table       users"), "{out}");

    let seg = std::path::Path::new(&db).join("wal-00000000000000000001.log");
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x33;
    std::fs::write(&seg, &bytes).unwrap();

    let r = tablesync(&["check", &db]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("PROBLEM"), "{}", r.stdout);
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "check changed nothing");

    let out = ok(&["repair", &db]);
    assert!(out.contains("repaired    cut"), "{out}");
    assert!(out.lines().last() == Some("ok"), "{out}");
    let kept = std::fs::read_dir(&db)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.contains(".torn-"))
        .count();
    assert_eq!(kept, 1);
    ok(&["check", &db]);
}
