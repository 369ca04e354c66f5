//! The golden vectors in `tests/vectors/` are exactly what the generator
//! produces, and every vector replays through the Rust API to its bytes.

mod vectors_gen;

use serde_json::Value as J;
use std::sync::Arc;
use tablesync::codec::buf::Reader;
use tablesync::codec::frame::{decode_frame, decode_frame_version, encode_frame, SNAPSHOT_VERSION};
use tablesync::codec::key::{decode_key, encode_bound, encode_key};
use tablesync::codec::record::{decode_record, encode_record};
use tablesync::codec::row_state::{decode_row_state, encode_row_state};
use tablesync::codec::schema::{put_schema, read_schema};
use tablesync::codec::value::{put_value, read_value};
use tablesync::log::hlc::{region_id, Hlc};
use tablesync::storage::WalEntry;
use tablesync::{
    Database, Direction, GetOptions, ManualClock, PkBound, RangeBound, RangeOptions, TableOptions,
};
use vectors_gen::cases::{state_of, CLOCK_MS};
use vectors_gen::json::*;
use vectors_gen::runner::{describe_tables, open, run_ops};

fn load(name: &str) -> J {
    let path = vectors_gen::vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn files_are_what_the_generator_writes() {
    for (name, text) in vectors_gen::generate_all() {
        let path = vectors_gen::vectors_dir().join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{} differs from the generator's output; if the format change is intended, run \
             `cargo run -p tablesync --example gen_vectors`",
            path.display()
        );
    }
}

#[test]
fn keys_encode_decode_and_order() {
    let v = load("keys.json");
    for g in arr(&v["groups"]) {
        let schema = schema_from_json(&g["schema"]);
        let mut prev: Option<Vec<u8>> = None;
        let mut pks = Vec::new();
        for k in arr(&g["keys"]) {
            let pk = pk_from_json(&k["primary_key"]);
            let bytes = unhex(s(&k["hex"]));
            assert_eq!(encode_key(&schema, &pk).unwrap(), bytes, "{pk:?}");
            assert_eq!(decode_key(&schema, &bytes).unwrap(), pk);
            if let Some(p) = &prev {
                assert!(p < &bytes, "keys must be listed in increasing order");
            }
            prev = Some(bytes);
            pks.push(pk);
        }
        // Key order (column by column, value order) agrees with byte order.
        let mut sorted = pks.clone();
        sorted.sort_by(|a, b| {
            let av: Vec<_> = a.0.iter().map(|(_, v)| v.clone()).collect();
            let bv: Vec<_> = b.0.iter().map(|(_, v)| v.clone()).collect();
            av.cmp(&bv)
        });
        assert_eq!(sorted, pks, "group {}", s(&g["name"]));
        for b in arr(&g["bounds"]) {
            let bound = bound_from_json(&b["bound"]);
            assert_eq!(hex(&encode_bound(&schema, &bound).unwrap()), s(&b["hex"]));
        }
        // A table returns the keys in the listed order, forward and backward,
        // whatever order they were written in.
        let (mut db, _) = open("a", CLOCK_MS);
        db.create_table(schema.clone()).unwrap();
        for pk in pks.iter().rev() {
            db.put_row(&schema.name, pk.clone(), vec![], Default::default())
                .unwrap();
        }
        let all = |b: PkBound| {
            RangeBound(
                schema
                    .primary_key
                    .iter()
                    .map(|c| (c.name.clone(), b.clone()))
                    .collect(),
            )
        };
        let fwd = db
            .get_range(
                &schema.name,
                &all(PkBound::InfMin),
                &all(PkBound::InfMax),
                &RangeOptions::default(),
            )
            .unwrap();
        let got: Vec<_> = fwd.rows.iter().map(|r| r.primary_key.clone()).collect();
        assert_eq!(got, pks);
        let back = db
            .get_range(
                &schema.name,
                &all(PkBound::InfMax),
                &all(PkBound::InfMin),
                &RangeOptions {
                    direction: Direction::Backward,
                    ..Default::default()
                },
            )
            .unwrap();
        let mut got: Vec<_> = back.rows.iter().map(|r| r.primary_key.clone()).collect();
        got.reverse();
        assert_eq!(got, pks);
    }
}

#[test]
fn values_encode_and_decode() {
    let v = load("values.json");
    for x in arr(&v["values"]) {
        let val = value_from_json(&x["value"]);
        let mut b = Vec::new();
        put_value(&mut b, &val);
        assert_eq!(hex(&b), s(&x["hex"]), "{val:?}");
        let mut r = Reader::new(&b, "value");
        assert_eq!(read_value(&mut r).unwrap(), val);
        assert!(r.is_empty());
        assert_eq!(value_json(&val), x["value"]);
    }
    for x in arr(&v["invalid"]) {
        let b = unhex(s(&x["hex"]));
        let mut r = Reader::new(&b, "value");
        let err = read_value(&mut r).and_then(|_| r.finish()).unwrap_err();
        assert_eq!(err.code(), s(&x["error"]), "{}", x["why"]);
    }
}

#[test]
fn records_encode_and_decode() {
    let v = load("records.json");
    for x in arr(&v["records"]) {
        let rec = record_from_json(&x["record"]);
        assert_eq!(hex(&encode_record(&rec)), s(&x["hex"]));
        let back = decode_record(&unhex(s(&x["hex"]))).unwrap();
        assert_eq!(back, rec);
        assert_eq!(record_json(&back), x["record"]);
    }
    decode_record(&unhex(s(&v["minimal_delete_hex"]))).expect("the minimal record is valid");
    for x in arr(&v["invalid"]) {
        let err = decode_record(&unhex(s(&x["hex"]))).unwrap_err();
        assert_eq!(err.code(), s(&x["error"]), "{}", x["why"]);
    }
}

#[test]
fn schemas_encode_and_decode() {
    let v = load("schemas.json");
    for x in arr(&v["schemas"]) {
        let sc = schema_from_json(&x["schema"]);
        let mut b = Vec::new();
        put_schema(&mut b, &sc);
        assert_eq!(hex(&b), s(&x["hex"]));
        let mut r = Reader::new(&b, "schema");
        assert_eq!(read_schema(&mut r).unwrap(), sc);
        assert!(r.is_empty());
    }
    for x in arr(&v["invalid"]) {
        let b = unhex(s(&x["hex"]));
        let mut r = Reader::new(&b, "schema");
        let err = read_schema(&mut r).unwrap_err();
        assert_eq!(err.code(), s(&x["error"]), "{}", x["why"]);
    }
}

fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let x = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, x.clone());
            out.push(p);
        }
    }
    out
}

#[test]
fn row_states_are_order_independent_and_pinned() {
    let v = load("row_states.json");
    for x in arr(&v["states"]) {
        let recs: Vec<_> = arr(&x["records"]).iter().map(record_from_json).collect();
        for p in permutations(&recs) {
            let mut twice = p.clone();
            twice.extend(p.iter().cloned());
            for order in [p, twice] {
                assert_eq!(
                    hex(&encode_row_state(&state_of(&order))),
                    s(&x["hex"]),
                    "{}",
                    x["name"]
                );
            }
        }
        let st = decode_row_state(&unhex(s(&x["hex"]))).unwrap();
        assert_eq!(hex(&encode_row_state(&st)), s(&x["hex"]));
    }
}

#[test]
fn region_ids_and_hlc_ticks() {
    let v = load("regions.json");
    for x in arr(&v["regions"]) {
        let id = region_id(s(&x["name"]));
        assert_eq!(id.to_string(), s(&x["id"]));
        assert_eq!(format!("{id:016x}"), s(&x["id_hex"]));
    }
    for x in arr(&v["hlc_ticks"]) {
        let next = Hlc::resume(uint_str(&x["last"])).tick(int_str(&x["now_ms"]));
        assert_eq!(next, uint_str(&x["next"]));
    }
}

fn wal_entry_from_json(j: &J) -> WalEntry {
    match s(&j["type"]) {
        "RECORD" => {
            let mut r = record_from_json(&j["record"]);
            r.cursor = uint_str(&j["cursor"]);
            WalEntry::Record(r)
        }
        "CREATE_TABLE" => WalEntry::CreateTable(schema_from_json(&j["schema"])),
        "UPDATE_TABLE" => WalEntry::UpdateTable {
            name: s(&j["name"]).into(),
            options: TableOptions {
                max_versions: j["max_versions"].as_u64().unwrap() as u32,
                time_to_live: j["time_to_live"].as_i64().unwrap(),
            },
        },
        "DELETE_TABLE" => WalEntry::DeleteTable {
            name: s(&j["name"]).into(),
        },
        "TRUNCATE_LOG" => WalEntry::TruncateLog {
            cursor: uint_str(&j["cursor"]),
        },
        "MERGE_ROWS" => WalEntry::MergeRows {
            table: s(&j["table"]).into(),
            rows: arr(&j["rows"])
                .iter()
                .map(|r| (unhex(s(&r[0])), unhex(s(&r[1]))))
                .collect(),
        },
        "MARK_HELD" => WalEntry::MarkHeld {
            entries: arr(&j["entries"])
                .iter()
                .map(|e| (s(&e[0]).to_string(), uint_str(&e[1]), uint_str(&e[2])))
                .collect(),
        },
        "PURGE_ROWS" => WalEntry::PurgeRows {
            table: s(&j["table"]).into(),
            keys: arr(&j["keys"]).iter().map(|k| unhex(s(k))).collect(),
        },
        t => panic!("unknown entry type {t}"),
    }
}

#[test]
fn wal_entries_encode_and_decode() {
    let v = load("wal_entries.json");
    for x in arr(&v["entries"]) {
        let e = wal_entry_from_json(&x["entry"]);
        assert_eq!(hex(&e.to_bytes()), s(&x["hex"]));
        assert_eq!(WalEntry::decode(&unhex(s(&x["hex"]))).unwrap(), e);
    }
    for x in arr(&v["invalid"]) {
        let err = WalEntry::decode(&unhex(s(&x["hex"]))).unwrap_err();
        assert_eq!(err.code(), s(&x["error"]), "{}", x["why"]);
    }
}

#[test]
fn frames_encode_decode_and_reject() {
    let v = load("frames.json");
    for x in arr(&v["frames"]) {
        let magic: [u8; 4] = s(&x["magic"]).as_bytes().try_into().unwrap();
        let payload = unhex(s(&x["payload_hex"]));
        let frame = unhex(s(&x["frame_hex"]));
        assert_eq!(
            encode_frame(magic, &payload, x["compress"].as_bool().unwrap()),
            frame
        );
        assert_eq!(decode_frame(magic, &frame, 1 << 20).unwrap(), payload);
    }
    for x in arr(&v["invalid"]) {
        let frame = unhex(s(&x["frame_hex"]));
        if x["frame_ok"] == J::Bool(true) {
            // A sound frame whose snapshot payload is refused.
            decode_frame_version(*b"TSSN", SNAPSHOT_VERSION, &frame, 1 << 20)
                .unwrap_or_else(|e| panic!("{}: the frame itself is sound: {e}", x["why"]));
        } else {
            let err = decode_frame(*b"TSSN", &frame, 1 << 20).unwrap_err();
            assert_eq!(err.code(), s(&x["error"]), "{}", x["why"]);
        }
        let err = Database::import_snapshot(&frame, Arc::new(ManualClock::new(0))).unwrap_err();
        assert_eq!(err.code(), s(&x["error"]), "import_snapshot: {}", x["why"]);
    }
}

#[test]
fn digest_cases_replay() {
    let v = load("digests.json");
    for c in arr(&v["cases"]) {
        let name = s(&c["name"]);
        let ops = arr(&c["ops"]);
        let mut clocks = vec![int_str(&c["clock_ms"])];
        if !c["clock_dependent"].as_bool().unwrap() {
            clocks.push(int_str(&c["clock_ms"]) * 2 + 12_345);
        }
        for clock_ms in clocks {
            let (mut db, clock) = open(s(&c["region"]), clock_ms);
            run_ops(&mut db, &clock, ops, name);
            assert_eq!(
                describe_tables(&db),
                c["expected"]["tables"],
                "case {name} (clock {clock_ms})"
            );
            // The same content merged from the log, in reverse order, gives the same tables.
            let (mut other, other_clock) = open("zz", 1);
            // Merging is clock-independent, but a region refuses stamps far
            // ahead of its own clock (issue 12): put this one in the far future.
            other_clock.set(1 << 46);
            for t in db.list_tables().unwrap() {
                other
                    .create_table(db.describe_table(&t).unwrap().schema)
                    .unwrap();
            }
            let mut recs = db.changes_since(0, 100_000).unwrap().records;
            recs.reverse();
            other.apply_changes(&recs).unwrap();
            for t in db.list_tables().unwrap() {
                assert_eq!(
                    other.table_digest(&t).unwrap(),
                    db.table_digest(&t).unwrap(),
                    "case {name}: merged {t}"
                );
            }
            for tj in arr(&c["expected"]["tables"]) {
                let t = s(&tj["name"]);
                assert_eq!(db.table_digest(t).unwrap().to_hex(), s(&tj["digest"]));
                assert_eq!(
                    db.describe_table(t).unwrap().row_count,
                    tj["row_count"].as_u64().unwrap()
                );
                for row in arr(&tj["rows"]) {
                    let pk = pk_from_json(&row["primary_key"]);
                    let max_versions = db.describe_table(t).unwrap().schema.options.max_versions;
                    let got = db
                        .get_row(
                            t,
                            &pk,
                            &GetOptions {
                                max_versions,
                                ..Default::default()
                            },
                        )
                        .unwrap()
                        .expect("row exists");
                    assert_eq!(got.cells.len(), arr(&row["cells"]).len());
                }
            }
        }
    }
}

#[test]
fn snapshot_replays_imports_and_reexports() {
    let v = load("snapshot.json");
    let (mut db, clock) = open(s(&v["region"]), int_str(&v["clock_ms"]));
    run_ops(&mut db, &clock, arr(&v["ops"]), "snapshot");
    let snap = unhex(s(&v["snapshot_hex"]));
    assert_eq!(db.export_snapshot().unwrap(), snap);
    assert_eq!(
        hex(&tablesync::codec::frame::decode_frame_version(
            *b"TSSN",
            tablesync::codec::frame::SNAPSHOT_VERSION,
            &snap,
            usize::MAX
        )
        .unwrap()),
        s(&v["payload_hex"])
    );
    let imported = Database::import_snapshot(&snap, Arc::new(ManualClock::new(CLOCK_MS))).unwrap();
    assert_eq!(imported.region(), s(&v["region"]));
    assert_eq!(describe_tables(&imported), v["tables"]);
    assert_eq!(imported.export_snapshot().unwrap(), snap);
    assert_eq!(
        imported.next_cursor().unwrap().to_string(),
        s(&v["next_cursor"])
    );
    let vv: serde_json::Map<String, J> = imported
        .version_vector()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), J::String(n.to_string())))
        .collect();
    assert_eq!(J::Object(vv), v["version_vector"]);

    // The snapshot delta (FORMAT.md §11.1) brings a copy of the base region
    // to the same tables.
    let delta = unhex(s(&v["delta_hex"]));
    assert_eq!(
        hex(
            &tablesync::codec::frame::decode_frame_version(*b"TSSD", 1, &delta, usize::MAX)
                .unwrap()
        ),
        s(&v["delta_payload_hex"])
    );
    let base_ops = v["delta_base_ops"].as_u64().unwrap() as usize;
    let (mut base, base_clock) = open(s(&v["region"]), int_str(&v["clock_ms"]));
    run_ops(
        &mut base,
        &base_clock,
        &arr(&v["ops"])[..base_ops],
        "snapshot base",
    );
    assert_eq!(
        base.next_cursor().unwrap().to_string(),
        s(&v["delta_after"])
    );
    let mut copy = Database::import_snapshot(
        &base.export_snapshot().unwrap(),
        Arc::new(ManualClock::new(CLOCK_MS)),
    )
    .unwrap();
    assert!(copy.apply_snapshot_delta(&delta).unwrap());
    assert_eq!(describe_tables(&copy), v["tables"]);
    assert_eq!(
        db.export_snapshot_delta(uint_str(&v["delta_after"]))
            .unwrap(),
        delta
    );
}

#[test]
fn sync_frames_decode_to_their_messages() {
    use tablesync::sync::message::*;
    let v = load("sync_frames.json");
    for x in arr(&v["requests"]) {
        let (session, index, req) = decode_request(&unhex(s(&x["frame_hex"])), 1 << 20).unwrap();
        assert_eq!(session, uint_str(&x["session"]));
        assert_eq!(index as u64, x["index"].as_u64().unwrap());
        let Request::GetSymbols {
            table, from, to, ..
        } = req
        else {
            panic!("{req:?}")
        };
        assert_eq!(
            (table.as_str(), from as u64, to as u64),
            (
                s(&x["request"]["table"]),
                x["request"]["from"].as_u64().unwrap(),
                x["request"]["to"].as_u64().unwrap()
            )
        );
    }
    for x in arr(&v["replies"]) {
        let frame = unhex(s(&x["frame_hex"]));
        let env = decode_reply(
            &frame,
            1 << 20,
            uint_str(&x["session"]),
            x["index"].as_u64().unwrap() as u32,
        )
        .unwrap();
        match (s(&x["reply"]["kind"]), env.reply) {
            ("ACK", Reply::Ack { records, rows }) => {
                assert_eq!((records, rows), (3, 0));
                let want = &arr(&x["infos"])[0];
                let info = &env.infos[0];
                assert_eq!(info.name, s(&want["table"]));
                assert_eq!(info.rows, want["rows"].as_u64().unwrap());
                assert_eq!(info.stored, want["stored"].as_u64().unwrap());
                assert_eq!(info.digest.to_hex(), s(&want["digest"]));
                assert_eq!(
                    info.state_sum,
                    u64::from_str_radix(s(&want["state_sum"]), 16).unwrap()
                );
            }
            ("SYMBOLS", Reply::Symbols(b)) => {
                assert_eq!(b.symbols[0].id, 0x0102030405060708);
                assert_eq!(b.symbols[0].count, -1);
            }
            (k, r) => panic!("{k}: {r:?}"),
        }
    }
}

#[test]
fn cluster_maps_decode_encode_route_and_reject() {
    use tablesync::cluster::{ClusterMap, EpochCheck};
    let v = load("cluster_map.json");
    for c in arr(&v["maps"]) {
        let bytes = unhex(s(&c["frame_hex"]));
        let m = ClusterMap::from_bytes(&bytes).unwrap();
        assert_eq!(vectors_gen::cluster::map_json(&m), c["map"]);
        assert_eq!(m.to_bytes(), bytes);
        assert_eq!(
            hex(&tablesync::cluster::map_codec::map_payload(&m)),
            s(&c["payload_hex"])
        );
    }
    for h in arr(&v["hashes"]) {
        let got = tablesync::cluster::hash::hash_bytes(&unhex(s(&h["bytes_hex"])));
        assert_eq!(got.to_string(), s(&h["hash"]));
    }
    let maps = arr(&v["maps"]);
    let full = ClusterMap::from_bytes(&unhex(s(&maps[maps.len() - 1]["frame_hex"]))).unwrap();
    for r in arr(&v["routes"]) {
        let key = unhex(s(&r["key_hex"]));
        let route = full.route_key(s(&r["table"]), &key).unwrap();
        assert_eq!(route.partition as u64, r["partition"].as_u64().unwrap());
        let reps: Vec<J> = route
            .replicas
            .iter()
            .map(|x| serde_json::json!([x.datacenter, x.region]))
            .collect();
        assert_eq!(J::Array(reps), r["replicas"]);
    }
    for bad in arr(&v["invalid"]) {
        let e = ClusterMap::from_bytes(&unhex(s(&bad["frame_hex"]))).unwrap_err();
        assert_eq!(e.code(), s(&bad["error"]), "{}", s(&bad["why"]));
    }
    for c in arr(&v["epoch_checks"]) {
        let mut m = full.clone();
        m.epoch = s(&c["map_epoch"]).parse().unwrap();
        let got = m.check_request_epoch(s(&c["request_epoch"]).parse().unwrap());
        match (got, c["error"].as_str()) {
            (Err(e), Some(code)) => assert_eq!(e.code(), code),
            (Ok(EpochCheck::Current), None) => assert_eq!(s(&c["status"]), "CURRENT"),
            (Ok(EpochCheck::RegionBehind), None) => assert_eq!(s(&c["status"]), "REGION_BEHIND"),
            (got, want) => panic!("epoch check gave {got:?}, expected {want:?}"),
        }
    }
}

#[test]
fn backup_repositories_restore_and_reproduce() {
    use tablesync::backup::{
        decode_object, BackupOptions, KdfParams, KeySource, MemoryStore, ObjectKind, ObjectStore,
        Repository, RestoreOptions, RestorePoint, INIT_RANDOM_LEN,
    };
    use tablesync::DatabaseOptions;
    let v = load("backup.json");
    let store_of = |objs: &J| {
        let st = Arc::new(MemoryStore::new());
        for (n, h) in objs.as_object().expect("objects") {
            st.put(n, &unhex(s(h))).unwrap();
        }
        st
    };
    let key = KeySource::Passphrase(s(&v["passphrase"]).as_bytes().to_vec());
    let restore = |repo: &Repository, point: RestorePoint| {
        let opts = RestoreOptions {
            point,
            ..Default::default()
        };
        let clock = Arc::new(ManualClock::new(CLOCK_MS));
        Database::restore_from(
            repo,
            &opts,
            DatabaseOptions::with_clock("eu", clock),
            &mut |_| {},
        )
        .unwrap()
        .0
    };
    // Reading the stored objects.
    let plain = Repository::open(Box::new(store_of(&v["plain"]["objects"])), None).unwrap();
    let latest = restore(&plain, RestorePoint::Latest);
    assert_eq!(
        latest.table_digest("users").unwrap().to_hex(),
        s(&v["final_digest"])
    );
    assert_eq!(describe_tables(&latest), v["final_tables"]);
    let full_id = s(&v["plain"]["backups"][0]["id"]).to_string();
    let full = restore(&plain, RestorePoint::Backup(full_id));
    assert_eq!(
        full.table_digest("users").unwrap().to_hex(),
        s(&v["full_digest"])
    );
    assert_eq!(describe_tables(&full), v["full_tables"]);
    let sealed =
        Repository::open(Box::new(store_of(&v["encrypted"]["objects"])), Some(&key)).unwrap();
    let e = restore(&sealed, RestorePoint::Latest);
    assert_eq!(
        e.table_digest("users").unwrap().to_hex(),
        s(&v["full_digest"])
    );
    // Every object's envelope decodes by its kind; sealed ones need the key.
    for (n, h) in v["plain"]["objects"].as_object().unwrap() {
        let kind = match n.split('/').next().unwrap() {
            "config" => ObjectKind::Config,
            "chunks" => ObjectKind::Chunk,
            "index" => ObjectKind::Index,
            _ => ObjectKind::Manifest,
        };
        decode_object(kind, n, &unhex(s(h)), None).unwrap();
    }
    // Writing them: the same operations give byte-identical repositories.
    let (mut db, clock) = open("eu", CLOCK_MS);
    run_ops(&mut db, &clock, arr(&v["ops"]), "backup");
    let st = Arc::new(MemoryStore::new());
    let repo = Repository::init(Box::new(st.clone()), None, &[0x11; INIT_RANDOM_LEN]).unwrap();
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    let est = Arc::new(MemoryStore::new());
    let erepo = Repository::init(
        Box::new(est.clone()),
        Some((&key, KdfParams::insecure_for_tests())),
        &[0x22; INIT_RANDOM_LEN],
    )
    .unwrap();
    db.backup(&erepo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    run_ops(&mut db, &clock, arr(&v["more_ops"]), "backup");
    db.backup(&repo, &BackupOptions::default(), &mut |_| {})
        .unwrap();
    let objs = |m: &MemoryStore| -> std::collections::BTreeMap<String, String> {
        m.snapshot()
            .iter()
            .map(|(n, b)| (n.clone(), hex(b)))
            .collect()
    };
    let want = |j: &J| -> std::collections::BTreeMap<String, String> {
        j.as_object()
            .unwrap()
            .iter()
            .map(|(n, h)| (n.clone(), s(h).to_string()))
            .collect()
    };
    assert_eq!(objs(&st), want(&v["plain"]["objects"]));
    assert_eq!(objs(&est), want(&v["encrypted"]["objects"]));
}
