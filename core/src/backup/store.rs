//! The narrow object-store trait a backup repository lives on, and an
//! in-memory implementation (tests, browsers, wasm).

use crate::model::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Named immutable objects: the only I/O a repository needs. Native
/// backends (a directory, S3-compatible object storage) implement it
/// outside the core.
///
/// Names are `/`-separated ASCII paths such as `chunks/ab/ab12…` or
/// `config`. `put` must be atomic: a reader sees the whole object or none.
pub trait ObjectStore: Send + Sync {
    /// The object's bytes, or `None` if there is no such object.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Store (or replace) an object atomically.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<()>;
    /// Names of the objects whose name starts with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Remove an object; removing a missing object is not an error.
    fn delete(&self, name: &str) -> Result<()>;
    /// Whether an object exists (backends may answer without reading it).
    fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.get(name)?.is_some())
    }
    /// Store an object that must be durable only once the next
    /// [`sync_deferred`](Self::sync_deferred) returns, so a backend can
    /// batch its costly part (a directory: the fsyncs) there. A crash must
    /// never leave a partial object under `name`: a backend that defers
    /// keeps the object out of sight until then. The default is
    /// [`put`](Self::put).
    fn put_deferred(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.put(name, bytes)
    }
    /// Make every object given to [`put_deferred`](Self::put_deferred)
    /// since the last call durable and visible under its name.
    fn sync_deferred(&self) -> Result<()> {
        Ok(())
    }
}

/// An [`ObjectStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>>> {
        self.objects
            .lock()
            .map_err(|_| Error::io_msg("memory object store poisoned"))
    }
    /// Every object, by name (for tests that damage a repository).
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// Total bytes stored.
    pub fn total_bytes(&self) -> u64 {
        self.lock()
            .map(|m| m.values().map(|v| v.len() as u64).sum())
            .unwrap_or(0)
    }
}

impl ObjectStore for MemoryStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.get(name).cloned())
    }
    fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.lock()?.insert(name.to_string(), bytes.to_vec());
        Ok(())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .lock()?
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.lock()?.remove(name);
        Ok(())
    }
    fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.lock()?.contains_key(name))
    }
}

impl<T: ObjectStore + ?Sized> ObjectStore for std::sync::Arc<T> {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        (**self).get(name)
    }
    fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        (**self).put(name, bytes)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        (**self).list(prefix)
    }
    fn delete(&self, name: &str) -> Result<()> {
        (**self).delete(name)
    }
    fn exists(&self, name: &str) -> Result<bool> {
        (**self).exists(name)
    }
    fn put_deferred(&self, name: &str, bytes: &[u8]) -> Result<()> {
        (**self).put_deferred(name, bytes)
    }
    fn sync_deferred(&self) -> Result<()> {
        (**self).sync_deferred()
    }
}
