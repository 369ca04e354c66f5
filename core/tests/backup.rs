//! Backups: point-in-time restore against a reference model, long chains,
//! interrupted backups, table selection and renames, sampling, pruning.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tablesync::backup::{
    BackupMode, BackupOptions, ChunkSizes, MemoryStore, ObjectStore, PrunePolicy, Repository,
    RestoreOptions, RestorePoint, VerifyOptions, INIT_RANDOM_LEN,
};
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkBound, PkColumn, PkType,
    PrimaryKey, RangeBound, RangeOptions, Retention, RowUpdate, TableSchema, Value,
};

const T0: i64 = 1_700_000_000_000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type ModelRows = BTreeMap<i64, BTreeMap<String, Value>>;

fn new_db(region: &str, clock: &ManualClock) -> Database {
    let mut db =
        Database::memory(DatabaseOptions::with_clock(region, Arc::new(clock.clone()))).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db
}

fn repo(store: &Arc<MemoryStore>) -> Repository {
    let random = [7u8; INIT_RANDOM_LEN];
    Repository::init(Box::new(store.clone()), None, &random).unwrap()
}

fn small_chunks() -> ChunkSizes {
    ChunkSizes {
        min: 512,
        max: 2048,
        divisor: 4,
        records: 512,
    }
}

fn rows_of(db: &Database, table: &str) -> ModelRows {
    let all = |b| RangeBound::new([("k", b)]);
    db.scan(
        table,
        all(PkBound::InfMin),
        all(PkBound::InfMax),
        RangeOptions::default(),
    )
    .map(|r| {
        let r = r.unwrap();
        let k = match &r.primary_key.0[0].1 {
            tablesync::PkValue::Integer(i) => *i,
            other => panic!("unexpected key {other:?}"),
        };
        let cols = r
            .columns()
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        (k, cols)
    })
    .collect()
}

/// One random write, applied to the database and to the model.
fn random_write(db: &mut Database, model: &mut ModelRows, rng: &mut Rng) {
    let k = rng.below(40) as i64;
    let pk = PrimaryKey::new([("k", k)]);
    match rng.below(10) {
        0..=4 => {
            let a = rng.below(1000) as i64;
            let b = format!("v{}", rng.below(1000));
            db.put_row(
                "t",
                pk,
                vec![Column::new("a", a), Column::new("b", b.as_str())],
                Condition::ignore(),
            )
            .unwrap();
            model.insert(
                k,
                BTreeMap::from([
                    ("a".into(), Value::from(a)),
                    ("b".into(), Value::from(b.as_str())),
                ]),
            );
        }
        5..=7 => {
            let mut u = RowUpdate::default();
            if rng.below(2) == 0 {
                let a = rng.below(1000) as i64;
                u.put.push(Column::new("a", a));
                model
                    .entry(k)
                    .or_default()
                    .insert("a".into(), Value::from(a));
            } else {
                // An update that only deletes columns leaves a missing row
                // missing (as the service does).
                u.delete_all.push("b".into());
                if let Some(row) = model.get_mut(&k) {
                    row.remove("b");
                }
            }
            db.update_row("t", pk, u, Condition::ignore()).unwrap();
        }
        _ => {
            db.delete_row("t", pk, Condition::ignore()).unwrap();
            model.remove(&k);
        }
    }
}

fn last_stamp(db: &Database) -> u64 {
    let c = db.next_cursor().unwrap() - 1;
    db.changes_since(c, 1).unwrap().records[0].stamp
}

fn restore_at(repo: &Repository, point: RestorePoint) -> tablesync::Result<Database> {
    let opts = RestoreOptions {
        point,
        ..Default::default()
    };
    let clock = Arc::new(ManualClock::new(T0));
    Database::restore_from(
        repo,
        &opts,
        DatabaseOptions::with_clock("r", clock),
        &mut |_| {},
    )
    .map(|(db, _)| db)
}

#[test]
fn restore_at_random_points_matches_the_reference_model() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut model = ModelRows::new();
    // (stamp, model rows, digest) after every write.
    let mut history: Vec<(u64, ModelRows, String)> = Vec::new();
    let mut opts = BackupOptions {
        sizes: small_chunks(),
        ..Default::default()
    };
    for i in 0..400 {
        clock.advance(rng.below(3) as i64);
        random_write(&mut db, &mut model, &mut rng);
        history.push((
            last_stamp(&db),
            model.clone(),
            db.table_digest("t").unwrap().to_hex(),
        ));
        if i % 25 == 24 {
            opts.mode = if i == 199 {
                BackupMode::Full
            } else {
                BackupMode::Auto
            };
            let out = db.backup(&repo, &opts, &mut |_| {}).unwrap();
            assert!(out.created);
        }
    }
    assert_eq!(rows_of(&db, "t"), model, "the model follows the database");
    let list = repo.list().unwrap();
    assert_eq!(list.len(), 16);
    assert_eq!(
        list.iter()
            .filter(|b| b.kind == tablesync::backup::BackupKind::Full)
            .count(),
        2
    );
    assert!(
        list.iter().all(|b| b.covers_from == 0),
        "an untruncated log covers all history"
    );

    let first = history[0].0;
    let last = history.last().unwrap().0;
    for n in 0..220 {
        // Mostly arbitrary stamps, some exactly at a write, some before the first.
        let s = match n % 4 {
            0 => history[rng.below(history.len() as u64) as usize].0,
            1 if n % 40 == 1 => first - 1,
            _ => first + rng.below(last - first + 1),
        };
        let idx = history.partition_point(|(st, _, _)| *st <= s);
        let (want_rows, want_digest) = match idx {
            0 => (ModelRows::new(), tablesync::Digest::default()),
            i => (
                history[i - 1].1.clone(),
                tablesync::Digest::from_hex(&history[i - 1].2).unwrap(),
            ),
        };
        let r = restore_at(&repo, RestorePoint::Stamp(s)).unwrap();
        assert_eq!(rows_of(&r, "t"), want_rows, "rows at stamp {s}");
        if idx > 0 {
            assert_eq!(
                r.table_digest("t").unwrap(),
                want_digest,
                "digest at stamp {s}"
            );
        } else {
            assert_eq!(r.describe_table("t").unwrap().row_count, 0);
        }
    }
    // Latest and by id.
    let latest = restore_at(&repo, RestorePoint::Latest).unwrap();
    assert_eq!(
        latest.table_digest("t").unwrap(),
        db.table_digest("t").unwrap()
    );
    let mid = &list[3];
    let by_id = restore_at(&repo, RestorePoint::Backup(mid.id[..10].to_string())).unwrap();
    let idx = history.partition_point(|(st, _, _)| *st <= mid.point);
    assert_eq!(rows_of(&by_id, "t"), history[idx - 1].1);
    // Wall-clock point: every record stamped in or before that millisecond.
    let ms = (history[150].0 >> 16) as i64;
    let w = restore_at(&repo, RestorePoint::at_millis(ms)).unwrap();
    let idx = history.partition_point(|(st, _, _)| (*st >> 16) as i64 <= ms);
    assert_eq!(rows_of(&w, "t"), history[idx - 1].1);
}

#[test]
fn a_truncated_log_covers_points_from_the_full_backup_on() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    let mut rng = Rng(42);
    let mut model = ModelRows::new();
    for _ in 0..60 {
        clock.advance(1);
        random_write(&mut db, &mut model, &mut rng);
    }
    db.truncate_log(30).unwrap();
    let full = db
        .backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap()
        .info;
    assert_eq!(full.covers_from, full.point);
    let mut history = vec![(full.point, model.clone())];
    for i in 0..60 {
        clock.advance(1);
        random_write(&mut db, &mut model, &mut rng);
        history.push((last_stamp(&db), model.clone()));
        if i % 20 == 19 {
            let b = db
                .backup(&repo, &BackupOptions::default(), &mut |_| {})
                .unwrap()
                .info;
            assert_eq!(b.kind, tablesync::backup::BackupKind::Incremental);
        }
    }
    for (s, want) in history.iter().step_by(3) {
        let r = restore_at(&repo, RestorePoint::Stamp(*s)).unwrap();
        assert_eq!(&rows_of(&r, "t"), want, "rows at stamp {s}");
    }
    let e = restore_at(&repo, RestorePoint::Stamp(full.point - 1)).unwrap_err();
    assert_eq!(e.code(), "OTSParameterInvalid", "{e}");
}

#[test]
fn a_chain_of_100_incrementals_restores_to_the_same_digest() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    let mut rng = Rng(7);
    let mut model = ModelRows::new();
    let opts = BackupOptions::default();
    db.backup(&repo, &opts, &mut |_| {}).unwrap();
    for _ in 0..100 {
        for _ in 0..5 {
            clock.advance(1);
            random_write(&mut db, &mut model, &mut rng);
        }
        let out = db.backup(&repo, &opts, &mut |_| {}).unwrap();
        assert_eq!(out.info.kind, tablesync::backup::BackupKind::Incremental);
    }
    let opts_r = RestoreOptions::default();
    let (r, report) = Database::restore_from(
        &repo,
        &opts_r,
        DatabaseOptions::with_clock("r", Arc::new(ManualClock::new(T0))),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.chain.len(), 101);
    assert_eq!(
        report.points_checked, 101,
        "every backup point's digests were compared"
    );
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
    assert_eq!(rows_of(&r, "t"), model);
    // Nothing changed: no new backup unless asked.
    let again = db.backup(&repo, &opts, &mut |_| {}).unwrap();
    assert!(!again.created);
    let v = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: true,
            sample: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.manifests, 101);
    assert_eq!(v.backups_replayed, 101);
}

/// A store that fails every write after the first `allow` ones.
struct Failing {
    inner: Arc<MemoryStore>,
    allow: usize,
    puts: AtomicUsize,
}
impl ObjectStore for Failing {
    fn get(&self, name: &str) -> tablesync::Result<Option<Vec<u8>>> {
        self.inner.get(name)
    }
    fn put(&self, name: &str, bytes: &[u8]) -> tablesync::Result<()> {
        if self.puts.fetch_add(1, Ordering::SeqCst) >= self.allow {
            return Err(tablesync::Error::io_msg("injected failure"));
        }
        self.inner.put(name, bytes)
    }
    fn list(&self, prefix: &str) -> tablesync::Result<Vec<String>> {
        self.inner.list(prefix)
    }
    fn delete(&self, name: &str) -> tablesync::Result<()> {
        self.inner.delete(name)
    }
}

#[test]
fn an_interrupted_init_leaves_no_repository_and_the_next_init_succeeds() {
    let store = Arc::new(MemoryStore::new());
    for allow in 0..2 {
        let failing = Failing {
            inner: store.clone(),
            allow,
            puts: AtomicUsize::new(0),
        };
        let e = Repository::init(Box::new(failing), None, &[5; INIT_RANDOM_LEN]).unwrap_err();
        assert_eq!(e.code(), "StorageIo");
        // The config is the commit point: no config, no repository.
        let e = Repository::open(Box::new(store.clone()), None).unwrap_err();
        assert_eq!(e.code(), "OTSObjectNotExist", "after {allow} writes");
    }
    let r = Repository::init(Box::new(store.clone()), None, &[5; INIT_RANDOM_LEN]).unwrap();
    assert!(r.list().unwrap().is_empty());
    let v = Database::verify_backups(&r, VerifyOptions::default(), &mut |_| {}).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
}

#[test]
fn an_interrupted_backup_never_appears_and_the_next_run_resumes() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let mut rng = Rng(3);
    let mut model = ModelRows::new();
    for _ in 0..300 {
        random_write(&mut db, &mut model, &mut rng);
    }
    let store = Arc::new(MemoryStore::new());
    repo(&store);
    let opts = BackupOptions {
        sizes: small_chunks(),
        ..Default::default()
    };
    let mut interrupted = 0;
    for allow in 0.. {
        let failing = Failing {
            inner: store.clone(),
            allow,
            puts: AtomicUsize::new(0),
        };
        let r = Repository::open(Box::new(failing), None).unwrap();
        match db.backup(&r, &opts, &mut |_| {}) {
            Err(e) => {
                assert_eq!(e.code(), "StorageIo");
                interrupted += 1;
                let plain = Repository::open(Box::new(store.clone()), None).unwrap();
                assert!(
                    plain.list().unwrap().is_empty(),
                    "no backup appears after {allow} writes"
                );
                let v = Database::verify_backups(&plain, VerifyOptions::default(), &mut |_| {})
                    .unwrap();
                assert!(v.ok());
            }
            Ok(out) => {
                // Each earlier attempt stored one more chunk, so this run wrote only the rest.
                assert!(out.created);
                assert!(interrupted >= 3, "the sample backup spans several chunks");
                break;
            }
        }
        // Resume from scratch every time: the run after `allow` failures
        // must still succeed from where the store is.
        if allow > 1000 {
            panic!("never finished");
        }
    }
    let plain = Repository::open(Box::new(store.clone()), None).unwrap();
    let list = plain.list().unwrap();
    assert_eq!(list.len(), 1);
    let r = restore_at(&plain, RestorePoint::Latest).unwrap();
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
    let v = Database::verify_backups(&plain, VerifyOptions::default(), &mut |_| {}).unwrap();
    assert!(v.ok());
    assert_eq!(v.unreferenced_chunks, 0);
}

#[test]
fn one_table_restores_under_another_name() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    db.create_table(TableSchema::new(
        "u",
        vec![PkColumn::new("id", PkType::String)],
    ))
    .unwrap();
    let mut rng = Rng(11);
    let mut model = ModelRows::new();
    for i in 0..50 {
        random_write(&mut db, &mut model, &mut rng);
        db.put_row(
            "u",
            PrimaryKey::new([("id", format!("u{i}").as_str())]),
            vec![Column::new("x", i as i64)],
            Condition::ignore(),
        )
        .unwrap();
    }
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    let opts = RestoreOptions {
        tables: Some(vec!["t".into()]),
        rename: vec![("t".into(), "t_restored".into())],
        ..Default::default()
    };
    let (r, report) = Database::restore_from(
        &repo,
        &opts,
        DatabaseOptions::with_clock("a", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.list_tables().unwrap(), vec!["t_restored".to_string()]);
    assert_eq!(
        r.table_digest("t_restored").unwrap(),
        db.table_digest("t").unwrap()
    );
    assert_eq!(report.tables[0].0, "t_restored");
    // Copy it next to the live table.
    r.copy_table_to("t_restored", &mut db, "t_restored", &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        db.table_digest("t_restored").unwrap(),
        db.table_digest("t").unwrap()
    );
    let missing = RestoreOptions {
        tables: Some(vec!["nope".into()]),
        ..Default::default()
    };
    let e = Database::restore_from(
        &repo,
        &missing,
        DatabaseOptions::with_clock("a", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "OTSObjectNotExist");
    // A backup of one table holds only that table.
    let only = BackupOptions {
        tables: Some(vec!["u".into()]),
        ..Default::default()
    };
    let b = db.backup(&repo, &only, &mut |_| {}).unwrap().info;
    assert_eq!(b.tables, vec!["u".to_string()]);
    assert_eq!(b.kind, tablesync::backup::BackupKind::Full);
}

#[test]
fn sampled_verification_covers_every_chunk_in_t_runs() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let mut rng = Rng(5);
    let mut model = ModelRows::new();
    for _ in 0..300 {
        random_write(&mut db, &mut model, &mut rng);
    }
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    let opts = BackupOptions {
        sizes: small_chunks(),
        ..Default::default()
    };
    db.backup(&repo, &opts, &mut |_| {}).unwrap();
    let full = Database::verify_backups(&repo, VerifyOptions::default(), &mut |_| {}).unwrap();
    assert!(full.chunks_referenced >= 8, "{full:?}");
    let mut sum = 0;
    for n in 1..=4 {
        let v = Database::verify_backups(
            &repo,
            VerifyOptions {
                deep: false,
                sample: Some((n, 4)),
            },
            &mut |_| {},
        )
        .unwrap();
        assert!(v.ok());
        assert!(v.chunks_checked < full.chunks_referenced);
        sum += v.chunks_checked;
    }
    assert_eq!(sum, full.chunks_referenced);
    let bad = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: false,
            sample: Some((5, 4)),
        },
        &mut |_| {},
    );
    assert!(bad.is_err());
}

#[test]
fn prune_keeps_the_policy_and_every_ancestor() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let mut rng = Rng(9);
    let mut model = ModelRows::new();
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    let mut opts = BackupOptions::default();
    for day in 0..6 {
        for _ in 0..10 {
            random_write(&mut db, &mut model, &mut rng);
        }
        opts.mode = if day == 3 {
            BackupMode::Full
        } else {
            BackupMode::Auto
        };
        opts.now_ms = T0 + day * 86_400_000;
        db.backup(&repo, &opts, &mut |_| {}).unwrap();
    }
    // keep_last 1 keeps the last backup and its chain back to the day-3 full.
    let rep = tablesync::backup::prune(
        &repo,
        PrunePolicy {
            keep_last: Some(1),
            keep_daily: None,
        },
        false,
    )
    .unwrap();
    assert_eq!(rep.kept.len(), 3);
    assert_eq!(rep.removed.len(), 3);
    assert!(rep.chunks_removed > 0);
    let v = Database::verify_backups(
        &repo,
        VerifyOptions {
            deep: true,
            sample: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.unreferenced_chunks, 0);
    let r = restore_at(&repo, RestorePoint::Latest).unwrap();
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
    let e = tablesync::backup::prune(&repo, PrunePolicy::default(), true).unwrap_err();
    assert_eq!(e.code(), "OTSParameterInvalid");
}

#[test]
fn retention_between_backups_forces_a_full_backup() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let mut rng = Rng(13);
    let mut model = ModelRows::new();
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    for _ in 0..30 {
        random_write(&mut db, &mut model, &mut rng);
    }
    db.set_retention(Retention {
        max_records: Some(5),
        max_age_ms: None,
    })
    .unwrap();
    db.enforce_retention().unwrap();
    let inc = BackupOptions {
        mode: BackupMode::Incremental,
        ..Default::default()
    };
    let e = db.backup(&repo, &inc, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "LogGap");
    let auto = db
        .backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap()
        .info;
    assert_eq!(auto.kind, tablesync::backup::BackupKind::Full);
    let r = restore_at(&repo, RestorePoint::Latest).unwrap();
    assert_eq!(rows_of(&r, "t"), model);
}

/// Every object of a store, by name.
fn objects(store: &MemoryStore) -> BTreeMap<String, Vec<u8>> {
    store
        .list("")
        .unwrap()
        .into_iter()
        .map(|n| {
            let b = store.get(&n).unwrap().unwrap();
            (n, b)
        })
        .collect()
}

#[test]
fn chunk_writer_threads_leave_the_repository_byte_identical() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let mut model = ModelRows::new();
    let mut rng = Rng(0x5ee_d0f7_ead5);
    for _ in 0..600 {
        clock.advance(1);
        random_write(&mut db, &mut model, &mut rng);
    }
    let key = tablesync::backup::KeySource::Passphrase(b"pw".to_vec());
    let kdf = tablesync::backup::KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };
    let mut repos = Vec::new();
    let mut finals: Vec<tablesync::backup::Progress> = Vec::new();
    for workers in [0, 1, 3, 8] {
        let store = Arc::new(MemoryStore::new());
        let repo = Repository::init(
            Box::new(store.clone()),
            Some((&key, kdf)),
            &[9u8; INIT_RANDOM_LEN],
        )
        .unwrap();
        let mut last = Default::default();
        let opts = BackupOptions {
            sizes: small_chunks(),
            now_ms: T0,
            workers: Some(workers),
            ..Default::default()
        };
        let full = db.backup(&repo, &opts, &mut |p| last = p).unwrap();
        assert!(full.created && full.info.rows > 0);
        // Progress counts every item once, whatever the order chunks finished in.
        finals.push(last);
        repos.push((workers, store));
    }
    assert!(finals
        .iter()
        .all(|p| *p == finals[0] && p.done >= p.total && p.bytes > 0));
    // An incremental on top, with threads, then again the comparison.
    for _ in 0..50 {
        clock.advance(1);
        random_write(&mut db, &mut model, &mut rng);
    }
    for (workers, store) in &repos {
        let repo = Repository::open(Box::new(store.clone()), Some(&key)).unwrap();
        let opts = BackupOptions {
            sizes: small_chunks(),
            now_ms: T0 + 1,
            workers: Some(*workers),
            ..Default::default()
        };
        let inc = db.backup(&repo, &opts, &mut |_| {}).unwrap();
        assert_eq!(inc.info.kind.name(), "incremental");
    }
    let inline = objects(&repos[0].1);
    assert!(inline.keys().filter(|n| n.starts_with("chunks/")).count() > 10);
    for (workers, store) in &repos[1..] {
        assert!(
            objects(store) == inline,
            "{workers} workers wrote other bytes"
        );
    }
    let (restored, _) = Database::restore_from(
        &Repository::open(Box::new(repos[3].1.clone()), Some(&key)).unwrap(),
        &RestoreOptions::default(),
        DatabaseOptions::new("a"),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(rows_of(&restored, "t"), model);
}

/// `restore_to_directory`: a backup larger than the cache restores
/// straight into a paged directory (built beside it, renamed into place),
/// with the same rows and digest; a failed restore leaves nothing, and a
/// destination that is not empty is refused untouched.
#[test]
fn a_backup_restores_into_a_directory_through_a_small_cache() {
    let clock = ManualClock::new(T0);
    let mut db = new_db("a", &clock);
    let filler = "x".repeat(80);
    for k in 0..40_000 {
        common::put(&mut db, k, &format!("{k} {filler}"));
    }
    let store = Arc::new(MemoryStore::new());
    let repo = repo(&store);
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    for k in (0..40_000).step_by(80) {
        clock.advance(1);
        common::put(&mut db, k, &format!("changed {k}"));
        db.delete_row("t", PrimaryKey::new([("k", k + 1)]), Condition::ignore())
            .unwrap();
    }
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("restored");
    let cache: u64 = 1 << 20;
    let options = || DatabaseOptions::with_clock("r", Arc::new(clock.clone())).cache_bytes(cache);
    let mut ticks = 0;
    let (r, report) = Database::restore_to_directory(
        &repo,
        &RestoreOptions::default(),
        &dest,
        options(),
        &mut |_| ticks += 1,
    )
    .unwrap();
    assert_eq!(report.points_checked, 2);
    assert!(ticks > 2);
    assert!(r.is_paged());
    let stats = r.paged_stats().unwrap();
    assert!(stats.resident_bytes <= stats.page_budget, "{stats:?}");
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
    assert_eq!(rows_of(&r, "t"), rows_of(&db, "t"));
    drop(r);
    let names = || -> Vec<String> {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    };
    assert_eq!(names(), ["restored"], "nothing left beside it");
    let r = Database::open(&dest, options()).unwrap();
    assert_eq!(r.table_digest("t").unwrap(), db.table_digest("t").unwrap());
    drop(r);

    // A destination that holds something is refused and left as it was.
    let e = Database::restore_to_directory(
        &repo,
        &RestoreOptions::default(),
        &dest,
        options(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "OTSObjectAlreadyExist", "{e}");
    assert!(Database::open(&dest, options()).is_ok());

    // A damaged chunk fails the restore; the destination never appears.
    let chunk = store.list("chunks/").unwrap().into_iter().next().unwrap();
    let mut bytes = store.get(&chunk).unwrap().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    store.put(&chunk, &bytes).unwrap();
    let other = tmp.path().join("other");
    let e = Database::restore_to_directory(
        &repo,
        &RestoreOptions::default(),
        &other,
        options(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "BackupCorrupt", "{e}");
    assert_eq!(names(), ["restored"], "a failed restore left something");
}
