//! Golden vectors of the replication frames (docs/FORMAT.md §18):
//! `tests/vectors/replication_frames.json` holds one frame of each kind;
//! this test rebuilds them, compares the bytes, and decodes the stored
//! bytes back. `REPL_VECTORS_WRITE=1` rewrites the file.

use serde_json::{json, Value as J};
use tablesync::codec::record_page::RecordPage;
use tablesync::replication::push_frame::{
    decode_ack, decode_push, encode_ack, encode_push, encode_push_page, PushAck, PushBatch,
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
        held: [
            ("ap".to_string(), 0),
            ("eu".to_string(), 41),
            ("us".to_string(), 6),
        ]
        .into(),
    };
    // A second failover: "us" replaced by "ap", which held "eu" up to 43.
    let handover3 = Handover {
        epoch: 3,
        from: "us".into(),
        to: "ap".into(),
        held_seq: 7,
        held: [
            ("ap".to_string(), 2),
            ("eu".to_string(), 43),
            ("us".to_string(), 7),
        ]
        .into(),
    };
    let hb = GroupMsg::Heartbeat {
        from: "us".into(),
        epoch: 2,
        primary: "us".into(),
        sent_ms: 1_700_000_000_123,
        handovers: vec![handover.clone()],
        freshness: [("eu".to_string(), 41), ("us".to_string(), 6)].into(),
    };
    let ack = GroupMsg::Ack {
        from: "ap".into(),
        epoch: 2,
        primary: "us".into(),
        hb_epoch: 2,
        echo_ms: 1_700_000_000_123,
        accepted: true,
        handovers: Vec::new(),
    };
    let ack_handover = GroupMsg::Ack {
        from: "eu".into(),
        epoch: 2,
        primary: "us".into(),
        hb_epoch: 1,
        echo_ms: 1_700_000_000_123,
        accepted: false,
        handovers: vec![handover.clone()],
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
        stepped_down: None,
        handovers: vec![handover.clone()],
        lost: vec![LostRange {
            origin: "eu".into(),
            from_seq: 42,
            to_seq: 45,
            epoch: 1,
        }],
    };
    let hb_chain = GroupMsg::Heartbeat {
        from: "ap".into(),
        epoch: 3,
        primary: "ap".into(),
        sent_ms: 1_700_000_000_456,
        handovers: vec![handover.clone(), handover3.clone()],
        freshness: [("eu".to_string(), 43), ("us".to_string(), 7)].into(),
    };
    let state_chain = GroupState {
        epoch: 3,
        primary: "ap".into(),
        voted_epoch: 3,
        voted_for: "ap".into(),
        needs_resync: false,
        handovers: vec![handover, handover3],
        lost: Vec::new(),
        stepped_down: None,
    };
    // A link sends the log's stored record bytes (encode_push_page): the
    // same frame as the decoded records give.
    let stored = RecordPage::from_records(&push.records);
    assert_eq!(
        encode_push_page(push.session, push.batch, &stored),
        encode_push(&push)
    );
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
        ("group_heartbeat_chain", hb_chain.encode()),
        ("group_state_chain", state_chain.encode()),
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
            "group_state_chain" => {
                let s = GroupState::decode(&bytes).unwrap();
                assert_eq!(s.handovers.len(), 2);
                assert_eq!(s.handover().unwrap().held_of("eu"), Some(43));
                assert_eq!(s.encode(), bytes);
            }
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

/// Frames written by version 1 (before the chain of handovers): the
/// golden bytes of the previous release, still read.
const V1_HEARTBEAT: &str =
    "54534750010020000000b36a6f8b0102757302027573f6a1abfef962010202657502757329020265752902757306";
const V1_ACK_HANDOVER: &str =
    "5453475001001900000002e5e6bb020265750202757301f6a1abfef96200010202657502757329";
const V1_ACK: &str = "54534750010010000000b9e7f05c020261700202757302f6a1abfef96201";
const V1_VOTE: &str = "545347500100080000007e34c752040261700201b401";
const V1_STATE: &str =
    "5453475301001900000002938e20020275730202757301010202657502757329010265752a2d01";

#[test]
fn version_1_group_frames_and_state_still_open() {
    let v1_handover = Handover {
        epoch: 2,
        from: "eu".into(),
        to: "us".into(),
        held_seq: 41,
        held: Default::default(),
    };
    match GroupMsg::decode(&unhex(V1_HEARTBEAT)).unwrap() {
        GroupMsg::Heartbeat {
            handovers,
            freshness,
            ..
        } => {
            assert_eq!(handovers, vec![v1_handover.clone()]);
            assert_eq!(freshness.get("us"), Some(&6));
        }
        m => panic!("{m:?}"),
    }
    match GroupMsg::decode(&unhex(V1_ACK_HANDOVER)).unwrap() {
        GroupMsg::Ack { handovers, .. } => assert_eq!(handovers, vec![v1_handover.clone()]),
        m => panic!("{m:?}"),
    }
    match GroupMsg::decode(&unhex(V1_ACK)).unwrap() {
        GroupMsg::Ack { handovers, .. } => assert!(handovers.is_empty()),
        m => panic!("{m:?}"),
    }
    assert!(matches!(
        GroupMsg::decode(&unhex(V1_VOTE)).unwrap(),
        GroupMsg::Vote {
            since_ack_ms: 180,
            ..
        }
    ));
    // A persisted state of version 1 opens as a chain of its one handover,
    // which still says how far the old primary was held (its held vector
    // is unknown), and is written back as version 2.
    let s = GroupState::decode(&unhex(V1_STATE)).unwrap();
    assert_eq!(s.handovers, vec![v1_handover]);
    assert_eq!(s.handover().unwrap().held_of("eu"), Some(41));
    assert_eq!(s.handover().unwrap().held_of("ap"), None);
    assert_eq!(s.lost[0].to_seq, 45);
    assert_eq!(s.stepped_down, None);
    let again = s.encode();
    assert_eq!(again[4], 2);
    assert_eq!(GroupState::decode(&again).unwrap(), s);
}
