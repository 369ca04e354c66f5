//! Damaged and encrypted repositories: every single-bit flip, truncation,
//! missing object and swapped pair of objects is detected by verify and by
//! restore; wrong keys and tampered ciphertext are refused; key rotation
//! re-wraps the data key without rewriting data.

use std::collections::BTreeMap;
use std::sync::Arc;
use tablesync::backup::{
    BackupOptions, ChunkSizes, KdfParams, KeySource, MemoryStore, ObjectStore, Repository,
    RestoreOptions, VerifyOptions, INIT_RANDOM_LEN, SLOT_RANDOM_LEN,
};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    TableSchema,
};

const T0: i64 = 1_700_000_000_000;

fn source() -> Database {
    let clock = Arc::new(ManualClock::new(T0));
    let mut db = Database::memory(DatabaseOptions::with_clock("a", clock.clone())).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    for i in 0..12i64 {
        clock.advance(1);
        db.put_row(
            "t",
            PrimaryKey::new([("k", i)]),
            vec![Column::new("v", format!("value {i}").as_str())],
            Condition::ignore(),
        )
        .unwrap();
    }
    db
}

fn more_writes(db: &mut Database) {
    for i in 0..4i64 {
        db.delete_row("t", PrimaryKey::new([("k", i * 3)]), Condition::ignore())
            .unwrap();
    }
}

fn sizes() -> ChunkSizes {
    ChunkSizes {
        min: 200,
        max: 400,
        divisor: 2,
        records: 200,
    }
}

/// A sample repository: one full and one incremental backup, several chunks.
fn sample(key: Option<&KeySource>) -> (BTreeMap<String, Vec<u8>>, Database) {
    let store = Arc::new(MemoryStore::new());
    let kdf = KdfParams::insecure_for_tests();
    let repo = Repository::init(
        Box::new(store.clone()),
        key.map(|k| (k, kdf)),
        &[3u8; INIT_RANDOM_LEN],
    )
    .unwrap();
    let mut db = source();
    let opts = BackupOptions {
        sizes: sizes(),
        ..Default::default()
    };
    db.backup(&repo, &opts, &mut |_| {}).unwrap();
    more_writes(&mut db);
    db.backup(&repo, &opts, &mut |_| {}).unwrap();
    (store.snapshot(), db)
}

fn store_of(objects: &BTreeMap<String, Vec<u8>>) -> Arc<MemoryStore> {
    let s = Arc::new(MemoryStore::new());
    for (n, b) in objects {
        s.put(n, b).unwrap();
    }
    s
}

/// Whether verify (after opening) reports a problem or fails, and whether restore fails.
fn detected(
    objects: &BTreeMap<String, Vec<u8>>,
    key: Option<&KeySource>,
    try_restore: bool,
) -> (bool, bool) {
    let store = store_of(objects);
    let repo = match Repository::open(Box::new(store), key) {
        Ok(r) => r,
        Err(_) => return (true, true),
    };
    let v = match Database::verify_backups(&repo, VerifyOptions::default(), &mut |_| {}) {
        Ok(rep) => !rep.ok(),
        Err(_) => true,
    };
    let r = !try_restore
        || Database::restore_from(
            &repo,
            &RestoreOptions::default(),
            DatabaseOptions::with_clock("r", Arc::new(ManualClock::new(T0))),
            &mut |_| {},
        )
        .is_err();
    (v, r)
}

fn damage_everything(key: Option<&KeySource>) {
    let (objects, _) = sample(key);
    let exhaustive = std::env::var_os("TABLESYNC_BACKUP_EXHAUSTIVE").is_some();
    assert!(
        objects.keys().filter(|n| n.starts_with("chunks/")).count() >= 4,
        "{:?}",
        objects.keys()
    );
    assert_eq!(
        detected(&objects, key, true),
        (false, false),
        "the sample repository is sound"
    );
    let mut flips = 0;
    for (name, bytes) in &objects {
        for bit in 0..bytes.len() * 8 {
            // Encrypted objects: every header bit and every 3rd body bit by
            // default (each open runs Argon2id); all of them with
            // TABLESYNC_BACKUP_EXHAUSTIVE=1. Plain repositories: every bit.
            if key.is_some() && bit >= 128 && bit % 3 != 0 && !exhaustive {
                continue;
            }
            let mut damaged = objects.clone();
            damaged.get_mut(name).unwrap()[bit / 8] ^= 1 << (bit % 8);
            // Restore is slower: try it on every 29th flip.
            let (v, r) = detected(&damaged, key, bit % 29 == 0);
            assert!(v, "verify missed bit {bit} of {name}");
            assert!(r, "restore missed bit {bit} of {name}");
            flips += 1;
        }
        for cut in [0, 1, 15, 16, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = objects.clone();
            damaged.get_mut(name).unwrap().truncate(cut);
            assert_eq!(
                detected(&damaged, key, true),
                (true, true),
                "truncation of {name} to {cut}"
            );
        }
        let mut damaged = objects.clone();
        damaged.remove(name);
        assert_eq!(
            detected(&damaged, key, true),
            (true, true),
            "missing {name}"
        );
    }
    assert!(flips > 1000, "{flips} flips");
    // Every pair of same-kind objects swapped.
    let names: Vec<&String> = objects.keys().filter(|n| *n != "config").collect();
    for a in &names {
        for b in &names {
            if a < b && a.split('/').next() == b.split('/').next() {
                let mut damaged = objects.clone();
                let (x, y) = (objects[*a].clone(), objects[*b].clone());
                damaged.insert((*a).clone(), y);
                damaged.insert((*b).clone(), x);
                assert_eq!(
                    detected(&damaged, key, true),
                    (true, true),
                    "swapped {a} and {b}"
                );
            }
        }
    }
}

#[test]
fn every_damage_to_a_plain_repository_is_detected() {
    damage_everything(None);
}

#[test]
fn every_damage_to_an_encrypted_repository_is_detected() {
    damage_everything(Some(&KeySource::Passphrase(b"correct horse".to_vec())));
}

#[test]
fn wrong_keys_are_refused_and_rotation_keeps_the_data() {
    let pass = KeySource::Passphrase(b"correct horse".to_vec());
    let (objects, db) = sample(Some(&pass));
    let open = |k: Option<&KeySource>| Repository::open(Box::new(store_of(&objects)), k);
    for wrong in [
        Some(KeySource::Passphrase(b"correct horsE".to_vec())),
        Some(KeySource::KeyFile(b"correct horse".to_vec())),
        None,
    ] {
        let e = open(wrong.as_ref()).unwrap_err();
        assert_eq!(e.code(), "BackupKeyInvalid", "{e}");
    }
    // A plain repository refuses a key, an encrypted one reads nothing in clear.
    let (plain, _) = sample(None);
    let e = Repository::open(Box::new(store_of(&plain)), Some(&pass)).unwrap_err();
    assert_eq!(e.code(), "BackupKeyInvalid");
    for (name, bytes) in &objects {
        if name.starts_with("chunks/") {
            assert!(
                !bytes.windows(7).any(|w| w == b"value 1"),
                "{name} is not in clear"
            );
        }
    }
    // Tampered ciphertext with a recomputed CRC: authentication fails.
    let mut tampered = objects.clone();
    let name = tampered
        .keys()
        .find(|n| n.starts_with("chunks/"))
        .unwrap()
        .clone();
    let obj = tampered.get_mut(&name).unwrap();
    let last = obj.len() - 20;
    obj[last] ^= 0x40;
    let mut h = crc32fast::Hasher::new();
    h.update(&obj[..12]);
    h.update(&obj[16..]);
    let c = h.finalize().to_le_bytes();
    obj[12..16].copy_from_slice(&c);
    let repo = Repository::open(Box::new(store_of(&tampered)), Some(&pass)).unwrap();
    let v = Database::verify_backups(&repo, VerifyOptions::default(), &mut |_| {}).unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("authentication failed")),
        "{:?}",
        v.problems
    );
    let e = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("r", Arc::new(ManualClock::new(T0))),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "BackupCorrupt");

    // Rotation: only `config` changes; the old passphrase stops working.
    let store = store_of(&objects);
    let mut repo = Repository::open(Box::new(store.clone()), Some(&pass)).unwrap();
    let new = KeySource::KeyFile(vec![9u8; 32]);
    repo.rotate_key(
        &pass,
        &new,
        KdfParams::insecure_for_tests(),
        &[5u8; SLOT_RANDOM_LEN],
    )
    .unwrap();
    let after = store.snapshot();
    for (n, b) in &objects {
        if n != "config" {
            assert_eq!(&after[n], b, "{n} was rewritten");
        }
    }
    assert_ne!(after["config"], objects["config"]);
    let e = Repository::open(Box::new(store.clone()), Some(&pass)).unwrap_err();
    assert_eq!(e.code(), "BackupKeyInvalid");
    let repo = Repository::open(Box::new(store.clone()), Some(&new)).unwrap();
    let (r, _) = Database::restore_from(
        &repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("r", Arc::new(ManualClock::new(T0))),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
}
