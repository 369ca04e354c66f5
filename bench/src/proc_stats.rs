//! Process and disk figures the storage benches print: resident memory
//! from `/proc/self/status` and the bytes a database left on disk.

use std::path::Path;

/// A `/proc/self/status` field in KiB (`VmHWM:` peak resident, `VmRSS:`
/// resident now); 0 where /proc is missing.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Bytes of a file, or of every file under a directory.
pub fn dir_bytes(p: &Path) -> u64 {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::fs::read_dir(p)
            .map(|es| es.flatten().map(|e| dir_bytes(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}
