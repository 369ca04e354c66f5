//! Damaged sync frames are rejected and change nothing: every single-bit
//! flip of sample frames of each kind, every truncation, oversized frames,
//! frames of an unknown version, replies from another session.

use std::sync::Arc;
use tablesync::codec::frame::{encode_frame, FRAME_HEADER_LEN};
use tablesync::sync::message::*;
use tablesync::sync::riblt::Symbol;
use tablesync::sync::{respond, SyncDirection, SyncMode};
use tablesync::*;

const CAP: usize = 1 << 20;

fn db(name: &str) -> Database {
    let clock = ManualClock::new(1_700_000_000_000);
    let mut db = Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock))).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    for i in 0..20 {
        db.put_row(
            "t",
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", i * 3)],
            Condition::ignore(),
        )
        .unwrap();
    }
    db
}

fn sample_requests(src: &Database) -> Vec<Request> {
    let records = src.changes_since(0, 5).unwrap().records;
    let key = tablesync::codec::key::encode_key_values([&PkValue::Integer(3)]);
    vec![
        Request::Hello(Hello {
            mode: SyncMode::Auto,
            direction: SyncDirection::Both,
            tables: Some(vec!["t".into()]),
            vv: VersionVector::new(),
            dropped: VersionVector::new(),
            infos: vec![TableInfo {
                name: "t".into(),
                rows: 1,
                stored: 1,
                digest: Digest([7; 32]),
                state_sum: 0x0123_4567_89ab_cdef,
            }],
            schemas: vec![TableSchema::new(
                "t",
                vec![PkColumn::new("k", PkType::Integer)],
            )],
            initial_symbols: 16,
        }),
        Request::GetChanges {
            vv: VersionVector::new(),
            tables: None,
        },
        Request::PushChanges {
            records: records.into(),
        },
        Request::GetRows {
            table: "t".into(),
            after: Some(key.clone()),
        },
        Request::PushRows {
            table: "t".into(),
            rows: vec![(key.clone(), vec![0])],
        },
        Request::GetSymbols {
            table: "t".into(),
            from: 0,
            to: 8,
            content: true,
        },
        Request::Exchange {
            table: "t".into(),
            rows: vec![],
            want: vec![1, 2, 3],
        },
        Request::ResolveIds {
            table: "t".into(),
            ids: vec![42],
        },
        Request::MarkHeld {
            entries: vec![("zz".into(), 1, 3)],
        },
    ]
}

fn sample_replies(src: &Database) -> Vec<Reply> {
    // Cursors are local positions and do not travel.
    let records: Vec<ChangeRecord> = src
        .changes_since(0, 5)
        .unwrap()
        .records
        .into_iter()
        .map(|r| ChangeRecord { cursor: 0, ..r })
        .collect();
    let key = tablesync::codec::key::encode_key_values([&PkValue::Integer(3)]);
    vec![
        Reply::Welcome {
            region: "b".into(),
            vv: VersionVector::new(),
            dropped: VersionVector::new(),
            infos: vec![],
            schemas: vec![],
            changes: Some(ChangeBatch {
                records: records.clone().into(),
                more: false,
            }),
            symbols: vec![SymbolBatch {
                table: "t".into(),
                from: 0,
                symbols: vec![Symbol {
                    id: 1,
                    check: 2,
                    count: -1,
                }],
            }],
        },
        Reply::Changes(ChangeBatch {
            records: records.into(),
            more: true,
        }),
        Reply::Rows {
            table: "t".into(),
            rows: vec![(key.clone(), vec![1, 2])],
            next: None,
        },
        Reply::Symbols(SymbolBatch {
            table: "t".into(),
            from: 4,
            symbols: vec![Symbol::default(); 3],
        }),
        Reply::RowsBack {
            table: "t".into(),
            rows: vec![(key, vec![])],
        },
        Reply::Ack {
            records: 3,
            rows: 4,
        },
        Reply::Failed {
            code: "OTSParameterInvalid".into(),
            message: "no".into(),
        },
    ]
}

fn state(db: &Database) -> (Digest, u64, std::collections::BTreeMap<String, u64>) {
    (
        db.table_digest("t").unwrap(),
        db.next_cursor().unwrap(),
        db.version_vector().unwrap(),
    )
}

#[test]
fn every_bit_flip_of_every_request_kind_is_rejected_without_effect() {
    let src = db("src");
    let mut target = db("b");
    let before = state(&target);
    for req in sample_requests(&src) {
        let frame = encode_request(9, 1, &req, CAP).unwrap();
        assert!(decode_request(&frame, CAP).is_ok());
        for byte in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[byte] ^= 1 << bit;
                let err = respond(&mut target, &bad, CAP).expect_err("flipped request accepted");
                assert_eq!(
                    err.code(),
                    "CorruptData",
                    "{req:?} byte {byte} bit {bit}: {err}"
                );
            }
        }
        for len in 0..frame.len() {
            let err =
                respond(&mut target, &frame[..len], CAP).expect_err("truncated request accepted");
            assert_eq!(err.code(), "CorruptData");
        }
    }
    assert_eq!(state(&target), before);
}

#[test]
fn every_bit_flip_of_every_reply_kind_is_rejected() {
    let src = db("src");
    for reply in sample_replies(&src) {
        let env = ReplyEnvelope {
            reply: reply.clone(),
            infos: vec![],
        };
        let frame = encode_reply(5, 2, &env, CAP).unwrap();
        assert_eq!(decode_reply(&frame, CAP, 5, 2).unwrap(), env);
        for byte in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[byte] ^= 1 << bit;
                let err = decode_reply(&bad, CAP, 5, 2).expect_err("flipped reply accepted");
                assert_eq!(err.code(), "CorruptData", "{reply:?} byte {byte} bit {bit}");
            }
        }
        for len in 0..frame.len() {
            assert!(decode_reply(&frame[..len], CAP, 5, 2).is_err());
        }
        // Another session's or another message's reply.
        assert_eq!(
            decode_reply(&frame, CAP, 6, 2).unwrap_err().code(),
            "CorruptData"
        );
        assert_eq!(
            decode_reply(&frame, CAP, 5, 1).unwrap_err().code(),
            "CorruptData"
        );
    }
}

#[test]
fn a_damaged_reply_leaves_the_initiator_and_its_database_untouched() {
    use tablesync::sync::{Initiator, SessionStep, SyncConfig};
    let mut a = db("a");
    let mut b = db("b");
    b.put_row(
        "t",
        PrimaryKey::new([("k", 100)]),
        vec![Column::new("v", 1)],
        Condition::ignore(),
    )
    .unwrap();
    let mut s = Initiator::new(SyncConfig {
        session_id: 3,
        ..SyncConfig::default()
    });
    let SessionStep::Send(req) = s.start(&mut a).unwrap() else {
        panic!()
    };
    let reply = respond(&mut b, &req, CAP).unwrap();
    let before = state(&a);
    for byte in 0..reply.len() {
        let mut bad = reply.clone();
        bad[byte] ^= 0x10;
        assert!(s.receive(&mut a, &bad).is_err());
        assert_eq!(state(&a), before);
    }
    // The genuine reply still completes the session.
    let mut step = s.receive(&mut a, &reply).unwrap();
    while let SessionStep::Send(req) = step {
        let reply = respond(&mut b, &req, CAP).unwrap();
        step = s.receive(&mut a, &reply).unwrap();
    }
    let SessionStep::Done(report) = step else {
        panic!()
    };
    assert!(report.verified);
}

#[test]
fn oversized_and_unknown_version_frames_are_rejected() {
    let src = db("src");
    let mut target = db("b");
    let before = state(&target);
    let big = Request::PushRows {
        table: "t".into(),
        rows: vec![(vec![0x10; 8], vec![0; 200_000])],
    };
    // The sender refuses to build a frame over the cap…
    assert_eq!(
        encode_request(1, 1, &big, 100_000).unwrap_err().code(),
        "SyncError"
    );
    // …and the receiver refuses one that arrives anyway.
    let frame = encode_request(1, 1, &big, CAP).unwrap();
    assert_eq!(
        respond(&mut target, &frame, 100_000).unwrap_err().code(),
        "CorruptData"
    );
    // A frame of a future version with a valid checksum.
    let good = encode_request(1, 1, &sample_requests(&src)[1], CAP).unwrap();
    let mut v2 = encode_frame(MAGIC_SYNC, &[0u8; 13], false);
    v2[4] = SYNC_FRAME_VERSION + 1;
    let crc = {
        let mut h = crc32fast::Hasher::new();
        h.update(&v2[..10]);
        h.update(&v2[FRAME_HEADER_LEN..]);
        h.finalize()
    };
    v2[10..14].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        respond(&mut target, &v2, CAP).unwrap_err().code(),
        "UnsupportedVersion"
    );
    // Version 1 (before table infos carried state sums) and version 2 (before
    // the max_versions rule of FORMAT §5.1) are refused too.
    for old_version in [1u8, 2] {
        let mut old = good.clone();
        old[4] = old_version;
        let crc = {
            let mut h = crc32fast::Hasher::new();
            h.update(&old[..10]);
            h.update(&old[FRAME_HEADER_LEN..]);
            h.finalize()
        };
        old[10..14].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            respond(&mut target, &old, CAP).unwrap_err().code(),
            "UnsupportedVersion"
        );
    }
    assert!(respond(&mut target, &good, CAP).is_ok());
    assert_eq!(state(&target), before);
}
