//! The served region: a database behind a lock, a "failed" latch set by a
//! panic in a handler, and a signal raised after every commit.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tablesync::{Database, Error};
use tokio::sync::watch;

/// A database shared with the server. With [`SharedDb::RwLock`] reads run in
/// parallel; with [`SharedDb::Mutex`] (what the Python binding shares with its
/// own callers) every request takes the one lock in turn.
#[derive(Clone, Debug)]
pub enum SharedDb {
    /// One request at a time.
    Mutex(Arc<Mutex<Database>>),
    /// Readers in parallel, one writer at a time.
    RwLock(Arc<RwLock<Database>>),
}

impl From<Arc<Mutex<Database>>> for SharedDb {
    fn from(db: Arc<Mutex<Database>>) -> Self {
        SharedDb::Mutex(db)
    }
}

impl From<Arc<RwLock<Database>>> for SharedDb {
    fn from(db: Arc<RwLock<Database>>) -> Self {
        SharedDb::RwLock(db)
    }
}

impl From<Database> for SharedDb {
    fn from(db: Database) -> Self {
        SharedDb::RwLock(Arc::new(RwLock::new(db)))
    }
}

impl SharedDb {
    /// Run `f` with the database for reading.
    pub fn with_read<T>(&self, f: impl FnOnce(&Database) -> T) -> T {
        match self {
            SharedDb::Mutex(m) => {
                let mut db = m.lock().unwrap_or_else(PoisonError::into_inner);
                let out = f(&db);
                db.maybe_trim_cache();
                out
            }
            SharedDb::RwLock(l) => {
                let (out, due) = {
                    let db = l.read().unwrap_or_else(PoisonError::into_inner);
                    (f(&db), db.cache_trim_due())
                };
                // A paged region: pages the reads faulted in are trimmed
                // back to the cache under the write lock, now and then.
                if due {
                    l.write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .maybe_trim_cache();
                }
                out
            }
        }
    }

    /// Run `f` with the database for writing.
    pub fn with_write<T>(&self, f: impl FnOnce(&mut Database) -> T) -> T {
        match self {
            SharedDb::Mutex(m) => f(&mut m.lock().unwrap_or_else(PoisonError::into_inner)),
            SharedDb::RwLock(l) => f(&mut l.write().unwrap_or_else(PoisonError::into_inner)),
        }
    }
}

/// Why a region call did not produce a value.
#[derive(Debug)]
pub enum Refusal {
    /// The database answered with an error (nothing was applied).
    Db(Error),
    /// An earlier panic left the region closed to requests.
    Failed,
    /// This call panicked; the region is now failed.
    Panicked,
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Db(e)
    }
}

/// The served region.
pub struct Region {
    db: SharedDb,
    failed: AtomicBool,
    commits: watch::Sender<u64>,
    fault: Option<crate::config::FaultHook>,
    ages: crate::digest_age::DigestAges,
    /// Writers queue here, not on the database lock, so at most one writer
    /// ever waits there: a reader then waits for at most the commit in
    /// progress (a writer-preferring lock would otherwise make it wait for
    /// every queued writer).
    writers: Mutex<()>,
    /// Readers blocked on the database lock: the next writer lets them in
    /// first (the lock lets a writer barge past readers it just woke).
    waiting_readers: AtomicUsize,
}

/// How long a writer holding its turn lets blocked readers go first.
const READERS_FIRST: Duration = Duration::from_millis(5);

impl Region {
    /// Wrap `db`.
    pub fn new(db: SharedDb, fault: Option<crate::config::FaultHook>) -> Region {
        let (commits, _) = watch::channel(0);
        let r = Region {
            db,
            failed: AtomicBool::new(false),
            commits,
            fault,
            ages: Default::default(),
            writers: Mutex::new(()),
            waiting_readers: AtomicUsize::new(0),
        };
        r.db.with_read(|db| r.ages.observe(db));
        r
    }

    /// Whether a panic closed the region.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Whether the database is open (and not failed).
    pub fn ready(&self) -> bool {
        !self.failed() && self.db.with_read(|db| !db.is_closed())
    }

    /// When each table's digest last changed.
    pub fn digest_ages(&self) -> &crate::digest_age::DigestAges {
        &self.ages
    }

    /// A receiver that changes after every write.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Run a read named `op` under the read lock (in parallel with other
    /// reads). A panic inside it fails the region too (its state may be
    /// inconsistent in ways the read revealed).
    pub fn read<T>(
        &self,
        op: &str,
        f: impl FnOnce(&Database) -> tablesync::Result<T>,
    ) -> Result<T, Refusal> {
        if self.failed() {
            return Err(Refusal::Failed);
        }
        self.waiting_readers.fetch_add(1, Ordering::SeqCst);
        let r = self.db.with_read(|db| {
            self.waiting_readers.fetch_sub(1, Ordering::SeqCst);
            catch_unwind(AssertUnwindSafe(|| {
                if let Some(h) = &self.fault {
                    (h.0)(op);
                }
                f(db)
            }))
        });
        self.settle(r)
    }

    /// Run a write named `op` under the write lock; on success the commit
    /// signal fires. A panic fails the region: no later request is served
    /// from a possibly half-updated database.
    pub fn write<T>(
        &self,
        op: &str,
        f: impl FnOnce(&mut Database) -> tablesync::Result<T>,
    ) -> Result<T, Refusal> {
        if self.failed() {
            return Err(Refusal::Failed);
        }
        let _turn = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
        let t = Instant::now();
        while self.waiting_readers.load(Ordering::SeqCst) > 0 && t.elapsed() < READERS_FIRST {
            std::thread::yield_now();
        }
        let r = self.db.with_write(|db| {
            // Checked again under the lock: a writer that panicked while we
            // waited must not be followed.
            if self.failed() {
                return None;
            }
            Some(catch_unwind(AssertUnwindSafe(|| {
                if let Some(h) = &self.fault {
                    (h.0)(op);
                }
                let out = f(db);
                if out.is_ok() {
                    self.ages.observe(db);
                }
                out
            })))
        });
        let Some(r) = r else {
            return Err(Refusal::Failed);
        };
        let out = self.settle(r);
        if out.is_ok() {
            self.commits.send_modify(|n| *n += 1);
        }
        out
    }

    fn settle<T>(&self, r: std::thread::Result<tablesync::Result<T>>) -> Result<T, Refusal> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Refusal::Db(e)),
            Err(_) => {
                self.failed.store(true, Ordering::SeqCst);
                tracing::error!("a handler panicked; the region refuses further requests");
                // Wake long polls so they see the failure.
                self.commits.send_modify(|n| *n += 1);
                Err(Refusal::Panicked)
            }
        }
    }
}
