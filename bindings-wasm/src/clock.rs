//! Time for the core: JS `Date.now()`, or a hand-set clock for tests.

use crate::error::JsResult;
use crate::value::require_integer;
use std::cell::Cell;
use std::sync::Arc;
use tablesync::{Clock, FnClock};
use wasm_bindgen::prelude::*;

thread_local! {
    /// `Date.now()` as read by the JS layer just before the current call
    /// (see [`NowHint`]).
    static NOW: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The host's wall clock (`Date.now()`): read in JS at the start of a row
/// fast-path call when the caller passed it, else through an import.
pub fn js_clock() -> Arc<dyn Clock> {
    Arc::new(FnClock(|| {
        NOW.with(|n| n.get())
            .unwrap_or_else(|| js_sys::Date::now() as i64)
    }))
}

/// The host clock's reading for the duration of one call: the JS layer
/// reads `Date.now()` as it makes the call (cheaper than a wasm→JS call per
/// timestamp the core asks for). Ignored unless it is a whole number of
/// milliseconds. The previous reading comes back when this is dropped.
/// A database on a `ManualClock` never looks at it.
pub struct NowHint(Option<i64>);

impl NowHint {
    /// Use `now` (ms since the epoch) as the host clock until dropped.
    pub fn set(now: f64) -> NowHint {
        let ms =
            (now.is_finite() && now.fract() == 0.0 && now.abs() < 9.0e15).then_some(now as i64);
        NowHint(NOW.with(|n| n.replace(ms.or(n.get()))))
    }
}

impl Drop for NowHint {
    fn drop(&mut self) {
        NOW.with(|n| n.set(self.0));
    }
}

/// A clock set by hand, shared by every database given it (deterministic
/// tests and simulations). Exported to JS as `ManualClock`.
#[wasm_bindgen(js_name = ManualClock)]
pub struct JsManualClock {
    pub(crate) inner: tablesync::ManualClock,
}

#[wasm_bindgen(js_class = ManualClock)]
impl JsManualClock {
    /// A clock showing `ms` (milliseconds since the Unix epoch).
    #[wasm_bindgen(constructor)]
    pub fn new(ms: JsValue) -> JsResult<JsManualClock> {
        crate::panic::guard()?;
        let ms = require_integer(&ms, &"ManualClock time")?;
        Ok(JsManualClock {
            inner: tablesync::ManualClock::new(ms),
        })
    }

    /// The time shown (ms).
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> f64 {
        self.inner.now_ms() as f64
    }

    /// Set the time (ms).
    pub fn set(&self, ms: JsValue) -> JsResult<()> {
        crate::panic::guard()?;
        self.inner.set(require_integer(&ms, &"ManualClock time")?);
        Ok(())
    }

    /// Move the time forward by `ms`.
    pub fn advance(&self, ms: JsValue) -> JsResult<()> {
        crate::panic::guard()?;
        self.inner
            .advance(require_integer(&ms, &"ManualClock step")?);
        Ok(())
    }
}

impl JsManualClock {
    /// The shared core clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.inner.clone())
    }
}
