//! `tablesync cluster …` on a map file: epochs, placements, splits, moves,
//! routes, and one-line errors.

mod common;
use common::*;
use serde_json::Value as Json;

#[test]
fn cluster_map_file_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let f = p(tmp.path(), "map.tscm");
    let out = ok(&[
        "cluster",
        "init",
        &f,
        "--dc",
        "eu=eu-1@http://127.0.0.1:7701",
        "--dc",
        "us=us-1@http://127.0.0.1:7702,us-2@http://127.0.0.1:7703",
        "--dc",
        "ap=ap-1@http://127.0.0.1:7704",
    ]);
    assert!(out.contains("epoch 1"), "{out}");
    ok(&[
        "cluster",
        "add-table",
        &f,
        "users",
        "--hash",
        "4096",
        "--rf",
        "2",
        "--mode",
        "sync:QUORUM",
    ]);
    ok(&[
        "cluster",
        "add-table",
        &f,
        "events",
        "--split",
        "100",
        "--split",
        "200",
        "--rf",
        "2",
        "--mode",
        "semi-sync:500",
    ]);
    let out = ok(&["cluster", "split", &f, "events", "1", "150"]);
    assert!(
        out.contains("new partition 3") && out.contains("epoch 4"),
        "{out}"
    );
    ok(&["cluster", "move", &f, "events", "3", "ap,eu"]);
    let route: Json =
        serde_json::from_str(&ok(&["cluster", "route", &f, "events", "170"])).unwrap();
    assert_eq!(route["partition"], 3);
    assert_eq!(route["epoch"], 5);
    assert_eq!(route["replicas"][0]["datacenter"], "ap");
    assert_eq!(route["replicas"][1]["region"], "eu-1");
    ok(&["cluster", "set-mode", &f, "users", "sync:2"]);
    ok(&["cluster", "add-dc", &f, "sa=sa-1@http://127.0.0.1:7705"]);
    let show: Json = serde_json::from_str(&ok(&["cluster", "show", &f])).unwrap();
    assert_eq!(show["epoch"], 7);
    assert_eq!(show["datacenters"].as_array().unwrap().len(), 4);
    let users = &show["tables"][0];
    assert_eq!(users["write_mode"], "sync(DCS(2))");
    let homes = users["placement"]["home_buckets"].as_object().unwrap();
    assert_eq!(
        homes.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        4096
    );
    assert!(
        homes.contains_key("sa"),
        "the new datacenter leads some buckets"
    );
    let parts = show["tables"][1]["placement"]["partitions"]
        .as_array()
        .unwrap();
    let bounds: Vec<(Json, Json)> = parts
        .iter()
        .map(|p| (p["start"].clone(), p["end"].clone()))
        .collect();
    assert_eq!(
        bounds,
        vec![
            (Json::from("INF_MIN"), Json::from(100)),
            (Json::from(100), Json::from(150)),
            (Json::from(150), Json::from(200)),
            (Json::from(200), Json::from("INF_MAX")),
        ]
    );
    ok(&["cluster", "remove-dc", &f, "ap"]);
    let route: Json =
        serde_json::from_str(&ok(&["cluster", "route", &f, "events", "170"])).unwrap();
    assert_eq!(
        route["replicas"][0]["datacenter"], "eu",
        "the first remaining replica leads"
    );

    // Errors: one line with a code, the file unchanged.
    for (args, code) in [
        (
            vec!["cluster", "move", &f, "events", "9", "us,eu"],
            "OTSParameterInvalid",
        ),
        (
            vec!["cluster", "set-mode", &f, "users", "sync:bogus"],
            "OTSParameterInvalid",
        ),
        (
            vec!["cluster", "split", &f, "events", "0", "500"],
            "OTSParameterInvalid",
        ),
        (
            vec!["cluster", "add-table", &f, "users", "--hash", "8"],
            "OTSObjectAlreadyExist",
        ),
        (
            vec!["cluster", "init", &f, "--dc", "x=y@z"],
            "OTSParameterInvalid",
        ),
    ] {
        let r = tablesync(&args);
        assert!(!r.ok, "{args:?}");
        assert!(
            r.stderr.starts_with(&format!("error: {code}: ")),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1);
    }
    let show: Json = serde_json::from_str(&ok(&["cluster", "show", &f])).unwrap();
    assert_eq!(show["epoch"], 8);
    std::fs::write(&f, b"TSCM garbage").unwrap();
    let r = tablesync(&["cluster", "show", &f]);
    assert!(r.stderr.starts_with("error: CorruptData: "), "{}", r.stderr);
}
