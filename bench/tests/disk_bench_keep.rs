//! `disk-bench --keep DIR`: the first run loads each engine's data set
//! into `DIR/<engine>-<rows>` and records its load figures; a second run
//! reuses the data set (no load) and reports the same load figures.

use std::path::Path;
use std::process::Command;

/// Run disk-bench over 2,000 rows with `--keep keep`; its stderr, and the
/// printed table (stdout).
fn run(keep: &Path, scratch: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_disk-bench"))
        .args([
            "--rows",
            "2000",
            "--engines",
            "tablesync-paged,sqlite",
            "--no-plot",
        ])
        .arg("--dir")
        .arg(scratch)
        .arg("--keep")
        .arg(keep)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    (stderr, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_kept_data_set_is_reused_with_its_load_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let (keep, scratch) = (tmp.path().join("keep"), tmp.path().join("scratch"));
    std::fs::create_dir_all(&scratch).unwrap();
    let (first, _) = run(&keep, &scratch);
    assert!(!first.contains("reusing"), "{first}");
    let mut markers = Vec::new();
    for engine in ["tablesync-paged", "sqlite"] {
        let dir = keep.join(format!("{engine}-2000"));
        let marker = std::fs::read_to_string(dir.join("loaded")).unwrap();
        assert_eq!(marker.split_whitespace().count(), 4, "{marker}");
        assert!(dir.join("store").exists(), "{engine}: the data set is kept");
        markers.push(marker);
    }
    let (second, _) = run(&keep, &scratch);
    for engine in ["tablesync-paged", "sqlite"] {
        assert!(
            second.contains(&format!("2000 rows, {engine}: reusing")),
            "{second}"
        );
        assert!(
            !second.contains(&format!("2000 rows, {engine}: load")),
            "{second}"
        );
    }
    for (engine, marker) in ["tablesync-paged", "sqlite"].iter().zip(markers) {
        let dir = keep.join(format!("{engine}-2000"));
        assert_eq!(std::fs::read_to_string(dir.join("loaded")).unwrap(), marker);
    }
}
