//! Offline check and repair of a region directory's files (the storage
//! half of `tablesync check DIR` / `tablesync repair DIR`; the façade's
//! `client::offline` replays what this reads and checks the digests).
//!
//! [`scan_dir`] only reads: every checkpoint and every segment.
//! [`repair_files`] fixes only what can be fixed without guessing — a
//! damaged or torn tail of the last segment, leftover temp files — and keeps
//! every byte it removes in a side file or a `repair-<n>/` folder.
//!
//! Both reach the files through a [`Vfs`] ([`scan_dir_in`],
//! [`repair_files_in`]), so they run on the simulated disk too; the plain
//! functions use the real file system.

use super::checkpoint::decode_checkpoint;
use super::delta::decode_delta;
use super::io::{io_error, sync_dir, write_file_atomic};
use super::names::{checkpoint_name, classify, delta_name, segment_name, FileKind};
use super::recovery::torn_name;
use super::segment::scan_segment;
use crate::digest::Digest;
use crate::model::error::{Error, Result};
use crate::storage::vfs::{RealFs, Vfs, VfsFile};
use crate::storage::{Recovered, Storage, WalEntry};
use std::path::Path;

/// What a directory check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The region the directory holds (from its manifest, else its checkpoint), if known.
    pub region: Option<String>,
    /// Checkpoint files read.
    pub checkpoints: Vec<String>,
    /// Segment files read.
    pub segments: Vec<String>,
    /// Commit records read in the segments still needed.
    pub records: u64,
    /// A torn tail opening would cut (normal after a crash under batch/never).
    pub torn_tail: Option<String>,
    /// Tables and their digests, each recomputed from the rows and checked (filled by the façade).
    pub tables: Vec<(String, Digest)>,
    /// Change-log records the region keeps (a paged region's stored ones
    /// included), each read back and decoded (filled by the façade).
    pub log_records: u64,
    /// Damage found; empty when the directory is sound.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Whether no damage was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a repair did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// What was changed, one line each (with where the removed bytes went).
    pub actions: Vec<String>,
    /// What the check finds afterwards.
    pub after: CheckReport,
}

/// A storage that hands back what a scan read and refuses every write.
pub struct ReadOnly(pub Option<Recovered>);

impl Storage for ReadOnly {
    fn recover(&mut self) -> Result<Recovered> {
        Ok(self.0.take().unwrap_or_default())
    }
    fn append(&mut self, _: &[WalEntry], _: i64) -> Result<()> {
        Err(Error::invalid(
            "the directory is opened read-only for a check",
        ))
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn checkpoint_due(&self) -> bool {
        false
    }
    fn checkpoint(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn is_durable(&self) -> bool {
        false
    }
}

type Listing = (Vec<u64>, Vec<u64>, Vec<String>, Vec<u64>);

fn list<V: Vfs>(vfs: &V, dir: &Path) -> Result<Listing> {
    let (mut cps, mut segs, mut temps, mut deltas) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let names = vfs
        .list(dir)
        .map_err(|e| io_error(format_args!("listing {}", dir.display()), e))?;
    for name in names {
        match classify(&name) {
            FileKind::Checkpoint(n) => cps.push(n),
            FileKind::Segment(n) => segs.push(n),
            FileKind::Delta(n) => deltas.push(n),
            FileKind::Temp => temps.push(name),
            FileKind::Other => {}
        }
    }
    cps.sort_unstable();
    segs.sort_unstable();
    temps.sort_unstable();
    deltas.sort_unstable();
    Ok((cps, segs, temps, deltas))
}

fn read<V: Vfs>(vfs: &V, dir: &Path, name: &str) -> Result<Vec<u8>> {
    vfs.read(&dir.join(name))
        .map_err(|e| io_error(format_args!("reading {name}"), e))
}

/// [`scan_dir_in`] on the real file system.
pub fn scan_dir(dir: &Path) -> Result<(CheckReport, Recovered)> {
    scan_dir_in(&RealFs, dir)
}

/// Read every checkpoint and segment of `dir` on `vfs` without changing it
/// (no lock is taken and nothing is cut); returns the findings and what a
/// replay needs.
pub fn scan_dir_in<V: Vfs>(vfs: &V, dir: &Path) -> Result<(CheckReport, Recovered)> {
    if !vfs.is_dir(dir) {
        return Err(io_error(
            format_args!("checking {}", dir.display()),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        ));
    }
    let mut rep = CheckReport::default();
    // The manifest names the region (a format-1 directory has none).
    let mut paged = false;
    match super::manifest::read_manifest(vfs, dir) {
        Ok(m) => {
            paged = m.as_ref().is_some_and(|m| m.paged);
            rep.region = m.map(|m| m.region);
        }
        Err(e) => rep.problems.push(e.to_string()),
    }
    let (mut cps, segs, _, mut deltas) = list(vfs, dir)?;
    let mut recovered = Recovered::default();
    let mut covered = 1;
    if paged {
        // A paged region: its state is in the page store (checkpoint files
        // are what a conversion left, removed on the next open).
        cps.clear();
        deltas.clear();
        match open_pages(vfs, dir) {
            Ok((pages, covers)) => {
                covered = covers;
                recovered.pages = Some(pages);
            }
            Err(e) => rep
                .problems
                .push(format!("{}: {e}", super::PAGE_STORE_FILE)),
        }
    }
    for (i, &n) in cps.iter().enumerate() {
        let name = checkpoint_name(n);
        rep.checkpoints.push(name.clone());
        match read(vfs, dir, &name).and_then(|b| decode_checkpoint(b, &name, n)) {
            Ok(snap) if i + 1 == cps.len() => {
                covered = n;
                recovered.snapshot = Some(snap);
            }
            Ok(_) => {}
            Err(e) => rep.problems.push(e.to_string()),
        }
    }
    // Delta checkpoints chained on the newest full one (older ones are
    // leftovers a full checkpoint made obsolete).
    let base = recovered.snapshot.as_ref().map(|_| covered);
    for d in deltas {
        let name = delta_name(d);
        rep.checkpoints.push(name.clone());
        if base.is_none_or(|b| d <= b) {
            if base.is_none() && cps.is_empty() {
                rep.problems
                    .push(format!("{name} has no full checkpoint under it"));
            }
            continue;
        }
        match read(vfs, dir, &name).and_then(|b| decode_delta(b, &name, d)) {
            // A delta may name an older base than the full checkpoint: a
            // background fold replaced the chain under it (format 4).
            Ok((link, payload))
                if base.is_some_and(|b| link.base <= b) && link.prev == covered =>
            {
                recovered.deltas.push(payload);
                covered = d;
            }
            Ok((link, _)) => rep.problems.push(format!(
                "{name} builds on base {} and checkpoint {}, but the chain holds base {} up to {covered}",
                link.base,
                link.prev,
                base.unwrap_or(0)
            )),
            Err(e) => rep.problems.push(e.to_string()),
        }
    }
    let first = segs.iter().rposition(|&s| s <= covered).unwrap_or(0);
    let mut next = None;
    for (i, &start) in segs.iter().enumerate() {
        let name = segment_name(start);
        rep.segments.push(name.clone());
        let is_last = i + 1 == segs.len();
        let bytes = match read(vfs, dir, &name) {
            Ok(b) => b,
            Err(e) => {
                rep.problems.push(e.to_string());
                continue;
            }
        };
        if i >= first && next.is_some_and(|n| n != start) {
            rep.problems.push(format!(
                "{name} starts at record {start}, the segment before it ends before {}",
                next.unwrap_or(0)
            ));
        }
        match scan_segment(&bytes, &name, start, is_last, covered) {
            Ok(scan) => {
                rep.records += scan.next_seq - start;
                if i >= first {
                    recovered.entries.extend(scan.entries);
                }
                next = Some(scan.next_seq);
                if let Some(t) = scan.torn {
                    let t = format!("{name}: {t}");
                    if scan.damaged_final {
                        rep.problems.push(format!(
                            "{t} (a whole final record fails its checksum: under sync=always it was acknowledged)"
                        ));
                    }
                    rep.torn_tail = Some(t);
                }
            }
            Err(e) => rep.problems.push(e.to_string()),
        }
    }
    if segs.first().is_some_and(|&s| s > covered) {
        rep.problems
            .push(format!("records {covered} to {} are missing", segs[0] - 1));
    }
    Ok((rep, recovered))
}

/// Open a paged directory's page store for reading: its state and the
/// commit sequence number it covers up to.
fn open_pages<V: Vfs>(vfs: &V, dir: &Path) -> Result<(crate::storage::PagedRecovery, u64)> {
    let store =
        crate::storage::kv::open_page_store(vfs, &dir.join(super::PAGE_STORE_FILE), 16 << 20)?;
    let snapshot = store.snapshot()?;
    // A check changes nothing: a store of the layout before format 6 is
    // migrated by the next open, not here (a format-6 store, whose pages
    // are all uncompressed, reads as it is).
    if crate::storage::kv::layout::store_format(&*snapshot)?
        < crate::storage::kv::layout::UNCOMPRESSED_STORE_FORMAT
    {
        return Err(crate::model::error::Error::UnsupportedVersion(
            "directory format 5: opening the region migrates it to format 8; check it then".into(),
        ));
    }
    let covers = super::read_covers(&*snapshot)?.unwrap_or(1);
    Ok((crate::storage::PagedRecovery { store, snapshot }, covers))
}

/// [`repair_files_in`] on the real file system.
pub fn repair_files(dir: &Path) -> Result<Vec<String>> {
    repair_files_in(&RealFs, dir)
}

/// Repair what can be repaired without guessing, keeping what is removed:
/// leftover `*.tmp` files move to `repair-<n>/`, and a damaged or torn tail
/// of the last segment is saved to `<segment>.torn-<offset>` and cut. Other
/// damage is left alone and reported by the check that follows (sync the
/// region from a peer instead). Takes the directory's lock; every change is
/// synced (files and directory entries) before it is reported.
pub fn repair_files_in<V: Vfs>(vfs: &V, dir: &Path) -> Result<Vec<String>> {
    let _lock = vfs.lock(dir)?;
    let mut actions = Vec::new();
    let (_, segs, temps, _) = list(vfs, dir)?;
    if !temps.is_empty() {
        let taken = vfs
            .list(dir)
            .map_err(|e| io_error(format_args!("listing {}", dir.display()), e))?;
        let mut n = 1;
        while taken.contains(&format!("repair-{n}")) {
            n += 1;
        }
        let keep = dir.join(format!("repair-{n}"));
        vfs.create_dir_all(&keep)
            .map_err(|e| io_error(format_args!("creating {}", keep.display()), e))?;
        for t in &temps {
            vfs.rename(&dir.join(t), &keep.join(t))
                .map_err(|e| io_error(format_args!("moving {t}"), e))?;
            actions.push(format!("moved {t} to repair-{n}/"));
        }
        sync_dir(vfs, &keep)?;
        sync_dir(vfs, dir)?;
    }
    if let Some(&start) = segs.last() {
        let name = segment_name(start);
        let bytes = read(vfs, dir, &name)?;
        if let Ok(scan) = scan_segment(&bytes, &name, start, true, u64::MAX) {
            if scan.torn.is_some() && (scan.valid_len as usize) < bytes.len() {
                let side = torn_name(&name, scan.valid_len);
                write_file_atomic(vfs, dir, &side, &[&bytes[scan.valid_len as usize..]])?;
                let f = vfs
                    .open_append(&dir.join(&name))
                    .map_err(|e| io_error(format_args!("opening {name}"), e))?;
                f.set_len(scan.valid_len)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| io_error(format_args!("truncating {name}"), e))?;
                actions.push(format!(
                    "cut {name} at byte {} ({}); the {} cut bytes are in {side}",
                    scan.valid_len,
                    scan.torn.as_deref().unwrap_or("torn tail"),
                    bytes.len() - scan.valid_len as usize
                ));
            }
        }
    }
    Ok(actions)
}
