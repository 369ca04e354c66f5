//! Backups of `RawDatabase` into a one-file repository bundle (FORMAT.md
//! §19.9) held in memory, and restores from one: the core's backup module
//! over its `MemoryStore`. The JS layer (`db.backup()`,
//! `Database.restore()`) supplies randomness and the sink.

use crate::clock::js_clock;
use crate::database::RawDatabase;
use crate::error::{invalid, type_error, IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::value::IntegerMode;
use js_sys::{Array, Object};
use std::collections::BTreeMap;
use std::sync::Arc;
use tablesync::backup::{
    bundle_store, encode_objects, BackupInfo, BackupMode, BackupOptions, KdfParams, KeySource,
    MemoryStore, Repository, RestoreOptions, RestorePoint, INIT_RANDOM_LEN,
};
use tablesync::{Database, DatabaseOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const BACKUP_KEYS: &[&str] = &[
    "passphrase",
    "parent",
    "tables",
    "full",
    "kdf",
    "onProgress",
];
const RESTORE_KEYS: &[&str] = &[
    "at",
    "atStamp",
    "backup",
    "table",
    "tables",
    "as",
    "passphrase",
    "region",
    "integers",
];

fn key_source(v: Option<JsValue>) -> JsResult<Option<KeySource>> {
    let Some(v) = v else { return Ok(None) };
    let s = js::string(&v, &"option 'passphrase'")?;
    if s.is_empty() {
        return Err(invalid("option 'passphrase' must not be empty"));
    }
    Ok(Some(KeySource::Passphrase(s.into_bytes())))
}

fn bytes_of(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    js::as_bytes(v).ok_or_else(|| {
        type_error(format!(
            "{what} must be a Uint8Array, got {}",
            js::type_name(v)
        ))
    })
}

fn strings(v: &JsValue, what: &str) -> JsResult<Vec<String>> {
    let items = js::array_items(v, what)?;
    items
        .iter()
        .enumerate()
        .map(|(i, t)| js::string(t, &format_args!("{what} entry {i}")))
        .collect()
}

fn info_to_js(i: &BackupInfo) -> JsValue {
    let o = Object::new();
    js::set(&o, "id", &JsValue::from_str(&i.id));
    js::set(&o, "kind", &JsValue::from_str(i.kind.name()));
    js::set(
        &o,
        "parent",
        &i.parent.as_deref().map_or(JsValue::NULL, JsValue::from_str),
    );
    js::set(&o, "createdMs", &JsValue::from_f64(i.created_ms as f64));
    js::set(&o, "region", &JsValue::from_str(&i.region));
    // HLC stamps need 64 bits: bigint.
    js::set(&o, "point", &js_sys::BigInt::from(i.point).into());
    js::set(
        &o,
        "coversFrom",
        &js_sys::BigInt::from(i.covers_from).into(),
    );
    let tables = Array::new();
    for t in &i.tables {
        tables.push(&JsValue::from_str(t));
    }
    js::set(&o, "tables", &tables.into());
    js::set(&o, "rows", &JsValue::from_f64(i.rows as f64));
    js::set(&o, "records", &JsValue::from_f64(i.records as f64));
    js::set(&o, "bytes", &JsValue::from_f64(i.bytes as f64));
    js::set(&o, "newBytes", &JsValue::from_f64(i.new_bytes as f64));
    o.into()
}

/// Open the repository a bundle holds.
fn open_bundle(bundle: &[u8], key: Option<&KeySource>) -> JsResult<(Arc<MemoryStore>, Repository)> {
    let store = Arc::new(bundle_store(bundle).js()?);
    let repo = Repository::open(Box::new(store.clone()), key).js()?;
    Ok((store, repo))
}

/// The backups a bundle holds, oldest first.
#[wasm_bindgen(js_name = listBackups)]
pub fn list_backups(bundle: JsValue, passphrase: JsValue) -> JsResult<JsValue> {
    guard()?;
    let bundle = bytes_of(&bundle, "the bundle")?;
    let key = key_source((!js::is_nullish(&passphrase)).then_some(passphrase))?;
    let (_, repo) = open_bundle(&bundle, key.as_ref())?;
    let out = Array::new();
    for i in repo.list().js()? {
        out.push(&info_to_js(&i));
    }
    Ok(out.into())
}

fn restore_point(opts: &Option<JsValue>) -> JsResult<RestorePoint> {
    let at = js::opt(opts, "at")?;
    let stamp = js::opt(opts, "atStamp")?;
    let backup = js::opt(opts, "backup")?;
    let given = [at.is_some(), stamp.is_some(), backup.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(invalid("give at most one of 'at', 'atStamp' and 'backup'"));
    }
    if let Some(v) = at {
        let ms = if let Some(d) = v.dyn_ref::<js_sys::Date>() {
            d.get_time()
        } else {
            v.as_f64()
                .ok_or_else(|| type_error("option 'at' must be a Date or ms since the epoch"))?
        };
        if !ms.is_finite() || !(0.0..=9.0e15).contains(&ms) {
            return Err(invalid("option 'at' is not a valid time"));
        }
        return Ok(RestorePoint::at_millis(ms as i64));
    }
    if let Some(v) = stamp {
        let n = if v.is_bigint() {
            u64::try_from(js_sys::BigInt::unchecked_from_js(v))
                .map_err(|_| invalid("option 'atStamp' must fit in 64 unsigned bits"))?
        } else {
            match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..9.0e15).contains(&n) => n as u64,
                _ => {
                    return Err(type_error(
                        "option 'atStamp' must be a bigint or a safe integer",
                    ))
                }
            }
        };
        return Ok(RestorePoint::Stamp(n));
    }
    if let Some(v) = backup {
        return Ok(RestorePoint::Backup(js::string(&v, &"option 'backup'")?));
    }
    Ok(RestorePoint::Latest)
}

#[wasm_bindgen]
impl RawDatabase {
    /// Back this region up: a full backup into a new repository, or (with
    /// `parent`, a bundle) an incremental one on top of it. `random` is
    /// `INIT_RANDOM_LEN` bytes from `crypto.getRandomValues` (repository id
    /// and keys). Returns `{ bundle, written: [[name, bytes]…], info }`
    /// where `written` are the objects new or changed since `parent`.
    pub fn backup(&self, opts: JsValue, random: JsValue) -> JsResult<JsValue> {
        guard()?;
        let opts = js::options(&opts, BACKUP_KEYS, "backup options")?;
        let key = key_source(js::opt(&opts, "passphrase")?)?;
        let kdf = match js::opt(&opts, "kdf")? {
            None => KdfParams::default(),
            Some(v) if js::string(&v, &"option 'kdf'")? == "insecure-test" => {
                KdfParams::insecure_for_tests()
            }
            Some(_) => return Err(invalid("option 'kdf' is either omitted or 'insecure-test'")),
        };
        let random = bytes_of(&random, "the backup's random bytes")?;
        let random: [u8; INIT_RANDOM_LEN] = random
            .as_slice()
            .try_into()
            .map_err(|_| invalid(format!("backup needs {INIT_RANDOM_LEN} random bytes")))?;
        let mut options = BackupOptions::default();
        if let Some(v) = js::opt(&opts, "tables")? {
            options.tables = Some(strings(&v, "option 'tables'")?);
        }
        if let Some(v) = js::opt(&opts, "full")? {
            if js::boolean(&v, &"option 'full'")? {
                options.mode = BackupMode::Full;
            }
        }
        let (store, repo, before) = match js::opt(&opts, "parent")? {
            Some(p) => {
                let p = bytes_of(&p, "option 'parent'")?;
                let (store, repo) = open_bundle(&p, key.as_ref())?;
                let before = store.snapshot();
                (store, repo, before)
            }
            None => {
                let store = Arc::new(MemoryStore::new());
                let repo = Repository::init(
                    Box::new(store.clone()),
                    key.as_ref().map(|k| (k, kdf)),
                    &random,
                )
                .js()?;
                (store, repo, BTreeMap::new())
            }
        };
        // `onProgress({ phase: 'backup', done, total, bytes })` while chunks
        // are written; the first exception it throws fails the backup
        // (after the backup, which nothing else observes, is dropped).
        let on_progress = match js::opt(&opts, "onProgress")? {
            None => None,
            Some(f) => Some(f.dyn_into::<js_sys::Function>().map_err(|v| {
                type_error(format!(
                    "backup option 'onProgress' must be a function, got {}",
                    js::type_name(&v)
                ))
            })?),
        };
        let mut thrown: Option<JsValue> = None;
        let outcome = self
            .db
            .backup(&repo, &options, &mut |p| {
                let (Some(f), None) = (&on_progress, &thrown) else {
                    return;
                };
                let o = Object::new();
                js::set(&o, "phase", &JsValue::from_str("backup"));
                js::set(&o, "done", &JsValue::from_f64(p.done as f64));
                js::set(&o, "total", &JsValue::from_f64(p.total as f64));
                js::set(&o, "bytes", &JsValue::from_f64(p.bytes as f64));
                if let Err(e) = f.call1(&JsValue::NULL, &o) {
                    thrown = Some(e);
                }
            })
            .js()?;
        if let Some(e) = thrown {
            return Err(e);
        }
        let after = store.snapshot();
        let written = Array::new();
        for (name, bytes) in &after {
            if before.get(name) != Some(bytes) {
                let pair = Array::new();
                pair.push(&JsValue::from_str(name));
                pair.push(&js_sys::Uint8Array::from(bytes.as_slice()).into());
                written.push(&pair);
            }
        }
        let bundle = encode_objects(&after).js()?;
        let o = Object::new();
        js::set(
            &o,
            "bundle",
            &js_sys::Uint8Array::from(bundle.as_slice()).into(),
        );
        js::set(&o, "written", &written.into());
        js::set(&o, "info", &info_to_js(&outcome.info));
        js::set(&o, "created", &JsValue::from_bool(outcome.created));
        Ok(o.into())
    }

    /// A region rebuilt in memory from a bundle (latest backup, a named one,
    /// a time `at` or a stamp `atStamp`; some tables, one renamed with `as`).
    /// Every digest is checked against the manifests.
    #[wasm_bindgen(js_name = restoreBundle)]
    pub fn restore_bundle(bundle: JsValue, opts: JsValue) -> JsResult<RawDatabase> {
        guard()?;
        let bundle = bytes_of(&bundle, "Database.restore bytes")?;
        let opts = js::options(&opts, RESTORE_KEYS, "Database.restore options")?;
        let key = key_source(js::opt(&opts, "passphrase")?)?;
        let mode = IntegerMode::parse(js::opt(&opts, "integers")?)?;
        let (_, repo) = open_bundle(&bundle, key.as_ref())?;
        let mut options = RestoreOptions {
            point: restore_point(&opts)?,
            ..RestoreOptions::default()
        };
        let table = js::opt(&opts, "table")?
            .map(|v| js::string(&v, &"option 'table'"))
            .transpose()?;
        if let Some(v) = js::opt(&opts, "tables")? {
            if table.is_some() {
                return Err(invalid("give 'table' or 'tables', not both"));
            }
            options.tables = Some(strings(&v, "option 'tables'")?);
        }
        if let Some(t) = &table {
            options.tables = Some(vec![t.clone()]);
        }
        if let Some(v) = js::opt(&opts, "as")? {
            let Some(t) = &table else {
                return Err(invalid("option 'as' renames the one 'table' restored"));
            };
            options.rename = vec![(t.clone(), js::string(&v, &"option 'as'")?)];
        }
        let region = match js::opt(&opts, "region")? {
            Some(v) => js::string(&v, &"option 'region'")?,
            None => repo
                .list()
                .js()?
                .last()
                .map(|i| i.region.clone())
                .ok_or_else(|| invalid("the bundle holds no backup"))?,
        };
        let db_options = DatabaseOptions::with_clock(region, js_clock());
        let (db, _report) =
            Database::restore_from(&repo, &options, db_options, &mut |_| {}).js()?;
        Ok(RawDatabase::from_parts(db, mode))
    }
}
