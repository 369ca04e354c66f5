//! The keys of a table's rows by state id (FORMAT.md §13.1), so a reconcile
//! that decoded a few differing ids finds their rows without scanning the
//! table. Built on the first reconcile of a table, then kept in step with
//! every write, like the table's [`SymbolCache`](super::riblt::SymbolCache).

use std::collections::HashMap;

/// State id → encoded key of every stored row (tombstones included).
///
/// Two rows with the same 64-bit state id are possible (they cannot make a
/// reconcile decode wrongly, only fail), so the rare extra key of an id
/// already taken goes to a short side list instead of widening every entry.
#[derive(Clone, Debug, Default)]
pub struct IdIndex {
    keys: HashMap<u64, Box<[u8]>>,
    extra: Vec<(u64, Box<[u8]>)>,
}

impl IdIndex {
    /// The index of these `(state id, key)` pairs.
    pub fn new<'a>(rows: impl IntoIterator<Item = (u64, &'a [u8])>) -> Self {
        let rows = rows.into_iter();
        let mut index = IdIndex {
            keys: HashMap::with_capacity(rows.size_hint().0),
            extra: Vec::new(),
        };
        for (id, key) in rows {
            index.add(id, key);
        }
        index
    }

    /// The row at `key` now has state id `id`.
    pub fn add(&mut self, id: u64, key: &[u8]) {
        match self.keys.entry(id) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(key.into());
            }
            std::collections::hash_map::Entry::Occupied(_) => self.extra.push((id, key.into())),
        }
    }

    /// The row at `key` no longer has state id `id`.
    pub fn remove(&mut self, id: u64, key: &[u8]) {
        if let Some(i) = self.extra.iter().position(|(x, k)| *x == id && &**k == key) {
            self.extra.swap_remove(i);
            return;
        }
        if self.keys.get(&id).is_some_and(|k| &**k == key) {
            self.keys.remove(&id);
            if let Some(i) = self.extra.iter().position(|(x, _)| *x == id) {
                let (_, k) = self.extra.swap_remove(i);
                self.keys.insert(id, k);
            }
        }
    }

    /// Every key whose row has state id `id`.
    pub fn keys(&self, id: u64) -> impl Iterator<Item = &[u8]> {
        let extra = if self.extra.is_empty() {
            &[][..]
        } else {
            &self.extra[..]
        };
        self.keys.get(&id).map(|k| &**k).into_iter().chain(
            extra
                .iter()
                .filter(move |(x, _)| *x == id)
                .map(|(_, k)| &**k),
        )
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len() + self.extra.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(index: &IdIndex, id: u64) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = index.keys(id).map(<[u8]>::to_vec).collect();
        v.sort();
        v
    }

    #[test]
    fn follows_adds_and_removes() {
        let mut index = IdIndex::new([(1, &b"a"[..]), (2, &b"b"[..])]);
        assert_eq!(keys_of(&index, 1), vec![b"a".to_vec()]);
        index.remove(1, b"a");
        index.add(3, b"a");
        assert!(keys_of(&index, 1).is_empty());
        assert_eq!(keys_of(&index, 3), vec![b"a".to_vec()]);
        assert_eq!(index.len(), 2);
        // Removing a pair that is not there changes nothing.
        index.remove(2, b"zz");
        assert_eq!(keys_of(&index, 2), vec![b"b".to_vec()]);
    }

    #[test]
    fn shared_ids_keep_every_key() {
        let mut index = IdIndex::default();
        index.add(7, b"a");
        index.add(7, b"b");
        index.add(7, b"c");
        assert_eq!(
            keys_of(&index, 7),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        index.remove(7, b"a");
        assert_eq!(keys_of(&index, 7), vec![b"b".to_vec(), b"c".to_vec()]);
        index.remove(7, b"c");
        assert_eq!(keys_of(&index, 7), vec![b"b".to_vec()]);
        index.remove(7, b"b");
        assert!(index.is_empty());
    }
}
