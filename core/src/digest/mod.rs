//! Row, range and table digests (SHA-256), maintained incrementally.
//!
//! A row's digest covers its key and its visible content ignoring TTL (the
//! live versions among the newest `max_versions` of each column). A table's digest
//! combines row digests with a sum modulo 2^256, so a write updates it in
//! O(1), and hashes the sum with the row count. `docs/FORMAT.md` pins the bytes.

mod accumulator;
mod id_index;
pub mod riblt;
mod row_hash;
mod state_id;
mod table_book;

pub use accumulator::{Accumulator, Digest};
pub use id_index::IdIndex;
pub(crate) use row_hash::row_digest_encoded;
pub use state_id::state_id;
pub use table_book::TableBook;
