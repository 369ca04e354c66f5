//! Rateless IBLT symbols for reconcile: the coder lives with the other set
//! digests in [`crate::digest::riblt`] (tables keep their row-id symbols up
//! to date on every write); this module keeps the sync-facing path.

pub use crate::digest::riblt::*;
