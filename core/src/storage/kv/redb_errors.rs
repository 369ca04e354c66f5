//! redb's errors as the crate's typed [`Error`], and a guard that turns a
//! panic inside redb (its reads trust page contents that only a repair
//! checks) into `CorruptData` instead of unwinding into the caller.

use super::redb_backend::Fence;
use crate::model::error::{Error, Result};
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// Map a redb error met while doing `what`.
pub(super) fn map_err(what: &str, e: impl Into<redb::Error>) -> Error {
    match e.into() {
        // redb reports a file too short for its layout, or a header it
        // cannot parse, as these I/O errors: damage, not a failing disk.
        redb::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            Error::corrupt(format!("{what}: the page store file is damaged: {e}"))
        }
        redb::Error::Io(e) => Error::io(format!("{what} (page store file)"), e),
        redb::Error::Corrupted(m) => {
            Error::corrupt(format!("{what}: the page store file is damaged: {m}"))
        }
        redb::Error::UpgradeRequired(v) => Error::UnsupportedVersion(format!(
            "{what}: the page store file has redb file format {v}, this build reads another"
        )),
        redb::Error::ValueTooLarge(n) => Error::invalid(format!(
            "{what}: a value of {n} bytes is over the page store's 3 GiB limit"
        )),
        redb::Error::PreviousIo => Error::Stopped(format!(
            "{what}: the page store stopped after an earlier I/O error; reopen it"
        )),
        redb::Error::LockPoisoned(_) => Error::Stopped(format!(
            "{what}: the page store stopped after an earlier failure; reopen it"
        )),
        redb::Error::DatabaseClosed => Error::Closed,
        redb::Error::DatabaseAlreadyOpen => {
            Error::Locked(format!("{what}: the page store file is open elsewhere"))
        }
        e @ (redb::Error::TableDoesNotExist(_)
        | redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TableIsNotMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => Error::corrupt(format!(
            "{what}: the page store file does not hold the expected tables: {e}"
        )),
        other => Error::io_msg(format!("{what} (page store file): {other}")),
    }
}

/// A panic raised by the caller's own callback, carried through [`guard`]
/// untouched.
struct CallerPanic(Box<dyn Any + Send>);

/// Run the caller's callback `f`; a panic in it unwinds as the caller's,
/// never as damage (see [`guard`]).
pub(super) fn caller<T>(f: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => panic::resume_unwind(Box::new(CallerPanic(p))),
    }
}

/// Run `f` (calls into redb) and turn a panic inside redb into
/// `CorruptData`; the store is then stopped (its in-memory state is no
/// longer trusted). Needs unwinding panics (`panic = "unwind"`, the
/// default); with `panic = "abort"` such damage aborts the process.
pub(super) fn guard<T>(fence: &Fence, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let p = match p.downcast::<CallerPanic>() {
                Ok(mine) => panic::resume_unwind(mine.0),
                Err(p) => p,
            };
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            fence.stop(format!("redb failed on damaged data: {msg}"));
            Err(Error::corrupt(format!(
                "{what}: the page store file is damaged (redb failed: {msg})"
            )))
        }
    }
}
