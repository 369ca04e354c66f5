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

/// A target without the table (a new datacenter's region) creates it from
/// the source's schema; a second time nothing changes; a table of that
/// name with other key columns is refused.
#[test]
fn ensure_table_creates_a_missing_table_once() {
    let src = db("src");
    let schema = src.describe_table("t").unwrap().schema;
    let mut dst = Database::memory(DatabaseOptions::new("dst")).unwrap();
    assert!(dst.ensure_table(schema.clone()).unwrap());
    assert!(!dst.ensure_table(schema.clone()).unwrap());
    assert_eq!(dst.describe_table("t").unwrap().schema, schema);
    let mut other = Database::memory(DatabaseOptions::new("other")).unwrap();
    other
        .create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
    assert_eq!(
        other.ensure_table(schema).unwrap_err().code(),
        "OTSParameterInvalid"
    );
}

/// A purge of a lost partition removes only the filter's rows that the
/// region's map does not give it, and only once the map is at the epoch.
#[test]
fn purge_lost_rows_keeps_what_the_map_still_gives() {
    use tablesync::cluster::rebalance::RegionMoves;
    use tablesync::cluster::*;
    let dc = |n: &str| Datacenter::new(n, [(format!("{n}-1"), format!("http://{n}"))]);
    let m1 = ClusterMap::new(vec![dc("a"), dc("b")])
        .unwrap()
        .add_table(TablePlacement {
            table: "t".into(),
            replication_factor: 1,
            write_mode: WriteMode::Async,
            placement: Placement::Hash { buckets: 16 },
        })
        .unwrap();
    let m2 = m1.add_datacenter(dc("c")).unwrap();
    let lost = tablesync::cluster::rebalance::lost(&m1, &m2).unwrap();
    let held_by = |m: &ClusterMap, k: i64, r: &str| {
        m.route_key("t", &encode_key_values([&PkValue::Integer(k)]))
            .unwrap()
            .replicas
            .iter()
            .any(|x| x.region == r)
    };
    let ours: Vec<i64> = (0..200).filter(|k| held_by(&m1, *k, "a-1")).collect();
    let mut a = db("a-1");
    for k in ours.iter().copied() {
        a.put_row(
            "t",
            pk(k, "x"),
            vec![Column::new("v", k)],
            Condition::ignore(),
        )
        .unwrap();
    }
    let l = lost
        .iter()
        .find(|l| l.region == "a-1")
        .expect("a-1 loses buckets");
    // Not before the region installed the new map.
    let old = RegionMoves::new("a-1", Some(m1.clone()), Default::default());
    assert!(a.purge_lost_rows("t", &l.filter, &old, m2.epoch).is_err());
    let new = RegionMoves::new("a-1", Some(m2.clone()), Default::default());
    let n = a.purge_lost_rows("t", &l.filter, &new, m2.epoch).unwrap();
    let kept: Vec<i64> = rows(&a)
        .iter()
        .map(|r| match r.primary_key.0[0].1 {
            PkValue::Integer(i) => i,
            _ => unreachable!(),
        })
        .collect();
    let want: Vec<i64> = (0..200).filter(|k| held_by(&m2, *k, "a-1")).collect();
    assert_eq!(kept, want);
    assert_eq!(n as usize, ours.len() - want.len());
    assert!(n > 0);
}
