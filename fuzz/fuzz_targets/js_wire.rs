//! The request format of the JS row fast path (`core/src/codec/row_wire.rs`,
//! what `putRowWire` … `batchGetWire` of the wasm binding read): the first
//! byte picks the call, the rest is its request buffer. Decoding gives a
//! value or a `CorruptData` error, never a panic, and what it builds is
//! bounded by the input (the fuzz run's `-malloc_limit_mb` catches a huge
//! reservation; the item counts are checked here).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::codec::row_wire::{decode_request, WireCall, WireRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let call = match pick % 5 {
        0 => WireCall::PutRow,
        1 => WireCall::GetRow,
        2 => WireCall::GetRange,
        3 => WireCall::BatchWrite,
        _ => WireCall::BatchGet,
    };
    match decode_request(call, body) {
        Ok(req) => {
            // Every item takes at least 5 bytes of the buffer.
            let items = match &req {
                WireRequest::PutRow {
                    primary_key,
                    columns,
                    ..
                } => primary_key.0.len() + columns.len(),
                WireRequest::GetRow { primary_key, .. } => primary_key.0.len(),
                WireRequest::GetRange { .. } => 0,
                WireRequest::BatchWrite(ops) => ops.len(),
                WireRequest::BatchGet(reqs) => reqs.len(),
            };
            assert!(
                items * 5 <= body.len(),
                "{items} items from {} bytes",
                body.len()
            );
        }
        Err(e) => assert_eq!(e.code(), "CorruptData", "{e}"),
    }
});
