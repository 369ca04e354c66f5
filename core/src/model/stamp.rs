//! The total order of mutations (a plain value: the clock that hands out
//! its HLC part lives in [`crate::log::hlc`], which re-exports it).

use serde::{Deserialize, Serialize};

/// The total order of mutations: HLC first, then origin region id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp {
    /// HLC value.
    pub hlc: u64,
    /// [`region_id`](crate::log::hlc::region_id) of the origin.
    pub origin: u64,
}

impl Stamp {
    /// Smaller than every real stamp.
    pub const ZERO: Stamp = Stamp { hlc: 0, origin: 0 };
    /// Build a stamp.
    pub fn new(hlc: u64, origin: u64) -> Self {
        Stamp { hlc, origin }
    }
    /// Whether this is [`Stamp::ZERO`].
    pub fn is_zero(&self) -> bool {
        *self == Stamp::ZERO
    }
}
