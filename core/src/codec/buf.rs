//! Byte writer and bounds-checked reader shared by every encoding.

use crate::model::error::{Error, Result};

/// Append a LEB128 unsigned varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Append a zigzag-encoded signed varint.
pub fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Append a varint length then the bytes.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A reader over a byte slice; every read checks bounds and reports
/// truncation as [`Error::Corrupt`].
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Read `buf`; `what` names the structure in error messages.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }
    fn truncated(&self) -> Error {
        Error::corrupt(format!("{}: truncated at byte {}", self.what, self.pos))
    }
    /// A corruption error naming the structure and position.
    pub fn error(&self, msg: impl std::fmt::Display) -> Error {
        Error::corrupt(format!("{}: {} at byte {}", self.what, msg, self.pos))
    }
    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Current position.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Whether all bytes were read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    /// Fail unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.remaining())))
        }
    }
    /// Take `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.truncated());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// Little-endian u32.
    pub fn u32_le(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    /// Little-endian u64.
    pub fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// Big-endian u64.
    pub fn u64_be(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// LEB128 varint in its canonical (minimal) form: at most 10 bytes,
    /// no overflow past 64 bits, and no redundant trailing zero group
    /// (`0x80 0x00` for 0 is refused). Every encoding reads its varints
    /// here, so one value has exactly one byte form (FORMAT.md §1).
    #[inline]
    pub fn varint(&mut self) -> Result<u64> {
        // Most varints (lengths, counts, small ints) are one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }
    /// [`varint`](Self::varint) past its one-byte case.
    fn varint_long(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return Err(self.error("varint overflows 64 bits"));
            }
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(self.error("non-minimal varint"));
                }
                return Ok(v);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }
    /// A varint that must fit in `usize` and not exceed the bytes left
    /// (used for counts of items that each take at least one byte and are
    /// not collected; lists go through [`read_vec`](Self::read_vec)).
    #[inline]
    pub fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > self.remaining() as u64 {
            return Err(self.error(format!("count {n} exceeds the bytes left")));
        }
        Ok(n as usize)
    }
    /// A `count` of items that each take at least `min_item_bytes` encoded
    /// bytes, then the items, each read by `item`. Every decoder of outside
    /// bytes reads its lists through this: a count the bytes left cannot
    /// hold is refused before anything is reserved, and the up-front
    /// reservation never exceeds the bytes left (so a small hostile input
    /// cannot make the reader reserve memory by count × item size).
    pub fn read_vec<T>(
        &mut self,
        min_item_bytes: usize,
        mut item: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        let n = self.varint()?;
        let fit = self.remaining() / min_item_bytes.max(1);
        if n > fit as u64 {
            return Err(self.error(format!(
                "count {n} exceeds what the {} bytes left can hold",
                self.remaining()
            )));
        }
        let n = n as usize;
        let by_bytes = self.remaining().max(256) / std::mem::size_of::<T>().max(1);
        let mut v = Vec::with_capacity(n.min(by_bytes));
        for _ in 0..n {
            v.push(item(self)?);
        }
        Ok(v)
    }
    /// Zigzag varint.
    pub fn zigzag(&mut self) -> Result<i64> {
        let u = self.varint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    /// Varint length then bytes.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.count()?;
        self.take(n)
    }
    /// Varint length then UTF-8.
    #[inline]
    pub fn string(&mut self) -> Result<&'a str> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.error("invalid UTF-8"))
    }
}
