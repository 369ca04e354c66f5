//! Panics: a panic is a bug, never an error path. The hook logs it to
//! `console.error`, remembers its message and poisons the module, so every
//! later call throws a `TablesyncError` with code `Poisoned` instead of
//! running on state the panic may have left half-changed.

use crate::error::{tablesync_error, JsResult, POISONED};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use wasm_bindgen::prelude::*;

static IS_POISONED: AtomicBool = AtomicBool::new(false);
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Install the panic hook (runs when the module is instantiated).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        IS_POISONED.store(true, Ordering::SeqCst);
        if let Ok(mut m) = LAST_PANIC.lock() {
            *m = info.to_string();
        }
        console_error_panic_hook::hook(info);
    }));
}

/// Fail with `Poisoned` once a panic has happened.
pub fn guard() -> JsResult<()> {
    if IS_POISONED.load(Ordering::SeqCst) {
        Err(tablesync_error(
            POISONED,
            format!(
                "{POISONED}: tablesync hit an internal error earlier ({}) and refuses further calls; reload the module",
                last_panic_message()
            ),
        ))
    } else {
        Ok(())
    }
}

/// Whether a panic has happened in this module instance.
#[wasm_bindgen(js_name = isPoisoned)]
pub fn is_poisoned() -> bool {
    IS_POISONED.load(Ordering::SeqCst)
}

/// The message of the last panic (empty if none).
#[wasm_bindgen(js_name = lastPanicMessage)]
pub fn last_panic_message() -> String {
    LAST_PANIC.lock().map(|m| m.clone()).unwrap_or_default()
}

/// Panic on purpose. For the test of the poisoning path only; not part of the API.
#[doc(hidden)]
#[wasm_bindgen(js_name = __tablesyncTestPanic)]
pub fn test_panic() {
    panic!("deliberate panic requested by __tablesyncTestPanic");
}
