//! The one-screen summary after `sync`, `verify` and the demo's sessions,
//! always told from SRC's side even when DST initiated.

use crate::rowjson::push_pk;
use indicatif::HumanBytes;
use tablesync::sync::{SyncDirection, SyncReport};
use tablesync::PrimaryKey;

/// Names of the two sides and who initiated.
pub struct Sides<'a> {
    /// Short name of SRC (`SRC`, or a region name in the demo).
    pub src: &'a str,
    /// Short name of DST.
    pub dst: &'a str,
    /// DST initiated (SRC is a server).
    pub swapped: bool,
}

/// One table's digests on SRC and DST, and the keys found to differ.
pub struct TableView {
    /// Table name.
    pub table: String,
    /// SRC's digest (hex), `None` if SRC lacks the table.
    pub src: Option<String>,
    /// DST's digest (hex), `None` if DST lacks the table.
    pub dst: Option<String>,
    /// Differing keys (verify only).
    pub differing_keys: Vec<PrimaryKey>,
}

impl TableView {
    /// Both sides hold the table with equal digests.
    pub fn matches(&self) -> bool {
        self.src.is_some() && self.src == self.dst
    }
}

/// What a session moved, from SRC's point of view.
pub struct Flow {
    /// Change records applied to SRC.
    pub records_into_src: u64,
    /// Rows merged into SRC.
    pub rows_into_src: u64,
    /// Change records applied to DST.
    pub records_into_dst: u64,
    /// Rows merged into DST.
    pub rows_into_dst: u64,
    /// Bytes that went from SRC to DST.
    pub bytes_to_dst: u64,
    /// Bytes that went from DST to SRC.
    pub bytes_to_src: u64,
    /// Per-table digests.
    pub tables: Vec<TableView>,
}

impl Flow {
    /// Turn an initiator's report around when DST initiated.
    pub fn of(r: &SyncReport, swapped: bool) -> Flow {
        let tables = r
            .tables
            .iter()
            .map(|t| {
                let (src, dst) = if swapped {
                    (t.remote.clone(), t.local.clone())
                } else {
                    (t.local.clone(), t.remote.clone())
                };
                TableView {
                    table: t.table.clone(),
                    src,
                    dst,
                    differing_keys: t.differing_keys.clone(),
                }
            })
            .collect();
        if swapped {
            Flow {
                records_into_src: r.records_pushed,
                rows_into_src: r.rows_pushed,
                records_into_dst: r.records_pulled,
                rows_into_dst: r.rows_pulled,
                bytes_to_dst: r.bytes_received,
                bytes_to_src: r.bytes_sent,
                tables,
            }
        } else {
            Flow {
                records_into_src: r.records_pulled,
                rows_into_src: r.rows_pulled,
                records_into_dst: r.records_pushed,
                rows_into_dst: r.rows_pushed,
                bytes_to_dst: r.bytes_sent,
                bytes_to_src: r.bytes_received,
                tables,
            }
        }
    }
}

/// The mode, and what `auto` chose.
pub fn mode_text(r: &SyncReport) -> String {
    match (r.mode.as_str(), r.fell_back_to_reconcile) {
        ("auto", true) => {
            "auto → reconcile (a change log no longer covered the other side)".to_string()
        }
        ("auto", false) => "auto → incremental".to_string(),
        (m, _) => m.to_string(),
    }
}

fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{n} B ({})", HumanBytes(n))
    }
}

/// A key as one JSON object.
pub fn key_json(pk: &PrimaryKey) -> String {
    let mut s = String::new();
    push_pk(&mut s, pk);
    s
}

/// Print the lines every session shares: initiator, round trips, bytes, duration.
fn print_transport(r: &SyncReport, f: &Flow, s: &Sides) {
    println!(
        "   initiator:    {}",
        if s.swapped {
            format!("{} (a server cannot initiate)", s.dst)
        } else {
            s.src.to_string()
        }
    );
    println!("   round trips:  {}", r.round_trips);
    println!(
        "   bytes:        {} {} → {}, {} {} → {}",
        bytes(f.bytes_to_dst),
        s.src,
        s.dst,
        bytes(f.bytes_to_src),
        s.dst,
        s.src
    );
    println!("   duration:     {} ms", r.duration_ms);
}

/// Print one table's digests; returns whether they match.
fn print_table(t: &TableView, s: &Sides, keys: Option<usize>) -> bool {
    let ok = t.matches();
    println!(
        "   table {}: {}",
        t.table,
        if ok { "MATCH" } else { "DIFFER" }
    );
    let d = |x: &Option<String>| x.clone().unwrap_or_else(|| "(no such table)".into());
    println!("      {} digest: {}", s.src, d(&t.src));
    println!("      {} digest: {}", s.dst, d(&t.dst));
    if let Some(limit) = keys {
        if !t.differing_keys.is_empty() {
            let n = t.differing_keys.len();
            println!(
                "      differing keys: {n}{}",
                if n > limit {
                    format!(" (first {limit} shown)")
                } else {
                    String::new()
                }
            );
            for k in t.differing_keys.iter().take(limit) {
                println!("         {}", key_json(k));
            }
        }
    }
    ok
}

/// The summary of a sync session (`direction` as seen from SRC).
pub fn print_sync(r: &SyncReport, s: &Sides, direction: SyncDirection) {
    let f = Flow::of(r, s.swapped);
    println!("   mode:         {}", mode_text(r));
    println!(
        "   direction:    {}",
        match direction {
            SyncDirection::Pull => format!("pull ({} into {})", s.dst, s.src),
            SyncDirection::Push => format!("push ({} into {})", s.src, s.dst),
            SyncDirection::Both => "both".to_string(),
        }
    );
    print_transport(r, &f, s);
    println!(
        "   into {}:{}{} records, {} rows",
        s.src,
        pad(s.src),
        f.records_into_src,
        f.rows_into_src
    );
    println!(
        "   into {}:{}{} records, {} rows",
        s.dst,
        pad(s.dst),
        f.records_into_dst,
        f.rows_into_dst
    );
    println!(
        "   verified:     {}",
        match (r.verified, direction) {
            (true, _) => "yes (every table's digests match)",
            (false, SyncDirection::Both) => "no (digests differ; see below)",
            (false, _) => "no (a one-way sync leaves the other side's own changes out)",
        }
    );
    for t in &f.tables {
        print_table(t, s, None);
    }
}

/// The report of a verify session; returns whether every table matches.
pub fn print_verify(r: &SyncReport, s: &Sides, keys: usize) -> bool {
    let f = Flow::of(r, s.swapped);
    print_transport(r, &f, s);
    let mut all = true;
    for t in &f.tables {
        all &= print_table(t, s, Some(keys));
    }
    all && r.verified
}

/// Spaces that line the value after `into NAME:` up with the other fields.
fn pad(name: &str) -> String {
    " ".repeat(8usize.saturating_sub(name.chars().count()).max(1))
}
