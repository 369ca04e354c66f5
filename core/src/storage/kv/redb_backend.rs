//! redb's [`StorageBackend`] over a [`VfsFile`], fenced after a failure.

use crate::model::error::{Error, Result};
use crate::storage::vfs::VfsFile;
use redb::StorageBackend;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a store stopped accepting writes, shared by the store, its
/// snapshots and its file. Once set, every write, resize and sync of the
/// file fails: after a failed fsync the kernel may have dropped dirty pages
/// and report a later fsync as good, so no later commit (not even redb's
/// commit when the store is closed) may make a state durable on top of them.
#[derive(Debug, Default)]
pub(super) struct Fence(Mutex<Option<String>>);

impl Fence {
    /// Stop for `why` (the first reason is kept).
    pub fn stop(&self, why: impl Into<String>) {
        let mut reason = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if reason.is_none() {
            *reason = Some(why.into());
        }
    }

    /// Why the store stopped, if it did.
    pub fn reason(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `StorageStopped` once stopped.
    pub fn check(&self) -> Result<()> {
        match self.reason() {
            Some(why) => Err(Error::Stopped(format!(
                "the page store stopped after an earlier failure ({why}); reopen it"
            ))),
            None => Ok(()),
        }
    }

    fn refuse(&self) -> io::Result<()> {
        match self.reason() {
            Some(why) => Err(io::Error::other(format!(
                "page store stopped after an earlier failure ({why})"
            ))),
            None => Ok(()),
        }
    }
}

/// A page store file as redb sees it.
pub(super) struct VfsBackend<F> {
    file: F,
    fence: Arc<Fence>,
}

impl<F> VfsBackend<F> {
    pub fn new(file: F, fence: Arc<Fence>) -> Self {
        VfsBackend { file, fence }
    }
}

impl<F> std::fmt::Debug for VfsBackend<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfsBackend")
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

impl<F: VfsFile + 'static> StorageBackend for VfsBackend<F> {
    fn len(&self) -> io::Result<u64> {
        self.file.size()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read_at(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.fence.refuse()?;
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.fence.refuse()?;
        self.file.sync_data().inspect_err(|e| {
            self.fence.stop(format!("fsync failed: {e}"));
        })
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.fence.refuse()?;
        self.file.write_at(offset, data)
    }
}
