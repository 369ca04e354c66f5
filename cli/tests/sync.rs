//! `sync`, `verify` and `copy-table` between directories, and how
//! directories get their region names.

mod common;
use common::*;
use std::path::Path;

/// Two regions with overlapping rows of table `t`: a holds uid 1..=40
/// ("a", ts 1000), b holds uid 30..=60 ("b", ts 2000, so b's versions win
/// on 30..=40).
fn two_regions(tmp: &Path) -> (String, String) {
    let a = p(tmp, "a");
    let b = p(tmp, "b");
    let rows_a: Vec<(i64, &str, i64)> = (1..=40).map(|k| (k, "a", 1000)).collect();
    let rows_b: Vec<(i64, &str, i64)> = (30..=60).map(|k| (k, "b", 2000)).collect();
    load(tmp, &a, "t", &rows_a);
    load(tmp, &b, "t", &rows_b);
    (a, b)
}

#[test]
fn every_mode_converges_two_directories() {
    for mode in ["auto", "incremental", "full", "hybrid", "reconcile"] {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = two_regions(tmp.path());
        assert_ne!(digest(&a, "t"), digest(&b, "t"));
        let out = ok(&["sync", &a, &b, "--mode", mode]);
        assert_eq!(
            field(&out, "verified:").split(' ').next(),
            Some("yes"),
            "{mode}: {out}"
        );
        assert!(field(&out, "mode:").starts_with(mode), "{mode}: {out}");
        assert_eq!(field(&out, "table t:"), "MATCH", "{out}");
        let d = digest(&a, "t");
        assert_eq!(d, digest(&b, "t"), "{mode}");
        assert_eq!(field(&out, "SRC digest:"), d);
        // Rows crossed both ways, and the later versions won.
        assert_eq!(value(&a, "t", 60).as_deref(), Some("b"), "{mode}");
        assert_eq!(value(&b, "t", 1).as_deref(), Some("a"), "{mode}");
        assert_eq!(value(&a, "t", 35).as_deref(), Some("b"), "{mode}");
        // What moved is counted on both sides.
        let into_src = field(&out, "into SRC:");
        let into_dst = field(&out, "into DST:");
        assert_ne!(into_src, "0 records, 0 rows", "{mode}: {out}");
        assert_ne!(into_dst, "0 records, 0 rows", "{mode}: {out}");
        // A second sync moves no rows and changes no digest. After a
        // record-based mode it has nothing at all to send; after `full` or
        // `reconcile` (which move rows, not records) the logs may still be
        // exchanged once, as no-op records.
        let again = ok(&["sync", &a, &b]);
        for side in ["into SRC:", "into DST:"] {
            let moved = field(&again, side);
            if matches!(mode, "auto" | "incremental" | "hybrid") {
                assert_eq!(moved, "0 records, 0 rows", "{mode}: {again}");
            } else {
                assert!(moved.ends_with(" 0 rows"), "{mode}: {again}");
            }
        }
        assert_eq!(digest(&a, "t"), d, "{mode}");
        assert!(field(&again, "verified:").starts_with("yes"));
    }
}

#[test]
fn pull_and_push_move_one_way() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = two_regions(tmp.path());
    let out = ok(&["sync", &a, &b, "--direction", "pull"]);
    assert!(field(&out, "verified:").starts_with("no"), "{out}");
    assert_eq!(field(&out, "into DST:"), "0 records, 0 rows");
    assert_eq!(value(&a, "t", 60).as_deref(), Some("b"));
    assert_eq!(value(&b, "t", 1), None, "a pull must not write to DST");
    let out = ok(&[
        "sync",
        &a,
        &b,
        "--direction",
        "push",
        "--mode",
        "incremental",
    ]);
    assert_eq!(field(&out, "into SRC:"), "0 records, 0 rows");
    assert!(field(&out, "verified:").starts_with("yes"), "{out}");
    assert_eq!(value(&b, "t", 1).as_deref(), Some("a"));
}

#[test]
fn sync_selects_tables_and_creates_a_missing_replica() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = two_regions(tmp.path());
    load(tmp.path(), &a, "other", &[(1, "x", 5)]);
    let replica = p(tmp.path(), "replica");
    let out = ok(&["sync", &a, &replica, "--table", "t", "--direction", "push"]);
    assert!(field(&out, "verified:").starts_with("yes"), "{out}");
    assert_eq!(digest(&replica, "t"), digest(&a, "t"));
    // Only the selected table went over.
    let tables = ok(&["tables", &replica]);
    assert!(tables.starts_with("t\t"), "{tables}");
    assert!(!tables.contains("other"), "{tables}");
    // The new directory got its own region.
    assert_ne!(region_of(&a), region_of(&replica));
}

#[test]
fn reconcile_moves_only_the_differing_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = two_regions(tmp.path());
    ok(&["sync", &a, &b]);
    load(
        tmp.path(),
        &b,
        "t",
        &[(5, "changed", 3000), (55, "changed", 3000)],
    );
    let out = ok(&["sync", &a, &b, "--mode", "reconcile"]);
    assert_eq!(field(&out, "into SRC:"), "0 records, 2 rows", "{out}");
    assert!(field(&out, "verified:").starts_with("yes"));
    assert_eq!(value(&a, "t", 5).as_deref(), Some("changed"));
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

#[test]
fn directories_get_distinct_regions_and_keep_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = two_regions(tmp.path());
    let (ra, rb) = (region_of(&a), region_of(&b));
    assert!(ra.starts_with("a-") && ra.len() == 10, "{ra}");
    assert!(rb.starts_with("b-"), "{rb}");
    assert_ne!(ra, rb);
    // The change log carries the region as the records' origin.
    let log = ok(&["log", &a, "--limit", "1"]);
    assert!(log.contains(&format!("\"origin\":\"{ra}\"")), "{log}");
    // Another --region is refused and changes nothing.
    let line = fails(&["tables", &a, "--region", "elsewhere"], "RegionMismatch");
    assert!(line.contains(&ra), "{line}");
    assert_eq!(region_of(&a), ra);
    // The same region, given explicitly, is fine.
    ok(&["tables", &a, "--region", &ra]);
    // An explicit region for a new directory is recorded.
    let c = p(tmp.path(), "c");
    ok(&[
        "create-table",
        &c,
        "t",
        "--pk",
        "uid:INTEGER",
        "--region",
        "tokyo",
    ]);
    assert_eq!(region_of(&c), "tokyo");
    // --region is ambiguous with two directories.
    fails(&["sync", &a, &b, "--region", "x"], "OTSParameterInvalid");
}

#[test]
fn two_directories_of_one_region_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = p(tmp.path(), "a");
    load(tmp.path(), &a, "t", &[(1, "a", 1)]);
    // A copied directory keeps its MANIFEST.
    let b = p(tmp.path(), "b");
    std::fs::create_dir(&b).unwrap();
    for e in std::fs::read_dir(&a).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), Path::new(&b).join(e.file_name())).unwrap();
        }
    }
    let line = fails(&["sync", &a, &b], "OTSParameterInvalid");
    assert!(line.contains("both region"), "{line}");
    fails(&["sync", &a, &a], "OTSParameterInvalid");
    // A URL needs a token, and two URLs cannot sync.
    fails(&["sync", &a, "http://127.0.0.1:9"], "OTSParameterInvalid");
    fails(
        &[
            "sync",
            "http://127.0.0.1:9",
            "http://127.0.0.1:10",
            "--token",
            "x",
        ],
        "OTSParameterInvalid",
    );
    // https:// is a server side now; this one cannot be reached.
    fails(
        &["sync", &a, "https://example.invalid", "--token", "x"],
        "SyncError",
    );
    // Plain http:// off loopback is refused before any connection.
    fails(
        &["sync", &a, "http://192.0.2.1:7070", "--token", "x"],
        "OTSParameterInvalid",
    );
    fails(&["sync", &a, &b, "--mode", "sideways"], "UsageError");
}

#[test]
fn verify_exits_0_on_match_1_on_difference_2_on_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = two_regions(tmp.path());
    ok(&["sync", &a, &b]);
    let r = tablesync(&["verify", &a, &b]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(field(&r.stdout, "table t:"), "MATCH");
    assert_eq!(
        field(&r.stdout, "SRC digest:"),
        field(&r.stdout, "DST digest:")
    );
    assert!(
        r.stdout.lines().last().unwrap().starts_with("MATCH:"),
        "{}",
        r.stdout
    );

    // Change three rows on b (two updates, one delete): verify names them and moves nothing.
    load(
        tmp.path(),
        &b,
        "t",
        &[(7, "changed", 5000), (50, "changed", 5000)],
    );
    ok(&["delete", &b, "t", "--pk", "uid=12"]);
    let (da, db) = (digest(&a, "t"), digest(&b, "t"));
    let r = tablesync(&["verify", &a, &b]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert_eq!(field(&r.stdout, "table t:"), "DIFFER");
    assert_eq!(field(&r.stdout, "SRC digest:"), da);
    assert_eq!(field(&r.stdout, "DST digest:"), db);
    assert_eq!(field(&r.stdout, "differing keys:"), "3");
    for k in [7, 12, 50] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.trim() == format!("{{\"uid\":{k}}}")),
            "key {k} not listed: {}",
            r.stdout
        );
    }
    assert!(r
        .stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("DIFFER: 1 of 1"));
    assert_eq!(
        (digest(&a, "t"), digest(&b, "t")),
        (da, db),
        "verify moved rows"
    );
    // --keys caps the listing.
    let r = tablesync(&["verify", &a, &b, "--keys", "1"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(field(&r.stdout, "differing keys:"), "3 (first 1 shown)");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.trim().starts_with("{\"uid\":"))
            .count(),
        1
    );
    // A table only one side has differs too.
    load(tmp.path(), &a, "only_a", &[(1, "x", 1)]);
    let r = tablesync(&["verify", &a, &b, "--table", "only_a"]);
    assert_eq!(r.code, Some(1));
    assert!(
        field(&r.stdout, "DST digest:").contains("no such table"),
        "{}",
        r.stdout
    );
    // Trouble is exit status 2, with one error line.
    let r = tablesync(&["verify", &a, &p(tmp.path(), "missing")]);
    assert_eq!(r.code, Some(2));
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: FileIo: "), "{}", r.stderr);
    // After a sync, they match again.
    ok(&["sync", &a, &b]);
    assert_eq!(tablesync(&["verify", &a, &b, "--table", "t"]).code, Some(0));
}

#[test]
fn copy_table_between_and_within_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = two_regions(tmp.path());
    let d = digest(&a, "t");
    let other = p(tmp.path(), "other");
    let out = ok(&["copy-table", &a, "t", &other, "t_copy"]);
    assert!(out.starts_with("copied 40 rows"), "{out}");
    assert!(out.contains(&d), "{out}");
    assert_eq!(digest(&other, "t_copy"), d);
    assert_eq!(value(&other, "t_copy", 40).as_deref(), Some("a"));
    // Within one directory.
    ok(&["copy-table", &a, "t", &a, "t2"]);
    assert_eq!(digest(&a, "t2"), d);
    // An existing target is refused and left as it was.
    fails(
        &["copy-table", &a, "t", &other, "t_copy"],
        "OTSObjectAlreadyExist",
    );
    assert_eq!(digest(&other, "t_copy"), d);
    fails(
        &["copy-table", &a, "nope", &other, "x"],
        "OTSObjectNotExist",
    );
    fails(
        &["copy-table", &p(tmp.path(), "absent"), "t", &other, "y"],
        "FileIo",
    );
}

/// A directory made by the CLI before manifests (region in its `REGION`
/// file; fixture of the core's migration test) opens as that region, gets
/// a MANIFEST naming it, and refuses another region from then on.
#[test]
fn an_old_directory_keeps_the_region_of_its_region_file() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/dir_v1_log_only");
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "old");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(&fixture).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), Path::new(&dir).join(e.file_name())).unwrap();
    }
    assert!(!Path::new(&dir).join("MANIFEST").exists());
    fails(&["tables", &dir, "--region", "us"], "RegionMismatch");
    assert!(!Path::new(&dir).join("MANIFEST").exists());
    assert_eq!(
        digest(&dir, "users"),
        "f7773ec462a943975a52fa0b925fb679e01969d1154e9fca00a972014a92fbc2"
    );
    assert_eq!(region_of(&dir), "eu");
    // The manifest is what decides now, whatever the old file says.
    std::fs::remove_file(Path::new(&dir).join("REGION")).unwrap();
    fails(&["tables", &dir, "--region", "us"], "RegionMismatch");
    let log = ok(&["log", &dir, "--limit", "1"]);
    assert!(log.contains("\"origin\":\"eu\""), "{log}");
}
