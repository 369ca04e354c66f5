//! `tablesync backup create|list|verify|prune|rekey` and `tablesync restore`.

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

fn source(tmp: &std::path::Path) -> String {
    let db = p(tmp, "db");
    ok(&[
        "--region",
        "eu",
        "create-table",
        &db,
        "users",
        "--pk",
        "uid:INTEGER",
    ]);
    for i in 0..20 {
        put(&db, i, &format!("user {i}"));
    }
    db
}

#[test]
fn back_up_list_verify_and_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let db = source(tmp.path());
    let repo = p(tmp.path(), "repo");
    let full = json(&ok(&["backup", "create", &db, &repo, "--json"]));
    assert_eq!(full["kind"], "full");
    assert_eq!(full["rows"], 20);
    let full_digest = digest(&db, "users");
    for i in 20..25 {
        put(&db, i, "later");
    }
    let inc = json(&ok(&["backup", "create", &db, &repo, "--json"]));
    assert_eq!(inc["kind"], "incremental");
    assert_eq!(inc["parent"], full["id"]);
    assert_eq!(inc["records"], 5);
    let unchanged = ok(&["backup", "create", &db, &repo]);
    assert!(unchanged.contains("nothing changed"), "{unchanged}");

    let list = json(&ok(&["backup", "list", &repo, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    let text = ok(&["backup", "list", &repo]);
    assert_eq!(text.lines().count(), 2, "{text}");

    let v = json(&ok(&["backup", "verify", &repo, "--deep", "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["backups_replayed"], 2);
    ok(&["backup", "verify", &repo, "--sample", "1/3"]);

    // Latest, named, and a point in time.
    let r1 = p(tmp.path(), "r1");
    let out = json(&ok(&["restore", &repo, &r1, "--json"]));
    assert_eq!(out["points_checked"], 2);
    assert_eq!(digest(&r1, "users"), digest(&db, "users"));
    let r2 = p(tmp.path(), "r2");
    let id = full["id"].as_str().unwrap();
    ok(&["restore", &repo, &r2, "--backup", &id[..8]]);
    assert_eq!(digest(&r2, "users"), full_digest);
    let r3 = p(tmp.path(), "r3");
    let point = full["point"].as_u64().unwrap().to_string();
    ok(&["restore", &repo, &r3, "--at-stamp", &point]);
    assert_eq!(digest(&r3, "users"), full_digest);
    let r4 = p(tmp.path(), "r4");
    ok(&["restore", &repo, &r4, "--at", "2000-01-01T00:00:00Z"]);
    let rows = ok(&["tables", &r4]);
    assert!(rows.contains("users"), "{rows}");
    // One table next to the live one.
    ok(&[
        "restore",
        &repo,
        &db,
        "--backup",
        &id[..8],
        "--table",
        "users",
        "--as",
        "users_before",
    ]);
    assert_eq!(digest(&db, "users_before"), full_digest);
    // A populated directory is not overwritten.
    fails(&["restore", &repo, &r1], "OTSParameterInvalid");
    fails(
        &["restore", &repo, &p(tmp.path(), "r5"), "--at", "yesterday"],
        "OTSParameterInvalid",
    );

    // Damage: verify exits 1, restore refuses.
    for chunk in walk(std::path::Path::new(&repo).join("chunks").as_path()) {
        let mut bytes = std::fs::read(&chunk).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&chunk, bytes).unwrap();
    }
    let r = tablesync(&["backup", "verify", &repo]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("problem:"), "{}", r.stdout);
    fails(&["restore", &repo, &p(tmp.path(), "r6")], "BackupCorrupt");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn encrypted_repositories_need_the_key_and_rekey_keeps_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let db = source(tmp.path());
    let repo = p(tmp.path(), "repo");
    let pass = p(tmp.path(), "pass");
    std::fs::write(&pass, "correct horse\n").unwrap();
    let wrong = p(tmp.path(), "wrong");
    std::fs::write(&wrong, "correct horsE\n").unwrap();
    ok(&["backup", "create", &db, &repo, "--passphrase-file", &pass]);
    for f in walk(std::path::Path::new(&repo).join("chunks").as_path()) {
        let b = std::fs::read(f).unwrap();
        assert!(
            !b.windows(6).any(|w| w == b"user 1"),
            "chunks are not in clear"
        );
    }
    fails(&["backup", "list", &repo], "BackupKeyInvalid");
    fails(
        &["backup", "list", &repo, "--passphrase-file", &wrong],
        "BackupKeyInvalid",
    );
    ok(&["backup", "list", &repo, "--passphrase-file", &pass]);
    let key = p(tmp.path(), "key");
    std::fs::write(&key, [42u8; 32]).unwrap();
    ok(&[
        "backup",
        "rekey",
        &repo,
        "--passphrase-file",
        &pass,
        "--new-key-file",
        &key,
    ]);
    fails(
        &["backup", "list", &repo, "--passphrase-file", &pass],
        "BackupKeyInvalid",
    );
    let r = p(tmp.path(), "r");
    ok(&["restore", &repo, &r, "--key-file", &key]);
    assert_eq!(digest(&r, "users"), digest(&db, "users"));
}

#[test]
fn continuous_mode_and_prune() {
    let tmp = tempfile::tempdir().unwrap();
    let db = source(tmp.path());
    let repo = p(tmp.path(), "repo");
    ok(&["backup", "create", &db, &repo, "--full"]);
    put(&db, 100, "x");
    ok(&[
        "backup",
        "create",
        &db,
        &repo,
        "--continuous",
        "--interval",
        "50ms",
        "--rounds",
        "3",
    ]);
    put(&db, 101, "y");
    ok(&["backup", "create", &db, &repo, "--full"]);
    put(&db, 102, "z");
    ok(&["backup", "create", &db, &repo]);
    let list = json(&ok(&["backup", "list", &repo, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
    let dry = json(&ok(&[
        "backup",
        "prune",
        &repo,
        "--keep-last",
        "1",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(dry["removed"].as_array().unwrap().len(), 2);
    let pr = json(&ok(&[
        "backup",
        "prune",
        &repo,
        "--keep-last",
        "1",
        "--json",
    ]));
    assert_eq!(
        pr["kept"].as_array().unwrap().len(),
        2,
        "the last backup and its full parent"
    );
    assert!(pr["chunks_removed"].as_u64().unwrap() > 0);
    ok(&["backup", "verify", &repo, "--deep"]);
    let r = p(tmp.path(), "r");
    ok(&["restore", &repo, &r]);
    assert_eq!(digest(&r, "users"), digest(&db, "users"));
    fails(&["backup", "prune", &repo], "OTSParameterInvalid");
}

/// A backup killed with SIGKILL at random moments never appears complete
/// unless it verifies, and the next run finishes it.
#[test]
fn sigkilled_backups_never_appear_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = p(tmp.path(), "db");
    ok(&[
        "--region",
        "eu",
        "create-table",
        &db,
        "t",
        "--pk",
        "k:INTEGER",
    ]);
    // Rows through import: one process, many rows.
    let csv = p(tmp.path(), "rows.csv");
    let mut text = String::from("k:INTEGER,v:STRING\n");
    for i in 0..1500 {
        text.push_str(&format!("{i},{}\n", format!("row {i} ").repeat(8)));
    }
    std::fs::write(&csv, text).unwrap();
    ok(&["import", &db, "t", &csv]);
    let repo = p(tmp.path(), "repo");
    // How long one full run takes here.
    let t = std::time::Instant::now();
    ok(&["backup", "create", &db, &p(tmp.path(), "probe"), "--full"]);
    let run_us = t.elapsed().as_micros().max(1000) as u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut killed = 0;
    for round in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Half the rounds change a row first, so every run has new chunks to write.
        if round % 2 == 1 {
            ok(&[
                "put",
                &db,
                "t",
                "--pk",
                &format!("k={}", seed % 1500),
                "--col",
                &format!("v:STRING=changed {round}"),
            ]);
        }
        let mut child = command()
            .args(["backup", "create", &db, &repo, "--full"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Process start-up is part of the probe's time: kill within its first 60 %.
        std::thread::sleep(std::time::Duration::from_micros(seed % (run_us * 3 / 5)));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        child.kill().ok();
        child.wait().unwrap();
        if !std::path::Path::new(&repo).join("config").exists() {
            continue; // killed before the repository existed
        }
        // Whatever is listed verifies; nothing half-written is listed.
        let r = tablesync(&["backup", "verify", &repo, "--json"]);
        assert_eq!(r.code, Some(0), "round {round}: {}{}", r.stdout, r.stderr);
    }
    assert!(killed >= 25, "only {killed} of 50 runs were killed mid-way");
    let done = json(&ok(&["backup", "create", &db, &repo, "--full", "--json"]));
    assert_eq!(done["kind"], "full");
    ok(&["backup", "verify", &repo, "--deep"]);
    let r = p(tmp.path(), "restored");
    ok(&["restore", &repo, &r]);
    assert_eq!(digest(&r, "t"), digest(&db, "t"));
}
