//! A region group: one write-primary per epoch, heartbeats, leases,
//! elections and failover/failback (sans-IO).
//!
//! Safety rests on three rules, all measured on each member's own clock
//! (clocks may be offset from each other; they must run at the same rate):
//! 1. the primary writes only while a majority acknowledged one of its
//!    heartbeats sent less than `lease_ms` ago, at its epoch;
//! 2. a member that votes for epoch `e` stops acknowledging heartbeats of
//!    any epoch below `e`, and votes at most once per epoch (persisted);
//! 3. a candidate that wins a majority still waits `lease_ms` before its
//!    first write.
//!
//! Any two majorities share a member, so the old primary's lease has lapsed
//! before the new one writes: no two members write in overlapping time, and
//! a member of an older epoch refuses writes (`StaleEpoch`).

use super::detector::{DetectorConfig, FailureDetector, PeerHealth, PeerView};
use super::fence::Fence;
use super::group_msg::{fresher, GroupMsg, Handover, Vector};
use super::group_state::{GroupState, LostRange};
use crate::client::Database;
use crate::model::error::{Error, Result};
use std::collections::BTreeMap as Map;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A group's settings (the same on every member).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConfig {
    /// Members, in promotion preference order; the first leads epoch 1.
    pub members: Vec<String>,
    /// Failure detection (heartbeat period, phi thresholds, error count).
    pub detector: DetectorConfig,
    /// Primary's write lease after a majority ack (ms).
    pub lease_ms: i64,
    /// A standby asks for votes as soon as its failure detector holds the
    /// primary down (phi over the threshold, or repeated errors), or once
    /// the primary has been silent this long (ms), whichever comes first.
    /// The new primary still writes only after the old lease has lapsed
    /// (each vote says how long ago its voter last acknowledged the old
    /// primary), so a short grace costs no safety.
    pub grace_ms: i64,
    /// A standby stands on its failure detector's word only once the
    /// primary has also been silent this long (ms); 0 (the default): at
    /// once. Detection (the peer shown `down`) is not delayed. Raising it
    /// rides out process stalls shorter than it (with 100 ms heartbeats,
    /// a stall of `s` ms is up to `s` + 100 ms of silence) at the cost of
    /// the failover time beyond one lease: about `min_silence_ms` + one
    /// election round trip − `lease_ms` when positive.
    pub min_silence_ms: i64,
    /// Promote a standby automatically when the primary is down.
    pub auto_failover: bool,
    /// A candidate gives up an election after this long (ms).
    pub election_timeout_ms: i64,
}

impl GroupConfig {
    /// Defaults for these members: 100 ms heartbeats, 1 s lease, 1.5 s grace.
    pub fn new(members: Vec<String>) -> Self {
        GroupConfig {
            members,
            detector: DetectorConfig::default(),
            lease_ms: 1_000,
            grace_ms: 1_500,
            min_silence_ms: 0,
            auto_failover: true,
            election_timeout_ms: 1_000,
        }
    }

    fn validate(&self, me: &str) -> Result<()> {
        if self.members.is_empty() || !self.members.iter().any(|m| m == me) {
            return Err(Error::invalid(format!(
                "region '{me}' is not a member of the group"
            )));
        }
        let set: BTreeSet<_> = self.members.iter().collect();
        if set.len() != self.members.len() {
            return Err(Error::invalid("group members must be distinct"));
        }
        if self.lease_ms <= 0 || self.grace_ms <= 0 {
            return Err(Error::invalid("lease_ms and grace_ms must be positive"));
        }
        if self.min_silence_ms < 0 {
            return Err(Error::invalid("min_silence_ms must not be negative"));
        }
        if self.detector.heartbeat_ms <= 0 || self.election_timeout_ms <= 0 {
            return Err(Error::invalid(
                "heartbeat_ms and election_timeout_ms must be positive",
            ));
        }
        Ok(())
    }

    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }
}

/// What the driver does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupAction {
    /// Deliver `bytes` to member `to` (its [`GroupNode::on_message`]).
    Send {
        /// Recipient.
        to: String,
        /// Frame.
        bytes: Vec<u8>,
    },
}

/// This member's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Write-primary of the current epoch.
    Primary,
    /// Asking for votes.
    Candidate,
    /// Following the primary.
    Standby,
}

/// A member's view of the group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupStatus {
    /// This member.
    pub me: String,
    /// Role.
    pub role: Role,
    /// Current epoch.
    pub epoch: u64,
    /// Primary of the epoch.
    pub primary: String,
    /// Whether a local write would pass now.
    pub writable: bool,
    /// Must resync before it may lead again.
    pub needs_resync: bool,
    /// Each peer as seen from here.
    pub peers: Vec<PeerView>,
    /// Writes reported lost in failovers.
    pub lost: Vec<LostRange>,
    /// This member stepped down as primary and has not yet learnt the
    /// handover that says which of its writes the new primary lacked:
    /// `lost` is not final until this is false.
    pub lost_pending: bool,
}

struct Candidacy {
    epoch: u64,
    started_ms: i64,
    votes: BTreeSet<String>,
    old_primary: String,
    /// Local time by which the old primary's lease has certainly lapsed:
    /// the latest, over this member and every granted vote, of "when the
    /// voter last acknowledged a heartbeat" plus `lease_ms`.
    old_lease_end: i64,
}

/// One member of a region group.
pub struct GroupNode {
    me: String,
    config: GroupConfig,
    st: GroupState,
    fence: Arc<Fence>,
    detector: FailureDetector,
    last_heard_primary: i64,
    /// Primary: latest own heartbeat send time each member acknowledged.
    acks: BTreeMap<String, i64>,
    next_hb_ms: i64,
    candidacy: Option<Candidacy>,
    open_at_ms: i64,
    voted_at_ms: i64,
    /// Last local time the primary's lease was valid.
    lease_ok_ms: i64,
    /// Version vector each other member last reported (heartbeats, vote
    /// requests).
    peer_fresh: BTreeMap<String, Map<String, u64>>,
    /// Last local time this member accepted a primary's heartbeat (the
    /// start time after a restart: it may have acked just before).
    last_ack_ms: i64,
    dirty: bool,
}

impl GroupNode {
    /// A member `me`, from its persisted state (`None`: a new group, epoch
    /// 1 led by the first member). Install [`fence`](Self::fence) as the
    /// region's write guard.
    pub fn new(
        me: &str,
        config: GroupConfig,
        state: Option<GroupState>,
        now_ms: i64,
    ) -> Result<GroupNode> {
        config.validate(me)?;
        let st = state.unwrap_or_else(|| GroupState::initial(&config.members[0]));
        let mut detector = FailureDetector::new(config.detector.clone());
        for m in config.members.iter().filter(|m| *m != me) {
            detector.watch(m, now_ms);
        }
        let fence = Arc::new(Fence::default());
        fence.close(st.epoch);
        let mut node = GroupNode {
            me: me.to_string(),
            // A restarted primary waits a full lease before writing again:
            // it cannot know whether its old lease was already used up.
            open_at_ms: now_ms.saturating_add(config.lease_ms),
            config,
            st,
            fence,
            detector,
            last_heard_primary: now_ms,
            acks: BTreeMap::new(),
            next_hb_ms: now_ms,
            candidacy: None,
            voted_at_ms: now_ms,
            lease_ok_ms: now_ms,
            peer_fresh: BTreeMap::new(),
            last_ack_ms: now_ms,
            dirty: false,
        };
        node.refresh_fence(now_ms);
        Ok(node)
    }

    /// The fence to install with [`Database::set_write_guard`].
    pub fn fence(&self) -> Arc<Fence> {
        self.fence.clone()
    }

    /// The durable state (persist it when [`take_dirty`](Self::take_dirty) says so,
    /// before sending the actions that follow).
    pub fn state(&self) -> &GroupState {
        &self.st
    }

    /// Whether the durable state changed since the last call.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// This member's name.
    pub fn me(&self) -> &str {
        &self.me
    }

    fn is_primary(&self) -> bool {
        self.st.primary == self.me
    }

    /// Role now.
    pub fn role(&self) -> Role {
        if self.is_primary() {
            Role::Primary
        } else if self.candidacy.is_some() {
            Role::Candidate
        } else {
            Role::Standby
        }
    }

    fn promised(&self) -> u64 {
        self.st.epoch.max(self.st.voted_epoch)
    }

    fn others(&self) -> impl Iterator<Item = &String> {
        self.config.members.iter().filter(move |m| **m != self.me)
    }

    fn broadcast(&self, msg: &GroupMsg) -> Vec<GroupAction> {
        let bytes = msg.encode();
        self.others()
            .map(|m| GroupAction::Send {
                to: m.clone(),
                bytes: bytes.clone(),
            })
            .collect()
    }

    fn lease_until(&self) -> i64 {
        let need = self.config.majority() - 1; // besides this member
        if need == 0 {
            return i64::MAX;
        }
        let mut times: Vec<i64> = self
            .others()
            .filter_map(|m| self.acks.get(m).copied())
            .collect();
        if times.len() < need {
            return i64::MIN;
        }
        times.sort_unstable_by(|a, b| b.cmp(a));
        times[need - 1].saturating_add(self.config.lease_ms)
    }

    fn refresh_fence(&mut self, _now_ms: i64) {
        if self.is_primary() && self.st.voted_epoch <= self.st.epoch {
            self.fence
                .set(self.st.epoch, self.open_at_ms, self.lease_until());
        } else {
            self.fence.close(self.st.epoch);
        }
    }

    /// Move to a newer epoch learnt from a peer.
    fn adopt(
        &mut self,
        db: &dyn GroupRegion,
        epoch: u64,
        primary: &str,
        handovers: &[Handover],
        now_ms: i64,
    ) {
        if epoch <= self.st.epoch {
            return;
        }
        if self.is_primary() {
            // Stepping down: what this region wrote that the new primary
            // lacked at promotion is reported (once the handover is known),
            // then merged back on resync. The fence closes first, so no
            // write lands after the last sequence number is read.
            self.fence.close(self.st.epoch);
            self.st.needs_resync = true;
            let last = db
                .version_vector()
                .ok()
                .and_then(|v| v.get(&self.me).copied())
                .unwrap_or(0);
            self.st.stepped_down = Some((self.st.epoch, last));
        }
        self.st.epoch = epoch;
        self.st.primary = primary.to_string();
        self.st.merge_handovers(handovers);
        self.report_lost();
        self.candidacy = None;
        self.acks.clear();
        self.last_heard_primary = now_ms;
        self.dirty = true;
        self.refresh_fence(now_ms);
    }

    /// Record the writes the handovers away from this member left behind
    /// ([`GroupState::lost_since`]), once the handover that began the
    /// current epoch is known.
    fn report_lost(&mut self) {
        let Some((old_epoch, last)) = self.st.stepped_down else {
            return;
        };
        if self.st.handover().is_none() {
            return;
        }
        self.st.stepped_down = None;
        if let Some(range) = self.st.lost_since(&self.me, old_epoch, last) {
            self.st.push_lost(range);
        }
        self.dirty = true;
    }

    /// Handovers learnt from a peer; reports what became known.
    fn learn_handovers(&mut self, handovers: &[Handover]) {
        if self.st.merge_handovers(handovers) {
            self.dirty = true;
            self.report_lost();
        }
    }

    /// Time passed: heartbeats, election timeouts, automatic failover.
    pub fn tick(&mut self, db: &dyn GroupRegion, now_ms: i64) -> Vec<GroupAction> {
        let mut out = Vec::new();
        if now_ms >= self.next_hb_ms {
            self.next_hb_ms = now_ms.saturating_add(self.config.detector.heartbeat_ms);
            out.extend(self.broadcast(&GroupMsg::Heartbeat {
                from: self.me.clone(),
                epoch: self.st.epoch,
                primary: self.st.primary.clone(),
                sent_ms: now_ms,
                handovers: self.st.handovers.clone(),
                freshness: own_vector(db),
            }));
        }
        if let Some(c) = &self.candidacy {
            if now_ms - c.started_ms >= self.config.election_timeout_ms {
                self.candidacy = None;
            }
        }
        // A primary that voted for a successor which never took over, or
        // that has gone without a lease for the grace period (a majority
        // promised a newer epoch nobody won), asks for votes again.
        if self.lease_until() > now_ms {
            self.lease_ok_ms = now_ms;
        }
        if self.is_primary()
            && self.candidacy.is_none()
            && now_ms - self.voted_at_ms >= 2 * self.config.election_timeout_ms
            && (self.st.voted_epoch > self.st.epoch
                || now_ms - self.lease_ok_ms >= self.config.grace_ms)
        {
            out.extend(self.stand(db, now_ms, false));
        }
        if self.config.auto_failover
            && !self.is_primary()
            && self.candidacy.is_none()
            && !self.st.needs_resync
            && self.primary_down(now_ms)
            && self.preferred_candidate(&own_vector(db), now_ms)
        {
            out.extend(self.stand(db, now_ms, false));
        }
        self.refresh_fence(now_ms);
        out
    }

    /// Whether the primary of the current epoch is down from here: the
    /// failure detector holds it down (its phi threshold or error count;
    /// only once it was heard at least once since start, so a slow start
    /// of the primary is not a failure) and it has been silent
    /// `min_silence_ms`, or it has been silent `grace_ms`.
    fn primary_down(&self, now_ms: i64) -> bool {
        let silent = now_ms - self.last_heard_primary;
        if silent >= self.config.grace_ms {
            return true;
        }
        if silent < self.config.min_silence_ms {
            return false;
        }
        self.detector
            .view(&self.st.primary, now_ms)
            .is_some_and(|v| v.health == PeerHealth::Down && v.last_heard_ms.is_some())
    }

    /// Whether this member should stand in an automatic election: no other
    /// live standby reported more writes than `mine`, nor as many while
    /// being earlier in the members' preference order (the primary
    /// excluded). The voters check freshness again, so a member that
    /// stands on stale news of its peers still cannot win over a fresher one.
    fn preferred_candidate(&self, mine: &Vector, now_ms: i64) -> bool {
        let my_rank = self.config.members.iter().position(|m| *m == self.me);
        for (rank, m) in self.config.members.iter().enumerate() {
            if *m == self.st.primary || *m == self.me {
                continue;
            }
            let up = self
                .detector
                .view(m, now_ms)
                .is_some_and(|v| v.health == PeerHealth::Up);
            if !up {
                continue;
            }
            let empty = Vector::new();
            let theirs = self.peer_fresh.get(m).unwrap_or(&empty);
            match fresher(theirs, mine) {
                std::cmp::Ordering::Greater => return false,
                std::cmp::Ordering::Equal if Some(rank) < my_rank => return false,
                _ => {}
            }
        }
        true
    }

    fn stand(&mut self, db: &dyn GroupRegion, now_ms: i64, forced: bool) -> Vec<GroupAction> {
        let epoch = self.promised() + 1;
        self.st.voted_epoch = epoch;
        self.st.voted_for = self.me.clone();
        self.voted_at_ms = now_ms;
        self.dirty = true;
        let old = self.st.primary.clone();
        let mut votes = BTreeSet::new();
        votes.insert(self.me.clone());
        // This member stops accepting the old primary's heartbeats now
        // (rule 2); its own last accepted one bounds the old lease too.
        let old_lease_end = self.last_ack_ms.saturating_add(self.config.lease_ms);
        self.candidacy = Some(Candidacy {
            epoch,
            started_ms: now_ms,
            votes,
            old_primary: old,
            old_lease_end,
        });
        let out = self.broadcast(&GroupMsg::VoteRequest {
            from: self.me.clone(),
            epoch,
            forced,
            freshness: own_vector(db),
        });
        self.maybe_win(db, now_ms);
        self.refresh_fence(now_ms);
        out
    }

    fn maybe_win(&mut self, db: &dyn GroupRegion, now_ms: i64) {
        let Some(c) = &self.candidacy else {
            return;
        };
        if c.votes.len() < self.config.majority() {
            return;
        }
        let c = self.candidacy.take().expect("checked");
        // What the new primary holds of the old one's writes when it wins
        // (not when it stood: records still in flight may have landed
        // since), so the lost ranges name exactly what it lacks.
        // The whole vector over the members is kept: a member deposed
        // epochs ago reads how much of it this primary held.
        let vv = own_vector(db);
        let held: Vector = self
            .config
            .members
            .iter()
            .map(|m| (m.clone(), vv.get(m).copied().unwrap_or(0)))
            .collect();
        let held_seq = held.get(&c.old_primary).copied().unwrap_or(0);
        let handover = Handover {
            epoch: c.epoch,
            from: c.old_primary,
            to: self.me.clone(),
            held_seq,
            held,
        };
        self.st.epoch = c.epoch;
        self.st.merge_handovers([&handover]);
        self.st.primary = self.me.clone();
        self.st.needs_resync = false;
        self.acks.clear();
        // Rule 3: no write before the old primary's lease has certainly
        // lapsed. Every voter counted here stopped acknowledging it when it
        // voted, and any majority the old lease rests on shares a voter
        // with this one, so the old lease ends by the latest "last ack +
        // lease" among them, measured as durations on local clocks (so an
        // offset between clocks does not matter).
        // Clocks may run at slightly different rates: 1 % of the lease on top.
        self.open_at_ms = c
            .old_lease_end
            .saturating_add(self.config.lease_ms / 100)
            .max(now_ms);
        self.lease_ok_ms = now_ms;
        self.next_hb_ms = now_ms; // announce at once
        self.dirty = true;
    }

    /// Manual failover (or failback): ask the others to make this member
    /// primary now, without waiting for the primary to be detected down.
    /// Refused (`OTSParameterInvalid`) while this member must still resync.
    pub fn promote(&mut self, db: &dyn GroupRegion, now_ms: i64) -> Result<Vec<GroupAction>> {
        if self.st.needs_resync {
            return Err(Error::invalid(format!(
                "region '{}' led an older epoch and must resync until digests match before it can lead",
                self.me
            )));
        }
        if self.is_primary() {
            return Ok(Vec::new());
        }
        Ok(self.stand(db, now_ms, true))
    }

    /// The failback check passed: this member's digests match the
    /// primary's (a verified sync with it), so it may lead again.
    pub fn mark_resynced(&mut self) {
        if self.st.needs_resync {
            self.st.needs_resync = false;
            self.dirty = true;
        }
    }

    /// An error or timeout talking to `peer` (passive detection).
    pub fn on_error(&mut self, peer: &str, now_ms: i64) {
        self.detector.error(peer, now_ms);
    }

    /// A message from another member. Undecodable bytes are an error and
    /// change nothing.
    pub fn on_message(
        &mut self,
        db: &dyn GroupRegion,
        bytes: &[u8],
        now_ms: i64,
    ) -> Result<Vec<GroupAction>> {
        let msg = GroupMsg::decode(bytes)?;
        let from = match &msg {
            GroupMsg::Heartbeat { from, .. }
            | GroupMsg::Ack { from, .. }
            | GroupMsg::VoteRequest { from, .. }
            | GroupMsg::Vote { from, .. } => from.clone(),
        };
        if from == self.me || !self.config.members.contains(&from) {
            return Err(Error::invalid(format!(
                "group message from '{from}', not another member"
            )));
        }
        self.detector.heard(&from, now_ms);
        let mut out = Vec::new();
        match msg {
            GroupMsg::Heartbeat {
                epoch,
                primary,
                sent_ms,
                handovers,
                freshness,
                ..
            } => {
                self.peer_fresh.insert(from.clone(), freshness);
                if epoch > self.st.epoch && primary != self.me {
                    self.adopt(db, epoch, &primary, &handovers, now_ms);
                } else {
                    self.learn_handovers(&handovers);
                }
                if epoch == self.st.epoch && primary == from && self.st.primary == from {
                    self.last_heard_primary = now_ms;
                }
                let accepted =
                    epoch >= self.promised() && epoch == self.st.epoch && primary == from;
                if accepted {
                    self.last_ack_ms = self.last_ack_ms.max(now_ms);
                }
                out.push(GroupAction::Send {
                    to: from.clone(),
                    bytes: GroupMsg::Ack {
                        from: self.me.clone(),
                        epoch: self.st.epoch,
                        primary: self.st.primary.clone(),
                        hb_epoch: epoch,
                        echo_ms: sent_ms,
                        accepted,
                        handovers: self.st.handovers.clone(),
                    }
                    .encode(),
                });
            }
            GroupMsg::Ack {
                epoch,
                primary,
                hb_epoch,
                echo_ms,
                accepted,
                handovers,
                ..
            } => {
                if epoch > self.st.epoch && primary != self.me {
                    self.adopt(db, epoch, &primary, &handovers, now_ms);
                } else {
                    self.learn_handovers(&handovers);
                }
                if self.is_primary() && accepted && hb_epoch == self.st.epoch && echo_ms <= now_ms {
                    let e = self.acks.entry(from.clone()).or_insert(i64::MIN);
                    *e = (*e).max(echo_ms);
                }
            }
            GroupMsg::VoteRequest {
                epoch,
                forced,
                freshness,
                ..
            } => {
                self.peer_fresh.insert(from.clone(), freshness.clone());
                // The primary itself only yields to a manual (forced) request;
                // once it votes, its fence closes (rule 2 applies to it too).
                let primary_down =
                    !self.is_primary() && (self.st.primary == from || self.primary_down(now_ms));
                // Candidate freshness: an automatic election never makes a
                // member primary while a voter holds more writes than it
                // (that voter stands itself instead). A manual failover
                // skips the check; what it leaves behind is reported as
                // lost ranges.
                let up_to_date =
                    forced || fresher(&freshness, &own_vector(db)) != std::cmp::Ordering::Less;
                let fresh = epoch > self.promised() && (forced || primary_down) && up_to_date;
                // A repeated request (the first answer was lost) gets the same vote.
                let again = epoch == self.st.voted_epoch
                    && self.st.voted_for == from
                    && epoch > self.st.epoch;
                let granted = fresh || again;
                if fresh {
                    self.voted_at_ms = now_ms;
                    self.st.voted_epoch = epoch;
                    self.st.voted_for = from.clone();
                    self.dirty = true;
                }
                out.push(GroupAction::Send {
                    to: from.clone(),
                    bytes: GroupMsg::Vote {
                        from: self.me.clone(),
                        // Refused: the highest epoch promised here, so the
                        // candidate's next try can go above it.
                        epoch: if granted {
                            epoch
                        } else {
                            epoch.max(self.promised())
                        },
                        granted,
                        since_ack_ms: if self.is_primary() {
                            0
                        } else {
                            now_ms.saturating_sub(self.last_ack_ms).max(0) as u64
                        },
                    }
                    .encode(),
                });
            }
            GroupMsg::Vote {
                epoch,
                granted,
                since_ack_ms,
                ..
            } => {
                if let Some(c) = self.candidacy.as_mut() {
                    if granted && c.epoch == epoch {
                        c.votes.insert(from.clone());
                        let since = i64::try_from(since_ack_ms).unwrap_or(i64::MAX);
                        let end = now_ms
                            .saturating_sub(since)
                            .saturating_add(self.config.lease_ms);
                        c.old_lease_end = c.old_lease_end.max(end);
                    }
                }
                if !granted && self.candidacy.is_some() && epoch > self.st.voted_epoch {
                    // Skip past epochs others already promised.
                    self.st.voted_epoch = epoch;
                    self.st.voted_for = String::new();
                    self.dirty = true;
                }
                self.maybe_win(db, now_ms);
            }
        }
        self.refresh_fence(now_ms);
        Ok(out)
    }

    /// This member's view now.
    pub fn status(&self, now_ms: i64) -> GroupStatus {
        GroupStatus {
            me: self.me.clone(),
            role: self.role(),
            epoch: self.st.epoch,
            primary: self.st.primary.clone(),
            writable: self.fence.writable(now_ms),
            needs_resync: self.st.needs_resync,
            peers: self.detector.views(now_ms),
            lost: self.st.lost.clone(),
            lost_pending: self.st.stepped_down.is_some(),
        }
    }
}

/// This region's version vector now (empty if it cannot be read).
fn own_vector(db: &dyn GroupRegion) -> Vector {
    db.version_vector().unwrap_or_default()
}

/// What a group member reads of its region: its version vector (freshness
/// for elections, the sequence numbers of handovers and lost ranges). A
/// driver that keeps the database behind a lock implements it by locking
/// only for this read, so the group's own state needs no database lock.
pub trait GroupRegion {
    /// `{origin: highest contiguous sequence}` the region holds.
    fn version_vector(&self) -> Result<Vector>;
}

impl GroupRegion for Database {
    fn version_vector(&self) -> Result<Vector> {
        Database::version_vector(self)
    }
}
