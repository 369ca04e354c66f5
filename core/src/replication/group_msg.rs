//! Messages between the members of a region group (frame `TSGP`,
//! docs/FORMAT.md "Replication frames").

use crate::codec::buf::{put_bytes, put_varint, put_zigzag, Reader};
use crate::codec::frame::{decode_frame, decode_frame_version, encode_frame_version};
use crate::model::error::Result;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A version vector as carried in group messages: `{origin: highest
/// contiguous sequence}`.
pub type Vector = BTreeMap<String, u64>;

/// Magic of a group message.
pub const MAGIC_GROUP: [u8; 4] = *b"TSGP";

/// Format version of group messages written now: 2 carries the chain of
/// handovers in HEARTBEAT and ACK; version 1 frames are still read.
pub const GROUP_MSG_VERSION: u8 = 2;

/// Handovers kept in the chain (the newest): a member that comes back
/// after more handovers than this reports every write of its own origin up
/// to its last one as lost (it cannot know how much the first successor
/// held).
pub const MAX_HANDOVERS: usize = 16;

/// A change of primary: at `epoch`, `to` replaced `from`, holding `from`'s
/// writes up to `held_seq` and every member's writes up to `held`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    /// Epoch that began.
    pub epoch: u64,
    /// Previous primary.
    pub from: String,
    /// New primary.
    pub to: String,
    /// Highest contiguous sequence of `from` the new primary held.
    pub held_seq: u64,
    /// The new primary's version vector when it won, over the group's
    /// members (a member it held nothing of is listed with 0). Empty in a
    /// handover read from a version 1 frame: then only `held_seq` is known.
    pub held: Vector,
}

impl Handover {
    /// How far the new primary held `origin`'s writes when it won, if this
    /// handover says (`None`: not recorded, an entry from a version 1 frame
    /// about another member than `from`).
    pub fn held_of(&self, origin: &str) -> Option<u64> {
        match self.held.get(origin) {
            Some(n) => Some(*n),
            None if origin == self.from => Some(self.held_seq),
            None => None,
        }
    }
}

/// One group message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMsg {
    /// Periodic liveness + epoch announcement.
    Heartbeat {
        /// Sender.
        from: String,
        /// Sender's epoch.
        epoch: u64,
        /// Sender's idea of the primary.
        primary: String,
        /// Sender's local time (echoed in the ack).
        sent_ms: i64,
        /// The handovers the sender knows, oldest first (at most
        /// [`MAX_HANDOVERS`]); the last
        /// one began the sender's epoch when it knows that one.
        handovers: Vec<Handover>,
        /// The sender's version vector when it sent this (its freshness,
        /// compared with [`fresher`]).
        freshness: Vector,
    },
    /// Answer to a heartbeat.
    Ack {
        /// Sender.
        from: String,
        /// Sender's epoch.
        epoch: u64,
        /// Sender's primary.
        primary: String,
        /// Epoch of the heartbeat answered.
        hb_epoch: u64,
        /// `sent_ms` of the heartbeat answered.
        echo_ms: i64,
        /// Whether the ack counts toward the heartbeat sender's lease.
        accepted: bool,
        /// The handovers the sender knows, as in a heartbeat: a member that
        /// learns a newer epoch from an ack (a restarted old primary) learns
        /// at once what it must report lost, however many epochs passed.
        handovers: Vec<Handover>,
    },
    /// A candidate asks for votes for `epoch`.
    VoteRequest {
        /// Candidate.
        from: String,
        /// Epoch it wants to lead.
        epoch: u64,
        /// Manual failover: skip the "primary is down" and freshness checks.
        forced: bool,
        /// The candidate's version vector: a voter that is fresher
        /// ([`fresher`]) refuses an automatic election.
        freshness: Vector,
    },
    /// A vote.
    Vote {
        /// Voter.
        from: String,
        /// Epoch voted on.
        epoch: u64,
        /// Granted or not.
        granted: bool,
        /// How long ago (ms, the voter's own clock) the voter last accepted
        /// a heartbeat of any primary (0 if it is the primary or does not
        /// know): the old primary's lease has lapsed `lease_ms` after that,
        /// so the candidate opens for writes no earlier.
        since_ack_ms: u64,
    },
}

/// How up to date a region is, for elections: the number of writes its
/// version vector holds (the sum of each origin's highest contiguous
/// sequence). Shown in status; elections compare whole vectors
/// ([`fresher`]).
pub fn freshness(version_vector: &Vector) -> u64 {
    version_vector
        .values()
        .fold(0u64, |acc, v| acc.saturating_add(*v))
}

/// Whether `a` holds everything `b` holds (every origin's sequence at least
/// as high).
pub fn dominates(a: &Vector, b: &Vector) -> bool {
    b.iter()
        .all(|(o, n)| *n == 0 || a.get(o).is_some_and(|m| m >= n))
}

/// Freshness as a total order over version vectors, for elections:
/// `Greater` when `a` is fresher than `b`. A vector that dominates another
/// is fresher; equal vectors are `Equal`; two incomparable vectors (each
/// holds writes the other lacks) are ordered deterministically — the one
/// holding more writes, then the larger in `(origin, seq)` lexicographic
/// order — so every member breaks the tie the same way.
pub fn fresher(a: &Vector, b: &Vector) -> Ordering {
    match (dominates(a, b), dominates(b, a)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => freshness(a)
            .cmp(&freshness(b))
            .then_with(|| a.iter().cmp(b.iter())),
    }
}

fn put_vector(p: &mut Vec<u8>, v: &Vector) {
    put_varint(p, v.len() as u64);
    for (o, n) in v {
        put_str(p, o);
        put_varint(p, *n);
    }
}

/// A trailing vector (absent in frames from before it: empty).
fn optional_vector(r: &mut Reader<'_>) -> Result<Vector> {
    if r.is_empty() {
        return Ok(Vector::new());
    }
    read_vector(r)
}

fn read_vector(r: &mut Reader<'_>) -> Result<Vector> {
    let mut v = Vector::new();
    let n = r.count()?;
    for _ in 0..n {
        let o = r.string()?.to_string();
        let seq = r.varint()?;
        if v.insert(o, seq).is_some() {
            return Err(r.error("version vector names an origin twice"));
        }
    }
    Ok(v)
}

/// A trailing varint added after the first version of a message (absent
/// in older frames: 0).
fn optional_varint(r: &mut Reader<'_>) -> Result<u64> {
    if r.is_empty() {
        Ok(0)
    } else {
        r.varint()
    }
}

fn put_str(p: &mut Vec<u8>, s: &str) {
    put_bytes(p, s.as_bytes());
}

/// A handover as version 1 wrote it (no held vector).
fn read_handover_v1(r: &mut Reader<'_>) -> Result<Handover> {
    Ok(Handover {
        epoch: r.varint()?,
        from: r.string()?.into(),
        to: r.string()?.into(),
        held_seq: r.varint()?,
        held: Vector::new(),
    })
}

/// Version 1's optional handover (flag, then the handover) as a chain of at
/// most one entry.
pub(crate) fn read_flagged_handover_v1(r: &mut Reader<'_>) -> Result<Vec<Handover>> {
    match r.u8()? {
        0 => Ok(Vec::new()),
        1 => Ok(vec![read_handover_v1(r)?]),
        b => Err(r.error(format!("handover flag byte {b}"))),
    }
}

/// A chain of handovers: `count` ‖ (epoch ‖ from ‖ to ‖ held seq ‖ held
/// vector) × count, epochs strictly increasing.
pub(crate) fn put_handovers(p: &mut Vec<u8>, chain: &[Handover]) {
    put_varint(p, chain.len() as u64);
    for h in chain {
        put_varint(p, h.epoch);
        put_str(p, &h.from);
        put_str(p, &h.to);
        put_varint(p, h.held_seq);
        put_vector(p, &h.held);
    }
}

/// Read a chain written by [`put_handovers`]; more than
/// [`MAX_HANDOVERS`] entries or epochs
/// out of order are refused.
pub(crate) fn read_handovers(r: &mut Reader<'_>) -> Result<Vec<Handover>> {
    let n = r.count()?;
    if n > MAX_HANDOVERS {
        return Err(r.error(format!("{n} handovers, at most {}", MAX_HANDOVERS)));
    }
    let mut chain: Vec<Handover> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut h = read_handover_v1(r)?;
        h.held = read_vector(r)?;
        if chain.last().is_some_and(|prev| prev.epoch >= h.epoch) {
            return Err(r.error("handover epochs out of order"));
        }
        chain.push(h);
    }
    Ok(chain)
}

impl GroupMsg {
    /// Encode as a frame (version [`GROUP_MSG_VERSION`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(64);
        match self {
            GroupMsg::Heartbeat {
                from,
                epoch,
                primary,
                sent_ms,
                handovers,
                freshness,
            } => {
                p.push(1);
                put_str(&mut p, from);
                put_varint(&mut p, *epoch);
                put_str(&mut p, primary);
                put_zigzag(&mut p, *sent_ms);
                put_vector(&mut p, freshness);
                put_handovers(&mut p, handovers);
            }
            GroupMsg::Ack {
                from,
                epoch,
                primary,
                hb_epoch,
                echo_ms,
                accepted,
                handovers,
            } => {
                p.push(2);
                put_str(&mut p, from);
                put_varint(&mut p, *epoch);
                put_str(&mut p, primary);
                put_varint(&mut p, *hb_epoch);
                put_zigzag(&mut p, *echo_ms);
                p.push(*accepted as u8);
                put_handovers(&mut p, handovers);
            }
            GroupMsg::VoteRequest {
                from,
                epoch,
                forced,
                freshness,
            } => {
                p.push(3);
                put_str(&mut p, from);
                put_varint(&mut p, *epoch);
                p.push(*forced as u8);
                put_vector(&mut p, freshness);
            }
            GroupMsg::Vote {
                from,
                epoch,
                granted,
                since_ack_ms,
            } => {
                p.push(4);
                put_str(&mut p, from);
                put_varint(&mut p, *epoch);
                p.push(*granted as u8);
                put_varint(&mut p, *since_ack_ms);
            }
        }
        encode_frame_version(MAGIC_GROUP, GROUP_MSG_VERSION, &p, false)
    }

    /// Decode a frame (version 2, or version 1: a HEARTBEAT or ACK of
    /// version 1 carries at most the handover that began the sender's
    /// epoch, without its held vector).
    pub fn decode(bytes: &[u8]) -> Result<GroupMsg> {
        let v1 = bytes.get(4) == Some(&1);
        let p = if v1 {
            decode_frame(MAGIC_GROUP, bytes, 64 * 1024)?
        } else {
            decode_frame_version(MAGIC_GROUP, GROUP_MSG_VERSION, bytes, 64 * 1024)?
        };
        let mut r = Reader::new(&p, "group message");
        let flag = |r: &mut Reader<'_>| -> Result<bool> {
            match r.u8()? {
                0 => Ok(false),
                1 => Ok(true),
                b => Err(r.error(format!("flag byte {b}"))),
            }
        };
        let m = match r.u8()? {
            1 => {
                let from = r.string()?.into();
                let epoch = r.varint()?;
                let primary = r.string()?.into();
                let sent_ms = r.zigzag()?;
                let (handovers, freshness) = if v1 {
                    (read_flagged_handover_v1(&mut r)?, optional_vector(&mut r)?)
                } else {
                    let f = read_vector(&mut r)?;
                    (read_handovers(&mut r)?, f)
                };
                GroupMsg::Heartbeat {
                    from,
                    epoch,
                    primary,
                    sent_ms,
                    handovers,
                    freshness,
                }
            }
            2 => GroupMsg::Ack {
                from: r.string()?.into(),
                epoch: r.varint()?,
                primary: r.string()?.into(),
                hb_epoch: r.varint()?,
                echo_ms: r.zigzag()?,
                accepted: flag(&mut r)?,
                handovers: if !v1 {
                    read_handovers(&mut r)?
                } else if r.is_empty() {
                    Vec::new()
                } else {
                    // Version 1: trailing `01` ‖ handover, only when known.
                    match r.u8()? {
                        1 => vec![read_handover_v1(&mut r)?],
                        b => return Err(r.error(format!("handover flag byte {b}"))),
                    }
                },
            },
            3 => GroupMsg::VoteRequest {
                from: r.string()?.into(),
                epoch: r.varint()?,
                forced: flag(&mut r)?,
                freshness: if v1 {
                    optional_vector(&mut r)?
                } else {
                    read_vector(&mut r)?
                },
            },
            4 => GroupMsg::Vote {
                from: r.string()?.into(),
                epoch: r.varint()?,
                granted: flag(&mut r)?,
                since_ack_ms: if v1 {
                    optional_varint(&mut r)?
                } else {
                    r.varint()?
                },
            },
            k => return Err(r.error(format!("unknown message kind {k}"))),
        };
        r.finish()?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, u64)]) -> Vector {
        pairs.iter().map(|(o, n)| (o.to_string(), *n)).collect()
    }

    #[test]
    fn a_dominating_vector_is_fresher_whatever_the_sums() {
        let a = v(&[("eu", 5), ("us", 1)]);
        let b = v(&[("eu", 5)]);
        assert_eq!(fresher(&a, &b), Ordering::Greater);
        assert_eq!(fresher(&b, &a), Ordering::Less);
        assert_eq!(fresher(&a, &a.clone()), Ordering::Equal);
        // A zero entry holds nothing.
        assert_eq!(fresher(&b, &v(&[("eu", 5), ("ap", 0)])), Ordering::Equal);
    }

    #[test]
    fn incomparable_vectors_are_ordered_the_same_way_from_both_sides() {
        // Each holds writes the other lacks; the sum decides, then the
        // vectors' order, and the answer is antisymmetric.
        let a = v(&[("eu", 9), ("us", 1)]);
        let b = v(&[("eu", 3), ("us", 4)]);
        assert_eq!(fresher(&a, &b), Ordering::Greater);
        assert_eq!(fresher(&b, &a), Ordering::Less);
        let c = v(&[("eu", 4), ("us", 3)]);
        let d = v(&[("eu", 3), ("us", 4)]);
        assert_ne!(fresher(&c, &d), Ordering::Equal);
        assert_eq!(fresher(&c, &d), fresher(&d, &c).reverse());
        // Sums would call e fresher than f, but f dominates nothing of e's
        // and e lacks f's "ap" writes: incomparable, so the sum breaks it.
        let e = v(&[("eu", 10)]);
        let f = v(&[("eu", 2), ("ap", 1)]);
        assert_eq!(fresher(&e, &f), Ordering::Greater);
    }
}
