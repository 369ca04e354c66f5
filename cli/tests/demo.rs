//! `tablesync demo` end to end in a temporary directory.

mod common;
use common::*;

fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no line starting {label:?} in:\n{out}"))
        .trim()
}

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
    assert!(out.lines().last().unwrap().starts_with("OK:"));
    // The directory is a working database afterwards.
    let db = p(tmp.path(), "demo/db");
    assert_eq!(digest(&db, "users"), before);
    let row = ok(&["get", &db, "users", "--pk", "uid=12"]);
    assert!(row.contains("\"name\":\"Ada Lovelace\""), "{row}");
    assert_eq!(ok(&["get", &db, "users", "--pk", "uid=5"]).trim(), "null");
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
