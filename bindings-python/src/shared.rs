//! A core database behind a mutex, shared by Python threads (and by a
//! sync server started with `Database.serve`, which holds the same
//! `Arc<Mutex<_>>`).
//!
//! The lock is only ever waited for with the GIL released, so a thread that
//! holds it can always take the GIL back (for a progress callback) without a
//! deadlock. A thread calling into a database it is already inside (from a
//! callback) gets a `RuntimeError` instead of waiting for itself. A Rust
//! panic never reaches Python as `PanicException`: it becomes an
//! `InternalError` and the database involved is closed.

use crate::errors::{internal, to_py_err};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use tablesync::{Database as CoreDb, DatabaseOptions, Error};

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

fn this_thread() -> u64 {
    THREAD.with(|t| *t)
}

/// Why a locked call did not return a value.
pub enum Failure {
    /// The core said no.
    Core(Error),
    /// The core panicked (a bug); the message.
    Panic(String),
    /// The calling thread already holds this database's lock.
    Reentrant,
}

impl Failure {
    /// The Python exception.
    pub fn into_py_err(self) -> PyErr {
        match self {
            Failure::Core(e) => to_py_err(e),
            Failure::Panic(m) => internal(format!(
                "internal error (the database was closed to protect its data): {m}"
            )),
            Failure::Reentrant => PyRuntimeError::new_err(
                "this Database is busy in the current thread (called from inside one of its own callbacks)",
            ),
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

type Slot = CoreDb;

/// One core database; closed in place by `close()` (the core then answers
/// every call with `DatabaseClosed`, here and in a server sharing it).
pub struct Shared {
    cell: Arc<Mutex<Slot>>,
    owner: AtomicU64,
}

/// A closed stand-in for a database that panicked: the damaged one is
/// dropped, as if closed, and every later call gets `DatabaseClosed`.
fn closed_stand_in(region: &str) -> Option<CoreDb> {
    let mut db = CoreDb::memory(DatabaseOptions::new(region))
        .or_else(|_| CoreDb::memory(DatabaseOptions::new("closed")))
        .ok()?;
    let _ = db.close();
    Some(db)
}

/// Replace a database that panicked by a closed stand-in.
fn poison(slot: &mut Slot) {
    match closed_stand_in(slot.region()) {
        Some(stand_in) => *slot = stand_in,
        None => {
            let _ = slot.close();
        }
    }
}

impl Shared {
    /// Share a database.
    pub fn new(db: CoreDb) -> Self {
        Shared {
            cell: Arc::new(Mutex::new(db)),
            owner: AtomicU64::new(0),
        }
    }

    /// The mutex itself, for a server that answers requests on this database.
    pub fn arc(&self) -> Arc<Mutex<CoreDb>> {
        self.cell.clone()
    }

    /// Whether two handles share one database.
    pub fn same(&self, other: &Shared) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.cell.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn exec<R>(
        &self,
        slot: &mut Slot,
        f: impl FnOnce(&mut CoreDb) -> Result<R, Error>,
    ) -> Result<R, Failure> {
        if slot.is_closed() {
            return Err(Failure::Core(Error::Closed));
        }
        self.owner.store(this_thread(), Ordering::SeqCst);
        let r = catch_unwind(AssertUnwindSafe(|| {
            let r = f(slot).map_err(Failure::Core);
            // A paged region: reads fault pages in; trim them back to the
            // cache while this call holds the region exclusively.
            slot.maybe_trim_cache();
            r
        }));
        self.owner.store(0, Ordering::SeqCst);
        r.unwrap_or_else(|p| {
            poison(slot);
            Err(Failure::Panic(panic_message(p)))
        })
    }

    fn check_reentry(&self) -> Result<(), Failure> {
        if self.owner.load(Ordering::SeqCst) == this_thread() {
            Err(Failure::Reentrant)
        } else {
            Ok(())
        }
    }

    /// Run `f` on the database. With `detach` the GIL is released for the
    /// whole call (long or I/O-bound work); otherwise it is released only
    /// while waiting for another thread to finish.
    pub fn run<R: Send>(
        &self,
        py: Python<'_>,
        detach: bool,
        f: impl FnOnce(&mut CoreDb) -> Result<R, Error> + Send,
    ) -> PyResult<R> {
        self.run_raw(py, detach, f).map_err(Failure::into_py_err)
    }

    /// Like [`run`](Self::run) but keeps the failure unconverted.
    pub fn run_raw<R: Send>(
        &self,
        py: Python<'_>,
        detach: bool,
        f: impl FnOnce(&mut CoreDb) -> Result<R, Error> + Send,
    ) -> Result<R, Failure> {
        self.check_reentry()?;
        if detach {
            return py.detach(|| self.exec(&mut self.lock(), f));
        }
        match self.cell.try_lock() {
            Ok(mut g) => self.exec(&mut g, f),
            Err(TryLockError::Poisoned(p)) => self.exec(&mut p.into_inner(), f),
            Err(TryLockError::WouldBlock) => py.detach(|| self.exec(&mut self.lock(), f)),
        }
    }

    /// Run `f` on two different databases, both locked (in a fixed order, so
    /// two threads copying in opposite directions cannot deadlock), GIL released.
    pub fn run_pair<R: Send>(
        py: Python<'_>,
        a: &Shared,
        b: &Shared,
        f: impl FnOnce(&mut CoreDb, &mut CoreDb) -> Result<R, Error> + Send,
    ) -> PyResult<R> {
        Self::run_pair_raw(py, a, b, f).map_err(Failure::into_py_err)
    }

    /// Like [`run_pair`](Self::run_pair) but keeps the failure unconverted.
    pub fn run_pair_raw<R: Send>(
        py: Python<'_>,
        a: &Shared,
        b: &Shared,
        f: impl FnOnce(&mut CoreDb, &mut CoreDb) -> Result<R, Error> + Send,
    ) -> Result<R, Failure> {
        if a.same(b) {
            return Err(Failure::Core(Error::invalid(
                "both sides are the same database",
            )));
        }
        a.check_reentry()?;
        b.check_reentry()?;
        py.detach(|| {
            let a_first = Arc::as_ptr(&a.cell) < Arc::as_ptr(&b.cell);
            let (mut ga, mut gb);
            if a_first {
                ga = a.lock();
                gb = b.lock();
            } else {
                gb = b.lock();
                ga = a.lock();
            }
            if ga.is_closed() || gb.is_closed() {
                return Err(Failure::Core(Error::Closed));
            }
            let me = this_thread();
            a.owner.store(me, Ordering::SeqCst);
            b.owner.store(me, Ordering::SeqCst);
            let r = catch_unwind(AssertUnwindSafe(|| {
                f(&mut ga, &mut gb).map_err(Failure::Core)
            }));
            a.owner.store(0, Ordering::SeqCst);
            b.owner.store(0, Ordering::SeqCst);
            r.unwrap_or_else(|p| {
                poison(&mut ga);
                poison(&mut gb);
                Err(Failure::Panic(panic_message(p)))
            })
        })
    }

    /// Close the database in place (flushing it), waiting with the GIL
    /// released. Idempotent: closing a closed database does nothing.
    pub fn close(&self, py: Python<'_>) -> Result<(), Failure> {
        self.check_reentry()?;
        py.detach(|| {
            let mut g = self.lock();
            catch_unwind(AssertUnwindSafe(|| g.close().map_err(Failure::Core))).unwrap_or_else(
                |p| {
                    poison(&mut g);
                    Err(Failure::Panic(panic_message(p)))
                },
            )
        })
    }
}
