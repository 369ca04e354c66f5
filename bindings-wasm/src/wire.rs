//! The byte format of the row fast path: the JS layer (`js/wire.mjs`)
//! encodes a call's arguments into one buffer, the `*Wire` methods of
//! `RawDatabase` (`rows_wire.rs`) decode it in one pass, run the call and
//! encode the result into one buffer that the JS layer turns into the same
//! plain objects the field-by-field conversion makes. One crossing per
//! call instead of one per property.
//!
//! Both buffers live in wasm memory: JS asks [`wire_in`] for room, copies
//! its bytes there, hands over any side values with [`wire_side`], calls
//! the method with the length; the method returns where its result starts.
//!
//! All numbers are little-endian. `str` is a `u32` byte length then UTF-8
//! (in results, the length's top bit, [`ASCII`], marks pure-ASCII strings).
//!
//! Values in (tag byte, then payload): [`STR`] str · [`INT`] f64 holding a
//! safe integer · [`BIGINT`] i64 · [`DOUBLE`] f64 · [`TRUE`] · [`FALSE`] ·
//! [`BIN`] u32 length + bytes · [`AUTO_INCREMENT`] · [`INF_MIN`] · [`INF_MAX`].
//! Values out use the same tags, with [`INT`] meaning "a JS number" (an
//! INTEGER in number mode or a non-integral DOUBLE) and [`DOUBLE`] meaning
//! "a `Double` object". Names out are [`NAME_REF`] u32 id, [`NAME_DEF`] str
//! (the next id of the database's name table) or [`NAME_LIT`] str.
//!
//! A malformed buffer is a `CorruptData` error, never a panic: the JS layer
//! only sends well-formed ones, so this is a guard against bugs, not a path
//! users take.

use crate::error::{tablesync_error, JsResult};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use wasm_bindgen::prelude::*;

// The value tags, shared with the request reader in the core (out, [`INT`]
// means "a JS number" and [`DOUBLE`] "a `Double` object").
pub use tablesync::codec::row_wire::{
    AUTO_INCREMENT, BIGINT, BIN, DOUBLE, FALSE, INF_MAX, INF_MIN, INT, NONE, STR, TRUE,
};

/// Flag of a result string's length word: the string is pure ASCII.
pub const ASCII: u32 = 1 << 31;

/// A name already in the table: u32 id.
pub const NAME_REF: u8 = 0;
/// A new name: str; it takes the next id.
pub const NAME_DEF: u8 = 1;
/// A name outside the table: str.
pub const NAME_LIT: u8 = 2;

/// Most names one database's table holds; later names go as literals.
pub const MAX_NAMES: usize = 4096;
/// Longest name the table keeps.
const MAX_NAME_LEN: usize = 64;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SIDE: Cell<Option<JsValue>> = const { Cell::new(None) };
}

/// Hand over the side values (a JS array) of the next `*Wire` call. Calls
/// without any skip this (a JS value argument costs a table slot per call).
#[wasm_bindgen(js_name = wireSide)]
pub fn wire_side(side: JsValue) {
    SIDE.with(|s| s.set(Some(side)));
}

/// The side values handed over for this call (`undefined` when none).
pub fn take_side() -> JsValue {
    SIDE.with(|s| s.take()).unwrap_or(JsValue::UNDEFINED)
}

/// The `CorruptData` error of a malformed wire buffer.
pub fn corrupt(what: &str) -> JsValue {
    tablesync_error(
        "CorruptData",
        format!("CorruptData: malformed wire buffer ({what})"),
    )
}

/// Room for `len` request bytes: their address in wasm memory (valid until
/// the next call into the module).
#[wasm_bindgen(js_name = wireIn)]
pub fn wire_in(len: usize) -> usize {
    INPUT.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            if b.len() < len {
                b.resize(len, 0);
            }
            b.as_mut_ptr() as usize
        }
        // Unreachable (no JS runs while it is borrowed); 0 makes the next
        // call fail with CorruptData rather than write anywhere.
        Err(_) => 0,
    })
}

/// The wasm memory (for the JS layer's views of the wire buffers).
#[wasm_bindgen(js_name = wireMemory)]
pub fn wire_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Run one wire call: `f` gets the first `len` request bytes and an empty
/// result writer; returns where the result starts in wasm memory (the JS
/// decoder knows where it ends).
pub fn call(len: usize, f: impl FnOnce(&[u8], &mut Writer) -> JsResult<()>) -> JsResult<usize> {
    // Take both buffers out of their slots: a call made from a user
    // callback while this one runs gets buffers of its own.
    let input = INPUT.with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)));
    let input = input.map_err(|_| corrupt("request buffer busy"))?;
    let mut out = OUTPUT
        .with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
        .unwrap_or_default();
    out.clear();
    let mut w = Writer(out);
    let result = match input.get(..len) {
        Some(bytes) => f(bytes, &mut w),
        None => Err(corrupt("request longer than its buffer")),
    };
    let at = w.0.as_ptr() as usize;
    INPUT.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            *b = input;
        }
    });
    OUTPUT.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            *b = w.0;
        }
    });
    result.map(|()| at)
}

/// The result buffer of a wire call.
pub struct Writer(Vec<u8>);

impl Writer {
    /// One byte.
    pub fn u8(&mut self, x: u8) {
        self.0.push(x);
    }
    /// A little-endian u32.
    pub fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// A length or count as u32 (saturating: nothing the core returns is that large).
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    /// A little-endian f64.
    pub fn f64(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// A little-endian i64.
    pub fn i64(&mut self, x: i64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// Length-prefixed bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    /// A UTF-8 string: its u32 byte length, with [`ASCII`] set when every
    /// byte is ASCII (JS decodes those without a `TextDecoder`), then the bytes.
    pub fn str(&mut self, s: &str) {
        let n = u32::try_from(s.len()).unwrap_or(u32::MAX) & !ASCII;
        self.u32(if s.is_ascii() { n | ASCII } else { n });
        self.0.extend_from_slice(s.as_bytes());
    }
    /// Bytes written so far.
    pub fn written(&self) -> usize {
        self.0.len()
    }
}

/// FxHash (rustc's hasher): column names are short and the table bounded,
/// so a fast hash beats a DoS-resistant one here.
#[derive(Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Most slots [`NameTable::write`] keeps a hint for.
const MAX_SLOTS: usize = 64;

/// The names (columns, key columns) a database has sent to its JS side,
/// by id: each is decoded once in JS and then referred to by number. The
/// JS side keeps the same list (`Database`'s name table).
#[derive(Default)]
pub struct NameTable {
    ids: HashMap<String, u32, BuildHasherDefault<FxHasher>>,
    by_id: Vec<String>,
    /// The id last written at each slot (a cell's position in its row):
    /// rows of one table repeat their names in the same places, so one
    /// comparison usually finds the id without hashing.
    hints: Vec<u32>,
}

impl NameTable {
    /// Write `name` as a reference, a definition or a literal; `slot` is
    /// its position in the row (or key) being written.
    pub fn write(&mut self, w: &mut Writer, name: &str, slot: usize) {
        if let Some(&id) = self.hints.get(slot) {
            if self.by_id.get(id as usize).is_some_and(|s| s == name) {
                w.u8(NAME_REF);
                w.u32(id);
                return;
            }
        }
        let id = if let Some(&id) = self.ids.get(name) {
            w.u8(NAME_REF);
            w.u32(id);
            id
        } else if self.by_id.len() < MAX_NAMES && name.len() <= MAX_NAME_LEN {
            let id = self.by_id.len() as u32;
            self.ids.insert(name.to_string(), id);
            self.by_id.push(name.to_string());
            w.u8(NAME_DEF);
            w.str(name);
            id
        } else {
            w.u8(NAME_LIT);
            w.str(name);
            return;
        };
        if slot < MAX_SLOTS {
            if self.hints.len() <= slot {
                self.hints.resize(slot + 1, u32::MAX);
            }
            self.hints[slot] = id;
        }
    }

    /// How many names the table holds (a mark for [`NameTable::rollback`]).
    pub fn mark(&self) -> usize {
        self.by_id.len()
    }

    /// Forget the names defined since `mark`: their definitions were in a
    /// result that failed and never reached JS.
    pub fn rollback(&mut self, mark: usize) {
        if self.by_id.len() > mark {
            self.by_id.truncate(mark);
            self.ids.retain(|_, id| (*id as usize) < mark);
        }
    }

    /// Forget every name (the JS side lost track, e.g. after a decoding bug).
    pub fn clear(&mut self) {
        self.ids.clear();
        self.by_id.clear();
        self.hints.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(w: &Writer) -> Vec<u8> {
        w.0.clone()
    }

    #[test]
    fn names_are_defined_once_then_referred_to() {
        let mut t = NameTable::default();
        let mut w = Writer(Vec::new());
        t.write(&mut w, "age", 0);
        t.write(&mut w, "name", 1);
        t.write(&mut w, "age", 0); // the slot's hint
        t.write(&mut w, "name", 0); // a hint miss: found by hashing
        let mut want = vec![NAME_DEF, 3, 0, 0, 0x80, b'a', b'g', b'e'];
        want.extend([NAME_DEF, 4, 0, 0, 0x80, b'n', b'a', b'm', b'e']);
        want.extend([NAME_REF, 0, 0, 0, 0, NAME_REF, 1, 0, 0, 0]);
        assert_eq!(written(&w), want);
    }

    #[test]
    fn rollback_forgets_names_a_failed_result_defined() {
        let mut t = NameTable::default();
        let mut w = Writer(Vec::new());
        t.write(&mut w, "a", 0);
        let mark = t.mark();
        t.write(&mut w, "b", 1);
        t.rollback(mark);
        let mut w = Writer(Vec::new());
        t.write(&mut w, "b", 1);
        t.write(&mut w, "a", 0);
        assert_eq!(
            written(&w),
            vec![NAME_DEF, 1, 0, 0, 0x80, b'b', NAME_REF, 0, 0, 0, 0]
        );
    }

    #[test]
    fn long_names_and_a_full_table_go_as_literals() {
        let mut t = NameTable::default();
        let mut w = Writer(Vec::new());
        let long = "x".repeat(MAX_NAME_LEN + 1);
        t.write(&mut w, &long, 0);
        assert_eq!(w.0[0], NAME_LIT);
        for i in 0..MAX_NAMES {
            t.write(&mut Writer(Vec::new()), &format!("c{i}"), 0);
        }
        let mut w = Writer(Vec::new());
        t.write(&mut w, "one-more", 0);
        assert_eq!(w.0[0], NAME_LIT);
        assert_eq!(t.mark(), MAX_NAMES);
    }

    #[test]
    fn strings_flag_pure_ascii() {
        let mut w = Writer(Vec::new());
        w.str("é");
        w.str("e");
        assert_eq!(
            written(&w),
            vec![2, 0, 0, 0, 0xc3, 0xa9, 1, 0, 0, 0x80, b'e']
        );
    }
}
