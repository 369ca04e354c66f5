//! Options of sync sessions (`syncWith`, `SyncSession`, `syncOverHttp`,
//! `verify`, `repair`) as a core [`SyncConfig`].

use crate::error::{invalid, type_error, JsResult};
use crate::js;
use crate::value::require_count;
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use wasm_bindgen::prelude::*;

/// Option names of a full session.
pub const SESSION_KEYS: &[&str] = &[
    "mode",
    "direction",
    "tables",
    "maxFrameBytes",
    "initialSymbols",
];

/// Option names of `verify` and `repair`.
pub const TABLES_KEYS: &[&str] = &["tables"];

/// Largest frame cap accepted (the core's own floor is 4096 bytes).
const MAX_FRAME_CAP: u64 = 1 << 30;

/// The 8 random bytes from the host (`crypto.getRandomValues`) as a session id.
pub fn session_id(random: &JsValue) -> JsResult<u64> {
    let bytes = js::as_bytes(random)
        .ok_or_else(|| type_error("the session id must be a Uint8Array of 8 random bytes"))?;
    let arr: [u8; 8] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| invalid("the session id must be 8 random bytes"))?;
    Ok(u64::from_le_bytes(arr))
}

fn tables(v: Option<JsValue>) -> JsResult<Option<Vec<String>>> {
    let Some(v) = v else { return Ok(None) };
    let items = js::array_items(&v, "option 'tables'")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        out.push(js::string(t, &format_args!("option 'tables' entry {i}"))?);
    }
    Ok(Some(out))
}

fn mode(v: Option<JsValue>) -> JsResult<SyncMode> {
    let Some(v) = v else {
        return Ok(SyncMode::Auto);
    };
    let s = js::string(&v, &"option 'mode'")?;
    SyncMode::parse(&s).ok_or_else(|| {
        invalid(format!(
            "unknown sync mode '{s}' (expected incremental, full, hybrid, reconcile, auto or verify)"
        ))
    })
}

fn direction(v: Option<JsValue>) -> JsResult<SyncDirection> {
    let Some(v) = v else {
        return Ok(SyncDirection::Both);
    };
    let s = js::string(&v, &"option 'direction'")?;
    SyncDirection::parse(&s).ok_or_else(|| {
        invalid(format!(
            "unknown sync direction '{s}' (expected pull, push or both)"
        ))
    })
}

/// A core config from session options (`undefined`/`null`: all defaults).
pub fn to_sync_config(opts: &JsValue, what: &str, session_id: u64) -> JsResult<SyncConfig> {
    let opts = js::options(opts, SESSION_KEYS, what)?;
    let mut cfg = SyncConfig {
        mode: mode(js::opt(&opts, "mode")?)?,
        direction: direction(js::opt(&opts, "direction")?)?,
        tables: tables(js::opt(&opts, "tables")?)?,
        session_id,
        ..SyncConfig::default()
    };
    if let Some(v) = js::opt(&opts, "maxFrameBytes")? {
        let n = require_count(&v, &"option 'maxFrameBytes'")?;
        if n > MAX_FRAME_CAP {
            return Err(invalid(format!(
                "option 'maxFrameBytes' must be at most {MAX_FRAME_CAP}"
            )));
        }
        cfg.max_frame_bytes = n as usize;
    }
    if let Some(v) = js::opt(&opts, "initialSymbols")? {
        let n = require_count(&v, &"option 'initialSymbols'")?;
        cfg.initial_symbols = u32::try_from(n).unwrap_or(u32::MAX);
    }
    Ok(cfg)
}

/// The `tables` option of `verify` / `repair`.
pub fn to_tables(opts: &JsValue, what: &str) -> JsResult<Option<Vec<String>>> {
    let opts = js::options(opts, TABLES_KEYS, what)?;
    tables(js::opt(&opts, "tables")?)
}

/// A frame cap argument (`undefined`/`null`: the default).
pub fn to_frame_cap(v: &JsValue) -> JsResult<usize> {
    if js::is_nullish(v) {
        return Ok(tablesync::sync::DEFAULT_MAX_FRAME_BYTES);
    }
    let n = require_count(v, &"maxFrameBytes")?;
    if !(4096..=MAX_FRAME_CAP).contains(&n) {
        return Err(invalid(format!(
            "maxFrameBytes must be between 4096 and {MAX_FRAME_CAP}"
        )));
    }
    Ok(n as usize)
}
