//! Resident memory for many rows, each measured in a fresh child process
//! so earlier allocations do not blur the figure.

use crate::data::{self, TABLE};
use tablesync::{Database, DatabaseOptions, Retention};

/// VmRSS of this process in KiB (0 where /proc is missing).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// What a child measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// tablesync in memory, default retention (the change log keeps every record).
    Ours,
    /// tablesync in memory, change log capped at 10,000 records.
    OursCappedLog,
    /// SQLite in memory.
    Sqlite,
}

impl Kind {
    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::OursCappedLog => "ours-capped-log",
            Kind::Sqlite => "sqlite",
        }
    }
    /// Parse a command-line name.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Ours, Kind::OursCappedLog, Kind::Sqlite]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// Run in the child: load `rows` rows, print `rss_before_kib rss_after_kib raw_bytes`.
pub fn child(kind: Kind, rows: u64) -> Result<(), String> {
    let before = rss_kib();
    let mut raw = 0u64;
    let mut ours = match kind {
        Kind::Ours => {
            Some(Database::memory(DatabaseOptions::new("mem")).map_err(|e| e.to_string())?)
        }
        Kind::OursCappedLog => Some(
            Database::memory(DatabaseOptions::new("mem").retention(Retention {
                max_records: Some(10_000),
                max_age_ms: None,
            }))
            .map_err(|e| e.to_string())?,
        ),
        Kind::Sqlite => None,
    };
    if let Some(db) = ours.as_mut() {
        db.create_table(data::schema()).map_err(|e| e.to_string())?;
    }
    let dir = std::env::temp_dir();
    let mut conn = match kind {
        Kind::Sqlite => Some(
            crate::sqlite::open(crate::sqlite::Mode::Memory, &dir).map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let mut start = 1u64;
    while start <= rows {
        let end = (start + 199).min(rows);
        let recs: Vec<_> = (start..=end).map(|u| data::rec(u as i64)).collect();
        raw += recs.iter().map(|r| r.raw_bytes() as u64).sum::<u64>();
        if let Some(db) = ours.as_mut() {
            for r in db
                .batch_write(recs.iter().map(|r| r.put()).collect())
                .map_err(|e| e.to_string())?
            {
                r.map_err(|e| e.to_string())?;
            }
        }
        if let Some(c) = conn.as_mut() {
            crate::sqlite::insert_batched(c, &recs).map_err(|e| e.to_string())?;
        }
        start = end + 1;
    }
    if let Some(db) = &ours {
        let n = db
            .describe_table(TABLE)
            .map_err(|e| e.to_string())?
            .row_count;
        if n != rows {
            return Err(format!("{n} rows loaded, expected {rows}"));
        }
        let s = db.page_stats(TABLE).map_err(|e| e.to_string())?;
        eprintln!(
            "pages: {} rows in {} pages, keys {} B, states {} B, allocated {} B",
            s.rows, s.pages, s.key_bytes, s.state_bytes, s.allocated
        );
    }
    let after = rss_kib();
    println!("{before} {after} {raw}");
    Ok(())
}

/// Run a child and read its figures: (resident bytes added, raw bytes).
pub fn measure(kind: Kind, rows: u64) -> Result<(u64, u64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .args([
            "--memory-child",
            kind.name(),
            "--mem-rows",
            &rows.to_string(),
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "memory child {} failed: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    match v.as_slice() {
        [before, after, raw] => Ok((after.saturating_sub(*before) * 1024, *raw)),
        _ => Err(format!("memory child printed {text:?}")),
    }
}
