//! Targeted Tablestore semantics: versions, TTL, time ranges, filters,
//! increments, version deletes, batches, copies, auto-increment, ranges and
//! paging, and change-log retention.

use std::sync::Arc;
use tablesync::{
    Column, ColumnCondition, CompareOp, Condition, CopyProgress, Database, DatabaseOptions,
    Direction, GetOptions, ManualClock, PkBound, PkColumn, PkType, PkValue, PrimaryKey, RangeBound,
    RangeOptions, Retention, Row, RowExistence, RowUpdate, TableOptions, TableSchema, TimeRange,
    Value, WriteOp,
};

const T0: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 86_400_000;

fn open(clock: &ManualClock) -> Database {
    Database::memory(DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))).unwrap()
}

fn table(db: &mut Database, name: &str, max_versions: u32, time_to_live: i64) {
    db.create_table(
        TableSchema::new(name, vec![PkColumn::new("id", PkType::Integer)]).with_options(
            TableOptions {
                max_versions,
                time_to_live,
            },
        ),
    )
    .unwrap();
}

fn id(i: i64) -> PrimaryKey {
    PrimaryKey::new([("id", i)])
}

fn all(b: PkBound) -> RangeBound {
    RangeBound::new([("id", b)])
}

fn versions(row: &Row, col: &str) -> Vec<(i64, Value)> {
    row.cells
        .iter()
        .filter(|c| c.name == col)
        .map(|c| (c.timestamp, c.value.clone()))
        .collect()
}

fn get(db: &Database, t: &str, i: i64, o: GetOptions) -> Option<Row> {
    db.get_row(t, &id(i), &o).unwrap()
}

fn mv(n: u32) -> GetOptions {
    GetOptions {
        max_versions: n,
        ..GetOptions::default()
    }
}

fn ids(rows: &[Row]) -> Vec<i64> {
    rows.iter()
        .map(|r| match r.primary_key.get("id") {
            Some(PkValue::Integer(i)) => *i,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn max_versions_bounds_what_reads_and_digests_see() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 2, -1);
    for ts in [10, 20, 30, 40] {
        db.update_row(
            "t",
            id(1),
            RowUpdate::new().put(Column::new("v", ts).at(ts)),
            Condition::ignore(),
        )
        .unwrap();
    }
    let row = get(&db, "t", 1, mv(10)).unwrap();
    assert_eq!(
        versions(&row, "v"),
        vec![(40, Value::Integer(40)), (30, Value::Integer(30))]
    );
    assert_eq!(
        versions(&get(&db, "t", 1, mv(1)).unwrap(), "v"),
        vec![(40, Value::Integer(40))]
    );
    let d2 = db.table_digest("t").unwrap();
    db.update_table(
        "t",
        TableOptions {
            max_versions: 1,
            time_to_live: -1,
        },
    )
    .unwrap();
    assert_ne!(
        db.table_digest("t").unwrap(),
        d2,
        "the digest covers max_versions versions"
    );
    assert_eq!(versions(&get(&db, "t", 1, mv(10)).unwrap(), "v").len(), 1);
    db.verify_table_digest("t").unwrap();
}

#[test]
fn time_to_live_hides_expired_versions_but_not_from_digests() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 3, 86_400);
    db.put_row(
        "t",
        id(1),
        vec![
            Column::new("old", 1).at(T0 - DAY_MS / 2),
            Column::new("new", 2),
        ],
        Condition::ignore(),
    )
    .unwrap();
    db.put_row(
        "t",
        id(2),
        vec![Column::new("x", 1).at(T0 - DAY_MS / 2)],
        Condition::ignore(),
    )
    .unwrap();
    let digest = db.table_digest("t").unwrap();
    let row = get(&db, "t", 1, mv(1)).unwrap();
    assert!(row.get("old").is_some() && row.get("new").is_some());

    // Half a day later the older version is past its day; row 2 has nothing left.
    clock.advance(DAY_MS / 2);
    let row = get(&db, "t", 1, mv(1)).unwrap();
    assert_eq!(row.get("old"), None);
    assert_eq!(row.get("new"), Some(&Value::Integer(2)));
    assert!(get(&db, "t", 2, mv(1)).is_none());
    let page = db
        .get_range(
            "t",
            &all(PkBound::InfMin),
            &all(PkBound::InfMax),
            &RangeOptions::default(),
        )
        .unwrap();
    assert_eq!(ids(&page.rows), vec![1]);
    // An expired row counts as absent for conditions.
    db.put_row(
        "t",
        id(2),
        vec![Column::new("x", 3)],
        Condition::row(RowExistence::ExpectNotExist),
    )
    .unwrap();
    db.delete_row("t", id(2), Condition::ignore()).unwrap();
    db.put_row(
        "t",
        id(2),
        vec![Column::new("x", 1).at(T0 - DAY_MS / 2)],
        Condition::ignore(),
    )
    .unwrap();
    // Digests ignore the clock: the content is what it was.
    assert_eq!(db.table_digest("t").unwrap(), digest);
    db.verify_table_digest("t").unwrap();

    // A day after the newest version, the whole row is gone.
    clock.advance(DAY_MS);
    assert!(get(&db, "t", 1, mv(1)).is_none());
    // Just before its day ends a version is still visible.
    db.put_row("t", id(3), vec![Column::new("x", 1)], Condition::ignore())
        .unwrap();
    clock.advance(DAY_MS - 1);
    assert!(get(&db, "t", 3, mv(1)).is_some());
    clock.advance(1);
    assert!(get(&db, "t", 3, mv(1)).is_none());
}

#[test]
fn time_range_selects_versions() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 5, -1);
    let cols = [10, 20, 30]
        .iter()
        .map(|ts| Column::new("v", *ts).at(*ts))
        .collect();
    db.put_row("t", id(1), cols, Condition::ignore()).unwrap();
    let read = |r: TimeRange, n: u32| {
        let o = GetOptions {
            time_range: Some(r),
            max_versions: n,
            ..GetOptions::default()
        };
        versions(&get(&db, "t", 1, o).unwrap(), "v")
            .into_iter()
            .map(|(t, _)| t)
            .collect::<Vec<_>>()
    };
    assert_eq!(read(TimeRange { start: 15, end: 31 }, 5), vec![30, 20]);
    assert_eq!(read(TimeRange { start: 15, end: 30 }, 5), vec![20]);
    assert_eq!(read(TimeRange { start: 0, end: 100 }, 2), vec![30, 20]);
    assert_eq!(read(TimeRange::exact(10), 5), vec![10]);
    assert_eq!(read(TimeRange { start: 31, end: 40 }, 5), Vec::<i64>::new());
}

#[test]
fn column_filters_on_reads() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 3, -1);
    db.put_row(
        "t",
        id(1),
        vec![Column::new("age", 10).at(1), Column::new("age", 30).at(2)],
        Condition::ignore(),
    )
    .unwrap();
    db.put_row(
        "t",
        id(2),
        vec![Column::new("age", 20)],
        Condition::ignore(),
    )
    .unwrap();
    db.put_row(
        "t",
        id(3),
        vec![Column::new("name", "x")],
        Condition::ignore(),
    )
    .unwrap();
    let filtered = |f: ColumnCondition| {
        let o = RangeOptions {
            read: GetOptions {
                filter: Some(f),
                ..GetOptions::default()
            },
            ..RangeOptions::default()
        };
        ids(&db
            .get_range("t", &all(PkBound::InfMin), &all(PkBound::InfMax), &o)
            .unwrap()
            .rows)
    };
    let single = |op, v: i64, pass_if_missing, latest_version_only| ColumnCondition::Single {
        column: "age".into(),
        op,
        value: Value::Integer(v),
        pass_if_missing,
        latest_version_only,
    };
    // Row 3 has no "age": pass_if_missing decides.
    assert_eq!(
        filtered(single(CompareOp::GreaterEqual, 20, true, true)),
        vec![1, 2, 3]
    );
    assert_eq!(
        filtered(single(CompareOp::GreaterEqual, 20, false, true)),
        vec![1, 2]
    );
    // Row 1's latest age is 30; an older version is 10.
    assert_eq!(
        filtered(single(CompareOp::Less, 15, false, true)),
        Vec::<i64>::new()
    );
    assert_eq!(filtered(single(CompareOp::Less, 15, false, false)), vec![1]);
    // Combinations and key columns.
    assert_eq!(
        filtered(ColumnCondition::And(vec![
            single(CompareOp::GreaterEqual, 20, false, true),
            ColumnCondition::Not(Box::new(ColumnCondition::single("id", CompareOp::Equal, 1))),
        ])),
        vec![2]
    );
    assert_eq!(
        filtered(ColumnCondition::Or(vec![
            ColumnCondition::Single {
                column: "name".into(),
                op: CompareOp::Equal,
                value: "x".into(),
                pass_if_missing: false,
                latest_version_only: true,
            },
            single(CompareOp::Equal, 20, false, true),
        ])),
        vec![2, 3]
    );
    // A filter sees every column even when the projection returns fewer.
    let o = GetOptions {
        columns: Some(vec!["name".into()]),
        filter: Some(single(CompareOp::Equal, 20, false, true)),
        ..GetOptions::default()
    };
    let row = get(&db, "t", 2, o).unwrap();
    assert!(row.cells.is_empty());
    // Comparing different types: only != holds.
    assert_eq!(
        filtered(ColumnCondition::Single {
            column: "age".into(),
            op: CompareOp::NotEqual,
            value: "x".into(),
            pass_if_missing: false,
            latest_version_only: true
        }),
        vec![1, 2]
    );
}

#[test]
fn column_conditions_on_writes() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 1, -1);
    db.put_row(
        "t",
        id(1),
        vec![Column::new("stock", 5)],
        Condition::ignore(),
    )
    .unwrap();
    let when = |c: ColumnCondition| Condition::row(RowExistence::ExpectExist).with_column(c);
    // Compare-and-set: decrement only while stock > 0.
    for _ in 0..5 {
        db.update_row(
            "t",
            id(1),
            RowUpdate::new().increment("stock", -1),
            when(ColumnCondition::single("stock", CompareOp::Greater, 0)),
        )
        .unwrap();
    }
    let e = db
        .update_row(
            "t",
            id(1),
            RowUpdate::new().increment("stock", -1),
            when(ColumnCondition::single("stock", CompareOp::Greater, 0)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "OTSConditionCheckFail");
    assert_eq!(
        get(&db, "t", 1, mv(1)).unwrap().get("stock"),
        Some(&Value::Integer(0))
    );
    // pass_if_missing on writes.
    let missing = |pass| ColumnCondition::Single {
        column: "nope".into(),
        op: CompareOp::Equal,
        value: 1.into(),
        pass_if_missing: pass,
        latest_version_only: true,
    };
    assert!(db
        .delete_row("t", id(1), Condition::ignore().with_column(missing(false)))
        .is_err());
    db.delete_row("t", id(1), Condition::ignore().with_column(missing(true)))
        .unwrap();
    assert!(get(&db, "t", 1, mv(1)).is_none());
}

#[test]
fn increments_read_the_latest_value() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 3, -1);
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().increment("n", 5),
        Condition::ignore(),
    )
    .unwrap();
    clock.advance(1);
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().increment("n", -7).increment("m", 1),
        Condition::ignore(),
    )
    .unwrap();
    let row = get(&db, "t", 1, mv(3)).unwrap();
    assert_eq!(
        versions(&row, "n"),
        vec![(T0 + 1, Value::Integer(-2)), (T0, Value::Integer(5))]
    );
    assert_eq!(row.get("m"), Some(&Value::Integer(1)));
    // Two increments in the same millisecond: the second replaces the first version.
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().increment("n", 10),
        Condition::ignore(),
    )
    .unwrap();
    assert_eq!(
        versions(&get(&db, "t", 1, mv(3)).unwrap(), "n")[0],
        (T0 + 1, Value::Integer(8))
    );
}

#[test]
fn deleting_versions_and_columns() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 3, -1);
    let cols = [1, 2, 3]
        .iter()
        .map(|ts| Column::new("v", *ts).at(*ts))
        .collect();
    db.put_row("t", id(1), cols, Condition::ignore()).unwrap();
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().delete("v", 3),
        Condition::ignore(),
    )
    .unwrap();
    let ts = |db: &Database| {
        versions(&get(db, "t", 1, mv(3)).unwrap(), "v")
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ts(&db),
        vec![2, 1],
        "deleting the newest version reveals the older ones"
    );
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().delete("v", 99),
        Condition::ignore(),
    )
    .unwrap();
    assert_eq!(
        ts(&db),
        vec![2, 1],
        "deleting a missing version changes nothing visible"
    );
    // A version deleted earlier can be written again later.
    db.update_row(
        "t",
        id(1),
        RowUpdate::new().put(Column::new("v", 33).at(3)),
        Condition::ignore(),
    )
    .unwrap();
    assert_eq!(ts(&db), vec![3, 2, 1]);
    // delete_all removes every version; a put in the same update survives it.
    db.update_row(
        "t",
        id(1),
        RowUpdate::new()
            .delete_all("v")
            .put(Column::new("v", 7).at(7)),
        Condition::ignore(),
    )
    .unwrap();
    assert_eq!(ts(&db), vec![7]);
    // put_row replaces the whole row.
    db.put_row("t", id(1), vec![Column::new("w", 1)], Condition::ignore())
        .unwrap();
    let row = get(&db, "t", 1, mv(3)).unwrap();
    assert_eq!(row.columns(), vec![("w", &Value::Integer(1))]);
    // update_row creates a missing row.
    db.update_row(
        "t",
        id(2),
        RowUpdate::new().put(Column::new("a", 1)),
        Condition::ignore(),
    )
    .unwrap();
    assert!(get(&db, "t", 2, mv(1)).is_some());
    // An update that only deletes columns of a missing row leaves it missing
    // (Tablestore's rule), alone or in a batch, and logs nothing.
    let cursor = db.next_cursor().unwrap();
    db.update_row(
        "t",
        id(3),
        RowUpdate::new().delete_all("a").delete("b", 5),
        Condition::ignore(),
    )
    .unwrap();
    let r = db
        .batch_write(vec![WriteOp::Update {
            table: "t".into(),
            primary_key: id(4),
            update: RowUpdate::new().delete_all("a"),
            condition: Condition::ignore(),
        }])
        .unwrap();
    assert_eq!(r, vec![Ok(id(4))]);
    assert!(get(&db, "t", 3, mv(1)).is_none());
    assert!(get(&db, "t", 4, mv(1)).is_none());
    assert_eq!(db.next_cursor().unwrap(), cursor);
    // Its condition is still checked.
    assert_eq!(
        db.update_row(
            "t",
            id(3),
            RowUpdate::new().delete_all("a"),
            Condition::row(RowExistence::ExpectExist),
        )
        .unwrap_err()
        .code(),
        "OTSConditionCheckFail"
    );
    db.verify_table_digest("t").unwrap();
}

#[test]
fn batch_write_partial_failure_commits_the_rest() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 1, -1);
    db.put_row("t", id(1), vec![Column::new("a", 1)], Condition::ignore())
        .unwrap();
    let cursor = db.next_cursor().unwrap();
    let r = db
        .batch_write(vec![
            WriteOp::Put {
                table: "t".into(),
                primary_key: id(2),
                columns: vec![Column::new("a", 2)],
                condition: Condition::ignore(),
            },
            WriteOp::Put {
                table: "t".into(),
                primary_key: id(1),
                columns: vec![],
                condition: Condition::row(RowExistence::ExpectNotExist),
            },
            WriteOp::Update {
                table: "t".into(),
                primary_key: id(3),
                update: RowUpdate::new(),
                condition: Condition::ignore(),
            },
            WriteOp::Delete {
                table: "missing".into(),
                primary_key: id(1),
                condition: Condition::ignore(),
            },
            WriteOp::Update {
                table: "t".into(),
                primary_key: id(4),
                update: RowUpdate::new().increment("n", 1),
                condition: Condition::ignore(),
            },
        ])
        .unwrap();
    let codes: Vec<Option<&str>> = r
        .iter()
        .map(|x| x.as_ref().err().map(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            Some("OTSConditionCheckFail"),
            Some("OTSParameterInvalid"),
            Some("OTSObjectNotExist"),
            None
        ]
    );
    assert_eq!(r[0].as_ref().unwrap(), &id(2));
    assert_eq!(
        db.next_cursor().unwrap(),
        cursor + 2,
        "one record per successful operation"
    );
    assert_eq!(
        get(&db, "t", 1, mv(1)).unwrap().get("a"),
        Some(&Value::Integer(1))
    );
    assert!(get(&db, "t", 2, mv(1)).is_some() && get(&db, "t", 4, mv(1)).is_some());
    assert!(get(&db, "t", 3, mv(1)).is_none());
}

#[test]
fn copy_table_keeps_the_digest_and_reports_progress() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 3, -1);
    for chunk in (0..2500).collect::<Vec<i64>>().chunks(200) {
        let ops = chunk
            .iter()
            .map(|i| WriteOp::Put {
                table: "t".into(),
                primary_key: id(*i),
                columns: vec![
                    Column::new("v", *i).at(1),
                    Column::new("v", i * 2).at(2),
                    Column::new("s", "x").at(1),
                ],
                condition: Condition::ignore(),
            })
            .collect();
        db.batch_write(ops).unwrap();
    }
    for i in (0..2500).step_by(7) {
        db.delete_row("t", id(i), Condition::ignore()).unwrap();
    }
    let rows = db.describe_table("t").unwrap().row_count;
    let mut calls: Vec<CopyProgress> = Vec::new();
    let n = db
        .copy_table("t", "t2", &mut |p| {
            calls.push(p);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(n, rows);
    assert_eq!(
        db.table_digest("t2").unwrap(),
        db.table_digest("t").unwrap()
    );
    assert_eq!(
        db.describe_table("t2").unwrap().schema.options,
        db.describe_table("t").unwrap().schema.options
    );
    assert!(
        calls.len() >= 3,
        "progress is reported per chunk: {calls:?}"
    );
    assert_eq!(
        calls[0],
        CopyProgress {
            copied: 0,
            total: rows
        }
    );
    assert_eq!(
        *calls.last().unwrap(),
        CopyProgress {
            copied: rows,
            total: rows
        }
    );
    assert!(calls.windows(2).all(|w| w[0].copied <= w[1].copied));
    // Into another region: same digest, and the copy is in that region's log.
    let mut other = open(&ManualClock::new(T0));
    let mut last = None;
    db.copy_table_to("t", &mut other, "t", &mut |p| {
        last = Some(p);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        other.table_digest("t").unwrap(),
        db.table_digest("t").unwrap()
    );
    assert_eq!(
        last,
        Some(CopyProgress {
            copied: rows,
            total: rows
        })
    );
    assert_eq!(
        other.changes_since(0, 100_000).unwrap().records.len() as u64,
        rows
    );
    other.verify_table_digest("t").unwrap();
    // An empty table copies to an empty table.
    table(&mut db, "e", 1, -1);
    assert_eq!(
        db.copy_table("e", "e2", &mut |_| std::ops::ControlFlow::Continue(()))
            .unwrap(),
        0
    );
    assert_eq!(
        db.table_digest("e2").unwrap(),
        db.table_digest("e").unwrap()
    );
}

#[test]
fn auto_increment_keys_replicate_unchanged() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    db.create_table(TableSchema::new(
        "o",
        vec![
            PkColumn::new("shop", PkType::String),
            PkColumn::auto_increment("id"),
        ],
    ))
    .unwrap();
    let pk = PrimaryKey(vec![
        ("shop".into(), PkValue::String("s".into())),
        ("id".into(), PkValue::AutoIncrement),
    ]);
    let a = db
        .put_row(
            "o",
            pk.clone(),
            vec![Column::new("n", 1)],
            Condition::ignore(),
        )
        .unwrap();
    let b = db
        .put_row("o", pk, vec![Column::new("n", 2)], Condition::ignore())
        .unwrap();
    assert_ne!(a, b);
    let mut other = open(&ManualClock::new(T0));
    other
        .create_table(db.describe_table("o").unwrap().schema)
        .unwrap();
    other
        .apply_changes(&db.changes_since(0, 10).unwrap().records)
        .unwrap();
    assert_eq!(
        other
            .get_row("o", &b, &GetOptions::default())
            .unwrap()
            .unwrap()
            .get("n"),
        Some(&Value::Integer(2))
    );
    assert_eq!(
        other.table_digest("o").unwrap(),
        db.table_digest("o").unwrap()
    );
}

#[test]
fn ranges_page_forward_and_backward() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 1, -1);
    for i in 0..20 {
        db.put_row("t", id(i), vec![Column::new("v", i)], Condition::ignore())
            .unwrap();
    }
    for i in [3, 4, 11] {
        db.delete_row("t", id(i), Condition::ignore()).unwrap();
    }
    let v = |i: i64| all(PkBound::Value(i.into()));
    let page = |s: &RangeBound, e: &RangeBound, dir, limit| {
        db.get_range(
            "t",
            s,
            e,
            &RangeOptions {
                direction: dir,
                limit: Some(limit),
                ..Default::default()
            },
        )
        .unwrap()
    };
    // Forward: start inclusive, end exclusive.
    assert_eq!(
        ids(&page(&v(2), &v(7), Direction::Forward, 100).rows),
        vec![2, 5, 6]
    );
    // Backward: start inclusive, end exclusive, descending.
    assert_eq!(
        ids(&page(&v(7), &v(2), Direction::Backward, 100).rows),
        vec![7, 6, 5]
    );
    assert_eq!(
        ids(&page(&all(PkBound::InfMax), &v(15), Direction::Backward, 100).rows),
        vec![19, 18, 17, 16]
    );
    for (dir, start, end) in [
        (
            Direction::Forward,
            all(PkBound::InfMin),
            all(PkBound::InfMax),
        ),
        (
            Direction::Backward,
            all(PkBound::InfMax),
            all(PkBound::InfMin),
        ),
    ] {
        let mut got = Vec::new();
        let mut next = Some(start.clone());
        let mut pages = 0;
        while let Some(s) = next {
            let p = page(&s, &end, dir, 4);
            assert!(p.rows.len() <= 4);
            got.extend(ids(&p.rows));
            next = p.next_start;
            pages += 1;
        }
        let mut want: Vec<i64> = (0..20).filter(|i| ![3, 4, 11].contains(i)).collect();
        if dir == Direction::Backward {
            want.reverse();
        }
        assert_eq!(got, want);
        assert!(pages >= 5);
        let scanned: Vec<i64> = db
            .scan(
                "t",
                start,
                end,
                RangeOptions {
                    direction: dir,
                    ..Default::default()
                },
            )
            .map(|r| ids(&[r.unwrap()])[0])
            .collect();
        assert_eq!(scanned, want);
    }
}

#[test]
fn retention_truncates_the_log_and_reports_gaps() {
    let clock = ManualClock::new(T0);
    let mut db = open(&clock);
    table(&mut db, "t", 1, -1);
    for i in 0..40 {
        db.put_row("t", id(i), vec![Column::new("v", i)], Condition::ignore())
            .unwrap();
    }
    let digest = db.table_digest("t").unwrap();
    assert_eq!(db.changes_since(0, 1000).unwrap().records.len(), 40);

    // Keep the newest 10 records.
    db.set_retention(Retention {
        max_records: Some(10),
        max_age_ms: None,
    })
    .unwrap();
    let dropped = db.enforce_retention().unwrap();
    assert_eq!(dropped, 30);
    let page = db.changes_since(0, 1000).unwrap();
    assert_eq!(page.records.len(), 10);
    let first = page.records[0].cursor;
    assert_eq!(db.changes_since(first, 1000).unwrap().records.len(), 10);
    let e = db.changes_since(first - 1, 1000).unwrap_err();
    assert_eq!(e.code(), "LogGap");
    assert_eq!(db.dropped_records().unwrap().get("eu"), 30);
    assert_eq!(
        db.table_digest("t").unwrap(),
        digest,
        "retention never touches data"
    );
    // Retention applies as writes continue (in steps, never beyond the limit + a step).
    for i in 40..80 {
        db.put_row("t", id(i), vec![], Condition::ignore()).unwrap();
    }
    let held = db.changes_since(0, 1000).unwrap().records.len();
    assert!((10..=11).contains(&held), "held {held}");

    // Age-based retention with the manual clock.
    db.set_retention(Retention {
        max_records: None,
        max_age_ms: Some(60_000),
    })
    .unwrap();
    clock.advance(120_000);
    db.put_row("t", id(1000), vec![], Condition::ignore())
        .unwrap();
    let page = db.changes_since(0, 1000).unwrap();
    assert_eq!(
        page.records.len(),
        1,
        "only the fresh record is young enough"
    );

    // Explicit truncation.
    db.set_retention(Retention::default()).unwrap();
    for i in 0..5 {
        db.put_row("t", id(2000 + i), vec![], Condition::ignore())
            .unwrap();
    }
    let next = db.next_cursor().unwrap();
    db.truncate_log(next - 2).unwrap();
    assert_eq!(db.changes_since(0, 1000).unwrap().records.len(), 2);
    assert_eq!(db.changes_since(next - 3, 10).unwrap_err().code(), "LogGap");
    // A peer that was fully caught up is not cut off.
    assert!(db.changes_since(next, 10).unwrap().records.is_empty());
}
