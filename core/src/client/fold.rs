//! Background folds of the delta-checkpoint chain (docs/ENGINE.md
//! "Checkpoints", FORMAT.md §12 "Background fold").
//!
//! A fold turns the full checkpoint and the deltas on it into one full
//! checkpoint. Done inline it serializes the whole region inside some
//! writer's commit; here it is three steps, so a native driver (the server,
//! `tablesync replicate`) runs the heavy one on a thread of its own:
//!
//! 1. [`Database::begin_fold`] (under the driver's lock, cheap: file names
//!    and numbers) returns a [`Fold`];
//! 2. [`Fold::run`] (no database, no lock) reads the chain's files, merges
//!    them into the snapshot opening them would give (at the byte level,
//!    `fold_bytes.rs`: no row is decoded or hashed), and writes and proves
//!    the folded checkpoint — it never sees the live tables, so writers go
//!    on meanwhile, and their deltas keep chaining on top of the fold;
//! 3. [`Database::finish_fold`] (under the lock, cheap) makes it the
//!    chain's base and removes what it replaced.
//!
//! The core stays single-threaded: it never starts the thread itself.

use super::database::Database;
use crate::clock::Clock;
use crate::model::error::{Error, Result};
use crate::storage::{FoldPlan, MemoryStorage};
use std::sync::Arc;

/// A fold in progress: the heavy step, to run anywhere (it is `Send`).
#[must_use = "a begun fold must be run and finished (finish_fold), or no other fold starts"]
pub struct Fold {
    plan: FoldPlan,
    region: String,
    clock: Arc<dyn Clock>,
}

/// What [`Fold::run`] produced, for [`Database::finish_fold`].
#[derive(Debug)]
#[must_use = "hand it to Database::finish_fold"]
pub struct FoldDone {
    covers: u64,
    result: Result<u64>,
}

impl FoldDone {
    /// The commit sequence number the folded checkpoint covers up to.
    pub fn covers(&self) -> u64 {
        self.covers
    }

    /// The folded snapshot's size in bytes, or why the fold failed.
    pub fn result(&self) -> std::result::Result<u64, &Error> {
        self.result.as_ref().copied()
    }
}

impl std::fmt::Debug for Fold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fold")
            .field("region", &self.region)
            .field("covers", &self.plan.covers)
            .finish()
    }
}

impl Fold {
    /// The commit sequence number the folded checkpoint will cover up to.
    pub fn covers(&self) -> u64 {
        self.plan.covers
    }

    /// Read the chain, rebuild the region it holds, write the folded full
    /// checkpoint and read it back. Heavy (the region's size); touches no
    /// database. Errors come back inside the [`FoldDone`].
    pub fn run(self) -> FoldDone {
        let covers = self.plan.covers;
        FoldDone {
            covers,
            result: self.fold(),
        }
    }

    fn fold(&self) -> Result<u64> {
        let (base, deltas) = self.plan.files.read_chain()?;
        let snapshot = match super::fold_bytes::fold_frames(&base, &deltas)? {
            Some(s) => s,
            None => self.fold_loaded(&base, &deltas)?,
        };
        self.plan.files.write_folded(&snapshot)?;
        Ok(snapshot.len() as u64)
    }

    /// The fold of a legacy (version 1) base: load it, apply the deltas,
    /// export — the same steps as opening.
    fn fold_loaded(&self, base: &[u8], deltas: &[Vec<u8>]) -> Result<Vec<u8>> {
        let mut db = super::snapshot::decode(base, self.clock.clone(), Box::new(MemoryStorage))?;
        if db.region != self.region {
            return Err(Error::corrupt(format!(
                "the checkpoint under the delta chain is of region '{}', not '{}'",
                db.region, self.region
            )));
        }
        for d in deltas {
            db.apply_delta(d)?;
        }
        db.export_snapshot()
    }
}

impl Database {
    /// Let a driver fold the delta-checkpoint chain in the background
    /// ([`fold_due`](Self::fold_due), [`begin_fold`](Self::begin_fold),
    /// [`Fold::run`] on its own thread, [`finish_fold`](Self::finish_fold)).
    /// Commits then fold inline only when the chain grows to 4× the usual
    /// limits (a fold that fell far behind). Off by default; a no-op in memory.
    pub fn set_background_folds(&mut self, on: bool) {
        self.storage.set_background_folds(on);
    }

    /// Whether background folds are on, none is in flight, and the chain
    /// reached the length (64 deltas, or half the full checkpoint's size)
    /// at which a fold should start.
    pub fn fold_due(&self) -> bool {
        !self.closed && self.storage.fold_due()
    }

    /// Start folding the current chain (cheap); `None` when there is no
    /// delta to fold or a fold is in flight. Run the returned [`Fold`]
    /// (anywhere), then hand its result to [`finish_fold`](Self::finish_fold)
    /// before closing the database.
    pub fn begin_fold(&mut self) -> Result<Option<Fold>> {
        self.check_open()?;
        Ok(self.storage.begin_fold()?.map(|plan| Fold {
            plan,
            region: self.region.clone(),
            clock: self.clock.clone(),
        }))
    }

    /// Install a finished fold (cheap): `true` when the folded checkpoint is
    /// now the chain's base, `false` when a full checkpoint replaced the
    /// chain while it ran (nothing to do). A failed fold changes nothing:
    /// its error is counted in [`health`](Self::health) and returned.
    pub fn finish_fold(&mut self, done: FoldDone) -> Result<bool> {
        self.check_open()?;
        let r = self.storage.finish_fold(done.covers, done.result);
        if let Err(e) = &r {
            self.note_background_error(e);
        }
        r
    }
}
