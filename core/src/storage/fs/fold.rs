//! Background folds (directory format 4): the delta chain turned into a
//! full checkpoint off the writer's path. [`VfsStorage::start_fold`] takes
//! only names and numbers; [`ChainFiles`] reads the chain and writes the
//! folded checkpoint through its own clone of the file system (no access to
//! the storage, so on another thread while writes go on);
//! [`VfsStorage::end_fold`] makes it the chain's base, or drops it when a
//! full checkpoint replaced the chain meanwhile.

use super::checkpoint::{checkpoint_header, decode_checkpoint};
use super::delta::decode_delta;
use super::io::{read_file, remove_files, write_file_atomic};
use super::names::{checkpoint_name, delta_name};
use super::VfsStorage;
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use crate::storage::{FoldFiles, FoldPlan, Storage};
use std::path::PathBuf;

/// The fold in flight: the full checkpoint it starts from and what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct InFlight {
    /// `next_seq` of the full checkpoint under the folded deltas.
    pub base: u64,
    /// `next_seq` of the newest folded delta (and of the folded checkpoint).
    pub covers: u64,
}

/// The files of one fold, reached through a clone of the file system.
struct ChainFiles<V: Vfs> {
    vfs: V,
    dir: PathBuf,
    base: u64,
    deltas: Vec<u64>,
}

impl<V: Vfs> ChainFiles<V> {
    fn covers(&self) -> u64 {
        self.deltas.last().copied().unwrap_or(self.base)
    }
}

impl<V: Vfs> ChainFiles<V> {
    /// A file of the chain; one that is gone is `CorruptData` (unless a
    /// full checkpoint replaced the chain, which `end_fold` sees first).
    fn read(&self, name: &str) -> Result<Vec<u8>> {
        match self.vfs.read(&self.dir.join(name)) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::corrupt(format!(
                "{name} of the chain being folded is missing"
            ))),
            Err(_) => read_file(&self.vfs, &self.dir, name),
        }
    }
}

impl<V: Vfs> FoldFiles for ChainFiles<V> {
    fn read_chain(&self) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        let name = checkpoint_name(self.base);
        let snap = decode_checkpoint(self.read(&name)?, &name, self.base)?;
        let mut prev = self.base;
        let mut deltas = Vec::with_capacity(self.deltas.len());
        for &d in &self.deltas {
            let name = delta_name(d);
            let (link, payload) = decode_delta(self.read(&name)?, &name, d)?;
            if link.base > self.base || link.prev != prev {
                return Err(Error::corrupt(format!(
                    "delta checkpoint {name} builds on base {} and checkpoint {}, but the fold's chain holds base {} up to {prev}",
                    link.base, link.prev, self.base
                )));
            }
            prev = d;
            deltas.push(payload);
        }
        Ok((snap, deltas))
    }

    fn write_folded(&self, snapshot: &[u8]) -> Result<()> {
        let covers = self.covers();
        let name = checkpoint_name(covers);
        let header = checkpoint_header(covers, snapshot);
        write_file_atomic(&self.vfs, &self.dir, &name, &[&header, snapshot])?;
        let back = read_file(&self.vfs, &self.dir, &name)
            .and_then(|b| decode_checkpoint(b, &name, covers));
        match back {
            Ok(b) if b == snapshot => Ok(()),
            Ok(_) | Err(_) => {
                let _ = self.vfs.remove(&self.dir.join(&name));
                Err(Error::corrupt(format!(
                    "folded checkpoint {name} did not read back as written; kept the chain"
                )))
            }
        }
    }
}

impl<V: Vfs> VfsStorage<V> {
    /// Begin a fold of the whole current chain (see [`Storage::begin_fold`](crate::storage::Storage::begin_fold)).
    pub(super) fn start_fold(&mut self) -> Option<FoldPlan> {
        if self.folding.is_some() {
            return None;
        }
        let (base, _) = self.base?;
        let covers = *self.deltas.last()?;
        self.folding = Some(InFlight { base, covers });
        Some(FoldPlan {
            covers,
            files: Box::new(ChainFiles {
                vfs: self.vfs.clone(),
                dir: self.dir.clone(),
                base,
                deltas: self.deltas.clone(),
            }),
        })
    }

    /// End the fold covering up to `covers` (see [`Storage::finish_fold`](crate::storage::Storage::finish_fold)).
    pub(super) fn end_fold(&mut self, covers: u64, result: Result<u64>) -> Result<bool> {
        let fold = match self.folding {
            Some(f) if f.covers == covers => f,
            _ => {
                return Err(Error::invalid(format!(
                    "no background fold covering records before {covers} is in flight"
                )))
            }
        };
        self.folding = None;
        let current = self.base.is_some_and(|(b, _)| b == fold.base)
            && self.deltas.binary_search(&covers).is_ok();
        if !current {
            // A full checkpoint replaced the chain while the fold ran: its
            // file (if it got written) covers less than that checkpoint.
            if self.base.is_none_or(|(b, _)| b != covers) {
                let _ = remove_files(&self.vfs, &self.dir, &[checkpoint_name(covers)]);
            }
            return Ok(false);
        }
        let snapshot_len = result?;
        self.check_failed()?;
        // A directory migrated from format 3 names format 4 before its
        // chain ever starts below its full checkpoint.
        self.opened()?;
        let folded = self.deltas.partition_point(|&d| d <= covers);
        let mut obsolete = vec![checkpoint_name(fold.base)];
        obsolete.extend(self.deltas.drain(..folded).map(delta_name));
        self.delta_sizes.drain(..folded);
        self.delta_bytes = self.delta_sizes.iter().sum();
        self.base = Some((covers, snapshot_len));
        // The folded checkpoint is durable (renamed and the directory
        // synced) and proven; whichever of these removals a crash cuts,
        // recovery takes the newest full checkpoint and drops the rest.
        remove_files(&self.vfs, &self.dir, &obsolete)?;
        Ok(true)
    }
}
