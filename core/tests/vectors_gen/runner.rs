//! Replaying an operation script (`digests.json` cases, `snapshot.json`)
//! through the public API, and describing the resulting tables as JSON.

use super::json::*;
use serde_json::{json, Value as J};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use tablesync::codec::buf::put_varint;
use tablesync::codec::key::encode_key;
use tablesync::codec::value::put_value;
use tablesync::{
    Column, Database, DatabaseOptions, GetOptions, ManualClock, PkBound, RangeBound, RangeOptions,
    RowUpdate, TableOptions, TableSchema, WriteOp,
};

/// A database with a manual clock set to `clock_ms`.
pub fn open(region: &str, clock_ms: i64) -> (Database, ManualClock) {
    let clock = ManualClock::new(clock_ms);
    let db = Database::memory(DatabaseOptions::with_clock(region, Arc::new(clock.clone())))
        .expect("memory database");
    (db, clock)
}

fn columns_from_json(j: Option<&J>) -> Vec<Column> {
    j.map(|v| {
        arr(v)
            .iter()
            .map(|c| Column {
                name: s(&c[0]).to_string(),
                value: value_from_json(&c[1]),
                timestamp: c.get(2).filter(|t| !t.is_null()).map(int_str),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn update_from_json(op: &J) -> RowUpdate {
    let mut u = RowUpdate::new();
    u.put = columns_from_json(op.get("put"));
    if let Some(d) = op.get("delete") {
        u.delete = arr(d)
            .iter()
            .map(|x| (s(&x[0]).to_string(), int_str(&x[1])))
            .collect();
    }
    if let Some(d) = op.get("delete_all") {
        u.delete_all = arr(d).iter().map(|x| s(x).to_string()).collect();
    }
    if let Some(d) = op.get("increment") {
        u.increment = arr(d)
            .iter()
            .map(|x| (s(&x[0]).to_string(), int_str(&x[1])))
            .collect();
    }
    u
}

fn write_op_from_json(op: &J) -> WriteOp {
    let table = s(&op["table"]).to_string();
    let primary_key = pk_from_json(&op["primary_key"]);
    let condition = condition_from_json(op.get("condition"));
    match s(&op["op"]) {
        "put_row" => WriteOp::Put {
            table,
            primary_key,
            columns: columns_from_json(op.get("columns")),
            condition,
        },
        "update_row" => WriteOp::Update {
            table,
            primary_key,
            update: update_from_json(op),
            condition,
        },
        "delete_row" => WriteOp::Delete {
            table,
            primary_key,
            condition,
        },
        o => panic!("unknown batch operation {o}"),
    }
}

/// Run one operation; `Err` carries the error code.
pub fn apply_op(db: &mut Database, op: &J) -> Result<(), String> {
    let code = |e: tablesync::Error| e.code().to_string();
    match s(&op["op"]) {
        "create_table" => db
            .create_table(schema_from_json(&op["schema"]))
            .map_err(code),
        "update_table" => db
            .update_table(
                s(&op["table"]),
                TableOptions {
                    max_versions: op["max_versions"].as_u64().expect("max_versions") as u32,
                    time_to_live: op["time_to_live"].as_i64().expect("time_to_live"),
                },
            )
            .map_err(code),
        "put_row" | "update_row" | "delete_row" => {
            let r = db.write(write_op_from_json(op)).map(|_| ());
            r.map_err(code)
        }
        "batch_write" => {
            let ops = arr(&op["ops"]).iter().map(write_op_from_json).collect();
            let results = db.batch_write(ops).map_err(code)?;
            let got: Vec<J> = results
                .iter()
                .map(|r| match r {
                    Ok(_) => J::Null,
                    Err(e) => J::String(e.code().to_string()),
                })
                .collect();
            let want = arr(&op["expect_results"]);
            assert_eq!(&got, want, "batch_write per-operation results");
            Ok(())
        }
        "apply_changes" => {
            let recs: Vec<_> = arr(&op["records"]).iter().map(record_from_json).collect();
            db.apply_changes(&recs).map(|_| ()).map_err(code)
        }
        o => panic!("unknown operation {o}"),
    }
}

/// Run a script of operations, checking each `expect_error`.
pub fn run_ops(db: &mut Database, clock: &ManualClock, ops: &[J], what: &str) {
    for (i, op) in ops.iter().enumerate() {
        if let Some(now) = op.get("now") {
            clock.set(int_str(now));
        }
        let r = apply_op(db, op);
        let want = op.get("expect_error").and_then(|x| x.as_str());
        match (&r, want) {
            (Ok(()), None) => {}
            (Err(got), Some(w)) if got == w => {}
            _ => panic!("{what}: operation {i} ({op}) gave {r:?}, expected {want:?}"),
        }
    }
}

/// The bytes a row digest hashes, built from the row as reads return it
/// (FORMAT.md §"Row digest"): this is an independent construction of the spec.
pub fn row_digest_input(schema: &TableSchema, row: &tablesync::Row) -> Vec<u8> {
    let key = encode_key(schema, &row.primary_key).expect("key");
    let mut b = b"tablesync.row.v1".to_vec();
    put_varint(&mut b, key.len() as u64);
    b.extend_from_slice(&key);
    let mut i = 0;
    while i < row.cells.len() {
        let name = &row.cells[i].name;
        let n = row.cells[i..]
            .iter()
            .take_while(|c| &c.name == name)
            .count();
        put_varint(&mut b, name.len() as u64);
        b.extend_from_slice(name.as_bytes());
        put_varint(&mut b, n as u64);
        for c in &row.cells[i..i + n] {
            b.extend_from_slice(&c.timestamp.to_le_bytes());
            put_value(&mut b, &c.value);
        }
        i += n;
    }
    b
}

/// SHA-256("tablesync.table.v1" ‖ count u64 LE ‖ Σ row digests mod 2^256, LE).
pub fn table_digest_of(row_digests: &[[u8; 32]]) -> [u8; 32] {
    let mut sum = [0u8; 32];
    for d in row_digests {
        let mut carry = 0u16;
        for i in 0..32 {
            let t = sum[i] as u16 + d[i] as u16 + carry;
            sum[i] = t as u8;
            carry = t >> 8;
        }
    }
    let mut h = Sha256::new();
    h.update(b"tablesync.table.v1");
    h.update((row_digests.len() as u64).to_le_bytes());
    h.update(sum);
    h.finalize().into()
}

fn full_bound(schema: &TableSchema, b: PkBound) -> RangeBound {
    RangeBound(
        schema
            .primary_key
            .iter()
            .map(|c| (c.name.clone(), b.clone()))
            .collect(),
    )
}

/// Every table of `db` as JSON: digest, row count, and per row its key,
/// cells (all versions the digest covers), digest input and digest.
/// Asserts that the spec construction reproduces the maintained digest.
pub fn describe_tables(db: &Database) -> J {
    let mut out = Vec::new();
    for name in db.list_tables().expect("tables") {
        let schema = db.describe_table(&name).expect("describe").schema;
        let opts = RangeOptions {
            read: GetOptions {
                max_versions: schema.options.max_versions,
                ..GetOptions::default()
            },
            ..RangeOptions::default()
        };
        let rows: Vec<_> = db
            .scan(
                &name,
                full_bound(&schema, PkBound::InfMin),
                full_bound(&schema, PkBound::InfMax),
                opts,
            )
            .collect::<Result<_, _>>()
            .expect("scan");
        let mut digests = Vec::new();
        let mut rows_json = Vec::new();
        for row in &rows {
            let input = row_digest_input(&schema, row);
            let d: [u8; 32] = Sha256::digest(&input).into();
            digests.push(d);
            let cells: Vec<J> = row
                .cells
                .iter()
                .map(|c| json!([c.name, value_json(&c.value), c.timestamp.to_string()]))
                .collect();
            rows_json.push(json!({
                "primary_key": pk_json(&row.primary_key),
                "cells": cells,
                "digest_input": hex(&input),
                "digest": hex(&d),
            }));
        }
        let digest = db.table_digest(&name).expect("digest");
        assert_eq!(
            hex(&table_digest_of(&digests)),
            digest.to_hex(),
            "table '{name}': spec construction disagrees with the maintained digest"
        );
        assert_eq!(db.verify_table_digest(&name).expect("verify"), digest);
        out.push(json!({
            "name": name,
            "row_count": rows.len(),
            "digest": digest.to_hex(),
            "rows": rows_json,
        }));
    }
    J::Array(out)
}
