//! Background full checkpoints (issues 11 and 13): the full checkpoint a
//! background-delta driver needs (no base yet, a failed delta, a chain at
//! its limit) written off the writer's path. [`VfsStorage::start_full`]
//! takes only names and numbers and resets the change counter;
//! [`FullFile`] writes the file through its own clone of the file system;
//! [`VfsStorage::end_full`] makes it the base and only then removes the
//! delta chain, the old full checkpoint and the log segments it covers, or
//! drops it when a newer full checkpoint was written meanwhile. Until the
//! install, recovery may already take the renamed file as the newest full
//! checkpoint: it covers records that are all still in the segments.

use super::checkpoint::{checkpoint_header, decode_checkpoint};
use super::io::{read_file, remove_files, write_file_atomic};
use super::names::{checkpoint_name, delta_name, segment_name};
use super::VfsStorage;
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use crate::storage::{FullFiles, FullPlan, Storage};
use std::path::{Path, PathBuf};

/// The background full checkpoint in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FullInFlight {
    /// The commit sequence number it covers up to (its file's name).
    pub covers: u64,
    /// Log bytes since the checkpoint before it (given back if it fails).
    pub since: u64,
}

/// Write full checkpoint `covers` holding `snapshot` (temp file, fsync,
/// rename, directory fsync), then read it back; a file that does not read
/// back as written is removed (`CorruptData`).
pub(super) fn write_full_file<V: Vfs>(
    vfs: &V,
    dir: &Path,
    covers: u64,
    snapshot: &[u8],
) -> Result<()> {
    let name = checkpoint_name(covers);
    let header = checkpoint_header(covers, snapshot);
    write_file_atomic(vfs, dir, &name, &[&header, snapshot])?;
    let back = read_file(vfs, dir, &name).and_then(|b| decode_checkpoint(b, &name, covers));
    match back {
        Ok(b) if b == snapshot => Ok(()),
        Ok(_) | Err(_) => {
            let _ = vfs.remove(&dir.join(&name));
            Err(Error::corrupt(format!(
                "checkpoint {name} did not read back as written; kept the previous checkpoint"
            )))
        }
    }
}

/// The file of one background full checkpoint, reached through a clone of
/// the file system.
struct FullFile<V: Vfs> {
    vfs: V,
    dir: PathBuf,
    covers: u64,
}

impl<V: Vfs> FullFiles for FullFile<V> {
    fn write_full(&self, snapshot: &[u8]) -> Result<()> {
        write_full_file(&self.vfs, &self.dir, self.covers, snapshot)
    }
}

impl<V: Vfs> VfsStorage<V> {
    /// Begin a background full checkpoint (see [`Storage::begin_full`](crate::storage::Storage::begin_full)).
    pub(super) fn start_full(&mut self) -> Result<Option<FullPlan>> {
        self.check_failed()?;
        if !self.background_deltas || self.delta_flight.is_some() || self.full_flight.is_some() {
            return Ok(None);
        }
        let covers = self.next_seq;
        // Nothing appended since the newest checkpoint: no file to write
        // (and a fold in flight may be writing this very name).
        if self.checkpoint.or(self.base.map(|(b, _)| b)) == Some(covers)
            || self.folding.is_some_and(|f| f.covers == covers)
        {
            return Ok(None);
        }
        // A migrated directory's manifest names this format before any checkpoint.
        self.opened()?;
        self.full_flight = Some(FullInFlight {
            covers,
            since: self.since_checkpoint,
        });
        // Appends from here on are the next checkpoint's.
        self.since_checkpoint = 0;
        Ok(Some(FullPlan {
            covers,
            files: Box::new(FullFile {
                vfs: self.vfs.clone(),
                dir: self.dir.clone(),
                covers,
            }),
        }))
    }

    /// End the background full checkpoint covering up to `covers` (see
    /// [`Storage::finish_full`](crate::storage::Storage::finish_full)).
    pub(super) fn end_full(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        let flight = match self.full_flight {
            Some(f) if f.covers == covers => f,
            _ => {
                return Err(Error::invalid(format!(
                    "no background full checkpoint covering records before {covers} is in flight"
                )))
            }
        };
        self.full_flight = None;
        // While it was in flight no delta was written (none begins, and
        // inline checkpoints are full then): the base moved past it only
        // if an inline full checkpoint covering more was written.
        if self.base.is_some_and(|(b, _)| b > covers) {
            let _ = remove_files(&self.vfs, &self.dir, &[checkpoint_name(covers)]);
            return Ok(false);
        }
        let snapshot_len = match result.and_then(|n| self.check_failed().map(|()| n)) {
            Ok(n) => n,
            Err(e) => {
                // Its rows left the change tracking: the next checkpoint
                // covers everything (a full one), from the segments kept.
                // A file renamed before the failure is a correct checkpoint
                // but not installed: remove it (best effort; recovery may
                // take it, it covers only records still in the segments).
                if self.base.is_none_or(|(b, _)| b != covers) {
                    let _ = remove_files(&self.vfs, &self.dir, &[checkpoint_name(covers)]);
                }
                self.force_full = true;
                self.since_checkpoint += flight.since;
                return Err(e);
            }
        };
        let mut obsolete: Vec<String> = self.deltas.drain(..).map(delta_name).collect();
        self.delta_sizes.clear();
        self.delta_bytes = 0;
        if let Some((old, _)) = self.base.filter(|&(b, _)| b != covers) {
            obsolete.push(checkpoint_name(old));
        }
        self.base = Some((covers, snapshot_len));
        self.checkpoint = Some(covers);
        self.force_full = false;
        // The segments wholly before the one holding record `covers` (or
        // the first record after) hold only covered records now.
        let keep = self
            .segments
            .iter()
            .rposition(|&s| s <= covers)
            .unwrap_or(0);
        obsolete.extend(self.segments.drain(..keep).map(segment_name));
        // The checkpoint is durable (renamed, the directory synced) and
        // proven; whichever of these removals a crash cuts, recovery takes
        // the newest full checkpoint and drops the rest.
        remove_files(&self.vfs, &self.dir, &obsolete)?;
        Ok(true)
    }
}
