//! The native driver of background checkpoints (issues 11 and 13): a
//! thread that writes a shared database's delta checkpoints and folds its
//! delta-checkpoint chain into a full checkpoint while writers go on. The
//! core decides when one is due and does the work
//! ([`tablesync::DeltaCheckpoint`], [`tablesync::Fold`]); this only holds
//! the lock for the cheap steps and runs the heavy ones without it.

use crate::region::SharedDb;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread asks whether a fold is due.
const POLL: Duration = Duration::from_millis(20);

/// At most one fold (or background full checkpoint) runs at a time in a
/// process (`replicate` folds SRC and DST): a fold takes a core for a while, and the writers and links need
/// the others. A fold waiting here is already begun, so its chain only
/// grows by deltas meanwhile (no commit folds inline for it).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Background delta checkpoints and folds of one shared database, on a
/// thread of their own. [`stop`](Self::stop) (or dropping it) waits for a
/// delta or fold in flight to be installed, so the database may be closed
/// afterwards.
#[derive(Debug)]
pub struct BackgroundFolds {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundFolds {
    /// Turn background deltas and folds on for `db` and start the thread.
    /// A failed delta or fold is counted in the database's `health()`; a
    /// fold is retried when due, a failed delta makes the next checkpoint
    /// a full one.
    pub fn start(db: SharedDb) -> std::io::Result<BackgroundFolds> {
        db.with_write(|d| {
            d.set_background_folds(true);
            d.set_background_deltas(true);
        });
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tablesync-fold".into())
            .spawn(move || run(&db, &s))?;
        Ok(BackgroundFolds {
            stop,
            thread: Some(thread),
        })
    }

    /// Stop the thread, after the fold in flight (if any) is installed.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for BackgroundFolds {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The heavy step the thread runs next.
enum Work {
    Delta(tablesync::DeltaCheckpoint),
    Fold(tablesync::Fold),
}

fn run(db: &SharedDb, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        // Asked under the read lock first: a thread waiting for the write
        // lock would hold up every new reader behind a slow read (the lock
        // prefers writers), so the write lock is taken only when work is
        // due. Then, cheap, under the lock: what it covers (a delta first:
        // it bounds the log to replay and the lag behind it).
        let due = db.with_read(|d| d.delta_due() || d.fold_due());
        let work = if due {
            db.with_write(|d| {
                if d.delta_due() {
                    d.begin_delta().ok().flatten().map(Work::Delta)
                } else if d.fold_due() {
                    d.begin_fold().ok().flatten().map(Work::Fold)
                } else {
                    None
                }
            })
        } else {
            None
        };
        match work {
            Some(Work::Delta(c)) => {
                // Encode, compress, write and fsync without the lock. A
                // delta is not behind ONE_AT_A_TIME (it is small, and the
                // log waits on it); the full checkpoint the chain needs
                // (the region's size, like a fold) is.
                let gate = c
                    .is_full()
                    .then(|| ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner));
                let done = c.run();
                drop(gate);
                // Cheap, under the lock; a failure is already in health().
                let _ = db.with_write(|d| d.finish_delta(done));
            }
            Some(Work::Fold(f)) => {
                // Heavy, without the database's lock: writers go on meanwhile.
                let gate = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
                let done = f.run();
                drop(gate);
                // Cheap, under the lock; a failure is already in health().
                let _ = db.with_write(|d| d.finish_fold(done));
            }
            None => std::thread::sleep(POLL),
        }
    }
    db.with_write(|d| {
        d.set_background_deltas(false);
        d.set_background_folds(false);
    });
}
