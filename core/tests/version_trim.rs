//! Cell versions beyond `max_versions` are trimmed on write (FORMAT.md §5.1):
//! memory and checkpoints stay bounded for a hot row, and trimming changes
//! neither what reads and digests see nor convergence (any order of the same
//! records, and any split merged back, trims to the same state).

mod common;

use common::Rng;
use std::sync::Arc;
use tablesync::codec::row_state::encode_row_state;
use tablesync::engine::row_state::RowState;
use tablesync::storage::SyncPolicy;
use tablesync::table::Table;
use tablesync::{
    ChangeKind, Column, ColumnOp, Condition, Database, DatabaseOptions, GetOptions, ManualClock,
    PkColumn, PkType, PrimaryKey, Retention, RowUpdate, Stamp, TableOptions, TableSchema, Value,
};

const T0: i64 = 1_700_000_000_000;

fn schema(max_versions: u32) -> TableSchema {
    TableSchema::new("t", vec![PkColumn::new("id", PkType::Integer)]).with_options(TableOptions {
        max_versions,
        time_to_live: -1,
    })
}

fn options(clock: &ManualClock) -> DatabaseOptions {
    DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .rows_in_memory()
        .sync(SyncPolicy::Never)
        .retention(Retention {
            max_records: Some(16),
            max_age_ms: None,
        })
}

/// `n` updates of one cell, one millisecond apart (server timestamps).
fn hammer(db: &mut Database, clock: &ManualClock, n: i64) {
    let pk = PrimaryKey::new([("id", 1i64)]);
    for i in 0..n {
        clock.advance(1);
        db.update_row(
            "t",
            pk.clone(),
            RowUpdate::new().put(Column::new("v", i)).increment("n", 1),
            Condition::ignore(),
        )
        .unwrap();
    }
}

#[test]
fn a_hot_row_has_bounded_memory_and_checkpoints() {
    let clock = ManualClock::new(T0);
    let mut db = Database::memory(options(&clock)).unwrap();
    db.create_table(schema(1)).unwrap();
    hammer(&mut db, &clock, 1_000);
    db.enforce_retention().unwrap();
    let small = db.export_snapshot().unwrap().len();
    hammer(&mut db, &clock, 99_000);
    db.enforce_retention().unwrap();
    let big = db.export_snapshot().unwrap().len();
    // Varints of cursors and clocks may grow by a byte or two; versions may not.
    assert!(
        big <= small + 64,
        "snapshot grew from {small} to {big} bytes over 99,000 updates"
    );
    let row = db
        .get_row(
            "t",
            &PrimaryKey::new([("id", 1i64)]),
            &GetOptions::default(),
        )
        .unwrap()
        .unwrap();
    let n = row.cells.iter().find(|c| c.name == "n").unwrap();
    assert_eq!(n.value, Value::Integer(100_000));
}

#[test]
fn a_hot_row_has_a_bounded_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut db = Database::open(dir.path(), options(&clock)).unwrap();
    db.create_table(schema(1)).unwrap();
    let checkpoint_size = |db: &mut Database| {
        db.enforce_retention().unwrap();
        db.checkpoint().unwrap();
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
            .map(|e| e.metadata().unwrap().len())
            .max()
            .unwrap()
    };
    hammer(&mut db, &clock, 500);
    let small = checkpoint_size(&mut db);
    hammer(&mut db, &clock, 9_500);
    let big = checkpoint_size(&mut db);
    assert!(
        big <= small + 64,
        "checkpoint grew from {small} to {big} bytes over 9,500 updates"
    );
    db.close().unwrap();
    let db = Database::open(dir.path(), options(&clock)).unwrap();
    let row = db
        .get_row(
            "t",
            &PrimaryKey::new([("id", 1i64)]),
            &GetOptions::default(),
        )
        .unwrap()
        .unwrap();
    let n = row.cells.iter().find(|c| c.name == "n").unwrap();
    assert_eq!(n.value, Value::Integer(10_000));
}

/// One random record of a single row: explicit timestamps in a narrow
/// window so versions collide, delete and overwrite each other.
fn record(rng: &mut Rng, hlc: u64) -> (Stamp, ChangeKind, Vec<ColumnOp>) {
    let stamp = Stamp::new(hlc, rng.below(3));
    let kind = match rng.below(20) {
        0 => ChangeKind::Delete,
        1 | 2 => ChangeKind::Put,
        _ => ChangeKind::Update,
    };
    let mut ops = Vec::new();
    if kind != ChangeKind::Delete {
        for _ in 0..rng.range(1, 3) {
            let name = ["a", "b"][rng.below(2) as usize].to_string();
            let timestamp = rng.range(0, 12);
            ops.push(match rng.below(10) {
                0 if kind == ChangeKind::Update => ColumnOp::DeleteAllVersions { name },
                1..=2 if kind == ChangeKind::Update => {
                    ColumnOp::DeleteOneVersion { name, timestamp }
                }
                _ => ColumnOp::Put {
                    name,
                    value: Value::Integer(rng.range(0, 99)),
                    timestamp,
                },
            });
        }
    }
    (stamp, kind, ops)
}

fn apply_trimmed(records: &[&(Stamp, ChangeKind, Vec<ColumnOp>)], k: u32) -> RowState {
    let mut s = RowState::default();
    for (stamp, kind, ops) in records {
        s.apply(*stamp, *kind, ops);
        s.trim(k);
    }
    s
}

fn visible(s: &RowState, k: u32) -> Vec<(String, Vec<(i64, Value)>)> {
    s.columns
        .iter()
        .map(|c| {
            let vs = RowState::live_versions(c, k)
                .map(|(ts, v)| (ts, v.clone()))
                .collect();
            (c.name.clone(), vs)
        })
        .filter(|(_, vs): &(String, Vec<_>)| !vs.is_empty())
        .collect()
}

#[test]
fn trimming_is_order_independent_and_invisible() {
    let key = [0x10u8, 0x80, 0, 0, 0, 0, 0, 0, 1];
    let mut trimmed_something = 0;
    for seed in 0..400u64 {
        let mut rng = Rng(seed);
        let k = rng.range(1, 3) as u32;
        let n = rng.range(1, 40) as u64;
        let records: Vec<_> = (1..=n).map(|h| record(&mut rng, h)).collect();

        // The reference: every record merged, nothing trimmed.
        let mut full = RowState::default();
        for (stamp, kind, ops) in &records {
            full.apply(*stamp, *kind, ops);
        }
        let mut canonical = full.clone();
        canonical.trim(k);
        if canonical != full {
            trimmed_something += 1;
        }

        // Any order, trimming after each record, gives the canonical state.
        let mut order: Vec<_> = records.iter().collect();
        for _ in 0..3 {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let s = apply_trimmed(&order, k);
            assert_eq!(s, canonical, "seed {seed}: order changed the trimmed state");
            assert_eq!(encode_row_state(&s), encode_row_state(&canonical));
        }

        // Two regions holding halves, merged as whole rows, agree too.
        let cut = rng.below(n + 1) as usize;
        let left = apply_trimmed(&order[..cut], k);
        let right = apply_trimmed(&order[cut..], k);
        let mut merged = left.clone();
        merged.merge(&right);
        merged.trim(k);
        assert_eq!(
            merged, canonical,
            "seed {seed}: merge changed the trimmed state"
        );

        // Reads and digests see the same versions as without trimming.
        assert_eq!(visible(&canonical, k), visible(&full, k), "seed {seed}");
        let mut a = Table::new(schema(k));
        let mut b = Table::new(schema(k));
        for (stamp, kind, ops) in &records {
            a.apply(&key, *stamp, *kind, ops).unwrap();
        }
        if !full.is_empty() {
            b.insert_encoded(&key, &encode_row_state(&full)).unwrap();
        }
        // The table's write path (which skips decoding the old state for a
        // whole-row put newer than it) stores the canonical bytes.
        if !canonical.is_empty() {
            assert_eq!(
                a.stored(&key).unwrap().state,
                &encode_row_state(&canonical)[..],
                "seed {seed}: the table stored another state"
            );
        }
        assert_eq!(
            a.digest(),
            b.digest(),
            "seed {seed}: trimming changed the digest"
        );
        assert_eq!(a.rescan().unwrap(), b.rescan().unwrap(), "seed {seed}");
    }
    assert!(
        trimmed_something > 100,
        "only {trimmed_something} cases trimmed"
    );
}

#[test]
fn a_deleted_version_keeps_its_place() {
    // max_versions = 1: v@2 hides v@1; deleting v@2 does not bring v@1
    // back (it was trimmed, and an untrimmed region must agree).
    let clock = ManualClock::new(T0);
    let mut db = Database::memory(options(&clock)).unwrap();
    db.create_table(schema(1)).unwrap();
    let pk = PrimaryKey::new([("id", 1i64)]);
    for ts in [1, 2] {
        clock.advance(1);
        db.update_row(
            "t",
            pk.clone(),
            RowUpdate::new().put(Column::new("v", ts).at(ts)),
            Condition::ignore(),
        )
        .unwrap();
    }
    clock.advance(1);
    db.update_row(
        "t",
        pk.clone(),
        RowUpdate::new().delete("v", 2),
        Condition::ignore(),
    )
    .unwrap();
    let row = db
        .get_row("t", &pk, &GetOptions::default())
        .unwrap()
        .unwrap();
    assert!(row.cells.is_empty(), "{:?}", row.cells);
    // A newer version shows again.
    clock.advance(1);
    db.update_row(
        "t",
        pk.clone(),
        RowUpdate::new().put(Column::new("v", 3i64).at(3)),
        Condition::ignore(),
    )
    .unwrap();
    let row = db
        .get_row("t", &pk, &GetOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(row.cells.len(), 1);
    assert_eq!(row.cells[0].timestamp, 3);
}
