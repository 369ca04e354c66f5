//! JS errors: `TablesyncError` (with `.code`), `TypeError`, and the
//! `RangeError` with code `IntegerOutOfRange`.
//!
//! The error classes are defined by the package's JS layer and registered
//! with [`register_classes`] at load; without registration (the raw module
//! used directly) plain `Error`/`RangeError` objects carrying `.code` are thrown.

use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Result whose error is a JS exception value.
pub type JsResult<T> = Result<T, JsValue>;

/// Code of a read or write of an integer that JS cannot hold exactly.
pub const INTEGER_OUT_OF_RANGE: &str = "IntegerOutOfRange";
/// Code thrown by every call after a panic.
pub const POISONED: &str = "Poisoned";

struct Classes {
    error: js_sys::Function,
    range_error: js_sys::Function,
    double: js_sys::Function,
    double_proto: Option<js_sys::Object>,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
}

/// Register the JS classes of the package layer: `TablesyncError(message, code)`,
/// the integer `RangeError` subclass `(message)` and the `Double` wrapper `(value)`.
#[wasm_bindgen(js_name = registerClasses)]
pub fn register_classes(
    error: js_sys::Function,
    range_error: js_sys::Function,
    double: js_sys::Function,
) {
    let double_proto = js_sys::Reflect::get(&double, &JsValue::from_str("prototype"))
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Object>().ok());
    CLASSES.with(|c| {
        *c.borrow_mut() = Some(Classes {
            error,
            range_error,
            double,
            double_proto,
        })
    });
}

fn construct(class: &js_sys::Function, args: &[JsValue]) -> Option<JsValue> {
    let arr = args.iter().collect::<js_sys::Array>();
    js_sys::Reflect::construct(class, &arr).ok()
}

fn with_code(e: js_sys::Error, code: &str) -> JsValue {
    crate::js::set(&e, "code", &JsValue::from_str(code));
    e.into()
}

/// A `TablesyncError` with a stable code.
pub fn tablesync_error(code: &str, message: impl AsRef<str>) -> JsValue {
    let message = message.as_ref();
    let made = CLASSES.with(|c| {
        c.borrow().as_ref().and_then(|c| {
            construct(
                &c.error,
                &[JsValue::from_str(message), JsValue::from_str(code)],
            )
        })
    });
    made.unwrap_or_else(|| with_code(js_sys::Error::new(message), code))
}

/// The `kind` a JS error of this family carries. Exhaustive on purpose
/// (over the core's `ErrorClass`, since the core `Error` is
/// `#[non_exhaustive]`): a new family breaks the build until it is named here.
pub fn kind_of(class: tablesync::ErrorClass) -> &'static str {
    use tablesync::ErrorClass as C;
    match class {
        C::InvalidArgument => "InvalidArgument",
        C::ConditionCheckFailed => "ConditionCheckFailed",
        C::NotFound => "NotFound",
        C::AlreadyExists => "AlreadyExists",
        C::CorruptData => "CorruptData",
        C::Storage => "StorageError",
        C::StorageStopped => "StorageStopped",
        C::Closed => "DatabaseClosed",
        C::Sync => "SyncError",
        C::LogGap => "LogGap",
        C::ClockDrift => "ClockDrift",
        C::PeerViolation => "PeerProtocolViolation",
        C::Unauthorized => "Unauthorized",
        C::StaleEpoch => "StaleEpoch",
        C::StaleClusterMap => "StaleClusterMap",
        C::Cancelled => "Cancelled",
    }
}

/// The JS form of a core error: a `TablesyncError` carrying the core's
/// stable code and its family as `.kind`.
pub fn core_error(e: tablesync::Error) -> JsValue {
    let v = tablesync_error(e.code(), format!("{}: {}", e.code(), e.message()));
    let _ = js_sys::Reflect::set(
        &v,
        &JsValue::from_str("kind"),
        &JsValue::from_str(kind_of(e.class())),
    );
    v
}

/// A parameter error (`OTSParameterInvalid`): right JS type, wrong value.
pub fn invalid(message: impl AsRef<str>) -> JsValue {
    core_error(tablesync::Error::invalid(message.as_ref()))
}

/// A `TypeError`: a value of the wrong JS type.
pub fn type_error(message: impl AsRef<str>) -> JsValue {
    js_sys::TypeError::new(message.as_ref()).into()
}

/// A `RangeError` with code `IntegerOutOfRange`.
pub fn integer_out_of_range(message: impl AsRef<str>) -> JsValue {
    let message = format!("{INTEGER_OUT_OF_RANGE}: {}", message.as_ref());
    let made = CLASSES.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|c| construct(&c.range_error, &[JsValue::from_str(&message)]))
    });
    made.unwrap_or_else(|| {
        let e = js_sys::RangeError::new(&message);
        crate::js::set(&e, "code", &JsValue::from_str(INTEGER_OUT_OF_RANGE));
        e.into()
    })
}

/// Whether `v` is an instance of the registered `Double` class.
pub fn is_double(v: &JsValue) -> bool {
    CLASSES.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|c| c.double_proto.as_ref())
            .is_some_and(|p| p.is_prototype_of(v))
    })
}

/// A `Double` wrapper around `x` (a plain number when the class is not registered).
pub fn make_double(x: f64) -> JsValue {
    let made = CLASSES.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|c| construct(&c.double, &[JsValue::from_f64(x)]))
    });
    made.unwrap_or_else(|| JsValue::from_f64(x))
}

/// Turn a core result into a JS result.
pub trait IntoJs<T> {
    /// Map the core error to a `TablesyncError`.
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for tablesync::Result<T> {
    fn js(self) -> JsResult<T> {
        self.map_err(core_error)
    }
}
