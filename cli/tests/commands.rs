//! Row commands, scans, the log, and one-line errors for bad input.

mod common;
use common::*;
use serde_json::Value as Json;

fn lines(s: &str) -> Vec<Json> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn table(tmp: &std::path::Path) -> String {
    let db = p(tmp, "db");
    ok(&[
        "create-table",
        &db,
        "users",
        "--pk",
        "uid:INTEGER",
        "--pk",
        "name:STRING",
    ]);
    for (uid, name) in [(1, "a"), (1, "b"), (2, "a"), (3, "z"), (5, "m")] {
        let uid = format!("uid={uid}");
        let name = format!("name={name}");
        ok(&[
            "put",
            &db,
            "users",
            "--pk",
            &uid,
            "--pk",
            &name,
            "--col",
            "n=1",
            "--col",
            "s:STRING=x y",
        ]);
    }
    db
}

#[test]
fn put_get_delete_and_conditions() {
    let tmp = tempfile::tempdir().unwrap();
    let db = table(tmp.path());
    let out = ok(&[
        "put",
        &db,
        "users",
        "--pk",
        "name=q",
        "--pk",
        "uid=9",
        "--col",
        "age=36",
        "--col",
        "score=2.0",
        "--col",
        "ok=true",
        "--col",
        "b:BINARY=AAEC",
        "--timestamp",
        "1234",
    ]);
    assert_eq!(out.trim(), "put {\"uid\":9,\"name\":\"q\"}");
    let row: Json = serde_json::from_str(&ok(&[
        "get", &db, "users", "--pk", "uid=9", "--pk", "name=q",
    ]))
    .unwrap();
    assert_eq!(row["columns"]["age"], 36);
    assert!(row["columns"]["age"].is_i64());
    assert!(row["columns"]["score"].is_f64());
    assert_eq!(row["columns"]["b"]["$binary"], "AAEC");
    assert_eq!(row["timestamps"]["ok"], 1234);
    fails(
        &[
            "put",
            &db,
            "users",
            "--pk",
            "uid=9",
            "--pk",
            "name=q",
            "--col",
            "x=1",
            "--condition",
            "expect-not-exist",
        ],
        "OTSConditionCheckFail",
    );
    ok(&[
        "delete",
        &db,
        "users",
        "--pk",
        "uid=9",
        "--pk",
        "name=q",
        "--condition",
        "expect-exist",
    ]);
    assert_eq!(
        ok(&["get", &db, "users", "--pk", "uid=9", "--pk", "name=q"]).trim(),
        "null"
    );
    fails(
        &[
            "delete",
            &db,
            "users",
            "--pk",
            "uid=9",
            "--pk",
            "name=q",
            "--condition",
            "expect-exist",
        ],
        "OTSConditionCheckFail",
    );
    let tables = ok(&["tables", &db]);
    assert!(
        tables.starts_with("users\tkey=uid:INTEGER,name:STRING"),
        "{tables}"
    );
    assert!(tables.contains("rows=5"), "{tables}");
}

#[test]
fn scan_bounds_limit_and_direction() {
    let tmp = tempfile::tempdir().unwrap();
    let db = table(tmp.path());
    let keys = |out: &str| -> Vec<(i64, String)> {
        lines(out)
            .iter()
            .map(|r| {
                (
                    r["primary_key"]["uid"].as_i64().unwrap(),
                    r["primary_key"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let all = keys(&ok(&["scan", &db, "users"]));
    assert_eq!(
        all,
        vec![
            (1, "a".into()),
            (1, "b".into()),
            (2, "a".into()),
            (3, "z".into()),
            (5, "m".into())
        ]
    );
    let mid = keys(&ok(&[
        "scan", &db, "users", "--start", "uid=1", "--end", "uid=3",
    ]));
    assert_eq!(mid, all[..3].to_vec());
    let back = keys(&ok(&[
        "scan",
        &db,
        "users",
        "--backward",
        "--start",
        "uid=3",
        "--end",
        "uid=1",
    ]));
    assert_eq!(back, vec![(3, "z".into()), (2, "a".into())]);
    let lim = keys(&ok(&["scan", &db, "users", "--backward", "--limit", "2"]));
    assert_eq!(lim, vec![(5, "m".into()), (3, "z".into())]);
    let exact = keys(&ok(&[
        "scan",
        &db,
        "users",
        "--start",
        "uid=1",
        "--start",
        "name=b",
        "--end",
        "uid=INF_MAX",
    ]));
    assert_eq!(exact, all[1..].to_vec());
    fails(
        &["scan", &db, "users", "--start", "uid=3", "--end", "uid=1"],
        "OTSParameterInvalid",
    );
}

#[test]
fn log_prints_records_as_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let db = table(tmp.path());
    ok(&["delete", &db, "users", "--pk", "uid=1", "--pk", "name=a"]);
    let recs = lines(&ok(&["log", &db]));
    assert_eq!(recs.len(), 6);
    assert_eq!(recs[0]["cursor"], 1);
    assert_eq!(recs[0]["kind"], "PUT");
    // The origin is the directory's region, recorded in its MANIFEST.
    let region = tablesync::storage::fs::read_manifest(
        &tablesync::storage::vfs::RealFs,
        std::path::Path::new(&db),
    )
    .unwrap()
    .expect("a MANIFEST")
    .region;
    assert!(!std::path::Path::new(&db).join("REGION").exists());
    assert_eq!(recs[0]["origin"], region.as_str());
    assert!(region.starts_with("db-"), "{region}");
    assert_eq!(recs[0]["columns"][0]["op"], "PUT");
    assert_eq!(recs[5]["kind"], "DELETE");
    assert_eq!(
        recs[5]["primary_key"],
        serde_json::json!({"uid": 1, "name": "a"})
    );
    let tail = lines(&ok(&["log", &db, "--since", "5", "--limit", "1"]));
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0]["cursor"], 5);
}

#[test]
fn bad_input_fails_with_one_line_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = table(tmp.path());
    let before = digest(&db, "users");
    let u = "users";
    fails(
        &["put", &db, u, "--pk", "uid=x", "--pk", "name=a"],
        "OTSParameterInvalid",
    );
    fails(&["put", &db, u, "--pk", "uid=1"], "OTSParameterInvalid");
    fails(
        &[
            "put", &db, u, "--pk", "uid=1", "--pk", "name=a", "--col", "n=Ada",
        ],
        "OTSParameterInvalid",
    );
    fails(
        &[
            "put",
            &db,
            u,
            "--pk",
            "uid=1",
            "--pk",
            "name=a",
            "--col",
            "n=99999999999999999999",
        ],
        "OTSParameterInvalid",
    );
    fails(
        &[
            "put", &db, u, "--pk", "uid=1", "--pk", "name=a", "--col", "uid=1",
        ],
        "OTSParameterInvalid",
    );
    fails(
        &["put", &db, "nosuch", "--pk", "uid=1"],
        "OTSObjectNotExist",
    );
    fails(
        &["get", &p(tmp.path(), "missing"), u, "--pk", "uid=1"],
        "FileIo",
    );
    fails(
        &["create-table", &db, u, "--pk", "uid:INTEGER"],
        "OTSObjectAlreadyExist",
    );
    fails(
        &["create-table", &db, "t2", "--pk", "uid:FLOAT"],
        "OTSParameterInvalid",
    );
    fails(
        &[
            "create-table",
            &db,
            "t2",
            "--pk",
            "uid:INTEGER",
            "--ttl",
            "5",
        ],
        "OTSParameterInvalid",
    );
    fails(&["bogus"], "UsageError");
    fails(&["put", &db], "UsageError");
    // A bad line anywhere in an import file: nothing is written, the table is not created.
    let bad = p(tmp.path(), "bad.jsonl");
    std::fs::write(&bad, "{\"primary_key\":{\"uid\":7,\"name\":\"ok\"},\"columns\":{\"n\":1}}\n{\"primary_key\":{\"uid\":\"8\",\"name\":\"x\"}}\n").unwrap();
    let line = fails(&["import", &db, u, &bad], "InvalidInput");
    assert!(line.contains("line 2"), "{line}");
    fails(
        &[
            "import",
            &db,
            "fresh",
            &bad,
            "--pk",
            "uid:INTEGER",
            "--pk",
            "name:STRING",
        ],
        "InvalidInput",
    );
    let badcsv = p(tmp.path(), "bad.csv");
    std::fs::write(
        &badcsv,
        "uid:INTEGER,name:STRING,n:INTEGER\n1,a,2\n2,b,two\n",
    )
    .unwrap();
    let line = fails(&["import", &db, u, &badcsv], "InvalidInput");
    assert!(line.contains("line 3"), "{line}");
    std::fs::write(&badcsv, "uid:INTEGER,n:INTEGER\n1,2\n").unwrap();
    fails(&["import", &db, u, &badcsv], "InvalidInput");
    std::fs::write(&bad, b"{\"primary_key\":{\"uid\":7,\"name\":\"\xff\"}}\n").unwrap();
    fails(&["import", &db, u, &bad], "InvalidInput");
    fails(&["import", &db, u, &p(tmp.path(), "nothing.csv")], "FileIo");
    fails(
        &["import", &db, u, &p(tmp.path(), "file.txt")],
        "OTSParameterInvalid",
    );
    assert_eq!(digest(&db, u), before);
    assert_eq!(ok(&["tables", &db]).lines().count(), 1);
    assert_eq!(lines(&ok(&["log", &db])).len(), 5);
}

/// Paged by default: a new directory keeps its rows in its page store
/// (directory format 5) behind `--cache-bytes` (256 MiB unless given);
/// `check` reads the page store; `--rows-in-memory` keeps a directory's
/// rows in memory, and such a directory converts on an open without it.
#[test]
fn cache_bytes_makes_a_paged_region() {
    let tmp = tempfile::tempdir().unwrap();
    let db = p(tmp.path(), "paged");
    let rows: Vec<(i64, String, i64)> = (0..3000)
        .map(|k| (k, format!("value-{k}-{}", "x".repeat(60)), 1000 + k))
        .collect();
    let rows_ref: Vec<(i64, &str, i64)> =
        rows.iter().map(|(k, v, t)| (*k, v.as_str(), *t)).collect();
    ok(&[
        "--cache-bytes",
        "64KiB",
        "create-table",
        &db,
        "t",
        "--pk",
        "uid:INTEGER",
    ]);
    load(tmp.path(), &db, "t", &rows_ref);
    assert!(std::path::Path::new(&db).join("pages.redb").exists());
    assert_eq!(
        value(&db, "t", 1234).as_deref(),
        Some(rows[1234].1.as_str())
    );
    let d = digest(&db, "t");
    let out = ok(&["check", &db]);
    assert!(out.contains(&d), "{out}");
    fails(
        &[
            "--cache-bytes",
            "12 parsecs",
            "get",
            &db,
            "t",
            "--pk",
            "uid=1",
        ],
        "UsageError",
    );

    fails(
        &["--rows-in-memory", "--cache-bytes", "1MiB", "tables", &db],
        "UsageError",
    );

    // The default: paged, with no flag at all.
    let plain = p(tmp.path(), "plain");
    load(tmp.path(), &plain, "t", &rows_ref[..100]);
    assert!(std::path::Path::new(&plain).join("pages.redb").exists());

    // A directory made with --rows-in-memory converts on an open without it.
    let mem = p(tmp.path(), "mem");
    ok(&[
        "--rows-in-memory",
        "create-table",
        &mem,
        "t",
        "--pk",
        "uid:INTEGER",
    ]);
    load_with(
        tmp.path(),
        &mem,
        "t",
        &rows_ref[..100],
        &["--rows-in-memory"],
    );
    let before = ok(&["--rows-in-memory", "digest", &mem, "t", "--verify"]);
    assert!(!std::path::Path::new(&mem).join("pages.redb").exists());
    assert_eq!(digest(&mem, "t"), before.trim());
    assert!(std::path::Path::new(&mem).join("pages.redb").exists());
}
