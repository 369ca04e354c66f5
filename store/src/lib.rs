//! # tablesync-store
//!
//! Native [`ObjectStore`](tablesync::backup::ObjectStore) backends for
//! backup repositories: [`DirStore`] (a local directory) and, by URL,
//! object storage ([`CloudStore`]: `s3://bucket/prefix`, Alibaba OSS
//! `oss://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`,
//! through the `object_store` crate). [`open_store`] picks one from a path
//! or URL.
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

mod cloud;
mod dir;
mod name;

pub use cloud::{CloudStore, StoreOptions};
pub use dir::{DirStore, STALE_TMP};

use tablesync::backup::ObjectStore;
use tablesync::{Error, Result};

/// Open the store a repository argument names: a directory path (created
/// if missing), `file:///path`, or an object-storage URL (`s3://`, `oss://`,
/// `gs://`, `az://`) with options from the environment
/// ([`StoreOptions::from_env`]).
pub fn open_store(location: &str) -> Result<Box<dyn ObjectStore>> {
    open_store_with(location, &StoreOptions::from_env())
}

/// [`open_store`] with explicit options (an S3 endpoint from the command
/// line, say).
pub fn open_store_with(location: &str, opts: &StoreOptions) -> Result<Box<dyn ObjectStore>> {
    if let Some(path) = location.strip_prefix("file://") {
        return Ok(Box::new(DirStore::open(path)?));
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return match scheme {
            "s3" | "oss" | "gs" | "az" => Ok(Box::new(CloudStore::open(location, opts)?)),
            _ => Err(Error::invalid(format!(
                "repository URL scheme '{scheme}://' is not supported (use a directory, file://, s3://, oss://, gs:// or az://)"
            ))),
        };
    }
    Ok(Box::new(DirStore::open(location)?))
}

/// Whether a repository argument names object storage rather than a directory.
pub fn is_url(location: &str) -> bool {
    location.contains("://") && !location.starts_with("file://")
}
