//! The responder: stateless, one request frame in, one reply frame out.

use super::message::*;
use super::rows::{selection, IdKind};
use super::SyncMode;
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
    db: &Database,
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

fn hello(db: &mut Database, h: Hello, cap: usize) -> Result<Reply> {
    if h.direction.pushes() && h.mode != SyncMode::Verify {
        db.ensure_tables(&h.schemas, &h.tables)?;
    }
    let infos = db.table_infos(&h.tables);
    let covers_peer = db.log_covers(&h.vv);
    let peer_covers_us = h.dropped.is_covered_by(db.log.version_vector());
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
        vv: db.log.version_vector().clone(),
        dropped: db.log.dropped().clone(),
        infos,
        schemas: db.schemas(&h.tables),
        changes,
        symbols,
    })
}

fn handle(db: &mut Database, req: Request, cap: usize) -> Result<(Reply, Option<Vec<String>>)> {
    Ok(match req {
        Request::Hello(h) => {
            let tables = h.tables.clone();
            (hello(db, h, cap)?, tables)
        }
        Request::GetChanges { vv, tables } => {
            if !db.log_covers(&vv) {
                return Err(Error::LogGap(
                    "records the peer lacks were dropped from this log".into(),
                ));
            }
            let batch = db.changes_for(&vv, &tables, page_budget(cap))?;
            (Reply::Changes(batch), tables)
        }
        Request::PushChanges { records } => {
            let stats = db.apply_peer_changes(records)?;
            (
                Reply::Ack {
                    records: stats.applied,
                    rows: 0,
                },
                None,
            )
        }
        Request::GetRows { table, after } => {
            let (rows, next) = db.rows_page(&table, after.as_deref(), page_budget(cap))?;
            (Reply::Rows { table, rows, next }, None)
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
        Request::GetSymbols {
            table,
            from,
            to,
            content,
        } => {
            if to <= from || (to - from) as usize > page_budget(cap) / 24 {
                return Err(Error::invalid(format!(
                    "symbol range [{from}, {to}) is empty or too large"
                )));
            }
            let kind = if content {
                IdKind::Content
            } else {
                IdKind::State
            };
            (
                Reply::Symbols(symbols_for(db, &table, from, to, kind)?),
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
        Request::ResolveIds { table, ids } => {
            let want: HashSet<u64> = ids.into_iter().collect();
            let rows = db
                .rows_with_ids(&table, &want, IdKind::Content)?
                .into_iter()
                .map(|(k, _)| (k, Vec::new()))
                .collect();
            (Reply::RowsBack { table, rows }, None)
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
    })
}

/// Answer one request frame. A frame that cannot be decoded is an error
/// (there is no session to answer); a request that fails is answered with a
/// `Failed` reply carrying the error's code.
pub fn respond(db: &mut Database, request: &[u8], max_frame_bytes: usize) -> Result<Vec<u8>> {
    db.check_open()?;
    let (session, index, reply_cap, req) =
        decode_request_with_cap(request, max_frame_bytes).inspect_err(|e| db.note_peer_error(e))?;
    // Answer within the smaller of our cap and the one the initiator accepts.
    let max_frame_bytes = max_frame_bytes.min(reply_cap);
    let (reply, tables) = match handle(db, req, max_frame_bytes) {
        Ok(x) => x,
        Err(e) => (
            {
                db.note_peer_error(&e);
                Reply::Failed {
                    code: e.code().to_string(),
                    message: e.message(),
                }
            },
            None,
        ),
    };
    let infos = db.table_infos(&tables);
    encode_reply(
        session,
        index,
        &ReplyEnvelope { reply, infos },
        max_frame_bytes,
    )
}
