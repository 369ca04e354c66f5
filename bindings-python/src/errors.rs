//! Python exception classes and the mapping of every core error onto them.
//!
//! Each raised exception carries `.code` (the core's stable code, e.g.
//! `OTSConditionCheckFail`) and `.message` (the text without the code).

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyType;
use tablesync::{Error, ErrorClass};

create_exception!(
    tablesync,
    TablesyncError,
    PyException,
    "Base class of every tablesync error; `.code` is a stable string, `.message` the text."
);
create_exception!(
    tablesync,
    InvalidArgument,
    TablesyncError,
    "A request argument is invalid: bad names, key shape, limits, integers outside i64."
);
create_exception!(
    tablesync,
    ConditionCheckFailed,
    TablesyncError,
    "A row-existence expectation or column condition did not hold (`OTSConditionCheckFail`)."
);
create_exception!(
    tablesync,
    NotFound,
    TablesyncError,
    "The table does not exist (`OTSObjectNotExist`)."
);
create_exception!(
    tablesync,
    AlreadyExists,
    TablesyncError,
    "The table already exists (`OTSObjectAlreadyExist`)."
);
create_exception!(
    tablesync,
    CorruptData,
    TablesyncError,
    "Stored or received bytes are damaged or of an unknown format version."
);
create_exception!(
    tablesync,
    StorageError,
    TablesyncError,
    "The file system failed, or another process holds the directory."
);
create_exception!(
    tablesync,
    DatabaseClosed,
    TablesyncError,
    "The database was closed (`DatabaseClosed`)."
);
create_exception!(
    tablesync,
    SyncError,
    TablesyncError,
    "Applying or shipping changes between regions failed."
);
create_exception!(
    tablesync,
    LogGap,
    SyncError,
    "Records needed to continue were dropped from the change log (`LogGap`)."
);
create_exception!(
    tablesync,
    StorageStopped,
    StorageError,
    "The region stopped accepting writes after a failed fsync; reopen it (`StorageStopped`)."
);
create_exception!(
    tablesync,
    ClockDrift,
    SyncError,
    "A remote stamp lies further ahead of this region's clock than allowed (`ClockDrift`)."
);
create_exception!(
    tablesync,
    PeerProtocolViolation,
    SyncError,
    "A peer sent well-formed bytes that break the protocol's rules (`PeerProtocolViolation`)."
);
create_exception!(
    tablesync,
    Unauthorized,
    TablesyncError,
    "The peer is not allowed to do this (`Unauthorized`)."
);
create_exception!(
    tablesync,
    StaleEpoch,
    TablesyncError,
    "A request carried an epoch older than the region's (`StaleEpoch`)."
);
create_exception!(
    tablesync,
    StaleClusterMap,
    TablesyncError,
    "The request was routed with an old cluster map (`StaleClusterMap`): refresh the map and retry."
);
create_exception!(
    tablesync,
    Cancelled,
    TablesyncError,
    "A progress callback stopped the operation, e.g. `copy_table` (`Cancelled`); the message says what was left behind."
);
create_exception!(
    tablesync,
    InternalError,
    TablesyncError,
    "A bug inside tablesync (a Rust panic); the database involved is closed."
);

/// Code of integers that do not fit a signed 64-bit value.
pub const INTEGER_OUT_OF_RANGE: &str = "IntegerOutOfRange";
/// Code of [`InternalError`].
pub const INTERNAL_ERROR: &str = "InternalError";

/// The Python class for a core error. Exhaustive on purpose (over the
/// core's [`ErrorClass`], since [`Error`] itself is `#[non_exhaustive]`):
/// a new class must be given an exception here before the crate builds.
fn class_of<'py>(py: Python<'py>, e: &Error) -> Bound<'py, PyType> {
    match e.class() {
        ErrorClass::InvalidArgument => py.get_type::<InvalidArgument>(),
        ErrorClass::ConditionCheckFailed => py.get_type::<ConditionCheckFailed>(),
        ErrorClass::NotFound => py.get_type::<NotFound>(),
        ErrorClass::AlreadyExists => py.get_type::<AlreadyExists>(),
        ErrorClass::CorruptData => py.get_type::<CorruptData>(),
        ErrorClass::Storage => py.get_type::<StorageError>(),
        ErrorClass::StorageStopped => py.get_type::<StorageStopped>(),
        ErrorClass::Closed => py.get_type::<DatabaseClosed>(),
        ErrorClass::Sync => py.get_type::<SyncError>(),
        ErrorClass::LogGap => py.get_type::<LogGap>(),
        ErrorClass::ClockDrift => py.get_type::<ClockDrift>(),
        ErrorClass::PeerViolation => py.get_type::<PeerProtocolViolation>(),
        ErrorClass::Unauthorized => py.get_type::<Unauthorized>(),
        ErrorClass::StaleEpoch => py.get_type::<StaleEpoch>(),
        ErrorClass::StaleClusterMap => py.get_type::<StaleClusterMap>(),
        ErrorClass::Cancelled => py.get_type::<Cancelled>(),
    }
}

/// Build (without raising) an exception instance of `class` with `.code` and `.message`.
pub fn make_exception<'py>(
    class: &Bound<'py, PyType>,
    code: &str,
    message: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let inst = class.call1((format!("{code}: {message}"),))?;
    inst.setattr("code", code)?;
    inst.setattr("message", message)?;
    Ok(inst)
}

/// A core error as an exception instance (used for per-operation batch results).
pub fn error_object<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyAny>> {
    make_exception(&class_of(py, e), e.code(), &e.message())
}

/// A core error as a `PyErr` ready to raise.
pub fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| match error_object(py, &e) {
        Ok(obj) => PyErr::from_value(obj),
        Err(err) => err,
    })
}

/// An `InvalidArgument` with a given code.
pub fn invalid_with_code(code: &str, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(
        |py| match make_exception(&py.get_type::<InvalidArgument>(), code, &message) {
            Ok(obj) => PyErr::from_value(obj),
            Err(err) => err,
        },
    )
}

/// An `InvalidArgument` with the core's `OTSParameterInvalid` code.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_py_err(Error::invalid(message))
}

/// An `InternalError` (a caught panic).
pub fn internal(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| {
        match make_exception(&py.get_type::<InternalError>(), INTERNAL_ERROR, &message) {
            Ok(obj) => PyErr::from_value(obj),
            Err(err) => err,
        }
    })
}

/// A `TypeError` naming what was expected and what came.
pub fn type_error(what: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let tname = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{what} must be {expected}, not {tname}"))
}

/// Extension: `Result<T, tablesync::Error>` → `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Map the core error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// Add the exception classes to the module, each with class-level defaults
/// of `code` and `message` (so user-made instances have them too).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let classes: [(&str, Bound<'_, PyType>, &str); 18] = [
        (
            "TablesyncError",
            py.get_type::<TablesyncError>(),
            "TablesyncError",
        ),
        (
            "InvalidArgument",
            py.get_type::<InvalidArgument>(),
            "OTSParameterInvalid",
        ),
        (
            "ConditionCheckFailed",
            py.get_type::<ConditionCheckFailed>(),
            "OTSConditionCheckFail",
        ),
        ("NotFound", py.get_type::<NotFound>(), "OTSObjectNotExist"),
        (
            "AlreadyExists",
            py.get_type::<AlreadyExists>(),
            "OTSObjectAlreadyExist",
        ),
        ("CorruptData", py.get_type::<CorruptData>(), "CorruptData"),
        ("StorageError", py.get_type::<StorageError>(), "StorageIo"),
        (
            "DatabaseClosed",
            py.get_type::<DatabaseClosed>(),
            "DatabaseClosed",
        ),
        ("SyncError", py.get_type::<SyncError>(), "SyncError"),
        ("LogGap", py.get_type::<LogGap>(), "LogGap"),
        (
            "StorageStopped",
            py.get_type::<StorageStopped>(),
            "StorageStopped",
        ),
        ("ClockDrift", py.get_type::<ClockDrift>(), "ClockDrift"),
        (
            "PeerProtocolViolation",
            py.get_type::<PeerProtocolViolation>(),
            "PeerProtocolViolation",
        ),
        (
            "Unauthorized",
            py.get_type::<Unauthorized>(),
            "Unauthorized",
        ),
        ("StaleEpoch", py.get_type::<StaleEpoch>(), "StaleEpoch"),
        (
            "StaleClusterMap",
            py.get_type::<StaleClusterMap>(),
            "StaleClusterMap",
        ),
        ("Cancelled", py.get_type::<Cancelled>(), "Cancelled"),
        (
            "InternalError",
            py.get_type::<InternalError>(),
            INTERNAL_ERROR,
        ),
    ];
    for (name, class, code) in classes {
        class.setattr("code", code)?;
        class.setattr("message", "")?;
        m.add(name, class)?;
    }
    Ok(())
}
