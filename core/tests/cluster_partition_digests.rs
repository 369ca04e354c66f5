//! Per-partition digests (`Database::partition_accumulators`): rows are
//! grouped by the partition the map puts them in, hash buckets included;
//! the partitions add up to the table digest, equal replicas agree on
//! every partition, and one extra row makes exactly its partition differ.

use tablesync::cluster::map::{ClusterMap, Datacenter, Placement, TablePlacement};
use tablesync::cluster::WriteMode;
use tablesync::codec::key::encode_key_values;
use tablesync::digest::Accumulator;
use tablesync::*;

fn map(buckets: u32) -> ClusterMap {
    let dcs = ["a", "b", "c"]
        .iter()
        .map(|d| Datacenter::new(*d, [(format!("{d}1"), format!("http://{d}1"))]))
        .collect();
    ClusterMap::new(dcs)
        .unwrap()
        .add_table(TablePlacement {
            table: "t".into(),
            replication_factor: 2,
            write_mode: WriteMode::Async,
            placement: Placement::Hash { buckets },
        })
        .unwrap()
}

fn db(name: &str, keys: impl Iterator<Item = i64>) -> Database {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    for k in keys {
        db.put_row(
            "t",
            PrimaryKey::new([("k", PkValue::Integer(k))]),
            vec![Column {
                name: "v".into(),
                value: Value::Integer(k * 3),
                timestamp: Some(1_000 + k),
            }],
            Condition::ignore(),
        )
        .unwrap();
    }
    db
}

#[test]
fn hash_buckets_add_up_to_the_table_and_pinpoint_a_difference() {
    let m = map(16);
    let a = db("a", 0..500);
    let parts = a.partition_accumulators(&m, "t").unwrap();
    assert!(
        parts.len() > 10,
        "rows spread over buckets: {}",
        parts.len()
    );
    let mut total = Accumulator::default();
    for (id, acc) in &parts {
        assert!(*id < 16);
        total.merge(acc);
    }
    assert_eq!(total.count, 500);
    assert_eq!(total.digest(), a.table_digest("t").unwrap());
    for k in [0i64, 17, 499] {
        let id = m
            .partition_of("t", &encode_key_values([&PkValue::Integer(k)]))
            .unwrap();
        assert!(parts.contains_key(&id));
    }

    // Another region with the same rows (written in another order) agrees.
    let b = db("b", (0..500).rev());
    assert_eq!(b.partition_accumulators(&m, "t").unwrap(), parts);

    // One extra row: only its bucket differs.
    let c = db("c", (0..500).chain([10_000]));
    let pc = c.partition_accumulators(&m, "t").unwrap();
    let extra = m
        .partition_of("t", &encode_key_values([&PkValue::Integer(10_000)]))
        .unwrap();
    let differing: Vec<u32> = (0..16).filter(|id| pc.get(id) != parts.get(id)).collect();
    assert_eq!(differing, vec![extra]);
}

#[test]
fn a_table_the_map_does_not_place_is_an_error() {
    let a = db("a", 0..3);
    let err = a.partition_accumulators(&map(4), "nope").unwrap_err();
    assert_eq!(err.code(), "OTSObjectNotExist");
}
