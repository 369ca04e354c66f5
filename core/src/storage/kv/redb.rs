//! TEMPORARY SHIM (lead's worktree only, replaced by the kv11 branch's
//! real redb store before merging): a MemKv per path, process-wide.
use super::{KvBatch, KvSnapshot, KvStore, MemKv};
use crate::model::error::Result;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

static STORES: OnceLock<Mutex<HashMap<PathBuf, Arc<MemKv>>>> = OnceLock::new();

/// Shim.
pub struct RedbKv(Arc<MemKv>);

impl RedbKv {
    /// Shim.
    pub fn open<V>(_vfs: V, path: &Path, _cache: u64) -> Result<Self> {
        let m = STORES.get_or_init(Default::default);
        Ok(RedbKv(
            m.lock()
                .unwrap()
                .entry(path.to_path_buf())
                .or_default()
                .clone(),
        ))
    }
}

impl KvStore for RedbKv {
    fn snapshot(&self) -> Result<Arc<dyn KvSnapshot>> {
        self.0.snapshot()
    }
    fn commit(&self, batch: &KvBatch, durable: bool) -> Result<()> {
        self.0.commit(batch, durable)
    }
}
