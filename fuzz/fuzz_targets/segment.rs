//! Log segments (FORMAT.md §12): the scanner that decides torn tail versus
//! corruption, as the last segment and as an earlier one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::storage::fs::scan_segment;

fuzz_target!(|data: &[u8]| {
    for is_last in [true, false] {
        if let Ok(s) = scan_segment(data, "wal-fuzz.log", 1, is_last, 0) {
            assert!(s.valid_len as usize <= data.len());
            assert!(is_last || s.torn.is_none());
        }
    }
});
