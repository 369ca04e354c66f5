//! Raw bytes as a sync frame, both as a request and as a reply: the frame
//! checks (magic, length, CRC, version, lz4 size claims) must refuse
//! anything damaged without panicking or allocating by claimed size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::sync::message::{decode_reply, decode_request};

fuzz_target!(|data: &[u8]| {
    let _ = decode_request(data, 1 << 20);
    let _ = decode_reply(data, 1 << 20, 0, 0);
});
