//! fjall (an LSM tree): one partition, the same key and value bytes as
//! redb, block cache set with `Config::cache_size`. Each batch is written
//! to the OS (`PersistMode::Buffer`: a process crash loses nothing, like
//! SQLite's `synchronous=NORMAL`); one fsync at the end.

use crate::engine::{batches, text, Reader};
use crate::row_bytes;
use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};
use std::path::Path;

fn keyspace(path: &Path, cache_bytes: u64) -> Result<(Keyspace, PartitionHandle), String> {
    let ks = Config::new(path)
        .cache_size(cache_bytes)
        .open()
        .map_err(text)?;
    let p = ks
        .open_partition("users", PartitionCreateOptions::default())
        .map_err(text)?;
    Ok((ks, p))
}

/// Load rows 1..=n.
pub fn load(path: &Path, n: u64, cache_bytes: u64) -> Result<(), String> {
    let (ks, p) = keyspace(path, cache_bytes)?;
    write(&ks, &p, n)?;
    ks.persist(PersistMode::SyncAll).map_err(text)
}

/// Rewrite rows 1..=rows, then exit without persisting or closing.
pub fn rewrite_then_exit(path: &Path, rows: u64, cache_bytes: u64) -> Result<(), String> {
    let (ks, p) = keyspace(path, cache_bytes)?;
    write(&ks, &p, rows)?;
    std::process::exit(0)
}

fn write(ks: &Keyspace, p: &PartitionHandle, n: u64) -> Result<(), String> {
    for (start, end) in batches(n) {
        let mut b = ks.batch().durability(Some(PersistMode::Buffer));
        for uid in start..=end {
            b.insert(p, row_bytes::key(uid), row_bytes::state(uid));
        }
        b.commit().map_err(text)?;
    }
    Ok(())
}

struct FjallReader {
    _ks: Keyspace,
    p: PartitionHandle,
}

/// Open for reading.
pub fn open(path: &Path, cache_bytes: u64) -> Result<Box<dyn Reader>, String> {
    let (ks, p) = keyspace(path, cache_bytes)?;
    Ok(Box::new(FjallReader { _ks: ks, p }))
}

impl Reader for FjallReader {
    fn get(&mut self, uid: i64) -> Result<bool, String> {
        match self.p.get(row_bytes::key(uid)).map_err(text)? {
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

impl FjallReader {
    fn walk(&mut self, limit: u64, decode: bool) -> Result<u64, String> {
        let mut rows = 0;
        for kv in self.p.iter() {
            if rows == limit {
                break;
            }
            let (_, v) = kv.map_err(text)?;
            if decode {
                row_bytes::decode(&v)?;
            } else {
                std::hint::black_box(v.len());
            }
            rows += 1;
        }
        Ok(rows)
    }
}
