//! The owned scan cursor (`ScanCursor`), range-bound expansion and
//! cancellable `copy_table`: the logic Python, JS and the CLI call instead
//! of their own copies.

use std::ops::ControlFlow;
use std::sync::Arc;
use tablesync::{
    Column, Condition, CopyProgress, Database, DatabaseOptions, Direction, ManualClock, PkBound,
    PkColumn, PkType, PrimaryKey, RangeBound, RangeOptions, ScanCursor, TableSchema, WriteOp,
};

const T0: i64 = 1_700_000_000_000;

fn open() -> Database {
    Database::memory(DatabaseOptions::with_clock(
        "eu",
        Arc::new(ManualClock::new(T0)),
    ))
    .unwrap()
}

fn schema(name: &str) -> TableSchema {
    TableSchema::new(name, vec![PkColumn::new("id", PkType::Integer)])
}

fn put(db: &mut Database, table: &str, ids: impl IntoIterator<Item = i64>) {
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(200) {
        db.batch_write(
            chunk
                .iter()
                .map(|&i| WriteOp::Put {
                    table: table.into(),
                    primary_key: PrimaryKey::new([("id", i)]),
                    columns: vec![Column::new("v", i)],
                    condition: Condition::ignore(),
                })
                .collect(),
        )
        .unwrap();
    }
}

fn id_of(r: &tablesync::Row) -> i64 {
    match r.primary_key.0[0].1 {
        tablesync::PkValue::Integer(i) => i,
        _ => unreachable!(),
    }
}

fn whole(db: &Database, table: &str, direction: Direction, limit: Option<usize>) -> ScanCursor {
    let s = db.describe_table(table).unwrap().schema;
    ScanCursor::new(
        table,
        RangeBound::all(&s, direction.first_bound()),
        RangeBound::all(&s, direction.last_bound()),
        RangeOptions {
            direction,
            limit,
            ..RangeOptions::default()
        },
    )
}

#[test]
fn a_cursor_survives_writes_between_pages() {
    let mut db = open();
    db.create_table(schema("t")).unwrap();
    // Even ids 0..12000: three pages of at most 5000 rows.
    put(&mut db, "t", (0..12_000).step_by(2));
    let mut cursor = whole(&db, "t", Direction::Forward, None);
    let first = cursor.next_page(&db).unwrap();
    assert_eq!(first.len(), 5000);
    assert_eq!(id_of(first.last().unwrap()), 9998);
    assert!(!cursor.is_done());
    // Between pages the database is borrowed mutably: the cursor holds no
    // borrow. Rows before the position are not seen, rows after it are;
    // a row deleted ahead of the cursor is not returned.
    put(&mut db, "t", [1, 10_001, 20_000]);
    db.delete_row("t", PrimaryKey::new([("id", 10_002)]), Condition::ignore())
        .unwrap();
    let mut rest = Vec::new();
    while !cursor.is_done() {
        let page = cursor.next_page(&db).unwrap();
        assert!(!page.is_empty() || cursor.is_done());
        rest.extend(page.iter().map(id_of));
    }
    let mut want: Vec<i64> = (10_000..12_000)
        .step_by(2)
        .filter(|&i| i != 10_002)
        .collect();
    want.push(10_001);
    want.push(20_000);
    want.sort();
    assert_eq!(rest, want);
    // Done means done: no more rows, no position, no error.
    assert!(cursor.next_page(&db).unwrap().is_empty());
    assert_eq!(cursor.position(), None);
}

#[test]
fn the_limit_caps_the_whole_scan_in_either_direction() {
    let mut db = open();
    db.create_table(schema("t")).unwrap();
    put(&mut db, "t", 0..7000);
    let mut c = whole(&db, "t", Direction::Backward, Some(5003));
    let mut got = Vec::new();
    while !c.is_done() {
        got.extend(c.next_page(&db).unwrap().iter().map(id_of));
    }
    assert_eq!(got.len(), 5003);
    assert_eq!(got[0], 6999);
    assert_eq!(*got.last().unwrap(), 6999 - 5002);
    // `Database::scan` is the same cursor behind an iterator.
    let s = db.describe_table("t").unwrap().schema;
    let via_scan: Vec<i64> = db
        .scan(
            "t",
            RangeBound::all(&s, PkBound::InfMax),
            RangeBound::all(&s, PkBound::InfMin),
            RangeOptions {
                direction: Direction::Backward,
                limit: Some(5003),
                ..RangeOptions::default()
            },
        )
        .map(|r| id_of(&r.unwrap()))
        .collect();
    assert_eq!(via_scan, got);
}

#[test]
fn cursor_errors_are_typed_and_leave_the_position() {
    let mut db = open();
    db.create_table(schema("t")).unwrap();
    put(&mut db, "t", 0..10);
    let s = schema("nope");
    let mut c = ScanCursor::new(
        "nope",
        RangeBound::all(&s, PkBound::InfMin),
        RangeBound::all(&s, PkBound::InfMax),
        RangeOptions::default(),
    );
    assert_eq!(c.next_page(&db).unwrap_err().code(), "OTSObjectNotExist");
    assert!(!c.is_done(), "an error does not end the cursor");
    db.create_table(schema("nope")).unwrap();
    put(&mut db, "nope", [7]);
    assert_eq!(c.next_page(&db).unwrap().len(), 1, "a retry goes on");
    // A bound that is not a key of the table.
    let mut c = ScanCursor::new(
        "t",
        RangeBound::new([("other", PkBound::InfMin)]),
        RangeBound::all(&schema("t"), PkBound::InfMax),
        RangeOptions::default(),
    );
    assert_eq!(c.next_page(&db).unwrap_err().code(), "OTSInvalidPK");
    // start after end, limit 0.
    let mut c = ScanCursor::new(
        "t",
        RangeBound::all(&schema("t"), PkBound::InfMax),
        RangeBound::all(&schema("t"), PkBound::InfMin),
        RangeOptions::default(),
    );
    assert_eq!(c.next_page(&db).unwrap_err().code(), "OTSParameterInvalid");
    let mut c = whole(&db, "t", Direction::Forward, Some(0));
    assert!(!c.is_done());
    assert_eq!(c.next_page(&db).unwrap_err().code(), "OTSParameterInvalid");
    // A closed database.
    let mut c = whole(&db, "t", Direction::Forward, None);
    db.close().unwrap();
    assert_eq!(c.next_page(&db).unwrap_err().code(), "DatabaseClosed");
}

#[test]
fn bounds_expand_to_every_key_column() {
    let s = TableSchema::new(
        "t",
        vec![
            PkColumn::new("g", PkType::String),
            PkColumn::new("i", PkType::Integer),
        ],
    );
    let mut db = open();
    db.create_table(s.clone()).unwrap();
    for g in ["a", "b"] {
        for i in 0..3 {
            db.put_row(
                "t",
                PrimaryKey::new([("g", tablesync::PkValue::from(g)), ("i", i.into())]),
                vec![Column::new("v", i)],
                Condition::ignore(),
            )
            .unwrap();
        }
    }
    let start = RangeBound::new([("g", PkBound::from("b"))])
        .expand(&s, PkBound::InfMin)
        .unwrap();
    let rows: Vec<_> = db
        .scan(
            "t",
            start,
            RangeBound::all(&s, PkBound::InfMax),
            RangeOptions::default(),
        )
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows.len(),
        3,
        "{{g: 'b'}} filled with INF_MIN starts at b's first row"
    );
    let e = RangeBound::new([("i", PkBound::from(1)), ("i", PkBound::from(2))])
        .expand(&s, PkBound::InfMin)
        .unwrap_err();
    assert_eq!(e.code(), "OTSInvalidPK");
}

#[test]
fn copy_can_be_cancelled_and_keeps_the_committed_chunks() {
    let mut db = open();
    db.create_table(schema("t")).unwrap();
    put(&mut db, "t", 0..2500);
    // Cancel after the first chunk (1000 rows).
    let mut seen = Vec::new();
    let e = db
        .copy_table("t", "c", &mut |p: CopyProgress| {
            seen.push(p.copied);
            if p.copied >= 1000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap_err();
    assert_eq!(e.code(), "Cancelled");
    assert_eq!(e.class(), tablesync::ErrorClass::Cancelled);
    assert!(e.message().contains("after 1000 of 2500 rows"), "{e}");
    assert_eq!(seen, vec![0, 1000], "not called again after cancelling");
    // What is left: the target table with exactly the first chunk.
    assert_eq!(db.describe_table("c").unwrap().row_count, 1000);
    let ids: Vec<i64> = db
        .scan(
            "c",
            RangeBound::all(&schema("c"), PkBound::InfMin),
            RangeBound::all(&schema("c"), PkBound::InfMax),
            RangeOptions::default(),
        )
        .map(|r| id_of(&r.unwrap()))
        .collect();
    assert_eq!(ids, (0..1000).collect::<Vec<_>>());
    db.verify_table_digest("c").unwrap();
    // Cancelling at the first call leaves nothing behind.
    let e = db
        .copy_table("t", "d", &mut |_| ControlFlow::Break(()))
        .unwrap_err();
    assert_eq!(e.code(), "Cancelled");
    assert!(!db.list_tables().unwrap().contains(&"d".to_string()));
    // Into another region: the rows stay in the target.
    let mut other = open();
    let e = db
        .copy_table_to("t", &mut other, "t", &mut |p| {
            if p.copied >= 2000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap_err();
    assert_eq!(e.code(), "Cancelled");
    assert_eq!(other.describe_table("t").unwrap().row_count, 2000);
    assert_eq!(db.describe_table("t").unwrap().row_count, 2500);
}
