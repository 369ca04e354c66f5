//! Order-preserving keys (FORMAT.md §3): decode without a schema and under
//! a two-column schema; a decoded key re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::codec::key::{decode_key, decode_key_values, encode_key, encode_key_values};
use tablesync::{PkColumn, PkType, TableSchema};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = decode_key_values(data) {
        assert_eq!(encode_key_values(v.iter()), data);
    }
    let schema = TableSchema::new(
        "t",
        vec![
            PkColumn::new("a", PkType::String),
            PkColumn::new("b", PkType::Integer),
        ],
    );
    if let Ok(pk) = decode_key(&schema, data) {
        assert_eq!(encode_key(&schema, &pk).expect("encodes"), data);
    }
});
