//! State ids: a fast 64-bit fingerprint of a row's exact merged state.
//!
//! Where a row digest (§10.1) covers what reads see, a state id covers
//! everything a region knows about the row: tombstones, stamps and hidden
//! versions included. Two regions with equal state ids for every row hold
//! identical states, so no later exchange with a third region can make them
//! diverge again. Reconcile codes rows by state id, and a table's state sum
//! (the wrapping sum of its rows' state ids) tells a sync session whether
//! two tables' states are equal even when their content digests already are.

/// The splitmix64 finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The state id of `key ‖ state` (FORMAT.md §13.1): each little-endian
/// 8-byte word (the last one zero-padded) is folded in with the splitmix64
/// finalizer, then the total length.
pub fn state_id(key: &[u8], state: &[u8]) -> u64 {
    let mut h: u64 = 0x7461_626c_6573_796e ^ key.len() as u64; // "tablesyn"
    for part in [key, state] {
        let mut chunks = part.chunks_exact(8);
        for c in &mut chunks {
            h = mix(h ^ u64::from_le_bytes(c.try_into().expect("8")));
        }
        let rest = chunks.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = mix(h ^ u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56));
    }
    mix(h ^ (key.len() + state.len()) as u64)
}
