//! The rows a partition move copies (`Database::partition_rows_page`):
//! small pages cover exactly the filter's rows, in key order, once each,
//! and merging them into an empty region reproduces the source's rows of
//! that partition (deletes included) and nothing else.

use tablesync::cluster::hash::bucket_of;
use tablesync::cluster::rebalance::KeyFilter;
use tablesync::codec::key::encode_key_values;
use tablesync::*;

fn db(name: &str) -> Database {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![
            PkColumn::new("k", PkType::Integer),
            PkColumn::new("s", PkType::String),
        ],
    ))
    .unwrap();
    db
}

fn pk(k: i64, s: &str) -> PrimaryKey {
    PrimaryKey::new([("k", PkValue::Integer(k)), ("s", PkValue::String(s.into()))])
}

fn rows(db: &Database) -> Vec<Row> {
    let b = |x: PkBound| RangeBound::new([("k", x.clone()), ("s", x)]);
    db.scan(
        "t",
        b(PkBound::InfMin),
        b(PkBound::InfMax),
        RangeOptions::default(),
    )
    .collect::<Result<Vec<_>>>()
    .unwrap()
}

fn all_pages(src: &Database, f: &KeyFilter, max_bytes: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut after = Vec::new();
    loop {
        let (rows, next) = src.partition_rows_page("t", f, &after, max_bytes).unwrap();
        out.extend(rows);
        if next.is_empty() {
            return out;
        }
        assert!(next > after, "pages advance");
        after = next;
    }
}

#[test]
fn pages_cover_exactly_the_partition_and_merge_back() {
    let mut src = db("src");
    for k in 0..200i64 {
        for s in ["a", "b"] {
            src.put_row(
                "t",
                pk(k, s),
                vec![Column::new("v", Value::Integer(k))],
                Condition::default(),
            )
            .unwrap();
        }
    }
    for k in (0..200i64).step_by(7) {
        src.delete_row("t", pk(k, "a"), Condition::default())
            .unwrap();
    }
    let first = |k: i64| encode_key_values([&PkValue::Integer(k)]);
    let filters = [
        KeyFilter::Range {
            start: first(50),
            end: first(120),
        },
        KeyFilter::Range {
            start: Vec::new(),
            end: first(10),
        },
        KeyFilter::Range {
            start: first(190),
            end: Vec::new(),
        },
        KeyFilter::Buckets {
            buckets: 16,
            ids: vec![1, 5, 9],
        },
    ];
    for f in &filters {
        let whole = all_pages(&src, f, 1 << 30);
        for max in [1, 50, 300] {
            assert_eq!(all_pages(&src, f, max), whole, "{f:?} in pages of {max}");
        }
        assert!(whole.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(whole.iter().all(|(k, _)| f.contains(k)));
        let mut dst = db("dst");
        dst.merge_rows("t", whole).unwrap();
        let want: Vec<Row> = rows(&src)
            .into_iter()
            .filter(|r| f.contains(&encode_key_values(r.primary_key.0.iter().map(|(_, v)| v))))
            .collect();
        let got = rows(&dst);
        assert_eq!(got, want, "{f:?}");
        assert!(!want.is_empty());
    }
    // The bucket filter selects by the first column only.
    let f = &filters[3];
    for k in 0..200i64 {
        let b = bucket_of(&first(k), 16);
        assert_eq!(
            f.contains(&encode_key_values([
                &PkValue::Integer(k),
                &PkValue::String("b".into())
            ])),
            [1, 5, 9].contains(&b)
        );
    }
}
