//! `tablesync demo` end to end in a temporary directory.

mod common;
use common::*;

#[test]
fn demo_survives_reopen_with_the_same_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "demo");
    let out = ok(&["demo", "--rows", "2000", "--dir", &dir]);
    let before = field(&out, "digest before close:");
    let after = field(&out, "digest after reopen:");
    assert_eq!(before.len(), 64);
    assert_eq!(before, after);
    assert!(out.contains("rows: 1990"), "{out}");
    assert!(out.contains("OTSConditionCheckFail"), "{out}");
    assert!(out.contains("OK: digest, row count and updates survived close and reopen"));
    assert!(out
        .lines()
        .last()
        .unwrap()
        .starts_with("OK: regions 'eu' and 'us'"));
    // The directory is a working database afterwards.
    let db = p(tmp.path(), "demo/db");
    let row = ok(&["get", &db, "users", "--pk", "uid=12"]);
    assert!(row.contains("\"name\":\"Ada Lovelace\""), "{row}");
    assert_eq!(ok(&["get", &db, "users", "--pk", "uid=5"]).trim(), "null");
    // The two-region part: a pull of 3 changes in one round trip, a
    // truncated log that incremental cannot serve, auto falling back to
    // reconcile and moving only the differing rows, and equal final digests.
    let two = &out[out
        .find("==> second durable region 'us'")
        .expect("two-region part")..];
    let pull =
        &two[two.find("==> incremental pull").unwrap()..two.find("==> incremental push").unwrap()];
    assert_eq!(field(pull, "round trips:"), "1", "{pull}");
    assert_eq!(field(pull, "into us:"), "3 records, 0 rows", "{pull}");
    assert!(two.contains("incremental sync now fails: LogGap"), "{two}");
    let heal = &two[two.find("==> auto sync").unwrap()..two.find("==> final digests").unwrap()];
    assert!(
        field(heal, "mode:").starts_with("auto → reconcile"),
        "{heal}"
    );
    assert!(field(heal, "verified:").starts_with("yes"), "{heal}");
    let moved = field(heal, "rows moved:");
    let n: u64 = moved.split(' ').next().unwrap().parse().unwrap();
    assert!((55..=120).contains(&n), "{moved}");
    assert!(moved.contains("of 1992 rows"), "{moved}");
    let eu = field(two, "'eu' digest:");
    let us = field(two, "'us' digest:");
    assert_eq!(eu.len(), 64);
    assert_eq!(eu, us);
    // Both directories are working regions with that digest.
    assert_eq!(digest(&p(tmp.path(), "demo/db-b"), "users"), us);
    assert_eq!(digest(&db, "users"), eu);
    let r = tablesync(&["verify", &db, &p(tmp.path(), "demo/db-b")]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    // Running it again wipes and rebuilds the same directory.
    let again = ok(&["demo", "--rows", "100", "--dir", &dir]);
    assert!(again.contains("rows: 90"), "{again}");
}

#[test]
fn demo_refuses_to_wipe_a_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("precious.txt");
    std::fs::write(&keep, "keep me").unwrap();
    fails(
        &[
            "demo",
            "--rows",
            "100",
            "--dir",
            &tmp.path().to_string_lossy(),
        ],
        "FileIo",
    );
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "keep me");
}
