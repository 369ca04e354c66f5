//! [`SimFs`]: a simulated disk in memory that knows which bytes were
//! synced, loses the others in a simulated power loss, and injects faults.

use super::sim_state::{lost_power, Change, FaultPlan, Inode, Node, SimStats, State};
use super::{Vfs, VfsFile};
use crate::model::error::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// What survives a simulated power loss of the bytes written but not synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CrashMode {
    /// Nothing unsynced survives.
    #[default]
    DropUnsynced,
    /// Unsynced changes survive in order up to a random point, the last
    /// one cut to a random length (a torn write).
    Torn,
    /// Each unsynced change survives or not at random, independently of
    /// the others (the disk wrote its cache back out of order).
    Reorder,
}

/// A simulated disk. Clones share the same disk.
///
/// Directory entries (created, renamed, removed files) survive a power loss
/// only once their directory was synced; file bytes only once the file was.
#[derive(Clone, Debug)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

/// An open file of a [`SimFs`].
#[derive(Debug)]
pub struct SimFile {
    state: Arc<Mutex<State>>,
    ino: u64,
    generation: u64,
}

/// A directory lock of a [`SimFs`] (released on drop or by a power loss).
#[derive(Debug)]
pub struct SimLock {
    state: Arc<Mutex<State>>,
    dir: PathBuf,
    generation: u64,
}

fn guard(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn enospc() -> io::Error {
    io::Error::new(
        io::ErrorKind::StorageFull,
        "no space left on device (simulated)",
    )
}

impl Default for SimFs {
    fn default() -> Self {
        Self::new(0)
    }
}

impl SimFs {
    /// An empty disk whose random choices (faults, crash outcomes) follow `seed`.
    pub fn new(seed: u64) -> SimFs {
        let state = State {
            rng: seed,
            next_ino: 1,
            ..State::default()
        };
        SimFs {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        guard(&self.state)
    }

    /// Replace the fault plan (its counters start from now).
    pub fn set_faults(&self, plan: FaultPlan) {
        let mut s = self.st();
        s.plan_base = s.stats;
        s.plan = plan;
    }

    /// What the disk did so far.
    pub fn stats(&self) -> SimStats {
        self.st().stats
    }

    /// Lose power right after `n` more mutating operations (create, write,
    /// set_len, fsync, rename, remove, directory sync, mkdir): from then on
    /// every operation fails until [`crash`](Self::crash) restarts the disk.
    pub fn crash_after(&self, n: u64) {
        let mut s = self.st();
        s.halt_at = Some(s.stats.ops + n.max(1));
    }

    /// Whether power was lost by [`crash_after`](Self::crash_after).
    pub fn halted(&self) -> bool {
        self.st().halted
    }

    /// Simulate a power loss now and power the disk back on: only synced
    /// bytes and synced directory entries are kept (plus what `mode` lets
    /// survive). Files and locks opened before fail or are released.
    pub fn crash(&self, mode: CrashMode) {
        let mut s = self.st();
        s.stats.crashes += 1;
        s.generation += 1;
        s.halted = false;
        s.halt_at = None;
        s.locks.clear();
        let durable = s.durable_ns.clone();
        s.ns = durable
            .iter()
            // An entry survives only if every directory above it does (a
            // synced entry under a directory whose own entry was lost is gone).
            .filter(|(p, _)| p.ancestors().all(|a| State::parent_exists(&durable, a)))
            .map(|(p, n)| (p.clone(), *n))
            .collect();
        s.durable_ns = s.ns.clone();
        let live: std::collections::HashSet<u64> =
            s.ns.values()
                .filter_map(|n| match n {
                    Node::File(i) => Some(*i),
                    Node::Dir => None,
                })
                .collect();
        let mut inos: Vec<u64> = s.inodes.keys().copied().collect();
        inos.sort_unstable();
        for ino in inos {
            if !live.contains(&ino) {
                s.inodes.remove(&ino);
                continue;
            }
            let mut inode = s.inodes.remove(&ino).unwrap_or_default();
            let mut data = std::mem::take(&mut inode.durable);
            match mode {
                CrashMode::DropUnsynced => {}
                CrashMode::Torn if !inode.pending.is_empty() => {
                    let k = (s.next_random() % inode.pending.len() as u64) as usize;
                    for c in &inode.pending[..k] {
                        c.apply(&mut data);
                    }
                    match &inode.pending[k] {
                        Change::Write { at, bytes } => {
                            let cut = (s.next_random() % (bytes.len() as u64 + 1)) as usize;
                            Change::Write {
                                at: *at,
                                bytes: bytes[..cut].to_vec(),
                            }
                            .apply(&mut data);
                        }
                        c => c.apply(&mut data),
                    }
                }
                CrashMode::Torn => {}
                CrashMode::Reorder => {
                    for c in &inode.pending {
                        if matches!(c, Change::SetLen(_)) || s.next_random() % 2 == 0 {
                            c.apply(&mut data);
                        }
                    }
                }
            }
            s.inodes.insert(
                ino,
                Inode {
                    durable: data.clone(),
                    data,
                    pending: Vec::new(),
                },
            );
        }
    }

    /// Every file's current bytes (what a reader sees), by path.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let s = self.st();
        s.ns.iter()
            .filter_map(|(p, n)| match n {
                Node::File(i) => Some((p.clone(), s.inodes[i].data.clone())),
                Node::Dir => None,
            })
            .collect()
    }

    /// Bytes of all files not yet synced (written since their last fsync).
    pub fn unsynced_changes(&self) -> usize {
        self.st().inodes.values().map(|i| i.pending.len()).sum()
    }
}

impl Vfs for SimFs {
    type File = SimFile;
    type Lock = SimLock;

    fn is_dir(&self, path: &Path) -> bool {
        let s = self.st();
        path.parent().is_none() || s.ns.get(path) == Some(&Node::Dir)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.alive()?;
        let mut missing: Vec<PathBuf> = path
            .ancestors()
            .filter(|p| p.parent().is_some() && !p.as_os_str().is_empty())
            .take_while(|p| s.ns.get(*p) != Some(&Node::Dir))
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        for p in missing {
            if s.ns.contains_key(&p) {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} is a file", p.display()),
                ));
            }
            s.ns.insert(p, Node::Dir);
            s.op_done();
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.st();
        s.alive()?;
        Ok(s.ns
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect())
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let s = self.st();
        s.alive()?;
        let ino = s.file(path)?;
        Ok(s.inodes[&ino].data.len() as u64)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut s = self.st();
        s.alive()?;
        let ino = s.file(path)?;
        let mut data = s.inodes[&ino].data.clone();
        s.count_read(&mut data);
        Ok(data)
    }

    fn create(&self, path: &Path) -> io::Result<SimFile> {
        let mut s = self.st();
        s.alive()?;
        if !State::parent_exists(&s.ns, path) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no directory for {}", path.display()),
            ));
        }
        let ino = match s.ns.get(path) {
            Some(Node::File(ino)) => {
                let ino = *ino;
                let inode = s.inodes.get_mut(&ino).expect("live inode");
                inode.data.clear();
                inode.pending.push(Change::SetLen(0));
                ino
            }
            Some(Node::Dir) => return Err(io::Error::other("is a directory")),
            None => {
                let ino = s.next_ino;
                s.next_ino += 1;
                s.inodes.insert(ino, Inode::default());
                s.ns.insert(path.to_path_buf(), Node::File(ino));
                ino
            }
        };
        s.op_done();
        Ok(SimFile {
            state: self.state.clone(),
            ino,
            generation: s.generation,
        })
    }

    fn open_append(&self, path: &Path) -> io::Result<SimFile> {
        let s = self.st();
        s.alive()?;
        let ino = s.file(path)?;
        Ok(SimFile {
            state: self.state.clone(),
            ino,
            generation: s.generation,
        })
    }

    fn open_rw(&self, path: &Path) -> io::Result<SimFile> {
        let s = self.st();
        s.alive()?;
        if !s.ns.contains_key(path) {
            drop(s);
            // Created like `create` (counted as one disk operation).
            return self.create(path);
        }
        let ino = s.file(path)?;
        Ok(SimFile {
            state: self.state.clone(),
            ino,
            generation: s.generation,
        })
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.alive()?;
        let ino = s.file(from)?;
        if !State::parent_exists(&s.ns, to) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no target directory",
            ));
        }
        s.ns.remove(from);
        s.ns.insert(to.to_path_buf(), Node::File(ino));
        s.stats.renames += 1;
        s.op_done();
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.alive()?;
        s.file(path)?;
        s.ns.remove(path);
        s.op_done();
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.alive()?;
        let current: Vec<(PathBuf, Node)> =
            s.ns.iter()
                .filter(|(p, _)| p.parent() == Some(dir))
                .map(|(p, n)| (p.clone(), *n))
                .collect();
        s.durable_ns.retain(|p, _| p.parent() != Some(dir));
        s.durable_ns.extend(current);
        s.stats.dir_syncs += 1;
        s.op_done();
        Ok(())
    }

    fn lock(&self, dir: &Path) -> Result<SimLock> {
        let mut s = self.st();
        let generation = s.generation;
        if s.locks.get(dir) == Some(&generation) {
            return Err(Error::Locked(format!(
                "{} is open elsewhere (simulated disk)",
                dir.display()
            )));
        }
        s.locks.insert(dir.to_path_buf(), generation);
        Ok(SimLock {
            state: self.state.clone(),
            dir: dir.to_path_buf(),
            generation,
        })
    }
}

impl Drop for SimLock {
    fn drop(&mut self) {
        let mut s = guard(&self.state);
        if s.locks.get(&self.dir) == Some(&self.generation) {
            s.locks.remove(&self.dir);
        }
    }
}

impl SimFile {
    fn live(&self) -> io::Result<MutexGuard<'_, State>> {
        let s = guard(&self.state);
        s.alive()?;
        if s.generation != self.generation || !s.inodes.contains_key(&self.ino) {
            return Err(lost_power());
        }
        Ok(s)
    }
}

impl SimFile {
    /// Write `buf` at byte `offset` (`None`: at the end), with the fault
    /// plan's short writes and capacity: only the bytes that grow the file
    /// take room (those past its end, and the zeros between its end and
    /// `offset`).
    fn write_bytes(&self, offset: Option<u64>, buf: &[u8]) -> io::Result<()> {
        let mut s = self.live()?;
        s.stats.writes += 1;
        let nth = s.stats.writes - s.plan_base.writes;
        let rate = s.plan.short_write_per_mille;
        let short = s.plan.short_write_at == Some(nth) || s.chance(rate);
        let len = s.inodes[&self.ino].data.len();
        let at = match offset {
            Some(o) => usize::try_from(o).map_err(|_| enospc())?,
            None => len,
        };
        let room = match s.plan.capacity {
            Some(cap) => {
                let free = cap.saturating_sub(s.used_bytes());
                usize::try_from(free)
                    .unwrap_or(usize::MAX)
                    .saturating_add(len)
                    .saturating_sub(at)
            }
            None => usize::MAX,
        };
        let short = short && buf.len() / 2 <= room;
        let mut n = buf.len().min(room);
        if short {
            n = buf.len() / 2;
        }
        // An append records its change even when empty (as it always did:
        // the crash modes draw from the pending changes).
        if n > 0 || offset.is_none() {
            let inode = s.inodes.get_mut(&self.ino).expect("live inode");
            let change = Change::Write {
                at,
                bytes: buf[..n].to_vec(),
            };
            change.apply(&mut inode.data);
            inode.pending.push(change);
        }
        s.op_done();
        if n < buf.len() {
            if short {
                s.stats.short_writes += 1;
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "short write (simulated)",
                ));
            }
            s.stats.enospc += 1;
            return Err(enospc());
        }
        Ok(())
    }
}

impl VfsFile for SimFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write_bytes(None, buf)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.write_bytes(Some(offset), buf)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut s = self.live()?;
        let data = &s.inodes[&self.ino].data;
        let range = usize::try_from(offset)
            .ok()
            .and_then(|at| Some(at..at.checked_add(buf.len())?))
            .filter(|r| r.end <= data.len())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "read past the end of the file (simulated)",
                )
            })?;
        buf.copy_from_slice(&data[range]);
        s.count_read(buf);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        let s = self.live()?;
        Ok(s.inodes[&self.ino].data.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.live()?;
        let old = s.inodes[&self.ino].data.len() as u64;
        if let Some(cap) = s.plan.capacity {
            // Growing takes room, as on a file system that allocates it.
            if len > old && len - old > cap.saturating_sub(s.used_bytes()) {
                s.stats.enospc += 1;
                return Err(enospc());
            }
        }
        let inode = s.inodes.get_mut(&self.ino).expect("live inode");
        let change = Change::SetLen(len as usize);
        change.apply(&mut inode.data);
        inode.pending.push(change);
        s.op_done();
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut s = self.live()?;
        s.stats.fsyncs += 1;
        let nth = s.stats.fsyncs - s.plan_base.fsyncs;
        let rate = s.plan.fail_fsync_per_mille;
        let fail = s.plan.fail_fsync_at == Some(nth) || s.chance(rate);
        let inode = s.inodes.get_mut(&self.ino).expect("live inode");
        if fail {
            // As on Linux: the dirty pages are dropped (marked clean), the
            // error is reported once, and a retried fsync would succeed
            // without the data ever reaching the disk.
            inode.pending.clear();
        } else {
            // Only the changes since the last fsync reach the disk: bytes
            // dropped by an earlier failed fsync stay missing there.
            for c in inode.pending.drain(..) {
                c.apply(&mut inode.durable);
            }
        }
        if fail {
            s.stats.fsync_failures += 1;
        }
        s.op_done();
        if fail {
            return Err(io::Error::other("fsync failed: I/O error (simulated)"));
        }
        Ok(())
    }

    fn sync_all(&self) -> io::Result<()> {
        self.sync_data()
    }
}
