//! A repository in a local directory: one file per object, written to a
//! temporary name, fsynced and renamed, so a reader never sees half an object.
//!
//! Several processes may use one repository at once (a continuous backup
//! shipping while `backup list`, `verify` or `restore` read): each write has
//! a temporary name of its own (process id and a counter), and `open`
//! removes only temporary files untouched for [`STALE_TMP`], the leftovers
//! of writes that were cut short, never one another process is writing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
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
        let store = DirStore { root };
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
        let p = self.path(name)?;
        let dir = p.parent().expect("object path has a parent").to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let seq = TMP_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = PathBuf::from(format!(
            "{}.{}-{seq}{TMP_SUFFIX}",
            p.display(),
            std::process::id()
        ));
        let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        drop(f);
        if let Err(e) = fs::rename(&tmp, &p) {
            let _ = fs::remove_file(&tmp);
            return Err(io(&p, e));
        }
        sync_dir(&dir)
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
