//! Change log, digests and table copies of `RawDatabase`.

use crate::database::RawDatabase;
use crate::error::{integer_out_of_range, type_error, IntoJs, JsResult};
use crate::js;
use crate::key::to_range_bound;
use crate::panic::guard;
use crate::record::{page_to_js, to_record};
use crate::value::require_count;
use js_sys::Object;
use std::ops::ControlFlow;
use tablesync::CopyProgress;
use wasm_bindgen::prelude::*;

/// Calls a JS `onProgress(progress)` from the core's progress hook. Returning
/// `false` cancels the copy (`Cancelled`); throwing cancels it too, and the
/// thrown value is rethrown. Chunks committed before the cancel stay.
struct Progress {
    callback: Option<js_sys::Function>,
    error: Option<JsValue>,
}

impl Progress {
    fn new(v: &JsValue) -> JsResult<Progress> {
        let callback = if js::is_nullish(v) {
            None
        } else {
            Some(v.clone().dyn_into::<js_sys::Function>().map_err(|_| {
                type_error(format!(
                    "onProgress must be a function, got {}",
                    js::type_name(v)
                ))
            })?)
        };
        Ok(Progress {
            callback,
            error: None,
        })
    }

    /// Call `onProgress`; `false` (exactly) or a throw cancels the copy.
    fn report(&mut self, p: CopyProgress) -> ControlFlow<()> {
        let Some(f) = &self.callback else {
            return ControlFlow::Continue(());
        };
        let o = Object::new();
        js::set(&o, "copied", &JsValue::from_f64(p.copied as f64));
        js::set(&o, "total", &JsValue::from_f64(p.total as f64));
        match f.call1(&JsValue::UNDEFINED, &o) {
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
            Ok(v) if v == JsValue::FALSE => ControlFlow::Break(()),
            Ok(_) => ControlFlow::Continue(()),
        }
    }

    /// The copy's result: the callback's own error if it threw (the copy
    /// stopped there), else the core's (`Cancelled` when it returned `false`).
    fn finish(self, copied: tablesync::Result<u64>) -> JsResult<f64> {
        match (self.error, copied) {
            (Some(e), _) => Err(e),
            (None, r) => Ok(r.js()? as f64),
        }
    }
}

#[wasm_bindgen]
impl RawDatabase {
    /// Records with cursor ≥ `cursor`, at most `limit`: `{ records, nextCursor }`.
    #[wasm_bindgen(js_name = changesSince)]
    pub fn changes_since(&self, cursor: JsValue, limit: JsValue) -> JsResult<JsValue> {
        guard()?;
        let cursor = if js::is_nullish(&cursor) {
            0
        } else {
            require_count(&cursor, &"cursor")?
        };
        let limit = if js::is_nullish(&limit) {
            1000
        } else {
            require_count(&limit, &"limit")?
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let page = self.db.changes_since(cursor, limit).js()?;
        page_to_js(&page, self.mode)
    }

    /// `{ region: highest contiguous sequence }`.
    #[wasm_bindgen(js_name = versionVector)]
    pub fn version_vector(&self) -> JsResult<JsValue> {
        guard()?;
        let vv = self.db.version_vector().js()?;
        let o = Object::new();
        for (region, seq) in vv {
            let n = i64::try_from(seq)
                .ok()
                .filter(|n| *n <= crate::value::MAX_SAFE_INTEGER)
                .ok_or_else(|| integer_out_of_range(format!("sequence of region '{region}'")))?;
            js::set_dynamic(&o, &region, &JsValue::from_f64(n as f64));
        }
        Ok(o.into())
    }

    /// Merge change records (from `changesSince` of any region): `{ applied, skipped }`.
    #[wasm_bindgen(js_name = applyChanges)]
    pub fn apply_changes(&mut self, records: JsValue) -> JsResult<JsValue> {
        guard()?;
        let recs = js::array_items(&records, "applyChanges records")?
            .iter()
            .map(to_record)
            .collect::<JsResult<Vec<_>>>()?;
        let stats = self.db.apply_changes(&recs).js()?;
        let o = Object::new();
        js::set(&o, "applied", &JsValue::from_f64(stats.applied as f64));
        js::set(&o, "skipped", &JsValue::from_f64(stats.skipped as f64));
        Ok(o.into())
    }

    /// Cursor the next record will get.
    #[wasm_bindgen(js_name = nextCursor)]
    pub fn next_cursor(&self) -> JsResult<f64> {
        guard()?;
        Ok(self.db.next_cursor().js()? as f64)
    }

    /// The table's SHA-256 digest (64 lowercase hex characters).
    #[wasm_bindgen(js_name = tableDigest)]
    pub fn table_digest(&self, table: JsValue) -> JsResult<String> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        Ok(self.db.table_digest(&table).js()?.to_hex())
    }

    /// Recompute the digest from every row; `CorruptData` if it differs from the maintained one.
    #[wasm_bindgen(js_name = verifyTableDigest)]
    pub fn verify_table_digest(&self, table: JsValue) -> JsResult<String> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        Ok(self.db.verify_table_digest(&table).js()?.to_hex())
    }

    /// `{ rows, digest }` of the rows in `[start, end)`.
    #[wasm_bindgen(js_name = rangeDigest)]
    pub fn range_digest(&self, table: JsValue, start: JsValue, end: JsValue) -> JsResult<JsValue> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let schema = self.db.describe_table(&table).js()?.schema;
        let start = to_range_bound(&start, &schema, "range start")?;
        let end = to_range_bound(&end, &schema, "range end")?;
        let d = self.db.range_digest(&table, &start, &end).js()?;
        let o = Object::new();
        js::set(&o, "rows", &JsValue::from_f64(d.rows as f64));
        js::set(&o, "digest", &JsValue::from_str(&d.digest.to_hex()));
        Ok(o.into())
    }

    /// Copy a table into a new table of this database; returns rows copied.
    #[wasm_bindgen(js_name = copyTable)]
    pub fn copy_table(
        &mut self,
        source: JsValue,
        target_table: JsValue,
        on_progress: JsValue,
    ) -> JsResult<f64> {
        guard()?;
        let source = js::string(&source, &"source table")?;
        let target_table = js::string(&target_table, &"target table")?;
        let mut progress = Progress::new(&on_progress)?;
        let copied = self
            .db
            .copy_table(&source, &target_table, &mut |p| progress.report(p));
        progress.finish(copied)
    }

    /// Copy a table into a new table of another database; returns rows copied.
    #[wasm_bindgen(js_name = copyTableTo)]
    pub fn copy_table_to(
        &self,
        source: JsValue,
        target: &mut RawDatabase,
        target_table: JsValue,
        on_progress: JsValue,
    ) -> JsResult<f64> {
        guard()?;
        let source = js::string(&source, &"source table")?;
        let target_table = js::string(&target_table, &"target table")?;
        let mut progress = Progress::new(&on_progress)?;
        let copied = self
            .db
            .copy_table_to(&source, &mut target.db, &target_table, &mut |p| {
                progress.report(p)
            });
        progress.finish(copied)
    }
}
