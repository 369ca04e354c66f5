//! The served region: a database behind a lock, a "failed" latch set by a
//! panic in a handler, a signal raised after every commit, and the read
//! view that serves reads while a writer holds the lock (docs/SERVER.md
//! "Reads during a commit").

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tablesync::{Database, Error, ReadView, RegionRead};
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

    /// Run `f` with the database for reading if no writer holds it now;
    /// `None` (without waiting) if one does.
    pub fn try_read<T>(&self, f: impl FnOnce(&Database) -> T) -> Option<T> {
        match self {
            SharedDb::Mutex(m) => match m.try_lock() {
                Ok(g) => Some(f(&g)),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(f(&p.into_inner())),
                Err(std::sync::TryLockError::WouldBlock) => None,
            },
            SharedDb::RwLock(l) => match l.try_read() {
                Ok(g) => Some(f(&g)),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(f(&p.into_inner())),
                Err(std::sync::TryLockError::WouldBlock) => None,
            },
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
    /// The view [`Region::read_view`] serves while a writer holds the lock.
    views: Mutex<Published>,
    /// Raised when a writer publishes a view.
    published: Condvar,
    /// Whether a read came since the last commit.
    readers_active: AtomicBool,
    /// When the last commit that saw `readers_active` ran: commits publish
    /// a view while reads came within [`READ_WINDOW`] of it (a view makes
    /// a commit copy the page index of each table it writes, so a region
    /// nobody reads publishes none).
    last_read: Mutex<Option<Instant>>,
}

/// The read view and whether the writer holding the lock vouches for it.
#[derive(Default)]
struct Published {
    /// The newest view taken (dropped once a commit makes it stale).
    view: Option<Arc<ReadView>>,
    /// Set by a writer, under the write lock, after it checked (or took)
    /// `view` as the state before its commit; cleared before it releases
    /// the lock. Readers use `view` only while this is set.
    serving: bool,
}

/// How long a reader that found the lock held without a view waits for a
/// writer to publish one before it looks again.
const VIEW_POLL: Duration = Duration::from_millis(1);

/// How many times it looks before it queues on the lock like any reader.
const VIEW_POLLS: usize = 10;

/// How long after a read commits keep publishing views.
const READ_WINDOW: Duration = Duration::from_secs(1);

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
            views: Mutex::default(),
            published: Condvar::new(),
            readers_active: AtomicBool::new(false),
            last_read: Mutex::new(None),
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

    /// Run a read named `op` that needs only [`RegionRead`] (gets, ranges,
    /// scans, digests, the change log): on the database when no writer
    /// holds it, else on the read view the writer published before it
    /// began its commit, so the read never waits for a commit (fsync
    /// included). Either way it sees every write acknowledged before it
    /// began (docs/SERVER.md "Reads during a commit"). A panic inside it
    /// fails the region, as in [`read`](Self::read).
    pub fn read_view<T>(
        &self,
        op: &str,
        f: impl FnOnce(&dyn RegionRead) -> tablesync::Result<T>,
    ) -> Result<T, Refusal> {
        if self.failed() {
            return Err(Refusal::Failed);
        }
        self.readers_active.store(true, Ordering::SeqCst);
        let run = |r: &dyn RegionRead| {
            catch_unwind(AssertUnwindSafe(|| {
                if let Some(h) = &self.fault {
                    (h.0)(op);
                }
                f(r)
            }))
        };
        let mut run = Some(run);
        for _ in 0..VIEW_POLLS {
            if let Some(r) = self.db.try_read(|db| run.take().map(|run| run(db))) {
                let Some(r) = r else {
                    return Err(Refusal::Failed);
                };
                return self.settle(r);
            }
            let p = self.views.lock().unwrap_or_else(PoisonError::into_inner);
            let p = if p.serving {
                p
            } else {
                // Held by a writer that has not published yet (or by one
                // outside the region, e.g. the fold driver): look again
                // when a view is published or shortly.
                self.published
                    .wait_timeout(p, VIEW_POLL)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            };
            if let (true, Some(view)) = (p.serving, p.view.clone()) {
                drop(p);
                let Some(run) = run.take() else {
                    return Err(Refusal::Failed);
                };
                return self.settle(run(&*view));
            }
        }
        // No view for a while: a holder that publishes none (the fold
        // driver, the host process) or a run of commits without reads.
        // Queue on the lock as `read` does rather than poll on.
        self.waiting_readers.fetch_add(1, Ordering::SeqCst);
        let r = self.db.with_read(|db| {
            self.waiting_readers.fetch_sub(1, Ordering::SeqCst);
            run.take().map(|run| run(db))
        });
        match r {
            Some(r) => self.settle(r),
            None => Err(Refusal::Failed),
        }
    }

    /// Under the write lock, before a commit: make the published view the
    /// state the commit starts from and vouch for it — when reads came
    /// within [`READ_WINDOW`]; otherwise a reader arriving now looks again
    /// after this commit.
    fn publish(&self, db: &Database) {
        let now = Instant::now();
        let recent = {
            let mut last = self
                .last_read
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if self.readers_active.swap(false, Ordering::SeqCst) {
                *last = Some(now);
            }
            last.is_some_and(|t| now.duration_since(t) < READ_WINDOW)
        };
        let mut p = self.views.lock().unwrap_or_else(PoisonError::into_inner);
        if !recent {
            p.serving = false;
            if p.view.as_ref().is_some_and(|v| !v.is_current(db)) {
                p.view = None;
            }
            return;
        }
        if !p.view.as_ref().is_some_and(|v| v.is_current(db)) {
            p.view = db.read_view().ok().map(Arc::new);
        }
        p.serving = p.view.is_some();
        drop(p);
        self.published.notify_all();
    }

    /// Under the write lock, after a commit: stop vouching for the view
    /// (and drop it if the commit changed the database, so it holds no
    /// pages the database no longer shares).
    fn unpublish(&self, db: &Database) {
        let mut p = self.views.lock().unwrap_or_else(PoisonError::into_inner);
        p.serving = false;
        if p.view.as_ref().is_some_and(|v| !v.is_current(db)) {
            p.view = None;
        }
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
            self.publish(db);
            let out = catch_unwind(AssertUnwindSafe(|| {
                if let Some(h) = &self.fault {
                    (h.0)(op);
                }
                let out = f(db);
                if out.is_ok() {
                    self.ages.observe(db);
                }
                out
            }));
            self.unpublish(db);
            Some(out)
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
