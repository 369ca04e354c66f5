//! Canonical bytes: keys (order-preserving), values, row states, change
//! records, schemas, frames and snapshots. `docs/FORMAT.md` specifies them.

pub mod buf;
pub mod frame;
pub mod key;
pub mod record;
pub mod record_page;
pub mod row_state;
pub mod row_wire;
pub mod schema;
pub mod value;
