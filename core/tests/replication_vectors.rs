//! Golden vectors of the replication frames (docs/FORMAT.md §18):
//! `tests/vectors/replication_frames.json` holds one frame of each kind;
//! this test rebuilds them, compares the bytes, and decodes the stored
//! bytes back. `REPL_VECTORS_WRITE=1` rewrites the file.

use serde_json::{json, Value as J};
use tablesync::replication::push_frame::{
    decode_ack, decode_push, encode_ack, encode_push, PushAck, PushBatch,
};
use tablesync::replication::{
    GroupMsg, GroupState, Handover, Link, LinkConfig, LostRange, Trigger,
};
use tablesync::sync::SyncDirection;
use tablesync::{ChangeKind, ChangeRecord, ColumnOp, PrimaryKey, Value, VersionVector};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn record(seq: u64) -> ChangeRecord {
    ChangeRecord {
        cursor: 0,
        origin: "eu".into(),
        seq,
        stamp: (1_700_000_000_000u64 << 16) + seq,
        table: "users".into(),
        kind: ChangeKind::Put,
        primary_key: PrimaryKey::new([("uid", seq as i64)]),
        columns: vec![ColumnOp::Put {
            name: "name".into(),
            value: Value::from("Ada"),
            timestamp: 1_700_000_000_000,
        }],
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let push = PushBatch {
        session: 0x0102_0304_0506_0708,
        batch: 1,
        records: vec![record(1), record(2)],
    };
    let ack_ok = PushAck {
        session: 0x0102_0304_0506_0708,
        batch: 1,
        outcome: Ok((2, 0)),
        vv: Some({
            let mut vv = VersionVector::new();
            vv.insert_range("eu", 1, 2);
            vv.insert_range("us", 5, 6);
            vv
        }),
    };
    let ack_err = PushAck {
        session: 9,
        batch: 3,
        outcome: Err((
            "OTSObjectNotExist".into(),
            "table 'users' does not exist".into(),
        )),
        vv: None,
    };
    let link = Link::new(
        LinkConfig::new("eu-to-us", "us")
            .trigger(Trigger::Delayed(300_000))
            .direction(SyncDirection::Push)
            .tables(Some(vec!["users".into()])),
        1,
    )
    .unwrap();
    let handover = Handover {
        epoch: 2,
        from: "eu".into(),
        to: "us".into(),
        held_seq: 41,
    };
    let hb = GroupMsg::Heartbeat {
        from: "us".into(),
        epoch: 2,
        primary: "us".into(),
        sent_ms: 1_700_000_000_123,
        handover: Some(handover.clone()),
        freshness: [("eu".to_string(), 41), ("us".to_string(), 6)].into(),
    };
    let ack = GroupMsg::Ack {
        from: "ap".into(),
        epoch: 2,
        primary: "us".into(),
        hb_epoch: 2,
        echo_ms: 1_700_000_000_123,
        accepted: true,
        handover: None,
    };
    let ack_handover = GroupMsg::Ack {
        from: "eu".into(),
        epoch: 2,
        primary: "us".into(),
        hb_epoch: 1,
        echo_ms: 1_700_000_000_123,
        accepted: false,
        handover: Some(handover.clone()),
    };
    let vreq = GroupMsg::VoteRequest {
        from: "us".into(),
        epoch: 2,
        forced: false,
        freshness: [("eu".to_string(), 41), ("us".to_string(), 6)].into(),
    };
    let vote = GroupMsg::Vote {
        from: "ap".into(),
        epoch: 2,
        granted: true,
        since_ack_ms: 180,
    };
    let state = GroupState {
        epoch: 2,
        primary: "us".into(),
        voted_epoch: 2,
        voted_for: "us".into(),
        needs_resync: true,
        handover: Some(handover),
        lost: vec![LostRange {
            origin: "eu".into(),
            from_seq: 42,
            to_seq: 45,
            epoch: 1,
        }],
    };
    vec![
        ("record_push", encode_push(&push)),
        ("record_push_ack", encode_ack(&ack_ok)),
        ("record_push_ack_failed", encode_ack(&ack_err)),
        ("link_state", link.encode_state()),
        ("group_heartbeat", hb.encode()),
        ("group_ack", ack.encode()),
        ("group_ack_handover", ack_handover.encode()),
        ("group_vote_request", vreq.encode()),
        ("group_vote", vote.encode()),
        ("group_state", state.encode()),
    ]
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors/replication_frames.json")
}

#[test]
fn replication_frames_match_the_golden_vectors() {
    let built = frames();
    let doc = J::Array(
        built
            .iter()
            .map(|(n, b)| json!({ "name": n, "hex": hex(b) }))
            .collect(),
    );
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("REPL_VECTORS_WRITE").is_ok() {
        std::fs::write(path(), &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(path()).expect("tests/vectors/replication_frames.json");
    assert_eq!(
        on_disk, text,
        "replication frames changed; REPL_VECTORS_WRITE=1 rewrites the vectors"
    );
    let stored: Vec<J> = serde_json::from_str(&on_disk).unwrap();
    for v in stored {
        let bytes = unhex(v["hex"].as_str().unwrap());
        match v["name"].as_str().unwrap() {
            "record_push" => assert_eq!(decode_push(&bytes, 1 << 20).unwrap().records.len(), 2),
            "record_push_ack" => {
                let vv = decode_ack(&bytes).unwrap().vv.unwrap();
                assert!(vv.holds_range("eu", 1, 2) && vv.holds_range("us", 5, 6));
                assert!(!vv.contains("us", 4));
            }
            n if n.starts_with("record_push_ack") => {
                decode_ack(&bytes).unwrap();
            }
            "link_state" => {
                let l = Link::decode_state(&bytes, 1).unwrap();
                assert_eq!(l.config().trigger, Trigger::Delayed(300_000));
            }
            "group_state" => assert_eq!(GroupState::decode(&bytes).unwrap().lost[0].to_seq, 45),
            _ => {
                let m = GroupMsg::decode(&bytes).unwrap();
                assert_eq!(m.encode(), bytes);
            }
        }
        // Any single damaged byte is refused, never accepted or panicked on.
        for i in [0, 5, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            let name = v["name"].as_str().unwrap();
            let refused = match name {
                "record_push" => decode_push(&bad, 1 << 20).is_err(),
                n if n.starts_with("record_push_ack") => decode_ack(&bad).is_err(),
                "link_state" => Link::decode_state(&bad, 1).is_err(),
                "group_state" => GroupState::decode(&bad).is_err(),
                _ => GroupMsg::decode(&bad).is_err(),
            };
            assert!(refused, "{name}: damaged byte {i} accepted");
        }
    }
}
