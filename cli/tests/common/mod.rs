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
    let out: Output = Command::new(env!("CARGO_BIN_EXE_tablesync"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the tablesync binary runs");
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
