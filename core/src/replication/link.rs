//! The link state machine: decides when to start a session, carries it
//! through its frames, and keeps the cursors and counters.
//!
//! Sans-IO: the driver calls [`Link::tick`], [`Link::on_commit`] and
//! [`Link::on_reply`] with the local clock's time and carries the
//! [`LinkAction::Send`] bytes to the peer (whose answer comes from
//! [`super::respond`]). Time is never read here.

use super::config::{LinkConfig, LinkState};
use super::push_frame::{decode_ack, encode_push_page, remote_error};
use super::rng::SplitMix;
use super::status::LinkStatus;
use super::trigger::Trigger;
use crate::client::Database;
use crate::codec::record_page::RecordPage;
use crate::log::hlc::hlc_millis;
use crate::log::version_vector::VersionVector;
use crate::model::error::{Error, Result};
use crate::sync::{Initiator, SessionStep, SyncConfig, SyncDirection, SyncMode, SyncReport};

/// Records read from the log per delayed batch.
const DELAYED_PAGE: usize = 1000;
/// Records decoded at most to compute `pending` and `lag_ms` exactly;
/// beyond them, every later record counts as pending (an upper bound).
const STATUS_SCAN: usize = 8_192;
/// A realtime link on the one-frame path still runs an `auto` session this
/// often (ms), when it has nothing to push: rows that reached this region
/// by reconcile are in no log batch and no version vector; the session's
/// digest check finds them.
pub const CATCHUP_EVERY_MS: i64 = 1_000;
/// Under a load that never lets the push path go idle, the catch-up session
/// runs anyway once it is this late (ms). (A session that runs while
/// writes land reconciles the rows written meanwhile, so it is put off.)
pub const CATCHUP_MAX_DEFER_MS: i64 = 30_000;
/// First retry back-off (ms); doubles per failure up to `max_backoff_ms`.
const BASE_BACKOFF_MS: i64 = 100;

/// What the driver does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Send these bytes to the peer; pass its answer to [`Link::on_reply`].
    Send(Vec<u8>),
    /// Call [`Link::tick`] again at this local time (ms) at the latest.
    WakeAt(i64),
}

enum Inflight {
    Sync {
        session: Box<Initiator>,
        started_ms: i64,
        deadline_ms: i64,
        start_cursor: u64,
    },
    Push {
        session: u64,
        batch: u64,
        end_cursor: u64,
        bytes: u64,
        deadline_ms: i64,
        /// The local version vector when a realtime batch took every
        /// unshipped record: if the peer's vv in the ack does not cover it,
        /// the region holds records no log batch carries (held ranges from
        /// a reconcile) and the link catches up with an `auto` session.
        check_vv: Option<VersionVector>,
    },
}

/// One replication link, hosted by the region that initiates its sessions.
pub struct Link {
    pub(crate) config: LinkConfig,
    pub(crate) state: LinkState,
    rng: SplitMix,
    /// Every selected local record with a cursor below this is at the peer.
    pub(crate) acked_cursor: u64,
    pub(crate) records_shipped: u64,
    pub(crate) bytes_shipped: u64,
    pub(crate) last_success_ms: Option<i64>,
    pub(crate) sessions_ok: u64,
    pub(crate) sessions_failed: u64,
    /// Start time of the last successful session (pull lag).
    pub(crate) last_ok_start_ms: Option<i64>,
    inflight: Option<Inflight>,
    dirty: bool,
    requested: bool,
    next_due_ms: Option<i64>,
    retry_at_ms: i64,
    failures_in_row: u32,
    last_error: Option<String>,
    batch_no: u64,
    /// A realtime link that pushes ships new records as one-frame batches
    /// (`TSRP`) once an `auto` session succeeded (it has a cursor), until an
    /// error, a log gap or a peer missing records sends it back to `auto`.
    push_ready: bool,
    /// The parsed schedule of a `cron:` trigger.
    cron: Option<croner::Cron>,
    /// When the one-frame path runs its next `auto` catch-up session.
    catchup_at_ms: i64,
}

impl Link {
    /// A link in state `created`; `seed` feeds its session ids.
    pub fn new(config: LinkConfig, seed: u64) -> Result<Link> {
        config.validate()?;
        let cron = match &config.trigger {
            Trigger::Cron(e) => Some(super::cron::parse_cron(e)?),
            _ => None,
        };
        Ok(Link {
            cron,
            config,
            state: LinkState::Created,
            rng: SplitMix::new(seed),
            acked_cursor: 0,
            records_shipped: 0,
            bytes_shipped: 0,
            last_success_ms: None,
            sessions_ok: 0,
            sessions_failed: 0,
            last_ok_start_ms: None,
            inflight: None,
            dirty: true,
            requested: false,
            next_due_ms: None,
            retry_at_ms: i64::MIN,
            failures_in_row: 0,
            last_error: None,
            batch_no: 0,
            push_ready: false,
            catchup_at_ms: i64::MAX,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// The lifecycle state.
    pub fn state(&self) -> LinkState {
        self.state
    }

    /// Whether a session or batch waits for a reply.
    pub fn in_flight(&self) -> bool {
        self.inflight.is_some()
    }

    /// Start running the trigger (a first session catches up at once,
    /// except for manual links). A stopped link starts again from its
    /// cursors.
    pub fn start(&mut self, now_ms: i64) -> Result<()> {
        match self.state {
            LinkState::Created | LinkState::Stopped => {
                self.state = LinkState::Running;
                self.next_due_ms = Some(now_ms);
                self.dirty = true;
                Ok(())
            }
            LinkState::Running => Ok(()),
            s => Err(Error::invalid(format!(
                "link '{}' is {}; use resume()",
                self.config.name,
                s.name()
            ))),
        }
    }

    /// Stop moving data, keeping the cursors; an in-flight session is
    /// abandoned (what it delivered is found again on resume: nothing is
    /// lost or applied twice).
    pub fn pause(&mut self) -> Result<()> {
        match self.state {
            LinkState::Running | LinkState::Paused => {
                self.state = LinkState::Paused;
                self.inflight = None;
                Ok(())
            }
            s => Err(Error::invalid(format!(
                "link '{}' is {}; only a running link pauses",
                self.config.name,
                s.name()
            ))),
        }
    }

    /// Run again after [`pause`](Self::pause); catches up at once.
    pub fn resume(&mut self, now_ms: i64) -> Result<()> {
        match self.state {
            LinkState::Paused | LinkState::Running => {
                self.state = LinkState::Running;
                self.next_due_ms = Some(now_ms);
                self.dirty = true;
                self.retry_at_ms = i64::MIN;
                Ok(())
            }
            s => Err(Error::invalid(format!(
                "link '{}' is {}; only a paused link resumes",
                self.config.name,
                s.name()
            ))),
        }
    }

    /// Stop for good; an in-flight session is abandoned.
    pub fn stop(&mut self) {
        self.state = LinkState::Stopped;
        self.inflight = None;
    }

    /// Ask for one session as soon as possible (what makes a manual link move;
    /// on other triggers it runs one now instead of waiting).
    pub fn trigger(&mut self) -> Result<()> {
        if self.state != LinkState::Running {
            return Err(Error::invalid(format!(
                "link '{}' is {}; trigger() needs a running link",
                self.config.name,
                self.state.name()
            )));
        }
        self.requested = true;
        self.retry_at_ms = i64::MIN;
        Ok(())
    }

    /// A local commit landed: a realtime link ships it now (or with the
    /// next batch if one is in flight).
    pub fn on_commit(&mut self, db: &mut Database, now_ms: i64) -> Vec<LinkAction> {
        self.dirty = true;
        if let Trigger::Delayed(d) = self.config.trigger {
            let due = now_ms.saturating_add(d);
            self.next_due_ms = Some(self.next_due_ms.map_or(due, |n| n.min(due)));
        }
        self.tick(db, now_ms)
    }

    /// Time passed: time out a silent session, start one when due.
    pub fn tick(&mut self, db: &mut Database, now_ms: i64) -> Vec<LinkAction> {
        let mut out = Vec::new();
        if self.state != LinkState::Running {
            return out;
        }
        let deadline = match &self.inflight {
            Some(Inflight::Sync { deadline_ms, .. }) | Some(Inflight::Push { deadline_ms, .. }) => {
                Some(*deadline_ms)
            }
            None => None,
        };
        if let Some(d) = deadline {
            if now_ms >= d {
                self.fail(now_ms, Error::Sync("no reply before the timeout".into()));
            }
        }
        if self.inflight.is_none() && self.due(now_ms) {
            if let Some(bytes) = self.begin(db, now_ms) {
                out.push(LinkAction::Send(bytes));
            }
        }
        if let Some(w) = self.next_wake() {
            out.push(LinkAction::WakeAt(w));
        }
        out
    }

    /// The peer answered. Replies that belong to an abandoned session, or
    /// duplicates, are ignored.
    pub fn on_reply(&mut self, db: &mut Database, reply: &[u8], now_ms: i64) -> Vec<LinkAction> {
        if self.state != LinkState::Running {
            return Vec::new();
        }
        match self.inflight.take() {
            None => {}
            Some(Inflight::Sync {
                mut session,
                started_ms,
                deadline_ms,
                start_cursor,
            }) => match session.receive(db, reply) {
                Ok(SessionStep::Send(bytes)) => {
                    self.bytes_shipped += bytes.len() as u64;
                    self.inflight = Some(Inflight::Sync {
                        session,
                        started_ms,
                        deadline_ms: now_ms.saturating_add(self.config.timeout_ms),
                        start_cursor,
                    });
                    let mut out = vec![LinkAction::Send(bytes)];
                    if let Some(w) = self.next_wake() {
                        out.push(LinkAction::WakeAt(w));
                    }
                    return out;
                }
                Ok(SessionStep::Done(report)) => {
                    self.bytes_shipped += reply.len() as u64;
                    self.finish_sync(report, started_ms, start_cursor, now_ms)
                }
                // Not this session's reply (stale, duplicated, damaged):
                // keep waiting; the timeout covers a session that cannot go on.
                Err(Error::Corrupt(_)) => {
                    self.inflight = Some(Inflight::Sync {
                        session,
                        started_ms,
                        deadline_ms,
                        start_cursor,
                    });
                    return Vec::new();
                }
                Err(e) => self.fail(now_ms, e),
            },
            Some(Inflight::Push {
                session,
                batch,
                end_cursor,
                bytes,
                deadline_ms,
                check_vv,
            }) => {
                let ack = match decode_ack(reply) {
                    Ok(a) if a.session == session && a.batch == batch => a,
                    _ => {
                        self.inflight = Some(Inflight::Push {
                            session,
                            batch,
                            end_cursor,
                            bytes,
                            deadline_ms,
                            check_vv,
                        });
                        return Vec::new();
                    }
                };
                match ack.outcome {
                    Ok((applied, _skipped)) => {
                        self.acked_cursor = self.acked_cursor.max(end_cursor);
                        // Records the peer newly applied: a batch resent after
                        // a lost ack counts once.
                        self.records_shipped += applied;
                        self.bytes_shipped += bytes + reply.len() as u64;
                        self.succeeded(now_ms, now_ms);
                        if self.config.trigger == Trigger::Realtime {
                            // More may have landed while this batch flew.
                            self.dirty = true;
                            let covered = match (&check_vv, &ack.vv) {
                                (Some(mine), Some(peer)) => mine.is_covered_by(peer),
                                _ => true,
                            };
                            if !covered {
                                self.push_ready = false;
                            }
                        } else {
                            // More may be eligible already.
                            self.next_due_ms = Some(now_ms);
                        }
                    }
                    Err((code, message)) => self.fail(now_ms, remote_error(&code, &message)),
                }
            }
        }
        self.tick(db, now_ms)
    }

    /// The transport failed to deliver the last frame or its reply
    /// (connection refused, HTTP error): abandon the session and retry later.
    pub fn on_transport_error(&mut self, now_ms: i64, error: Error) {
        if self.inflight.is_some() {
            self.fail(now_ms, error);
        }
    }

    /// The latest time the driver should call [`tick`](Self::tick).
    pub fn next_wake(&self) -> Option<i64> {
        if self.state != LinkState::Running {
            return None;
        }
        match &self.inflight {
            Some(Inflight::Sync { deadline_ms, .. }) | Some(Inflight::Push { deadline_ms, .. }) => {
                Some(*deadline_ms)
            }
            None => {
                let retry = (self.failures_in_row > 0).then_some(self.retry_at_ms);
                let catchup = self.push_ready.then_some(self.catchup_at_ms);
                let due = match self.config.trigger {
                    Trigger::Realtime if self.dirty && self.config.direction.pushes() => {
                        Some(i64::MIN)
                    }
                    Trigger::Realtime if self.config.direction.pulls() => {
                        match (self.next_due_ms, catchup) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        }
                    }
                    Trigger::Realtime if catchup.is_some() => catchup,
                    Trigger::Manual if self.requested => Some(i64::MIN),
                    Trigger::Manual | Trigger::Realtime => None,
                    _ => self.next_due_ms,
                };
                match (due, retry) {
                    (Some(d), Some(r)) => Some(d.max(r)),
                    (d, _) => d,
                }
            }
        }
    }

    fn due(&self, now_ms: i64) -> bool {
        if now_ms < self.retry_at_ms {
            return false;
        }
        if self.requested {
            return true;
        }
        let at = |t: Option<i64>| t.is_some_and(|t| now_ms >= t);
        match self.config.trigger {
            Trigger::Realtime => {
                (self.dirty && self.config.direction.pushes())
                    || at(self.next_due_ms)
                    || (self.push_ready && now_ms >= self.catchup_at_ms)
            }
            Trigger::Manual => false,
            Trigger::Periodic(_) | Trigger::Delayed(_) | Trigger::Cron(_) => at(self.next_due_ms),
        }
    }

    fn sync_config(&mut self, direction: SyncDirection) -> SyncConfig {
        SyncConfig {
            mode: SyncMode::Auto,
            direction,
            tables: self.config.tables.clone(),
            max_frame_bytes: self.config.max_frame_bytes,
            session_id: self.rng.next_u64(),
            ..SyncConfig::default()
        }
    }

    /// Start a session or a delayed batch; `None` when there is nothing to send.
    fn begin(&mut self, db: &mut Database, now_ms: i64) -> Option<Vec<u8>> {
        let requested = std::mem::take(&mut self.requested);
        let delay = match self.config.trigger {
            Trigger::Delayed(d) => Some(d),
            // The one-frame path: new commits since the cursor, unless a
            // pull poll or trigger() asks for a whole session.
            Trigger::Realtime
                if self.push_ready
                    && self.dirty
                    && !requested
                    && now_ms < self.catchup_at_ms.saturating_add(CATCHUP_MAX_DEFER_MS)
                    && !(self.config.direction.pulls()
                        && self.next_due_ms.is_some_and(|t| now_ms >= t)) =>
            {
                Some(0)
            }
            _ => None,
        };
        if let Some(d) = delay {
            match self.record_batch(db, now_ms, d) {
                Ok(Some(batch)) => return Some(batch),
                // Nothing to push: the catch-up session, when due.
                Ok(None) if d == 0 && now_ms >= self.catchup_at_ms => {}
                Ok(None) => return None,
                Err(Error::LogGap(_)) => self.push_ready = false, // behind retention: reconcile below
                Err(e) => {
                    self.fail(now_ms, e);
                    return None;
                }
            }
        }
        self.dirty = false;
        let config = self.sync_config(self.config.direction);
        let start_cursor = match db.next_cursor() {
            Ok(c) => c,
            Err(e) => {
                self.fail(now_ms, e);
                return None;
            }
        };
        let mut session = Box::new(Initiator::new(config));
        match session.start(db) {
            Ok(SessionStep::Send(bytes)) => {
                self.bytes_shipped += bytes.len() as u64;
                self.inflight = Some(Inflight::Sync {
                    session,
                    started_ms: now_ms,
                    deadline_ms: now_ms.saturating_add(self.config.timeout_ms),
                    start_cursor,
                });
                Some(bytes)
            }
            Ok(SessionStep::Done(report)) => {
                self.finish_sync(report, now_ms, start_cursor, now_ms);
                None
            }
            Err(e) => {
                self.fail(now_ms, e);
                None
            }
        }
    }

    fn selected(&self, origin: &str, table: &str) -> bool {
        origin != self.config.peer
            && self
                .config
                .tables
                .as_ref()
                .is_none_or(|t| t.iter().any(|n| n == table))
    }

    /// The next batch of records committed at least `delay` ms ago (a
    /// realtime link passes 0: every unshipped record, whatever its stamp),
    /// or `LogGap` when retention dropped records the link has not shipped.
    fn record_batch(
        &mut self,
        db: &mut Database,
        now_ms: i64,
        delay: i64,
    ) -> Result<Option<Vec<u8>>> {
        let realtime = self.config.trigger == Trigger::Realtime;
        let cutoff = if realtime {
            i64::MAX
        } else {
            now_ms.saturating_sub(delay)
        };
        // Taken before the log is read: what the batch must bring the peer to.
        let vv_before = if realtime && self.config.tables.is_none() {
            Some(db.version_vector_full()?)
        } else {
            None
        };
        let budget = self.config.max_frame_bytes / 2;
        loop {
            let from = self.acked_cursor.max(1);
            // The log's stored record bytes go into the frame as they are.
            let page = db.log_since(from, DELAYED_PAGE)?;
            let first = page.records.first().map(|r| r.cursor);
            let gap = match first {
                Some(c) => c != from,
                None => db.next_cursor()? > from,
            };
            if gap {
                return Err(Error::LogGap(format!(
                    "records from cursor {from} were dropped before the link shipped them"
                )));
            }
            let full = page.records.len() == DELAYED_PAGE;
            let page_next = page.next_cursor;
            let mut end = from;
            let mut size = 0usize;
            let mut records = RecordPage::new();
            let mut wake = None;
            for r in &page.records {
                if !self.selected(r.origin, r.table) {
                    end = r.cursor + 1;
                    continue;
                }
                let committed = hlc_millis(r.stamp);
                if committed > cutoff {
                    wake = Some(committed.saturating_add(delay));
                    break;
                }
                let n = r.bytes.len();
                if !records.is_empty() && size + n > budget {
                    wake = Some(now_ms);
                    break;
                }
                size += n;
                end = r.cursor + 1;
                records.push(r.bytes);
            }
            if records.is_empty() {
                self.acked_cursor = self.acked_cursor.max(end);
                if wake.is_none() && full {
                    continue; // a page of records the peer needs nothing from
                }
                self.dirty = false;
                if !realtime {
                    // Records may also arrive from other regions: look again
                    // after a poll period if nothing is waiting.
                    self.next_due_ms =
                        Some(wake.unwrap_or(now_ms.saturating_add(self.config.poll_ms)));
                }
                return Ok(None);
            }
            // The vv check holds only when this batch takes every record.
            let complete = wake.is_none() && !full && end >= page_next;
            self.batch_no += 1;
            let session = self.rng.next_u64();
            let bytes = encode_push_page(session, self.batch_no, &records);
            if !realtime {
                self.next_due_ms = wake;
            }
            self.inflight = Some(Inflight::Push {
                session,
                batch: self.batch_no,
                end_cursor: end,
                bytes: bytes.len() as u64,
                deadline_ms: now_ms.saturating_add(self.config.timeout_ms),
                check_vv: if complete { vv_before } else { None },
            });
            return Ok(Some(bytes));
        }
    }

    fn finish_sync(&mut self, report: SyncReport, started_ms: i64, start_cursor: u64, now_ms: i64) {
        // Change records only: rows a reconcile moved are counted in bytes
        // (their records may follow by the log later; counting both counted
        // one write twice).
        self.records_shipped += report.records_pulled + report.records_pushed;
        if self.config.direction.pushes() {
            self.acked_cursor = self.acked_cursor.max(start_cursor);
            // The link has a cursor: new commits go as one-frame batches.
            self.push_ready = self.config.trigger == Trigger::Realtime;
            self.catchup_at_ms = now_ms.saturating_add(CATCHUP_EVERY_MS);
        }
        self.succeeded(started_ms, now_ms);
        self.next_due_ms = match self.config.trigger {
            Trigger::Periodic(p) => Some(started_ms.saturating_add(p).max(now_ms)),
            // The next fire time; a schedule that never fires again stops.
            Trigger::Cron(_) => self.next_fire(now_ms),
            Trigger::Realtime if self.config.direction.pulls() => {
                // Pulled something: the peer may have more; ask again at once.
                if report.records_pulled + report.rows_pulled > 0 {
                    Some(now_ms)
                } else {
                    Some(now_ms.saturating_add(self.config.poll_ms))
                }
            }
            // A delayed link fell back to reconcile; back to batches.
            Trigger::Delayed(_) => Some(now_ms),
            _ => None,
        };
    }

    fn succeeded(&mut self, started_ms: i64, now_ms: i64) {
        self.sessions_ok += 1;
        self.failures_in_row = 0;
        self.retry_at_ms = i64::MIN;
        self.last_success_ms = Some(now_ms);
        self.last_ok_start_ms = Some(started_ms);
        self.last_error = None;
    }

    fn fail(&mut self, now_ms: i64, e: Error) {
        self.inflight = None;
        // Catch up with a whole session after any error.
        self.push_ready = false;
        self.sessions_failed += 1;
        self.failures_in_row = self.failures_in_row.saturating_add(1);
        let backoff = BASE_BACKOFF_MS
            .saturating_mul(1i64 << self.failures_in_row.min(20))
            .min(self.config.max_backoff_ms);
        self.retry_at_ms = now_ms.saturating_add(backoff);
        self.last_error = Some(e.to_string());
        // Whatever was due is still due after the back-off.
        self.dirty = true;
        if matches!(self.config.trigger, Trigger::Manual) {
            self.requested = true;
        }
        if self.next_due_ms.is_none() && !matches!(self.config.trigger, Trigger::Manual) {
            self.next_due_ms = Some(now_ms);
        }
    }

    /// Status now: counters, pending records and lag (reads the local log).
    pub fn status(&self, db: &Database, now_ms: i64) -> LinkStatus {
        let (mut pending, mut oldest) = (0u64, None::<i64>);
        if self.config.direction.pushes() && db.check_open().is_ok() {
            // The log's entries, undecoded: origin, table and stamp are enough.
            let log = &db.log;
            let first = log.first_cursor();
            let from = self.acked_cursor.max(1);
            let mut scanned = 0;
            // A record a paged region's store cannot give back ends the
            // scan; the status is an estimate either way.
            let _ = log.records().visit_from(from, |r| {
                if scanned == STATUS_SCAN {
                    // Beyond the scan every later record counts (an upper bound).
                    pending += log.next_cursor().saturating_sub(r.cursor);
                    return Ok(std::ops::ControlFlow::Break(()));
                }
                scanned += 1;
                let wanted = self
                    .config
                    .tables
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|n| n == r.table));
                if r.origin != self.config.peer && wanted {
                    pending += 1;
                    let t = hlc_millis(r.stamp);
                    oldest = Some(oldest.map_or(t, |o| o.min(t)));
                }
                Ok(std::ops::ControlFlow::Continue(()))
            });
            if from < first {
                // Dropped before the link shipped them: pending, age unknown.
                pending += first - from;
            }
        }
        let lag_ms = if self.config.direction.pushes() {
            oldest.map_or(0, |t| (now_ms - t).max(0))
        } else {
            self.last_ok_start_ms.map_or(0, |t| (now_ms - t).max(0))
        };
        let window = match self.config.trigger {
            Trigger::Realtime => Some(0),
            Trigger::Periodic(p) | Trigger::Delayed(p) => Some(p),
            // The gap between the next two fires.
            Trigger::Cron(_) => self
                .next_fire(now_ms)
                .and_then(|a| self.next_fire(a).map(|b| b - a)),
            Trigger::Manual if pending == 0 => Some(0),
            Trigger::Manual => None,
        };
        LinkStatus {
            name: self.config.name.clone(),
            peer: self.config.peer.clone(),
            direction: self.config.direction.name().to_string(),
            trigger: self.config.trigger.name(),
            state: self.state,
            in_flight: self.inflight.is_some(),
            last_success_ms: self.last_success_ms,
            last_error: self.last_error.clone(),
            records_shipped: self.records_shipped,
            bytes_shipped: self.bytes_shipped,
            sessions_ok: self.sessions_ok,
            sessions_failed: self.sessions_failed,
            pending,
            lag_ms,
            rpo_ms: window.map(|w| w.max(lag_ms)),
        }
    }

    /// The cron trigger's first fire time after `after_ms`.
    fn next_fire(&self, after_ms: i64) -> Option<i64> {
        self.cron
            .as_ref()
            .and_then(|c| super::cron::next_fire_ms(c, after_ms))
    }

    /// Mark the restored link so its first tick catches up.
    pub(crate) fn after_restore(&mut self) {
        self.dirty = true;
        self.next_due_ms = Some(i64::MIN);
    }
}
