//! What a group member persists: epoch, primary, vote, handovers, and the
//! write ranges reported lost (frame `TSGS`).

use super::group_msg::Handover;
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame, encode_frame};
use crate::model::error::Result;

/// Magic of a persisted group state.
pub const MAGIC_GROUP_STATE: [u8; 4] = *b"TSGS";

/// Writes acknowledged by a primary under `epoch` that the next primary
/// did not hold when it was promoted: `origin`'s sequence numbers
/// `from_seq..=to_seq`. They are reported, never silently dropped; a resync
/// (failback) merges them back by last-writer-wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostRange {
    /// The old primary (origin of the writes).
    pub origin: String,
    /// First sequence number.
    pub from_seq: u64,
    /// Last sequence number (inclusive).
    pub to_seq: u64,
    /// Epoch under which they were acknowledged.
    pub epoch: u64,
}

/// A member's durable group state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupState {
    /// Current epoch (fencing token).
    pub epoch: u64,
    /// Write-primary of `epoch`.
    pub primary: String,
    /// Highest epoch this member voted in (at most one vote per epoch).
    pub voted_epoch: u64,
    /// Whom it voted for then.
    pub voted_for: String,
    /// This member led an older epoch and must resync before leading again.
    pub needs_resync: bool,
    /// The handover that began `epoch`, if any.
    pub handover: Option<Handover>,
    /// Ranges reported lost (newest last, at most 64 kept).
    pub lost: Vec<LostRange>,
}

impl GroupState {
    /// Epoch 1 led by `primary`.
    pub fn initial(primary: &str) -> Self {
        GroupState {
            epoch: 1,
            primary: primary.to_string(),
            voted_epoch: 1,
            voted_for: primary.to_string(),
            needs_resync: false,
            handover: None,
            lost: Vec::new(),
        }
    }

    /// Encode as a frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(128);
        put_varint(&mut p, self.epoch);
        put_bytes(&mut p, self.primary.as_bytes());
        put_varint(&mut p, self.voted_epoch);
        put_bytes(&mut p, self.voted_for.as_bytes());
        p.push(self.needs_resync as u8);
        match &self.handover {
            None => p.push(0),
            Some(h) => {
                p.push(1);
                put_varint(&mut p, h.epoch);
                put_bytes(&mut p, h.from.as_bytes());
                put_bytes(&mut p, h.to.as_bytes());
                put_varint(&mut p, h.held_seq);
            }
        }
        put_varint(&mut p, self.lost.len() as u64);
        for l in &self.lost {
            put_bytes(&mut p, l.origin.as_bytes());
            put_varint(&mut p, l.from_seq);
            put_varint(&mut p, l.to_seq);
            put_varint(&mut p, l.epoch);
        }
        encode_frame(MAGIC_GROUP_STATE, &p, false)
    }

    /// Decode a frame.
    pub fn decode(bytes: &[u8]) -> Result<GroupState> {
        let p = decode_frame(MAGIC_GROUP_STATE, bytes, 1 << 20)?;
        let mut r = Reader::new(&p, "group state");
        let epoch = r.varint()?;
        let primary = r.string()?.to_string();
        let voted_epoch = r.varint()?;
        let voted_for = r.string()?.to_string();
        let needs_resync = match r.u8()? {
            0 => false,
            1 => true,
            b => return Err(r.error(format!("flag byte {b}"))),
        };
        let handover = match r.u8()? {
            0 => None,
            1 => Some(Handover {
                epoch: r.varint()?,
                from: r.string()?.into(),
                to: r.string()?.into(),
                held_seq: r.varint()?,
            }),
            b => return Err(r.error(format!("flag byte {b}"))),
        };
        let n = r.count()?;
        let mut lost = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            lost.push(LostRange {
                origin: r.string()?.into(),
                from_seq: r.varint()?,
                to_seq: r.varint()?,
                epoch: r.varint()?,
            });
        }
        r.finish()?;
        Ok(GroupState {
            epoch,
            primary,
            voted_epoch,
            voted_for,
            needs_resync,
            handover,
            lost,
        })
    }
}
