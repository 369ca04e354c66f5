//! Backups in Azure Blob Storage (`az://CONTAINER/PREFIX`): a real Azurite
//! blob server (npm `azurite`, installed by `scripts/azurite-install`)
//! started on 127.0.0.1 by this test; object_store reaches it through its
//! emulator settings (`AZURE_STORAGE_USE_EMULATOR`, `AZURITE_BLOB_STORAGE_URL`,
//! the well-known development account). Full + incremental backup, list,
//! verify --deep and restore (latest and at the full backup's stamp) go
//! through the CLI, encrypted.
//!
//! azurite-blob is found at `TABLESYNC_AZURITE`, else in `target/azurite`.
//! Without it the test fails when `CI` or `TABLESYNC_REQUIRE_AZURITE` is set
//! (scripts/test-rust sets it after installing azurite); elsewhere it prints
//! why it did not run.

mod common;
use base64::Engine as _;
use common::*;
use serde_json::Value as Json;
use sha2::{Digest as _, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The emulator's development account and key (public, documented by Azure).
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An Azurite blob server on a free loopback port, killed on drop.
struct Azurite {
    child: Child,
    port: u16,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn azurite_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TABLESYNC_AZURITE") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let bin = target.join("azurite/node_modules/.bin/azurite-blob");
    bin.is_file().then_some(bin)
}

fn start_azurite(workspace: &std::path::Path) -> Option<Azurite> {
    let Some(bin) = azurite_binary() else {
        let required = std::env::var_os("CI").is_some()
            || std::env::var_os("TABLESYNC_REQUIRE_AZURITE").is_some();
        assert!(
            !required,
            "azurite-blob not found: run scripts/azurite-install (npm install azurite) or set TABLESYNC_AZURITE"
        );
        eprintln!(
            "NOT RUN: the Azure backup test needs azurite-blob (run scripts/azurite-install, or set TABLESYNC_AZURITE)"
        );
        return None;
    };
    let port = free_port();
    let child = Command::new(&bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .args(["--silent", "--skipApiVersionCheck", "--location"])
        .arg(workspace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let mut az = Azurite { child, port };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(st)) = az.child.try_wait() {
            panic!("azurite exited ({st}) before listening");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "azurite did not listen on port {port} within 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(az)
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// Now as an RFC 1123 date (`Tue, 02 Dec 2026 16:23:10 GMT`).
fn http_date() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!(
        "{wd}, {day:02} {mon} {year} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Create a container (Shared Key signed, as the emulator requires).
fn create_container(port: u16, name: &str) {
    let date = http_date();
    let version = "2021-08-06";
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(ACCOUNT_KEY)
        .unwrap();
    let sig =
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key, to_sign.as_bytes()));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "PUT /{ACCOUNT}/{name}?restype=container HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         x-ms-date: {date}\r\nx-ms-version: {version}\r\n\
         Authorization: SharedKey {ACCOUNT}:{sig}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 201"), "create container: {resp}");
}

fn json(s: &str) -> Json {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn backups_round_trip_through_azure_blob_storage() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(az) = start_azurite(tmp.path()) else {
        return;
    };
    create_container(az.port, "backups");
    let url = format!("http://127.0.0.1:{}", az.port);
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", url.as_str()),
    ];
    let pass = p(tmp.path(), "pass");
    std::fs::write(&pass, "azure passphrase\n").unwrap();
    let run = |args: &[&str]| -> String {
        let mut a = args.to_vec();
        a.extend(["--passphrase-file", pass.as_str()]);
        let r = tablesync_env(&a, &env);
        assert!(r.ok, "tablesync {a:?} failed: {}{}", r.stderr, r.stdout);
        r.stdout
    };

    let db = p(tmp.path(), "db");
    let rows: Vec<(i64, String, i64)> = (0..30).map(|i| (i, format!("user {i}"), 1)).collect();
    let rows: Vec<(i64, &str, i64)> = rows.iter().map(|(k, v, t)| (*k, v.as_str(), *t)).collect();
    load(tmp.path(), &db, "t", &rows);
    let repo = "az://backups/team/eu";
    let full = json(&run(&["backup", "create", &db, repo, "--json"]));
    assert_eq!(full["kind"], "full");
    let full_digest = digest(&db, "t");
    let more: Vec<(i64, &str, i64)> = (30..35).map(|i| (i, "later", 2)).collect();
    load(tmp.path(), &db, "t", &more);
    let inc = json(&run(&["backup", "create", &db, repo, "--json"]));
    assert_eq!(inc["kind"], "incremental", "{inc}");
    assert_eq!(inc["parent"], full["id"]);

    let list = json(&run(&["backup", "list", repo, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let v = json(&run(&["backup", "verify", repo, "--deep", "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["backups_replayed"], 2);
    let r1 = p(tmp.path(), "r1");
    run(&["restore", repo, &r1]);
    assert_eq!(digest(&r1, "t"), digest(&db, "t"));
    let r2 = p(tmp.path(), "r2");
    let point = full["point"].as_u64().unwrap().to_string();
    run(&["restore", repo, &r2, "--at-stamp", &point]);
    assert_eq!(digest(&r2, "t"), full_digest);
    // Another container of the same account holds nothing.
    let r = tablesync_env(&["backup", "list", "az://backups/elsewhere"], &env);
    assert!(!r.ok, "{}", r.stdout);
}
