//! Storage that keeps nothing: the database lives in memory only.

use super::{Recovered, Storage, WalEntry};
use crate::model::error::Result;

/// No persistence.
#[derive(Debug, Default)]
pub struct MemoryStorage;

impl Storage for MemoryStorage {
    fn recover(&mut self) -> Result<Recovered> {
        Ok(Recovered::default())
    }
    fn append(&mut self, _entries: &[WalEntry], _now_ms: i64) -> Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn checkpoint_due(&self) -> bool {
        false
    }
    fn checkpoint(&mut self, _snapshot: &[u8]) -> Result<()> {
        Ok(())
    }
    fn is_durable(&self) -> bool {
        false
    }
}
