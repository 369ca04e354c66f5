//! `tablesync serve` in one process, `sync` and `verify` against its URL
//! from others, all on 127.0.0.1.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

const TOKEN: &str = "s3cret-token";

/// A running `tablesync serve`; killed if a test fails before stopping it.
struct Server {
    child: Option<Child>,
    url: String,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(dir: &str) -> Server {
        Server::start_with(dir, &["--token", TOKEN], &[])
    }

    fn start_with(dir: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = command()
            .args(["serve", dir, "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tablesync serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:") || w.starts_with("https://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        assert!(line.starts_with("serving region '"), "{line}");
        Server {
            child: Some(child),
            url,
            stdout,
        }
    }

    /// Send SIGTERM and return the rest of stdout and the exit status.
    fn stop(mut self) -> (String, std::process::ExitStatus) {
        let mut child = self.child.take().unwrap();
        let st = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(st.success());
        let status = child.wait().unwrap();
        let mut rest = String::new();
        for l in (&mut self.stdout).lines() {
            rest.push_str(&l.unwrap());
            rest.push('\n');
        }
        (rest, status)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn sync_and_verify_against_a_server_in_another_process() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    let a = p(tmp.path(), "a");
    let rows_srv: Vec<(i64, &str, i64)> = (1..=30).map(|k| (k, "srv", 1000)).collect();
    let rows_a: Vec<(i64, &str, i64)> = (20..=50).map(|k| (k, "a", 2000)).collect();
    load(tmp.path(), &srv, "t", &rows_srv);
    load(tmp.path(), &a, "t", &rows_a);
    let server = Server::start(&srv);
    let url = server.url.clone();

    // The served directory is locked by the server.
    fails(&["tables", &srv], "StorageLocked");

    // A wrong token: one error line, non-zero exit, nothing written.
    let before = digest(&a, "t");
    let line = fails(&["sync", &a, &url, "--token", "wrong"], "SyncError");
    assert!(line.contains("401"), "{line}");
    assert_eq!(digest(&a, "t"), before);
    // No token at all is refused before any request.
    fails(&["sync", &a, &url], "OTSParameterInvalid");

    // Both ways, the directory initiating.
    let out = ok(&["sync", &a, &url, "--token", TOKEN]);
    assert!(field(&out, "verified:").starts_with("yes"), "{out}");
    assert!(field(&out, "DST:").contains("(server)"), "{out}");
    assert_eq!(field(&out, "into SRC:"), "30 records, 0 rows", "{out}");
    assert_eq!(field(&out, "into DST:"), "31 records, 0 rows", "{out}");
    assert_eq!(value(&a, "t", 1).as_deref(), Some("srv"));
    let d = digest(&a, "t");
    assert_eq!(field(&out, "DST digest:"), d);

    // The token may come from the environment.
    let r = tablesync_env(&["verify", &a, &url], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);

    // The server as SRC: the new directory initiates and the direction is
    // mirrored (push = SRC's changes into DST).
    let c = p(tmp.path(), "c");
    let out = ok(&["sync", &url, &c, "--token", TOKEN, "--direction", "push"]);
    assert!(field(&out, "initiator:").starts_with("DST"), "{out}");
    assert_eq!(field(&out, "into DST:"), "61 records, 0 rows", "{out}");
    assert_eq!(field(&out, "into SRC:"), "0 records, 0 rows", "{out}");
    assert_eq!(digest(&c, "t"), d);

    // A change in c only: verify from the server's side lists it, exit 1.
    load(tmp.path(), &c, "t", &[(99, "c", 3000)]);
    let r = tablesync_env(&["verify", &url, &c], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("{\"uid\":99}"), "{}", r.stdout);
    assert_eq!(field(&r.stdout, "SRC digest:"), d);
    // Pull into the server (DST's changes into SRC), then both match.
    ok(&[
        "sync",
        &url,
        &c,
        "--token",
        TOKEN,
        "--direction",
        "pull",
        "--mode",
        "reconcile",
    ]);
    let r = tablesync_env(&["verify", &c, &url], &[("TABLESYNC_TOKEN", TOKEN)]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);

    // SIGTERM stops the server cleanly; its directory holds c's row.
    let (rest, status) = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("stopped;"), "{rest}");
    assert_eq!(value(&srv, "t", 99).as_deref(), Some("c"));
    assert_eq!(digest(&srv, "t"), digest(&c, "t"));
}

#[test]
fn serve_refuses_to_start_without_a_token_or_with_a_bad_address() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "srv");
    let line = fails(&["serve", &dir], "OTSParameterInvalid");
    assert!(line.contains("TABLESYNC_TOKEN"), "{line}");
    fails(&["serve", &dir, "--token", ""], "OTSParameterInvalid");
    fails(
        &["serve", &dir, "--token", "x", "--listen", "no-port"],
        "OTSParameterInvalid",
    );
    fails(
        &["serve", &dir, "--token", "x", "--max-body", "10"],
        "OTSParameterInvalid",
    );
    // Nothing was created by the refused starts.
    assert!(!tmp.path().join("srv").exists());
}

#[test]
fn an_unreachable_server_is_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    let a = p(tmp.path(), "a");
    load(tmp.path(), &a, "t", &[(1, "a", 1)]);
    let before = digest(&a, "t");
    // Port 1 on loopback: nothing listens there.
    let line = fails(
        &["sync", &a, "http://127.0.0.1:1", "--token", TOKEN],
        "SyncError",
    );
    assert!(line.contains("127.0.0.1:1"), "{line}");
    let r = tablesync(&["verify", &a, "http://127.0.0.1:1", "--token", TOKEN]);
    assert_eq!(r.code, Some(2), "verify's trouble status");
    assert!(r.stderr.starts_with("error: SyncError: "), "{}", r.stderr);
    assert_eq!(digest(&a, "t"), before);
}

#[test]
fn sigterm_during_a_stream_of_writes_loses_no_acknowledged_write() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    load(tmp.path(), &srv, "t", &[(0, "seed", 1)]);
    // The token comes from the environment, not argv.
    let server = Server::start_with(
        &srv,
        &["--shutdown-grace", "5"],
        &[("TABLESYNC_TOKEN", TOKEN)],
    );
    let url = server.url.clone();
    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4i64)
        .map(|w| {
            let (url, acked, count) = (url.clone(), acked.clone(), count.clone());
            std::thread::spawn(move || {
                let c = tablesync_http::RowClient::new(
                    &url,
                    TOKEN,
                    &tablesync_http::ClientOptions::default(),
                )
                .unwrap();
                for i in 0..5000i64 {
                    let k = 1 + w * 100_000 + i;
                    let r = c.put_row(
                        "t",
                        serde_json::json!({ "uid": k }),
                        serde_json::json!({ "v": "w" }),
                        "EXPECT_NOT_EXIST",
                    );
                    if r.is_err() {
                        break;
                    }
                    acked.lock().unwrap().push(k);
                    count.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let t = std::time::Instant::now();
    while count.load(Ordering::SeqCst) < 40 && t.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (rest, status) = server.stop();
    for w in writers {
        w.join().unwrap();
    }
    assert!(status.success(), "{status:?} {rest}");
    assert!(rest.contains("stopped;"), "{rest}");
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 40, "{} writes acknowledged", acked.len());
    let region = tablesync::storage::fs::read_manifest(
        &tablesync::storage::vfs::RealFs,
        std::path::Path::new(&srv),
    )
    .unwrap()
    .expect("a MANIFEST")
    .region;
    let db = tablesync::Database::open(&srv, tablesync::DatabaseOptions::new(region)).unwrap();
    for k in &acked {
        let row = db
            .get_row(
                "t",
                &tablesync::PrimaryKey::new([("uid", *k)]),
                &tablesync::GetOptions::default(),
            )
            .unwrap();
        assert!(
            row.is_some(),
            "acknowledged row {k} is missing after SIGTERM"
        );
    }
}

#[test]
fn serve_over_tls_with_a_token_file_and_sync_with_a_private_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = p(tmp.path(), "srv");
    let a = p(tmp.path(), "a");
    load(tmp.path(), &srv, "t", &[(1, "srv", 1000)]);
    load(tmp.path(), &a, "t", &[(2, "a", 2000)]);
    let (ca, cert, key) = test_certs(tmp.path(), "good");
    let (other_ca, _, _) = test_certs(tmp.path(), "other");
    let token_file = p(tmp.path(), "token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let server = Server::start_with(
        &srv,
        &[
            "--token-file",
            &token_file,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--log-format",
            "json",
        ],
        &[],
    );
    let url = server.url.clone();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // Without the CA, or with another one, the server is not trusted.
    let line = fails(&["sync", &a, &url, "--token", TOKEN], "SyncError");
    assert!(line.contains("https://"), "{line}");
    fails(
        &["sync", &a, &url, "--token", TOKEN, "--ca", &other_ca],
        "SyncError",
    );
    assert_eq!(value(&a, "t", 1), None);
    let out = ok(&["sync", &a, &url, "--token", TOKEN, "--ca", &ca]);
    assert!(field(&out, "verified:").starts_with("yes"), "{out}");
    assert_eq!(value(&a, "t", 1).as_deref(), Some("srv"));
    let r = tablesync_env(
        &["verify", &a, &url, "--ca", &ca],
        &[("TABLESYNC_TOKEN", TOKEN)],
    );
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let (rest, status) = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("stopped;"), "{rest}");
    assert_eq!(value(&srv, "t", 2).as_deref(), Some("a"));
}

#[test]
fn serve_refuses_plain_http_off_loopback_and_half_tls_options() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "srv");
    let line = fails(
        &["serve", &dir, "--token", "x", "--listen", "0.0.0.0:0"],
        "OTSParameterInvalid",
    );
    assert!(line.contains("--insecure-http"), "{line}");
    fails(
        &["serve", &dir, "--token", "x", "--tls-cert", "c.pem"],
        "UsageError",
    );
    fails(
        &["serve", &dir, "--token", "x", "--log-format", "xml"],
        "OTSParameterInvalid",
    );
    assert!(!tmp.path().join("srv").exists());
}
