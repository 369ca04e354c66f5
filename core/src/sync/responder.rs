//! The responder: stateless, one request frame in, one reply frame out.

use super::message::*;
use super::rows::{selection, IdKind};
use super::store::apply_records;
use super::SyncMode;
use super::SyncStore;
use crate::client::Database;
use crate::model::error::{Error, Result};
use std::collections::HashSet;

/// Room left in a frame for everything but the page being filled.
const PAGE_SLACK: usize = 64 * 1024;

fn page_budget(cap: usize) -> usize {
    cap.saturating_sub(PAGE_SLACK).max(cap / 2)
}

/// Whether a table differs between the two sides' infos: by content digest
/// for verify, by exact merged state (content digest and state sum) for
/// everything that moves rows.
///
/// Comparing content alone is not enough to move rows by: a region that
/// holds a row tombstone and one that never saw the row have equal content,
/// and if the session between them moved nothing, the second could later
/// take an older live state of that row from a third region that also
/// lacks the tombstone, and show a deleted row again (issue 8, sync
/// simulation seed 2845: `k=10` came back on `r1`). Equal state sums mean
/// equal states, so a session that ends with equal sums leaves nothing for
/// a later exchange to undo.
pub(crate) fn differs(name: &str, a: &[TableInfo], b: &[TableInfo], kind: IdKind) -> bool {
    let x = a.iter().find(|i| i.name == name);
    let y = b.iter().find(|i| i.name == name);
    match (x, y) {
        (Some(x), Some(y)) => {
            x.digest != y.digest || (kind == IdKind::State && x.state_sum != y.state_sum)
        }
        (None, None) => false,
        _ => true,
    }
}

/// Stored entries (tombstones included) on one side, 0 if the table is missing there.
pub(crate) fn stored_of(name: &str, infos: &[TableInfo]) -> u64 {
    infos
        .iter()
        .find(|i| i.name == name)
        .map_or(0, |i| i.stored)
}

/// Symbols to send first: the requested number, more when the stored
/// counts already differ by more, within the frame budget.
pub(crate) fn first_symbols(requested: u32, a: u64, b: u64, budget: usize) -> u32 {
    let hint = a.abs_diff(b).saturating_mul(2).min(u32::MAX as u64) as u32;
    requested.max(hint).min((budget / 24) as u32).max(1)
}

fn symbols_for(
    db: &dyn SyncStore,
    table: &str,
    from: u32,
    to: u32,
    kind: IdKind,
) -> Result<SymbolBatch> {
    Ok(SymbolBatch {
        table: table.to_string(),
        from,
        symbols: db.symbols(table, kind, from as usize, to as usize)?,
    })
}

/// Whether answering `h` must create tables first (a pushing session that
/// names tables this region lacks). Mismatched primary keys are left to
/// [`SyncStore::ensure_tables`], which refuses them.
fn hello_creates_tables(db: &dyn SyncStore, h: &Hello) -> bool {
    h.direction.pushes()
        && h.mode != SyncMode::Verify
        && h.schemas.iter().any(|s| {
            h.tables.as_ref().is_none_or(|t| t.contains(&s.name)) && !db.has_table(&s.name)
        })
}

fn hello(db: &dyn SyncStore, h: &Hello, cap: usize) -> Result<Reply> {
    if h.direction.pushes() && h.mode != SyncMode::Verify {
        // Only checks here: creation happened under the write borrow.
        db.check_table_keys(&h.schemas, &h.tables)?;
    }
    let infos = db.table_infos(&h.tables);
    let covers_peer = db.log_covers(&h.vv);
    let peer_covers_us = h.dropped.is_covered_by(db.version_vector());
    let changes = match h.mode {
        SyncMode::Incremental | SyncMode::Auto if h.direction.pulls() && covers_peer => {
            Some(db.changes_for(&h.vv, &h.tables, page_budget(cap))?)
        }
        _ => None,
    };
    let reconcile = match h.mode {
        SyncMode::Reconcile | SyncMode::Verify => true,
        SyncMode::Auto => {
            (h.direction.pulls() && !covers_peer) || (h.direction.pushes() && !peer_covers_us)
        }
        _ => false,
    };
    let mut symbols = Vec::new();
    let kind = if h.mode == SyncMode::Verify {
        IdKind::Content
    } else {
        IdKind::State
    };
    if reconcile {
        for name in selection(&h.tables, &h.infos, &infos) {
            let (a, b) = (stored_of(&name, &h.infos), stored_of(&name, &infos));
            if differs(&name, &h.infos, &infos, kind) && a > 0 && b > 0 {
                let m = first_symbols(h.initial_symbols, a, b, page_budget(cap));
                symbols.push(symbols_for(db, &name, 0, m, kind)?);
            }
        }
    }
    Ok(Reply::Welcome {
        region: db.region().to_string(),
        vv: db.version_vector().clone(),
        dropped: db.dropped().clone(),
        infos,
        schemas: db.schemas(&h.tables),
        changes,
        symbols,
    })
}

/// A reply and the tables whose infos travel with it.
type Answer = (Reply, Option<Vec<String>>);

/// Whether answering `req` may change the database.
fn writes(db: &dyn SyncStore, req: &Request) -> bool {
    match req {
        Request::Hello(h) => hello_creates_tables(db, h),
        Request::PushChanges { .. }
        | Request::PushRows { .. }
        | Request::Exchange { .. }
        | Request::MarkHeld { .. } => true,
        Request::GetChanges { .. }
        | Request::GetRows { .. }
        | Request::GetSymbols { .. }
        | Request::ResolveIds { .. } => false,
    }
}

/// Answer a request that changes nothing (see [`writes`]).
fn handle_read(db: &dyn SyncStore, req: &Request, cap: usize) -> Result<Answer> {
    Ok(match req {
        Request::Hello(h) => (hello(db, h, cap)?, h.tables.clone()),
        Request::GetChanges { vv, tables } => {
            if !db.log_covers(vv) {
                return Err(Error::LogGap(
                    "records the peer lacks were dropped from this log".into(),
                ));
            }
            let batch = db.changes_for(vv, tables, page_budget(cap))?;
            (Reply::Changes(batch), tables.clone())
        }
        Request::GetRows { table, after } => {
            let (rows, next) = db.rows_page(table, after.as_deref(), page_budget(cap))?;
            (
                Reply::Rows {
                    table: table.clone(),
                    rows,
                    next,
                },
                None,
            )
        }
        Request::GetSymbols {
            table,
            from,
            to,
            content,
        } => {
            let (from, to) = (*from, *to);
            if to <= from || (to - from) as usize > page_budget(cap) / 24 {
                return Err(Error::invalid(format!(
                    "symbol range [{from}, {to}) is empty or too large"
                )));
            }
            let kind = if *content {
                IdKind::Content
            } else {
                IdKind::State
            };
            (
                Reply::Symbols(symbols_for(db, table, from, to, kind)?),
                None,
            )
        }
        Request::ResolveIds { table, ids } => {
            let want: HashSet<u64> = ids.iter().copied().collect();
            let rows = db
                .rows_with_ids(table, &want, IdKind::Content)?
                .into_iter()
                .map(|(k, _)| (k, Vec::new()))
                .collect();
            (
                Reply::RowsBack {
                    table: table.clone(),
                    rows,
                },
                None,
            )
        }
        Request::PushChanges { .. }
        | Request::PushRows { .. }
        | Request::Exchange { .. }
        | Request::MarkHeld { .. } => {
            return Err(Error::invalid("this sync request needs the write path"))
        }
    })
}

fn handle(
    db: &mut dyn SyncStore,
    req: Request,
    cap: usize,
    encoded: &RecordSpans,
) -> Result<Answer> {
    Ok(match req {
        Request::Hello(h) => {
            if h.direction.pushes() && h.mode != SyncMode::Verify {
                db.ensure_tables(&h.schemas, &h.tables)?;
            }
            (hello(db, &h, cap)?, h.tables)
        }
        Request::PushChanges { records } => {
            let applied = apply_records(db, records, &encoded.records())?;
            (
                Reply::Ack {
                    records: applied,
                    rows: 0,
                },
                None,
            )
        }
        Request::PushRows { table, rows } => {
            let n = db.merge_rows(&table, rows)?;
            (
                Reply::Ack {
                    records: 0,
                    rows: n,
                },
                None,
            )
        }
        Request::Exchange { table, rows, want } => {
            // Ids name rows as they were before this merge; return them as they are after.
            let want: HashSet<u64> = want.into_iter().collect();
            let keys: Vec<Vec<u8>> = db
                .rows_with_ids(&table, &want, IdKind::State)?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            db.merge_rows(&table, rows)?;
            (
                Reply::RowsBack {
                    rows: db.rows_with_keys(&table, &keys)?,
                    table,
                },
                None,
            )
        }
        Request::MarkHeld { entries } => {
            db.mark_held(entries)?;
            (
                Reply::Ack {
                    records: 0,
                    rows: 0,
                },
                None,
            )
        }
        other => handle_read(db, &other, cap)?,
    })
}

/// Encode the reply to a handled request (a failure becomes `Failed`).
fn finish(
    db: &dyn SyncStore,
    session: u64,
    index: u32,
    answer: Result<Answer>,
    cap: usize,
) -> Result<Vec<u8>> {
    let (reply, tables) = match answer {
        Ok(x) => x,
        Err(e) => {
            db.note_peer_error(&e);
            (
                Reply::Failed {
                    code: e.code().to_string(),
                    message: e.message(),
                },
                None,
            )
        }
    };
    let infos = db.table_infos(&tables);
    encode_reply(session, index, &ReplyEnvelope { reply, infos }, cap)
}

/// Answer one request frame. A frame that cannot be decoded is an error
/// (there is no session to answer); a request that fails is answered with a
/// `Failed` reply carrying the error's code.
pub fn respond(db: &mut Database, request: &[u8], max_frame_bytes: usize) -> Result<Vec<u8>> {
    respond_on(db, request, max_frame_bytes)
}

/// [`respond`] on any [`SyncStore`].
pub fn respond_on(
    db: &mut dyn SyncStore,
    request: &[u8],
    max_frame_bytes: usize,
) -> Result<Vec<u8>> {
    db.check_open()?;
    let (session, index, reply_cap, req, encoded) =
        decode_request_spans(request, max_frame_bytes).inspect_err(|e| db.note_peer_error(e))?;
    // Answer within the smaller of our cap and the one the initiator accepts.
    let cap = max_frame_bytes.min(reply_cap);
    let answer = handle(db, req, cap, &encoded);
    finish(db, session, index, answer, cap)
}

/// Answer one request frame through a shared borrow, when answering it
/// changes nothing (infos, digests, change and row pages, symbols, and a
/// hello whose tables all exist). Returns `Ok(None)` for a frame that needs
/// [`respond`] (pushed changes or rows, exchanges, held marks, a hello that
/// creates tables), so a server can answer reads under a read lock and take
/// its write lock only for those. The reply is the one [`respond`] gives.
pub fn respond_read(
    db: &Database,
    request: &[u8],
    max_frame_bytes: usize,
) -> Result<Option<Vec<u8>>> {
    respond_read_on(db, request, max_frame_bytes)
}

/// [`respond_read`] on any [`SyncStore`].
pub fn respond_read_on(
    db: &dyn SyncStore,
    request: &[u8],
    max_frame_bytes: usize,
) -> Result<Option<Vec<u8>>> {
    db.check_open()?;
    let (session, index, reply_cap, req) =
        decode_request_with_cap(request, max_frame_bytes).inspect_err(|e| db.note_peer_error(e))?;
    if writes(db, &req) {
        return Ok(None);
    }
    let cap = max_frame_bytes.min(reply_cap);
    let answer = handle_read(db, &req, cap);
    finish(db, session, index, answer, cap).map(Some)
}
