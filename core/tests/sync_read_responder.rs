//! `respond_read` (the responder through a shared borrow, what a server runs
//! under its read lock) answers exactly like `respond` for every frame that
//! changes nothing, declines every frame that writes, and full sessions
//! driven read-first converge like ones driven through `respond` alone.

use std::sync::Arc;
use tablesync::sync::message::*;
use tablesync::sync::{
    respond, respond_read, Initiator, SessionStep, SyncConfig, SyncDirection, SyncMode, SyncReport,
};
use tablesync::*;

const CAP: usize = 1 << 20;

fn db(name: &str, keys: std::ops::Range<i64>, tables: &[&str]) -> Database {
    let clock = ManualClock::new(1_700_000_000_000);
    let mut db = Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock))).unwrap();
    for t in tables {
        db.create_table(TableSchema::new(
            *t,
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    }
    for i in keys {
        db.put_row(
            tables[0],
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", i * 3)],
            Condition::ignore(),
        )
        .unwrap();
    }
    db
}

fn schema(t: &str) -> TableSchema {
    TableSchema::new(t, vec![PkColumn::new("k", PkType::Integer)])
}

fn hello(direction: SyncDirection, tables: &[&str]) -> Request {
    Request::Hello(Hello {
        mode: SyncMode::Auto,
        direction,
        tables: None,
        vv: VersionVector::new(),
        dropped: VersionVector::new(),
        infos: vec![],
        schemas: tables.iter().map(|t| schema(t)).collect(),
        initial_symbols: 16,
    })
}

#[test]
fn read_frames_get_the_same_reply_and_write_frames_are_declined() {
    let src = db("src", 0..20, &["t"]);
    let records = src.changes_since(0, 5).unwrap().records;
    let key = tablesync::codec::key::encode_key_values([&PkValue::Integer(3)]);
    let reads = [
        hello(SyncDirection::Pull, &["t"]),
        hello(SyncDirection::Both, &["t"]),
        Request::GetChanges {
            vv: VersionVector::new(),
            tables: None,
        },
        Request::GetRows {
            table: "t".into(),
            after: Some(key.clone()),
        },
        Request::GetSymbols {
            table: "t".into(),
            from: 0,
            to: 8,
            content: true,
        },
        Request::ResolveIds {
            table: "t".into(),
            ids: vec![42],
        },
        // Fails the same way on both paths.
        Request::GetRows {
            table: "missing".into(),
            after: None,
        },
    ];
    let writes = [
        // Pushing a table this region lacks creates it.
        hello(SyncDirection::Push, &["t", "new"]),
        Request::PushChanges {
            records: records.into(),
        },
        Request::PushRows {
            table: "t".into(),
            rows: vec![(key, vec![0])],
        },
        Request::Exchange {
            table: "t".into(),
            rows: vec![],
            want: vec![1, 2, 3],
        },
        Request::MarkHeld {
            entries: vec![("zz".into(), 1, 3)],
        },
    ];
    for (i, req) in reads.iter().enumerate() {
        let frame = encode_request(9, i as u32, req, CAP).unwrap();
        let read = db("b", 0..20, &["t"]);
        let mut write = db("b", 0..20, &["t"]);
        let got = respond_read(&read, &frame, CAP).unwrap();
        let want = respond(&mut write, &frame, CAP).unwrap();
        assert_eq!(got.as_deref(), Some(&want[..]), "request {i}: {req:?}");
    }
    for (i, req) in writes.iter().enumerate() {
        let frame = encode_request(9, i as u32, req, CAP).unwrap();
        let read = db("b", 0..20, &["t"]);
        let before = read.table_digest("t").unwrap();
        assert_eq!(
            respond_read(&read, &frame, CAP).unwrap(),
            None,
            "request {i} writes: {req:?}"
        );
        assert_eq!(read.table_digest("t").unwrap(), before);
        assert_eq!(read.list_tables().unwrap(), vec!["t".to_string()]);
    }
    // A damaged frame is an error on the read path too.
    assert!(respond_read(&src, b"not a frame", CAP).is_err());
}

/// Run a session whose responder tries the read path first.
fn session(local: &mut Database, remote: &mut Database, config: SyncConfig) -> (SyncReport, usize) {
    let mut s = Initiator::new(config);
    let mut step = s.start(local).unwrap();
    let mut read_only = 0;
    loop {
        match step {
            SessionStep::Send(frame) => {
                let reply = match respond_read(remote, &frame, CAP).unwrap() {
                    Some(r) => {
                        read_only += 1;
                        r
                    }
                    None => respond(remote, &frame, CAP).unwrap(),
                };
                step = s.receive(local, &reply).unwrap();
            }
            SessionStep::Done(report) => return (report, read_only),
        }
    }
}

#[test]
fn sessions_driven_read_first_converge_in_every_mode_and_direction() {
    for mode in [SyncMode::Auto, SyncMode::Incremental, SyncMode::Reconcile] {
        for direction in [
            SyncDirection::Pull,
            SyncDirection::Push,
            SyncDirection::Both,
        ] {
            let mut a = db("a", 0..30, &["t"]);
            let mut b = db("b", 20..50, &["t"]);
            let (report, read_only) = session(&mut a, &mut b, SyncConfig::new(mode, direction));
            assert!(
                read_only >= 1,
                "{mode:?} {direction:?}: the hello is a read"
            );
            let (da, db_) = (a.table_digest("t").unwrap(), b.table_digest("t").unwrap());
            match direction {
                SyncDirection::Both => {
                    assert_eq!(da, db_, "{mode:?}: {report:?}");
                    assert_eq!(a.describe_table("t").unwrap().row_count, 50);
                }
                SyncDirection::Pull => {
                    assert_eq!(a.describe_table("t").unwrap().row_count, 50, "{mode:?}");
                    assert_eq!(b.describe_table("t").unwrap().row_count, 30, "{mode:?}");
                }
                SyncDirection::Push => {
                    assert_eq!(b.describe_table("t").unwrap().row_count, 50, "{mode:?}");
                    assert_eq!(a.describe_table("t").unwrap().row_count, 30, "{mode:?}");
                }
            }
        }
    }
}
