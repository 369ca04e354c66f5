//! Durable directory storage (placeholder until the fs module lands).
use super::{Recovered, Storage, SyncPolicy, WalEntry};
use crate::model::error::{Error, Result};
use std::path::Path;

/// A durable directory.
pub struct FsStorage;

impl FsStorage {
    /// Open or create `dir`.
    pub fn open(_dir: &Path, _sync: SyncPolicy, _checkpoint_bytes: u64) -> Result<FsStorage> {
        Err(Error::Io("durable storage is not built yet".into()))
    }
}

impl Storage for FsStorage {
    fn recover(&mut self) -> Result<Recovered> {
        unimplemented!()
    }
    fn append(&mut self, _e: &[WalEntry], _now: i64) -> Result<()> {
        unimplemented!()
    }
    fn flush(&mut self) -> Result<()> {
        unimplemented!()
    }
    fn checkpoint_due(&self) -> bool {
        false
    }
    fn checkpoint(&mut self, _s: &[u8]) -> Result<()> {
        unimplemented!()
    }
    fn is_durable(&self) -> bool {
        true
    }
}
