//! The exported database class (`RawDatabase`; the package's JS layer wraps
//! it as `Database`): constructors, tables and snapshots. Row operations
//! live in `rows.rs`, the change log, digests and copies in `sync.rs`.

use crate::clock::{js_clock, JsManualClock};
use crate::error::{type_error, IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::schema::{description_to_js, to_schema, to_table_options};
use crate::value::{require_integer, IntegerMode};
use crate::wire::NameTable;
use std::cell::RefCell;
use std::sync::Arc;
use tablesync::{Clock, Database, DatabaseOptions, PrimaryKey};
use wasm_bindgen::prelude::*;

const OPEN_KEYS: &[&str] = &["integers", "maxClockDrift"];

/// One in-memory region, as the JS layer sees it.
#[wasm_bindgen]
pub struct RawDatabase {
    pub(crate) db: Database,
    pub(crate) mode: IntegerMode,
    /// Names sent to the JS side by the row fast path (`wire.rs`).
    pub(crate) names: RefCell<NameTable>,
    /// The key `getRow`'s fast path decodes into (kept to reuse its allocations).
    pub(crate) scratch_key: RefCell<PrimaryKey>,
}

impl RawDatabase {
    /// Wrap a core region (restores build one).
    pub(crate) fn from_parts(db: Database, mode: IntegerMode) -> Self {
        Self::new(db, mode)
    }

    fn new(db: Database, mode: IntegerMode) -> Self {
        RawDatabase {
            db,
            mode,
            names: RefCell::new(NameTable::default()),
            scratch_key: RefCell::new(PrimaryKey(Vec::new())),
        }
    }
}

/// The integer mode and the `maxClockDrift` option (ms, ≥ 0) of an open call.
fn open_options(opts: &JsValue, what: &str) -> JsResult<(IntegerMode, Option<i64>)> {
    let opts = js::options(opts, OPEN_KEYS, what)?;
    let mode = IntegerMode::parse(js::opt(&opts, "integers")?)?;
    let drift = match js::opt(&opts, "maxClockDrift")? {
        None => None,
        Some(v) => {
            let ms = require_integer(&v, &"maxClockDrift")?;
            if ms < 0 {
                return Err(crate::error::invalid("maxClockDrift must be ≥ 0 ms"));
            }
            Some(ms)
        }
    };
    Ok((mode, drift))
}

fn memory(region: &JsValue, opts: &JsValue, clock: Arc<dyn Clock>) -> JsResult<RawDatabase> {
    guard()?;
    let region = js::string(region, &"region")?;
    let (mode, drift) = open_options(opts, "Database.memory options")?;
    let mut options = DatabaseOptions::with_clock(region, clock);
    if let Some(ms) = drift {
        options = options.max_clock_drift(ms);
    }
    let db = Database::memory(options).js()?;
    Ok(RawDatabase::new(db, mode))
}

fn import(bytes: &JsValue, opts: &JsValue, clock: Arc<dyn Clock>) -> JsResult<RawDatabase> {
    guard()?;
    let bytes = js::as_bytes(bytes).ok_or_else(|| {
        type_error(format!(
            "importSnapshot needs a Uint8Array, got {}",
            js::type_name(bytes)
        ))
    })?;
    let (mode, _) = open_options(opts, "Database.importSnapshot options")?;
    let db = Database::import_snapshot(&bytes, clock).js()?;
    Ok(RawDatabase::new(db, mode))
}

#[wasm_bindgen]
impl RawDatabase {
    /// An in-memory region on the host clock.
    pub fn memory(region: JsValue, opts: JsValue) -> JsResult<RawDatabase> {
        memory(&region, &opts, js_clock())
    }

    /// An in-memory region on a hand-set clock.
    #[wasm_bindgen(js_name = memoryWithClock)]
    pub fn memory_with_clock(
        region: JsValue,
        opts: JsValue,
        clock: &JsManualClock,
    ) -> JsResult<RawDatabase> {
        memory(&region, &opts, clock.clock())
    }

    /// A region restored from `exportSnapshot` bytes, on the host clock.
    #[wasm_bindgen(js_name = importSnapshot)]
    pub fn import_snapshot(bytes: JsValue, opts: JsValue) -> JsResult<RawDatabase> {
        import(&bytes, &opts, js_clock())
    }

    /// A region restored from `exportSnapshot` bytes, on a hand-set clock.
    #[wasm_bindgen(js_name = importSnapshotWithClock)]
    pub fn import_snapshot_with_clock(
        bytes: JsValue,
        opts: JsValue,
        clock: &JsManualClock,
    ) -> JsResult<RawDatabase> {
        import(&bytes, &opts, clock.clock())
    }

    /// The region's name.
    #[wasm_bindgen(getter)]
    pub fn region(&self) -> String {
        self.db.region().to_string()
    }

    /// `"number"` or `"bigint"`.
    #[wasm_bindgen(getter)]
    pub fn integers(&self) -> String {
        self.mode.name().to_string()
    }

    /// The largest lead (ms) a remote stamp may have over this region's clock.
    #[wasm_bindgen(getter, js_name = maxClockDrift)]
    pub fn max_clock_drift(&self) -> f64 {
        self.db.max_clock_drift_ms() as f64
    }

    /// `{ clockDriftRefusals, peerViolations, backgroundFailures,
    /// lastBackgroundError }`: refusals of peer input and background failures.
    pub fn health(&self) -> JsResult<JsValue> {
        guard()?;
        let h = self.db.health();
        let o = js_sys::Object::new();
        js::set(
            &o,
            "clockDriftRefusals",
            &JsValue::from(h.clock_drift_refusals as f64),
        );
        js::set(
            &o,
            "peerViolations",
            &JsValue::from(h.peer_violations as f64),
        );
        js::set(
            &o,
            "backgroundFailures",
            &JsValue::from(h.background_failures as f64),
        );
        let last = match h.last_background_error {
            Some(m) => JsValue::from(m),
            None => JsValue::NULL,
        };
        js::set(&o, "lastBackgroundError", &last);
        Ok(o.into())
    }

    /// Create a table.
    #[wasm_bindgen(js_name = createTable)]
    pub fn create_table(&mut self, name: JsValue, opts: JsValue) -> JsResult<()> {
        guard()?;
        let schema = to_schema(&name, &opts)?;
        self.db.create_table(schema).js()
    }

    /// Table names in order.
    #[wasm_bindgen(js_name = listTables)]
    pub fn list_tables(&self) -> JsResult<Vec<String>> {
        guard()?;
        self.db.list_tables().js()
    }

    /// `{ name, primaryKey, maxVersions, timeToLive, rowCount }`.
    #[wasm_bindgen(js_name = describeTable)]
    pub fn describe_table(&self, name: JsValue) -> JsResult<JsValue> {
        guard()?;
        let name = js::string(&name, &"table name")?;
        Ok(description_to_js(&self.db.describe_table(&name).js()?))
    }

    /// Change `maxVersions` / `timeToLive` (omitted ones keep their value).
    #[wasm_bindgen(js_name = updateTable)]
    pub fn update_table(&mut self, name: JsValue, opts: JsValue) -> JsResult<()> {
        guard()?;
        let name = js::string(&name, &"table name")?;
        let opts = js::options(&opts, &["maxVersions", "timeToLive"], "updateTable options")?;
        let current = self.db.describe_table(&name).js()?.schema.options;
        let options = to_table_options(&opts, current)?;
        self.db.update_table(&name, options).js()
    }

    /// Delete a table and its rows.
    #[wasm_bindgen(js_name = deleteTable)]
    pub fn delete_table(&mut self, name: JsValue) -> JsResult<()> {
        guard()?;
        let name = js::string(&name, &"table name")?;
        self.db.delete_table(&name).js()
    }

    /// The whole region as snapshot bytes (byte-exact on import).
    #[wasm_bindgen(js_name = exportSnapshot)]
    pub fn export_snapshot(&self) -> JsResult<js_sys::Uint8Array> {
        guard()?;
        let bytes = self.db.export_snapshot().js()?;
        Ok(js_sys::Uint8Array::from(bytes.as_slice()))
    }
}
