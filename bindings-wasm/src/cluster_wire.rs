//! The cluster wire format (`TSCX` messages, `TSCR` 2PC records, FORMAT.md
//! §20) as the JS package sees it: decode a frame to its messages' kinds,
//! re-encode what was decoded (the golden vectors check both give the
//! same bytes), refuse damaged frames with `CorruptData`.

use crate::error::{IntoJs, JsResult};
use crate::panic::guard;
use js_sys::{Array, Uint8Array};
use tablesync::cluster::wire::{
    decode_messages, decode_txn_record, encode_messages, encode_txn_record, TxnRecord,
};
use wasm_bindgen::prelude::*;

/// The kinds of the messages in a `TSCX` frame, in order (`CorruptData`
/// for a damaged frame).
#[wasm_bindgen(js_name = clusterMessageKinds)]
pub fn cluster_message_kinds(frame: &[u8]) -> JsResult<Array> {
    guard()?;
    let msgs = decode_messages(frame).js()?;
    Ok(msgs
        .iter()
        .map(|m| JsValue::from_str(m.kind_name()))
        .collect())
}

/// Decode a `TSCX` frame and encode its messages again.
#[wasm_bindgen(js_name = clusterMessagesReencode)]
pub fn cluster_messages_reencode(frame: &[u8]) -> JsResult<Uint8Array> {
    guard()?;
    let msgs = decode_messages(frame).js()?;
    Ok(Uint8Array::from(&encode_messages(&msgs)[..]))
}

/// The kind of a `TSCR` 2PC record frame.
#[wasm_bindgen(js_name = txnRecordKind)]
pub fn txn_record_kind(frame: &[u8]) -> JsResult<String> {
    guard()?;
    Ok(TxnRecord::kind_name(&decode_txn_record(frame).js()?).to_string())
}

/// Decode a `TSCR` record frame and encode it again.
#[wasm_bindgen(js_name = txnRecordReencode)]
pub fn txn_record_reencode(frame: &[u8]) -> JsResult<Uint8Array> {
    guard()?;
    Ok(Uint8Array::from(
        &encode_txn_record(&decode_txn_record(frame).js()?)[..],
    ))
}
