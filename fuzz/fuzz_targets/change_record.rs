//! Change records (FORMAT.md §7): decode, and a decoded record re-encodes
//! to a record that decodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::codec::record::{decode_record, encode_record};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = decode_record(data) {
        let back = decode_record(&encode_record(&r)).expect("round trip");
        assert_eq!(back, r);
    }
});
