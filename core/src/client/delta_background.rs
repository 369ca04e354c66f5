//! Background delta checkpoints (issues 11 and 13, docs/ENGINE.md
//! "Checkpoints", FORMAT.md §12 "Background delta"): a delta checkpoint in
//! three steps, so a native driver (the server, `tablesync replicate`)
//! writes it on a thread of its own instead of inside some writer's commit:
//!
//! 1. [`Database::begin_delta`] (under the driver's lock, cheap: the
//!    changed keys, and shared references to their stored states and to
//!    the new log records — no byte is copied, encoded or compressed)
//!    resets change tracking and returns a [`DeltaCheckpoint`];
//! 2. [`DeltaCheckpoint::run`] (no database, no lock) lays out, compresses
//!    and checksums the frame, writes the temp file, fsyncs, renames and reads
//!    it back — the same bytes as an inline delta of the same state;
//! 3. [`Database::finish_delta`] (under the lock, cheap) joins it to the
//!    chain and removes the log segments it covers — never earlier, so a
//!    crash anywhere before loses nothing; a failed one makes the next
//!    checkpoint a full one.
//!
//! When the next checkpoint must be full (no full checkpoint yet, after a
//! failed one, a chain at its limit), the same three steps write a full
//! checkpoint: step 1 takes the whole region the same cheap way (every
//! row's key and shared state, every log record's shared bytes,
//! `full_capture.rs`), step 2 lays out the snapshot frame (the bytes of
//! [`Database::export_snapshot`]) and writes the checkpoint file, and step
//! 3 makes it the base, then removes the delta chain, the old base and the
//! covered segments. At most one such checkpoint (delta or full) is in
//! flight.
//!
//! The core stays single-threaded: it never starts the thread itself.

use super::checkpoint_delta::encode_delta;
use super::database::Database;
use super::delta_capture::DeltaCapture;
use super::full_capture::FullCapture;
use crate::model::error::{Error, Result};
use crate::storage::{DeltaPlan, FullPlan};

/// A background checkpoint in progress — a delta, or the full one the
/// chain needs: the heavy step, to run anywhere (it is `Send`).
#[must_use = "a begun delta must be run and finished (finish_delta), or no other delta starts"]
pub struct DeltaCheckpoint {
    work: Work,
}

/// What a [`DeltaCheckpoint`] writes.
enum Work {
    Delta {
        plan: DeltaPlan,
        capture: DeltaCapture,
    },
    Full {
        plan: FullPlan,
        capture: FullCapture,
    },
}

/// What [`DeltaCheckpoint::run`] produced, for [`Database::finish_delta`].
#[derive(Debug)]
#[must_use = "hand it to Database::finish_delta"]
pub struct DeltaDone {
    covers: u64,
    full: bool,
    result: Result<u64>,
}

impl DeltaDone {
    /// The commit sequence number the checkpoint covers up to (exclusive).
    pub fn covers(&self) -> u64 {
        self.covers
    }

    /// Whether it is a full checkpoint (not a delta).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The delta frame's (or snapshot's) size in bytes, or why writing it
    /// failed.
    pub fn result(&self) -> std::result::Result<u64, &Error> {
        self.result.as_ref().copied()
    }
}

impl std::fmt::Debug for DeltaCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaCheckpoint")
            .field("covers", &self.covers())
            .field("full", &self.is_full())
            .finish()
    }
}

impl DeltaCheckpoint {
    /// The commit sequence number the checkpoint covers up to (exclusive).
    pub fn covers(&self) -> u64 {
        match &self.work {
            Work::Delta { plan, .. } => plan.covers,
            Work::Full { plan, .. } => plan.covers,
        }
    }

    /// Whether it writes a full checkpoint (not a delta).
    pub fn is_full(&self) -> bool {
        matches!(self.work, Work::Full { .. })
    }

    /// Encode, compress and write the checkpoint file (fsynced, renamed,
    /// read back). Touches no database. Errors come back inside the
    /// [`DeltaDone`].
    pub fn run(self) -> DeltaDone {
        let covers = self.covers();
        let full = self.is_full();
        let result = match self.work {
            Work::Delta { plan, capture } => encode_delta(&capture.payload()).and_then(|frame| {
                plan.files.write_delta(&frame)?;
                Ok(frame.len() as u64)
            }),
            Work::Full { plan, capture } => capture.encode().and_then(|snapshot| {
                plan.files.write_full(&snapshot)?;
                Ok(snapshot.len() as u64)
            }),
        };
        DeltaDone {
            covers,
            full,
            result,
        }
    }
}

impl Database {
    /// Let a driver write delta checkpoints in the background
    /// ([`delta_due`](Self::delta_due), [`begin_delta`](Self::begin_delta),
    /// [`DeltaCheckpoint::run`] on its own thread,
    /// [`finish_delta`](Self::finish_delta)). Commits then checkpoint inline
    /// only once 4× the usual log has piled up (a driver that fell far
    /// behind). Explicit [`checkpoint`](Self::checkpoint) calls stay inline
    /// (a full checkpoint while a background delta is in flight). Off by
    /// default; a no-op in memory.
    pub fn set_background_deltas(&mut self, on: bool) {
        self.storage.set_background_deltas(on);
    }

    /// Whether background deltas are on, none is in flight, and a
    /// checkpoint is due.
    pub fn delta_due(&self) -> bool {
        !self.closed && self.storage.delta_due()
    }

    /// Start a delta checkpoint of what changed since the last checkpoint:
    /// takes the changed keys and shared references to their rows' and the
    /// new records' bytes (no copy, no encoding), and rows changed from now
    /// on go to the next checkpoint. When the next checkpoint must be full
    /// (no full checkpoint yet, a chain at its limit, a table without
    /// change tracking, after a failed background checkpoint) the returned
    /// one is a full checkpoint, taken the same way (every row's and
    /// record's shared bytes). `None` when a checkpoint is in flight or
    /// nothing changed (or, a storage without background full checkpoints,
    /// after writing the full checkpoint here, inline). Run the returned
    /// [`DeltaCheckpoint`] (anywhere), then hand its result to
    /// [`finish_delta`](Self::finish_delta).
    pub fn begin_delta(&mut self) -> Result<Option<DeltaCheckpoint>> {
        self.check_open()?;
        if !self.storage.is_durable() || self.storage.delta_in_flight() || self.paged.is_some() {
            // A paged region checkpoints inline: a checkpoint writes only
            // the pages changed since the last one.
            return Ok(None);
        }
        let capture = if self.storage.delta_allowed() {
            self.capture_delta()?
        } else {
            None
        };
        let Some(capture) = capture else {
            return self.begin_full();
        };
        let Some(plan) = self.storage.begin_delta()? else {
            return Ok(None);
        };
        self.changes_checkpointed();
        Ok(Some(DeltaCheckpoint {
            work: Work::Delta { plan, capture },
        }))
    }

    /// The full checkpoint [`begin_delta`](Self::begin_delta) needs: begun
    /// in the background when the storage can, else written inline.
    fn begin_full(&mut self) -> Result<Option<DeltaCheckpoint>> {
        let capture = self.capture_full()?;
        match self.storage.begin_full()? {
            Some(plan) => {
                self.changes_checkpointed();
                Ok(Some(DeltaCheckpoint {
                    work: Work::Full { plan, capture },
                }))
            }
            None => {
                if let Err(e) = self.checkpoint_full() {
                    self.note_background_error(&e);
                    return Err(e);
                }
                Ok(None)
            }
        }
    }

    /// Install a finished delta (cheap): `true` when it joined the chain
    /// (the log segments it covers are removed), `false` when a full
    /// checkpoint replaced the chain while it ran. A finished full
    /// checkpoint becomes the base (the chain, the old base and the
    /// segments it covers are removed), `false` when a newer full one was
    /// written while it ran. A failed delta is
    /// counted in [`health`](Self::health) and returned; the next
    /// checkpoint is then full, so everything it held is still covered.
    pub fn finish_delta(&mut self, done: DeltaDone) -> Result<bool> {
        self.check_open()?;
        let r = if done.full {
            self.storage.finish_full(done.covers, done.result)
        } else {
            self.storage.finish_delta(done.covers, done.result)
        };
        if let Err(e) = &r {
            self.note_background_error(e);
        }
        r
    }
}
