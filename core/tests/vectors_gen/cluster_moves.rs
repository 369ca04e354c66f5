//! `cluster_moves.json`: rebalance messages (FORMAT.md §20.2), each in a
//! `TSCX` frame as message tag 19, plus frames a reader must refuse.

use super::json::hex;
use serde_json::{json, Value as J};
use tablesync::cluster::map::{ClusterMap, Datacenter};
use tablesync::cluster::rebalance::{KeyFilter, MoveMsg};
use tablesync::cluster::wire::{encode_messages, ClusterMsg};
use tablesync::codec::frame::encode_frame;
use tablesync::codec::key::encode_key_values;
use tablesync::{PkColumn, PkType, PkValue, TableSchema};

/// Every rebalance message kind and both filters: `(name, message)`.
pub fn messages() -> Vec<(&'static str, ClusterMsg)> {
    let map = ClusterMap::new(vec![Datacenter::new(
        "eu",
        [("eu-1", "http://127.0.0.1:7701")],
    )])
    .expect("map");
    let range = KeyFilter::Range {
        start: encode_key_values([&PkValue::Integer(1000)]),
        end: encode_key_values([&PkValue::Integer(2000)]),
    };
    let buckets = KeyFilter::Buckets {
        buckets: 4096,
        ids: vec![3, 17, 4095],
    };
    let m = |x| ClusterMsg::Move(x);
    vec![
        ("install", m(MoveMsg::Install { map })),
        ("installed", m(MoveMsg::Installed { epoch: 8 })),
        (
            "copy_range",
            m(MoveMsg::Copy {
                id: 2,
                fence: 0,
                epoch: 8,
                table: "events".into(),
                filter: range.clone(),
                source: "http://127.0.0.1:7702".into(),
            }),
        ),
        (
            "copy_buckets",
            m(MoveMsg::Copy {
                id: 0,
                fence: 8,
                epoch: 8,
                table: "users".into(),
                filter: buckets.clone(),
                source: "http://127.0.0.1:7701".into(),
            }),
        ),
        (
            "copied",
            m(MoveMsg::Copied {
                id: 2,
                fence: 8,
                rows: 300,
            }),
        ),
        (
            "release",
            m(MoveMsg::Release {
                id: 0,
                epoch: 8,
                table: "users".into(),
                partitions: vec![3, 17, 4095],
            }),
        ),
        ("released", m(MoveMsg::Released { id: 0 })),
        (
            "purge_range",
            m(MoveMsg::Purge {
                id: 1,
                epoch: 8,
                table: "events".into(),
                filter: range.clone(),
            }),
        ),
        (
            "purge_buckets",
            m(MoveMsg::Purge {
                id: 0,
                epoch: 8,
                table: "users".into(),
                filter: buckets.clone(),
            }),
        ),
        ("purged", m(MoveMsg::Purged { id: 0, rows: 1200 })),
        (
            "schema_get",
            m(MoveMsg::SchemaGet {
                table: "users".into(),
            }),
        ),
        (
            "schema",
            m(MoveMsg::Schema {
                schema: TableSchema::new(
                    "users",
                    vec![
                        PkColumn::new("uid", PkType::Integer),
                        PkColumn::new("name", PkType::String),
                    ],
                ),
            }),
        ),
        (
            "rows",
            m(MoveMsg::Rows {
                fence: 8,
                table: "users".into(),
                filter: buckets,
                after: encode_key_values([&PkValue::Integer(5)]),
                max_bytes: 1 << 20,
            }),
        ),
        (
            "rows_page",
            m(MoveMsg::RowsPage {
                rows: vec![(encode_key_values([&PkValue::Integer(6)]), vec![1, 2, 3])],
                next: encode_key_values([&PkValue::Integer(6)]),
            }),
        ),
    ]
}

/// Frames a reader refuses (`CorruptData`): `(why, frame)`.
pub fn invalid() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "unknown rebalance message kind 13",
            encode_frame(*b"TSCX", &[1, 19, 13], false),
        ),
        (
            "bucket ids that do not increase",
            // RELEASED is fine; a COPY whose filter lists buckets 5, 5.
            encode_frame(
                *b"TSCX",
                &[1, 19, 3, 0, 0, 1, b't', 1, 8, 2, 5, 5, 0],
                false,
            ),
        ),
        (
            "a bucket id not below the bucket count",
            encode_frame(*b"TSCX", &[1, 19, 3, 0, 0, 1, b't', 1, 8, 1, 8, 0], false),
        ),
        (
            "an unknown key filter tag",
            encode_frame(*b"TSCX", &[1, 19, 3, 0, 0, 1, b't', 2, 0], false),
        ),
    ]
}

/// `cluster_moves.json`.
pub fn cluster_moves() -> J {
    let msgs: Vec<J> = messages()
        .into_iter()
        .map(|(name, m)| {
            json!({
                "name": name,
                "frame_hex": hex(&encode_messages(std::slice::from_ref(&m))),
            })
        })
        .collect();
    let bad: Vec<J> = invalid()
        .into_iter()
        .map(|(why, f)| json!({"why": why, "frame_hex": hex(&f), "error": "CorruptData"}))
        .collect();
    json!({
        "description": "Rebalance messages (FORMAT.md §20.2): TSCX frames holding one cluster message of tag 19 each; frames a reader must refuse.",
        "messages": msgs,
        "invalid": bad,
    })
}
