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
    ok(&[
        "import",
        db,
        table,
        &file.to_string_lossy(),
        "--pk",
        "uid:INTEGER",
    ]);
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
