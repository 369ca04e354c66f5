//! `RawLink` (the package's JS layer drives it as `Link`, see
//! `db.replicate(url, …)`): the core's sans-IO replication link. The JS
//! layer passes the time (`Date.now()`) and carries the frames over fetch;
//! this only converts.

use crate::database::RawDatabase;
use crate::error::{invalid, type_error, IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::sync_options::session_id;
use js_sys::{Array, Object};
use tablesync::replication::{Link, LinkAction, LinkConfig, LinkStatus, Trigger};
use tablesync::sync::SyncDirection;
use wasm_bindgen::prelude::*;

/// Option names of a link.
const LINK_KEYS: &[&str] = &[
    "name",
    "peer",
    "trigger",
    "direction",
    "tables",
    "pollMs",
    "timeoutMs",
    "maxBackoffMs",
];

/// One replication link, hosted by the local region.
#[wasm_bindgen]
pub struct RawLink {
    inner: Link,
}

fn positive_ms(v: Option<JsValue>, what: &str, default: i64) -> JsResult<i64> {
    let Some(v) = v else { return Ok(default) };
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=86_400_000.0).contains(&n) => Ok(n as i64),
        _ => Err(type_error(format!(
            "link option '{what}' must be a whole number of milliseconds in 1..=86400000"
        ))),
    }
}

fn to_config(opts: &JsValue) -> JsResult<LinkConfig> {
    let opts = js::options(opts, LINK_KEYS, "link options")?;
    let name = match js::opt(&opts, "name")? {
        Some(v) => js::string(&v, &"link option 'name'")?,
        None => "js".to_string(),
    };
    let peer = match js::opt(&opts, "peer")? {
        Some(v) => js::string(&v, &"link option 'peer'")?,
        None => "server".to_string(),
    };
    let mut cfg = LinkConfig::new(name, peer);
    if let Some(v) = js::opt(&opts, "trigger")? {
        cfg.trigger = Trigger::parse(&js::string(&v, &"link option 'trigger'")?).js()?;
    }
    if let Some(v) = js::opt(&opts, "direction")? {
        let s = js::string(&v, &"link option 'direction'")?;
        cfg.direction = SyncDirection::parse(&s).ok_or_else(|| {
            invalid(format!(
                "unknown link direction '{s}' (expected push, pull or both)"
            ))
        })?;
    }
    if let Some(v) = js::opt(&opts, "tables")? {
        let items = js::array_items(&v, "link option 'tables'")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, t) in items.iter().enumerate() {
            out.push(js::string(
                t,
                &format_args!("link option 'tables' entry {i}"),
            )?);
        }
        cfg.tables = Some(out);
    }
    cfg.poll_ms = positive_ms(js::opt(&opts, "pollMs")?, "pollMs", cfg.poll_ms)?;
    cfg.timeout_ms = positive_ms(js::opt(&opts, "timeoutMs")?, "timeoutMs", cfg.timeout_ms)?;
    cfg.max_backoff_ms = positive_ms(
        js::opt(&opts, "maxBackoffMs")?,
        "maxBackoffMs",
        cfg.max_backoff_ms,
    )?;
    cfg.validate().js()?;
    Ok(cfg)
}

/// Actions as JS: `[{ send: Uint8Array } | { wakeAt: ms }, …]`.
fn actions_to_js(actions: Vec<LinkAction>) -> JsValue {
    let out = Array::new();
    for a in actions {
        let o = Object::new();
        match a {
            LinkAction::Send(bytes) => js::set(
                &o,
                "send",
                &js_sys::Uint8Array::from(bytes.as_slice()).into(),
            ),
            LinkAction::WakeAt(ms) => js::set(&o, "wakeAt", &JsValue::from_f64(ms as f64)),
        }
        out.push(&o);
    }
    out.into()
}

fn opt_ms(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64))
}

/// The status object of the link contract (docs/SERVER.md "Links").
fn status_to_js(s: &LinkStatus) -> JsValue {
    let o = Object::new();
    js::set(&o, "name", &JsValue::from_str(&s.name));
    js::set(&o, "peer", &JsValue::from_str(&s.peer));
    js::set(&o, "direction", &JsValue::from_str(&s.direction));
    js::set(&o, "trigger", &JsValue::from_str(&s.trigger));
    js::set(&o, "state", &JsValue::from_str(s.state.name()));
    js::set(&o, "inFlight", &JsValue::from_bool(s.in_flight));
    js::set(&o, "lag_ms", &JsValue::from_f64(s.lag_ms as f64));
    js::set(&o, "pending", &JsValue::from_f64(s.pending as f64));
    js::set(
        &o,
        "records_shipped",
        &JsValue::from_f64(s.records_shipped as f64),
    );
    js::set(
        &o,
        "bytes_shipped",
        &JsValue::from_f64(s.bytes_shipped as f64),
    );
    js::set(&o, "sessions_ok", &JsValue::from_f64(s.sessions_ok as f64));
    js::set(
        &o,
        "sessions_failed",
        &JsValue::from_f64(s.sessions_failed as f64),
    );
    js::set(&o, "last_success_ms", &opt_ms(s.last_success_ms));
    js::set(
        &o,
        "last_error",
        &s.last_error
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    );
    js::set(&o, "rpo_ms", &opt_ms(s.rpo_ms));
    o.into()
}

fn now(ms: f64) -> JsResult<i64> {
    if ms.is_finite() && ms.abs() < 9.0e15 {
        Ok(ms.floor() as i64)
    } else {
        Err(type_error("the link's time must be a finite number of ms"))
    }
}

#[wasm_bindgen]
impl RawLink {
    /// A link (state `created`) from options; `random` is 8 bytes from the
    /// host's `crypto.getRandomValues` (seeds its session ids).
    #[wasm_bindgen(constructor)]
    pub fn new(opts: JsValue, random: JsValue) -> JsResult<RawLink> {
        guard()?;
        let cfg = to_config(&opts)?;
        let seed = session_id(&random)?;
        Ok(RawLink {
            inner: Link::new(cfg, seed).js()?,
        })
    }

    /// A link from `encodeState()` bytes (cursors and counters kept).
    #[wasm_bindgen(js_name = decodeState)]
    pub fn decode_state(bytes: JsValue, random: JsValue) -> JsResult<RawLink> {
        guard()?;
        let bytes =
            js::as_bytes(&bytes).ok_or_else(|| type_error("decodeState needs a Uint8Array"))?;
        let seed = session_id(&random)?;
        Ok(RawLink {
            inner: Link::decode_state(&bytes, seed).js()?,
        })
    }

    /// The link's durable state (configuration, lifecycle state, cursors).
    #[wasm_bindgen(js_name = encodeState)]
    pub fn encode_state(&self) -> js_sys::Uint8Array {
        js_sys::Uint8Array::from(self.inner.encode_state().as_slice())
    }

    /// Lifecycle state: `created`, `running`, `paused` or `stopped`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.inner.state().name().to_string()
    }

    /// The trigger as a string.
    #[wasm_bindgen(getter)]
    pub fn trigger(&self) -> String {
        self.inner.config().trigger.name()
    }

    /// Whether the link pushes local commits.
    #[wasm_bindgen(getter)]
    pub fn pushes(&self) -> bool {
        self.inner.config().direction.pushes()
    }

    /// Whether the link pulls the peer's commits.
    #[wasm_bindgen(getter)]
    pub fn pulls(&self) -> bool {
        self.inner.config().direction.pulls()
    }

    /// Whether a session or batch waits for a reply.
    #[wasm_bindgen(getter, js_name = inFlight)]
    pub fn in_flight(&self) -> bool {
        self.inner.in_flight()
    }

    /// Start running the trigger.
    pub fn start(&mut self, now_ms: f64) -> JsResult<()> {
        guard()?;
        self.inner.start(now(now_ms)?).js()
    }

    /// Pause (cursors kept; an in-flight session is abandoned).
    pub fn pause(&mut self) -> JsResult<()> {
        guard()?;
        self.inner.pause().js()
    }

    /// Resume after a pause.
    pub fn resume(&mut self, now_ms: f64) -> JsResult<()> {
        guard()?;
        self.inner.resume(now(now_ms)?).js()
    }

    /// Stop for good.
    pub fn stop(&mut self) {
        self.inner.stop();
    }

    /// Ask for one session as soon as possible.
    #[wasm_bindgen(js_name = requestSession)]
    pub fn request_session(&mut self) -> JsResult<()> {
        guard()?;
        self.inner.trigger().js()
    }

    /// A local commit landed: the actions to take.
    #[wasm_bindgen(js_name = onCommit)]
    pub fn on_commit(&mut self, db: &mut RawDatabase, now_ms: f64) -> JsResult<JsValue> {
        guard()?;
        Ok(actions_to_js(
            self.inner.on_commit(&mut db.db, now(now_ms)?),
        ))
    }

    /// Time passed: the actions to take.
    pub fn tick(&mut self, db: &mut RawDatabase, now_ms: f64) -> JsResult<JsValue> {
        guard()?;
        Ok(actions_to_js(self.inner.tick(&mut db.db, now(now_ms)?)))
    }

    /// The peer's reply to the last frame: the actions to take.
    #[wasm_bindgen(js_name = onReply)]
    pub fn on_reply(
        &mut self,
        db: &mut RawDatabase,
        reply: JsValue,
        now_ms: f64,
    ) -> JsResult<JsValue> {
        guard()?;
        let bytes = js::as_bytes(&reply)
            .ok_or_else(|| type_error("onReply needs the reply as a Uint8Array"))?;
        Ok(actions_to_js(self.inner.on_reply(
            &mut db.db,
            &bytes,
            now(now_ms)?,
        )))
    }

    /// The transport failed (network error, HTTP error `code`): retry later.
    #[wasm_bindgen(js_name = onTransportError)]
    pub fn on_transport_error(
        &mut self,
        now_ms: f64,
        code: String,
        message: String,
    ) -> JsResult<()> {
        guard()?;
        let e = tablesync::Error::Sync(format!("{code}: {message}"));
        self.inner.on_transport_error(now(now_ms)?, e);
        Ok(())
    }

    /// When to call `tick` next at the latest (ms), or `null`.
    #[wasm_bindgen(js_name = nextWake)]
    pub fn next_wake(&self) -> JsValue {
        opt_ms(self.inner.next_wake())
    }

    /// Status now (the link object of docs/SERVER.md "Links").
    pub fn status(&self, db: &RawDatabase, now_ms: f64) -> JsResult<JsValue> {
        guard()?;
        Ok(status_to_js(&self.inner.status(&db.db, now(now_ms)?)))
    }
}
