//! `cluster_wire.json`: cluster message frames (`TSCX`) and durable 2PC
//! records (`TSCR`), FORMAT.md §17, plus frames a reader must refuse.

use super::json::hex;
use serde_json::{json, Value as J};
use tablesync::cluster::map::{ClusterMap, Datacenter};
use tablesync::cluster::txn::{CoordRecord, Msg, Outcome, PartRecord, TxnId};
use tablesync::cluster::wire::{
    encode_messages, encode_txn_record, messages_payload, ClusterMsg, RowWrite, TxnRecord,
};
use tablesync::codec::frame::encode_frame;
use tablesync::codec::key::encode_key_values;
use tablesync::{ChangeKind, ChangeRecord, ColumnOp, PkValue, PrimaryKey, RowExistence, Value};

fn pk(i: i64) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(i))])
}

/// The sample row writes: a conditional put, an update, a delete.
pub fn writes() -> Vec<RowWrite> {
    vec![
        RowWrite::new(
            RowExistence::ExpectNotExist,
            "events",
            ChangeKind::Put,
            pk(7),
            vec![ColumnOp::Put {
                name: "v".into(),
                value: Value::String("x".into()),
                timestamp: 1_700_000_000_000,
            }],
        ),
        RowWrite::new(
            RowExistence::ExpectExist,
            "events",
            ChangeKind::Update,
            pk(2000),
            vec![
                ColumnOp::DeleteOneVersion {
                    name: "a".into(),
                    timestamp: 5,
                },
                ColumnOp::DeleteAllVersions { name: "b".into() },
            ],
        ),
        RowWrite::new(
            RowExistence::Ignore,
            "users",
            ChangeKind::Delete,
            PrimaryKey::new([("id", PkValue::String("ann".into()))]),
            vec![],
        ),
    ]
}

fn record() -> ChangeRecord {
    ChangeRecord {
        cursor: 0,
        origin: "eu-1".into(),
        seq: 3,
        stamp: 0x0001_0000_0000_0002,
        table: "events".into(),
        kind: ChangeKind::Put,
        primary_key: pk(7),
        columns: vec![ColumnOp::Put {
            name: "v".into(),
            value: Value::Integer(-1),
            timestamp: 9,
        }],
    }
}

/// Every message kind, one sample each: `(name, message)`.
pub fn messages() -> Vec<(&'static str, ClusterMsg)> {
    let t = TxnId(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    let w = writes();
    let map = ClusterMap::new(vec![Datacenter::new(
        "eu",
        [("eu-1", "http://127.0.0.1:7701")],
    )])
    .expect("map");
    vec![
        (
            "prepare",
            ClusterMsg::Txn(Msg::Prepare {
                txn: t,
                coordinator: "eu-1".into(),
                ops: w[..2].to_vec(),
            }),
        ),
        (
            "vote",
            ClusterMsg::Txn(Msg::Vote {
                txn: t,
                from: "us-1".into(),
                yes: false,
                reason: "row locked".into(),
            }),
        ),
        (
            "decision",
            ClusterMsg::Txn(Msg::Decision {
                txn: t,
                coordinator: "eu-1".into(),
                commit: true,
            }),
        ),
        (
            "ack",
            ClusterMsg::Txn(Msg::Ack {
                txn: t,
                from: "us-1".into(),
            }),
        ),
        (
            "query",
            ClusterMsg::Txn(Msg::Query {
                txn: t,
                from: "us-1".into(),
            }),
        ),
        (
            "one_phase",
            ClusterMsg::Txn(Msg::OnePhase {
                txn: t,
                coordinator: "eu-1".into(),
                ops: vec![w[2].clone()],
            }),
        ),
        (
            "one_phase_result",
            ClusterMsg::Txn(Msg::OnePhaseResult {
                txn: t,
                from: "us-1".into(),
                committed: true,
                reason: String::new(),
            }),
        ),
        (
            "begin",
            ClusterMsg::Begin {
                txn: t,
                epoch: 7,
                parts: vec![
                    ("eu-1".into(), vec![w[0].clone()]),
                    ("us-1".into(), vec![w[1].clone()]),
                ],
            },
        ),
        (
            "outcome_committed",
            ClusterMsg::Outcome {
                txn: t,
                outcome: Outcome::Committed,
            },
        ),
        (
            "outcome_aborted",
            ClusterMsg::Outcome {
                txn: t,
                outcome: Outcome::Aborted("condition failed".into()),
            },
        ),
        ("map_get", ClusterMsg::MapGet),
        ("map", ClusterMsg::Map(map)),
        (
            "write",
            ClusterMsg::Write {
                epoch: 7,
                write: w[0].clone(),
            },
        ),
        (
            "written",
            ClusterMsg::Written {
                records: vec![record()],
            },
        ),
        (
            "apply",
            ClusterMsg::Apply {
                epoch: 7,
                records: vec![record()],
            },
        ),
        ("applied", ClusterMsg::Applied { applied: 1 }),
        (
            "get",
            ClusterMsg::Get {
                epoch: 7,
                table: "events".into(),
                key: encode_key_values([&PkValue::Integer(7)]),
            },
        ),
        (
            "range",
            ClusterMsg::Range {
                epoch: 7,
                table: "events".into(),
                start: encode_key_values([&PkValue::Integer(1000)]),
                end: Vec::new(),
                limit: 100,
            },
        ),
        (
            "rows",
            ClusterMsg::Rows {
                rows: vec![record()],
                next: encode_key_values([&PkValue::Integer(8)]),
            },
        ),
    ]
}

/// Every durable record kind: `(name, record)`.
pub fn records() -> Vec<(&'static str, TxnRecord)> {
    let t = TxnId(42);
    vec![
        (
            "decided",
            TxnRecord::Coord(CoordRecord::Decided {
                txn: t,
                commit: false,
                participants: vec!["eu-1".into(), "us-1".into()],
                reason: "votes timed out".into(),
            }),
        ),
        (
            "finished",
            TxnRecord::Coord(CoordRecord::Finished { txn: t }),
        ),
        (
            "prepared",
            TxnRecord::Part(PartRecord::Prepared {
                txn: t,
                coordinator: "eu-1".into(),
                ops: writes(),
            }),
        ),
        (
            "committed",
            TxnRecord::Part(PartRecord::Committed { txn: t }),
        ),
        (
            "aborted",
            TxnRecord::Part(PartRecord::Aborted {
                txn: t,
                reason: "presumed abort".into(),
            }),
        ),
    ]
}

/// Frames a reader refuses: `(why, frame)`; each is `CorruptData`.
pub fn invalid() -> Vec<(&'static str, Vec<u8>)> {
    let one = messages_payload(&[ClusterMsg::MapGet]);
    let mut trailing = one.clone();
    trailing.push(0);
    let mut bad_crc = encode_messages(&[ClusterMsg::MapGet]);
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0x40;
    vec![
        (
            "unknown message tag 99",
            encode_frame(*b"TSCX", &[1, 99], false),
        ),
        (
            "a trailing byte after the messages",
            encode_frame(*b"TSCX", &trailing, false),
        ),
        (
            "a count larger than the bytes left",
            encode_frame(*b"TSCX", &[200, 1, 10], false),
        ),
        ("a damaged payload (CRC mismatch)", bad_crc),
        (
            "a truncated vote",
            encode_frame(*b"TSCX", &[1, 2, 0, 0, 0], false),
        ),
        ("a boolean byte that is not 0 or 1", {
            let mut p = vec![1u8, 3];
            p.extend([0u8; 16]);
            p.extend([1, b'e', 7]);
            encode_frame(*b"TSCX", &p, false)
        }),
    ]
}

/// `cluster_wire.json`.
pub fn cluster_wire() -> J {
    let msgs: Vec<J> = messages()
        .into_iter()
        .map(|(name, m)| {
            json!({
                "name": name,
                "frame_hex": hex(&encode_messages(std::slice::from_ref(&m))),
            })
        })
        .collect();
    let all: Vec<ClusterMsg> = messages().into_iter().map(|(_, m)| m).collect();
    let recs: Vec<J> = records()
        .into_iter()
        .map(|(name, r)| json!({"name": name, "frame_hex": hex(&encode_txn_record(&r))}))
        .collect();
    let bad: Vec<J> = invalid()
        .into_iter()
        .map(|(why, f)| json!({"why": why, "frame_hex": hex(&f), "error": "CorruptData"}))
        .collect();
    json!({
        "description": "Cluster messages (FORMAT.md §17): TSCX frames holding one message each, then one frame holding every sample in order; durable 2PC records as TSCR frames; frames a reader must refuse.",
        "messages": msgs,
        "all_in_one_frame_hex": hex(&encode_messages(&all)),
        "txn_records": recs,
        "invalid": bad,
    })
}
