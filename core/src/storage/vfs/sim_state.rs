//! State of the simulated disk: files with their synced and unsynced
//! bytes, the current and the durable directory entries, and the fault plan.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

/// Faults the simulated disk injects. Counters (`*_at`) are 1-based and
/// count from when the plan is set; rates are chances per 1000 operations
/// of that kind, drawn from the disk's seeded generator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// The n-th file fsync fails (and, as on Linux, its unsynced data is lost).
    pub fail_fsync_at: Option<u64>,
    /// Chance per 1000 fsyncs of failing.
    pub fail_fsync_per_mille: u32,
    /// Total bytes the disk holds; a write past it writes what fits and
    /// fails with ENOSPC; a `set_len` that would grow past it fails with
    /// ENOSPC and changes nothing.
    pub capacity: Option<u64>,
    /// The n-th write (appending or positional) writes half its bytes and then fails.
    pub short_write_at: Option<u64>,
    /// Chance per 1000 writes of a short write.
    pub short_write_per_mille: u32,
    /// The n-th file read (whole-file or positional) returns its bytes with one bit flipped.
    pub flip_read_at: Option<u64>,
    /// Chance per 1000 reads of one flipped bit.
    pub flip_read_per_mille: u32,
}

/// What the simulated disk did (counted since it was made).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Mutating operations (create, write, set_len, fsync, rename, remove,
    /// dir sync, mkdir; positional writes count as writes).
    pub ops: u64,
    /// Writes.
    pub writes: u64,
    /// File fsyncs.
    pub fsyncs: u64,
    /// Directory fsyncs.
    pub dir_syncs: u64,
    /// Renames.
    pub renames: u64,
    /// File reads (whole-file and positional).
    pub reads: u64,
    /// Simulated power losses.
    pub crashes: u64,
    /// Failed fsyncs injected.
    pub fsync_failures: u64,
    /// ENOSPC errors returned.
    pub enospc: u64,
    /// Short writes injected.
    pub short_writes: u64,
    /// Bits flipped on read.
    pub bit_flips: u64,
}

/// One change made to a file since its last fsync.
#[derive(Clone, Debug)]
pub(super) enum Change {
    Write { at: usize, bytes: Vec<u8> },
    SetLen(usize),
}

impl Change {
    pub(super) fn apply(&self, data: &mut Vec<u8>) {
        match self {
            Change::Write { at, bytes } => {
                if data.len() < at + bytes.len() {
                    data.resize(at + bytes.len(), 0);
                }
                data[*at..at + bytes.len()].copy_from_slice(bytes);
            }
            Change::SetLen(n) => data.resize(*n, 0),
        }
    }
}

/// A file's bytes: what a reader sees now and what survives a power loss.
#[derive(Clone, Debug, Default)]
pub(super) struct Inode {
    pub data: Vec<u8>,
    pub durable: Vec<u8>,
    pub pending: Vec<Change>,
}

/// A directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Node {
    Dir,
    File(u64),
}

/// Everything behind a [`SimFs`](super::SimFs) handle.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Entries as the running system sees them.
    pub ns: BTreeMap<PathBuf, Node>,
    /// Entries that survive a power loss (updated by directory fsyncs).
    pub durable_ns: BTreeMap<PathBuf, Node>,
    pub inodes: HashMap<u64, Inode>,
    pub next_ino: u64,
    /// Bumped by every power loss; handles from older generations fail.
    pub generation: u64,
    /// Power was lost (by `crash_after`): every operation fails until restart.
    pub halted: bool,
    /// Halt after this many mutating operations in total.
    pub halt_at: Option<u64>,
    pub locks: HashMap<PathBuf, u64>,
    pub plan: FaultPlan,
    /// Operation counts when the plan was set (plan counters are relative).
    pub plan_base: SimStats,
    pub rng: u64,
    pub stats: SimStats,
}

pub(super) fn lost_power() -> io::Error {
    io::Error::other("simulated power loss: the disk is gone until restart")
}

impl State {
    pub fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.next_random() % 1000 < u64::from(per_mille)
    }

    /// Count one file read of `data` (whole-file or positional) and, per
    /// the fault plan, flip one of its bits.
    pub fn count_read(&mut self, data: &mut [u8]) {
        self.stats.reads += 1;
        let nth = self.stats.reads - self.plan_base.reads;
        let rate = self.plan.flip_read_per_mille;
        if !data.is_empty() && (self.plan.flip_read_at == Some(nth) || self.chance(rate)) {
            let bit = self.next_random() % (data.len() as u64 * 8);
            data[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.stats.bit_flips += 1;
        }
    }

    /// Refuse everything while halted.
    pub fn alive(&self) -> io::Result<()> {
        if self.halted {
            Err(lost_power())
        } else {
            Ok(())
        }
    }

    /// Count one mutating operation (after it took effect); halt if a crash
    /// point was reached.
    pub fn op_done(&mut self) {
        self.stats.ops += 1;
        if self.halt_at.is_some_and(|n| self.stats.ops >= n) {
            self.halted = true;
            self.halt_at = None;
        }
    }

    /// Bytes held by the files that have a name (removed files free their space).
    pub fn used_bytes(&self) -> u64 {
        self.ns
            .values()
            .filter_map(|n| match n {
                Node::File(i) => self.inodes.get(i).map(|f| f.data.len() as u64),
                Node::Dir => None,
            })
            .sum()
    }

    pub fn file(&self, path: &Path) -> io::Result<u64> {
        match self.ns.get(path) {
            Some(Node::File(ino)) => Ok(*ino),
            Some(Node::Dir) => Err(io::Error::other(format!(
                "{} is a directory",
                path.display()
            ))),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} not found", path.display()),
            )),
        }
    }

    /// Whether `path`'s parent exists as a directory (the root always does).
    pub fn parent_exists(ns: &BTreeMap<PathBuf, Node>, path: &Path) -> bool {
        match path.parent() {
            None => true,
            Some(p) if p.as_os_str().is_empty() || p.parent().is_none() => true,
            Some(p) => ns.get(p) == Some(&Node::Dir),
        }
    }
}
