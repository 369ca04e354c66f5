//! A repository in a local directory: one file per object, written to a
//! temporary name, fsynced and renamed, so a reader never sees half an object.
//! A backup's chunks go through the deferred path
//! ([`ObjectStore::put_deferred`]): a background thread fsyncs each as it is
//! written, and `sync_deferred` renames them all into sight before the
//! manifest is written.
//!
//! Several processes may use one repository at once (a continuous backup
//! shipping while `backup list`, `verify` or `restore` read): each write has
//! a temporary name of its own (process id and a counter), and `open`
//! removes only temporary files untouched for [`STALE_TMP`], the leftovers
//! of writes that were cut short, never one another process is writing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex, Weak};
use tablesync::backup::ObjectStore;
use tablesync::{Error, Result};

use crate::name::{check_name, TMP_SUFFIX};

/// Age after which a temporary file counts as the leftover of an
/// interrupted write (a live write touches its file within seconds).
pub const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Numbers the temporary files of this process.
static TMP_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether the temporary file at `path` was last touched over [`STALE_TMP`] ago.
fn stale(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_TMP)
}

/// An [`ObjectStore`] over a directory.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
    /// Deferred writes (shared by clones: a backup's workers hold clones).
    deferred: Arc<Deferred>,
}

/// Deferred writes: each is fsynced by a background thread as soon as it
/// is written (so the disk works while the backup computes and no writer
/// waits), and renamed into sight by `sync_deferred` once all are.
#[derive(Debug, Default)]
struct Deferred {
    state: Mutex<DeferredState>,
    synced: Condvar,
}

#[derive(Debug, Default)]
struct DeferredState {
    /// Written and handed to the syncer, not yet renamed: (temporary, final).
    pending: Vec<(PathBuf, PathBuf)>,
    /// Files handed to the syncer, and how many it has fsynced.
    sent: u64,
    done: u64,
    /// The first fsync that failed.
    error: Option<String>,
    /// The syncer thread's queue (started on the first deferred write; it
    /// ends when the store and its clones are dropped).
    tx: Option<mpsc::Sender<PathBuf>>,
}

impl Deferred {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, DeferredState>> {
        self.state
            .lock()
            .map_err(|_| Error::io_msg("directory store poisoned"))
    }
}

/// The syncer: fsync each file it is given, count it done, wake waiters.
fn syncer(rx: mpsc::Receiver<PathBuf>, shared: Weak<Deferred>) {
    while let Ok(tmp) = rx.recv() {
        let r = fs::File::open(&tmp).and_then(|f| f.sync_all());
        let Some(d) = shared.upgrade() else { return };
        let Ok(mut st) = d.state.lock() else { return };
        if let Err(e) = r {
            st.error
                .get_or_insert_with(|| format!("{}: {e}", tmp.display()));
        }
        st.done += 1;
        d.synced.notify_all();
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io_msg(format!("{}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl DirStore {
    /// Open (creating if missing) a directory store; leftover temporary
    /// files of interrupted writes (untouched for [`STALE_TMP`]) are removed.
    pub fn open(root: impl AsRef<Path>) -> Result<DirStore> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        let store = DirStore {
            root,
            deferred: Default::default(),
        };
        let mut tmp = Vec::new();
        store.walk(&store.root.clone(), "", &mut |rel, path| {
            if rel.ends_with(TMP_SUFFIX) && stale(path) {
                tmp.push(path.to_path_buf());
            }
        })?;
        for t in tmp {
            let _ = fs::remove_file(&t);
        }
        Ok(store)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Write `bytes` to a fresh temporary file next to the object `name`
    /// (fsynced when `sync`); `(temporary path, object path)`.
    fn write_tmp(&self, name: &str, bytes: &[u8], sync: bool) -> Result<(PathBuf, PathBuf)> {
        let p = self.path(name)?;
        let dir = p.parent().expect("object path has a parent");
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let seq = TMP_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = PathBuf::from(format!(
            "{}.{}-{seq}{TMP_SUFFIX}",
            p.display(),
            std::process::id()
        ));
        let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        if sync {
            f.sync_all().map_err(|e| io(&tmp, e))?;
        }
        Ok((tmp, p))
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.root.join(name))
    }

    fn walk(&self, dir: &Path, rel: &str, f: &mut dyn FnMut(&str, &Path)) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(dir, e)),
        };
        for e in entries {
            let e = e.map_err(|e| io(dir, e))?;
            let name = e.file_name().to_string_lossy().to_string();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = e.file_type().map_err(|x| io(&e.path(), x))?;
            if ft.is_dir() {
                self.walk(&e.path(), &r, f)?;
            } else if ft.is_file() {
                f(&r, &e.path());
            }
        }
        Ok(())
    }
}

impl ObjectStore for DirStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let p = self.path(name)?;
        match fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&p, e)),
        }
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let (tmp, p) = self.write_tmp(name, bytes, true)?;
        if let Err(e) = fs::rename(&tmp, &p) {
            let _ = fs::remove_file(&tmp);
            return Err(io(&p, e));
        }
        sync_dir(p.parent().expect("object path has a parent"))
    }

    /// Write the bytes to a temporary file of their own and hand it to the
    /// background syncer: the object stays out of sight, so a crash leaves
    /// at most a temporary file, until
    /// [`sync_deferred`](ObjectStore::sync_deferred) has waited for every
    /// such fsync, renamed the files and fsynced their directories once
    /// each. The writer never waits for the disk, and a backup pays one
    /// directory sync per directory instead of one per chunk. (A deferred
    /// write older than [`STALE_TMP`] may be taken for a leftover by
    /// another process's `open`; the sync then fails and the backup is not
    /// written.)
    fn put_deferred(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let (tmp, p) = self.write_tmp(name, bytes, false)?;
        let mut st = self.deferred.lock()?;
        if st.tx.is_none() {
            let (tx, rx) = mpsc::channel();
            let weak = Arc::downgrade(&self.deferred);
            std::thread::Builder::new()
                .name("dirstore-sync".into())
                .spawn(move || syncer(rx, weak))
                .map_err(|e| Error::io_msg(format!("cannot start the sync thread: {e}")))?;
            st.tx = Some(tx);
        }
        let sent = st.tx.as_ref().map(|tx| tx.send(tmp.clone()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(Error::io_msg("the directory store's sync thread stopped"));
        }
        st.sent += 1;
        st.pending.push((tmp, p));
        Ok(())
    }

    fn sync_deferred(&self) -> Result<()> {
        let mut st = self.deferred.lock()?;
        while st.done < st.sent {
            st = self
                .deferred
                .synced
                .wait(st)
                .map_err(|_| Error::io_msg("directory store poisoned"))?;
        }
        let pending = std::mem::take(&mut st.pending);
        if let Some(e) = st.error.take() {
            return Err(Error::io_msg(e));
        }
        drop(st);
        // Every file's bytes are durable; now make them visible.
        let mut dirs = std::collections::BTreeSet::new();
        for (tmp, p) in &pending {
            if let Err(e) = fs::rename(tmp, p) {
                let _ = fs::remove_file(tmp);
                return Err(io(p, e));
            }
            dirs.insert(p.parent().expect("object path has a parent"));
        }
        for d in dirs {
            sync_dir(d)?;
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        // Walk only the directory the prefix lies in.
        let (dir_part, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        let start = if dir_part.is_empty() {
            self.root.clone()
        } else {
            self.root.join(dir_part)
        };
        let mut out = Vec::new();
        self.walk(&start, dir_part, &mut |rel, _| {
            if rel.starts_with(prefix) && !rel.ends_with(TMP_SUFFIX) {
                out.push(rel.to_string());
            }
        })?;
        out.sort();
        Ok(out)
    }

    fn delete(&self, name: &str) -> Result<()> {
        let p = self.path(name)?;
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&p, e)),
        }
    }

    fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.path(name)?.is_file())
    }
}
