//! A table's reconcile symbols, state ids and keys by state id, kept up to
//! date on every write, equal what a full recomputation over the stored rows
//! gives.

mod common;

use common::Rng;
use std::collections::HashSet;
use tablesync::digest::riblt::{encode, SymbolCache};
use tablesync::digest::state_id;
use tablesync::engine::row_state::RowState;
use tablesync::table::Table;
use tablesync::{ChangeKind, ColumnOp, PkColumn, PkType, Stamp, TableSchema, Value};

fn key(i: u64) -> Vec<u8> {
    let mut k = vec![0x10, 0x80];
    k.extend_from_slice(&i.to_be_bytes()[1..]);
    k
}

fn write(t: &mut Table, rng: &mut Rng, hlc: u64) {
    let k = key(rng.below(60));
    let stamp = Stamp::new(hlc, rng.below(4));
    let kind = match rng.below(10) {
        0 => ChangeKind::Delete,
        1..=4 => ChangeKind::Put,
        _ => ChangeKind::Update,
    };
    let ops = if kind == ChangeKind::Delete {
        Vec::new()
    } else {
        vec![ColumnOp::Put {
            name: ["a", "b"][rng.below(2) as usize].into(),
            value: Value::Integer(rng.range(0, 9)),
            timestamp: rng.range(0, 20),
        }]
    };
    t.apply(&k, stamp, kind, &ops).unwrap();
}

fn check(t: &Table, what: &str) {
    let ids: Vec<u64> = t
        .iter()
        .map(|(k, r)| {
            assert_eq!(r.state_id, state_id(k, r.state), "{what}: cached state id");
            r.state_id
        })
        .collect();
    let sum = ids.iter().fold(0u64, |s, i| s.wrapping_add(*i));
    assert_eq!(t.state_sum(), sum, "{what}: state sum");
    assert_eq!(
        t.state_symbols(0, SymbolCache::LEN).unwrap(),
        encode(ids.clone(), 0, SymbolCache::LEN),
        "{what}: symbols"
    );
    check_id_index(t, &ids, what);
}

/// The id index finds exactly the rows a scan of the table finds, for one
/// id at a time, for every id at once and for ids no row has.
fn check_id_index(t: &Table, ids: &[u64], what: &str) {
    let scan = |want: &HashSet<u64>| -> Vec<Vec<u8>> {
        t.iter()
            .filter(|(_, r)| want.contains(&r.state_id))
            .map(|(k, _)| k.to_vec())
            .collect()
    };
    let found = |want: &HashSet<u64>| -> Vec<Vec<u8>> {
        t.rows_with_state_ids(want)
            .into_iter()
            .map(|(k, r)| {
                assert_eq!(t.stored(k).map(|s| s.state_id), Some(r.state_id));
                k.to_vec()
            })
            .collect()
    };
    let mut by_id: std::collections::HashMap<u64, Vec<Vec<u8>>> = Default::default();
    for (k, r) in t.iter() {
        by_id.entry(r.state_id).or_default().push(k.to_vec());
    }
    for &id in ids {
        let one: HashSet<u64> = [id].into();
        assert_eq!(found(&one), by_id[&id], "{what}: keys of id {id:#x}");
    }
    let all: HashSet<u64> = ids.iter().copied().chain([1, 2, 3]).collect();
    assert_eq!(found(&all), scan(&all), "{what}: keys of every id");
    assert!(found(&HashSet::new()).is_empty());
}

#[test]
fn kept_symbols_equal_recomputed_ones() {
    for seed in 0..20u64 {
        let mut rng = Rng(seed);
        let schema = TableSchema::new("t", vec![PkColumn::new("id", PkType::Integer)]);
        let mut t = Table::new(schema);
        let mut hlc = 1;
        for _ in 0..rng.range(0, 50) {
            hlc += 1;
            write(&mut t, &mut rng, hlc);
        }
        // First use builds the symbols from every row...
        check(&t, &format!("seed {seed}, built"));
        // ...then writes, whole-row merges and raw inserts keep them.
        for step in 0..200 {
            hlc += 1;
            match rng.below(10) {
                0 => {
                    let mut s = RowState::default();
                    s.apply(
                        Stamp::new(rng.below(hlc + 5), 9),
                        ChangeKind::Update,
                        &[ColumnOp::Put {
                            name: "c".into(),
                            value: Value::Integer(1),
                            timestamp: rng.range(0, 20),
                        }],
                    );
                    t.merge_state(&key(rng.below(60)), &s).unwrap();
                }
                1 => {
                    let mut s = RowState::default();
                    s.apply(Stamp::new(hlc, 7), ChangeKind::Put, &[]);
                    let bytes = tablesync::codec::row_state::encode_row_state(&s);
                    t.insert_encoded(&key(rng.below(60)), &bytes).unwrap();
                }
                _ => write(&mut t, &mut rng, hlc),
            }
            if step % 50 == 49 {
                check(&t, &format!("seed {seed}, step {step}"));
            }
        }
        assert!(t.state_symbols(0, SymbolCache::LEN + 1).is_none());
    }
}

/// Once more rows change after the id index was built than it keeps aside
/// (a quarter of the table, at least 1,024), the table drops the index and
/// the next lookup rebuilds it from the rows: lookups stay exact across.
#[test]
fn the_id_index_is_rebuilt_after_many_writes() {
    let schema = TableSchema::new("t", vec![PkColumn::new("id", PkType::Integer)]);
    let mut t = Table::new(schema);
    let put = |t: &mut Table, i: u64, hlc: u64| {
        let ops = vec![ColumnOp::Put {
            name: "a".into(),
            value: Value::Integer(hlc as i64),
            timestamp: 1,
        }];
        t.apply(&key(i), Stamp::new(hlc, 1), ChangeKind::Put, &ops)
            .unwrap();
    };
    let mut hlc = 1;
    for i in 0..3000 {
        hlc += 1;
        put(&mut t, i, hlc);
    }
    let ids = |t: &Table| t.iter().map(|(_, r)| r.state_id).collect::<Vec<u64>>();
    check_id_index(&t, &ids(&t), "built");
    for round in 0..3 {
        for i in (0..3000).step_by(2) {
            hlc += 1;
            put(&mut t, i, hlc);
        }
        check_id_index(
            &t,
            &ids(&t),
            &format!("after rewriting half, round {round}"),
        );
    }
}
