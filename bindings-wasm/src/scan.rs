//! `RawScan`: the core's `ScanCursor` held by JS between pages. It keeps no
//! borrow of the `RawDatabase`, so the database is free for other calls
//! (writes included) while a `scan()` iterator is paused.

use crate::database::RawDatabase;
use crate::error::{IntoJs, JsResult};
use crate::js;
use crate::key::to_range_bound;
use crate::options::{to_range_options, RANGE_KEYS};
use crate::panic::guard;
use crate::row::row_to_js;
use crate::rows_wire::run;
use js_sys::Array;
use tablesync::{RangeBound, RangePage, ScanCursor};
use wasm_bindgen::prelude::*;

/// A scan's position: table, next start bound, end bound and options.
#[wasm_bindgen]
pub struct RawScan {
    cursor: ScanCursor,
}

#[wasm_bindgen]
impl RawDatabase {
    /// A cursor over `[start, end)` of `table` (`null` bounds: the whole
    /// table in the direction); `limit` in `opts` caps the rows of the whole
    /// scan. Nothing is read until `nextPage`.
    #[wasm_bindgen(js_name = openScan)]
    pub fn open_scan(
        &self,
        table: JsValue,
        start: JsValue,
        end: JsValue,
        opts: JsValue,
    ) -> JsResult<RawScan> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let schema = self.schema_of(&table)?;
        let opts = js::options(&opts, RANGE_KEYS, "scan options")?;
        let options = to_range_options(&opts)?;
        let bound = |v: &JsValue, fill, what| {
            if js::is_nullish(v) {
                Ok(RangeBound::all(&schema, fill))
            } else {
                to_range_bound(v, &schema, what)
            }
        };
        let start = bound(&start, options.direction.first_bound(), "range start")?;
        let end = bound(&end, options.direction.last_bound(), "range end")?;
        Ok(RawScan {
            cursor: ScanCursor::new(table, start, end, options),
        })
    }
}

#[wasm_bindgen]
impl RawScan {
    /// The next rows (at least one unless the scan is done, at most 5000).
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(&mut self, db: &RawDatabase) -> JsResult<Array> {
        guard()?;
        let rows = self.cursor.next_page(&db.db).js()?;
        let out = Array::new_with_length(rows.len() as u32);
        for (i, r) in rows.iter().enumerate() {
            out.set(i as u32, row_to_js(r, db.mode)?);
        }
        Ok(out)
    }

    /// `nextPage` over the wire (`wire.mjs` `scanPage`): an empty request,
    /// the rows written as a `getRange` page without `nextStart`.
    #[wasm_bindgen(js_name = nextPageWire)]
    pub fn next_page_wire(&mut self, db: &RawDatabase, len: usize, now: f64) -> JsResult<usize> {
        let cursor = &mut self.cursor;
        run(&db.names, db.mode, (len, now), |r, out| {
            r.end()?;
            let rows = cursor.next_page(&db.db).js()?;
            out.page(&RangePage {
                rows,
                next_start: None,
            })
        })
    }

    /// Whether the range (or the row limit) is exhausted.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.cursor.is_done()
    }
}
