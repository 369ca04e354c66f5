//! What a group member persists: epoch, primary, vote, the chain of
//! handovers, and the write ranges reported lost (frame `TSGS`).

use super::group_msg::{
    put_handovers, read_flagged_handover_v1, read_handovers, Handover, MAX_HANDOVERS,
};
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame, decode_frame_version, encode_frame_version};
use crate::model::error::Result;

/// Magic of a persisted group state.
pub const MAGIC_GROUP_STATE: [u8; 4] = *b"TSGS";

/// Format version of the group state written now: 2 keeps the chain of
/// handovers; version 1 (one handover) is still read.
pub const GROUP_STATE_VERSION: u8 = 2;

/// Lost ranges kept in the persisted state (the newest).
pub const MAX_LOST: usize = 64;

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
    /// The handovers known here, oldest first, epochs strictly increasing,
    /// at most [`MAX_HANDOVERS`] (the newest); the last one began `epoch`
    /// when it is known ([`handover`](Self::handover)).
    pub handovers: Vec<Handover>,
    /// Ranges reported lost (newest last, at most 64 kept).
    pub lost: Vec<LostRange>,
    /// This member stepped down as primary of epoch `.0`, having written up
    /// to its own sequence `.1`, and has not yet learnt the handover that
    /// began its current epoch (so its lost range is not known yet). Kept
    /// across a restart, so the report is not forgotten.
    pub stepped_down: Option<(u64, u64)>,
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
            handovers: Vec::new(),
            lost: Vec::new(),
            stepped_down: None,
        }
    }

    /// The handover that began the current epoch, if known.
    pub fn handover(&self) -> Option<&Handover> {
        self.handovers.last().filter(|h| h.epoch == self.epoch)
    }

    /// Add handovers to the chain (one not newer than the current epoch;
    /// an epoch already held keeps its entry unless the new one carries a
    /// held vector it lacks), keeping the newest [`MAX_HANDOVERS`]. Returns
    /// whether the chain changed.
    pub fn merge_handovers<'a>(
        &mut self,
        incoming: impl IntoIterator<Item = &'a Handover>,
    ) -> bool {
        let mut changed = false;
        for h in incoming {
            // Newer than the epoch, or older than a full chain keeps.
            if h.epoch > self.epoch
                || (self.handovers.len() >= MAX_HANDOVERS
                    && self.handovers.first().is_some_and(|f| h.epoch < f.epoch))
            {
                continue;
            }
            match self.handovers.binary_search_by_key(&h.epoch, |x| x.epoch) {
                Ok(i) => {
                    if self.handovers[i].held.is_empty() && !h.held.is_empty() {
                        self.handovers[i] = h.clone();
                        changed = true;
                    }
                }
                Err(i) => {
                    self.handovers.insert(i, h.clone());
                    changed = true;
                }
            }
        }
        let n = self.handovers.len();
        if n > MAX_HANDOVERS {
            self.handovers.drain(..n - MAX_HANDOVERS);
        }
        changed
    }

    /// The writes of `me`, which led `old_epoch` and had written up to
    /// `last` when it stepped down, that the handovers after `old_epoch`
    /// say were lost. `None` when nothing was lost.
    ///
    /// Every handover after `old_epoch` counts, however many there were (A
    /// led, B replaced it, C replaced B, A comes back): each says how far
    /// its new primary held `me`'s writes when it won. The lowest of those
    /// is where the loss starts: a write above it is one some later primary
    /// began its epoch without (a later primary holding more, from a
    /// standby that had them, does not undo that, since conflicting writes
    /// may have been made meanwhile; one holding less lost writes an
    /// intermediate primary had held). Handovers up to `old_epoch` are
    /// ignored, so an older handover away from `me` (before a failback)
    /// never counts again. When the chain was trimmed past the first
    /// handover after `old_epoch`, or no entry says how far `me` was held,
    /// everything up to `last` is reported.
    pub fn lost_since(&self, me: &str, old_epoch: u64, last: u64) -> Option<LostRange> {
        let chain = &self.handovers;
        // Complete back to `old_epoch`: it holds an entry at or before the
        // epoch right after it, or was never trimmed.
        let complete =
            chain.len() < MAX_HANDOVERS || chain.first().is_some_and(|h| h.epoch <= old_epoch + 1);
        let held = chain
            .iter()
            .filter(|h| h.epoch > old_epoch)
            .filter_map(|h| h.held_of(me))
            .min();
        let held = match held {
            Some(h) if complete => h,
            _ => 0,
        };
        (last > held).then(|| LostRange {
            origin: me.to_string(),
            from_seq: held + 1,
            to_seq: last,
            epoch: old_epoch,
        })
    }

    /// Record a lost range, keeping the newest [`MAX_LOST`].
    pub fn push_lost(&mut self, range: LostRange) {
        self.lost.push(range);
        let n = self.lost.len();
        if n > MAX_LOST {
            self.lost.drain(..n - MAX_LOST);
        }
    }

    /// Encode as a frame (version [`GROUP_STATE_VERSION`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(128);
        put_varint(&mut p, self.epoch);
        put_bytes(&mut p, self.primary.as_bytes());
        put_varint(&mut p, self.voted_epoch);
        put_bytes(&mut p, self.voted_for.as_bytes());
        p.push(self.needs_resync as u8);
        put_handovers(&mut p, &self.handovers);
        put_varint(&mut p, self.lost.len() as u64);
        for l in &self.lost {
            put_bytes(&mut p, l.origin.as_bytes());
            put_varint(&mut p, l.from_seq);
            put_varint(&mut p, l.to_seq);
            put_varint(&mut p, l.epoch);
        }
        // Stepped down: epoch (0: no) ‖ last own sequence.
        let (e, last) = self.stepped_down.unwrap_or((0, 0));
        put_varint(&mut p, e);
        put_varint(&mut p, last);
        encode_frame_version(MAGIC_GROUP_STATE, GROUP_STATE_VERSION, &p, false)
    }

    /// Decode a frame (version 2, or version 1 with at most one handover,
    /// read as a chain of that one without its held vector).
    pub fn decode(bytes: &[u8]) -> Result<GroupState> {
        let v1 = bytes.get(4) == Some(&1);
        let p = if v1 {
            decode_frame(MAGIC_GROUP_STATE, bytes, 1 << 20)?
        } else {
            decode_frame_version(MAGIC_GROUP_STATE, GROUP_STATE_VERSION, bytes, 1 << 20)?
        };
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
        let handovers = if v1 {
            read_flagged_handover_v1(&mut r)?
        } else {
            read_handovers(&mut r)?
        };
        if handovers.last().is_some_and(|h| h.epoch > epoch) {
            return Err(r.error("a handover is newer than the epoch"));
        }
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
        let stepped_down = if v1 {
            None
        } else {
            let e = r.varint()?;
            let last = r.varint()?;
            (e > 0).then_some((e, last))
        };
        r.finish()?;
        Ok(GroupState {
            epoch,
            primary,
            voted_epoch,
            voted_for,
            needs_resync,
            handovers,
            lost,
            stepped_down,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(epoch: u64, from: &str, to: &str, held: &[(&str, u64)]) -> Handover {
        let held: super::super::group_msg::Vector =
            held.iter().map(|(o, n)| (o.to_string(), *n)).collect();
        Handover {
            epoch,
            from: from.into(),
            to: to.into(),
            held_seq: held.get(from).copied().unwrap_or(0),
            held,
        }
    }

    fn state(chain: Vec<Handover>) -> GroupState {
        let mut s = GroupState::initial("a");
        s.epoch = chain.last().map_or(1, |h| h.epoch);
        s.handovers = chain;
        s
    }

    fn range(l: Option<LostRange>) -> Option<(u64, u64, u64)> {
        l.map(|l| (l.from_seq, l.to_seq, l.epoch))
    }

    #[test]
    fn the_lowest_hold_after_the_members_epoch_starts_the_loss() {
        // a led 1 (wrote 10); b held 8 at 2; c held 4 at 3; d held 9 at 4.
        let s = state(vec![
            h(2, "a", "b", &[("a", 8)]),
            h(3, "b", "c", &[("a", 4), ("b", 2)]),
            h(4, "c", "d", &[("a", 9), ("b", 2)]),
        ]);
        assert_eq!(range(s.lost_since("a", 1, 10)), Some((5, 10, 1)));
        // b led 2 (wrote 5): only handovers after 2 count.
        assert_eq!(range(s.lost_since("b", 2, 5)), Some((3, 5, 2)));
        // c led 3: d held nothing of c (0 listed? absent: unknown).
        assert_eq!(range(s.lost_since("c", 3, 0)), None);
        // Nothing lost when every later primary held it all.
        assert_eq!(range(s.lost_since("a", 1, 4)), None);
    }

    #[test]
    fn an_older_handover_away_from_the_member_does_not_count_after_a_failback() {
        let s = state(vec![
            h(2, "a", "b", &[("a", 4)]),
            h(3, "b", "a", &[("a", 10), ("b", 3)]),
            h(4, "a", "c", &[("a", 13), ("b", 3)]),
        ]);
        assert_eq!(range(s.lost_since("a", 3, 15)), Some((14, 15, 3)));
    }

    #[test]
    fn a_trimmed_chain_reports_everything_and_merging_keeps_the_newest() {
        let mut s = GroupState::initial("a");
        s.epoch = 40;
        let chain: Vec<Handover> = (2..=40)
            .map(|e| h(e, "x", "y", &[("a", 7), ("x", 1)]))
            .collect();
        assert!(s.merge_handovers(&chain));
        assert_eq!(s.handovers.len(), MAX_HANDOVERS);
        assert_eq!(s.handovers[0].epoch, 40 - MAX_HANDOVERS as u64 + 1);
        assert!(!s.merge_handovers(&chain), "nothing new");
        // a led epoch 3: the handover right after it was trimmed.
        assert_eq!(range(s.lost_since("a", 3, 9)), Some((1, 9, 3)));
        // a led epoch 30: the chain covers it.
        assert_eq!(range(s.lost_since("a", 30, 9)), Some((8, 9, 30)));
        // A handover newer than the epoch is not taken.
        assert!(!s.merge_handovers([&h(41, "y", "z", &[])]));
        // The encoding round-trips (a pending step-down too) and refuses a
        // chain out of order.
        assert_eq!(GroupState::decode(&s.encode()).unwrap(), s);
        s.stepped_down = Some((3, 9));
        assert_eq!(GroupState::decode(&s.encode()).unwrap(), s);
        let mut bad = s.clone();
        bad.handovers.swap(0, 1);
        assert!(GroupState::decode(&bad.encode()).is_err());
    }

    #[test]
    fn a_version_1_entry_only_speaks_for_its_old_primary() {
        let mut e = h(2, "a", "b", &[]);
        e.held_seq = 6;
        let s = state(vec![e, h(3, "b", "c", &[("a", 8), ("b", 1)])]);
        assert_eq!(range(s.lost_since("a", 1, 10)), Some((7, 10, 1)));
        // b: no entry after 2 says how far b was held except epoch 3's.
        assert_eq!(range(s.lost_since("b", 2, 4)), Some((2, 4, 2)));
    }
}
