//! `tablesync backup create URL REPO [--continuous]` against a real
//! `tablesync serve` process: backups taken from the server's consistent
//! snapshot (GET /v1/snapshot), incrementals on top, continuous mode
//! catching writes made through the row API (each round after the first
//! fetching only the snapshot delta since the last), and restores that equal the
//! server's digests (checked by `tablesync verify DIR URL`).

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "backup-test-token";
const READ_TOKEN: &str = "backup-read-token";

/// A running `tablesync serve`; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &str, read_tokens: &str) -> Server {
        let mut child = command()
            .args(["serve", dir, "--listen", "127.0.0.1:0", "--token", TOKEN])
            .args(["--read-token-file", read_tokens])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tablesync serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        Server { child, url }
    }

    /// POST a JSON body with the read-write token; the status and body.
    fn post(&self, path: &str, body: &str) -> (u16, String) {
        let hostport = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut s = std::net::TcpStream::connect(hostport).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }

    fn put(&self, uid: i64, v: &str) {
        let (status, answer) = self.post(
            "/v1/row/put",
            &format!(
                "{{\"table\":\"t\",\"primary_key\":{{\"uid\":{uid}}},\"columns\":{{\"v\":\"{v}\"}}}}"
            ),
        );
        assert_eq!(status, 200, "{answer}");
    }

    fn delete(&self, uid: i64) {
        let (status, answer) = self.post(
            "/v1/row/delete",
            &format!("{{\"table\":\"t\",\"primary_key\":{{\"uid\":{uid}}}}}"),
        );
        assert_eq!(status, 200, "{answer}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `backup list --json` of a repository.
fn backups(repo: &str) -> Vec<serde_json::Value> {
    let out = ok(&["backup", "list", repo, "--json"]);
    serde_json::from_str::<serde_json::Value>(out.trim())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// `tablesync verify DIR URL` exits 0: same digests for every table.
fn same_as_server(dir: &str, url: &str) {
    let r = tablesync(&["verify", dir, url, "--token", READ_TOKEN]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}

/// Poll `what` until it holds; the deadline only stops a hung test.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn backups_of_a_served_region_restore_to_the_servers_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    let repo = p(tmp.path(), "repo");
    let read_tokens = p(tmp.path(), "read-tokens");
    std::fs::write(&read_tokens, format!("{READ_TOKEN}\n")).unwrap();
    let rows: Vec<(i64, &str, i64)> = (1..=200).map(|k| (k, "seed", 1000 + k)).collect();
    load(tmp.path(), &srv, "t", &rows);
    let server = Server::start(&srv, &read_tokens);
    let url = server.url.clone();

    // No token, or a wrong one: refused, and no backup is written.
    fails(&["backup", "create", &url, &repo], "OTSParameterInvalid");
    let line = fails(
        &["backup", "create", &url, &repo, "--token", "wrong"],
        "SyncError",
    );
    assert!(line.contains("401"), "{line}");
    assert!(!std::path::Path::new(&repo).exists());

    // A full backup with a read-only token, while the server runs.
    ok(&["backup", "create", &url, &repo, "--token", READ_TOKEN]);
    let all = backups(&repo);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["kind"], "full");
    assert_eq!(all[0]["rows"], 200);
    // Nothing changed: no new backup.
    let out = ok(&["backup", "create", &url, &repo, "--token", READ_TOKEN]);
    assert!(out.contains("nothing changed"), "{out}");

    // Writes through the row API, then an incremental of just those.
    for k in 150..=260 {
        server.put(k, "after-full");
    }
    server.delete(3);
    ok(&["backup", "create", &url, &repo, "--token", READ_TOKEN]);
    let all = backups(&repo);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["kind"], "incremental");
    assert_eq!(all[1]["parent"], all[0]["id"]);
    assert_eq!(all[1]["records"], 112);

    // The restore equals the server now; the full one equals the load.
    let r1 = p(tmp.path(), "r1");
    ok(&["restore", &repo, &r1]);
    same_as_server(&r1, &url);
    let r0 = p(tmp.path(), "r0");
    let first = all[0]["id"].as_str().unwrap().to_string();
    ok(&["restore", &repo, &r0, "--backup", &first]);
    assert_eq!(value(&r0, "t", 3).as_deref(), Some("seed"));
    assert_eq!(value(&r0, "t", 250), None);
    assert_eq!(value(&r1, "t", 3), None);
    assert_eq!(value(&r1, "t", 250).as_deref(), Some("after-full"));
    let r = tablesync(&["backup", "verify", &repo, "--deep"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}

#[test]
fn continuous_backup_of_a_served_region_catches_new_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    let repo = p(tmp.path(), "repo");
    let pass = p(tmp.path(), "pass");
    std::fs::write(&pass, "correct horse\n").unwrap();
    let read_tokens = p(tmp.path(), "read-tokens");
    std::fs::write(&read_tokens, format!("{READ_TOKEN}\n")).unwrap();
    load(tmp.path(), &srv, "t", &[(1, "seed", 1)]);
    let server = Server::start(&srv, &read_tokens);
    let url = server.url.clone();

    let mut shipper = command()
        .args(["backup", "create", &url, &repo, "--continuous"])
        .args(["--interval", "200ms", "--passphrase-file", &pass])
        .env("TABLESYNC_TOKEN", READ_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("backup create --continuous starts");
    let count = || {
        let r = tablesync(&[
            "backup",
            "list",
            &repo,
            "--json",
            "--passphrase-file",
            &pass,
        ]);
        if !r.ok {
            return 0;
        }
        serde_json::from_str::<serde_json::Value>(r.stdout.trim())
            .ok()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    };
    wait_until("the first backup", || {
        if let Some(st) = shipper.try_wait().unwrap() {
            let mut err = String::new();
            shipper
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the shipper stopped ({st:?}): {err}");
        }
        count() >= 1
    });

    // Three bursts of writes; each is shipped by a later round.
    let mut restored = 0;
    for burst in 0..3 {
        let before = count();
        for k in 0..40 {
            server.put(100 * burst + k, &format!("burst-{burst}"));
        }
        wait_until("an incremental with the burst", || count() > before);
        // The newest backup holds the whole burst once the shipper has
        // caught up; the restore then equals the server.
        let dest = p(tmp.path(), &format!("r{burst}"));
        wait_until("a backup equal to the server", || {
            let _ = std::fs::remove_dir_all(&dest);
            ok(&["restore", &repo, &dest, "--passphrase-file", &pass]);
            let r = tablesync(&["verify", &dest, &url, "--token", READ_TOKEN]);
            if r.code != Some(0) {
                eprintln!("not yet:\n{}{}", r.stdout, r.stderr);
            }
            r.code == Some(0)
        });
        assert_eq!(
            value(&dest, "t", 100 * burst + 39).as_deref(),
            Some(&*format!("burst-{burst}"))
        );
        restored += 1;
    }
    assert_eq!(restored, 3);
    let _ = shipper.kill();
    let _ = shipper.wait();
    let mut err = String::new();
    shipper
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.is_empty(), "the shipper complained: {err}");

    // One chain: a full backup, then incrementals only.
    let out = ok(&[
        "backup",
        "list",
        &repo,
        "--json",
        "--passphrase-file",
        &pass,
    ]);
    let all: Vec<serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(all[0]["kind"], "full");
    assert!(all[1..].iter().all(|b| b["kind"] == "incremental"), "{out}");
    let r = tablesync(&[
        "backup",
        "verify",
        &repo,
        "--deep",
        "--passphrase-file",
        &pass,
    ]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}

/// Pseudo-random hex of `n` characters (rows that lz4 cannot shrink much).
fn noise(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).unwrap()
        })
        .collect()
}

#[test]
fn continuous_rounds_fetch_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    let repo = p(tmp.path(), "repo");
    let read_tokens = p(tmp.path(), "read-tokens");
    std::fs::write(&read_tokens, format!("{READ_TOKEN}\n")).unwrap();
    // About 1 MiB of rows.
    let rows: Vec<(i64, String, i64)> = (0..2000).map(|k| (k, noise(k as u64, 500), 1)).collect();
    let rows: Vec<(i64, &str, i64)> = rows.iter().map(|(k, v, t)| (*k, v.as_str(), *t)).collect();
    load(tmp.path(), &srv, "t", &rows);
    let server = Server::start(&srv, &read_tokens);
    let url = server.url.clone();

    let mut shipper = command()
        .args(["backup", "create", &url, &repo, "--continuous", "--json"])
        .args(["--interval", "200ms"])
        .env("TABLESYNC_TOKEN", READ_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("backup create --continuous starts");
    // One JSON line per backup written.
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let out = BufReader::new(shipper.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if let Ok(j) = serde_json::from_str(&line) {
                let _ = tx.send(j);
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(120))
            .expect("a backup round within the timeout")
    };
    let first = next();
    assert_eq!(first["kind"], "full", "{first}");
    assert_eq!(first["fetched"], "snapshot", "{first}");
    let snapshot_bytes = first["fetched_bytes"].as_u64().unwrap();
    assert!(snapshot_bytes > 800_000, "{first}");

    for burst in 0..3 {
        for k in 0..3 {
            server.put(10 * burst + k, &format!("burst-{burst}"));
        }
        // Rounds may split a burst; each ships only what changed since the
        // last one, so every round's transfer is small.
        let mut shipped = 0;
        while shipped < 3 {
            let round = next();
            assert_eq!(round["kind"], "incremental", "{round}");
            assert_eq!(round["fetched"], "delta", "{round}");
            let bytes = round["fetched_bytes"].as_u64().unwrap();
            assert!(
                bytes * 100 < snapshot_bytes,
                "a round of {} records fetched {bytes} bytes (snapshot {snapshot_bytes})",
                round["records"]
            );
            shipped += round["records"].as_u64().unwrap();
        }
        assert_eq!(shipped, 3, "burst {burst}");
    }
    let _ = shipper.kill();
    let _ = shipper.wait();

    let dest = p(tmp.path(), "restored");
    ok(&["restore", &repo, &dest]);
    same_as_server(&dest, &url);
    let r = tablesync(&["backup", "verify", &repo, "--deep"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}
