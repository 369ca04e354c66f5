//! `RawSyncSession` (the package's JS layer wraps it as `SyncSession`): the
//! initiating side of a sync session driven by hand, one frame at a time,
//! over whatever transport the caller has (fetch, WebSocket, BroadcastChannel…).

use crate::database::RawDatabase;
use crate::error::{type_error, IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::sync_options::{session_id, to_sync_config};
use crate::sync_report::report_to_js;
use tablesync::sync::{Initiator, SessionStep};
use wasm_bindgen::prelude::*;

/// One session from the initiating side.
#[wasm_bindgen]
pub struct RawSyncSession {
    inner: Initiator,
    id: u64,
}

fn step_to_js(step: SessionStep, db: &RawDatabase) -> JsResult<JsValue> {
    match step {
        SessionStep::Send(bytes) => Ok(js_sys::Uint8Array::from(bytes.as_slice()).into()),
        SessionStep::Done(report) => report_to_js(&report, db.mode),
    }
}

#[wasm_bindgen]
impl RawSyncSession {
    /// A session with these options; `random` is 8 bytes from the host's
    /// `crypto.getRandomValues` (the session id every reply must echo).
    #[wasm_bindgen(constructor)]
    pub fn new(opts: JsValue, random: JsValue) -> JsResult<RawSyncSession> {
        guard()?;
        let id = session_id(&random)?;
        let cfg = to_sync_config(&opts, "SyncSession options", id)?;
        Ok(RawSyncSession {
            inner: Initiator::new(cfg),
            id,
        })
    }

    /// The session id as 16 lowercase hex digits.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        format!("{:016x}", self.id)
    }

    /// The first request frame.
    pub fn start(&mut self, db: &mut RawDatabase) -> JsResult<JsValue> {
        guard()?;
        let step = self.inner.start(&mut db.db).js()?;
        step_to_js(step, db)
    }

    /// Handle the reply to the last request: the next request frame
    /// (`Uint8Array`) or, when the session is over, the report (an object).
    /// A reply that fails its checks (corrupt, another session's, replayed)
    /// throws and changes nothing: the right reply can still be given.
    pub fn receive(&mut self, db: &mut RawDatabase, reply: JsValue) -> JsResult<JsValue> {
        guard()?;
        let bytes = js::as_bytes(&reply).ok_or_else(|| {
            type_error(format!(
                "receive needs the reply as a Uint8Array, got {}",
                js::type_name(&reply)
            ))
        })?;
        let step = self.inner.receive(&mut db.db, &bytes).js()?;
        step_to_js(step, db)
    }
}
