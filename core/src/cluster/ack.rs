//! One write's acknowledgement state: which replicas answered, and whether
//! the write mode / consistency level is met, still possible, or lost.

use super::mode::{Consistency, WriteMode};
use super::route::Replica;

/// Where a write request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteStatus {
    /// Waiting for more acknowledgements.
    Pending,
    /// Acknowledge the client. `degraded`: a semi-sync write that timed out
    /// waiting for a second datacenter and was acknowledged after the home only.
    Acked {
        /// Semi-sync fell back to async for this write.
        degraded: bool,
    },
    /// The level can no longer be met (too many replicas failed) or the
    /// deadline passed; the reason names what was missing.
    Failed(String),
}

fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// A write in flight: the replicas asked, their answers, the mode, the clock.
#[derive(Clone, Debug)]
pub struct WriteRequest {
    mode: WriteMode,
    local_dc: String,
    replicas: Vec<Replica>,
    acked: Vec<bool>,
    failed: Vec<bool>,
    started_ms: i64,
    deadline_ms: Option<i64>,
    degraded_table: bool,
    status: WriteStatus,
}

impl WriteRequest {
    /// A write to `replicas` (home first) sent at `now_ms` by a client in
    /// `local_dc`. `table_degraded`: the table's semi-sync is currently
    /// degraded (such writes are acknowledged after the home alone).
    /// `deadline_ms`: when a pending write fails (none = wait forever).
    pub fn new(
        mode: WriteMode,
        replicas: Vec<Replica>,
        local_dc: impl Into<String>,
        now_ms: i64,
        table_degraded: bool,
        deadline_ms: Option<i64>,
    ) -> Self {
        let n = replicas.len();
        let mut w = WriteRequest {
            mode,
            local_dc: local_dc.into(),
            replicas,
            acked: vec![false; n],
            failed: vec![false; n],
            started_ms: now_ms,
            deadline_ms,
            degraded_table: table_degraded,
            status: WriteStatus::Pending,
        };
        w.update(now_ms);
        w
    }

    /// The current status.
    pub fn status(&self) -> &WriteStatus {
        &self.status
    }

    /// The replicas, home first.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// When a semi-sync write degrades (start + timeout), if it is one.
    pub fn degrade_at(&self) -> Option<i64> {
        match self.mode {
            WriteMode::SemiSync { timeout_ms } => Some(
                self.started_ms
                    .saturating_add(timeout_ms.min(i64::MAX as u64) as i64),
            ),
            _ => None,
        }
    }

    /// Region `region` committed the write.
    pub fn on_ack(&mut self, region: &str, now_ms: i64) -> &WriteStatus {
        if let Some(i) = self.replicas.iter().position(|r| r.region == region) {
            if !self.failed[i] {
                self.acked[i] = true;
            }
        }
        self.update(now_ms)
    }

    /// Region `region` refused or is unreachable.
    pub fn on_failure(&mut self, region: &str, now_ms: i64) -> &WriteStatus {
        if let Some(i) = self.replicas.iter().position(|r| r.region == region) {
            if !self.acked[i] {
                self.failed[i] = true;
            }
        }
        self.update(now_ms)
    }

    /// Time passed (semi-sync timeout, deadline).
    pub fn on_tick(&mut self, now_ms: i64) -> &WriteStatus {
        self.update(now_ms)
    }

    fn met(&self, acked: &[bool]) -> Result<(), String> {
        let home = acked.first().copied().unwrap_or(false);
        let dcs_acked = |acked: &[bool]| {
            let mut dcs: Vec<&str> = self
                .replicas
                .iter()
                .zip(acked)
                .filter(|(_, a)| **a)
                .map(|(r, _)| r.datacenter.as_str())
                .collect();
            dcs.sort_unstable();
            dcs.dedup();
            dcs.len()
        };
        let count = acked.iter().filter(|a| **a).count();
        let n = self.replicas.len();
        let need = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
        match self.mode {
            WriteMode::Async => need(home, "the home region".into()),
            WriteMode::SemiSync { .. } if self.degraded_table => {
                need(home, "the home region".into())
            }
            WriteMode::SemiSync { .. } => need(
                home && dcs_acked(acked) >= 2.min(self.distinct_dcs()),
                "the home region and one other datacenter".into(),
            ),
            WriteMode::Sync(c) => match c {
                Consistency::One => need(count >= 1, "one replica".into()),
                Consistency::Quorum => need(
                    count >= majority(n),
                    format!("{} of {n} replicas", majority(n)),
                ),
                Consistency::All => need(count == n, format!("all {n} replicas")),
                Consistency::LocalQuorum => {
                    let local: Vec<bool> = self
                        .replicas
                        .iter()
                        .zip(acked)
                        .filter(|(r, _)| r.datacenter == self.local_dc)
                        .map(|(_, a)| *a)
                        .collect();
                    let l = local.len();
                    need(
                        l > 0 && local.iter().filter(|a| **a).count() >= majority(l),
                        format!("a quorum of the replicas in datacenter '{}'", self.local_dc),
                    )
                }
                Consistency::EachQuorum => {
                    let mut ok = true;
                    for dc in self.replicas.iter().map(|r| &r.datacenter) {
                        let here: Vec<bool> = self
                            .replicas
                            .iter()
                            .zip(acked)
                            .filter(|(r, _)| &r.datacenter == dc)
                            .map(|(_, a)| *a)
                            .collect();
                        ok &= here.iter().filter(|a| **a).count() >= majority(here.len());
                    }
                    need(ok, "a quorum in every datacenter".into())
                }
                Consistency::Datacenters(k) => {
                    need(dcs_acked(acked) >= k as usize, format!("{k} datacenters"))
                }
            },
        }
    }

    fn distinct_dcs(&self) -> usize {
        let mut dcs: Vec<&str> = self
            .replicas
            .iter()
            .map(|r| r.datacenter.as_str())
            .collect();
        dcs.sort_unstable();
        dcs.dedup();
        dcs.len()
    }

    fn update(&mut self, now_ms: i64) -> &WriteStatus {
        if self.status != WriteStatus::Pending {
            return &self.status;
        }
        if self.met(&self.acked).is_ok() {
            self.status = WriteStatus::Acked { degraded: false };
            return &self.status;
        }
        let home = self.acked.first().copied().unwrap_or(false);
        if let Some(at) = self.degrade_at() {
            if home && now_ms >= at {
                self.status = WriteStatus::Acked { degraded: true };
                return &self.status;
            }
        }
        // Could the level still be met if every unanswered replica acked?
        let best: Vec<bool> = self
            .acked
            .iter()
            .zip(&self.failed)
            .map(|(a, f)| *a || !*f)
            .collect();
        if let Err(what) = self.met(&best) {
            // Semi-sync only needs the home to degrade: a lost second
            // datacenter is not a failure, it waits for the timeout.
            let semi_waits = matches!(self.mode, WriteMode::SemiSync { .. }) && best[0];
            if !semi_waits {
                self.status = WriteStatus::Failed(format!("cannot reach {what}"));
                return &self.status;
            }
        }
        if let Some(d) = self.deadline_ms {
            if now_ms >= d {
                let what = self.met(&self.acked).err().unwrap_or_default();
                self.status = WriteStatus::Failed(format!("timed out waiting for {what}"));
            }
        }
        &self.status
    }
}
