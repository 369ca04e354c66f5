//! A crash-safe ordered key-value file: what a durable region keeps its
//! rows' pages, their index, its head and its change log in when its rows
//! live on disk behind a bounded cache (issue 11). Keys are ordered
//! bytewise within each [`Space`]; a [`KvBatch`] commits atomically; a
//! [`KvSnapshot`] reads one committed state while later commits go on.
//!
//! [`MemKv`] keeps everything in memory (tests, and the reference the
//! file-backed store is checked against); `RedbKv` (feature `fs`) keeps
//! it in one redb file (FORMAT.md §12 "Page store file").

pub mod layout;
mod memory;
#[cfg(feature = "fs")]
mod redb;
#[cfg(feature = "fs")]
mod redb_backend;
#[cfg(feature = "fs")]
mod redb_errors;

#[cfg(feature = "fs")]
pub use self::redb::RedbKv;
pub use memory::MemKv;

use crate::model::error::Result;
use std::ops::ControlFlow;
use std::sync::Arc;

/// The key spaces of a store (each its own ordered map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    /// Encoded leaf pages by page id (u64 big-endian).
    Pages,
    /// Each table's page index: table number (u32 BE) ‖ lower fence → page id.
    Index,
    /// Region head, schemas, table books and counters, by name.
    Meta,
    /// Change-log records by cursor (u64 big-endian).
    Log,
    /// Row entries of pages that changed only in some rows since they were
    /// stored whole: table number (u32 BE) ‖ page id (u64 BE) ‖ row key.
    Rows,
}

impl Space {
    /// Every space, in a fixed order.
    pub const ALL: [Space; 5] = [
        Space::Pages,
        Space::Index,
        Space::Meta,
        Space::Log,
        Space::Rows,
    ];

    /// The space's name (a file-backed store's table name).
    pub fn name(self) -> &'static str {
        match self {
            Space::Pages => "pages",
            Space::Index => "index",
            Space::Meta => "meta",
            Space::Log => "log",
            Space::Rows => "rows",
        }
    }
}

/// Writes committed together: all of them or none.
#[derive(Clone, Debug, Default)]
pub struct KvBatch {
    /// `(space, key, Some(value))` sets a key, `(space, key, None)` removes
    /// it; later operations on the same key win.
    pub ops: Vec<(Space, Vec<u8>, Option<Vec<u8>>)>,
}

impl KvBatch {
    /// Set `key` to `value` in `space`.
    pub fn put(&mut self, space: Space, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((space, key.into(), Some(value.into())));
    }

    /// Remove `key` from `space`.
    pub fn remove(&mut self, space: Space, key: impl Into<Vec<u8>>) {
        self.ops.push((space, key.into(), None));
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Bytes of keys and values the batch writes.
    pub fn bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|(_, k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// One committed state of a store, readable while later commits go on.
pub trait KvSnapshot: Send + Sync {
    /// The value of `key` in `space`.
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Hand the value of `key` in `space` to `f` where the store holds it
    /// (no copy where the store allows: a page fault decodes straight from
    /// the store's buffer); whether the key was there. `f`'s error is
    /// returned as is.
    fn get_with(
        &self,
        space: Space,
        key: &[u8],
        f: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        match self.get(space, key)? {
            Some(v) => f(&v).map(|()| true),
            None => Ok(false),
        }
    }
    /// Visit the entries of `space` with `from <= key` (and `key < to` when
    /// `to` is given) in key order, until `f` breaks or returns an error.
    #[allow(clippy::type_complexity)] // the visitor's type is the interface
    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>>,
    ) -> Result<()>;
}

/// A crash-safe ordered key-value store.
pub trait KvStore: Send + Sync {
    /// The newest committed state.
    fn snapshot(&self) -> Result<Arc<dyn KvSnapshot>>;
    /// Apply `batch` atomically. With `durable` the commit is on stable
    /// storage when this returns (a power loss keeps it); without, a power
    /// loss may lose it (and every later non-durable commit), never part of
    /// it. A failed commit changes nothing.
    fn commit(&self, batch: &KvBatch, durable: bool) -> Result<()>;
}

/// Open (or create) the page store file at `path` in `vfs`, with a cache
/// of `cache_bytes`.
#[cfg(feature = "fs")]
pub fn open_page_store<V: crate::storage::vfs::Vfs>(
    vfs: &V,
    path: &std::path::Path,
    cache_bytes: u64,
) -> Result<Arc<dyn KvStore>> {
    Ok(Arc::new(RedbKv::open(vfs.clone(), path, cache_bytes)?))
}

/// Without feature `fs` there is no page store file (redb): a paged
/// directory cannot be opened.
#[cfg(not(feature = "fs"))]
pub fn open_page_store<V: crate::storage::vfs::Vfs>(
    _vfs: &V,
    path: &std::path::Path,
    _cache_bytes: u64,
) -> Result<Arc<dyn KvStore>> {
    Err(crate::model::error::Error::invalid(format!(
        "{}: paged regions need the page store (feature `fs`)",
        path.display()
    )))
}
