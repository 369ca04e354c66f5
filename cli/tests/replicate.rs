//! `replicate`, `status`, `failover` and `failback` between directories.

mod common;
use common::*;

#[test]
fn replicate_runs_a_link_keeps_its_state_and_status_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (p(tmp.path(), "a"), p(tmp.path(), "b"));
    load(tmp.path(), &a, "t", &[(1, "x", 1000), (2, "y", 1000)]);
    load(tmp.path(), &b, "t", &[(3, "z", 1000)]);
    let plot = p(tmp.path(), "lag.svg");
    let r = tablesync(&[
        "replicate",
        &a,
        &b,
        "--direction",
        "both",
        "--duration",
        "1s",
        "--load",
        "50",
        "--load-bytes",
        "16",
        "--plot",
        &plot,
    ]);
    assert!(r.ok, "{}{}", r.stderr, r.stdout);
    assert_eq!(digest(&a, "t"), digest(&b, "t"));
    assert_eq!(digest(&a, "load"), digest(&b, "load"));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("replication lag"),
        "{}",
        &svg[..200.min(svg.len())]
    );
    let status = ok(&["status", &a]);
    assert!(status.contains("to-"), "{status}");
    assert!(status.contains("realtime"), "{status}");
    // The saved link resumes: a manual run later moves the new row.
    ok(&["put", &a, "t", "--pk", "uid=9", "--col", "v=\"late\""]);
    ok(&[
        "replicate",
        &a,
        &b,
        "--trigger",
        "manual",
        "--duration",
        "1s",
    ]);
    assert_eq!(value(&b, "t", 9).as_deref(), Some("late"));
    fails(
        &["replicate", &a, &b, "--trigger", "sometimes"],
        "OTSParameterInvalid",
    );
}

#[test]
fn failover_reports_lost_writes_and_failback_resyncs_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (eu, us) = (p(tmp.path(), "eu"), p(tmp.path(), "us"));
    load(tmp.path(), &eu, "t", &[(1, "a", 1000), (2, "b", 1000)]);
    ok(&["sync", &eu, &us]);
    ok(&["put", &eu, "t", "--pk", "uid=3", "--col", "v=\"unsynced\""]);
    let out = ok(&["failover", &eu, &us, "--promote", &region_of(&us)]);
    assert!(out.contains("epoch 2"), "{out}");
    assert!(
        out.contains("seq 3..=3"),
        "the unreplicated write is reported: {out}"
    );
    // The old primary now refuses writes; the new one takes them.
    fails(
        &["put", &eu, "t", "--pk", "uid=4", "--col", "v=\"stale\""],
        "StaleEpoch",
    );
    ok(&["put", &us, "t", "--pk", "uid=5", "--col", "v=\"new\""]);
    fails(
        &["failover", &eu, &us, "--promote", &region_of(&eu)],
        "OTSParameterInvalid",
    );
    let out = ok(&["failback", &eu, "--primary", &us]);
    assert!(out.contains("digests match"), "{out}");
    assert!(out.contains("epoch 3"), "{out}");
    assert_eq!(
        value(&us, "t", 3).as_deref(),
        Some("unsynced"),
        "merged back, not dropped"
    );
    let status = ok(&["status", &us]);
    assert!(status.contains("epoch 3"), "{status}");
    ok(&["put", &eu, "t", "--pk", "uid=6", "--col", "v=\"back\""]);
    fails(
        &["put", &us, "t", "--pk", "uid=7", "--col", "v=\"stale\""],
        "StaleEpoch",
    );
}

fn region_of(dir: &str) -> String {
    tablesync::storage::fs::read_manifest(
        &tablesync::storage::vfs::RealFs,
        std::path::Path::new(dir),
    )
    .unwrap()
    .expect("a MANIFEST")
    .region
}
