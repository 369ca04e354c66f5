//! Row states (FORMAT.md §5): decode; a decoded state re-encodes to bytes
//! that decode to the same state.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::codec::row_state::{decode_row_state, encode_row_state};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = decode_row_state(data) {
        let back = decode_row_state(&encode_row_state(&s)).expect("round trip");
        assert_eq!(back, s);
    }
});
