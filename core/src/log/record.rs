//! Change records: what every committed mutation leaves in the log.
//!
//! The types live in [`crate::model::record`] (the codec and the engine,
//! which sit below the log, use them too); this module keeps their public path.

pub use crate::model::record::{ChangeKind, ChangeRecord, ColumnOp, OpRef};
