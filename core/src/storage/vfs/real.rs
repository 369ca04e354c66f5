//! [`Vfs`] over the real file system (`std::fs`, an `flock` lock file).

use super::{Vfs, VfsFile};
use crate::model::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// The host's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

/// The lock file of a directory, locked for as long as this lives.
#[derive(Debug)]
pub struct RealLock(File);

impl Drop for RealLock {
    fn drop(&mut self) {
        // Unlock explicitly rather than only closing the file: a child process
        // forked meanwhile shares the open file (until it execs), and an
        // `flock` lock lasts as long as any copy of it unless unlocked.
        let _ = fs4::FileExt::unlock(&self.0);
    }
}

impl VfsFile for File {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Write::write_all(self, buf)
    }
    #[cfg(unix)]
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, offset)
    }
    #[cfg(windows)]
    fn write_at(&self, offset: u64, mut buf: &[u8]) -> io::Result<()> {
        let mut at = offset;
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_write(self, buf, at) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    at += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
    #[cfg(windows)]
    fn read_at(&self, offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        let mut at = offset;
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(self, buf, at) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    at += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
    fn sync_data(&self) -> io::Result<()> {
        File::sync_data(self)
    }
    fn sync_all(&self) -> io::Result<()> {
        File::sync_all(self)
    }
}

impl Vfs for RealFs {
    type File = File;
    type Lock = RealLock;

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
    fn len(&self, path: &Path) -> io::Result<u64> {
        std::fs::metadata(path).map(|m| m.len())
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            if let Some(name) = entry?.file_name().to_str() {
                names.push(name.to_string());
            }
        }
        Ok(names)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn create(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }
    fn open_append(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new().append(true).open(path)
    }
    fn open_rw(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    #[cfg(unix)]
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }
    fn lock(&self, dir: &Path) -> Result<RealLock> {
        let path = dir.join(crate::storage::fs::LOCK_FILE);
        let io_err = |what: &str, e| Error::io(format!("{what} {}", path.display()), e);
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_err("opening", e))?;
        match fs4::FileExt::try_lock(&f) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                let mut owner = String::new();
                let _ = f.read_to_string(&mut owner);
                let owner = owner.trim();
                return Err(Error::Locked(format!(
                    "{} is open elsewhere{}",
                    dir.display(),
                    if owner.is_empty() {
                        String::new()
                    } else {
                        format!(" (process {owner})")
                    }
                )));
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io_err("locking", e)),
        }
        // Record the owner for the error message above; failures here are harmless.
        let _ = f
            .set_len(0)
            .and_then(|()| f.rewind())
            .and_then(|_| write!(f, "{}", std::process::id()));
        Ok(RealLock(f))
    }
}
