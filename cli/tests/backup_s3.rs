//! Backups in S3-compatible object storage: a real `moto_server` started on
//! 127.0.0.1 by this test (installed by `scripts/moto-venv`), the object-store
//! contract through `tablesync_store`, then full + incremental backup, list,
//! verify --deep, restore (latest, named, at a stamp), prune and a wrong
//! passphrase through the CLI.
//!
//! moto is found at `TABLESYNC_MOTO_SERVER`, else in `target/s3-venv`, else on
//! PATH. Without it the test fails when `CI` or `TABLESYNC_REQUIRE_S3` is set
//! (scripts/test-rust sets it after installing moto); elsewhere it prints
//! why it did not run.

mod common;
use common::*;
use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TABLESYNC_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let venv = target.join("s3-venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("moto_server"))
            .find(|p| p.is_file())
    })
}

fn start_moto() -> Option<Moto> {
    let Some(bin) = moto_binary() else {
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("TABLESYNC_REQUIRE_S3").is_some();
        assert!(
            !required,
            "moto_server not found: run scripts/moto-venv (pip install 'moto[server]') or set TABLESYNC_MOTO_SERVER"
        );
        eprintln!(
            "NOT RUN: the S3 backup test needs moto_server (run scripts/moto-venv, or set TABLESYNC_MOTO_SERVER)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "moto_server did not listen on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// Create a bucket (moto accepts an unsigned CreateBucket).
fn create_bucket(port: u16, bucket: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "CreateBucket: {resp}");
}

const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
];

fn json(s: &str) -> Json {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// Run the CLI with the AWS test credentials and the endpoint in the environment.
fn s3(endpoint: &str, args: &[&str]) -> Run {
    let mut env = AWS_ENV.to_vec();
    env.push(("TABLESYNC_S3_ENDPOINT", endpoint));
    tablesync_env(args, &env)
}

fn s3_ok(endpoint: &str, args: &[&str]) -> String {
    let r = s3(endpoint, args);
    assert!(r.ok, "tablesync {args:?} failed: {}{}", r.stderr, r.stdout);
    r.stdout
}

fn put(db: &str, uid: i64, name: &str) {
    let uid = format!("uid={uid}");
    let name = format!("name:STRING={name}");
    ok(&["put", db, "users", "--pk", &uid, "--col", &name]);
}

fn object_store_contract(m: &Moto) {
    for (k, v) in AWS_ENV {
        // Only this thread's child processes and this store read them; the
        // one test in this file runs alone.
        std::env::set_var(k, v);
    }
    let opts = tablesync_store::StoreOptions {
        endpoint: Some(m.endpoint.clone()),
    };
    let s = tablesync_store::open_store_with("s3://contract/some/prefix", &opts).unwrap();
    assert_eq!(s.get("config").unwrap(), None);
    assert!(!s.exists("config").unwrap());
    s.put("config", b"c").unwrap();
    s.put("chunks/ab/ab01", b"1").unwrap();
    s.put("chunks/cd/cd02", b"2").unwrap();
    s.put("manifests/ff", b"m").unwrap();
    s.put("config", b"c2").unwrap();
    assert_eq!(s.get("config").unwrap().as_deref(), Some(&b"c2"[..]));
    assert!(s.exists("config").unwrap());
    assert_eq!(
        s.list("chunks/").unwrap(),
        vec!["chunks/ab/ab01", "chunks/cd/cd02"]
    );
    assert_eq!(s.list("chunks/cd").unwrap(), vec!["chunks/cd/cd02"]);
    assert_eq!(s.list("").unwrap().len(), 4);
    s.delete("manifests/ff").unwrap();
    s.delete("manifests/ff").unwrap();
    assert!(!s.exists("manifests/ff").unwrap());
    assert!(s.put("../up", b"x").is_err());
    // The prefix isolates repositories in one bucket.
    let other = tablesync_store::open_store_with("s3://contract/some", &opts).unwrap();
    assert_eq!(
        other.list("prefix/chunks/").unwrap(),
        vec!["prefix/chunks/ab/ab01", "prefix/chunks/cd/cd02"]
    );
    let top = tablesync_store::open_store_with("s3://contract/other", &opts).unwrap();
    assert!(top.list("").unwrap().is_empty());
    // A missing bucket is an I/O error, not an empty repository.
    let missing = tablesync_store::open_store_with("s3://no-such-bucket/x", &opts).unwrap();
    assert_eq!(missing.put("config", b"x").unwrap_err().code(), "StorageIo");
    // Plain http only on loopback.
    let far = tablesync_store::StoreOptions {
        endpoint: Some("http://192.0.2.1:9000".into()),
    };
    assert_eq!(
        tablesync_store::open_store_with("s3://b/x", &far)
            .err()
            .map(|e| e.code()),
        Some("OTSParameterInvalid")
    );
}

#[test]
fn backups_round_trip_through_s3() {
    let Some(m) = start_moto() else { return };
    create_bucket(m.port, "contract");
    create_bucket(m.port, "backups");
    object_store_contract(&m);
    let e = m.endpoint.as_str();

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
    for i in 0..20 {
        put(&db, i, &format!("user {i}"));
    }
    let pass = p(tmp.path(), "pass");
    std::fs::write(&pass, "s3 passphrase\n").unwrap();
    let wrong = p(tmp.path(), "wrong");
    std::fs::write(&wrong, "S3 passphrase\n").unwrap();
    let repo = "s3://backups/team/eu";
    let key = ["--passphrase-file", pass.as_str()];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(key.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: &[&str]| -> String {
        let a = with(args);
        s3_ok(e, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let full = json(&run(&["backup", "create", &db, repo, "--json"]));
    assert_eq!(full["kind"], "full");
    assert_eq!(full["rows"], 20);
    let full_digest = digest(&db, "users");
    for i in 20..25 {
        put(&db, i, "later");
    }
    // The endpoint from the flag instead of the environment.
    let a = with(&["backup", "create", &db, repo, "--json", "--s3-endpoint", e]);
    let r = tablesync_env(&a.iter().map(String::as_str).collect::<Vec<_>>(), &AWS_ENV);
    assert!(r.ok, "{}{}", r.stderr, r.stdout);
    let inc = json(&r.stdout);
    assert_eq!(inc["kind"], "incremental");
    assert_eq!(inc["parent"], full["id"]);
    assert_eq!(inc["records"], 5);

    let list = json(&run(&["backup", "list", repo, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let v = json(&run(&["backup", "verify", repo, "--deep", "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["backups_replayed"], 2);

    let r1 = p(tmp.path(), "r1");
    run(&["restore", repo, &r1]);
    assert_eq!(digest(&r1, "users"), digest(&db, "users"));
    let r2 = p(tmp.path(), "r2");
    let point = full["point"].as_u64().unwrap().to_string();
    run(&["restore", repo, &r2, "--at-stamp", &point]);
    assert_eq!(digest(&r2, "users"), full_digest);

    // Wrong passphrase: refused, nothing restored.
    let r3 = p(tmp.path(), "r3");
    let r = s3(e, &["restore", repo, &r3, "--passphrase-file", &wrong]);
    assert!(!r.ok);
    assert!(
        r.stderr.starts_with("error: BackupKeyInvalid: "),
        "{}",
        r.stderr
    );
    assert!(!std::path::Path::new(&r3).join("region").exists());

    // Prune to the newest full backup.
    put(&db, 99, "newest");
    run(&["backup", "create", &db, repo, "--full"]);
    let pr = json(&run(&[
        "backup",
        "prune",
        repo,
        "--keep-last",
        "1",
        "--json",
    ]));
    assert_eq!(pr["removed"].as_array().unwrap().len(), 2, "{pr}");
    assert!(pr["chunks_removed"].as_u64().unwrap() > 0, "{pr}");
    let list = json(&run(&["backup", "list", repo, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let v = json(&run(&["backup", "verify", repo, "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["unreferenced_chunks"], 0, "{v}");
    let r4 = p(tmp.path(), "r4");
    run(&["restore", repo, &r4]);
    assert_eq!(digest(&r4, "users"), digest(&db, "users"));
}
