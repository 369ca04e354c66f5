//! Replays `tests/vectors/cluster_moves.json` (FORMAT.md §20.2): every
//! rebalance message decodes to the sample it was made from and encodes
//! back to the same bytes; damaged frames are refused.

mod vectors_gen;

use serde_json::Value as J;
use tablesync::cluster::wire::{decode_messages, decode_one, encode_messages};
use vectors_gen::json::unhex;

fn load() -> J {
    let p = vectors_gen::vectors_dir().join("cluster_moves.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("vector file")).expect("json")
}

#[test]
fn rebalance_messages_decode_to_their_samples_and_encode_back() {
    let v = load();
    let samples = vectors_gen::cluster_moves::messages();
    let cases = v["messages"].as_array().unwrap();
    assert_eq!(cases.len(), samples.len());
    for (c, (name, m)) in cases.iter().zip(&samples) {
        assert_eq!(c["name"], *name);
        let bytes = unhex(c["frame_hex"].as_str().unwrap());
        assert_eq!(&decode_one(&bytes).unwrap(), m, "{name}");
        assert_eq!(encode_messages(std::slice::from_ref(m)), bytes, "{name}");
    }
}

#[test]
fn damaged_rebalance_frames_are_refused_with_corrupt_data() {
    let v = load();
    for c in v["invalid"].as_array().unwrap() {
        let e = decode_messages(&unhex(c["frame_hex"].as_str().unwrap())).unwrap_err();
        assert_eq!(e.code(), c["error"].as_str().unwrap(), "{}", c["why"]);
    }
}
