//! The redb-backed page store (`storage::kv::RedbKv`, issue 11) against
//! `MemKv` as the model: random batches over the four spaces, durable and
//! not, with reopens; snapshot isolation, also from another thread while
//! commits run; a power cut after every disk operation of a workload (on
//! the simulated disk, in each crash mode); failing disks (ENOSPC, failed
//! fsync, short writes, bit flips); truncated and garbage files.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tablesync::storage::kv::{KvBatch, KvSnapshot, KvStore, MemKv, RedbKv, Space};
use tablesync::storage::vfs::{CrashMode, FaultPlan, RealFs, SimFs, Vfs};

const DIR: &str = "/data/region";
const FILE: &str = "/data/region/pages.redb";
const CACHE: u64 = 1 << 20;

type State = BTreeMap<Space, Vec<(Vec<u8>, Vec<u8>)>>;

fn sim() -> SimFs {
    let fs = SimFs::new(7);
    fs.create_dir_all(Path::new(DIR)).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    fs.sync_dir(Path::new("/data")).unwrap();
    fs
}

fn open(fs: &SimFs) -> tablesync::Result<RedbKv<SimFs>> {
    RedbKv::open(fs.clone(), Path::new(FILE), CACHE)
}

/// Every entry of every space, in key order.
fn dump(snap: &dyn KvSnapshot) -> tablesync::Result<State> {
    let mut state = State::new();
    for space in Space::ALL {
        let mut entries = Vec::new();
        snap.range(space, &[], None, &mut |k, v| {
            entries.push((k.to_vec(), v.to_vec()));
            Ok(ControlFlow::Continue(()))
        })?;
        state.insert(space, entries);
    }
    Ok(state)
}

fn state_of(store: &dyn KvStore) -> State {
    dump(&*store.snapshot().unwrap()).unwrap()
}

/// The first `limit` entries of `space` in `[from, to)`.
fn scan(
    snap: &dyn KvSnapshot,
    space: Space,
    from: &[u8],
    to: Option<&[u8]>,
    limit: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    snap.range(space, from, to, &mut |k, v| {
        out.push((k.to_vec(), v.to_vec()));
        Ok(if out.len() >= limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })
    .unwrap();
    out
}

// ---------------------------------------------------------------- model

#[derive(Clone, Debug)]
enum Step {
    Commit(KvBatch, bool),
    Reopen,
    /// Power cut (simulated disk only; a clean reopen on the real one):
    /// the store must come back at exactly its last durable commit.
    PowerCut,
    Scan(Space, Vec<u8>, Option<Vec<u8>>, usize),
    Get(Space, Vec<u8>),
}

fn space() -> impl Strategy<Value = Space> {
    prop::sample::select(Space::ALL.to_vec())
}

/// Short keys over a small alphabet, so batches overwrite and remove
/// each other's keys and ranges hit them.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..4, 0..4)
}

/// Mostly small values, sometimes page-sized and larger (redb overflow pages).
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..40),
        1 => (1usize..12_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
}

fn batch() -> impl Strategy<Value = KvBatch> {
    prop::collection::vec(
        (space(), key(), prop::option::weighted(0.75, value())),
        0..12,
    )
    .prop_map(|ops| KvBatch { ops })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (batch(), any::<bool>()).prop_map(|(b, d)| Step::Commit(b, d)),
        1 => Just(Step::Reopen),
        1 => Just(Step::PowerCut),
        2 => (space(), key(), prop::option::of(key()), 1usize..6)
            .prop_map(|(s, f, t, n)| Step::Scan(s, f, t, n)),
        2 => (space(), key()).prop_map(|(s, k)| Step::Get(s, k)),
    ]
}

/// Run `steps` on a store and on `MemKv`, comparing them after each step.
/// `sim` is the simulated disk under `vfs`, if it is one (for power cuts).
fn check_against_model<V: Vfs>(vfs: V, sim: Option<&SimFs>, path: &Path, steps: &[Step]) {
    let mut model = MemKv::default();
    // The model's state at its last durable commit (a clean close makes
    // every commit durable).
    let mut durable_state = State::new();
    let mut store = Some(RedbKv::open(vfs.clone(), path, CACHE).unwrap());
    for step in steps {
        let s = store.as_ref().unwrap();
        match step {
            Step::Commit(batch, durable) => {
                s.commit(batch, *durable).unwrap();
                model.commit(batch, *durable).unwrap();
                if *durable {
                    durable_state = state_of(&model);
                }
            }
            Step::Reopen => {
                drop(store.take());
                store = Some(RedbKv::open(vfs.clone(), path, CACHE).unwrap());
                durable_state = state_of(&model);
            }
            Step::PowerCut => {
                match sim {
                    Some(fs) => {
                        fs.crash(CrashMode::DropUnsynced);
                        drop(store.take());
                        model = MemKv::default();
                        let mut b = KvBatch::default();
                        for (space, entries) in &durable_state {
                            for (k, v) in entries {
                                b.put(*space, k.clone(), v.clone());
                            }
                        }
                        model.commit(&b, true).unwrap();
                    }
                    None => {
                        drop(store.take());
                        durable_state = state_of(&model);
                    }
                }
                store = Some(RedbKv::open(vfs.clone(), path, CACHE).unwrap());
            }
            Step::Scan(space, from, to, limit) => {
                let (a, b) = (s.snapshot().unwrap(), model.snapshot().unwrap());
                assert_eq!(
                    scan(&*a, *space, from, to.as_deref(), *limit),
                    scan(&*b, *space, from, to.as_deref(), *limit),
                    "{space:?} [{from:?}, {to:?}) first {limit}"
                );
            }
            Step::Get(space, key) => {
                let (a, b) = (s.snapshot().unwrap(), model.snapshot().unwrap());
                assert_eq!(a.get(*space, key).unwrap(), b.get(*space, key).unwrap());
            }
        }
        assert_eq!(
            state_of(store.as_ref().unwrap()),
            state_of(&model),
            "after {step:?}"
        );
    }
    drop(store.take());
    let reopened = RedbKv::open(vfs, path, CACHE).unwrap();
    assert_eq!(
        state_of(&reopened),
        state_of(&model),
        "after the last reopen"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_match_the_model_on_the_simulated_disk(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        let fs = sim();
        check_against_model(fs.clone(), Some(&fs), Path::new(FILE), &steps);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_match_the_model_on_the_real_disk(
        steps in prop::collection::vec(step(), 1..30)
    ) {
        let dir = tempfile::tempdir().unwrap();
        check_against_model(RealFs, None, &dir.path().join("pages.redb"), &steps);
    }
}

#[test]
fn ranges_bounds_and_early_break() {
    let fs = sim();
    let store = open(&fs).unwrap();
    let mut b = KvBatch::default();
    for k in [&b"a"[..], b"ab", b"b", b"ba", b"c", b"\xff"] {
        b.put(Space::Index, k, [k, b"!"].concat());
    }
    b.put(Space::Meta, "a", "other space");
    store.commit(&b, true).unwrap();
    let snap = store.snapshot().unwrap();
    let keys = |from: &[u8], to: Option<&[u8]>, limit| -> Vec<Vec<u8>> {
        scan(&*snap, Space::Index, from, to, limit)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    let v = |ks: &[&[u8]]| ks.iter().map(|k| k.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        keys(b"", None, 99),
        v(&[b"a", b"ab", b"b", b"ba", b"c", b"\xff"])
    );
    assert_eq!(keys(b"ab", Some(b"c"), 99), v(&[b"ab", b"b", b"ba"]));
    assert_eq!(keys(b"b", None, 2), v(&[b"b", b"ba"]));
    assert_eq!(keys(b"b", Some(b"b"), 99), v(&[]));
    assert_eq!(keys(b"c", Some(b"a"), 99), v(&[])); // to < from: empty, no panic
    assert_eq!(keys(b"zz", None, 99), v(&[b"\xff"]));
    assert_eq!(
        snap.get(Space::Index, b"ba").unwrap(),
        Some(b"ba!".to_vec())
    );
    assert_eq!(snap.get(Space::Pages, b"ba").unwrap(), None);
    // An error from the callback stops the scan and comes back as is.
    let mut seen = 0;
    let err = snap
        .range(Space::Index, b"", None, &mut |_, _| {
            seen += 1;
            Err(tablesync::Error::invalid("stop here"))
        })
        .unwrap_err();
    assert_eq!((seen, err.code()), (1, "OTSParameterInvalid"));
}

// ---------------------------------------------------------------- snapshots

#[test]
fn the_integrity_check_passes_on_a_good_file_and_needs_snapshots_gone() {
    let fs = sim();
    let mut store = open(&fs).unwrap();
    for (b, d) in workload_batches() {
        store.commit(&b, d).unwrap();
    }
    store.check_integrity().unwrap();
    let snap = store.snapshot().unwrap();
    assert_eq!(
        store.check_integrity().unwrap_err().code(),
        "OTSParameterInvalid"
    );
    drop(snap);
    store.check_integrity().unwrap();
    assert_eq!(state_of(&store), *workload_states().last().unwrap());
}

#[test]
fn a_snapshot_never_sees_later_commits() {
    let fs = sim();
    let store = open(&fs).unwrap();
    let mut b = KvBatch::default();
    b.put(Space::Pages, 1u64.to_be_bytes(), "v1");
    store.commit(&b, false).unwrap();
    let before = store.snapshot().unwrap();
    let mut b = KvBatch::default();
    b.put(Space::Pages, 1u64.to_be_bytes(), "v2");
    b.put(Space::Log, 9u64.to_be_bytes(), "record");
    b.remove(Space::Pages, 2u64.to_be_bytes());
    store.commit(&b, true).unwrap();
    let after = store.snapshot().unwrap();
    assert_eq!(
        before.get(Space::Pages, &1u64.to_be_bytes()).unwrap(),
        Some(b"v1".to_vec())
    );
    assert_eq!(before.get(Space::Log, &9u64.to_be_bytes()).unwrap(), None);
    assert_eq!(
        after.get(Space::Pages, &1u64.to_be_bytes()).unwrap(),
        Some(b"v2".to_vec())
    );
    // Still readable after the store is gone.
    drop(store);
    assert_eq!(dump(&*before).unwrap()[&Space::Log], vec![]);
}

#[test]
fn snapshots_on_another_thread_see_whole_commits_only() {
    const COMMITS: u64 = 300;
    let fs = sim();
    let store = Arc::new(open(&fs).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicU64::new(0));
    let reader = {
        let (store, done, committed) = (store.clone(), done.clone(), committed.clone());
        std::thread::spawn(move || {
            let mut held: Vec<(u64, Arc<dyn KvSnapshot>)> = Vec::new();
            let mut checks = 0u64;
            while !done.load(Ordering::Acquire) || checks < 50 {
                let floor = committed.load(Ordering::Acquire);
                let snap = store.snapshot().unwrap();
                // Commit i writes i under the same key in every space and
                // the log record i: a snapshot sees all of a commit or none.
                let n = read_counter(&*snap, Space::Pages);
                assert!(n >= floor, "snapshot older than an acknowledged commit");
                for space in Space::ALL {
                    assert_eq!(read_counter(&*snap, space), n, "torn commit in {space:?}");
                }
                let mut log = 0;
                // Log records by u64 (first byte 0 here), not "counter".
                snap.range(Space::Log, &[], Some(&[1]), &mut |_, _| {
                    log += 1;
                    Ok(ControlFlow::Continue(()))
                })
                .unwrap();
                assert_eq!(log, n);
                // Snapshots taken earlier still read their own state.
                for (m, old) in &held {
                    assert_eq!(read_counter(&**old, Space::Meta), *m);
                }
                if checks.is_multiple_of(10) && held.len() < 20 {
                    held.push((n, snap));
                }
                checks += 1;
            }
            checks
        })
    };
    for i in 1..=COMMITS {
        let mut b = KvBatch::default();
        for space in Space::ALL {
            b.put(space, "counter", i.to_be_bytes());
        }
        b.put(Space::Log, i.to_be_bytes(), vec![i as u8; 100]);
        store.commit(&b, i.is_multiple_of(25)).unwrap();
        committed.store(i, Ordering::Release);
    }
    done.store(true, Ordering::Release);
    let checks = reader.join().unwrap();
    assert!(checks >= 50);
}

#[test]
fn commits_from_several_threads_all_land() {
    let fs = sim();
    let store: Arc<dyn KvStore> = Arc::new(open(&fs).unwrap());
    let writers: Vec<_> = (0u8..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0u8..50 {
                    let mut b = KvBatch::default();
                    b.put(Space::Log, [t, i], [t ^ i]);
                    b.put(Space::Meta, [t], [i]);
                    store.commit(&b, i % 10 == 9).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let state = state_of(&*store);
    assert_eq!(state[&Space::Log].len(), 200);
    assert_eq!(
        state[&Space::Meta],
        (0u8..4).map(|t| (vec![t], vec![49])).collect::<Vec<_>>()
    );
}

fn read_counter(snap: &dyn KvSnapshot, space: Space) -> u64 {
    snap.get(space, b"counter")
        .unwrap()
        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
}

// ---------------------------------------------------------------- power loss

/// The workload of the power-cut test: commits over all four spaces,
/// some durable, values from a few bytes to two pages.
fn workload_batches() -> Vec<(KvBatch, bool)> {
    let mut out = Vec::new();
    for i in 0u64..10 {
        let mut b = KvBatch::default();
        b.put(
            Space::Pages,
            i.to_be_bytes(),
            vec![i as u8; 3000 + 500 * i as usize],
        );
        b.put(
            Space::Index,
            [&[0, 0, 0, 1][..], &i.to_be_bytes()].concat(),
            i.to_be_bytes(),
        );
        b.put(Space::Meta, "head", format!("head {i}"));
        b.put(
            Space::Log,
            i.to_be_bytes(),
            format!("record {i}").repeat(20),
        );
        if i >= 3 {
            b.remove(Space::Pages, (i - 3).to_be_bytes());
            b.put(
                Space::Pages,
                (i - 2).to_be_bytes(),
                format!("rewritten {i}"),
            );
        }
        out.push((b, matches!(i, 2 | 5 | 6 | 9)));
    }
    out
}

/// What the workload got acknowledged before the disk died.
#[derive(Debug, Default)]
struct Acked {
    /// Commits started (the last one may have failed).
    attempted: usize,
    /// Commits acknowledged (`Ok`).
    acked: usize,
    /// Commits up to and including the last acknowledged durable one.
    durable: usize,
}

/// Open and run the workload until an error. `claim_durable` commits every
/// batch without durability but counts the ones marked durable as durable
/// (a broken store, to show the check catches lost commits).
fn run_workload(fs: &SimFs, claim_durable: bool) -> Acked {
    let mut acked = Acked::default();
    let Ok(store) = open(fs) else {
        return acked;
    };
    for (i, (batch, durable)) in workload_batches().iter().enumerate() {
        acked.attempted = i + 1;
        let really = *durable && !claim_durable;
        if store.commit(batch, really).is_err() {
            break;
        }
        acked.acked = i + 1;
        if *durable {
            acked.durable = i + 1;
        }
    }
    // Dropping the store after the power cut: its close writes nothing.
    fs.crash(CrashMode::DropUnsynced);
    drop(store);
    acked
}

/// The workload, then batches that grow the file by ~1 MiB each.
fn growing_batches() -> Vec<(KvBatch, bool)> {
    let mut out = workload_batches();
    for i in 0u64..8 {
        let mut b = KvBatch::default();
        for j in 0u64..16 {
            b.put(
                Space::Pages,
                (1000 + 16 * i + j).to_be_bytes(),
                vec![j as u8; 64 * 1024],
            );
        }
        out.push((b, i % 2 == 1));
    }
    out
}

/// The model's state after each prefix of the workload.
fn workload_states() -> Vec<State> {
    states_of(&workload_batches())
}

/// The model's state after each prefix of `batches`.
fn states_of(batches: &[(KvBatch, bool)]) -> Vec<State> {
    let model = MemKv::default();
    let mut states = vec![state_of(&model)];
    for (batch, durable) in batches {
        model.commit(batch, *durable).unwrap();
        states.push(state_of(&model));
    }
    states
}

/// Cut power after each of the workload's disk operations, reopen, and
/// return the cuts whose state was not that of a commit between the last
/// acknowledged durable one and the last one attempted.
fn power_cuts(mode: CrashMode, claim_durable: bool) -> (u64, Vec<String>) {
    let batches = workload_batches();
    let states = states_of(&batches);
    let total = {
        let fs = sim();
        let base = fs.stats().ops;
        run_workload(&fs, false);
        fs.stats().ops - base
    };
    let bad = (1..=total)
        .filter_map(|n| cut_once(&batches, &states, n, n, mode, claim_durable).err())
        .collect();
    (total, bad)
}

/// On a simulated disk seeded with `seed`, open a store and commit
/// `batches` until power is cut after `n` disk operations (in `mode`; at
/// the end if the workload needs fewer), then reopen: the state must be
/// that after a commit between the last acknowledged durable one and the
/// last one attempted (`states[j]` is the state after `j` commits).
fn cut_once(
    batches: &[(KvBatch, bool)],
    states: &[State],
    seed: u64,
    n: u64,
    mode: CrashMode,
    claim_durable: bool,
) -> Result<(), String> {
    let fs = SimFs::new(seed);
    fs.create_dir_all(Path::new(DIR)).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    fs.sync_dir(Path::new("/data")).unwrap();
    fs.crash_after(n);
    let mut acked = Acked::default();
    if let Ok(store) = open(&fs) {
        for (i, (batch, durable)) in batches.iter().enumerate() {
            acked.attempted = i + 1;
            if store.commit(batch, *durable && !claim_durable).is_err() {
                break;
            }
            acked.acked = i + 1;
            if *durable {
                acked.durable = i + 1;
            }
        }
        // The store is dropped after the power cut: its close writes nothing.
        fs.crash(mode);
        drop(store);
    } else {
        fs.crash(mode);
    }
    let store = open(&fs).map_err(|e| format!("cut {n}: reopen failed: {e}"))?;
    let got = state_of(&store);
    let (lo, hi) = (acked.durable, acked.attempted.max(acked.acked));
    if !(lo..=hi).any(|j| states[j] == got) {
        let which = states.iter().position(|s| *s == got);
        return Err(format!(
            "cut {n}: state is commit {which:?}, expected one of {lo}..={hi} ({acked:?})"
        ));
    }
    // The reopened store takes commits again.
    store
        .commit(&batches[0].0, true)
        .map_err(|e| format!("cut {n}: commit after reopen: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_workloads_cut_at_random_points_keep_a_whole_commit(
        batches in prop::collection::vec((batch(), any::<bool>()), 1..8),
        n in 1u64..300,
        seed in any::<u64>(),
        mode in prop::sample::select(vec![CrashMode::DropUnsynced, CrashMode::Torn, CrashMode::Reorder]),
    ) {
        let states = states_of(&batches);
        if let Err(e) = cut_once(&batches, &states, seed, n, mode, false) {
            return Err(TestCaseError::fail(format!("{mode:?} seed {seed}: {e}")));
        }
    }
}

#[test]
fn power_cut_after_every_disk_operation_keeps_a_whole_commit() {
    for mode in [CrashMode::DropUnsynced, CrashMode::Torn, CrashMode::Reorder] {
        let (ops, bad) = power_cuts(mode, false);
        eprintln!("{mode:?}: a power cut after each of {ops} disk operations");
        assert!(ops > 40, "the workload did {ops} disk operations");
        assert!(
            bad.is_empty(),
            "{mode:?}: {} bad cuts:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

#[test]
fn the_power_cut_check_catches_lost_durable_commits() {
    // Commits that claim durability without it: some cut loses one.
    let (ops, bad) = power_cuts(CrashMode::DropUnsynced, true);
    eprintln!(
        "non-durable commits counted as durable: {} of {ops} cuts caught",
        bad.len()
    );
    assert!(
        !bad.is_empty(),
        "the check never failed for a store that loses commits"
    );
}

#[test]
fn reopening_after_a_crash_does_not_walk_the_file() {
    // Quick repair: after a power cut, open reads a few pages (the saved
    // allocator state), not every page (a full repair would, like the
    // dump below). Counted in disk reads, not time.
    let fs = sim();
    let store = open(&fs).unwrap();
    for i in 0u64..8 {
        let mut b = KvBatch::default();
        for j in 0u64..250 {
            b.put(
                Space::Pages,
                (i * 250 + j).to_be_bytes(),
                vec![j as u8; 1000],
            );
        }
        store.commit(&b, i % 4 == 3).unwrap();
    }
    fs.crash(CrashMode::DropUnsynced);
    drop(store);
    let before = fs.stats().reads;
    let store = open(&fs).unwrap();
    let open_reads = fs.stats().reads - before;
    let before = fs.stats().reads;
    let state = state_of(&store);
    let dump_reads = fs.stats().reads - before;
    assert_eq!(state[&Space::Pages].len(), 2000);
    assert!(
        open_reads * 10 < dump_reads,
        "open after a crash read {open_reads} times, a full scan {dump_reads}"
    );
}

#[test]
fn a_clean_close_keeps_non_durable_commits() {
    let fs = sim();
    let store = open(&fs).unwrap();
    for (batch, _) in workload_batches() {
        store.commit(&batch, false).unwrap();
    }
    drop(store);
    fs.crash(CrashMode::DropUnsynced);
    let store = open(&fs).unwrap();
    assert_eq!(state_of(&store), *workload_states().last().unwrap());
}

#[test]
fn the_workload_runs_whole_without_faults() {
    let fs = sim();
    let acked = run_workload(&fs, false);
    assert_eq!((acked.acked, acked.durable), (10, 10));
    let store = open(&fs).unwrap();
    assert_eq!(state_of(&store), *workload_states().last().unwrap());
}

// ---------------------------------------------------------------- failing disks

/// Commit workload batches until one fails; check the error is typed, the
/// store then either takes commits or refuses them with a typed error,
/// snapshots read the last acknowledged state, and after a power cut it
/// reopens at a whole commit no older than the last acknowledged durable one.
fn failing_disk(plan: FaultPlan, expect_codes: &[&str]) -> String {
    let fs = sim();
    let batches = growing_batches();
    let states = states_of(&batches);
    let store = open(&fs).unwrap();
    let (first, rest) = batches.split_at(2);
    for (b, d) in first {
        store.commit(b, *d).unwrap();
    }
    fs.set_faults(plan);
    let mut acked = Acked {
        attempted: 2,
        acked: 2,
        durable: 0,
    };
    let mut failure = None;
    for (i, (b, d)) in rest.iter().enumerate() {
        acked.attempted = i + 3;
        match store.commit(b, *d) {
            Ok(()) => {
                acked.acked = i + 3;
                if *d {
                    acked.durable = i + 3;
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let err = failure.expect("the fault made a commit fail");
    assert!(
        expect_codes.contains(&err.code()),
        "unexpected error {err} ({})",
        err.code()
    );
    // Snapshots read the last acknowledged commit, or are refused with a
    // typed error (redb refuses new transactions after an I/O error).
    let check_reads = |store: &RedbKv<SimFs>| match store.snapshot() {
        Ok(snap) => assert_eq!(dump(&*snap).unwrap(), states[acked.acked]),
        Err(e) => assert_eq!(e.code(), "StorageStopped", "{e}"),
    };
    check_reads(&store);
    // Afterwards: usable, or refused with a typed error.
    fs.set_faults(FaultPlan::default());
    let after = match store.commit(&batches[0].0, true) {
        Ok(()) => "usable".to_string(),
        Err(e) => {
            assert!(
                ["StorageStopped", "StorageIo"].contains(&e.code()),
                "after the failure: {e}"
            );
            check_reads(&store);
            e.code().to_string()
        }
    };
    fs.crash(CrashMode::DropUnsynced);
    drop(store);
    let store = open(&fs).unwrap();
    let got = state_of(&store);
    let mut candidates: Vec<&State> = states[acked.durable..=acked.attempted].iter().collect();
    // A commit after the failure (`batches[0]` again) may be kept too.
    let mut again = Vec::new();
    if after == "usable" {
        let model = MemKv::default();
        for (b, d) in &batches[..acked.acked] {
            model.commit(b, *d).unwrap();
        }
        model.commit(&batches[0].0, true).unwrap();
        again.push(state_of(&model));
        candidates = vec![&again[0]];
    }
    assert!(
        candidates.iter().any(|s| **s == got),
        "after {err}: reopened at commit {:?} ({acked:?}, then {after})",
        states.iter().position(|s| *s == got)
    );
    format!("{} then {after}", err.code())
}

#[test]
fn a_full_disk_is_a_typed_error() {
    let fs = sim();
    open(&fs).unwrap();
    let used: u64 = fs.files().iter().map(|(_, d)| d.len() as u64).sum();
    let seen = failing_disk(
        FaultPlan {
            capacity: Some(used + 2_000),
            ..FaultPlan::default()
        },
        &["StorageIo"],
    );
    eprintln!("ENOSPC: {seen}");
}

#[test]
fn a_full_disk_keeps_the_io_kind() {
    let fs = sim();
    let store = open(&fs).unwrap();
    let used: u64 = fs.files().iter().map(|(_, d)| d.len() as u64).sum();
    fs.set_faults(FaultPlan {
        capacity: Some(used + 2_000),
        ..FaultPlan::default()
    });
    let err = growing_batches()
        .iter()
        .find_map(|(b, d)| store.commit(b, *d).err())
        .unwrap();
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::StorageFull),
        "{err}"
    );
}

#[test]
fn a_failed_fsync_stops_the_store() {
    let seen = failing_disk(
        FaultPlan {
            fail_fsync_at: Some(1),
            ..FaultPlan::default()
        },
        &["StorageIo"],
    );
    assert_eq!(seen, "StorageIo then StorageStopped");
}

#[test]
fn short_writes_are_typed_errors() {
    for at in [1, 2, 5, 9] {
        let seen = failing_disk(
            FaultPlan {
                short_write_at: Some(at),
                ..FaultPlan::default()
            },
            &["StorageIo", "StorageStopped"],
        );
        eprintln!("short write {at}: {seen}");
    }
}

// ---------------------------------------------------------------- damaged files

const DAMAGE_CODES: [&str; 4] = [
    "CorruptData",
    "StorageIo",
    "UnsupportedVersion",
    "StorageStopped",
];

/// Open a store on `bytes` and read everything: any error must be typed,
/// no panic may escape. Returns what happened.
fn open_damaged(bytes: &[u8]) -> String {
    open_damaged_with(bytes, false, None)
}

/// [`open_damaged`], first running the integrity check when `check`.
/// A read that succeeds is compared with `expect` ("read wrong" when it
/// differs: damage read back silently).
fn open_damaged_with(bytes: &[u8], check: bool, expect: Option<&State>) -> String {
    let fs = sim();
    {
        use tablesync::storage::vfs::VfsFile;
        let f = fs.open_rw(Path::new(FILE)).unwrap();
        f.write_at(0, bytes).unwrap();
        f.set_len(bytes.len() as u64).unwrap();
    }
    let mut store = match open(&fs) {
        Ok(s) => s,
        Err(e) => {
            assert!(DAMAGE_CODES.contains(&e.code()), "open: {e}");
            return format!("open: {}", e.code());
        }
    };
    if check {
        if let Err(e) = store.check_integrity() {
            assert!(DAMAGE_CODES.contains(&e.code()), "check: {e}");
            return format!("check: {}", e.code());
        }
    }
    let read = store.snapshot().and_then(|s| dump(&*s));
    let wrong = matches!((&read, expect), (Ok(got), Some(want)) if got != want);
    let read = read.map(drop);
    let write = store.commit(&workload_batches()[0].0, true);
    for r in [&read, &write] {
        if let Err(e) = r {
            assert!(DAMAGE_CODES.contains(&e.code()), "{e}");
        }
    }
    format!(
        "opened; read {}; commit {}",
        read.err()
            .map_or(if wrong { "wrong" } else { "ok" }.into(), |e| {
                e.code().to_string()
            }),
        write.err().map_or("ok".into(), |e| e.code().to_string())
    )
}

fn good_file() -> Vec<u8> {
    let fs = sim();
    let store = open(&fs).unwrap();
    for (b, d) in workload_batches() {
        store.commit(&b, d).unwrap();
    }
    drop(store);
    fs.read(Path::new(FILE)).unwrap()
}

#[test]
fn an_empty_or_garbage_file_is_corrupt_data() {
    let fs = sim();
    drop(fs.create(Path::new(FILE)).unwrap());
    assert_eq!(open(&fs).unwrap_err().code(), "CorruptData");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as u8
        })
        .collect();
    for len in [1, 100, 4096, garbage.len()] {
        let seen = open_damaged(&garbage[..len]);
        assert_eq!(seen, "open: CorruptData", "garbage of {len} bytes");
    }
}

#[test]
fn a_truncated_file_is_a_clean_error() {
    let good = good_file();
    let mut outcomes = BTreeMap::new();
    for len in [
        1,
        64,
        511,
        512,
        4096,
        8192,
        good.len() / 3,
        good.len() / 2,
        good.len() - 1,
    ] {
        let seen = open_damaged(&good[..len]);
        *outcomes.entry(seen).or_insert(0) += 1;
    }
    eprintln!("truncations: {outcomes:?}");
    assert_eq!(outcomes.keys().collect::<Vec<_>>(), ["open: CorruptData"]);
}

#[test]
fn flipped_bytes_never_panic_out_of_the_store() {
    let good = good_file();
    let want = workload_states().pop().unwrap();
    let (mut outcomes, mut checked) = (BTreeMap::new(), BTreeMap::new());
    let step = (good.len() / 97).max(1);
    for at in (0..good.len()).step_by(step) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        let seen = open_damaged_with(&bad, false, Some(&want));
        *outcomes.entry(seen).or_insert(0) += 1;
        let seen = open_damaged_with(&bad, true, Some(&want));
        *checked.entry(seen).or_insert(0) += 1;
    }
    eprintln!("flipped bytes: {outcomes:?}; with the integrity check: {checked:?}");
    // Once the integrity check passed, reads are right.
    assert!(!checked.keys().any(|k| k.contains("wrong")), "{checked:?}");
}

#[test]
fn bit_flips_on_read_never_panic_out_of_the_store() {
    let good = good_file();
    for seed in 0..20u64 {
        let fs = SimFs::new(seed);
        fs.create_dir_all(Path::new(DIR)).unwrap();
        {
            use tablesync::storage::vfs::VfsFile;
            let f = fs.open_rw(Path::new(FILE)).unwrap();
            f.write_at(0, &good).unwrap();
        }
        fs.set_faults(FaultPlan {
            flip_read_per_mille: 200,
            ..FaultPlan::default()
        });
        if let Ok(store) = RedbKv::open(fs.clone(), Path::new(FILE), 0) {
            for r in [
                store.snapshot().and_then(|s| dump(&*s).map(drop)),
                store.commit(&workload_batches()[0].0, true),
            ] {
                if let Err(e) = r {
                    assert!(DAMAGE_CODES.contains(&e.code()), "{e}");
                }
            }
        }
    }
}
