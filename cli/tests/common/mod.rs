//! Helpers shared by the CLI integration tests: run the built binary.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Output of one run, with text stdout/stderr.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `tablesync` with arguments.
pub fn tablesync(args: &[&str]) -> Run {
    tablesync_env(args, &[])
}

/// The `tablesync` binary as a command, with a clean environment for the
/// variables it reads.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tablesync"));
    c.env_remove("RUST_BACKTRACE").env_remove("TABLESYNC_TOKEN");
    c
}

/// Run `tablesync` with arguments and extra environment variables.
pub fn tablesync_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out: Output = c.output().expect("the tablesync binary runs");
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Run and require success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let r = tablesync(args);
    assert!(r.ok, "tablesync {args:?} failed: {}{}", r.stderr, r.stdout);
    r.stdout
}

/// Run and require failure with exactly one `error: CODE: …` line on stderr;
/// returns that line.
pub fn fails(args: &[&str], code: &str) -> String {
    let r = tablesync(args);
    assert!(
        !r.ok,
        "tablesync {args:?} should fail but printed {}",
        r.stdout
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one stderr line expected, got {:?}",
        r.stderr
    );
    let prefix = format!("error: {code}: ");
    assert!(
        lines[0].starts_with(&prefix),
        "expected {prefix}…, got {}",
        lines[0]
    );
    assert!(
        lines[0].len() > prefix.len() + 5,
        "message too short: {}",
        lines[0]
    );
    lines[0].to_string()
}

/// A path inside a temp dir, as a string.
pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// The digest `tablesync digest --verify` prints.
pub fn digest(db: &str, table: &str) -> String {
    let d = ok(&["digest", db, table, "--verify"]).trim().to_string();
    assert_eq!(d.len(), 64, "digest {d:?}");
    assert!(d.bytes().all(|b| b.is_ascii_hexdigit()));
    d
}

/// The value after `label` on the first line (trimmed) that starts with it.
pub fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no line starting {label:?} in:\n{out}"))
        .trim()
}

/// Write JSON Lines rows `{"primary_key":{"uid":k},"columns":{"v":...},"timestamps":{"v":ts}}`
/// for each `(k, v, ts)` into a new file and import them into `db`/`table`.
pub fn load(dir: &Path, db: &str, table: &str, rows: &[(i64, &str, i64)]) {
    load_with(dir, db, table, rows, &[]);
}

/// [`load`] with global options before the command (e.g. `--rows-in-memory`).
pub fn load_with(dir: &Path, db: &str, table: &str, rows: &[(i64, &str, i64)], global: &[&str]) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("load-{n}.jsonl"));
    let text: String = rows
        .iter()
        .map(|(k, v, ts)| {
            format!(
                "{{\"primary_key\":{{\"uid\":{k}}},\"columns\":{{\"v\":\"{v}\"}},\"timestamps\":{{\"v\":{ts}}}}}\n"
            )
        })
        .collect();
    std::fs::write(&file, text).unwrap();
    let file = file.to_string_lossy();
    let mut args = global.to_vec();
    args.extend(["import", db, table, &file, "--pk", "uid:INTEGER"]);
    ok(&args);
}

/// The `v` column of row `uid`, or `None` if the row does not exist.
pub fn value(db: &str, table: &str, uid: i64) -> Option<String> {
    let out = ok(&["get", db, table, "--pk", &format!("uid={uid}")]);
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    j.get("columns")
        .and_then(|c| c.get("v"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// A free TCP port on 127.0.0.1 (bound, then released for a child to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Poll `f` every 50 ms until it holds; panics after `secs` seconds.
/// Returns how long it took.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) -> std::time::Duration {
    let t = std::time::Instant::now();
    while !f() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    t.elapsed()
}

/// A region directory `tmp/name` for region `name`, made by `tablesync
/// import` of one seed row (`uid` 0) into table `t` (`uid:INTEGER`).
pub fn seeded(tmp: &Path, name: &str) -> String {
    let seed = tmp.join("seed.jsonl");
    std::fs::write(
        &seed,
        "{\"primary_key\":{\"uid\":0},\"columns\":{\"v\":\"seed\"},\"timestamps\":{\"v\":1}}\n",
    )
    .unwrap();
    let dir = p(tmp, name);
    ok(&[
        "--region",
        name,
        "import",
        &dir,
        "t",
        &seed.to_string_lossy(),
        "--pk",
        "uid:INTEGER",
    ]);
    dir
}

/// Whether row `uid = k` of table `t` is on the server `c` talks to.
pub fn has(c: &tablesync_http::RowClient, k: i64) -> bool {
    c.get_row("t", serde_json::json!({ "uid": k }))
        .unwrap()
        .is_some()
}

/// A `tablesync serve` child process, SIGKILLed when dropped.
pub struct Served {
    child: Option<std::process::Child>,
    /// Its base URL.
    pub url: String,
    /// Its region directory (stderr goes to `DIR.log`).
    pub dir: String,
    token: String,
    ca: Option<String>,
    /// Kept open: the server prints to it when it stops.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Served {
    /// Start `cmd` (a `serve` command line) with `token`, stderr appended to
    /// `DIR.log`, and wait for its "serving region" line. `ca`: the CA file
    /// its clients trust (https).
    pub fn spawn(
        cmd: &mut Command,
        dir: &str,
        url: String,
        token: &str,
        ca: Option<&str>,
    ) -> Served {
        use std::io::BufRead;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(format!("{dir}.log"))
            .unwrap();
        let mut child = cmd
            .env("TABLESYNC_TOKEN", token)
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("tablesync serve starts");
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("serving region '"), "{line}");
        Served {
            child: Some(child),
            url,
            dir: dir.to_string(),
            token: token.to_string(),
            ca: ca.map(str::to_string),
            _stdout: stdout,
        }
    }

    /// A row client for it (10 s timeout), sending `epoch` if given.
    pub fn client(&self, epoch: Option<u64>) -> tablesync_http::RowClient {
        let opts = tablesync_http::ClientOptions {
            ca_file: self.ca.clone().map(Into::into),
            timeout: std::time::Duration::from_secs(10),
            ..tablesync_http::ClientOptions::default()
        };
        tablesync_http::RowClient::new(&self.url, &self.token, &opts)
            .unwrap()
            .with_epoch(epoch)
    }

    /// `GET /v1/links`.
    pub fn links(&self) -> serde_json::Value {
        self.client(None).get("/v1/links").unwrap()
    }

    /// SIGKILL, and reap it.
    pub fn kill9(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM; it must exit cleanly (its log is shown if not).
    pub fn term(&mut self) {
        let mut c = self.child.take().unwrap();
        let st = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let status = c.wait().unwrap();
        let log = std::fs::read_to_string(format!("{}.log", self.dir)).unwrap_or_default();
        assert!(status.success(), "{status:?}; log:\n{log}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key) paths.
pub fn test_certs(dir: &std::path::Path, name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} CA"));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let path = |f: &str| {
        dir.join(format!("{name}-{f}"))
            .to_string_lossy()
            .to_string()
    };
    let out = (path("ca.pem"), path("cert.pem"), path("key.pem"));
    std::fs::write(&out.0, ca_cert.pem()).unwrap();
    std::fs::write(&out.1, cert.pem()).unwrap();
    std::fs::write(&out.2, key.serialize_pem()).unwrap();
    out
}

/// The `p` quantile (0.0–1.0, nearest rank) of `v`, which it sorts.
pub fn quantile(v: &mut [std::time::Duration], p: f64) -> std::time::Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}
