//! `import` / `export` round trips in CSV and JSON Lines keep data and digest.

mod common;
use common::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Rows with every type, special doubles, empty values, a column holding
/// two types, binary keys and a column with three versions.
const SOURCE: &str = r#"{"primary_key":{"uid":1,"tag":{"$binary":"AAE="}},"columns":{"a":36,"b":36.0,"c":"Ada","d":true,"e":{"$binary":"/wA="},"f":""},"timestamps":{"a":1000,"b":1000,"c":1000,"d":1000,"e":1000,"f":1000}}
{"primary_key":{"uid":2,"tag":{"$binary":""}},"columns":{"a":"now a string","b":{"$double":"NaN"},"c":{"$double":"-inf"},"d":-0.0,"e":{"$binary":""}},"timestamps":{"a":2000,"b":2000,"c":2000,"d":2000,"e":2000}}
{"primary_key":{"uid":-9223372036854775808,"tag":{"$binary":"3q2+7w=="}},"columns":{"big":9223372036854775807,"tiny":5e-324,"prec":93.27705554249697,"utf":"héllo, \"world\"\n"},"timestamps":{"big":5,"tiny":5,"prec":5,"utf":5}}
{"primary_key":{"uid":3,"tag":{"$binary":"AA=="}},"columns":{},"timestamps":{}}
"#;

const VERSIONED: &str = r#"{"primary_key":{"uid":4,"tag":{"$binary":"AQ=="}},"columns":{"v":3,"w":"x"},"timestamps":{"v":30,"w":7},"versions":{"v":[[30,3],[20,2.5],[10,"one"]]}}
"#;

fn rows_of(jsonl: &str) -> BTreeMap<String, Json> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let j: Json = serde_json::from_str(l).unwrap();
            (j["primary_key"].to_string(), j)
        })
        .collect()
}

fn setup(tmp: &std::path::Path, extra: &str) -> (String, String) {
    let src = p(tmp, "src.jsonl");
    std::fs::write(&src, format!("{SOURCE}{extra}")).unwrap();
    let db = p(tmp, "db0");
    ok(&[
        "create-table",
        &db,
        "t",
        "--pk",
        "uid:INTEGER",
        "--pk",
        "tag:BINARY",
        "--max-versions",
        "3",
    ]);
    let out = ok(&["import", &db, "t", &src]);
    assert!(out.starts_with("imported "), "{out}");
    (db, src)
}

#[test]
fn jsonl_round_trip_keeps_types_versions_and_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, src) = setup(tmp.path(), VERSIONED);
    let d0 = digest(&db, "t");
    let out1 = p(tmp.path(), "out1.jsonl");
    ok(&["export", &db, "t", &out1]);
    let exported = std::fs::read_to_string(&out1).unwrap();
    // What comes out is what went in, value types and versions included
    // (JSON text may differ only in number spelling, so compare parsed JSON).
    let want = rows_of(&std::fs::read_to_string(&src).unwrap());
    let got = rows_of(&exported);
    assert_eq!(got.len(), 5);
    for (k, w) in &want {
        let g = &got[k];
        assert_eq!(g["columns"], w["columns"], "{k}");
        assert_eq!(g["timestamps"], w["timestamps"], "{k}");
        assert_eq!(g.get("versions"), w.get("versions"), "{k}");
    }
    let row1 = &got[&serde_json::json!({"uid": 1, "tag": {"$binary": "AAE="}}).to_string()];
    assert!(row1["columns"]["a"].is_i64());
    assert!(row1["columns"]["b"].is_f64());
    // A second database loaded from the export has the same digest and exports the same bytes.
    let db2 = p(tmp.path(), "db2");
    ok(&[
        "import",
        &db2,
        "t",
        &out1,
        "--pk",
        "uid:INTEGER",
        "--pk",
        "tag:BINARY",
    ]);
    // The table was created with max_versions 1 this time: older versions are invisible.
    assert_ne!(digest(&db2, "t"), d0);
    let db3 = p(tmp.path(), "db3");
    ok(&[
        "create-table",
        &db3,
        "t",
        "--pk",
        "uid:INTEGER",
        "--pk",
        "tag:BINARY",
        "--max-versions",
        "3",
    ]);
    ok(&["import", &db3, "t", &out1]);
    assert_eq!(digest(&db3, "t"), d0);
    let out3 = p(tmp.path(), "out3.jsonl");
    ok(&["export", &db3, "t", &out3]);
    assert_eq!(std::fs::read_to_string(&out3).unwrap(), exported);
}

#[test]
fn csv_round_trip_keeps_types_empties_and_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _) = setup(tmp.path(), "");
    let d0 = digest(&db, "t");
    let csv1 = p(tmp.path(), "out.csv");
    ok(&["export", &db, "t", &csv1]);
    let text = std::fs::read_to_string(&csv1).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("uid:INTEGER,tag:BINARY,"), "{header}");
    assert!(
        header.contains("a:INTEGER,a:STRING,a:TIMESTAMP"),
        "{header}"
    );
    assert!(
        header.contains("d:DOUBLE,d:BOOLEAN,d:TIMESTAMP"),
        "{header}"
    );
    let db2 = p(tmp.path(), "db2");
    ok(&[
        "import",
        &db2,
        "t",
        &csv1,
        "--pk",
        "uid:INTEGER",
        "--pk",
        "tag:BINARY",
    ]);
    assert_eq!(digest(&db2, "t"), d0);
    // Same rows, as JSON, from both databases.
    let j1 = p(tmp.path(), "a.jsonl");
    let j2 = p(tmp.path(), "b.jsonl");
    ok(&["export", &db, "t", &j1]);
    ok(&["export", &db2, "t", &j2]);
    assert_eq!(
        std::fs::read_to_string(&j1).unwrap(),
        std::fs::read_to_string(&j2).unwrap()
    );
    // Export to stdout works too.
    let stdout = ok(&["export", &db2, "t", "-", "--format", "csv"]);
    assert_eq!(stdout, text);
}

#[test]
fn csv_cannot_hold_several_versions_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, _) = setup(tmp.path(), VERSIONED);
    let line = fails(
        &["export", &db, "t", &p(tmp.path(), "x.csv")],
        "OTSParameterInvalid",
    );
    assert!(line.contains("jsonl"), "{line}");
    assert!(!tmp.path().join("x.csv").exists());
}

#[test]
fn import_without_timestamps_stamps_values_now() {
    let tmp = tempfile::tempdir().unwrap();
    let src = p(tmp.path(), "plain.csv");
    std::fs::write(
        &src,
        "uid:INTEGER,name:STRING,score:DOUBLE\n1,Ada,1\n2,Bob,\n1,Ada Again,2.5\n",
    )
    .unwrap();
    let db = p(tmp.path(), "db");
    let out = ok(&["import", &db, "people", &src, "--pk", "uid:INTEGER"]);
    assert!(out.contains("imported 3 rows"), "{out}");
    let row: Json = serde_json::from_str(&ok(&["get", &db, "people", "--pk", "uid=1"])).unwrap();
    // The later line for the same key wins, and "1"/"2.5" are DOUBLEs by the header.
    assert_eq!(row["columns"]["name"], "Ada Again");
    assert!(row["columns"]["score"].is_f64());
    let bob: Json = serde_json::from_str(&ok(&["get", &db, "people", "--pk", "uid=2"])).unwrap();
    assert!(bob["columns"].get("score").is_none(), "{bob}");
    assert!(bob["timestamps"]["name"].as_i64().unwrap() > 1_600_000_000_000);
}
