//! tablesync's page store (`storage::kv::RedbKv` over the real file system
//! through the core's `Vfs`): redb-ckpt-qr's commit rule — batches
//! non-durable, a durable commit (quick repair) every
//! [`crate::redb_store::CHECKPOINT_ROWS`] rows and at the end — with the
//! rows in the `pages` space. Set next to `redb-ckpt-qr`, it shows what the
//! store's own layers (Vfs backend, batches, snapshots) cost over redb's.

use crate::engine::{batches, text, Reader};
use crate::redb_store::CHECKPOINT_ROWS;
use crate::row_bytes;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use tablesync::storage::kv::{KvBatch, KvSnapshot, KvStore, RedbKv, Space};
use tablesync::storage::vfs::RealFs;

fn open_store(path: &Path, cache_bytes: u64) -> Result<RedbKv<RealFs>, String> {
    RedbKv::open(RealFs, path, cache_bytes).map_err(text)
}

/// Load rows 1..=n.
pub fn load(path: &Path, n: u64, cache_bytes: u64) -> Result<(), String> {
    write(&open_store(path, cache_bytes)?, n)
}

/// Rewrite rows 1..=rows, then exit without closing (a crash).
pub fn rewrite_then_exit(path: &Path, rows: u64, cache_bytes: u64) -> Result<(), String> {
    write(&open_store(path, cache_bytes)?, rows)?;
    std::process::exit(0)
}

fn write(store: &RedbKv<RealFs>, n: u64) -> Result<(), String> {
    for (start, end) in batches(n) {
        let mut b = KvBatch::default();
        for uid in start..=end {
            b.put(Space::Pages, row_bytes::key(uid), row_bytes::state(uid));
        }
        let durable = end as u64 == n || (end as u64).is_multiple_of(CHECKPOINT_ROWS);
        store.commit(&b, durable).map_err(text)?;
    }
    Ok(())
}

struct KvReader {
    // Keeps the store open for the snapshot's lifetime.
    _store: RedbKv<RealFs>,
    snap: Arc<dyn KvSnapshot>,
}

/// Open for reading (one snapshot for the whole phase).
pub fn open(path: &Path, cache_bytes: u64) -> Result<Box<dyn Reader>, String> {
    let store = open_store(path, cache_bytes)?;
    let snap = store.snapshot().map_err(text)?;
    Ok(Box::new(KvReader {
        _store: store,
        snap,
    }))
}

impl Reader for KvReader {
    fn get(&mut self, uid: i64) -> Result<bool, String> {
        match self
            .snap
            .get(Space::Pages, &row_bytes::key(uid))
            .map_err(text)?
        {
            Some(v) => row_bytes::decode(&v).map(|_| true),
            None => Ok(false),
        }
    }

    fn scan(&mut self, limit: u64) -> Result<u64, String> {
        self.walk(limit, true)
    }

    fn scan_raw(&mut self, limit: u64) -> Result<u64, String> {
        self.walk(limit, false)
    }
}

impl KvReader {
    fn walk(&mut self, limit: u64, decode: bool) -> Result<u64, String> {
        let mut rows = 0;
        let mut bad = None;
        self.snap
            .range(Space::Pages, &[], None, &mut |_, v| {
                if rows == limit {
                    return Ok(ControlFlow::Break(()));
                }
                if decode {
                    if let Err(e) = row_bytes::decode(v) {
                        bad = Some(e);
                        return Ok(ControlFlow::Break(()));
                    }
                } else {
                    std::hint::black_box(v.len());
                }
                rows += 1;
                Ok(ControlFlow::Continue(()))
            })
            .map_err(text)?;
        match bad {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }
}
