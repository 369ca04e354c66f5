//! The hash functions placement uses (FORMAT.md §16.3): FNV-1a 64 then the
//! splitmix64 finalizer. Cheap, portable and easy to reimplement in Python
//! and JS; they spread keys, they are not a defence against chosen keys.

/// The splitmix64 finalizer: a bijective 64-bit mix.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a 64 of `bytes`, then [`mix64`].
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// The seed of a name (datacenter, region or table): `hash_bytes(UTF-8 name)`.
pub fn name_seed(name: &str) -> u64 {
    hash_bytes(name.as_bytes())
}

/// The bucket of a partition key under hash placement with `buckets` buckets.
pub fn bucket_of(partition_key: &[u8], buckets: u32) -> u32 {
    (hash_bytes(partition_key) % buckets.max(1) as u64) as u32
}

/// Rendezvous score of a node (datacenter or region, by its seed) for a
/// partition of a table: `mix64(node_seed ^ mix64(table_seed ^ partition))`.
/// The node with the highest score wins; ties go to the smaller name.
pub fn rendezvous_score(node_seed: u64, table_seed: u64, partition: u32) -> u64 {
    mix64(node_seed ^ mix64(table_seed ^ partition as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // FNV-1a 64 of "" is the offset basis; of "a" the published 0xaf63dc4c8601ec8c.
        assert_eq!(mix64(0), 0);
        assert_eq!(hash_bytes(b""), mix64(0xcbf2_9ce4_8422_2325));
        assert_eq!(hash_bytes(b"a"), mix64(0xaf63_dc4c_8601_ec8c));
    }

    #[test]
    fn buckets_stay_in_range() {
        for i in 0..1000u32 {
            assert!(bucket_of(&i.to_be_bytes(), 7) < 7);
        }
        assert_eq!(bucket_of(b"x", 0), 0);
    }
}
