//! Sync between regions: `syncWith` / `verifyWith` / `repairWith` of two
//! databases in one process, and `respond`, the stateless answering side
//! of a session for any transport.

use crate::database::RawDatabase;
use crate::error::{type_error, IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::sync_options::{session_id, to_frame_cap, to_sync_config, to_tables};
use crate::sync_report::report_to_js;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl RawDatabase {
    /// Run a whole session with `other` (this region initiating); the report.
    #[wasm_bindgen(js_name = syncWith)]
    pub fn sync_with(
        &mut self,
        other: &mut RawDatabase,
        opts: JsValue,
        random: JsValue,
    ) -> JsResult<JsValue> {
        guard()?;
        let cfg = to_sync_config(&opts, "syncWith options", session_id(&random)?)?;
        let report = self.db.sync_with(&mut other.db, cfg).js()?;
        report_to_js(&report, self.mode)
    }

    /// Find the keys whose rows differ; moves nothing.
    #[wasm_bindgen(js_name = verifyWith)]
    pub fn verify_with(&mut self, other: &mut RawDatabase, opts: JsValue) -> JsResult<JsValue> {
        guard()?;
        let tables = to_tables(&opts, "verify options")?;
        let report = self.db.verify_with(&mut other.db, tables).js()?;
        report_to_js(&report, self.mode)
    }

    /// Move only the differing rows, both ways, until the digests match.
    #[wasm_bindgen(js_name = repairWith)]
    pub fn repair_with(&mut self, other: &mut RawDatabase, opts: JsValue) -> JsResult<JsValue> {
        guard()?;
        let tables = to_tables(&opts, "repair options")?;
        let report = self.db.repair_with(&mut other.db, tables).js()?;
        report_to_js(&report, self.mode)
    }
}

/// Answer one request frame for `db` (the responding region): the reply
/// frame. Stateless: any number of sessions may be answered in any order.
#[wasm_bindgen]
pub fn respond(
    db: &mut RawDatabase,
    request: JsValue,
    max_frame_bytes: JsValue,
) -> JsResult<js_sys::Uint8Array> {
    guard()?;
    let bytes = js::as_bytes(&request).ok_or_else(|| {
        type_error(format!(
            "respond needs the request as a Uint8Array, got {}",
            js::type_name(&request)
        ))
    })?;
    let cap = to_frame_cap(&max_frame_bytes)?;
    let reply = tablesync::sync::respond(&mut db.db, &bytes, cap).js()?;
    Ok(js_sys::Uint8Array::from(reply.as_slice()))
}
