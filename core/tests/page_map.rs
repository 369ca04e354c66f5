//! The page-structured row index (`engine::pages::PageMap`) against a
//! `BTreeMap` model: random inserts, replacements that grow and shrink
//! rows, purges that empty and merge pages, rows larger than a page, and
//! captures (shared pages) taken in between, which must keep showing what
//! they held while the map changes (copy on write).

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use tablesync::engine::pages::{page_rows, Leaf, NewRow, PageMap, PAGE_BYTES};

#[derive(Clone, Debug)]
enum Op {
    /// Set a key to a state of this many bytes (exists or tombstone).
    Set(u16, usize, bool),
    /// Purge a key.
    Remove(u16),
    /// Take a capture of every page now; checked at the end.
    Capture,
    /// Check a range against the model.
    Range(u16, u16, bool),
}

fn key(k: u16) -> Vec<u8> {
    // Keys of varied length, ordered by value then length.
    let mut v = k.to_be_bytes().to_vec();
    v.extend(std::iter::repeat_n(b'k', usize::from(k % 7)));
    v
}

fn state(k: u16, len: usize, salt: u64) -> Vec<u8> {
    (0..len)
        .map(|i| (u64::from(k) ^ salt ^ i as u64) as u8)
        .collect()
}

type Model = BTreeMap<Vec<u8>, (Vec<u8>, u64, Option<[u8; 32]>)>;
/// A capture: the rows the model held, and the pages taken then.
type Capture = (Vec<(Vec<u8>, Vec<u8>)>, Vec<std::sync::Arc<Leaf>>);

fn ops(max_key: u16) -> impl Strategy<Value = Vec<Op>> {
    let size = prop_oneof![
        8 => 0usize..200,
        2 => 200usize..3000,
        1 => (PAGE_BYTES - 100)..(PAGE_BYTES * 2),
    ];
    let op = prop_oneof![
        10 => (0..max_key, size, any::<bool>()).prop_map(|(k, n, e)| Op::Set(k, n, e)),
        5 => (0..max_key).prop_map(Op::Remove),
        1 => Just(Op::Capture),
        2 => (0..max_key, 0..max_key, any::<bool>()).prop_map(|(a, b, r)| Op::Range(a, b, r)),
    ];
    prop::collection::vec(op, 1..600)
}

fn same(map: &PageMap, model: &Model) {
    map.check().unwrap();
    assert_eq!(map.len(), model.len());
    let got: Vec<_> = map
        .iter()
        .map(|(k, r)| (k.to_vec(), r.state.to_vec(), r.state_id, r.digest.copied()))
        .collect();
    let want: Vec<_> = model
        .iter()
        .map(|(k, (s, id, d))| (k.clone(), s.clone(), *id, *d))
        .collect();
    assert_eq!(got, want);
    let back: Vec<_> = map.iter().rev().map(|(k, _)| k.to_vec()).collect();
    let mut keys: Vec<_> = model.keys().cloned().collect();
    keys.reverse();
    assert_eq!(back, keys);
}

fn run(ops: Vec<Op>) {
    let mut map = PageMap::default();
    let mut model = Model::new();
    let mut captures: Vec<Capture> = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Set(k, len, exists) => {
                let key = key(k);
                let st = state(k, len, n as u64);
                let digest = exists.then_some([n as u8; 32]);
                let id = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let mut seen = None;
                map.set(
                    &key,
                    NewRow {
                        digest,
                        state: &st,
                        state_id: id,
                    },
                    |old| seen = Some(old.map(|o| (o.state.to_vec(), o.state_id))),
                );
                let was = model.insert(key, (st, id, digest));
                assert_eq!(seen, Some(was.map(|(s, id, _)| (s, id))));
            }
            Op::Remove(k) => {
                let key = key(k);
                let mut seen = None;
                let removed = map.remove(&key, |o| seen = Some(o.state.to_vec()));
                let was = model.remove(&key);
                assert_eq!(removed, was.is_some());
                assert_eq!(seen, was.map(|(s, _, _)| s));
            }
            Op::Capture => {
                let rows = model
                    .iter()
                    .map(|(k, (s, _, _))| (k.clone(), s.clone()))
                    .collect();
                captures.push((rows, map.pages()));
            }
            Op::Range(a, b, rev) => {
                let (a, b) = (key(a), key(b));
                let bounds = [
                    (Bound::Included(&a[..]), Bound::Excluded(&b[..])),
                    (Bound::Excluded(&a[..]), Bound::Included(&b[..])),
                    (Bound::Included(&a[..]), Bound::Unbounded),
                    (Bound::Unbounded, Bound::Excluded(&b[..])),
                ];
                for (lo, hi) in bounds {
                    let valid = match (lo, hi) {
                        (Bound::Included(x), Bound::Excluded(y))
                        | (Bound::Excluded(x), Bound::Included(y)) => x < y,
                        _ => true,
                    };
                    let mut want: Vec<Vec<u8>> = if valid {
                        model
                            .range::<[u8], _>((lo, hi))
                            .map(|(k, _)| k.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let mut got: Vec<Vec<u8>> = if rev {
                        map.range(lo, hi).rev().map(|(k, _)| k.to_vec()).collect()
                    } else {
                        map.range(lo, hi).map(|(k, _)| k.to_vec()).collect()
                    };
                    if rev {
                        got.reverse();
                    }
                    want.dedup();
                    assert_eq!(got, want);
                }
            }
        }
        if n % 50 == 0 {
            same(&map, &model);
        }
        for (k, (s, id, d)) in model.iter().take(3) {
            let r = map.get(k).unwrap();
            assert_eq!((r.state, r.state_id, r.digest.copied()), (&s[..], *id, *d));
        }
    }
    same(&map, &model);
    // Every capture still shows what the map held when it was taken.
    for (rows, pages) in captures {
        let got: Vec<_> = pages
            .iter()
            .flat_map(|p| {
                page_rows(p)
                    .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, rows);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Few keys: the same rows rewritten, grown, shrunk, purged, reinserted.
    #[test]
    fn hot_keys(ops in ops(40)) {
        run(ops);
    }

    /// Many keys: pages split and merge all over the key space.
    #[test]
    fn wide_keys(ops in ops(2000)) {
        run(ops);
    }
}

/// A sequential load leaves full pages; purging every other row and then
/// the rest merges them back down to nothing.
#[test]
fn sequential_load_fills_pages_and_purges_merge_them() {
    let mut map = PageMap::default();
    let n = 20_000u32;
    for i in 0..n {
        let k = i.to_be_bytes();
        let st = [7u8; 90];
        map.set(
            &k,
            NewRow {
                digest: Some([1; 32]),
                state: &st,
                state_id: u64::from(i),
            },
            |o| assert!(o.is_none()),
        );
    }
    map.check().unwrap();
    let per_page = PAGE_BYTES / 94;
    let full = (n as usize).div_ceil(per_page);
    assert_eq!(map.page_count(), full, "sequential load: every page full");
    for i in (0..n).step_by(2) {
        assert!(map.remove(&i.to_be_bytes(), |_| {}));
    }
    map.check().unwrap();
    assert_eq!(map.len(), n as usize / 2);
    for i in (1..n).step_by(2) {
        assert!(map.remove(&i.to_be_bytes(), |_| {}));
    }
    map.check().unwrap();
    assert_eq!((map.len(), map.page_count()), (0, 0));
    assert!(map.iter().next().is_none());
}
