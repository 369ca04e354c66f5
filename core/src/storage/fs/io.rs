//! File-system steps shared by the log and the checkpoints.

use super::names::temp_path;
use crate::model::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// An [`Error::Io`] naming what was being done.
pub fn io_error(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::io(what.to_string(), e)
}

/// Make a directory's entries (created, renamed, deleted files) durable.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(format_args!("syncing directory {}", dir.display()), e))
}

/// Make a directory's entries durable (no-op where directories cannot be opened).
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

/// Create `dir/name` atomically: write `parts` to a temp file, fsync it,
/// rename it into place and fsync the directory. A crash leaves either no
/// file or the whole file under `name` (plus perhaps a temp file).
pub fn write_file_atomic(dir: &Path, name: &str, parts: &[&[u8]]) -> Result<()> {
    let tmp = temp_path(dir, name);
    let result = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(format_args!("writing {name}"), e));
    }
    sync_dir(dir)
}

/// Open an existing segment for appending.
pub fn open_for_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_error(format_args!("opening {}", path.display()), e))
}

/// Remove files (missing ones are fine), then fsync the directory if any went.
pub fn remove_files(dir: &Path, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    for n in names {
        match std::fs::remove_file(dir.join(n)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(format_args!("removing {n}"), e)),
        }
    }
    sync_dir(dir)
}
