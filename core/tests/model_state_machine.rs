//! A proptest state machine: random writes, reads, batches, copies and
//! snapshot reopen points against a `BTreeMap` reference model of
//! Tablestore's row semantics. After every step the whole table must read
//! exactly as the model says and its maintained digest must verify.

use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;
use tablesync::{
    Cell, Column, ColumnCondition, CompareOp, Condition, Database, DatabaseOptions, Direction,
    GetOptions, ManualClock, PkBound, PkColumn, PkType, PkValue, PrimaryKey, RangeBound,
    RangeOptions, Row, RowExistence, RowUpdate, TableOptions, TableSchema, Value, WriteOp,
};

const T0: i64 = 1_700_000_000_000;
const TABLE: &str = "t";
const MAX_VERSIONS: u32 = 3;
const COLS: [&str; 3] = ["a", "b", "c"];
const KEY_STRS: [&str; 3] = ["", "a", "b\0"];

// ---- the reference model ----------------------------------------------------

type Key = (i64, String);
/// column → (timestamp → value, `None` for a deleted version); reads show
/// the values among the newest 3 versions (a deleted version takes a place).
type ModelRow = BTreeMap<String, BTreeMap<i64, Option<Value>>>;

#[derive(Clone, Debug, Default)]
struct Model {
    rows: BTreeMap<Key, ModelRow>,
}

fn visible(row: &ModelRow, col: &str) -> Vec<(i64, Value)> {
    row.get(col)
        .map(|vs| {
            vs.iter()
                .rev()
                .take(MAX_VERSIONS as usize)
                .filter_map(|(t, v)| v.clone().map(|v| (*t, v)))
                .collect()
        })
        .unwrap_or_default()
}

fn compare(op: CompareOp, l: &Value, r: &Value) -> bool {
    match l.compare(r) {
        None => op == CompareOp::NotEqual,
        Some(o) => match op {
            CompareOp::Equal => o == Ordering::Equal,
            CompareOp::NotEqual => o != Ordering::Equal,
            CompareOp::Greater => o == Ordering::Greater,
            CompareOp::GreaterEqual => o != Ordering::Less,
            CompareOp::Less => o == Ordering::Less,
            CompareOp::LessEqual => o != Ordering::Greater,
        },
    }
}

fn eval(c: &ColumnCondition, row: Option<&ModelRow>) -> bool {
    match c {
        ColumnCondition::Single {
            column,
            op,
            value,
            pass_if_missing,
            latest_version_only,
        } => {
            let vs = row.map(|r| visible(r, column)).unwrap_or_default();
            if vs.is_empty() {
                *pass_if_missing
            } else if *latest_version_only {
                compare(*op, &vs[0].1, value)
            } else {
                vs.iter().any(|(_, v)| compare(*op, v, value))
            }
        }
        ColumnCondition::And(v) => v.iter().all(|x| eval(x, row)),
        ColumnCondition::Or(v) => v.iter().any(|x| eval(x, row)),
        ColumnCondition::Not(x) => !eval(x, row),
    }
}

impl Model {
    fn check(&self, key: &Key, cond: &Condition) -> Result<(), &'static str> {
        let row = self.rows.get(key);
        match cond.row_existence {
            RowExistence::ExpectExist if row.is_none() => return Err("OTSConditionCheckFail"),
            RowExistence::ExpectNotExist if row.is_some() => return Err("OTSConditionCheckFail"),
            _ => {}
        }
        if let Some(c) = &cond.column_condition {
            if !eval(c, row) {
                return Err("OTSConditionCheckFail");
            }
        }
        Ok(())
    }

    /// What `put_row` does: `Ok(new row)` or the error code.
    fn put(&self, w: &PutW, now: i64) -> Result<ModelRow, &'static str> {
        let mut row = ModelRow::new();
        for (c, v, ts) in &w.cols {
            let ts = ts.unwrap_or(now);
            let e = row.entry(c.to_string()).or_default();
            if e.insert(ts, Some(v.clone())).is_some() {
                return Err("OTSParameterInvalid");
            }
        }
        self.check(&w.key, &w.cond)?;
        Ok(row)
    }

    /// What `update_row` does: `Ok(Some(new row))`, `Ok(None)` when it only
    /// deletes columns of a missing row (which stays missing), or the error code.
    fn update(&self, w: &UpdateW, now: i64) -> Result<Option<ModelRow>, &'static str> {
        self.check(&w.key, &w.cond)?;
        if w.put.is_empty() && w.incr.is_empty() && w.del.is_empty() && w.del_all.is_empty() {
            return Err("OTSParameterInvalid");
        }
        let current = self.rows.get(&w.key);
        if current.is_none() && w.put.is_empty() && w.incr.is_empty() {
            return Ok(None);
        }
        let mut written = std::collections::BTreeSet::new();
        let mut puts = Vec::new();
        for (c, v, ts) in &w.put {
            let ts = ts.unwrap_or(now);
            if !written.insert((c.to_string(), ts)) {
                return Err("OTSParameterInvalid");
            }
            puts.push((c.to_string(), ts, v.clone()));
        }
        for (c, by) in &w.incr {
            let base = match current.map(|r| visible(r, c)).unwrap_or_default().first() {
                None => 0,
                Some((_, Value::Integer(i))) => *i,
                Some(_) => return Err("OTSParameterInvalid"),
            };
            if !written.insert((c.to_string(), now)) {
                return Err("OTSParameterInvalid");
            }
            puts.push((c.to_string(), now, Value::Integer(base + by)));
        }
        // Deletes act on the row as it was; versions the same update writes
        // win. A deleted version stays as a tombstone that takes one of the
        // newest places (FORMAT.md §5.1); delete-all clears older ones only.
        let mut row = current.cloned().unwrap_or_default();
        for c in &w.del_all {
            row.remove(*c);
        }
        for (c, ts) in &w.del {
            // Deleting a version the row does not hold is not recorded.
            let held = current
                .and_then(|r| r.get(*c))
                .and_then(|vs| vs.get(ts))
                .is_some_and(Option::is_some);
            if held {
                row.entry(c.to_string()).or_default().insert(*ts, None);
            }
        }
        for (c, ts, v) in puts {
            row.entry(c).or_default().insert(ts, Some(v));
        }
        row.retain(|_, vs| !vs.is_empty());
        Ok(Some(row))
    }

    fn delete(&self, w: &DeleteW) -> Result<(), &'static str> {
        self.check(&w.key, &w.cond)
    }

    /// The row a read returns.
    fn read(&self, key: &Key, o: &GetOptions) -> Option<Row> {
        let row = self.rows.get(key)?;
        if let Some(f) = &o.filter {
            if !eval(f, Some(row)) {
                return None;
            }
        }
        let mut cells = Vec::new();
        for c in row.keys() {
            if let Some(cols) = &o.columns {
                if !cols.contains(c) {
                    continue;
                }
            }
            for (ts, v) in visible(row, c).into_iter().take(o.max_versions as usize) {
                cells.push(Cell {
                    name: c.clone(),
                    value: v,
                    timestamp: ts,
                });
            }
        }
        Some(Row {
            primary_key: pk(key),
            cells,
        })
    }
}

// ---- operations ---------------------------------------------------------------

#[derive(Clone, Debug)]
struct PutW {
    key: Key,
    cols: Vec<(&'static str, Value, Option<i64>)>,
    cond: Condition,
}

#[derive(Clone, Debug)]
struct UpdateW {
    key: Key,
    put: Vec<(&'static str, Value, Option<i64>)>,
    incr: Vec<(&'static str, i64)>,
    del: Vec<(&'static str, i64)>,
    del_all: Vec<&'static str>,
    cond: Condition,
}

#[derive(Clone, Debug)]
struct DeleteW {
    key: Key,
    cond: Condition,
}

#[derive(Clone, Debug)]
enum Write {
    Put(PutW),
    Update(UpdateW),
    Delete(DeleteW),
}

impl Write {
    fn key(&self) -> &Key {
        match self {
            Write::Put(w) => &w.key,
            Write::Update(w) => &w.key,
            Write::Delete(w) => &w.key,
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Write(Write),
    Get {
        key: Key,
        options: GetOptions,
    },
    Range {
        start: Vec<PkBound>,
        end: Vec<PkBound>,
        backward: bool,
        limit: Option<usize>,
        options: GetOptions,
    },
    Batch(Vec<Write>),
    Copy,
    Advance(i64),
    Reopen,
    /// An explicit checkpoint (a delta on the last one when the storage
    /// allows; a no-op in memory).
    Checkpoint,
    /// Purge rows: forgotten, no tombstone (row pages merge).
    Purge(Vec<Key>),
}

fn pk(key: &Key) -> PrimaryKey {
    PrimaryKey(vec![
        ("k".into(), PkValue::Integer(key.0)),
        ("s".into(), PkValue::String(key.1.clone())),
    ])
}

fn key_s() -> impl Strategy<Value = Key> {
    (0i64..6, 0usize..3).prop_map(|(k, s)| (k, KEY_STRS[s].to_string()))
}

fn col_s() -> impl Strategy<Value = &'static str> {
    (0usize..3).prop_map(|i| COLS[i])
}

fn value_s() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-3i64..4).prop_map(Value::Integer),
        1 => prop_oneof![Just("x"), Just("y")].prop_map(Value::from),
        1 => Just(Value::Binary(vec![0, 1])),
        // Large enough that a few rows fill a row page (8 KiB): pages split,
        // shrink on deletes and merge on purges.
        1 => (1500usize..5000, any::<u8>()).prop_map(|(n, b)| Value::Binary(vec![b; n])),
    ]
}

fn ts_s() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![2 => Just(None), 3 => (1i64..7).prop_map(Some)]
}

fn single_s() -> impl Strategy<Value = ColumnCondition> {
    (col_s(), 0usize..6, value_s(), any::<bool>(), any::<bool>()).prop_map(
        |(c, op, value, pass_if_missing, latest_version_only)| ColumnCondition::Single {
            column: c.to_string(),
            op: [
                CompareOp::Equal,
                CompareOp::NotEqual,
                CompareOp::Greater,
                CompareOp::GreaterEqual,
                CompareOp::Less,
                CompareOp::LessEqual,
            ][op],
            value,
            pass_if_missing,
            latest_version_only,
        },
    )
}

fn column_condition_s() -> impl Strategy<Value = ColumnCondition> {
    single_s().prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(ColumnCondition::And),
            prop::collection::vec(inner.clone(), 1..3).prop_map(ColumnCondition::Or),
            inner.prop_map(|c| ColumnCondition::Not(Box::new(c))),
        ]
    })
}

fn condition_s() -> impl Strategy<Value = Condition> {
    (
        prop_oneof![
            3 => Just(RowExistence::Ignore),
            1 => Just(RowExistence::ExpectExist),
            1 => Just(RowExistence::ExpectNotExist)
        ],
        prop::option::weighted(0.3, column_condition_s()),
    )
        .prop_map(|(row_existence, column_condition)| Condition {
            row_existence,
            column_condition,
        })
}

fn cols_s(max: usize) -> impl Strategy<Value = Vec<(&'static str, Value, Option<i64>)>> {
    prop::collection::vec((col_s(), value_s(), ts_s()), 0..max)
}

fn write_s() -> impl Strategy<Value = Write> {
    prop_oneof![
        3 => (key_s(), cols_s(4), condition_s())
            .prop_map(|(key, cols, cond)| Write::Put(PutW { key, cols, cond })),
        4 => (
            key_s(),
            cols_s(3),
            prop::collection::vec((col_s(), -2i64..3), 0..2),
            prop::collection::vec((col_s(), 1i64..7), 0..2),
            prop::collection::vec(col_s(), 0..2),
            condition_s(),
        )
            .prop_map(|(key, put, incr, del, del_all, cond)| {
                Write::Update(UpdateW { key, put, incr, del, del_all, cond })
            }),
        1 => (key_s(), condition_s()).prop_map(|(key, cond)| Write::Delete(DeleteW { key, cond })),
    ]
}

fn get_options_s() -> impl Strategy<Value = GetOptions> {
    (
        1u32..5,
        prop::option::weighted(0.3, prop::collection::vec(col_s(), 0..3)),
        prop::option::weighted(0.25, column_condition_s()),
    )
        .prop_map(|(max_versions, columns, filter)| GetOptions {
            columns: columns.map(|v| v.into_iter().map(String::from).collect()),
            max_versions,
            time_range: None,
            filter,
        })
}

fn bound_part_s() -> impl Strategy<Value = (PkBound, PkBound)> {
    prop_oneof![
        1 => Just((PkBound::InfMin, PkBound::InfMin)),
        1 => Just((PkBound::InfMax, PkBound::InfMax)),
        4 => key_s().prop_map(|(k, s)| (PkBound::Value(k.into()), PkBound::Value(s.into()))),
        1 => (0i64..6).prop_map(|k| (PkBound::Value(k.into()), PkBound::InfMin)),
        1 => (0i64..6).prop_map(|k| (PkBound::Value(k.into()), PkBound::InfMax)),
    ]
}

fn op_s() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => write_s().prop_map(Op::Write),
        3 => (key_s(), get_options_s()).prop_map(|(key, options)| Op::Get { key, options }),
        3 => (bound_part_s(), bound_part_s(), any::<bool>(), prop::option::of(1usize..5), get_options_s())
            .prop_map(|(s, e, backward, limit, options)| Op::Range {
                start: vec![s.0, s.1],
                end: vec![e.0, e.1],
                backward,
                limit,
                options,
            }),
        2 => prop::collection::vec(write_s(), 1..5).prop_map(Op::Batch),
        1 => Just(Op::Copy),
        2 => (0i64..3).prop_map(Op::Advance),
        1 => Just(Op::Reopen),
        1 => Just(Op::Checkpoint),
        1 => prop::collection::vec(key_s(), 1..6).prop_map(Op::Purge),
    ]
}

// ---- the system under test ------------------------------------------------------

fn schema() -> TableSchema {
    TableSchema::new(
        TABLE,
        vec![
            PkColumn::new("k", PkType::Integer),
            PkColumn::new("s", PkType::String),
        ],
    )
    .with_options(TableOptions {
        max_versions: MAX_VERSIONS,
        time_to_live: -1,
    })
}

fn to_columns(cols: &[(&'static str, Value, Option<i64>)]) -> Vec<Column> {
    cols.iter()
        .map(|(c, v, ts)| Column {
            name: c.to_string(),
            value: v.clone(),
            timestamp: *ts,
        })
        .collect()
}

fn to_write_op(w: &Write) -> WriteOp {
    match w {
        Write::Put(w) => WriteOp::Put {
            table: TABLE.into(),
            primary_key: pk(&w.key),
            columns: to_columns(&w.cols),
            condition: w.cond.clone(),
        },
        Write::Update(w) => WriteOp::Update {
            table: TABLE.into(),
            primary_key: pk(&w.key),
            update: RowUpdate {
                put: to_columns(&w.put),
                delete: w.del.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
                delete_all: w.del_all.iter().map(|c| c.to_string()).collect(),
                increment: w.incr.iter().map(|(c, b)| (c.to_string(), *b)).collect(),
            },
            condition: w.cond.clone(),
        },
        Write::Delete(w) => WriteOp::Delete {
            table: TABLE.into(),
            primary_key: pk(&w.key),
            condition: w.cond.clone(),
        },
    }
}

fn run_write(db: &mut Database, w: &Write) -> Result<(), String> {
    let r = db.write(to_write_op(w)).map(|_| ());
    r.map_err(|e| e.code().to_string())
}

/// The model's effect of one write: `Ok(Some(row))` to store, `Ok(None)` to delete.
fn model_write(m: &Model, w: &Write, now: i64) -> Result<Option<ModelRow>, &'static str> {
    match w {
        Write::Put(w) => m.put(w, now).map(Some),
        Write::Update(w) => m.update(w, now),
        Write::Delete(w) => m.delete(w).map(|_| None),
    }
}

fn commit(m: &mut Model, key: &Key, r: Option<ModelRow>) {
    match r {
        Some(row) => {
            m.rows.insert(key.clone(), row);
        }
        None => {
            m.rows.remove(key);
        }
    }
}

/// A reopen point: the database is replaced by one restored from its
/// snapshot. The durable-storage tests add a close/`Database::open` variant
/// of this hook.
fn reopen_point(db: Database, clock: &ManualClock) -> Database {
    let snap = db.export_snapshot().expect("export_snapshot");
    let back = Database::import_snapshot(&snap, Arc::new(clock.clone())).expect("import_snapshot");
    assert_eq!(
        back.export_snapshot().expect("re-export"),
        snap,
        "snapshot round trip is byte-exact"
    );
    back
}

fn all_bound(b: PkBound) -> RangeBound {
    RangeBound::new([("k", b.clone()), ("s", b)])
}

fn bound(parts: &[PkBound]) -> RangeBound {
    RangeBound::new([("k", parts[0].clone()), ("s", parts[1].clone())])
}

fn part_value(p: &PkBound) -> (u8, Option<&PkValue>) {
    match p {
        PkBound::InfMin => (0, None),
        PkBound::Value(v) => (1, Some(v)),
        PkBound::InfMax => (2, None),
    }
}

/// Order of two bounds as their encodings order (an infinite part ends the comparison).
fn cmp_bounds(a: &[PkBound], b: &[PkBound]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let (rx, vx) = part_value(x);
        let (ry, vy) = part_value(y);
        match rx.cmp(&ry).then_with(|| vx.cmp(&vy)) {
            Ordering::Equal if rx != 1 => return Ordering::Equal,
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

fn cmp_key_bound(key: &Key, b: &[PkBound]) -> Ordering {
    let parts = [PkValue::Integer(key.0), PkValue::String(key.1.clone())];
    for (v, p) in parts.iter().zip(b) {
        match p {
            PkBound::InfMin => return Ordering::Greater,
            PkBound::InfMax => return Ordering::Less,
            PkBound::Value(x) => match v.cmp(x) {
                Ordering::Equal => continue,
                o => return o,
            },
        }
    }
    Ordering::Equal
}

fn check_whole_table(db: &Database, m: &Model) -> Result<(), TestCaseError> {
    let opts = RangeOptions {
        read: GetOptions {
            max_versions: MAX_VERSIONS,
            ..GetOptions::default()
        },
        ..RangeOptions::default()
    };
    let rows: Vec<Row> = db
        .scan(
            TABLE,
            all_bound(PkBound::InfMin),
            all_bound(PkBound::InfMax),
            opts,
        )
        .collect::<Result<_, _>>()
        .map_err(|e| TestCaseError::fail(format!("scan: {e}")))?;
    let want: Vec<Row> = m
        .rows
        .keys()
        .filter_map(|k| {
            m.read(
                k,
                &GetOptions {
                    max_versions: MAX_VERSIONS,
                    ..GetOptions::default()
                },
            )
        })
        .collect();
    prop_assert_eq!(rows, want);
    prop_assert_eq!(
        db.describe_table(TABLE).unwrap().row_count,
        m.rows.len() as u64
    );
    let verified = db
        .verify_table_digest(TABLE)
        .map_err(|e| TestCaseError::fail(format!("verify_table_digest: {e}")))?;
    prop_assert_eq!(verified, db.table_digest(TABLE).unwrap());
    Ok(())
}

/// A durable reopen point: the database is dropped without `close` (as a
/// killed process leaves it: every append already reached the OS) and the
/// directory is opened again, replaying its checkpoint and log.
fn durable_reopen_point(
    db: Database,
    dir: &std::path::Path,
    clock: &ManualClock,
    cache: Option<u64>,
) -> Database {
    let digest = db.table_digest(TABLE).unwrap();
    let snap = db.export_snapshot().unwrap();
    drop(db);
    let back = Database::open(dir, durable_options(clock, cache)).expect("reopen after crash");
    assert_eq!(back.is_paged(), cache.is_some());
    assert_eq!(back.table_digest(TABLE).unwrap(), digest);
    assert_eq!(
        back.export_snapshot().unwrap(),
        snap,
        "recovery restores the region byte for byte"
    );
    back
}

/// Durable options; `cache`: rows in a page store behind a cache of that
/// many bytes (a paged region).
fn durable_options(clock: &ManualClock, cache: Option<u64>) -> DatabaseOptions {
    let o = DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))
        .sync(tablesync::SyncPolicy::Never)
        .checkpoint_bytes(2048);
    match cache {
        Some(c) => o.cache_bytes(c),
        None => o.rows_in_memory(),
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    run_in(ops, None, None)
}

fn run_in(
    ops: Vec<Op>,
    dir: Option<&std::path::Path>,
    cache: Option<u64>,
) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(T0);
    let mut db = match dir {
        None => {
            Database::memory(DatabaseOptions::with_clock("eu", Arc::new(clock.clone()))).unwrap()
        }
        Some(d) => Database::open(d, durable_options(&clock, cache)).unwrap(),
    };
    db.create_table(schema()).unwrap();
    let mut m = Model::default();
    let mut copies = 0;
    for op in ops {
        let now = clock.now_ms_value();
        match &op {
            Op::Write(w) => {
                let want = model_write(&m, w, now);
                let got = run_write(&mut db, w);
                match want {
                    Ok(r) => {
                        prop_assert_eq!(got, Ok(()), "{:?}", w);
                        commit(&mut m, w.key(), r);
                    }
                    Err(code) => {
                        let before = db.table_digest(TABLE).unwrap();
                        prop_assert_eq!(got, Err(code.to_string()), "{:?}", w);
                        prop_assert_eq!(db.table_digest(TABLE).unwrap(), before);
                    }
                }
            }
            Op::Get { key, options } => {
                let got = db.get_row(TABLE, &pk(key), options).unwrap();
                prop_assert_eq!(got, m.read(key, options), "get {:?} {:?}", key, options);
            }
            Op::Range {
                start,
                end,
                backward,
                limit,
                options,
            } => {
                let order = cmp_bounds(start, end);
                let valid = if *backward {
                    order == Ordering::Greater
                } else {
                    order == Ordering::Less
                };
                let ropts = RangeOptions {
                    direction: if *backward {
                        Direction::Backward
                    } else {
                        Direction::Forward
                    },
                    limit: *limit,
                    read: options.clone(),
                };
                let first = db.get_range(TABLE, &bound(start), &bound(end), &ropts);
                if !valid {
                    prop_assert_eq!(first.map_err(|e| e.code()), Err("OTSParameterInvalid"));
                    continue;
                }
                let mut want: Vec<Row> = m
                    .rows
                    .keys()
                    .filter(|k| {
                        if *backward {
                            cmp_key_bound(k, start) != Ordering::Greater
                                && cmp_key_bound(k, end) == Ordering::Greater
                        } else {
                            cmp_key_bound(k, start) != Ordering::Less
                                && cmp_key_bound(k, end) == Ordering::Less
                        }
                    })
                    .filter_map(|k| m.read(k, options))
                    .collect();
                if *backward {
                    want.reverse();
                }
                let mut page = first.unwrap();
                let mut got = Vec::new();
                let mut first_page = true;
                loop {
                    let lim = limit.unwrap_or(usize::MAX);
                    prop_assert!(page.rows.len() <= lim);
                    if first_page {
                        let n = want.len().min(lim);
                        prop_assert_eq!(&page.rows[..], &want[..n], "first page");
                        first_page = false;
                    }
                    got.extend(page.rows);
                    match page.next_start {
                        None => break,
                        Some(next) => {
                            page = db.get_range(TABLE, &next, &bound(end), &ropts).unwrap();
                        }
                    }
                }
                prop_assert_eq!(got, want, "paged range");
            }
            Op::Batch(ws) => {
                let mut keys = std::collections::BTreeSet::new();
                let dup = !ws.iter().all(|w| keys.insert(w.key().clone()));
                let got = db.batch_write(ws.iter().map(to_write_op).collect());
                if dup {
                    let before = db.table_digest(TABLE).unwrap();
                    prop_assert_eq!(
                        got.map(|_| ()).map_err(|e| e.code()),
                        Err("OTSParameterInvalid")
                    );
                    prop_assert_eq!(db.table_digest(TABLE).unwrap(), before);
                    continue;
                }
                let results = got.unwrap();
                let want: Vec<_> = ws.iter().map(|w| model_write(&m, w, now)).collect();
                for ((w, r), g) in ws.iter().zip(want).zip(results) {
                    match r {
                        Ok(row) => {
                            prop_assert!(g.is_ok(), "{:?}: {:?}", w, g);
                            commit(&mut m, w.key(), row);
                        }
                        Err(code) => {
                            prop_assert_eq!(g.map(|_| ()).map_err(|e| e.code()), Err(code))
                        }
                    }
                }
            }
            Op::Copy => {
                copies += 1;
                let target = format!("copy_{copies}");
                let mut calls = Vec::new();
                let n = db
                    .copy_table(TABLE, &target, &mut |p| {
                        calls.push(p);
                        std::ops::ControlFlow::Continue(())
                    })
                    .unwrap();
                prop_assert_eq!(n, m.rows.len() as u64);
                prop_assert_eq!(calls.last().map(|p| (p.copied, p.total)), Some((n, n)));
                prop_assert_eq!(
                    db.table_digest(&target).unwrap(),
                    db.table_digest(TABLE).unwrap()
                );
                let copied: Vec<Row> = db
                    .scan(
                        &target,
                        all_bound(PkBound::InfMin),
                        all_bound(PkBound::InfMax),
                        RangeOptions {
                            read: GetOptions {
                                max_versions: MAX_VERSIONS,
                                ..GetOptions::default()
                            },
                            ..RangeOptions::default()
                        },
                    )
                    .collect::<Result<_, _>>()
                    .unwrap();
                let source: Vec<Row> = m
                    .rows
                    .keys()
                    .filter_map(|k| {
                        m.read(
                            k,
                            &GetOptions {
                                max_versions: MAX_VERSIONS,
                                ..GetOptions::default()
                            },
                        )
                    })
                    .collect();
                prop_assert_eq!(copied, source);
                db.delete_table(&target).unwrap();
            }
            Op::Advance(ms) => clock.advance(*ms),
            Op::Checkpoint => db.checkpoint().unwrap(),
            Op::Purge(keys) => {
                let pks: Vec<PrimaryKey> = keys.iter().map(pk).collect();
                db.purge_rows(TABLE, &pks).unwrap();
                for k in keys {
                    m.rows.remove(k);
                }
            }
            Op::Reopen => {
                db = match dir {
                    None => reopen_point(db, &clock),
                    Some(d) => durable_reopen_point(db, d, &clock, cache),
                }
            }
        }
        check_whole_table(&db, &m)?;
    }
    Ok(())
}

trait NowValue {
    fn now_ms_value(&self) -> i64;
}
impl NowValue for ManualClock {
    fn now_ms_value(&self) -> i64 {
        tablesync::Clock::now_ms(self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn database_matches_the_reference_model(ops in prop::collection::vec(op_s(), 1..48)) {
        run(ops)?;
    }

    /// The same against a durable directory, with small checkpoints and
    /// reopen-after-crash points.
    #[test]
    fn durable_database_matches_the_reference_model(ops in prop::collection::vec(op_s(), 1..48)) {
        let dir = tempfile::tempdir().unwrap();
        run_in(ops, Some(dir.path()), None)?;
    }

    /// The same against a paged region (rows in its page store) whose
    /// cache holds about one page: every checkpoint evicts, reads fault
    /// pages back in, reopen points start with nothing resident.
    #[test]
    fn paged_database_matches_the_reference_model(ops in prop::collection::vec(op_s(), 1..48)) {
        let dir = tempfile::tempdir().unwrap();
        run_in(ops, Some(dir.path()), Some(4096))?;
    }
}
