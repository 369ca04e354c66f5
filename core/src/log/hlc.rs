//! Hybrid logical clock and the total order of mutations.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Bits of an HLC value that hold the logical counter.
pub const LOGICAL_BITS: u32 = 16;

/// The clock time (ms) encoded in an HLC value.
pub fn hlc_millis(hlc: u64) -> i64 {
    (hlc >> LOGICAL_BITS) as i64
}

/// A hybrid logical clock: physical milliseconds in the high 48 bits, a
/// counter in the low 16. Values it hands out strictly increase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hlc {
    last: u64,
}

impl Hlc {
    /// A clock that has handed out nothing yet.
    pub fn new() -> Self {
        Hlc { last: 0 }
    }
    /// Resume after `last`.
    pub fn resume(last: u64) -> Self {
        Hlc { last }
    }
    /// The last value handed out or observed.
    pub fn last(&self) -> u64 {
        self.last
    }
    /// Next value for a local event at physical time `now_ms`.
    pub fn tick(&mut self, now_ms: i64) -> u64 {
        let physical = (now_ms.max(0) as u64) << LOGICAL_BITS;
        // Saturates: a remote record stamped u64::MAX must not make the next
        // local tick overflow (a panic in debug builds, a wrap in release).
        self.last = physical.max(self.last.saturating_add(1));
        self.last
    }
    /// Account for a value received from another region.
    pub fn observe(&mut self, remote: u64) {
        self.last = self.last.max(remote);
    }
}

/// 64-bit id of a region name: the first 8 bytes (big-endian) of
/// SHA-256("tablesync.region:" ‖ name). Breaks ties between equal HLC values.
pub fn region_id(name: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"tablesync.region:");
    h.update(name.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

pub use crate::model::stamp::Stamp;
