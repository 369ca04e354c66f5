//! Write-ahead-log entries (FORMAT.md §9): decode and round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::storage::WalEntry;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = WalEntry::decode(data) {
        let back = WalEntry::decode(&e.to_bytes()).expect("round trip");
        assert_eq!(back, e);
    }
});
