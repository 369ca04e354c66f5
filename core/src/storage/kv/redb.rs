//! [`RedbKv`]: a [`KvStore`] in one redb file (FORMAT.md §12 "Page store
//! file"), reached through a [`Vfs`] so the simulated disk can sit under it.

use super::redb_backend::{Fence, VfsBackend};
use super::redb_errors::{caller, guard, map_err};
use super::{KvBatch, KvSnapshot, KvStore, Space};
use crate::model::error::{Error, Result};
use crate::storage::vfs::Vfs;
use redb::{Builder, Database, Durability, ReadOnlyTable, ReadableDatabase, TableDefinition};
use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The redb table of a space (`&[u8] -> &[u8]`, named [`Space::name`]).
fn table(space: Space) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(space.name())
}

fn slot(space: Space) -> usize {
    match space {
        Space::Pages => 0,
        Space::Index => 1,
        Space::Meta => 2,
        Space::Log => 3,
        Space::Rows => 4,
    }
}

/// A crash-safe ordered key-value file (redb) in a [`Vfs`].
///
/// - A durable commit ([`KvStore::commit`] with `durable`) is a redb
///   commit with `Durability::Immediate` and quick repair (two-phase
///   commit, allocator state saved), so opening after a crash takes
///   milliseconds; a non-durable one is `Durability::None` (no fsync).
///   After a crash the store comes back at its last durable commit or a
///   later one, never part of a commit. Non-durable commits are made
///   durable by the next durable commit or by a clean close (dropping the
///   store makes one); a crash of the process, not only a power loss,
///   loses those since the last durable commit.
/// - Snapshots are redb read transactions: each keeps reading its state
///   while commits go on, from any thread. One commit runs at a time.
/// - After a failed fsync, or a panic inside redb on a damaged file, the
///   store stops: commits fail with `StorageStopped` (and nothing is
///   written any more, not even at close) until it is reopened.
/// - The file is not locked: the caller owns it (a region holds its
///   directory's lock, see [`Vfs::lock`]).
pub struct RedbKv<V: Vfs> {
    /// `Some` until dropped (dropped inside the panic guard).
    db: Option<Database>,
    fence: Arc<Fence>,
    vfs: V,
    path: PathBuf,
}

impl<V: Vfs> std::fmt::Debug for RedbKv<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbKv")
            .field("path", &self.path)
            .field("stopped", &self.fence.reason())
            .finish_non_exhaustive()
    }
}

fn io_err(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::io(what.to_string(), e)
}

impl<V: Vfs> RedbKv<V> {
    /// Open the store in file `path` of `vfs`, with a page cache of
    /// `cache_bytes`. A missing file is created (written under a temporary
    /// name with the four tables, synced, then renamed into place and its
    /// directory synced, so a crash never leaves a half-made file at
    /// `path`). An empty or damaged file is `CorruptData`.
    pub fn open(vfs: V, path: &Path, cache_bytes: u64) -> Result<Self> {
        let cache = usize::try_from(cache_bytes).unwrap_or(usize::MAX);
        match vfs.len(path) {
            Ok(0) => {
                return Err(Error::corrupt(format!(
                    "the page store file {} is empty",
                    path.display()
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&vfs, path, cache)?,
            Err(e) => return Err(io_err(format_args!("opening {}", path.display()), e)),
        }
        let fence = Arc::new(Fence::default());
        let db = open_db(&vfs, path, cache, &fence)?;
        let store = RedbKv {
            db: Some(db),
            fence,
            vfs,
            path: path.to_path_buf(),
        };
        // Every file this store made holds the tables of the spaces it
        // knew; one made before a space existed (`rows`: directory format
        // 5) gets it, empty, in a durable commit.
        store.add_missing_tables()?;
        store.snapshot()?;
        Ok(store)
    }

    /// Create the tables of spaces added after the file was made (never
    /// the first four: a file without those is damaged).
    fn add_missing_tables(&self) -> Result<()> {
        let what = "adding tables to the page store";
        guard(&self.fence, what, || {
            let db = self.db()?;
            let tx = db.begin_read().map_err(|e| map_err(what, e))?;
            let missing = match tx.open_table(table(Space::Rows)) {
                Ok(_) => false,
                Err(redb::TableError::TableDoesNotExist(_)) => true,
                Err(e) => return Err(map_err(what, e)),
            };
            drop(tx);
            if missing {
                let mut tx = db.begin_write().map_err(|e| map_err(what, e))?;
                tx.set_quick_repair(true);
                tx.open_table(table(Space::Rows))
                    .map_err(|e| map_err(what, e))?;
                tx.commit().map_err(|e| map_err(what, e))?;
            }
            Ok(())
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the file on disk now.
    pub fn file_bytes(&self) -> Result<u64> {
        self.vfs
            .len(&self.path)
            .map_err(|e| io_err(format_args!("sizing {}", self.path.display()), e))
    }

    /// Verify every page's checksum (the whole file is read; slow on a big
    /// file). redb checks checksums only when it repairs a file after a
    /// crash, so damage at rest in a cleanly closed file is otherwise read
    /// back as is. Damage is `CorruptData`; when redb could repair it (by
    /// going back to an older commit, which may drop durable commits) the
    /// repaired state is committed and the message says so. Needs every
    /// snapshot of the store dropped (`OTSParameterInvalid` otherwise).
    pub fn check_integrity(&mut self) -> Result<()> {
        self.fence.check()?;
        let what = "checking the page store";
        let db = self.db.as_mut().ok_or(Error::Closed)?;
        let clean = guard(&self.fence, what, || match db.check_integrity() {
            Err(redb::DatabaseError::TransactionInProgress) => Err(Error::invalid(format!(
                "{what}: drop every snapshot of the store first"
            ))),
            r => r.map_err(|e| map_err(what, e)),
        })?;
        if clean {
            Ok(())
        } else {
            Err(Error::corrupt(format!(
                "{what}: {} was damaged; redb repaired it to its newest intact commit",
                self.path.display()
            )))
        }
    }

    fn db(&self) -> Result<&Database> {
        self.db.as_ref().ok_or(Error::Closed)
    }

    fn commit_inner(&self, batch: &KvBatch, durable: bool) -> Result<()> {
        let what = "committing to the page store";
        let mut tx = self.db()?.begin_write().map_err(|e| map_err(what, e))?;
        if durable {
            tx.set_quick_repair(true);
        } else {
            tx.set_durability(Durability::None)
                .map_err(|e| map_err(what, e))?;
        }
        {
            let mut tables: [Option<redb::Table<&[u8], &[u8]>>; 5] = [None, None, None, None, None];
            for (space, key, value) in &batch.ops {
                let t = match &mut tables[slot(*space)] {
                    Some(t) => t,
                    none => {
                        none.insert(tx.open_table(table(*space)).map_err(|e| map_err(what, e))?)
                    }
                };
                match value {
                    Some(v) => t.insert(key.as_slice(), v.as_slice()).map(drop),
                    None => t.remove(key.as_slice()).map(drop),
                }
                .map_err(|e| map_err(what, e))?;
            }
        }
        tx.commit().map_err(|e| map_err(what, e))
    }
}

/// Make the file at `path`: a new redb database with the four tables under
/// a temporary name, closed (synced), renamed into place, directory synced.
fn create<V: Vfs>(vfs: &V, path: &Path, cache: usize) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} names no file", path.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let what = format_args!("creating {}", path.display()).to_string();
    // Start from an empty file (a crash may have left one half made).
    drop(vfs.create(&tmp).map_err(|e| io_err(&what, e))?);
    let fence = Arc::new(Fence::default());
    let db = open_db(vfs, &tmp, cache, &fence)?;
    guard(&fence, &what, || {
        let mut tx = db.begin_write().map_err(|e| map_err(&what, e))?;
        tx.set_quick_repair(true);
        for space in Space::ALL {
            tx.open_table(table(space)).map_err(|e| map_err(&what, e))?;
        }
        tx.commit().map_err(|e| map_err(&what, e))
    })?;
    // Closing syncs the file (errors there are redb's to swallow: the fence
    // records a failed fsync).
    guard(&fence, &what, || {
        drop(db);
        Ok(())
    })?;
    fence.check()?;
    vfs.rename(&tmp, path).map_err(|e| io_err(&what, e))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    vfs.sync_dir(dir)
        .map_err(|e| io_err(format_args!("syncing directory {}", dir.display()), e))
}

fn open_db<V: Vfs>(vfs: &V, path: &Path, cache: usize, fence: &Arc<Fence>) -> Result<Database> {
    let what = format!("opening {}", path.display());
    let file = vfs.open_rw(path).map_err(|e| io_err(&what, e))?;
    let backend = VfsBackend::new(file, Arc::clone(fence));
    guard(fence, &what, || {
        Builder::new()
            .set_cache_size(cache)
            .create_with_backend(backend)
            .map_err(|e| map_err(&what, e))
    })
}

impl<V: Vfs> Drop for RedbKv<V> {
    fn drop(&mut self) {
        // redb makes a last durable commit when closed: on a damaged file
        // that may panic, which must not unwind out of a drop.
        if let Some(db) = self.db.take() {
            let _ = guard(&self.fence, "closing the page store", || {
                drop(db);
                Ok(())
            });
        }
    }
}

/// A read transaction of a [`RedbKv`].
struct RedbSnapshot {
    tables: [ReadOnlyTable<&'static [u8], &'static [u8]>; 5],
    fence: Arc<Fence>,
}

impl KvSnapshot for RedbSnapshot {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let what = "reading the page store";
        guard(&self.fence, what, || {
            let v = self.tables[slot(space)]
                .get(key)
                .map_err(|e| map_err(what, e))?;
            Ok(v.map(|v| v.value().to_vec()))
        })
    }

    fn get_with(
        &self,
        space: Space,
        key: &[u8],
        f: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        let what = "reading the page store";
        guard(&self.fence, what, || {
            let v = self.tables[slot(space)]
                .get(key)
                .map_err(|e| map_err(what, e))?;
            match v {
                Some(v) => caller(|| f(v.value())).map(|()| true),
                None => Ok(false),
            }
        })
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        if to.is_some_and(|to| to <= from) {
            return Ok(());
        }
        let what = "scanning the page store";
        guard(&self.fence, what, || {
            let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
            let iter = self.tables[slot(space)]
                .range::<&[u8]>((Bound::Included(from), upper))
                .map_err(|e| map_err(what, e))?;
            for item in iter {
                let (k, v) = item.map_err(|e| map_err(what, e))?;
                if caller(|| f(k.value(), v.value()))?.is_break() {
                    break;
                }
            }
            Ok(())
        })
    }
}

impl<V: Vfs> KvStore for RedbKv<V> {
    fn snapshot(&self) -> Result<Arc<dyn KvSnapshot>> {
        let what = "reading the page store";
        guard(&self.fence, what, || {
            let tx = self.db()?.begin_read().map_err(|e| map_err(what, e))?;
            let open = |space| tx.open_table(table(space)).map_err(|e| map_err(what, e));
            let tables = [
                open(Space::Pages)?,
                open(Space::Index)?,
                open(Space::Meta)?,
                open(Space::Log)?,
                open(Space::Rows)?,
            ];
            Ok(Arc::new(RedbSnapshot {
                tables,
                fence: Arc::clone(&self.fence),
            }) as Arc<dyn KvSnapshot>)
        })
    }

    fn commit(&self, batch: &KvBatch, durable: bool) -> Result<()> {
        // A failed fsync surfaces once as redb's I/O error; later commits
        // meet the fence (`StorageStopped`).
        self.fence.check()?;
        guard(&self.fence, "committing to the page store", || {
            self.commit_inner(batch, durable)
        })
    }
}
