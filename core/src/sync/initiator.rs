//! The initiator: a state machine that turns replies into the next request.

use super::message::*;
use super::responder::{differs, stored_of};
use super::riblt::{self, Symbol};
use super::rows::{selection, vv_minus, vv_union, IdKind};
use super::store::apply_records;
use super::SyncStore;
use super::{SyncConfig, SyncMode, SyncReport, TableOutcome};
use crate::client::Database;
use crate::codec::key::decode_key;
use crate::log::version_vector::VersionVector;
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;
use std::collections::{BTreeMap, HashSet, VecDeque};

/// What the caller does next.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionStep {
    /// Send these bytes to the responder and pass its reply to `receive`.
    Send(Vec<u8>),
    /// The session is over.
    Done(SyncReport),
}

#[derive(Clone, Debug)]
enum Step {
    Hello,
    PullChanges,
    PullRows {
        table: String,
        after: Option<Vec<u8>>,
    },
    Reconcile {
        table: String,
        symbols: Vec<Symbol>,
    },
    FetchSymbols {
        table: String,
    },
    Resolve {
        table: String,
    },
    Exchange {
        table: String,
    },
    PushChanges {
        more: bool,
    },
    PushRows {
        table: String,
        next: Option<Vec<u8>>,
    },
    MarkHeldLocal(VersionVector),
    /// Tell the responder it holds what this region held when the rows it
    /// was sent were read (the version vector taken before the first page).
    MarkHeldRemote(VersionVector),
}

/// Drives one session from the initiating side.
pub struct Initiator {
    config: SyncConfig,
    index: u32,
    started_ms: i64,
    report: SyncReport,
    steps: VecDeque<Step>,
    inflight: Option<Step>,
    remote_infos: Vec<TableInfo>,
    remote_vv: VersionVector,
    pushed: VersionVector,
    hybrid_base: Option<VersionVector>,
    selection: Vec<String>,
    differing: BTreeMap<String, Vec<PrimaryKey>>,
    finished: bool,
    /// `auto` already fell back to reconcile once in this session.
    auto_retried: bool,
}

fn budget(cap: usize) -> usize {
    cap.saturating_sub(64 * 1024).max(cap / 2)
}

impl Initiator {
    /// A session with these options.
    pub fn new(config: SyncConfig) -> Self {
        let mode = config.mode.name().to_string();
        Initiator {
            config,
            index: 0,
            started_ms: 0,
            report: SyncReport {
                mode,
                ..SyncReport::default()
            },
            steps: VecDeque::new(),
            inflight: None,
            remote_infos: Vec::new(),
            remote_vv: VersionVector::new(),
            pushed: VersionVector::new(),
            hybrid_base: None,
            selection: Vec::new(),
            differing: BTreeMap::new(),
            finished: false,
            auto_retried: false,
        }
    }

    fn send(&mut self, step: Step, req: Request) -> Result<SessionStep> {
        self.index += 1;
        let bytes = encode_request(
            self.config.session_id,
            self.index,
            &req,
            self.config.max_frame_bytes,
        )?;
        self.report.bytes_sent += bytes.len() as u64;
        self.inflight = Some(step);
        Ok(SessionStep::Send(bytes))
    }

    /// The first request.
    pub fn start(&mut self, db: &mut Database) -> Result<SessionStep> {
        self.start_on(db)
    }

    /// [`start`](Self::start) on any [`SyncStore`].
    pub fn start_on(&mut self, db: &mut dyn SyncStore) -> Result<SessionStep> {
        db.check_open()?;
        self.config.validate()?;
        if self.index != 0 {
            return Err(Error::Sync("the session was already started".into()));
        }
        self.started_ms = db.now_ms();
        let hello = Hello {
            mode: self.config.mode,
            direction: self.config.direction,
            tables: self.config.tables.clone(),
            vv: db.version_vector().clone(),
            dropped: db.dropped().clone(),
            infos: db.table_infos(&self.config.tables),
            schemas: db.schemas(&self.config.tables),
            initial_symbols: self.config.initial_symbols,
        };
        self.send(Step::Hello, Request::Hello(hello))
    }

    /// Handle the responder's reply to the last request.
    pub fn receive(&mut self, db: &mut Database, reply: &[u8]) -> Result<SessionStep> {
        self.receive_on(db, reply)
    }

    /// [`receive`](Self::receive) on any [`SyncStore`].
    pub fn receive_on(&mut self, db: &mut dyn SyncStore, reply: &[u8]) -> Result<SessionStep> {
        if self.finished {
            return Err(Error::Sync("the session is over".into()));
        }
        let step = self
            .inflight
            .take()
            .ok_or_else(|| Error::Sync("no request is waiting for a reply".into()))?;
        let (env, encoded) = match decode_reply_spans(
            reply,
            self.config.max_frame_bytes,
            self.config.session_id,
            self.index,
        ) {
            Ok(x) => x,
            Err(e) => {
                db.note_peer_error(&e);
                self.inflight = Some(step);
                return Err(e);
            }
        };
        self.report.bytes_received += reply.len() as u64;
        self.report.round_trips += 1;
        if let Reply::Failed { code, message } = &env.reply {
            self.finished = true;
            return Err(match code.as_str() {
                "LogGap" => Error::LogGap(format!("remote: {message}")),
                _ => Error::Sync(format!("remote failed with {code}: {message}")),
            });
        }
        self.remote_infos = env.infos;
        let r = self
            .handle(db, step, env.reply, &encoded)
            .and_then(|_| self.advance(db));
        if let Err(e) = &r {
            db.note_peer_error(e);
            self.finished = true;
        }
        r
    }

    fn unexpected(reply: &Reply) -> Error {
        Error::Sync(format!(
            "unexpected reply {:?}",
            std::mem::discriminant(reply)
        ))
    }

    /// Apply a page of records; `encoded` holds the bytes the frame carried them in.
    fn apply(
        &mut self,
        db: &mut dyn SyncStore,
        batch: ChangeBatch,
        encoded: &RecordSpans,
    ) -> Result<()> {
        if batch.more && batch.records.is_empty() {
            return Err(Error::Sync(
                "the responder sent an empty page that claims more".into(),
            ));
        }
        let more = batch.more;
        self.report.records_pulled += apply_records(db, batch.records, &encoded.records())?;
        if more {
            self.steps.push_front(Step::PullChanges);
        }
        Ok(())
    }

    fn plan_reconcile(&mut self, db: &dyn SyncStore, symbols: Vec<SymbolBatch>) -> Result<()> {
        let local_infos = db.table_infos(&self.config.tables);
        let mut by_table: BTreeMap<String, Vec<Symbol>> =
            symbols.into_iter().map(|b| (b.table, b.symbols)).collect();
        for t in self.selection.clone() {
            if !differs(&t, &local_infos, &self.remote_infos, self.id_kind()) {
                continue;
            }
            let (lr, rr) = (
                stored_of(&t, &local_infos),
                stored_of(&t, &self.remote_infos),
            );
            if lr > 0 && rr > 0 {
                match by_table.remove(&t) {
                    Some(s) => self.steps.push_back(Step::Reconcile {
                        table: t,
                        symbols: s,
                    }),
                    None => self.steps.push_back(Step::FetchSymbols { table: t }),
                }
            } else if self.config.mode == SyncMode::Verify {
                if lr > 0 {
                    let schema = db.schema(&t)?;
                    let keys = db
                        .existing_keys(&t)?
                        .iter()
                        .map(|k| decode_key(schema, k))
                        .collect::<Result<Vec<_>>>()?;
                    self.differing.entry(t).or_default().extend(keys);
                }
            } else {
                self.whole_table(&t, lr, rr);
            }
        }
        Ok(())
    }

    fn whole_table(&mut self, t: &str, local_rows: u64, remote_rows: u64) {
        if self.config.direction.pulls() && remote_rows > 0 {
            self.steps.push_back(Step::PullRows {
                table: t.to_string(),
                after: None,
            });
        }
        if self.config.direction.pushes() && local_rows > 0 {
            self.steps.push_back(Step::PushRows {
                table: t.to_string(),
                next: None,
            });
        }
    }

    fn handle(
        &mut self,
        db: &mut dyn SyncStore,
        step: Step,
        reply: Reply,
        encoded: &RecordSpans,
    ) -> Result<()> {
        let pulls = self.config.direction.pulls();
        let pushes = self.config.direction.pushes();
        match (step, reply) {
            (
                Step::Hello,
                Reply::Welcome {
                    region: _,
                    vv,
                    dropped: _,
                    infos,
                    schemas,
                    changes,
                    symbols,
                },
            ) => {
                self.remote_infos = infos;
                self.remote_vv = vv.clone();
                self.pushed = vv.clone();
                let local_infos = db.table_infos(&self.config.tables);
                self.selection = selection(&self.config.tables, &local_infos, &self.remote_infos);
                if pulls && self.config.mode != SyncMode::Verify {
                    db.ensure_tables(&schemas, &self.config.tables)?;
                }
                match self.config.mode {
                    SyncMode::Incremental => {
                        if pulls {
                            let b = changes.ok_or_else(|| Error::LogGap("the remote log no longer covers this region; use reconcile or auto".into()))?;
                            self.apply(db, b, encoded)?;
                        }
                        if pushes {
                            if !db.log_covers(&vv) {
                                return Err(Error::LogGap("this log no longer covers the remote region; use reconcile or auto".into()));
                            }
                            self.steps.push_back(Step::PushChanges { more: true });
                        }
                    }
                    SyncMode::Auto => {
                        let mut reconciled = false;
                        if pulls {
                            match changes {
                                Some(b) => self.apply(db, b, encoded)?,
                                None => {
                                    self.report.fell_back_to_reconcile = true;
                                    self.plan_reconcile(db, symbols.clone())?;
                                    reconciled = true;
                                }
                            }
                        }
                        if pushes && !reconciled {
                            if db.log_covers(&vv) {
                                self.steps.push_back(Step::PushChanges { more: true });
                            } else {
                                self.report.fell_back_to_reconcile = true;
                                self.plan_reconcile(db, symbols)?;
                            }
                        }
                    }
                    SyncMode::Full => {
                        for t in self.selection.clone() {
                            let (lr, rr) = (
                                stored_of(&t, &local_infos),
                                stored_of(&t, &self.remote_infos),
                            );
                            self.whole_table(&t, lr, rr);
                        }
                        // Whole row states of every table carry the effects of every
                        // record the sender held: record that, so the next `auto`
                        // session does not send those records again.
                        if self.config.tables.is_none() {
                            if pulls {
                                self.steps.push_back(Step::MarkHeldLocal(vv.clone()));
                            }
                            if pushes {
                                // Taken now, before any page is read: a local write
                                // that lands between two pages (another thread, while
                                // a reply is in flight) may miss the pages already
                                // sent, so it must not be claimed as held remotely.
                                let base = db.version_vector().clone();
                                self.steps.push_back(Step::MarkHeldRemote(base));
                            }
                        }
                    }
                    SyncMode::Hybrid => {
                        for t in self.selection.clone() {
                            let (lr, rr) = (
                                stored_of(&t, &local_infos),
                                stored_of(&t, &self.remote_infos),
                            );
                            self.whole_table(&t, lr, rr);
                        }
                        if pulls {
                            if self.config.tables.is_none() {
                                self.steps.push_back(Step::MarkHeldLocal(vv.clone()));
                            }
                            self.hybrid_base = Some(vv.clone());
                            self.steps.push_back(Step::PullChanges);
                        }
                        if pushes {
                            let base = db.version_vector().clone();
                            if self.config.tables.is_none() {
                                self.steps.push_back(Step::MarkHeldRemote(base.clone()));
                            }
                            self.pushed = vv_union(&self.pushed, &base);
                            self.steps.push_back(Step::PushChanges { more: true });
                        }
                    }
                    SyncMode::Reconcile | SyncMode::Verify => self.plan_reconcile(db, symbols)?,
                }
            }
            (Step::PullChanges, Reply::Changes(b)) => self.apply(db, b, encoded)?,
            (
                Step::PullRows { table, .. },
                Reply::Rows {
                    table: t2,
                    rows,
                    next,
                },
            ) => {
                if t2 != table {
                    return Err(Error::Sync("rows of another table".into()));
                }
                self.report.rows_pulled += db.merge_rows(&table, rows)?;
                if let Some(n) = next {
                    self.steps.push_front(Step::PullRows {
                        table,
                        after: Some(n),
                    });
                }
            }
            (Step::Reconcile { table, mut symbols }, Reply::Symbols(b)) => {
                if b.table != table || b.from as usize != symbols.len() || b.symbols.is_empty() {
                    return Err(Error::Sync("symbols out of sequence".into()));
                }
                if symbols.len() + b.symbols.len() > budget(self.config.max_frame_bytes) / 24 {
                    return Err(Error::peer("more symbols than were asked for"));
                }
                symbols.extend(b.symbols);
                self.steps.push_front(Step::Reconcile { table, symbols });
            }
            (Step::Exchange { table }, Reply::RowsBack { table: t2, rows }) => {
                if t2 != table {
                    return Err(Error::Sync("rows of another table".into()));
                }
                if pulls {
                    self.report.rows_pulled += db.merge_rows(&table, rows)?;
                }
            }
            (Step::Resolve { table }, Reply::RowsBack { table: t2, rows }) => {
                if t2 != table {
                    return Err(Error::Sync("keys of another table".into()));
                }
                let schema = db.schema(&table)?.clone();
                let keys = rows
                    .iter()
                    .map(|(k, _)| decode_key(&schema, k))
                    .collect::<Result<Vec<_>>>()?;
                self.differing.entry(table).or_default().extend(keys);
            }
            (Step::PushChanges { more }, Reply::Ack { .. }) => {
                if more {
                    self.steps.push_front(Step::PushChanges { more: true });
                }
            }
            (Step::PushRows { table, next }, Reply::Ack { .. }) => {
                if let Some(n) = next {
                    self.steps.push_front(Step::PushRows {
                        table,
                        next: Some(n),
                    });
                }
            }
            (Step::MarkHeldRemote(_), Reply::Ack { .. }) => {}
            (_, reply) => return Err(Self::unexpected(&reply)),
        }
        Ok(())
    }

    /// Run local steps until one needs the responder, or none are left.
    fn advance(&mut self, db: &mut dyn SyncStore) -> Result<SessionStep> {
        let cap = self.config.max_frame_bytes;
        loop {
            let Some(step) = self.steps.pop_front() else {
                if self.should_fall_back(db) {
                    // The logs could not bring the digests together (rows that came
                    // by reconcile or full sync are in no log): reconcile now.
                    self.auto_retried = true;
                    self.report.fell_back_to_reconcile = true;
                    self.plan_reconcile(db, Vec::new())?;
                    continue;
                }
                break;
            };
            match step {
                Step::Hello => return Err(Error::Sync("hello twice".into())),
                Step::PullChanges => {
                    let mut vv = db.version_vector().clone();
                    if let Some(base) = &self.hybrid_base {
                        vv = vv_union(&vv, base);
                    }
                    let tables = self.config.tables.clone();
                    return self.send(Step::PullChanges, Request::GetChanges { vv, tables });
                }
                Step::PullRows { table, after } => {
                    let req = Request::GetRows {
                        table: table.clone(),
                        after: after.clone(),
                    };
                    return self.send(Step::PullRows { table, after }, req);
                }
                Step::PushRows { table, next } => {
                    let (rows, n) = db.rows_page(&table, next.as_deref(), budget(cap))?;
                    if rows.is_empty() {
                        continue;
                    }
                    self.report.rows_pushed += rows.len() as u64;
                    return self.send(
                        Step::PushRows {
                            table: table.clone(),
                            next: n,
                        },
                        Request::PushRows { table, rows },
                    );
                }
                Step::PushChanges { .. } => {
                    let batch = db.changes_for(&self.pushed, &self.config.tables, budget(cap))?;
                    if batch.records.is_empty() {
                        continue;
                    }
                    let pushed = &mut self.pushed;
                    batch.records.for_each_id(|origin, seq| {
                        pushed.insert(origin, seq);
                    })?;
                    self.report.records_pushed += batch.records.len() as u64;
                    return self.send(
                        Step::PushChanges { more: batch.more },
                        Request::PushChanges {
                            records: batch.records,
                        },
                    );
                }
                Step::MarkHeldLocal(vv) => {
                    let entries = vv_minus(&vv, db.version_vector());
                    db.mark_held(entries)?;
                }
                Step::MarkHeldRemote(base) => {
                    let entries = vv_minus(&base, &self.remote_vv);
                    if entries.is_empty() {
                        continue;
                    }
                    return self.send(Step::MarkHeldRemote(base), Request::MarkHeld { entries });
                }
                Step::FetchSymbols { table } => {
                    let local = db.table_infos(&self.config.tables);
                    let m = super::responder::first_symbols(
                        self.config.initial_symbols,
                        stored_of(&table, &local),
                        stored_of(&table, &self.remote_infos),
                        budget(cap),
                    );
                    let req = Request::GetSymbols {
                        table: table.clone(),
                        from: 0,
                        to: m,
                        content: self.id_kind() == IdKind::Content,
                    };
                    return self.send(
                        Step::Reconcile {
                            table,
                            symbols: Vec::new(),
                        },
                        req,
                    );
                }
                Step::Reconcile { table, symbols } => {
                    if let Some(r) = self.reconcile(db, table, symbols)? {
                        return Ok(r);
                    }
                }
                Step::Resolve { .. } | Step::Exchange { .. } => {
                    return Err(Error::Sync("internal: reply step queued".into()))
                }
            }
        }
        self.finish(db)
    }

    /// `auto`, not yet reconciled, and some table still differs after the
    /// records moved (rows that came by reconcile or full sync are in no log).
    fn should_fall_back(&self, db: &dyn SyncStore) -> bool {
        if self.config.mode != SyncMode::Auto
            || self.auto_retried
            || self.report.fell_back_to_reconcile
        {
            return false;
        }
        let local = db.table_infos(&self.config.tables);
        self.selection
            .iter()
            .any(|t| differs(t, &local, &self.remote_infos, IdKind::State))
    }

    /// Verify compares visible content; everything else reconciles exact states.
    fn id_kind(&self) -> IdKind {
        if self.config.mode == SyncMode::Verify {
            IdKind::Content
        } else {
            IdKind::State
        }
    }

    fn reconcile(
        &mut self,
        db: &mut dyn SyncStore,
        table: String,
        symbols: Vec<Symbol>,
    ) -> Result<Option<SessionStep>> {
        let m = symbols.len();
        let local = db.symbols(&table, self.id_kind(), 0, m)?;
        match riblt::decode(&local, &symbols) {
            Some(diff) => {
                let local_only: HashSet<u64> = diff.local_only.iter().copied().collect();
                if self.config.mode == SyncMode::Verify {
                    let schema = db.schema(&table)?;
                    let keys = db
                        .rows_with_ids(&table, &local_only, IdKind::Content)?
                        .iter()
                        .map(|(k, _)| decode_key(schema, k))
                        .collect::<Result<Vec<_>>>()?;
                    self.differing
                        .entry(table.clone())
                        .or_default()
                        .extend(keys);
                    if diff.remote_only.is_empty() {
                        return Ok(None);
                    }
                    let req = Request::ResolveIds {
                        table: table.clone(),
                        ids: diff.remote_only,
                    };
                    return self.send(Step::Resolve { table }, req).map(Some);
                }
                let rows = if self.config.direction.pushes() {
                    db.rows_with_ids(&table, &local_only, IdKind::State)?
                } else {
                    Vec::new()
                };
                let want = if self.config.direction.pulls() {
                    diff.remote_only
                } else {
                    Vec::new()
                };
                if rows.is_empty() && want.is_empty() {
                    return Ok(None);
                }
                self.report.rows_pushed += rows.len() as u64;
                let req = Request::Exchange {
                    table: table.clone(),
                    rows,
                    want,
                };
                self.send(Step::Exchange { table }, req).map(Some)
            }
            None => {
                // The remote row count is the peer's number: saturate.
                let stored = db.stored_count(&table)?;
                let most = stored.max(stored_of(&table, &self.remote_infos));
                let limit = most
                    .saturating_mul(4)
                    .saturating_add(1024)
                    .min((budget(self.config.max_frame_bytes) / 24) as u64)
                    as usize;
                if m >= limit && self.config.mode == SyncMode::Verify {
                    return Err(Error::Sync(format!(
                        "table '{table}' differs in too many rows to list them; use reconcile or full"
                    )));
                }
                if m >= limit {
                    // Too different for symbols to pay off: move whole tables.
                    let lr = stored_of(&table, &db.table_infos(&None));
                    let rr = stored_of(&table, &self.remote_infos);
                    self.whole_table(&table, lr, rr);
                    return Ok(None);
                }
                let to = (m * 2).min(limit).max(m + 1);
                let req = Request::GetSymbols {
                    table: table.clone(),
                    from: m as u32,
                    to: to as u32,
                    content: self.id_kind() == IdKind::Content,
                };
                self.send(Step::Reconcile { table, symbols }, req).map(Some)
            }
        }
    }

    fn finish(&mut self, db: &mut dyn SyncStore) -> Result<SessionStep> {
        self.finished = true;
        let local = db.table_infos(&self.config.tables);
        let mut verified = true;
        let mut outcomes = Vec::new();
        for t in &self.selection {
            let l = local
                .iter()
                .find(|i| &i.name == t)
                .map(|i| i.digest.to_hex());
            let r = self
                .remote_infos
                .iter()
                .find(|i| &i.name == t)
                .map(|i| i.digest.to_hex());
            verified &= l.is_some() && l == r;
            let mut keys = self.differing.remove(t).unwrap_or_default();
            // Key order: sort by the order-preserving encoding under the local schema.
            if let Ok(schema) = db.schema(t) {
                keys.sort_by_cached_key(|k| {
                    crate::codec::key::encode_key(schema, k).unwrap_or_default()
                });
            }
            keys.dedup();
            outcomes.push(TableOutcome {
                table: t.clone(),
                local: l,
                remote: r,
                differing_keys: keys,
            });
        }
        self.report.verified = verified;
        self.report.tables = outcomes;
        self.report.duration_ms = db.now_ms() - self.started_ms;
        Ok(SessionStep::Done(self.report.clone()))
    }
}
