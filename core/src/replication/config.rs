//! What a link is: its ends, direction, tables, trigger and timeouts.

use super::trigger::Trigger;
use crate::model::error::{Error, Result};
use crate::sync::SyncDirection;

/// A link's configuration. The link runs in the region named `local`
/// (it initiates every session); `peer` is the other region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Link name (unique within the local region; names its state file).
    pub name: String,
    /// The peer region's name (records that came from it are not pushed back).
    pub peer: String,
    /// Push (local → peer), pull (peer → local) or both.
    pub direction: SyncDirection,
    /// Tables to replicate (`None`: all).
    pub tables: Option<Vec<String>>,
    /// When sessions run.
    pub trigger: Trigger,
    /// How often a realtime link polls the peer when it pulls (ms).
    pub poll_ms: i64,
    /// A session with no reply for this long is abandoned and retried (ms).
    pub timeout_ms: i64,
    /// Largest retry back-off after failures (ms).
    pub max_backoff_ms: i64,
    /// Cap of one frame's uncompressed payload.
    pub max_frame_bytes: usize,
}

impl LinkConfig {
    /// A link to `peer` with defaults: push, all tables, realtime.
    pub fn new(name: impl Into<String>, peer: impl Into<String>) -> Self {
        LinkConfig {
            name: name.into(),
            peer: peer.into(),
            direction: SyncDirection::Push,
            tables: None,
            trigger: Trigger::Realtime,
            poll_ms: 200,
            timeout_ms: 5_000,
            max_backoff_ms: 5_000,
            max_frame_bytes: crate::sync::DEFAULT_MAX_FRAME_BYTES,
        }
    }

    /// Set the trigger.
    pub fn trigger(mut self, t: Trigger) -> Self {
        self.trigger = t;
        self
    }

    /// Set the direction.
    pub fn direction(mut self, d: SyncDirection) -> Self {
        self.direction = d;
        self
    }

    /// Limit the link to these tables.
    pub fn tables(mut self, tables: Option<Vec<String>>) -> Self {
        self.tables = tables;
        self
    }

    /// Check the fields make sense together.
    pub fn validate(&self) -> Result<()> {
        if self.name.is_empty()
            || self.name.len() > 128
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Error::invalid(
                "a link name is 1–128 characters of [A-Za-z0-9._-]",
            ));
        }
        if self.peer.is_empty() || self.peer.len() > 255 {
            return Err(Error::invalid("the peer region name must be 1–255 bytes"));
        }
        if matches!(self.trigger, Trigger::Delayed(_)) && self.direction != SyncDirection::Push {
            return Err(Error::invalid(
                "a delayed link only pushes (the delay is applied where records are committed)",
            ));
        }
        if self.poll_ms <= 0 || self.timeout_ms <= 0 || self.max_backoff_ms <= 0 {
            return Err(Error::invalid(
                "poll_ms, timeout_ms and max_backoff_ms must be positive",
            ));
        }
        if self.max_frame_bytes < 4096 {
            return Err(Error::invalid("max_frame_bytes must be at least 4096"));
        }
        Ok(())
    }
}

/// A link's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Created, not started.
    Created,
    /// Running its trigger.
    Running,
    /// Paused: keeps its cursors, moves nothing until resumed.
    Paused,
    /// Stopped for good (an in-flight batch is abandoned).
    Stopped,
}

impl LinkState {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Created => "created",
            LinkState::Running => "running",
            LinkState::Paused => "paused",
            LinkState::Stopped => "stopped",
        }
    }
    pub(crate) fn byte(self) -> u8 {
        match self {
            LinkState::Created => 0,
            LinkState::Running => 1,
            LinkState::Paused => 2,
            LinkState::Stopped => 3,
        }
    }
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => LinkState::Created,
            1 => LinkState::Running,
            2 => LinkState::Paused,
            3 => LinkState::Stopped,
            _ => return None,
        })
    }
}
