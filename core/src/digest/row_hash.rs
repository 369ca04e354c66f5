//! The digest of one row.

use crate::codec::buf::put_bytes;
use crate::codec::value::put_value;
use crate::engine::row_state::RowState;
use sha2::{Digest as _, Sha256};

/// SHA-256 over `"tablesync.row.v1" ‖ key (varint length ‖ bytes) ‖ for each
/// column with live versions (name order): name (varint length ‖ bytes) ‖
/// version count varint ‖ per version (newest first, at most `max_versions`):
/// ts i64 LE ‖ value`. `None` when the row does not exist.
pub(crate) fn row_digest(key: &[u8], state: &RowState, max_versions: u32) -> Option<[u8; 32]> {
    if !state.exists() {
        return None;
    }
    // One buffer per row; values are appended as they are visited.
    let mut buf = Vec::with_capacity(64 + key.len() + 32 * state.columns.len());
    buf.extend_from_slice(b"tablesync.row.v1");
    put_bytes(&mut buf, key);
    for col in &state.columns {
        let n = RowState::live_versions(col, max_versions).count();
        if n == 0 {
            continue;
        }
        put_bytes(&mut buf, col.name.as_bytes());
        crate::codec::buf::put_varint(&mut buf, n as u64);
        for (ts, v) in RowState::live_versions(col, max_versions) {
            buf.extend_from_slice(&ts.to_le_bytes());
            put_value(&mut buf, v);
        }
    }
    Some(Sha256::digest(&buf).into())
}
