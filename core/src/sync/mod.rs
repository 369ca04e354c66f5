//! Cross-region sync, sans-IO: a session takes bytes and returns bytes.
//!
//! The initiator ([`Initiator`]) drives; the responder ([`respond`]) is
//! stateless, so any transport (in-process call, HTTP, fetch, WebSocket)
//! can carry the frames. Modes:
//!
//! - `incremental`: the receiver's version vector in, the missing change records out;
//! - `full`: every row state of the selected tables;
//! - `hybrid`: the rows as of the start, then the records written meanwhile;
//! - `reconcile`: rateless IBLT symbols over row digests find the differing
//!   rows (about 1.35 symbols per difference), and only those rows move;
//! - `auto`: incremental when the sender's log still covers the receiver,
//!   reconcile when retention truncated it;
//! - `verify`: like reconcile, but only reports the differing keys.
//!
//! Every session ends by comparing table digests: `verified` is true only
//! if they match.

mod initiator;
pub mod message;
mod responder;
pub mod riblt;
pub(crate) mod rows;
mod store;

pub use initiator::{Initiator, SessionStep};
pub use responder::{respond, respond_on, respond_read, respond_read_on};
pub use rows::IdKind;
pub use store::SyncStore;

use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;

/// Default cap of one frame's uncompressed payload.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Default number of coded symbols sent first for a differing table.
pub const DEFAULT_INITIAL_SYMBOLS: u32 = 512;

/// How a session moves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Change records the receiver lacks.
    Incremental,
    /// Every row of the selected tables.
    Full,
    /// Rows as of the start, then the records written meanwhile.
    Hybrid,
    /// Only the rows whose digests differ.
    Reconcile,
    /// Incremental when the log covers the receiver, else reconcile.
    #[default]
    Auto,
    /// Find the differing keys; move nothing.
    Verify,
}

impl SyncMode {
    /// Parse a lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "incremental" => SyncMode::Incremental,
            "full" => SyncMode::Full,
            "hybrid" => SyncMode::Hybrid,
            "reconcile" => SyncMode::Reconcile,
            "auto" => SyncMode::Auto,
            "verify" => SyncMode::Verify,
            _ => return None,
        })
    }
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Incremental => "incremental",
            SyncMode::Full => "full",
            SyncMode::Hybrid => "hybrid",
            SyncMode::Reconcile => "reconcile",
            SyncMode::Auto => "auto",
            SyncMode::Verify => "verify",
        }
    }
    pub(crate) fn byte(self) -> u8 {
        match self {
            SyncMode::Incremental => 1,
            SyncMode::Full => 2,
            SyncMode::Hybrid => 3,
            SyncMode::Reconcile => 4,
            SyncMode::Auto => 5,
            SyncMode::Verify => 6,
        }
    }
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => SyncMode::Incremental,
            2 => SyncMode::Full,
            3 => SyncMode::Hybrid,
            4 => SyncMode::Reconcile,
            5 => SyncMode::Auto,
            6 => SyncMode::Verify,
            _ => return None,
        })
    }
}

/// Which way data moves, seen from the initiator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncDirection {
    /// Responder → initiator.
    Pull,
    /// Initiator → responder.
    Push,
    /// Both ways.
    #[default]
    Both,
}

impl SyncDirection {
    /// Parse `pull` / `push` / `both`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "pull" => SyncDirection::Pull,
            "push" => SyncDirection::Push,
            "both" => SyncDirection::Both,
            _ => return None,
        })
    }
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SyncDirection::Pull => "pull",
            SyncDirection::Push => "push",
            SyncDirection::Both => "both",
        }
    }
    /// Whether data moves to the initiator.
    pub fn pulls(self) -> bool {
        self != SyncDirection::Push
    }
    /// Whether data moves to the responder.
    pub fn pushes(self) -> bool {
        self != SyncDirection::Pull
    }
    pub(crate) fn byte(self) -> u8 {
        match self {
            SyncDirection::Pull => 1,
            SyncDirection::Push => 2,
            SyncDirection::Both => 3,
        }
    }
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => SyncDirection::Pull,
            2 => SyncDirection::Push,
            3 => SyncDirection::Both,
            _ => return None,
        })
    }
}

/// Options of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Mode.
    pub mode: SyncMode,
    /// Direction.
    pub direction: SyncDirection,
    /// Tables to sync (`None`: all tables of both sides).
    pub tables: Option<Vec<String>>,
    /// Cap of one frame's uncompressed payload, both ways.
    pub max_frame_bytes: usize,
    /// Session id (from the caller's randomness); replies must echo it.
    pub session_id: u64,
    /// Symbols asked for first when a table differs.
    pub initial_symbols: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            mode: SyncMode::Auto,
            direction: SyncDirection::Both,
            tables: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            session_id: 0,
            initial_symbols: DEFAULT_INITIAL_SYMBOLS,
        }
    }
}

impl SyncConfig {
    /// A config with a mode and direction, defaults otherwise.
    pub fn new(mode: SyncMode, direction: SyncDirection) -> Self {
        SyncConfig {
            mode,
            direction,
            ..Self::default()
        }
    }
    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_frame_bytes < 4096 {
            return Err(Error::invalid("max_frame_bytes must be at least 4096"));
        }
        if self.initial_symbols == 0 || self.initial_symbols > 1 << 22 {
            return Err(Error::invalid(
                "initial_symbols must be between 1 and 4194304",
            ));
        }
        Ok(())
    }
}

/// A table's digests on both sides at the end of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableOutcome {
    /// Table.
    pub table: String,
    /// Local digest (hex), `None` if the table is missing locally.
    pub local: Option<String>,
    /// Remote digest (hex), `None` if missing remotely.
    pub remote: Option<String>,
    /// Keys that differ (verify mode), in key order, local-only or changed first.
    pub differing_keys: Vec<PrimaryKey>,
}

/// What a session did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Mode requested.
    pub mode: String,
    /// Whether `auto` fell back to reconcile.
    pub fell_back_to_reconcile: bool,
    /// Bytes the initiator sent.
    pub bytes_sent: u64,
    /// Bytes the initiator received.
    pub bytes_received: u64,
    /// Request/reply exchanges.
    pub round_trips: u32,
    /// Records applied locally.
    pub records_pulled: u64,
    /// Records sent to the responder.
    pub records_pushed: u64,
    /// Rows merged locally.
    pub rows_pulled: u64,
    /// Rows sent to the responder.
    pub rows_pushed: u64,
    /// Milliseconds by the local clock.
    pub duration_ms: i64,
    /// Every selected table exists on both sides with equal digests.
    pub verified: bool,
    /// Per table outcome.
    pub tables: Vec<TableOutcome>,
}
