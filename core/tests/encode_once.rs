//! The write path encodes each record once (issue 10, step 3): the bytes the
//! change log keeps are the record's encoding, local puts build the row
//! without a decoded state, and `apply_change_bytes` applies encoded records
//! keeping their bytes. Each test compares against the general path, so a
//! divergence of the fast paths fails here.

mod common;

use common::Rng;
use std::sync::Arc;
use tablesync::codec::record::{decode_record, encode_record};
use tablesync::{
    ChangeRecord, Column, Condition, Database, DatabaseOptions, Error, ManualClock, PkColumn,
    PkType, PrimaryKey, RowUpdate, TableOptions, TableSchema, WriteOp,
};

fn db(region: &str, clock: &ManualClock) -> Database {
    let mut db =
        Database::memory(DatabaseOptions::with_clock(region, Arc::new(clock.clone()))).unwrap();
    let mut s = TableSchema::new(
        "t",
        vec![
            PkColumn::new("a", PkType::Integer),
            PkColumn::new("b", PkType::String),
        ],
    );
    s.options = TableOptions {
        max_versions: 2,
        ..s.options
    };
    db.create_table(s).unwrap();
    db
}

fn key(a: i64, b: &str) -> PrimaryKey {
    PrimaryKey::new([("a", tablesync::PkValue::from(a)), ("b", b.into())])
}

/// A random mix of puts (explicit and server timestamps, repeated
/// columns), updates, version deletes and row deletes.
fn workload(db: &mut Database, clock: &ManualClock, seed: u64, n: usize) {
    let mut g = Rng(seed);
    for _ in 0..n {
        clock.advance(g.below(3) as i64);
        let k = key(g.range(0, 30), ["x", "y"][g.below(2) as usize]);
        let col = |g: &mut Rng| ["c", "d", "e"][g.below(3) as usize].to_string();
        let op = match g.below(10) {
            0..=4 => WriteOp::Put {
                table: "t".into(),
                primary_key: k,
                columns: (0..g.below(4))
                    .map(|i| Column {
                        name: col(&mut g),
                        value: (g.below(100) as i64).into(),
                        timestamp: g.chance(50).then_some(1000 + i as i64),
                    })
                    .collect(),
                condition: Condition::ignore(),
            },
            5..=7 => {
                let mut u = RowUpdate::default();
                u.put.push(Column::new(col(&mut g), "u"));
                if g.chance(40) {
                    u.delete.push(("c".into(), 1000));
                }
                if g.chance(20) {
                    u.delete_all.push("e".into());
                }
                WriteOp::Update {
                    table: "t".into(),
                    primary_key: k,
                    update: u,
                    condition: Condition::ignore(),
                }
            }
            _ => WriteOp::Delete {
                table: "t".into(),
                primary_key: k,
                condition: Condition::ignore(),
            },
        };
        // Repeated (column, timestamp) pairs are refused: that is fine.
        let _ = db.write(op);
    }
}

fn all_records(db: &Database) -> Vec<ChangeRecord> {
    db.changes_since(0, 100_000).unwrap().records
}

/// What the log keeps is exactly the record's encoding, and a replica fed
/// through `apply_changes`, `apply_changes_owned` or `apply_change_bytes`
/// ends in the same state (digest, verified rescan, state ids) and log.
#[test]
fn every_apply_path_agrees() {
    for seed in 0..20 {
        let clock = ManualClock::new(1_000_000);
        let mut src = db("src", &clock);
        workload(&mut src, &clock, seed, 200);
        let records = all_records(&src);
        assert!(!records.is_empty());
        for r in &records {
            let bytes = encode_record(r);
            let back = decode_record(&bytes).unwrap();
            assert_eq!(back.primary_key, r.primary_key);
        }
        let encoded: Vec<Vec<u8>> = records.iter().map(encode_record).collect();

        let mut a = db("r", &clock);
        a.apply_changes(&records).unwrap();
        let mut b = db("r", &clock);
        b.apply_changes_owned(records.clone()).unwrap();
        let mut c = db("r", &clock);
        let stats = c.apply_change_bytes(&encoded).unwrap();
        assert_eq!(stats.applied, records.len() as u64);

        let want = src.table_digest("t").unwrap();
        for (name, r) in [("apply_changes", &a), ("owned", &b), ("bytes", &c)] {
            assert_eq!(r.table_digest("t").unwrap(), want, "seed {seed} {name}");
            assert_eq!(
                r.verify_table_digest("t").unwrap(),
                want,
                "seed {seed} {name}"
            );
            let got = all_records(r);
            assert_eq!(got.len(), records.len());
            for (x, y) in got.iter().zip(&records) {
                assert_eq!((&x.origin, x.seq, x.stamp), (&y.origin, y.seq, y.stamp));
                assert_eq!((&x.primary_key, &x.columns), (&y.primary_key, &y.columns));
            }
        }
        // Applying again skips everything.
        assert_eq!(
            c.apply_change_bytes(&encoded).unwrap().skipped,
            records.len() as u64
        );
    }
}

/// A record whose key lists its columns out of schema order is applied with
/// its key normalized, and the log holds the normalized record (not the
/// caller's bytes).
#[test]
fn bytes_with_a_key_out_of_order_are_normalized() {
    let clock = ManualClock::new(1_000_000);
    let mut src = db("src", &clock);
    src.put_row(
        "t",
        key(1, "x"),
        vec![Column::new("c", 5i64)],
        Condition::ignore(),
    )
    .unwrap();
    let mut rec = all_records(&src).remove(0);
    rec.primary_key = PrimaryKey(rec.primary_key.0.into_iter().rev().collect());
    let mut r = db("r", &clock);
    r.apply_change_bytes(&[encode_record(&rec)]).unwrap();
    assert_eq!(r.table_digest("t").unwrap(), src.table_digest("t").unwrap());
    assert_eq!(all_records(&r)[0].primary_key, key(1, "x"));
}

/// Bytes that do not decode, or a record that does not validate, refuse the
/// whole call with a typed error and change nothing.
#[test]
fn bad_bytes_change_nothing() {
    let clock = ManualClock::new(1_000_000);
    let mut src = db("src", &clock);
    for i in 0..5 {
        src.put_row(
            "t",
            key(i, "x"),
            vec![Column::new("c", i)],
            Condition::ignore(),
        )
        .unwrap();
    }
    let mut encoded: Vec<Vec<u8>> = all_records(&src).iter().map(encode_record).collect();
    let mut r = db("r", &clock);
    let before = (r.table_digest("t").unwrap(), r.next_cursor().unwrap());

    let mut truncated = encoded.clone();
    let last = truncated.last_mut().unwrap();
    last.truncate(last.len() - 3);
    let err = r.apply_change_bytes(&truncated).unwrap_err();
    assert_eq!(err.code(), "CorruptData", "{err}");

    let mut bad = all_records(&src).pop().unwrap();
    bad.table = "missing".into();
    bad.seq += 1;
    encoded.push(encode_record(&bad));
    assert!(matches!(
        r.apply_change_bytes(&encoded).unwrap_err(),
        Error::ObjectNotExist(_)
    ));
    assert_eq!(
        (r.table_digest("t").unwrap(), r.next_cursor().unwrap()),
        before
    );
}

/// A durable region takes the record bytes into its WAL as they are: after
/// reopening, the rows and the log are the same (local writes and applied
/// bytes alike).
#[test]
fn durable_bytes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000_000);
    let mut src = db("src", &clock);
    workload(&mut src, &clock, 99, 300);
    let encoded: Vec<Vec<u8>> = all_records(&src).iter().map(encode_record).collect();
    let opts = || DatabaseOptions::with_clock("dur", Arc::new(clock.clone()));
    let (digest, log) = {
        let mut d = Database::open(dir.path(), opts()).unwrap();
        let mut s = TableSchema::new(
            "t",
            vec![
                PkColumn::new("a", PkType::Integer),
                PkColumn::new("b", PkType::String),
            ],
        );
        s.options.max_versions = 2;
        d.create_table(s).unwrap();
        d.apply_change_bytes(&encoded).unwrap();
        workload(&mut d, &clock, 7, 100);
        let out = (d.table_digest("t").unwrap(), all_records(&d));
        d.close().unwrap();
        out
    };
    let d = Database::open(dir.path(), opts()).unwrap();
    assert_eq!(d.table_digest("t").unwrap(), digest);
    assert_eq!(d.verify_table_digest("t").unwrap(), digest);
    assert_eq!(all_records(&d), log);
}
