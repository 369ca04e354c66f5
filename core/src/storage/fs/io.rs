//! File-system steps shared by the log and the checkpoints, through a [`Vfs`].

use super::names::temp_path;
use crate::model::error::{Error, Result};
use crate::storage::vfs::{Vfs, VfsFile};
use std::path::Path;

/// An [`Error::Io`] naming what was being done.
pub fn io_error(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::io(what.to_string(), e)
}

/// Make a directory's entries (created, renamed, deleted files) durable.
pub fn sync_dir<V: Vfs>(vfs: &V, dir: &Path) -> Result<()> {
    vfs.sync_dir(dir)
        .map_err(|e| io_error(format_args!("syncing directory {}", dir.display()), e))
}

/// Create `dir/name` atomically: write `parts` to a temp file, fsync it,
/// rename it into place and fsync the directory. A crash leaves either no
/// file or the whole file under `name` (plus perhaps a temp file).
pub fn write_file_atomic<V: Vfs>(vfs: &V, dir: &Path, name: &str, parts: &[&[u8]]) -> Result<()> {
    let tmp = temp_path(dir, name);
    let result = (|| -> std::io::Result<()> {
        let mut f = vfs.create(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        f.sync_all()?;
        drop(f);
        vfs.rename(&tmp, &dir.join(name))
    })();
    if let Err(e) = result {
        let _ = vfs.remove(&tmp);
        return Err(io_error(format_args!("writing {name}"), e));
    }
    sync_dir(vfs, dir)
}

/// Open an existing segment for appending.
pub fn open_for_append<V: Vfs>(vfs: &V, path: &Path) -> Result<V::File> {
    vfs.open_append(path)
        .map_err(|e| io_error(format_args!("opening {}", path.display()), e))
}

/// Cut file `dir/name` to `len` bytes and sync it.
pub fn truncate_file<V: Vfs>(vfs: &V, dir: &Path, name: &str, len: u64) -> Result<()> {
    let f = vfs
        .open_append(&dir.join(name))
        .map_err(|e| io_error(format_args!("opening {name}"), e))?;
    f.set_len(len)
        .and_then(|()| f.sync_all())
        .map_err(|e| io_error(format_args!("truncating {name}"), e))
}

/// Read the whole file `dir/name`.
pub fn read_file<V: Vfs>(vfs: &V, dir: &Path, name: &str) -> Result<Vec<u8>> {
    vfs.read(&dir.join(name))
        .map_err(|e| io_error(format_args!("reading {name}"), e))
}

/// Remove files (missing ones are fine), then fsync the directory if any went.
pub fn remove_files<V: Vfs>(vfs: &V, dir: &Path, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    for n in names {
        match vfs.remove(&dir.join(n)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(format_args!("removing {n}"), e)),
        }
    }
    sync_dir(vfs, dir)
}

/// Where a region is built before it takes `dir`'s place
/// (`.<name>.building` beside it), for [`build_then_rename`].
#[cfg(feature = "fs")]
pub fn building_path(dir: &Path) -> Result<std::path::PathBuf> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} names no directory", dir.display())))?;
    Ok(dir.with_file_name(format!(".{}.building", name.to_string_lossy())))
}

/// Build a directory with `build` at [`building_path`] and rename it to
/// `dir` once `build` succeeded (fsyncing the parent), so `dir` never
/// holds half of it; `dir` must be missing or empty. On failure what was
/// built is removed. What `build` returns.
#[cfg(feature = "fs")]
pub fn build_then_rename<T>(dir: &Path, build: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let what = |verb: &str, p: &Path| format!("{verb} {}", p.display());
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::ObjectAlreadyExist(format!(
                    "{} is not empty",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(what("reading", dir), e)),
    }
    let tmp = building_path(dir)?;
    // What an interrupted build left.
    match std::fs::remove_dir_all(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(what("removing", &tmp), e)),
    }
    let built = build(&tmp);
    if built.is_err() {
        // The build's own error is what the caller needs.
        let _ = std::fs::remove_dir_all(&tmp);
        return built;
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(what("replacing", dir), e)),
    }
    std::fs::rename(&tmp, dir).map_err(|e| io_error(what("renaming into", dir), e))?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(&crate::storage::vfs::RealFs, parent)?;
    built
}
