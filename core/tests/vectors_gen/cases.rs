//! The content of each vector file.

use super::json::*;
use super::runner::{describe_tables, open, run_ops};
use serde_json::{json, Value as J};
use std::sync::Arc;
use tablesync::codec::buf::{put_bytes, put_varint};
use tablesync::codec::frame::{
    decode_frame_version, encode_frame, encode_frame_version, MAGIC_SNAPSHOT, MAGIC_WAL,
    SNAPSHOT_VERSION,
};
use tablesync::codec::key::{encode_bound, encode_key};
use tablesync::codec::record::encode_record;
use tablesync::codec::row_state::encode_row_state;
use tablesync::codec::schema::put_schema;
use tablesync::codec::value::put_value;
use tablesync::engine::row_state::RowState;
use tablesync::log::hlc::{region_id, Hlc};
use tablesync::storage::WalEntry;
use tablesync::{
    ChangeKind, ChangeRecord, ColumnOp, Database, ManualClock, PkBound, PkColumn, PkType, PkValue,
    PrimaryKey, RangeBound, Stamp, TableOptions, TableSchema, Value,
};

/// The clock every script starts from (2023-11-14T22:13:20Z).
pub const CLOCK_MS: i64 = 1_700_000_000_000;

// ---- small builders for the JSON scripts --------------------------------

fn int(i: i64) -> J {
    value_json(&Value::Integer(i))
}
fn dbl(d: f64) -> J {
    value_json(&Value::Double(d))
}
fn st(x: &str) -> J {
    value_json(&Value::String(x.into()))
}
fn boolean(b: bool) -> J {
    value_json(&Value::Boolean(b))
}
fn bin(b: &[u8]) -> J {
    value_json(&Value::Binary(b.to_vec()))
}
fn kint(i: i64) -> J {
    pk_value_json(&PkValue::Integer(i))
}
fn kstr(x: &str) -> J {
    pk_value_json(&PkValue::String(x.into()))
}
fn kbin(b: &[u8]) -> J {
    pk_value_json(&PkValue::Binary(b.to_vec()))
}
fn col(name: &str, v: J, ts: i64) -> J {
    json!([name, v, ts.to_string()])
}
fn schema(name: &str, pk: &[(&str, PkType)], max_versions: u32) -> TableSchema {
    TableSchema::new(
        name,
        pk.iter().map(|(n, t)| PkColumn::new(*n, *t)).collect(),
    )
    .with_options(TableOptions {
        max_versions,
        time_to_live: -1,
    })
}
fn create(sc: &TableSchema) -> J {
    json!({"op": "create_table", "schema": schema_json(sc)})
}

// ---- keys ----------------------------------------------------------------

fn key_group(
    name: &str,
    sc: TableSchema,
    mut keys: Vec<Vec<PkValue>>,
    bounds: Vec<RangeBound>,
) -> J {
    keys.sort();
    let pks: Vec<PrimaryKey> = keys
        .into_iter()
        .map(|vals| {
            PrimaryKey(
                sc.primary_key
                    .iter()
                    .zip(vals)
                    .map(|(c, v)| (c.name.clone(), v))
                    .collect(),
            )
        })
        .collect();
    let encoded: Vec<Vec<u8>> = pks
        .iter()
        .map(|k| encode_key(&sc, k).expect("key"))
        .collect();
    assert!(
        encoded.windows(2).all(|w| w[0] < w[1]),
        "group {name}: encoding does not preserve key order"
    );
    let keys_json: Vec<J> = pks
        .iter()
        .zip(&encoded)
        .map(|(k, e)| json!({"primary_key": pk_json(k), "hex": hex(e)}))
        .collect();
    let bounds_json: Vec<J> = bounds
        .iter()
        .map(|b| json!({"bound": bound_json(b), "hex": hex(&encode_bound(&sc, b).expect("bound"))}))
        .collect();
    json!({"name": name, "schema": schema_json(&sc), "keys": keys_json, "bounds": bounds_json})
}

/// `keys.json`.
pub fn keys() -> J {
    use PkValue::{Binary as B, Integer as I, String as S};
    let one = |n: &str, b: PkBound| RangeBound::new([(n, b)]);
    let ints = key_group(
        "integer",
        schema("t", &[("a", PkType::Integer)], 1),
        [
            i64::MIN,
            i64::MIN + 1,
            -256,
            -1,
            0,
            1,
            127,
            128,
            255,
            256,
            i64::MAX - 1,
            i64::MAX,
        ]
        .into_iter()
        .map(|i| vec![I(i)])
        .collect(),
        vec![
            one("a", PkBound::InfMin),
            one("a", PkBound::InfMax),
            one("a", PkBound::Value(I(-1))),
        ],
    );
    let strs = key_group(
        "string",
        schema("t", &[("s", PkType::String)], 1),
        [
            "", "\0", "\0\0", "\0a", "\u{1}", "a", "a\0", "a\0b", "a\u{1}", "ab", "b", "é", "中文",
            "🙂",
        ]
        .into_iter()
        .map(|x| vec![S(x.into())])
        .collect(),
        vec![
            one("s", PkBound::InfMin),
            one("s", PkBound::Value(S("a\0".into()))),
        ],
    );
    let bins = key_group(
        "binary",
        schema("t", &[("b", PkType::Binary)], 1),
        [
            &[][..],
            &[0],
            &[0, 0],
            &[0, 1],
            &[0, 0xff],
            &[1],
            &[0xfe, 0xff],
            &[0xff],
            &[0xff, 0],
            &[0xff, 0xff],
        ]
        .into_iter()
        .map(|x| vec![B(x.to_vec())])
        .collect(),
        vec![one("b", PkBound::InfMax)],
    );
    let sc = schema(
        "t",
        &[
            ("p", PkType::String),
            ("n", PkType::Integer),
            ("x", PkType::Binary),
        ],
        1,
    );
    let multi = key_group(
        "composite",
        sc,
        vec![
            vec![S("".into()), I(0), B(vec![])],
            vec![S("a".into()), I(-5), B(vec![1])],
            vec![S("a".into()), I(-5), B(vec![1, 0])],
            vec![S("a".into()), I(7), B(vec![])],
            vec![S("a\0".into()), I(i64::MIN), B(vec![0])],
            vec![S("b".into()), I(0), B(vec![0xff])],
        ],
        vec![
            RangeBound::new([
                ("p", PkBound::Value(S("a".into()))),
                ("n", PkBound::InfMin),
                ("x", PkBound::InfMax),
            ]),
            RangeBound::new([
                ("p", PkBound::Value(S("a".into()))),
                ("n", PkBound::Value(I(-5))),
                ("x", PkBound::InfMax),
            ]),
            RangeBound::new([
                ("p", PkBound::InfMax),
                ("n", PkBound::InfMin),
                ("x", PkBound::InfMin),
            ]),
        ],
    );
    json!({
        "description": "Order-preserving primary-key encoding (FORMAT.md §3). In each group `keys` are listed in key order, and their encodings are strictly increasing bytewise.",
        "groups": [ints, strs, bins, multi],
    })
}

// ---- values --------------------------------------------------------------

/// `values.json`.
pub fn values() -> J {
    let vals = vec![
        Value::Integer(0),
        Value::Integer(1),
        Value::Integer(-1),
        Value::Integer(i64::MIN),
        Value::Integer(i64::MAX),
        Value::Integer(9_007_199_254_740_993),
        Value::Double(0.0),
        Value::Double(-0.0),
        Value::Double(1.5),
        Value::Double(-2.25),
        Value::Double(0.1),
        Value::Double(f64::NAN),
        Value::Double(f64::INFINITY),
        Value::Double(f64::NEG_INFINITY),
        Value::Double(1e-310),
        Value::Double(f64::MAX),
        Value::Boolean(false),
        Value::Boolean(true),
        Value::String(String::new()),
        Value::String("hello".into()),
        Value::String("é中🙂".into()),
        Value::String("x".repeat(200)),
        Value::Binary(vec![]),
        Value::Binary(vec![0x00, 0xff, 0x10]),
        Value::Binary((0..130u8).collect()),
    ];
    let list: Vec<J> = vals
        .iter()
        .map(|v| {
            let mut b = Vec::new();
            put_value(&mut b, v);
            json!({"value": value_json(v), "hex": hex(&b)})
        })
        .collect();
    json!({
        "description": "Attribute value encoding (FORMAT.md §4): tag byte then payload. DOUBLE vectors carry the exact IEEE-754 bits (big-endian hex) in `bits`.",
        "values": list,
        "invalid": [
            {"hex": "06", "error": "CorruptData", "why": "unknown tag"},
            {"hex": "0302", "error": "CorruptData", "why": "boolean byte other than 0/1"},
            {"hex": "01000000", "error": "CorruptData", "why": "truncated INTEGER"},
            {"hex": "0405616263", "error": "CorruptData", "why": "string length beyond the input"},
            {"hex": "0402c328", "error": "CorruptData", "why": "invalid UTF-8"},
            {"hex": "048300616263", "error": "CorruptData", "why": "non-minimal varint: string length 3 as 83 00"},
            {"hex": "05808000", "error": "CorruptData", "why": "non-minimal varint: binary length 0 as 80 80 00 (FORMAT.md §1)"},
        ],
    })
}

// ---- records -------------------------------------------------------------

fn sample_records() -> Vec<ChangeRecord> {
    let base = (CLOCK_MS as u64) << 16;
    vec![
        ChangeRecord {
            cursor: 0,
            origin: "eu".into(),
            seq: 1,
            stamp: base,
            table: "users".into(),
            kind: ChangeKind::Put,
            primary_key: PrimaryKey::new([("uid", 1)]),
            columns: vec![
                ColumnOp::Put {
                    name: "name".into(),
                    value: "Ada".into(),
                    timestamp: CLOCK_MS,
                },
                ColumnOp::Put {
                    name: "age".into(),
                    value: 36.into(),
                    timestamp: CLOCK_MS,
                },
                ColumnOp::Put {
                    name: "score".into(),
                    value: 1.5.into(),
                    timestamp: CLOCK_MS,
                },
                ColumnOp::Put {
                    name: "active".into(),
                    value: true.into(),
                    timestamp: CLOCK_MS,
                },
                ColumnOp::Put {
                    name: "avatar".into(),
                    value: Value::Binary(vec![0x89, 0x50, 0x4e, 0x47]),
                    timestamp: CLOCK_MS,
                },
            ],
        },
        ChangeRecord {
            cursor: 0,
            origin: "us-east-1".into(),
            seq: 300,
            stamp: base + 1,
            table: "events".into(),
            kind: ChangeKind::Update,
            primary_key: PrimaryKey(vec![
                ("p".into(), PkValue::String("k\0ey".into())),
                ("n".into(), PkValue::Integer(-7)),
                ("x".into(), PkValue::Binary(vec![0x00, 0xff])),
            ]),
            columns: vec![
                ColumnOp::Put {
                    name: "v".into(),
                    value: Value::Integer(-1),
                    timestamp: 0,
                },
                ColumnOp::DeleteOneVersion {
                    name: "w".into(),
                    timestamp: 1_234_567,
                },
                ColumnOp::DeleteAllVersions { name: "z".into() },
            ],
        },
        ChangeRecord {
            cursor: 0,
            origin: "ap".into(),
            seq: u64::MAX,
            stamp: u64::MAX,
            table: "t".into(),
            kind: ChangeKind::Delete,
            primary_key: PrimaryKey::new([("uid", i64::MIN)]),
            columns: vec![],
        },
        ChangeRecord {
            cursor: 0,
            origin: "東京".into(),
            seq: 128,
            stamp: 1,
            table: "t".into(),
            kind: ChangeKind::Put,
            primary_key: PrimaryKey::new([("uid", 0)]),
            columns: vec![],
        },
    ]
}

/// `records.json`.
pub fn records() -> J {
    let list: Vec<J> = sample_records()
        .iter()
        .map(|r| json!({"record": record_json(r), "hex": hex(&encode_record(r))}))
        .collect();
    let good = encode_record(&sample_records()[0]);
    let mut v2 = good.clone();
    v2[0] = 2;
    let truncated = &good[..good.len() - 1];
    let mut trailing = good.clone();
    trailing.push(0);
    // A minimal DELETE record: origin "a", seq 1, stamp 1, table "t", key k=1.
    let minimal = "01016101010000000000000001740301016b10800000000000000100";
    let bad_kind = minimal.replacen("017403", "017409", 1);
    let bad_op = format!(
        "{}0107016100",
        &minimal[..minimal.len() - 2].replacen("017403", "017402", 1)
    );
    // Non-canonical varints in the minimal record (FORMAT.md §1): the
    // record after version and origin is `01` (seq 1) then the rest.
    let non_minimal_seq = minimal.replacen("0101610101", "010161810001", 1);
    let non_minimal_origin = minimal.replacen("010161", "0181800061", 1);
    let non_minimal_count = format!("{}8000", &minimal[..minimal.len() - 2]);
    let overlong_seq = minimal.replacen("0101610101", "010161808080808080808080800001", 1);
    let overflow_seq = minimal.replacen("0101610101", "010161ffffffffffffffffff0201", 1);
    json!({
        "description": "Change-record encoding (FORMAT.md §7). The cursor is local and not encoded.",
        "records": list,
        "minimal_delete_hex": minimal,
        "invalid": [
            {"hex": hex(&v2), "error": "UnsupportedVersion", "why": "record version 2"},
            {"hex": hex(truncated), "error": "CorruptData", "why": "truncated"},
            {"hex": hex(&trailing), "error": "CorruptData", "why": "trailing byte"},
            {"hex": bad_kind, "error": "CorruptData", "why": "unknown kind 9"},
            {"hex": bad_op, "error": "CorruptData", "why": "unknown column op 7"},
            {"hex": "", "error": "CorruptData", "why": "empty"},
            {"hex": non_minimal_seq, "error": "CorruptData", "why": "non-minimal varint: seq 1 as 81 00 (FORMAT.md §1)"},
            {"hex": non_minimal_origin, "error": "CorruptData", "why": "non-minimal varint: origin length 1 as 81 80 00"},
            {"hex": non_minimal_count, "error": "CorruptData", "why": "non-minimal varint: column count 0 as 80 00"},
            {"hex": overlong_seq, "error": "CorruptData", "why": "varint of 11 bytes (0 as 80 ×10 then 00)"},
            {"hex": overflow_seq, "error": "CorruptData", "why": "varint above 64 bits (10th byte 02)"},
        ],
    })
}

// ---- schemas -------------------------------------------------------------

fn sample_schemas() -> Vec<TableSchema> {
    vec![
        schema("users", &[("uid", PkType::Integer)], 1),
        TableSchema::new(
            "orders",
            vec![
                PkColumn::new("shop", PkType::String),
                PkColumn::auto_increment("order_id"),
                PkColumn::new("blob", PkType::Binary),
            ],
        )
        .with_options(TableOptions {
            max_versions: 300,
            time_to_live: 86_400 * 365,
        }),
    ]
}

/// `schemas.json`.
pub fn schemas() -> J {
    let list: Vec<J> = sample_schemas()
        .iter()
        .map(|sc| {
            let mut b = Vec::new();
            put_schema(&mut b, sc);
            json!({"schema": schema_json(sc), "hex": hex(&b)})
        })
        .collect();
    json!({
        "description": "Table schema encoding (FORMAT.md §8).",
        "schemas": list,
        "invalid": [
            {"hex": "01740101610401", "error": "CorruptData", "why": "unknown key type 4"},
            {"hex": "0174010161010201ff01", "error": "CorruptData", "why": "auto-increment flag 2"},
            {"hex": "017400" , "error": "CorruptData", "why": "no primary-key columns (truncated options)"},
            {"hex": "01740101610100" , "error": "CorruptData", "why": "truncated options"},
            {"hex": "017401016101000001", "error": "CorruptData", "why": "max_versions 0 is invalid"},
            {"hex": "01740101610100810001", "error": "CorruptData", "why": "non-minimal varint: max_versions 1 as 81 00 (FORMAT.md §1)"},
            {"hex": "01740101610100018100", "error": "CorruptData", "why": "non-minimal varint: time_to_live -1 (zigzag 1) as 81 00"},
        ],
    })
}

// ---- row states ----------------------------------------------------------

fn rec(
    origin: &str,
    seq: u64,
    stamp: u64,
    kind: ChangeKind,
    columns: Vec<ColumnOp>,
) -> ChangeRecord {
    ChangeRecord {
        cursor: 0,
        origin: origin.into(),
        seq,
        stamp,
        table: "t".into(),
        kind,
        primary_key: PrimaryKey::new([("k", 1)]),
        columns,
    }
}

fn put(name: &str, v: impl Into<Value>, ts: i64) -> ColumnOp {
    ColumnOp::Put {
        name: name.into(),
        value: v.into(),
        timestamp: ts,
    }
}

/// Apply records in order to an empty row state.
pub fn state_of(records: &[ChangeRecord]) -> RowState {
    let mut s = RowState::default();
    for r in records {
        s.apply(
            Stamp::new(r.stamp, region_id(&r.origin)),
            r.kind,
            &r.columns,
        );
    }
    s
}

/// `row_states.json`.
pub fn row_states() -> J {
    let cases: Vec<(&str, Vec<ChangeRecord>)> = vec![
        (
            "one_put",
            vec![rec(
                "a",
                1,
                100 << 16,
                ChangeKind::Put,
                vec![put("c", 1, 5), put("b", "x", 5)],
            )],
        ),
        (
            "versions_and_tombstones",
            vec![
                rec(
                    "a",
                    1,
                    100 << 16,
                    ChangeKind::Put,
                    vec![put("c", 1, 5), put("c", 2, 6), put("d", true, 5)],
                ),
                rec(
                    "b",
                    1,
                    (100 << 16) + 1,
                    ChangeKind::Update,
                    vec![
                        ColumnOp::DeleteOneVersion {
                            name: "c".into(),
                            timestamp: 6,
                        },
                        ColumnOp::DeleteAllVersions { name: "d".into() },
                        put("e", 2.5, 7),
                    ],
                ),
            ],
        ),
        (
            "deleted_after_put",
            vec![
                rec("a", 1, 100 << 16, ChangeKind::Put, vec![put("c", 1, 5)]),
                rec("b", 1, 101 << 16, ChangeKind::Delete, vec![]),
            ],
        ),
        (
            "update_loses_to_newer_put",
            vec![
                rec("a", 1, 200 << 16, ChangeKind::Put, vec![put("c", 1, 5)]),
                rec("b", 1, 150 << 16, ChangeKind::Update, vec![put("d", 9, 5)]),
                rec("b", 2, 250 << 16, ChangeKind::Update, vec![put("c", 3, 5)]),
            ],
        ),
    ];
    let list: Vec<J> = cases
        .iter()
        .map(|(name, recs)| {
            json!({
                "name": name,
                "records": recs.iter().map(record_json).collect::<Vec<_>>(),
                "hex": hex(&encode_row_state(&state_of(recs))),
            })
        })
        .collect();
    json!({
        "description": "Row-state encoding (FORMAT.md §5) after merging `records` (in any order) into an empty state.",
        "states": list,
    })
}

// ---- regions and HLC -----------------------------------------------------

/// `regions.json`.
pub fn regions() -> J {
    let regions: Vec<J> = ["a", "b", "eu", "us", "us-east-1", "東京"]
        .iter()
        .map(|n| {
            let id = region_id(n);
            json!({"name": n, "id": id.to_string(), "id_hex": format!("{id:016x}")})
        })
        .collect();
    let base = (CLOCK_MS as u64) << 16;
    let ticks: Vec<J> = [
        (0u64, CLOCK_MS),
        (base, CLOCK_MS),
        (base + 5, CLOCK_MS),
        (base, CLOCK_MS + 1),
        (base + 0xffff, CLOCK_MS),
        (base, CLOCK_MS - 10),
        (0, -5),
    ]
    .iter()
    .map(|(last, now)| {
        let next = Hlc::resume(*last).tick(*now);
        json!({"last": last.to_string(), "now_ms": now.to_string(), "next": next.to_string()})
    })
    .collect();
    json!({
        "description": "Region ids (FORMAT.md §6.1) and hybrid-logical-clock ticks (FORMAT.md §6.2): next = max(max(now_ms, 0) << 16, last + 1).",
        "regions": regions,
        "hlc_ticks": ticks,
    })
}

// ---- WAL entries -----------------------------------------------------------

/// `wal_entries.json`.
pub fn wal_entries() -> J {
    let mut r = sample_records()[0].clone();
    r.cursor = 42;
    let entries = [
        (
            json!({"type": "RECORD", "cursor": "42", "record": record_json(&r)}),
            WalEntry::Record(r),
        ),
        (
            json!({"type": "CREATE_TABLE", "schema": schema_json(&sample_schemas()[1])}),
            WalEntry::CreateTable(sample_schemas()[1].clone()),
        ),
        (
            json!({"type": "UPDATE_TABLE", "name": "users", "max_versions": 3, "time_to_live": 86400}),
            WalEntry::UpdateTable {
                name: "users".into(),
                options: TableOptions {
                    max_versions: 3,
                    time_to_live: 86_400,
                },
            },
        ),
        (
            json!({"type": "DELETE_TABLE", "name": "users"}),
            WalEntry::DeleteTable {
                name: "users".into(),
            },
        ),
        (
            json!({"type": "TRUNCATE_LOG", "cursor": "1000"}),
            WalEntry::TruncateLog { cursor: 1000 },
        ),
        (
            json!({"type": "MERGE_ROWS", "table": "users", "rows": [["10800000000000002a", "0000000000"]]}),
            WalEntry::MergeRows {
                table: "users".into(),
                rows: vec![(
                    vec![0x10, 0x80, 0, 0, 0, 0, 0, 0, 0x2a],
                    vec![0, 0, 0, 0, 0],
                )],
            },
        ),
        (
            json!({"type": "MARK_HELD", "entries": [["eu-west", "1", "250"], ["us-east", "7", "7"]]}),
            WalEntry::MarkHeld {
                entries: vec![("eu-west".into(), 1, 250), ("us-east".into(), 7, 7)],
            },
        ),
        (
            json!({"type": "PURGE_ROWS", "table": "users", "keys": ["10800000000000002a", "10800000000000002b"]}),
            WalEntry::PurgeRows {
                table: "users".into(),
                keys: vec![
                    vec![0x10, 0x80, 0, 0, 0, 0, 0, 0, 0x2a],
                    vec![0x10, 0x80, 0, 0, 0, 0, 0, 0, 0x2b],
                ],
            },
        ),
    ];
    let list: Vec<J> = entries
        .iter()
        .map(|(j, e)| json!({"entry": j, "hex": hex(&e.to_bytes())}))
        .collect();
    json!({
        "description": "Write-ahead-log entry encoding (FORMAT.md §9).",
        "entries": list,
        "invalid": [
            {"hex": "09", "error": "CorruptData", "why": "unknown entry type"},
            {"hex": "05e80700", "error": "CorruptData", "why": "trailing byte"},
            {"hex": "", "error": "CorruptData", "why": "empty"},
            {"hex": "080575736572730201020102", "error": "CorruptData", "why": "purged keys not strictly increasing"},
            {"hex": "05e88700", "error": "CorruptData", "why": "non-minimal varint: TRUNCATE_LOG cursor 1000 as e8 87 00 (FORMAT.md §1)"},
        ],
    })
}

// ---- frames --------------------------------------------------------------

fn with_crc(mut f: Vec<u8>) -> Vec<u8> {
    let mut h = crc32fast::Hasher::new();
    h.update(&f[..10]);
    h.update(&f[14..]);
    let c = h.finalize().to_le_bytes();
    f[10..14].copy_from_slice(&c);
    f
}

/// `frames.json`.
pub fn frames() -> J {
    let payloads: Vec<([u8; 4], Vec<u8>, bool)> = vec![
        (MAGIC_SNAPSHOT, vec![], false),
        (MAGIC_WAL, b"hello".to_vec(), false),
        (
            MAGIC_SNAPSHOT,
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            true,
        ),
        (MAGIC_SNAPSHOT, vec![], true),
    ];
    let list: Vec<J> = payloads
        .iter()
        .map(|(m, p, c)| {
            json!({
                "magic": String::from_utf8_lossy(m),
                "compress": c,
                "payload_hex": hex(p),
                "frame_hex": hex(&encode_frame(*m, p, *c)),
            })
        })
        .collect();
    let good = encode_frame(MAGIC_SNAPSHOT, b"hello", false);
    let mut bad_magic = good.clone();
    bad_magic[3] = b'X';
    let mut bad_crc = good.clone();
    bad_crc[14] ^= 1;
    let mut v2 = good.clone();
    v2[4] = 9;
    let mut flags = good.clone();
    flags[5] = 2;
    let mut longer = good.clone();
    longer.push(0);
    let mut bad_lz4 = good.clone();
    bad_lz4[5] = 1;
    let (non_minimal_region, non_minimal_log) = non_minimal_snapshots();
    json!({
        "description": "Frames (FORMAT.md §2). `invalid` frames all carry the snapshot magic TSSN: `Database.import_snapshot` must reject each with `error` and change nothing. Entries with `frame_ok` are sound frames whose snapshot payload (§11) is refused (non-minimal varints, §1).",
        "frames": list,
        "invalid": [
            {"frame_hex": hex(&good[..10]), "error": "CorruptData", "why": "shorter than the header"},
            {"frame_hex": hex(&bad_magic), "error": "CorruptData", "why": "bad magic"},
            {"frame_hex": hex(&bad_crc), "error": "CorruptData", "why": "checksum mismatch"},
            {"frame_hex": hex(&with_crc(v2)), "error": "UnsupportedVersion", "why": "frame version 9 (no magic has it)"},
            {"frame_hex": hex(&with_crc(flags)), "error": "UnsupportedVersion", "why": "unknown flag bit"},
            {"frame_hex": hex(&longer), "error": "CorruptData", "why": "length field disagrees with the bytes"},
            {"frame_hex": hex(&with_crc(bad_lz4)), "error": "CorruptData", "why": "lz4 flag on a payload that is not lz4"},
            {"frame_hex": hex(&non_minimal_region), "error": "CorruptData", "why": "sound frame, snapshot payload with a non-minimal varint (region length 2 as 82 00, FORMAT.md §1)", "frame_ok": true},
            {"frame_hex": hex(&non_minimal_log), "error": "CorruptData", "why": "sound frame, snapshot whose logged change record has a non-minimal varint (seq 1 as 81 00)", "frame_ok": true},
        ],
    })
}

/// A version-2 snapshot frame (uncompressed) around `payload`.
fn snapshot_frame(payload: &[u8]) -> Vec<u8> {
    encode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, payload, false)
}

/// Two snapshots that differ from a valid one only in one varint written
/// in a longer (non-minimal) form: the region name's length, and the seq
/// inside the one change record of the log (FORMAT.md §1, §11). Asserts
/// the minimal form of each imports, so the refusal is the varint's.
fn non_minimal_snapshots() -> (Vec<u8>, Vec<u8>) {
    let (mut db, clock) = open("eu", CLOCK_MS);
    let ops = vec![
        create(&users()),
        json!({"op": "put_row", "table": "users", "primary_key": uid(1), "columns": [col("v", int(7), 1000)]}),
    ];
    run_ops(&mut db, &clock, &ops, "non_minimal_snapshots");
    let frame = db.export_snapshot().expect("export");
    let payload =
        decode_frame_version(MAGIC_SNAPSHOT, SNAPSHOT_VERSION, &frame, 1 << 20).expect("payload");
    // The payload ends with the log: count 1, cursor, `bytes` record.
    let rec = &db.changes_since(0, 10).expect("log").records[0];
    let rec_bytes = encode_record(rec);
    let mut tail = vec![1u8];
    put_varint(&mut tail, rec.cursor);
    put_bytes(&mut tail, &rec_bytes);
    assert!(
        payload.ends_with(&tail),
        "the log closes the snapshot payload"
    );
    let head = &payload[..payload.len() - tail.len()];
    let imports = |p: &[u8]| {
        Database::import_snapshot(&snapshot_frame(p), Arc::new(ManualClock::new(CLOCK_MS)))
    };
    imports(&payload).expect("the minimal snapshot imports");
    // Region length: "eu" is `02 65 75` at the start.
    assert_eq!(&payload[..3], b"\x02eu");
    let mut region = vec![0x82, 0x00];
    region.extend_from_slice(&payload[1..]);
    // The record's seq (after version and origin string) as `81 00`.
    let at = 1 + 1 + rec.origin.len();
    assert_eq!(rec_bytes[at], 0x01, "seq 1");
    let mut bad_rec = rec_bytes[..at].to_vec();
    bad_rec.extend_from_slice(&[0x81, 0x00]);
    bad_rec.extend_from_slice(&rec_bytes[at + 1..]);
    let mut log = head.to_vec();
    log.push(1);
    put_varint(&mut log, rec.cursor);
    put_bytes(&mut log, &bad_rec);
    (snapshot_frame(&region), snapshot_frame(&log))
}

// ---- digests -------------------------------------------------------------

fn case(name: &str, clock_dependent: bool, ops: Vec<J>) -> J {
    let (mut db, clock) = open("eu", CLOCK_MS);
    run_ops(&mut db, &clock, &ops, name);
    json!({
        "name": name,
        "region": "eu",
        "clock_ms": CLOCK_MS.to_string(),
        "clock_dependent": clock_dependent,
        "ops": ops,
        "expected": {"tables": describe_tables(&db)},
    })
}

fn users() -> TableSchema {
    schema("users", &[("uid", PkType::Integer)], 1)
}
fn uid(i: i64) -> J {
    json!([["uid", kint(i)]])
}

fn digest_cases() -> Vec<J> {
    let mut out = Vec::new();
    out.push(case("empty_table", false, vec![create(&users())]));
    out.push(case(
        "all_value_types",
        false,
        vec![
            create(&users()),
            json!({"op": "put_row", "table": "users", "primary_key": uid(1), "columns": [
                col("i", int(-42), 1000), col("d", dbl(3.25), 1000), col("nz", dbl(-0.0), 1000),
                col("nan", dbl(f64::NAN), 1000), col("b", boolean(true), 1000),
                col("s", st("héllo"), 1000), col("bin", bin(&[0, 255]), 1000),
                col("big", int(i64::MAX), 1000)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(2), "columns": []}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(-3), "columns": [
                col("s", st(""), 0)]}),
        ],
    ));
    let mv = schema("hist", &[("k", PkType::String)], 3);
    let k = || json!([["k", kstr("x")]]);
    let mut ops = vec![create(&mv)];
    for (i, ts) in [1000, 2000, 3000, 4000, 5000].iter().enumerate() {
        ops.push(
            json!({"op": "update_row", "table": "hist", "primary_key": k(),
                        "put": [col("v", int(i as i64), *ts)]}),
        );
    }
    ops.push(
        json!({"op": "update_row", "table": "hist", "primary_key": k(),
                    "delete": [["v", "5000"]]}),
    );
    ops.push(json!({"op": "update_table", "table": "hist", "max_versions": 2, "time_to_live": -1}));
    ops.push(
        json!({"op": "update_row", "table": "hist", "primary_key": json!([["k", kstr("y")]]),
                    "put": [col("v", int(1), 10), col("v", int(2), 20), col("v", int(3), 30)]}),
    );
    out.push(case("versions", false, ops));
    out.push(case(
        "put_update_delete",
        false,
        vec![
            create(&users()),
            json!({"op": "put_row", "table": "users", "primary_key": uid(1),
                   "columns": [col("a", int(1), 10), col("b", int(2), 10)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(1),
                   "columns": [col("a", int(3), 20)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(2),
                   "columns": [col("a", int(1), 10), col("c", st("gone"), 10)]}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(2),
                   "delete_all": ["c"], "put": [col("d", boolean(false), 11)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(3),
                   "columns": [col("a", int(1), 10)]}),
            json!({"op": "delete_row", "table": "users", "primary_key": uid(3)}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(4),
                   "columns": [col("a", int(1), 10)]}),
            json!({"op": "delete_row", "table": "users", "primary_key": uid(4)}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(4),
                   "put": [col("z", int(9), 5)]}),
        ],
    ));
    let comp = schema(
        "events",
        &[
            ("p", PkType::String),
            ("n", PkType::Integer),
            ("x", PkType::Binary),
        ],
        1,
    );
    let ck = |p: &str, n: i64, x: &[u8]| json!([["p", kstr(p)], ["n", kint(n)], ["x", kbin(x)]]);
    out.push(case(
        "composite_keys",
        false,
        vec![
            create(&comp),
            json!({"op": "put_row", "table": "events", "primary_key": ck("", 0, &[]), "columns": [col("v", int(1), 1)]}),
            json!({"op": "put_row", "table": "events", "primary_key": ck("a\u{0}b", -1, &[0]), "columns": [col("v", int(2), 1)]}),
            json!({"op": "put_row", "table": "events", "primary_key": ck("a", i64::MIN, &[0xff, 0]), "columns": [col("v", int(3), 1)]}),
            json!({"op": "put_row", "table": "events", "primary_key": ck("a", i64::MAX, &[]), "columns": [col("v", int(4), 1)]}),
            json!({"op": "put_row", "table": "events", "primary_key": ck("中", 5, &[1, 2, 3]), "columns": []}),
        ],
    ));
    out.push(case(
        "conditions",
        false,
        vec![
            create(&users()),
            json!({"op": "put_row", "table": "users", "primary_key": uid(1), "condition": "EXPECT_NOT_EXIST",
                   "columns": [col("age", int(20), 1)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(1), "condition": "EXPECT_NOT_EXIST",
                   "columns": [col("age", int(99), 2)], "expect_error": "OTSConditionCheckFail"}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(2), "condition": "EXPECT_EXIST",
                   "put": [col("age", int(1), 1)], "expect_error": "OTSConditionCheckFail"}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1),
                   "condition": {"row": "EXPECT_EXIST", "column": {"column": "age", "op": ">=", "value": int(18)}},
                   "put": [col("adult", boolean(true), 1)]}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1),
                   "condition": {"row": "IGNORE", "column": {"column": "age", "op": "<", "value": int(18)}},
                   "put": [col("minor", boolean(true), 1)], "expect_error": "OTSConditionCheckFail"}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1),
                   "condition": {"column": {"column": "email", "op": "==", "value": st("x"), "pass_if_missing": false}},
                   "put": [col("e", boolean(true), 1)], "expect_error": "OTSConditionCheckFail"}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1),
                   "condition": {"column": {"or": [
                       {"column": "email", "op": "==", "value": st("x")},
                       {"not": {"column": "age", "op": "==", "value": int(20)}}]}},
                   "put": [col("either", int(1), 1)]}),
            json!({"op": "delete_row", "table": "users", "primary_key": uid(1),
                   "condition": {"column": {"column": "age", "op": "!=", "value": int(20)}},
                   "expect_error": "OTSConditionCheckFail"}),
            json!({"op": "put_row", "table": "missing", "primary_key": uid(1), "columns": [],
                   "expect_error": "OTSObjectNotExist"}),
            json!({"op": "put_row", "table": "users", "primary_key": json!([["uid", kstr("1")]]), "columns": [],
                   "expect_error": "OTSInvalidPK"}),
        ],
    ));
    out.push(case(
        "batch_write",
        false,
        vec![
            create(&users()),
            json!({"op": "put_row", "table": "users", "primary_key": uid(9), "columns": [col("a", int(1), 1)]}),
            json!({"op": "put_row", "table": "users", "primary_key": uid(8), "columns": [col("a", int(8), 1)]}),
            json!({"op": "batch_write", "ops": [
                {"op": "put_row", "table": "users", "primary_key": uid(1), "columns": [col("a", int(1), 1)]},
                {"op": "update_row", "table": "users", "primary_key": uid(2), "put": [col("a", int(2), 1)]},
                {"op": "put_row", "table": "users", "primary_key": uid(9), "condition": "EXPECT_NOT_EXIST",
                 "columns": [col("a", int(3), 1)]},
                {"op": "delete_row", "table": "users", "primary_key": uid(8)},
                {"op": "delete_row", "table": "nope", "primary_key": uid(1)},
            ], "expect_results": [null, null, "OTSConditionCheckFail", null, "OTSObjectNotExist"]}),
            // Two operations on one row reject the whole batch, even if one of them would fail anyway.
            json!({"op": "batch_write", "ops": [
                {"op": "put_row", "table": "users", "primary_key": uid(5), "columns": []},
                {"op": "put_row", "table": "users", "primary_key": uid(9), "condition": "EXPECT_NOT_EXIST", "columns": []},
                {"op": "delete_row", "table": "users", "primary_key": uid(9)},
            ], "expect_results": [], "expect_error": "OTSParameterInvalid"}),
        ],
    ));
    let base = (CLOCK_MS as u64) << 16;
    let r =
        |origin: &str, seq: u64, stamp: u64, kind: ChangeKind, key: i64, columns: Vec<ColumnOp>| {
            record_json(&ChangeRecord {
                cursor: 0,
                origin: origin.into(),
                seq,
                stamp,
                table: "users".into(),
                kind,
                primary_key: PrimaryKey::new([("uid", key)]),
                columns,
            })
        };
    out.push(case(
        "merge_records",
        false,
        vec![
            create(&users()),
            json!({"op": "apply_changes", "records": [
                r("us", 2, base + 20, ChangeKind::Put, 1, vec![put("a", "us-put", 100)]),
                r("ap", 1, base + 10, ChangeKind::Update, 1, vec![put("b", "lost", 100)]),
                r("ap", 2, base + 30, ChangeKind::Update, 1, vec![put("a", "ap-newer", 100), put("c", 1, 50)]),
                r("us", 1, base + 5, ChangeKind::Put, 2, vec![put("a", 1, 1)]),
            ]}),
            json!({"op": "apply_changes", "records": [
                r("ap", 3, base + 40, ChangeKind::Delete, 2, vec![]),
                r("us", 3, base + 35, ChangeKind::Update, 2, vec![put("a", 2, 2)]),
                r("us", 1, base + 5, ChangeKind::Put, 2, vec![put("a", 1, 1)]),
                r("us", 4, base + 50, ChangeKind::Update, 3, vec![
                    put("a", 1, 7),
                    ColumnOp::DeleteOneVersion { name: "a".into(), timestamp: 6 }]),
            ]}),
        ],
    ));
    out.push(case(
        "increment",
        true,
        vec![
            create(&users()),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1), "increment": [["n", "5"]]}),
            json!({"now": (CLOCK_MS + 1).to_string(), "op": "update_row", "table": "users",
                   "primary_key": uid(1), "increment": [["n", "-2"]]}),
            json!({"now": (CLOCK_MS + 2).to_string(), "op": "update_row", "table": "users",
                   "primary_key": uid(1), "put": [["s", st("x"), null]]}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1), "increment": [["s", "1"]],
                   "expect_error": "OTSParameterInvalid"}),
            json!({"op": "update_row", "table": "users", "primary_key": uid(1),
                   "increment": [["n", i64::MAX.to_string()]], "expect_error": "OTSParameterInvalid"}),
        ],
    ));
    out
}

/// `digests.json`.
pub fn digests() -> J {
    json!({
        "description": "Operation scripts and the tables they leave (FORMAT.md §10). Replay `ops` in order on a fresh in-memory region named `region` whose clock reads `clock_ms` (an op's `now` sets the clock first); every op without `expect_error` succeeds, the others fail with that code. Cases with clock_dependent=false give the same result whatever the clock reads.",
        "cases": digest_cases(),
    })
}

// ---- snapshot ------------------------------------------------------------

/// `snapshot.json`.
pub fn snapshot() -> J {
    let ops = vec![
        create(&users()),
        json!({"op": "put_row", "table": "users", "primary_key": uid(1),
               "columns": [col("name", st("Ada"), 1000), col("age", int(36), 1000)]}),
        json!({"now": (CLOCK_MS + 1).to_string(), "op": "update_row", "table": "users",
               "primary_key": uid(1), "increment": [["logins", "1"]]}),
        json!({"op": "put_row", "table": "users", "primary_key": uid(2), "columns": [col("name", st("Bob"), 1000)]}),
        json!({"op": "delete_row", "table": "users", "primary_key": uid(2)}),
        json!({"op": "apply_changes", "records": [record_json(&ChangeRecord {
            cursor: 0, origin: "us".into(), seq: 1, stamp: ((CLOCK_MS as u64) << 16) + 7,
            table: "users".into(), kind: ChangeKind::Put, primary_key: PrimaryKey::new([("uid", 3)]),
            columns: vec![put("name", "Cy", 5)],
        })]}),
    ];
    let (mut db, clock) = open("eu", CLOCK_MS);
    run_ops(&mut db, &clock, &ops, "snapshot");
    let snap = db.export_snapshot().expect("export");
    let payload = tablesync::codec::frame::decode_frame_version(
        MAGIC_SNAPSHOT,
        tablesync::codec::frame::SNAPSHOT_VERSION,
        &snap,
        usize::MAX,
    )
    .expect("frame");
    // The snapshot delta (§11.1) from the state after the first ops.
    let base_ops = 3;
    let (mut base, base_clock) = open("eu", CLOCK_MS);
    run_ops(&mut base, &base_clock, &ops[..base_ops], "snapshot base");
    let after = base.next_cursor().expect("cursor");
    let delta = db.export_snapshot_delta(after).expect("delta");
    let delta_payload = tablesync::codec::frame::decode_frame_version(
        tablesync::client::snapshot_delta::MAGIC_SNAPSHOT_DELTA,
        tablesync::client::snapshot_delta::SNAPSHOT_DELTA_VERSION,
        &delta,
        usize::MAX,
    )
    .expect("delta frame");
    json!({
        "description": "A whole-region snapshot (FORMAT.md §11). Replaying `ops` (clock as in digests.json) and calling export_snapshot gives `snapshot_hex`; import_snapshot(snapshot_hex) gives a region with `tables` and re-exports the same bytes. The snapshot delta (§11.1): replaying the first `delta_base_ops` ops gives a region whose next cursor is `delta_after`; export_snapshot_delta(delta_after) of the whole replay gives `delta_hex` (payload `delta_payload_hex`, holding `delta_records` records), and applying it to an import of the base region's snapshot returns true and gives `tables`.",
        "delta_base_ops": base_ops,
        "delta_after": after.to_string(),
        "delta_records": (db.next_cursor().expect("cursor") - after).to_string(),
        "delta_hex": hex(&delta),
        "delta_payload_hex": hex(&delta_payload),
        "region": "eu",
        "clock_ms": CLOCK_MS.to_string(),
        "ops": ops,
        "snapshot_hex": hex(&snap),
        "payload_hex": hex(&payload),
        "next_cursor": db.next_cursor().expect("cursor").to_string(),
        "version_vector": db.version_vector().expect("vv").iter()
            .map(|(k, v)| (k.clone(), J::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        "tables": describe_tables(&db),
    })
}

// ---- sync frames -------------------------------------------------------------

/// `sync_frames.json`: one request and one reply frame of the sync protocol.
pub fn sync_frames() -> J {
    use tablesync::sync::message::*;
    use tablesync::sync::riblt::Symbol;
    let cap = 1 << 20;
    let get_symbols = Request::GetSymbols {
        table: "users".into(),
        from: 0,
        to: 4,
        content: false,
    };
    let ack = ReplyEnvelope {
        reply: Reply::Ack {
            records: 3,
            rows: 0,
        },
        infos: vec![TableInfo {
            name: "users".into(),
            rows: 2,
            stored: 3,
            digest: tablesync::Digest([0xab; 32]),
            state_sum: 0x0011_2233_4455_6677,
        }],
    };
    let symbols = ReplyEnvelope {
        reply: Reply::Symbols(SymbolBatch {
            table: "users".into(),
            from: 0,
            symbols: vec![Symbol {
                id: 0x0102030405060708,
                check: 0x1112131415161718,
                count: -1,
            }],
        }),
        infos: vec![],
    };
    json!({
        "description": "Sync protocol frames (FORMAT.md §13): magic TSSY, version 2, lz4 payload = session u64 LE ‖ index u32 LE ‖ (requests: reply cap u32 LE) ‖ kind ‖ body (‖ replies: table infos with state sums).",
        "requests": [
            {"session": "81985529216486895", "index": 1, "request": {"kind": "GET_SYMBOLS", "table": "users", "from": 0, "to": 4},
             "frame_hex": hex(&encode_request(0x0123456789abcdef, 1, &get_symbols, cap).unwrap())},
        ],
        "replies": [
            {"session": "81985529216486895", "index": 1, "reply": {"kind": "ACK", "records": 3, "rows": 0},
             "infos": [{"table": "users", "rows": 2, "stored": 3, "digest": "ab".repeat(32), "state_sum": "0011223344556677"}],
             "frame_hex": hex(&encode_reply(0x0123456789abcdef, 1, &ack, cap).unwrap())},
            {"session": "81985529216486895", "index": 2, "reply": {"kind": "SYMBOLS", "table": "users", "from": 0,
              "symbols": [["0102030405060708", "1112131415161718", -1]]},
             "frame_hex": hex(&encode_reply(0x0123456789abcdef, 2, &symbols, cap).unwrap())},
        ],
    })
}

// ---- backup repositories ---------------------------------------------------

/// A repository's objects as `{name: hex}`.
fn repo_objects(store: &tablesync::backup::MemoryStore) -> J {
    J::Object(
        store
            .snapshot()
            .iter()
            .map(|(n, b)| (n.clone(), J::String(hex(b))))
            .collect(),
    )
}

/// `backup.json`: two small repositories (plain with a full and an
/// incremental backup; encrypted under a passphrase with one full backup).
pub fn backup() -> J {
    use std::sync::Arc;
    use tablesync::backup::{
        BackupOptions, KdfParams, KeySource, MemoryStore, Repository, INIT_RANDOM_LEN,
    };
    let ops = vec![
        create(&users()),
        json!({"op": "put_row", "table": "users", "primary_key": uid(1),
               "columns": [col("name", st("Ada"), 1000), col("age", int(36), 1000)]}),
        json!({"op": "put_row", "table": "users", "primary_key": uid(2), "columns": [col("name", st("Bob"), 1000)]}),
    ];
    let more = vec![
        json!({"now": (CLOCK_MS + 5).to_string(), "op": "delete_row", "table": "users", "primary_key": uid(2)}),
        json!({"op": "put_row", "table": "users", "primary_key": uid(3), "columns": [col("name", st("Cy"), 2000)]}),
    ];
    let passphrase = "correct horse battery staple";
    let kdf = KdfParams::insecure_for_tests();
    let (mut db, clock) = open("eu", CLOCK_MS);
    run_ops(&mut db, &clock, &ops, "backup");
    let plain = Arc::new(MemoryStore::new());
    let repo =
        Repository::init(Box::new(plain.clone()), None, &[0x11; INIT_RANDOM_LEN]).expect("init");
    let full = db
        .backup(&repo, &BackupOptions::default(), &mut |_| {})
        .expect("full")
        .info;
    let full_tables = describe_tables(&db);
    let full_digest = db.table_digest("users").expect("digest").to_hex();
    let sealed = Arc::new(MemoryStore::new());
    let key = KeySource::Passphrase(passphrase.as_bytes().to_vec());
    let erepo = Repository::init(
        Box::new(sealed.clone()),
        Some((&key, kdf)),
        &[0x22; INIT_RANDOM_LEN],
    )
    .expect("init");
    let efull = db
        .backup(&erepo, &BackupOptions::default(), &mut |_| {})
        .expect("full")
        .info;
    run_ops(&mut db, &clock, &more, "backup");
    let inc = db
        .backup(&repo, &BackupOptions::default(), &mut |_| {})
        .expect("incremental")
        .info;
    let info = |b: &tablesync::backup::BackupInfo| {
        json!({"id": b.id, "kind": b.kind.name(), "parent": b.parent, "point": b.point.to_string(),
               "covers_from": b.covers_from.to_string(), "created_ms": b.created_ms.to_string(),
               "rows": b.rows.to_string(), "records": b.records.to_string()})
    };
    json!({
        "description": "Backup repositories (FORMAT.md §19). Replaying `ops` on region `eu` (clock as in digests.json) and backing up gives the `full` backup of `plain` (random bytes 0x11 × 88) and of `encrypted` (random bytes 0x22 × 88, Argon2id m=64 KiB t=1 p=1 over `passphrase`); replaying `more_ops` then gives the `incremental` backup of `plain`. Restoring the latest backup of each repository gives `tables` / `final_tables`; restoring `full` by id gives `full_tables`.",
        "region": "eu",
        "clock_ms": CLOCK_MS.to_string(),
        "ops": ops,
        "more_ops": more,
        "passphrase": passphrase,
        "plain": {"objects": repo_objects(&plain), "backups": [info(&full), info(&inc)]},
        "encrypted": {"objects": repo_objects(&sealed), "backups": [info(&efull)]},
        "full_digest": full_digest,
        "full_tables": full_tables,
        "final_digest": db.table_digest("users").expect("digest").to_hex(),
        "final_tables": describe_tables(&db),
    })
}
