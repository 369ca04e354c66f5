//! Time for the core: JS `Date.now()`, or a hand-set clock for tests.

use crate::error::JsResult;
use crate::value::require_integer;
use std::sync::Arc;
use tablesync::{Clock, FnClock};
use wasm_bindgen::prelude::*;

/// The host's wall clock (`Date.now()`).
pub fn js_clock() -> Arc<dyn Clock> {
    Arc::new(FnClock(|| js_sys::Date::now() as i64))
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
