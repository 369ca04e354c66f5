//! A core [`SyncReport`] as a plain JS object.

use crate::error::JsResult;
use crate::js;
use crate::key::primary_key_to_js;
use crate::value::IntegerMode;
use js_sys::{Array, Object};
use tablesync::sync::{SyncReport, TableOutcome};
use wasm_bindgen::prelude::*;

fn opt_str(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

fn outcome_to_js(t: &TableOutcome, mode: IntegerMode) -> JsResult<JsValue> {
    let o = Object::new();
    js::set(&o, "table", &JsValue::from_str(&t.table));
    js::set(&o, "local", &opt_str(&t.local));
    js::set(&o, "remote", &opt_str(&t.remote));
    let keys = Array::new();
    for k in &t.differing_keys {
        keys.push(&primary_key_to_js(k, mode)?);
    }
    js::set(&o, "differingKeys", &keys);
    Ok(o.into())
}

/// `{ mode, fellBackToReconcile, bytesSent, …, verified, tables }`; keys in
/// `differingKeys` follow the database's integer mode.
pub fn report_to_js(r: &SyncReport, mode: IntegerMode) -> JsResult<JsValue> {
    let o = Object::new();
    let num = |n: u64| JsValue::from_f64(n as f64);
    js::set(&o, "mode", &JsValue::from_str(&r.mode));
    js::set(
        &o,
        "fellBackToReconcile",
        &JsValue::from_bool(r.fell_back_to_reconcile),
    );
    js::set(&o, "bytesSent", &num(r.bytes_sent));
    js::set(&o, "bytesReceived", &num(r.bytes_received));
    js::set(&o, "roundTrips", &num(u64::from(r.round_trips)));
    js::set(&o, "recordsPulled", &num(r.records_pulled));
    js::set(&o, "recordsPushed", &num(r.records_pushed));
    js::set(&o, "rowsPulled", &num(r.rows_pulled));
    js::set(&o, "rowsPushed", &num(r.rows_pushed));
    js::set(&o, "durationMs", &JsValue::from_f64(r.duration_ms as f64));
    js::set(&o, "verified", &JsValue::from_bool(r.verified));
    let tables = Array::new();
    for t in &r.tables {
        tables.push(&outcome_to_js(t, mode)?);
    }
    js::set(&o, "tables", &tables);
    Ok(o.into())
}
