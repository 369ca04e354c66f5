//! The order-independent combination of row digests.

use sha2::{Digest as _, Sha256};
use std::fmt;

/// A 32-byte SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
    /// Parse 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Digest> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(Digest(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A multiset of row digests: count plus sum modulo 2^256 (little-endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Accumulator {
    /// Rows added minus rows removed.
    pub count: u64,
    /// Sum of row digests read as 256-bit little-endian integers, mod 2^256.
    pub sum: [u8; 32],
}

impl Accumulator {
    /// Add a row digest.
    pub fn add(&mut self, d: &[u8; 32]) {
        self.count = self.count.wrapping_add(1);
        let mut carry = 0u16;
        for (s, &b) in self.sum.iter_mut().zip(d) {
            let t = *s as u16 + b as u16 + carry;
            *s = t as u8;
            carry = t >> 8;
        }
    }
    /// Remove a row digest previously added.
    pub fn remove(&mut self, d: &[u8; 32]) {
        self.count = self.count.wrapping_sub(1);
        let mut borrow = 0i16;
        for (s, &b) in self.sum.iter_mut().zip(d) {
            let t = *s as i16 - b as i16 - borrow;
            if t < 0 {
                *s = (t + 256) as u8;
                borrow = 1;
            } else {
                *s = t as u8;
                borrow = 0;
            }
        }
    }
    /// Merge another accumulator into this one.
    pub fn merge(&mut self, other: &Accumulator) {
        let count = self.count.wrapping_add(other.count);
        let mut carry = 0u16;
        for i in 0..32 {
            let t = self.sum[i] as u16 + other.sum[i] as u16 + carry;
            self.sum[i] = t as u8;
            carry = t >> 8;
        }
        self.count = count;
    }
    /// The final digest: SHA-256("tablesync.table.v1" ‖ count u64 LE ‖ sum).
    pub fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        h.update(b"tablesync.table.v1");
        h.update(self.count.to_le_bytes());
        h.update(self.sum);
        Digest(h.finalize().into())
    }
}
