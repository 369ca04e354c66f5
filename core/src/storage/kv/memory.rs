//! [`MemKv`]: a [`KvStore`] in memory, committed states shared by `Arc`.

use super::{KvBatch, KvSnapshot, KvStore, Space};
use crate::model::error::Result;
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::sync::{Arc, Mutex, PoisonError};

type Maps = BTreeMap<Space, BTreeMap<Vec<u8>, Vec<u8>>>;

/// A key-value store in memory: each commit publishes a new state; a
/// snapshot keeps the state it was taken on.
#[derive(Debug, Default)]
pub struct MemKv {
    state: Mutex<Arc<Maps>>,
}

/// A committed state of a [`MemKv`].
#[derive(Debug)]
struct MemSnapshot(Arc<Maps>);

impl KvSnapshot for MemSnapshot {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(&space).and_then(|m| m.get(key)).cloned())
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let Some(map) = self.0.get(&space) else {
            return Ok(());
        };
        if to.is_some_and(|to| to <= from) {
            // An empty range (`BTreeMap::range` would panic on `to < from`).
            return Ok(());
        }
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        for (k, v) in map.range::<[u8], _>((Bound::Included(from), upper)) {
            if f(k, v)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

impl KvStore for MemKv {
    fn snapshot(&self) -> Result<Arc<dyn KvSnapshot>> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::new(MemSnapshot(Arc::clone(&state))))
    }

    fn commit(&self, batch: &KvBatch, _durable: bool) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = Maps::clone(&state);
        for (space, key, value) in &batch.ops {
            let map = next.entry(*space).or_default();
            match value {
                Some(v) => {
                    map.insert(key.clone(), v.clone());
                }
                None => {
                    map.remove(key);
                }
            }
        }
        *state = Arc::new(next);
        Ok(())
    }
}
