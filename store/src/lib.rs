//! # tablesync-store
//!
//! Native [`ObjectStore`](tablesync::backup::ObjectStore) backends for
//! backup repositories: [`DirStore`] (a local directory) and, by URL,
//! object storage. [`open_store`] picks one from a path or URL.
//!
//! # Quick start
//!
//! ```
//! use tablesync::backup::ObjectStore;
//! let dir = tempfile::tempdir().unwrap();
//! let store = tablesync_store::open_store(dir.path().to_str().unwrap()).unwrap();
//! store.put("chunks/ab/abcd", b"bytes").unwrap();
//! assert_eq!(store.list("chunks/").unwrap(), vec!["chunks/ab/abcd".to_string()]);
//! ```
#![warn(missing_docs)]

mod dir;

pub use dir::DirStore;

use tablesync::backup::ObjectStore;
use tablesync::{Error, Result};

/// Open the store a repository argument names: a directory path (created
/// if missing), or `file:///path`.
pub fn open_store(location: &str) -> Result<Box<dyn ObjectStore>> {
    if let Some(path) = location.strip_prefix("file://") {
        return Ok(Box::new(DirStore::open(path)?));
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return Err(Error::invalid(format!(
            "repository URL scheme '{scheme}://' is not supported by this build (use a directory or file://)"
        )));
    }
    Ok(Box::new(DirStore::open(location)?))
}
