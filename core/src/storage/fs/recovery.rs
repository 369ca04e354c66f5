//! Reading a directory back: the newest checkpoint, then every log record
//! after it, with the rules of what counts as a torn write and what is
//! corruption.

use super::checkpoint::decode_checkpoint;
use super::delta::decode_delta;
use super::io::{io_error, read_file, truncate_file, write_file_atomic};
use super::names::{checkpoint_name, classify, delta_name, segment_name, FileKind};
use super::segment::{scan_segment, scan_unsynced_tail};
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use crate::storage::Recovered;
use crate::storage::SyncPolicy;
use std::path::Path;

/// The segment that appends continue in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// Its first record's sequence number.
    pub start: u64,
    /// Its length after dropping a torn final record.
    pub len: u64,
}

/// Everything recovery learned about a directory.
#[derive(Debug, Default)]
pub struct DirState {
    /// What the database replays.
    pub recovered: Recovered,
    /// Sequence number the newest checkpoint (full or delta) covers up to
    /// (exclusive).
    pub checkpoint: Option<u64>,
    /// The newest full checkpoint's sequence number and size in bytes.
    pub base: Option<(u64, u64)>,
    /// The delta checkpoints on top of it (sequence numbers, ascending) and
    /// their payload sizes in bytes.
    pub deltas: (Vec<u64>, Vec<u64>),
    /// Starts of the segments still needed, ascending.
    pub segments: Vec<u64>,
    /// Where to continue appending; `None` when a new segment starting at
    /// `next_seq` must be created (no segment yet, or all are covered).
    pub tail: Option<Tail>,
    /// Sequence number of the next record.
    pub next_seq: u64,
    /// Log bytes after the newest checkpoint.
    pub bytes_since_checkpoint: u64,
    /// Files no longer needed: older checkpoints, covered segments, temp files.
    pub obsolete: Vec<String>,
    /// Description of a torn final record that was dropped, if any.
    pub torn: Option<String>,
    /// Side file holding the bytes cut from the tail, if any were.
    pub saved_tail: Option<String>,
}

/// Name of the side file that keeps the bytes cut from `segment` at `offset`.
pub fn torn_name(segment: &str, offset: u64) -> String {
    format!("{segment}.torn-{offset}")
}

/// Recover `dir` (which the caller has locked). A torn final record of the
/// last segment is truncated away on disk; any other damage is an error.
///
/// Under [`SyncPolicy::Always`] a final record that is whole but fails its
/// checksum was possibly acknowledged: it is `CorruptData`, and the file is
/// left as it is (only `tablesync repair` cuts it). Otherwise the cut bytes
/// are first saved to `<segment>.torn-<offset>` (kept, never read back).
pub fn recover_dir<V: Vfs>(
    vfs: &V,
    dir: &Path,
    sync: SyncPolicy,
    paged: Option<u64>,
) -> Result<DirState> {
    let mut state = DirState::default();
    let mut checkpoints = Vec::new();
    let mut segments = Vec::new();
    let mut deltas = Vec::new();
    let entries = vfs
        .list(dir)
        .map_err(|e| io_error(format_args!("listing {}", dir.display()), e))?;
    for name in entries {
        match classify(&name) {
            FileKind::Segment(n) => segments.push(n),
            // A paged directory's state is in its page store: checkpoint
            // files are what a conversion to pages left behind.
            FileKind::Checkpoint(_) | FileKind::Delta(_) if paged.is_some() => {
                state.obsolete.push(name)
            }
            FileKind::Checkpoint(n) => checkpoints.push(n),
            FileKind::Delta(n) => deltas.push(n),
            FileKind::Temp => state.obsolete.push(name),
            FileKind::Other => {}
        }
    }
    checkpoints.sort_unstable();
    segments.sort_unstable();
    deltas.sort_unstable();

    // The newest checkpoint must be whole: it was renamed into place only
    // after being synced, so damage there is never a torn write.
    let mut covered = match checkpoints.pop() {
        Some(n) => {
            let name = checkpoint_name(n);
            let snap = decode_checkpoint(read_file(vfs, dir, &name)?, &name, n)?;
            state.base = Some((n, snap.len() as u64));
            state.recovered.snapshot = Some(snap);
            state.checkpoint = Some(n);
            state
                .obsolete
                .extend(checkpoints.iter().map(|&c| checkpoint_name(c)));
            n
        }
        None => paged.unwrap_or(1),
    };
    // Deltas at or before the full checkpoint belong to an older chain (a
    // full checkpoint was written after them); the rest must chain from it,
    // each renamed into place whole after the one before it. A delta's
    // `base` may be older than the full checkpoint: a background fold
    // (directory format 4) turned the chain up to that checkpoint into it
    // while later deltas, naming the chain's first base, were written.
    let base = state.base.map(|(n, _)| n);
    for d in deltas {
        let name = delta_name(d);
        if base.is_none_or(|b| d <= b) {
            if base.is_none() {
                return Err(Error::corrupt(format!(
                    "delta checkpoint {name} has no full checkpoint under it"
                )));
            }
            state.obsolete.push(name);
            continue;
        }
        let (link, payload) = decode_delta(read_file(vfs, dir, &name)?, &name, d)?;
        if base.is_none_or(|b| link.base > b) || link.prev != covered {
            return Err(Error::corrupt(format!(
                "delta checkpoint {name} builds on base {} and checkpoint {}, but the chain holds base {} up to {covered}",
                link.base,
                link.prev,
                base.unwrap_or(0)
            )));
        }
        state.deltas.0.push(d);
        state.deltas.1.push(payload.len() as u64);
        state.recovered.deltas.push(payload);
        state.checkpoint = Some(d);
        covered = d;
    }

    if segments.is_empty() {
        state.next_seq = covered;
        return Ok(state);
    }
    // The first needed segment is the last one starting at or before the
    // checkpoint; those before it hold only covered records.
    let Some(first) = segments.iter().rposition(|&s| s <= covered) else {
        return Err(Error::corrupt(format!(
            "records {covered} to {} are missing: the oldest log segment is {}{}",
            segments[0] - 1,
            segment_name(segments[0]),
            match state.checkpoint {
                Some(n) => format!(" and the newest checkpoint is {}", checkpoint_name(n)),
                None => " and there is no checkpoint".to_string(),
            }
        )));
    };
    state
        .obsolete
        .extend(segments[..first].iter().map(|&s| segment_name(s)));
    let needed = &segments[first..];
    let mut wal_next = needed[0];
    for (i, &start) in needed.iter().enumerate() {
        let name = segment_name(start);
        if start != wal_next {
            return Err(Error::corrupt(format!(
                "log segment {name} starts at record {start} but the segment before it ends before record {wal_next}: records are missing"
            )));
        }
        let is_last = i + 1 == needed.len();
        let bytes = read_file(vfs, dir, &name)?;
        let scan = if is_last && sync != SyncPolicy::Always {
            scan_unsynced_tail(&bytes, &name, start, covered)?
        } else {
            scan_segment(&bytes, &name, start, is_last, covered)?
        };
        state.recovered.entries.extend(scan.entries);
        state.bytes_since_checkpoint += scan.kept_bytes;
        wal_next = scan.next_seq;
        if is_last {
            if scan.damaged_final && sync == SyncPolicy::Always {
                return Err(Error::corrupt(format!(
                    "log segment {name}: {} at byte {}; under sync=always that record may have been acknowledged, so it is not cut (`tablesync repair` cuts it and keeps the bytes)",
                    scan.torn.as_deref().unwrap_or("damaged final record"),
                    scan.valid_len
                )));
            }
            if let Some(why) = scan.torn {
                let cut = &bytes[scan.valid_len as usize..];
                if !cut.is_empty() {
                    let side = torn_name(&name, scan.valid_len);
                    write_file_atomic(vfs, dir, &side, &[cut])?;
                    state.saved_tail = Some(side);
                }
                truncate_file(vfs, dir, &name, scan.valid_len)?;
                state.torn = Some(match &state.saved_tail {
                    Some(side) => format!("{name}: {why} (cut bytes kept in {side})"),
                    None => format!("{name}: {why}"),
                });
            }
            state.tail = Some(Tail {
                start,
                len: scan.valid_len,
            });
        }
    }
    state.segments = needed.to_vec();
    if wal_next < covered {
        // Every logged record is covered (the log lost unsynced records
        // the checkpoint already holds): continue in a new segment.
        state.tail = None;
    }
    state.next_seq = wal_next.max(covered);
    Ok(state)
}
