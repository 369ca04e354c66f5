//! Every Tablestore limit and name rule: a breach returns its exact code and
//! leaves the database unchanged (table list, digests, row counts and the
//! change log's next cursor).

use std::sync::Arc;
use tablesync::{
    ChangeKind, ChangeRecord, Column, ColumnCondition, ColumnOp, CompareOp, Condition, Database,
    DatabaseOptions, Direction, GetOptions, GetRequest, ManualClock, PkBound, PkColumn, PkType,
    PkValue, PrimaryKey, RangeBound, RangeOptions, RowExistence, RowUpdate, TableOptions,
    TableSchema, TimeRange, Value, WriteOp,
};

const T0: i64 = 1_700_000_000_000;
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

fn db() -> Database {
    let mut db = Database::memory(DatabaseOptions::with_clock(
        "eu",
        Arc::new(ManualClock::new(T0)),
    ))
    .unwrap();
    db.create_table(TableSchema::new(
        "users",
        vec![PkColumn::new("uid", PkType::Integer)],
    ))
    .unwrap();
    db.create_table(TableSchema::new(
        "docs",
        vec![
            PkColumn::new("s", PkType::String),
            PkColumn::new("b", PkType::Binary),
        ],
    ))
    .unwrap();
    db.put_row(
        "users",
        uid(1),
        vec![Column::new("age", 30)],
        Condition::ignore(),
    )
    .unwrap();
    db
}

fn uid(i: i64) -> PrimaryKey {
    PrimaryKey::new([("uid", i)])
}

/// Everything a failed request must leave as it was.
#[derive(Debug, PartialEq)]
struct State {
    tables: Vec<(String, String, u64, TableSchema)>,
    next_cursor: u64,
}

fn state(db: &Database) -> State {
    State {
        tables: db
            .list_tables()
            .unwrap()
            .into_iter()
            .map(|t| {
                let d = db.describe_table(&t).unwrap();
                (
                    t.clone(),
                    db.table_digest(&t).unwrap().to_hex(),
                    d.row_count,
                    d.schema,
                )
            })
            .collect(),
        next_cursor: db.next_cursor().unwrap(),
    }
}

/// `f` fails with `code` and changes nothing.
#[track_caller]
fn rejected<T: std::fmt::Debug>(
    db: &mut Database,
    code: &str,
    f: impl FnOnce(&mut Database) -> tablesync::Result<T>,
) {
    let before = state(db);
    let r = f(db);
    match r {
        Err(e) => assert_eq!(e.code(), code, "wrong code: {e}"),
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
    }
    assert_eq!(state(db), before, "a rejected request changed the database");
}

fn name(n: usize) -> String {
    "n".repeat(n)
}

#[test]
fn primary_key_column_count_is_one_to_four() {
    let mut db = db();
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new("t0", vec![]))
    });
    let cols = |n: usize| {
        (0..n)
            .map(|i| PkColumn::new(format!("k{i}"), PkType::Integer))
            .collect()
    };
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new("t5", cols(5)))
    });
    db.create_table(TableSchema::new("t4", cols(4))).unwrap();
    db.create_table(TableSchema::new("t1", cols(1))).unwrap();
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new(
            "dup",
            vec![
                PkColumn::new("a", PkType::Integer),
                PkColumn::new("a", PkType::String),
            ],
        ))
    });
}

#[test]
fn names_follow_the_tablestore_pattern() {
    let mut db = db();
    for bad in ["", "1abc", "a-b", "a b", "é", "a.b", &name(256)] {
        rejected(&mut db, "OTSParameterInvalid", |db| {
            db.create_table(TableSchema::new(
                bad,
                vec![PkColumn::new("k", PkType::Integer)],
            ))
        });
        rejected(&mut db, "OTSParameterInvalid", |db| {
            db.create_table(TableSchema::new(
                "ok_table",
                vec![PkColumn::new(bad, PkType::Integer)],
            ))
        });
    }
    // Attribute columns take any 1–255 bytes without control characters
    // (the service's own example writes `postal code`).
    for bad in ["", "a\nb", "a\u{0}b", &name(256)] {
        rejected(&mut db, "OTSParameterInvalid", |db| {
            db.put_row(
                "users",
                uid(2),
                vec![Column::new(bad, 1)],
                Condition::ignore(),
            )
        });
        rejected(&mut db, "OTSParameterInvalid", |db| {
            db.update_row(
                "users",
                uid(1),
                RowUpdate::new().delete_all(bad),
                Condition::ignore(),
            )
        });
    }
    for good in ["postal code", "a-b", "é", "a.b", "1abc"] {
        db.put_row(
            "users",
            uid(4),
            vec![Column::new(good, 1)],
            Condition::ignore(),
        )
        .unwrap();
    }
    for good in ["a", "_", "_x9", "A_b_C", &name(255)] {
        db.create_table(TableSchema::new(
            good,
            vec![PkColumn::new(good, PkType::Integer)],
        ))
        .unwrap();
        db.put_row(
            "users",
            uid(3),
            vec![Column::new(good, 1)],
            Condition::ignore(),
        )
        .unwrap();
    }
    // An attribute may not reuse a key column's name.
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.put_row(
            "users",
            uid(2),
            vec![Column::new("uid", 1)],
            Condition::ignore(),
        )
    });
}

#[test]
fn duplicate_and_missing_tables() {
    let mut db = db();
    rejected(&mut db, "OTSObjectAlreadyExist", |db| {
        db.create_table(TableSchema::new(
            "users",
            vec![PkColumn::new("x", PkType::String)],
        ))
    });
    let nope = "nope";
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.put_row(nope, uid(1), vec![], Condition::ignore())
    });
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.update_row(
            nope,
            uid(1),
            RowUpdate::new().put(Column::new("a", 1)),
            Condition::ignore(),
        )
    });
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.delete_row(nope, uid(1), Condition::ignore())
    });
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.get_row(nope, &uid(1), &GetOptions::default())
    });
    rejected(&mut db, "OTSObjectNotExist", |db| db.describe_table(nope));
    rejected(&mut db, "OTSObjectNotExist", |db| db.delete_table(nope));
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.update_table(nope, TableOptions::default())
    });
    rejected(&mut db, "OTSObjectNotExist", |db| db.table_digest(nope));
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.copy_table(nope, "copy", &mut |_| std::ops::ControlFlow::Continue(()))
    });
    rejected(&mut db, "OTSObjectAlreadyExist", |db| {
        db.copy_table(
            "users",
            "docs",
            &mut |_| std::ops::ControlFlow::Continue(()),
        )
    });
    let all = |b: PkBound| RangeBound::new([("uid", b)]);
    rejected(&mut db, "OTSObjectNotExist", |db| {
        db.get_range(
            nope,
            &all(PkBound::InfMin),
            &all(PkBound::InfMax),
            &RangeOptions::default(),
        )
    });
}

#[test]
fn primary_key_values_must_match_the_schema() {
    let mut db = db();
    let wrong_type = PrimaryKey::new([("uid", "1")]);
    let missing = PrimaryKey(vec![]);
    let extra = PrimaryKey(vec![
        ("uid".into(), PkValue::Integer(1)),
        ("x".into(), PkValue::Integer(2)),
    ]);
    let wrong_name = PrimaryKey::new([("id", 1)]);
    for pk in [wrong_type, missing, extra, wrong_name] {
        rejected(&mut db, "OTSInvalidPK", |db| {
            db.put_row("users", pk.clone(), vec![], Condition::ignore())
        });
        rejected(&mut db, "OTSInvalidPK", |db| {
            db.update_row(
                "users",
                pk.clone(),
                RowUpdate::new().put(Column::new("a", 1)),
                Condition::ignore(),
            )
        });
        rejected(&mut db, "OTSInvalidPK", |db| {
            db.delete_row("users", pk.clone(), Condition::ignore())
        });
        rejected(&mut db, "OTSInvalidPK", |db| {
            db.get_row("users", &pk, &GetOptions::default())
        });
    }
    // A range bound needs every column too.
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.get_range(
            "users",
            &RangeBound::new([("uid", PkBound::InfMin), ("x", PkBound::InfMin)]),
            &RangeBound::new([("uid", PkBound::InfMax)]),
            &RangeOptions::default(),
        )
    });
}

#[test]
fn string_and_binary_keys_are_at_most_one_kib() {
    let mut db = db();
    let key = |s: usize, b: usize| {
        PrimaryKey(vec![
            ("s".into(), PkValue::String("x".repeat(s))),
            ("b".into(), PkValue::Binary(vec![0; b])),
        ])
    };
    db.put_row("docs", key(KIB, KIB), vec![], Condition::ignore())
        .unwrap();
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.put_row("docs", key(KIB + 1, 1), vec![], Condition::ignore())
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.put_row("docs", key(1, KIB + 1), vec![], Condition::ignore())
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.get_row("docs", &key(KIB + 1, 1), &GetOptions::default())
    });
    assert!(db
        .get_row("docs", &key(KIB, KIB), &GetOptions::default())
        .unwrap()
        .is_some());
}

#[test]
fn cells_are_at_most_two_mib_and_rows_four() {
    let mut db = db();
    db.put_row(
        "users",
        uid(2),
        vec![Column::new("s", "x".repeat(2 * MIB))],
        Condition::ignore(),
    )
    .unwrap();
    db.put_row(
        "users",
        uid(3),
        vec![Column::new("b", vec![7u8; 2 * MIB])],
        Condition::ignore(),
    )
    .unwrap();
    rejected(&mut db, "OTSOutOfRowSizeLimit", |db| {
        db.put_row(
            "users",
            uid(4),
            vec![Column::new("s", "x".repeat(2 * MIB + 1))],
            Condition::ignore(),
        )
    });
    rejected(&mut db, "OTSOutOfRowSizeLimit", |db| {
        db.update_row(
            "users",
            uid(1),
            RowUpdate::new().put(Column::new("b", vec![0u8; 2 * MIB + 1])),
            Condition::ignore(),
        )
    });
    // Two full cells plus names and key exceed the 4 MiB row limit.
    rejected(&mut db, "OTSOutOfRowSizeLimit", |db| {
        db.put_row(
            "users",
            uid(5),
            vec![
                Column::new("a", vec![0u8; 2 * MIB]),
                Column::new("b", vec![0u8; 2 * MIB]),
            ],
            Condition::ignore(),
        )
    });
    // A condition value is a cell too.
    rejected(&mut db, "OTSOutOfRowSizeLimit", |db| {
        db.put_row(
            "users",
            uid(1),
            vec![],
            Condition::ignore().with_column(ColumnCondition::single(
                "a",
                CompareOp::Equal,
                "x".repeat(2 * MIB + 1),
            )),
        )
    });
}

#[test]
fn at_most_1024_columns_per_write() {
    let mut db = db();
    let cols = |n: usize| {
        (0..n)
            .map(|i| Column::new(format!("c{i}"), i as i64))
            .collect::<Vec<_>>()
    };
    db.put_row("users", uid(2), cols(1024), Condition::ignore())
        .unwrap();
    rejected(&mut db, "OTSOutOfColumnCountLimit", |db| {
        db.put_row("users", uid(3), cols(1025), Condition::ignore())
    });
    rejected(&mut db, "OTSOutOfColumnCountLimit", |db| {
        let mut u = RowUpdate::new();
        u.put = cols(1000);
        u.delete_all = (0..25).map(|i| format!("d{i}")).collect();
        db.update_row("users", uid(1), u, Condition::ignore())
    });
    let names: Vec<String> = (0..1025).map(|i| format!("c{i}")).collect();
    rejected(&mut db, "OTSOutOfColumnCountLimit", |db| {
        db.get_row(
            "users",
            &uid(2),
            &GetOptions {
                columns: Some(names),
                ..GetOptions::default()
            },
        )
    });
}

fn put_op(i: i64) -> WriteOp {
    WriteOp::Put {
        table: "users".into(),
        primary_key: uid(i),
        columns: vec![Column::new("v", i)],
        condition: Condition::ignore(),
    }
}

#[test]
fn batch_write_takes_one_to_200_operations() {
    let mut db = db();
    rejected(&mut db, "OTSParameterInvalid", |db| db.batch_write(vec![]));
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.batch_write((100..301).map(put_op).collect())
    });
    let r = db.batch_write((100..300).map(put_op).collect()).unwrap();
    assert_eq!(r.len(), 200);
    assert!(r.iter().all(|x| x.is_ok()));
    assert_eq!(db.describe_table("users").unwrap().row_count, 201);
    // The same row twice rejects the whole batch, even when one of the two would fail anyway.
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.batch_write(vec![
            put_op(1),
            WriteOp::Put {
                table: "users".into(),
                primary_key: uid(5000),
                columns: vec![],
                condition: Condition::ignore(),
            },
            WriteOp::Delete {
                table: "users".into(),
                primary_key: uid(1),
                condition: Condition::row(RowExistence::ExpectNotExist),
            },
        ])
    });
}

#[test]
fn batch_get_takes_one_to_100_rows() {
    let mut db = db();
    let req = |i: i64| GetRequest {
        table: "users".into(),
        primary_key: uid(i),
        options: GetOptions::default(),
    };
    rejected(&mut db, "OTSParameterInvalid", |db| db.batch_get(&[]));
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.batch_get(&(0..101).map(req).collect::<Vec<_>>())
    });
    let r = db
        .batch_get(&(0..100).map(req).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(r.len(), 100);
    assert!(r[1].as_ref().unwrap().is_some());
    assert!(r[2].as_ref().unwrap().is_none());
    // One bad request fails alone.
    let mut reqs: Vec<_> = (0..3).map(req).collect();
    reqs[1].table = "nope".into();
    let r = db.batch_get(&reqs).unwrap();
    assert_eq!(r[1].as_ref().unwrap_err().code(), "OTSObjectNotExist");
    assert!(r[0].is_ok() && r[2].is_ok());
}

#[test]
fn a_range_page_holds_at_most_5000_rows() {
    let mut db = db();
    for chunk in (10..5013).collect::<Vec<i64>>().chunks(200) {
        db.batch_write(chunk.iter().map(|i| put_op(*i)).collect())
            .unwrap();
    }
    let total = db.describe_table("users").unwrap().row_count;
    assert_eq!(total, 5004);
    let all = |b: PkBound| RangeBound::new([("uid", b)]);
    for limit in [None, Some(6000), Some(5000)] {
        let page = db
            .get_range(
                "users",
                &all(PkBound::InfMin),
                &all(PkBound::InfMax),
                &RangeOptions {
                    limit,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.rows.len(), 5000, "limit {limit:?}");
        let next = page.next_start.expect("more rows follow");
        let rest = db
            .get_range(
                "users",
                &next,
                &all(PkBound::InfMax),
                &RangeOptions::default(),
            )
            .unwrap();
        assert_eq!(rest.rows.len(), 4);
        assert!(rest.next_start.is_none());
    }
    let back = db
        .get_range(
            "users",
            &all(PkBound::InfMax),
            &all(PkBound::InfMin),
            &RangeOptions {
                direction: Direction::Backward,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(back.rows.len(), 5000);
    assert_eq!(back.rows[0].primary_key, uid(5012));
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.get_range(
            "users",
            &all(PkBound::InfMin),
            &all(PkBound::InfMax),
            &RangeOptions {
                limit: Some(0),
                ..Default::default()
            },
        )
    });
    // Forward needs start < end, backward start > end.
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.get_range(
            "users",
            &all(PkBound::InfMax),
            &all(PkBound::InfMin),
            &RangeOptions::default(),
        )
    });
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.get_range(
            "users",
            &all(PkBound::Value(5.into())),
            &all(PkBound::Value(5.into())),
            &RangeOptions::default(),
        )
    });
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.get_range(
            "users",
            &all(PkBound::InfMin),
            &all(PkBound::InfMax),
            &RangeOptions {
                direction: Direction::Backward,
                ..Default::default()
            },
        )
    });
}

#[test]
fn auto_increment_rules() {
    let mut db = db();
    let auto = |name: &str, t: PkType| PkColumn {
        name: name.into(),
        pk_type: t,
        auto_increment: true,
    };
    let k = || PkColumn::new("k", PkType::String);
    // Not the first column, INTEGER only, at most one.
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new("a1", vec![auto("id", PkType::Integer)]))
    });
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new(
            "a2",
            vec![k(), auto("id", PkType::String)],
        ))
    });
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.create_table(TableSchema::new(
            "a3",
            vec![k(), auto("x", PkType::Integer), auto("y", PkType::Integer)],
        ))
    });
    db.create_table(TableSchema::new(
        "orders",
        vec![k(), PkColumn::auto_increment("id")],
    ))
    .unwrap();
    let placeholder = || {
        PrimaryKey(vec![
            ("k".into(), PkValue::String("shop".into())),
            ("id".into(), PkValue::AutoIncrement),
        ])
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let pk = db
            .put_row(
                "orders",
                placeholder(),
                vec![Column::new("n", i)],
                Condition::ignore(),
            )
            .unwrap();
        match pk.get("id") {
            Some(PkValue::Integer(v)) => ids.push(*v),
            other => panic!("auto-increment value not assigned: {other:?}"),
        }
        let row = db
            .get_row("orders", &pk, &GetOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(row.get("n"), Some(&Value::Integer(i)));
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "assigned values increase: {ids:?}"
    );
    // The placeholder is only for put_row, with the IGNORE condition, on the auto-increment column.
    rejected(&mut db, "OTSParameterInvalid", |db| {
        db.put_row(
            "orders",
            placeholder(),
            vec![],
            Condition::row(RowExistence::ExpectNotExist),
        )
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.update_row(
            "orders",
            placeholder(),
            RowUpdate::new().put(Column::new("n", 1)),
            Condition::ignore(),
        )
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.get_row("orders", &placeholder(), &GetOptions::default())
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.delete_row("orders", placeholder(), Condition::ignore())
    });
    rejected(&mut db, "OTSInvalidPK", |db| {
        db.put_row(
            "users",
            PrimaryKey(vec![("uid".into(), PkValue::AutoIncrement)]),
            vec![],
            Condition::ignore(),
        )
    });
    // Auto-increment puts in one batch each get their own key.
    let r = db
        .batch_write(
            (0..3)
                .map(|_| WriteOp::Put {
                    table: "orders".into(),
                    primary_key: placeholder(),
                    columns: vec![],
                    condition: Condition::ignore(),
                })
                .collect(),
        )
        .unwrap();
    let keys: std::collections::BTreeSet<_> =
        r.into_iter().map(|x| format!("{:?}", x.unwrap())).collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(db.describe_table("orders").unwrap().row_count, 8);
}

#[test]
fn condition_failures_change_nothing() {
    let mut db = db();
    let fail = "OTSConditionCheckFail";
    rejected(&mut db, fail, |db| {
        db.put_row(
            "users",
            uid(1),
            vec![],
            Condition::row(RowExistence::ExpectNotExist),
        )
    });
    rejected(&mut db, fail, |db| {
        db.put_row(
            "users",
            uid(2),
            vec![],
            Condition::row(RowExistence::ExpectExist),
        )
    });
    rejected(&mut db, fail, |db| {
        db.update_row(
            "users",
            uid(2),
            RowUpdate::new().put(Column::new("a", 1)),
            Condition::row(RowExistence::ExpectExist),
        )
    });
    rejected(&mut db, fail, |db| {
        db.delete_row("users", uid(2), Condition::row(RowExistence::ExpectExist))
    });
    let older =
        Condition::ignore().with_column(ColumnCondition::single("age", CompareOp::Greater, 40));
    rejected(&mut db, fail, |db| {
        db.put_row("users", uid(1), vec![], older.clone())
    });
    rejected(&mut db, fail, |db| {
        db.delete_row("users", uid(1), older.clone())
    });
}

#[test]
fn malformed_requests_are_parameter_errors() {
    let mut db = db();
    let bad = "OTSParameterInvalid";
    rejected(&mut db, bad, |db| {
        db.put_row(
            "users",
            uid(2),
            vec![Column::new("a", 1).at(-1)],
            Condition::ignore(),
        )
    });
    rejected(&mut db, bad, |db| {
        db.put_row(
            "users",
            uid(2),
            vec![Column::new("a", 1).at(5), Column::new("a", 2).at(5)],
            Condition::ignore(),
        )
    });
    rejected(&mut db, bad, |db| {
        db.update_row("users", uid(1), RowUpdate::new(), Condition::ignore())
    });
    rejected(&mut db, bad, |db| {
        db.update_row(
            "users",
            uid(1),
            RowUpdate::new().delete("a", -5),
            Condition::ignore(),
        )
    });
    db.put_row(
        "users",
        uid(3),
        vec![Column::new("s", "text"), Column::new("n", i64::MAX)],
        Condition::ignore(),
    )
    .unwrap();
    rejected(&mut db, bad, |db| {
        db.update_row(
            "users",
            uid(3),
            RowUpdate::new().increment("s", 1),
            Condition::ignore(),
        )
    });
    rejected(&mut db, bad, |db| {
        db.update_row(
            "users",
            uid(3),
            RowUpdate::new().increment("n", 1),
            Condition::ignore(),
        )
    });
    // Condition shape: empty AND/OR, nesting deeper than 32.
    rejected(&mut db, bad, |db| {
        db.put_row(
            "users",
            uid(1),
            vec![],
            Condition::ignore().with_column(ColumnCondition::And(vec![])),
        )
    });
    let mut deep = ColumnCondition::single("a", CompareOp::Equal, 1);
    for _ in 0..40 {
        deep = ColumnCondition::Not(Box::new(deep));
    }
    rejected(&mut db, bad, |db| {
        db.put_row(
            "users",
            uid(1),
            vec![],
            Condition::ignore().with_column(deep.clone()),
        )
    });
    // Read options.
    rejected(&mut db, bad, |db| {
        db.get_row(
            "users",
            &uid(1),
            &GetOptions {
                max_versions: 0,
                ..GetOptions::default()
            },
        )
    });
    rejected(&mut db, bad, |db| {
        db.get_row(
            "users",
            &uid(1),
            &GetOptions {
                time_range: Some(TimeRange { start: 10, end: 10 }),
                ..GetOptions::default()
            },
        )
    });
    rejected(&mut db, bad, |db| {
        db.get_row(
            "users",
            &uid(1),
            &GetOptions {
                filter: Some(ColumnCondition::Or(vec![])),
                ..GetOptions::default()
            },
        )
    });
    // Table options.
    rejected(&mut db, bad, |db| {
        db.update_table(
            "users",
            TableOptions {
                max_versions: 0,
                time_to_live: -1,
            },
        )
    });
    rejected(&mut db, bad, |db| {
        db.update_table(
            "users",
            TableOptions {
                max_versions: 1,
                time_to_live: 3600,
            },
        )
    });
    rejected(&mut db, bad, |db| {
        db.create_table(
            TableSchema::new("ttl", vec![PkColumn::new("k", PkType::Integer)]).with_options(
                TableOptions {
                    max_versions: 1,
                    time_to_live: 0,
                },
            ),
        )
    });
    // Change log paging.
    rejected(&mut db, bad, |db| db.changes_since(0, 0));
    rejected(&mut db, bad, |db| db.changes_since(0, 100_001));
}

#[test]
fn an_invalid_record_rejects_the_whole_apply() {
    let mut db = db();
    let good = ChangeRecord {
        cursor: 0,
        origin: "us".into(),
        seq: 1,
        stamp: 42 << 16,
        table: "users".into(),
        kind: ChangeKind::Put,
        primary_key: uid(9),
        columns: vec![ColumnOp::Put {
            name: "a".into(),
            value: 1.into(),
            timestamp: 1,
        }],
    };
    // Each bad record has its own sequence number, so it is not skipped as a duplicate.
    let bad_base = ChangeRecord {
        seq: 3,
        primary_key: uid(11),
        ..good.clone()
    };
    let cases: Vec<(&str, ChangeRecord)> = vec![
        (
            "OTSObjectNotExist",
            ChangeRecord {
                table: "nope".into(),
                ..bad_base.clone()
            },
        ),
        (
            "OTSInvalidPK",
            ChangeRecord {
                primary_key: PrimaryKey::new([("uid", "x")]),
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                seq: 0,
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                stamp: 0,
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                origin: String::new(),
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                kind: ChangeKind::Delete,
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                columns: vec![ColumnOp::DeleteAllVersions { name: "a".into() }],
                ..bad_base.clone()
            },
        ),
        (
            "OTSParameterInvalid",
            ChangeRecord {
                columns: vec![ColumnOp::Put {
                    name: "a".into(),
                    value: 1.into(),
                    timestamp: -1,
                }],
                ..bad_base.clone()
            },
        ),
        (
            "OTSOutOfRowSizeLimit",
            ChangeRecord {
                columns: vec![ColumnOp::Put {
                    name: "a".into(),
                    value: vec![0u8; 2 * MIB + 1].into(),
                    timestamp: 1,
                }],
                ..bad_base.clone()
            },
        ),
    ];
    for (code, bad) in cases {
        let other = ChangeRecord {
            seq: 2,
            primary_key: uid(10),
            ..good.clone()
        };
        rejected(&mut db, code, |db| {
            db.apply_changes(&[good.clone(), bad.clone(), other])
        });
    }
    db.apply_changes(&[good]).unwrap();
    assert!(db
        .get_row("users", &uid(9), &GetOptions::default())
        .unwrap()
        .is_some());
}

#[test]
fn a_closed_database_refuses_everything() {
    let mut db = db();
    db.close().unwrap();
    for r in [
        db.put_row("users", uid(1), vec![], Condition::ignore())
            .map(|_| ()),
        db.get_row("users", &uid(1), &GetOptions::default())
            .map(|_| ()),
        db.table_digest("users").map(|_| ()),
        db.changes_since(0, 10).map(|_| ()),
        db.export_snapshot().map(|_| ()),
        db.list_tables().map(|_| ()),
    ] {
        assert_eq!(r.unwrap_err().code(), "DatabaseClosed");
    }
}
