//! A core database behind a mutex, shared by Python threads.
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
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use tablesync::{Database as CoreDb, Error};

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

type Slot = Option<CoreDb>;

/// One core database, `None` once closed.
pub struct Shared {
    cell: Mutex<Slot>,
    owner: AtomicU64,
}

impl Shared {
    /// Share a database.
    pub fn new(db: CoreDb) -> Self {
        Shared {
            cell: Mutex::new(Some(db)),
            owner: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.cell.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn exec<R>(
        &self,
        slot: &mut Slot,
        f: impl FnOnce(&mut CoreDb) -> Result<R, Error>,
    ) -> Result<R, Failure> {
        self.owner.store(this_thread(), Ordering::SeqCst);
        let r = catch_unwind(AssertUnwindSafe(|| match slot.as_mut() {
            Some(db) => f(db).map_err(Failure::Core),
            None => Err(Failure::Core(Error::Closed)),
        }));
        self.owner.store(0, Ordering::SeqCst);
        r.unwrap_or_else(|p| {
            *slot = None;
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
        let go = || -> Result<R, Failure> {
            a.check_reentry()?;
            b.check_reentry()?;
            py.detach(|| {
                let a_first = (a as *const Shared) < (b as *const Shared);
                let (mut ga, mut gb);
                if a_first {
                    ga = a.lock();
                    gb = b.lock();
                } else {
                    gb = b.lock();
                    ga = a.lock();
                }
                let me = this_thread();
                a.owner.store(me, Ordering::SeqCst);
                b.owner.store(me, Ordering::SeqCst);
                let r = catch_unwind(AssertUnwindSafe(|| match (ga.as_mut(), gb.as_mut()) {
                    (Some(x), Some(y)) => f(x, y).map_err(Failure::Core),
                    _ => Err(Failure::Core(Error::Closed)),
                }));
                a.owner.store(0, Ordering::SeqCst);
                b.owner.store(0, Ordering::SeqCst);
                r.unwrap_or_else(|p| {
                    *ga = None;
                    *gb = None;
                    Err(Failure::Panic(panic_message(p)))
                })
            })
        };
        go().map_err(Failure::into_py_err)
    }

    /// Take the database out (closing), waiting with the GIL released.
    pub fn take(&self, py: Python<'_>) -> Result<Option<CoreDb>, Failure> {
        self.check_reentry()?;
        Ok(py.detach(|| self.lock().take()))
    }
}
