//! `memcmp` / `bcmp` for wasm32, eight bytes at a time.
//!
//! The fallback these replace (the `compiler_builtins` one, linked weakly)
//! compares one byte per step, and wasm has no libc to provide a better
//! one. Ordered maps of encoded keys compare keys on every lookup, so a
//! point read spent about a tenth of its time there. The C names are only
//! exported on wasm32: native builds keep the platform's libc (and these
//! stay plain Rust functions, for the tests).

/// The ordering of the first `n` bytes at `a` and `b`, as C's `memcmp`:
/// negative, zero or positive.
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n, and both pointers are valid for n bytes;
        // wasm loads need no alignment.
        let (x, y) = unsafe {
            (
                core::ptr::read_unaligned(a.add(i) as *const u64),
                core::ptr::read_unaligned(b.add(i) as *const u64),
            )
        };
        if x != y {
            // wasm32 is little-endian: the first differing byte is the
            // lowest differing one.
            let shift = (x ^ y).trailing_zeros() & !7;
            return ((x >> shift) as u8) as i32 - ((y >> shift) as u8) as i32;
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// Whether the first `n` bytes at `a` and `b` differ (zero when equal).
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's guarantee is memcmp's.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::memcmp;

    fn sign(x: i32) -> i32 {
        x.signum()
    }

    #[test]
    fn orders_like_slices() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"abcdefgh", b"abcdefgh"),
            (b"abcdefgh1", b"abcdefgh2"),
            (b"abcdefgi", b"abcdefgh"),
            (
                b"\x00\x01\x02\x03\x04\x05\x06\x07\x08",
                b"\x00\x01\x02\x03\x04\x05\x06\x08\x00",
            ),
            (
                b"\xff\x00\x00\x00\x00\x00\x00\x00",
                b"\x00\xff\xff\xff\xff\xff\xff\xff",
            ),
            (
                b"same-prefix-longer-than-eight-bytes-x",
                b"same-prefix-longer-than-eight-bytes-y",
            ),
        ];
        for (a, b) in cases {
            let got = unsafe { memcmp(a.as_ptr(), b.as_ptr(), a.len()) };
            assert_eq!(sign(got), a.cmp(b) as i32, "{a:?} vs {b:?}");
        }
    }
}
