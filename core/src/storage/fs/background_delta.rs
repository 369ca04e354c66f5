//! Background delta checkpoints (issues 11 and 13): the delta file written
//! off the writer's path. [`VfsStorage::start_delta`] takes only names and
//! numbers (the chain link, what it covers) and resets the change counter;
//! [`DeltaFile`] writes the file through its own clone of the file system
//! (no access to the storage, so on another thread while writes go on);
//! [`VfsStorage::end_delta`] joins it to the chain and only then removes
//! the log segments it covers, or drops it when a full checkpoint replaced
//! the chain meanwhile. A failed delta forces the next checkpoint to be a
//! full one: the rows it held are no longer in the change tracking, but
//! every log record since the newest installed checkpoint is still on disk.

use super::delta::{decode_delta, delta_header, DeltaLink};
use super::io::{read_file, remove_files, write_file_atomic};
use super::names::{delta_name, segment_name};
use super::VfsStorage;
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use crate::storage::{DeltaFiles, DeltaPlan, Storage};
use std::path::{Path, PathBuf};

/// The background delta in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DeltaInFlight {
    /// Its chain link (`next_seq` is what it covers).
    pub link: DeltaLink,
    /// Log bytes since the checkpoint before it (given back if it fails).
    pub since: u64,
}

/// Write delta checkpoint `link` holding `frame` (temp file, fsync, rename,
/// directory fsync), then read it back; a file that does not read back as
/// written is removed (`CorruptData`). The inline and the background path
/// both write through here, so their bytes are the same.
pub(super) fn write_delta_file<V: Vfs>(
    vfs: &V,
    dir: &Path,
    link: DeltaLink,
    frame: &[u8],
) -> Result<()> {
    let name = delta_name(link.next_seq);
    let header = delta_header(link, frame);
    write_file_atomic(vfs, dir, &name, &[&header, frame])?;
    let back = read_file(vfs, dir, &name).and_then(|b| decode_delta(b, &name, link.next_seq));
    match back {
        Ok((l, b)) if l == link && b == frame => Ok(()),
        Ok(_) | Err(_) => {
            let _ = vfs.remove(&dir.join(&name));
            Err(Error::corrupt(format!(
                "delta checkpoint {name} did not read back as written; kept the previous checkpoint"
            )))
        }
    }
}

/// The file of one background delta, reached through a clone of the file
/// system.
struct DeltaFile<V: Vfs> {
    vfs: V,
    dir: PathBuf,
    link: DeltaLink,
}

impl<V: Vfs> DeltaFiles for DeltaFile<V> {
    fn write_delta(&self, frame: &[u8]) -> Result<()> {
        write_delta_file(&self.vfs, &self.dir, self.link, frame)
    }
}

impl<V: Vfs> VfsStorage<V> {
    /// Begin a background delta (see [`Storage::begin_delta`](crate::storage::Storage::begin_delta)).
    pub(super) fn start_delta(&mut self) -> Result<Option<DeltaPlan>> {
        self.check_failed()?;
        if self.delta_flight.is_some() || self.full_flight.is_some() {
            return Ok(None);
        }
        let Some((base, _)) = self.base else {
            return Ok(None);
        };
        // A migrated directory's manifest names this format before any delta.
        self.opened()?;
        let covers = self.next_seq;
        let prev = self.checkpoint.unwrap_or(base);
        if prev == covers {
            return Ok(None);
        }
        let link = DeltaLink {
            base,
            prev,
            next_seq: covers,
        };
        self.delta_flight = Some(DeltaInFlight {
            link,
            since: self.since_checkpoint,
        });
        // Appends from here on are the next checkpoint's.
        self.since_checkpoint = 0;
        Ok(Some(DeltaPlan {
            covers,
            files: Box::new(DeltaFile {
                vfs: self.vfs.clone(),
                dir: self.dir.clone(),
                link,
            }),
        }))
    }

    /// End the background delta covering up to `covers` (see
    /// [`Storage::finish_delta`](crate::storage::Storage::finish_delta)).
    pub(super) fn end_delta(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        let flight = match self.delta_flight {
            Some(f) if f.link.next_seq == covers => f,
            _ => {
                return Err(Error::invalid(format!(
                    "no background delta checkpoint covering records before {covers} is in flight"
                )))
            }
        };
        self.delta_flight = None;
        // While it was in flight no other delta was written (at most one
        // in flight, and inline checkpoints are full then): the chain's
        // tip moved only if a full checkpoint replaced the chain.
        if self.checkpoint != Some(flight.link.prev) {
            // That checkpoint covers at least as much; recovery would drop
            // this file too (it is not above the newest full checkpoint).
            let _ = remove_files(&self.vfs, &self.dir, &[delta_name(covers)]);
            return Ok(false);
        }
        let frame_len = match result.and_then(|n| self.check_failed().map(|()| n)) {
            Ok(n) => n,
            Err(e) => {
                // Its rows left the change tracking: the next checkpoint
                // covers everything (a full one), from the segments kept.
                self.force_full = true;
                self.since_checkpoint += flight.since;
                return Err(e);
            }
        };
        self.deltas.push(covers);
        self.delta_sizes.push(frame_len);
        self.delta_bytes += frame_len;
        self.checkpoint = Some(covers);
        // The segments wholly before the one holding record `covers` (or
        // the first record after) hold only covered records now.
        let keep = self
            .segments
            .iter()
            .rposition(|&s| s <= covers)
            .unwrap_or(0);
        let old: Vec<String> = self.segments.drain(..keep).map(segment_name).collect();
        remove_files(&self.vfs, &self.dir, &old)?;
        Ok(true)
    }
}
