//! `tablesync demo --cluster` (three child `serve --cluster` processes on
//! loopback) end to end, small; then `cluster status` / `cluster push`
//! against a cluster the test starts itself.

mod common;
use common::*;

#[test]
fn the_cluster_demo_runs_and_its_digest_check_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "demo");
    let out = ok(&["demo", "--cluster", "--rows", "30", "--dir", &dir]);
    for want in [
        "two-phase commit (2 participants)",
        "ap-1     DOWN",
        "degraded=true",
        "digest check: ok",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Its children are gone: a second run reuses (wipes) the directory.
    let again = ok(&["demo", "--cluster", "--rows", "10", "--dir", &dir]);
    assert!(again.contains("digest check: ok"), "{again}");
}
