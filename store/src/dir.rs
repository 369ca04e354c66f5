//! A repository in a local directory: one file per object, written to a
//! temporary name, fsynced and renamed, so a reader never sees half an object.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use tablesync::backup::ObjectStore;
use tablesync::{Error, Result};

use crate::name::{check_name, TMP_SUFFIX};

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
    /// files of interrupted writes are removed.
    pub fn open(root: impl AsRef<Path>) -> Result<DirStore> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        let store = DirStore { root };
        let mut tmp = Vec::new();
        store.walk(&store.root.clone(), "", &mut |rel, path| {
            if rel.ends_with(TMP_SUFFIX) {
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
        let tmp = PathBuf::from(format!("{}{TMP_SUFFIX}", p.display()));
        let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, &p).map_err(|e| io(&p, e))?;
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
