//! `tablesync export REPO TABLE FILE [--backup ID | --at TIME | --at-stamp N]`:
//! a table as of a point in a backup repository, as CSV or JSON Lines,
//! byte-identical to an export of the live directory at that point.

mod common;
use common::*;
use serde_json::Value as Json;

fn json(s: &str) -> Json {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn put(db: &str, uid: i64, name: &str) {
    let uid = format!("uid={uid}");
    let name = format!("name:STRING={name}");
    ok(&["put", db, "users", "--pk", &uid, "--col", &name]);
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn export_a_table_as_of_a_backup_point() {
    let tmp = tempfile::tempdir().unwrap();
    let db = p(tmp.path(), "db");
    ok(&[
        "--region",
        "eu",
        "create-table",
        &db,
        "users",
        "--pk",
        "uid:INTEGER",
    ]);
    for i in 0..10 {
        put(&db, i, &format!("user {i}"));
    }
    let repo = p(tmp.path(), "repo");
    let first = json(&ok(&["backup", "create", &db, &repo, "--json"]));
    let live1_jsonl = p(tmp.path(), "live1.jsonl");
    let live1_csv = p(tmp.path(), "live1.csv");
    ok(&["export", &db, "users", &live1_jsonl]);
    ok(&["export", &db, "users", &live1_csv]);
    put(&db, 3, "changed");
    put(&db, 42, "added");
    ok(&["delete", &db, "users", "--pk", "uid=5"]);
    let second = json(&ok(&["backup", "create", &db, &repo, "--json"]));
    assert_eq!(second["kind"], "incremental");
    let live2 = p(tmp.path(), "live2.jsonl");
    ok(&["export", &db, "users", &live2]);
    assert_ne!(read(&live1_jsonl), read(&live2));

    // By backup id, by stamp, and the latest: each equals the live export then.
    let out = p(tmp.path(), "b1.jsonl");
    let id = first["id"].as_str().unwrap();
    ok(&["export", &repo, "users", &out, "--backup", &id[..8]]);
    assert_eq!(read(&out), read(&live1_jsonl));
    let out = p(tmp.path(), "s1.csv");
    let stamp = first["point"].as_u64().unwrap().to_string();
    ok(&["export", &repo, "users", &out, "--at-stamp", &stamp]);
    assert_eq!(read(&out), read(&live1_csv));
    let out = p(tmp.path(), "latest.jsonl");
    ok(&["export", &repo, "users", &out]);
    assert_eq!(read(&out), read(&live2));
    // A time before any write: the table is empty.
    let out = p(tmp.path(), "empty.jsonl");
    ok(&[
        "export",
        &repo,
        "users",
        &out,
        "--at",
        "2000-01-01T00:00:00Z",
    ]);
    assert_eq!(read(&out), "");
    // Standard output, JSON Lines.
    let stdout = ok(&["export", &repo, "users", "-", "--at-stamp", &stamp]);
    assert_eq!(stdout, read(&live1_jsonl));
    assert_eq!(stdout.lines().count(), 10);
    // A live directory has no history to go back to.
    fails(
        &[
            "export",
            &db,
            "users",
            &p(tmp.path(), "x.jsonl"),
            "--at-stamp",
            &stamp,
        ],
        "OTSParameterInvalid",
    );
}
