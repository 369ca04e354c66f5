//! Replays `tests/vectors/cluster_wire.json` (FORMAT.md §17): every
//! message and 2PC record decodes to the sample it was made from and
//! encodes back to the same bytes; damaged frames are refused.

mod vectors_gen;

use serde_json::Value as J;
use tablesync::cluster::wire::{
    decode_messages, decode_one, decode_txn_record, encode_messages, encode_txn_record,
};
use vectors_gen::json::unhex;

fn load() -> J {
    let p = vectors_gen::vectors_dir().join("cluster_wire.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("vector file")).expect("json")
}

fn frame(j: &J) -> Vec<u8> {
    unhex(j["frame_hex"].as_str().expect("frame_hex"))
}

#[test]
fn messages_decode_to_their_samples_and_encode_back() {
    let v = load();
    let samples = vectors_gen::cluster_wire::messages();
    let cases = v["messages"].as_array().unwrap();
    assert_eq!(cases.len(), samples.len());
    for (c, (name, m)) in cases.iter().zip(&samples) {
        assert_eq!(c["name"], *name);
        let bytes = frame(c);
        assert_eq!(&decode_one(&bytes).unwrap(), m, "{name}");
        assert_eq!(encode_messages(std::slice::from_ref(m)), bytes, "{name}");
    }
    let all = unhex(v["all_in_one_frame_hex"].as_str().unwrap());
    let got = decode_messages(&all).unwrap();
    let want: Vec<_> = samples.into_iter().map(|(_, m)| m).collect();
    assert_eq!(got, want);
    // Several messages are not one.
    assert_eq!(decode_one(&all).unwrap_err().code(), "CorruptData");
}

#[test]
fn txn_records_decode_and_encode_back() {
    let v = load();
    let samples = vectors_gen::cluster_wire::records();
    let cases = v["txn_records"].as_array().unwrap();
    assert_eq!(cases.len(), samples.len());
    for (c, (name, r)) in cases.iter().zip(&samples) {
        let bytes = frame(c);
        assert_eq!(&decode_txn_record(&bytes).unwrap(), r, "{name}");
        assert_eq!(encode_txn_record(r), bytes, "{name}");
    }
}

#[test]
fn damaged_frames_are_refused_with_corrupt_data() {
    let v = load();
    for c in v["invalid"].as_array().unwrap() {
        let e = decode_messages(&frame(c)).unwrap_err();
        assert_eq!(e.code(), c["error"].as_str().unwrap(), "{}", c["why"]);
    }
    // Every truncation of a valid frame is refused, never a panic.
    let all = unhex(v["all_in_one_frame_hex"].as_str().unwrap());
    for n in 0..all.len() {
        assert!(decode_messages(&all[..n]).is_err(), "prefix {n}");
    }
}
