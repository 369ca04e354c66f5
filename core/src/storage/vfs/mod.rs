//! The file operations durable storage needs, behind a trait, so that the
//! same storage code runs on the real file system ([`RealFs`], feature
//! `fs`) and on a simulated disk ([`SimFs`], every target, wasm included)
//! that can lose unsynced bytes in a simulated power loss and inject disk
//! faults (failed fsync, ENOSPC, short writes, bit flips on read).
//!
//! Paths are plain [`Path`]s; the simulated disk treats them as names and
//! never touches the host file system.

#[cfg(feature = "fs")]
mod real;
mod sim;
mod sim_state;

#[cfg(feature = "fs")]
pub use real::{RealFs, RealLock};
pub use sim::{CrashMode, SimFile, SimFs, SimLock};
pub use sim_state::{FaultPlan, SimStats};

use crate::model::error::Result;
use std::io;
use std::path::Path;

/// A file system: the directory-level operations of durable storage.
/// Clones reach the same files (a background fold works through one).
pub trait Vfs: Clone + Send + Sync + 'static {
    /// An open file (for writing).
    type File: VfsFile;
    /// Held while a directory is owned by one storage; dropping it releases it.
    type Lock: Send + Sync;

    /// Whether `path` is an existing directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// Create `path` and any missing parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Names of the entries of directory `dir` (in no particular order).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// The whole content of file `path`.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The length of file `path` in bytes (not a disk operation: no fault is
    /// injected and no operation is counted).
    fn len(&self, path: &Path) -> io::Result<u64>;
    /// Create (or truncate) file `path` for writing.
    fn create(&self, path: &Path) -> io::Result<Self::File>;
    /// Open existing file `path`; writes go to its end.
    fn open_append(&self, path: &Path) -> io::Result<Self::File>;
    /// Open file `path` for reads and writes at any offset
    /// ([`VfsFile::read_at`], [`VfsFile::write_at`]), creating it empty if
    /// missing (a created file's entry is durable once its directory is
    /// synced); an existing file keeps its bytes.
    fn open_rw(&self, path: &Path) -> io::Result<Self::File>;
    /// Rename `from` to `to`, replacing `to` (durable once the directory is synced).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Remove file `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Make the entries of directory `dir` (created, renamed, removed files) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Take exclusive ownership of directory `dir` (`StorageLocked` if taken).
    fn lock(&self, dir: &Path) -> Result<Self::Lock>;
}

/// An open file. Positional reads and writes need a file opened with
/// [`Vfs::open_rw`] (a file opened for appending writes at its end).
pub trait VfsFile: Send + Sync {
    /// Write all of `buf` at the end of the file (an error may leave a prefix written).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Write all of `buf` at byte `offset`, extending the file (with zeros
    /// up to `offset`) if it is shorter; an error may leave a prefix written.
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Fill `buf` with the bytes at `offset` (`UnexpectedEof` if the file
    /// ends before `offset + buf.len()`).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// The file's length in bytes now (not a disk operation).
    fn size(&self) -> io::Result<u64>;
    /// Cut or extend the file to `len` bytes (new bytes read as zeros).
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Force the file's data to stable storage.
    fn sync_data(&self) -> io::Result<()>;
    /// Force the file's data and metadata (its length) to stable storage.
    fn sync_all(&self) -> io::Result<()>;
}
