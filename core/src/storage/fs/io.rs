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
