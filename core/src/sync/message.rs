//! Sync messages and their frames.
//!
//! A message travels as a frame (`codec::frame`, magic `TSSY`, lz4 payload)
//! whose payload is `session id u64 LE ‖ message index u32 LE ‖ kind u8 ‖ body`.
//! Replies echo the request's session id and index, so a reply from another
//! session, or a replayed one, is rejected.

use super::riblt::Symbol;
use super::{SyncDirection, SyncMode};
use crate::codec::buf::{put_bytes, put_varint, put_zigzag, Reader};
use crate::codec::frame::{decode_frame_version, try_encode_frame_version};
use crate::codec::record::{put_record, read_record};
use crate::codec::record_page::{record_id, RecordPage};
use crate::codec::schema::{put_schema, read_schema};
use crate::digest::Digest;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::log::vv_codec::{put_vv, read_vv};
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::ops::Range;

/// Magic of a sync frame.
pub const MAGIC_SYNC: [u8; 4] = *b"TSSY";

/// Format version of sync frames (FORMAT.md §13). Version 2 added each
/// table's state sum to the table infos; version 3 marks the `max_versions`
/// rule of FORMAT.md §5.1 (a version tombstone takes a place), under which
/// digests of some rows differ from version-2 builds. Older peers are refused
/// with `UnsupportedVersion` rather than reported as diverged.
pub const SYNC_FRAME_VERSION: u8 = 3;

/// A table's row count and digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableInfo {
    /// Table.
    pub name: String,
    /// Rows that exist.
    pub rows: u64,
    /// Stored entries, tombstones included.
    pub stored: u64,
    /// Table digest (visible content).
    pub digest: Digest,
    /// Wrapping sum of the rows' state ids (exact merged states, tombstones
    /// included): tables with equal content can still hold different states.
    pub state_sum: u64,
}

/// `(encoded key, encoded row state)`.
pub type RowBytes = (Vec<u8>, Vec<u8>);

/// The change records of a message, in one of two forms that encode to the
/// same bytes: decoded (what the decoder returns, so the receiver can
/// validate and apply them) or as their stored encodings (what a region
/// sends: the log's bytes go into the frame as they are, no record is
/// decoded or encoded again). Values compare equal only in the same form.
#[derive(Clone, Debug, PartialEq)]
pub enum Records {
    /// Decoded records.
    Decoded(Vec<ChangeRecord>),
    /// Record encodings (FORMAT.md §7), as the log stores them.
    Encoded(RecordPage),
}

impl Default for Records {
    fn default() -> Self {
        Records::Decoded(Vec::new())
    }
}

impl From<Vec<ChangeRecord>> for Records {
    fn from(v: Vec<ChangeRecord>) -> Self {
        Records::Decoded(v)
    }
}

impl From<RecordPage> for Records {
    fn from(p: RecordPage) -> Self {
        Records::Encoded(p)
    }
}

impl Records {
    /// Number of records.
    pub fn len(&self) -> usize {
        match self {
            Records::Decoded(v) => v.len(),
            Records::Encoded(p) => p.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The records decoded (a move for the decoded form).
    pub fn into_decoded(self) -> Result<Vec<ChangeRecord>> {
        match self {
            Records::Decoded(v) => Ok(v),
            Records::Encoded(p) => p.decode(),
        }
    }
    /// Call `f` with each record's `(origin, seq)`, in order.
    pub fn for_each_id(&self, mut f: impl FnMut(&str, u64)) -> Result<()> {
        match self {
            Records::Decoded(v) => v.iter().for_each(|r| f(&r.origin, r.seq)),
            Records::Encoded(p) => {
                for b in p.iter() {
                    let (origin, seq) = record_id(b)?;
                    f(origin, seq);
                }
            }
        }
        Ok(())
    }
    /// `count ‖ records` (FORMAT.md §13): the encoded form is copied.
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        match self {
            Records::Decoded(v) => {
                for rec in v {
                    put_record(out, rec);
                }
            }
            Records::Encoded(p) => out.extend_from_slice(p.bytes()),
        }
    }
}

/// A page of change records.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeBatch {
    /// Records.
    pub records: Records,
    /// Whether more remain.
    pub more: bool,
}

/// Coded symbols `[from, from + symbols.len())` of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolBatch {
    /// Table.
    pub table: String,
    /// Index of the first symbol.
    pub from: u32,
    /// Symbols.
    pub symbols: Vec<Symbol>,
}

/// The initiator's opening message.
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    /// Mode.
    pub mode: SyncMode,
    /// Direction.
    pub direction: SyncDirection,
    /// Selected tables (`None`: all tables of both sides).
    pub tables: Option<Vec<String>>,
    /// The initiator's version vector.
    pub vv: VersionVector,
    /// Records the initiator holds but no longer has in its log.
    pub dropped: VersionVector,
    /// The initiator's tables (digests).
    pub infos: Vec<TableInfo>,
    /// The initiator's schemas (so the responder can create missing tables when pushed to).
    pub schemas: Vec<TableSchema>,
    /// Symbols the initiator wants first, for tables whose digests differ.
    pub initial_symbols: u32,
}

/// Requests (initiator → responder).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Open a session.
    Hello(Hello),
    /// Records the sender lacks per `vv`.
    GetChanges {
        /// The initiator's version vector.
        vv: VersionVector,
        /// Table selection.
        tables: Option<Vec<String>>,
    },
    /// Records for the responder to apply.
    PushChanges {
        /// Records.
        records: Records,
    },
    /// A page of whole rows after `after`.
    GetRows {
        /// Table.
        table: String,
        /// Last key of the previous page.
        after: Option<Vec<u8>>,
    },
    /// Whole rows for the responder to merge.
    PushRows {
        /// Table.
        table: String,
        /// Rows.
        rows: Vec<RowBytes>,
    },
    /// More coded symbols.
    GetSymbols {
        /// Table.
        table: String,
        /// First index.
        from: u32,
        /// End index (exclusive).
        to: u32,
        /// Code rows by visible content (verify) instead of exact state (reconcile).
        content: bool,
    },
    /// Rows for the responder to merge, and ids whose rows it should return (after merging).
    Exchange {
        /// Table.
        table: String,
        /// Rows to merge.
        rows: Vec<RowBytes>,
        /// Ids of the responder's rows wanted back.
        want: Vec<u64>,
    },
    /// Keys of the responder's rows with these ids (verify: no data moves).
    ResolveIds {
        /// Table.
        table: String,
        /// Ids.
        ids: Vec<u64>,
    },
    /// Mark records as held without their log entries (after a hybrid push).
    MarkHeld {
        /// `(origin, from, to)` inclusive ranges.
        entries: Vec<(String, u64, u64)>,
    },
}

/// Replies (responder → initiator).
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// Answer to `Hello`.
    Welcome {
        /// The responder's region.
        region: String,
        /// The responder's version vector.
        vv: VersionVector,
        /// Records the responder holds but no longer has in its log.
        dropped: VersionVector,
        /// The responder's tables.
        infos: Vec<TableInfo>,
        /// The responder's schemas.
        schemas: Vec<TableSchema>,
        /// First page of changes, when the mode pulls records and the log covers them.
        changes: Option<ChangeBatch>,
        /// Symbols for tables whose digests differ, when the mode reconciles.
        symbols: Vec<SymbolBatch>,
    },
    /// A page of records.
    Changes(ChangeBatch),
    /// A page of rows.
    Rows {
        /// Table.
        table: String,
        /// Rows.
        rows: Vec<RowBytes>,
        /// Last key sent, when more remain.
        next: Option<Vec<u8>>,
    },
    /// More symbols.
    Symbols(SymbolBatch),
    /// Rows after an exchange or keys after a resolve.
    RowsBack {
        /// Table.
        table: String,
        /// Rows (state empty for `ResolveIds`).
        rows: Vec<RowBytes>,
    },
    /// Something was applied.
    Ack {
        /// Records applied.
        records: u64,
        /// Rows merged.
        rows: u64,
    },
    /// The request failed.
    Failed {
        /// Error code.
        code: String,
        /// Message.
        message: String,
    },
}

/// A reply with the responder's digests after handling the request.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplyEnvelope {
    /// The reply.
    pub reply: Reply,
    /// The responder's table digests after handling (for verification).
    pub infos: Vec<TableInfo>,
}

fn put_opt_tables(out: &mut Vec<u8>, t: &Option<Vec<String>>) {
    match t {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_varint(out, v.len() as u64);
            for s in v {
                put_bytes(out, s.as_bytes());
            }
        }
    }
}

fn read_opt_tables(r: &mut Reader<'_>) -> Result<Option<Vec<String>>> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(r.read_vec(1, |r| Ok(r.string()?.to_string()))?)),
        b => Err(r.error(format!("bad option byte {b}"))),
    }
}

fn put_infos(out: &mut Vec<u8>, infos: &[TableInfo]) {
    put_varint(out, infos.len() as u64);
    for i in infos {
        put_bytes(out, i.name.as_bytes());
        put_varint(out, i.rows);
        put_varint(out, i.stored);
        out.extend_from_slice(&i.digest.0);
        out.extend_from_slice(&i.state_sum.to_le_bytes());
    }
}

fn read_infos(r: &mut Reader<'_>) -> Result<Vec<TableInfo>> {
    // name (≥ 1) ‖ rows ‖ stored ‖ digest (32) ‖ state sum (8).
    r.read_vec(43, |r| {
        let name = r.string()?.to_string();
        let rows = r.varint()?;
        let stored = r.varint()?;
        let digest = Digest(r.take(32)?.try_into().expect("32"));
        let state_sum = u64::from_le_bytes(r.take(8)?.try_into().expect("8"));
        Ok(TableInfo {
            name,
            rows,
            stored,
            digest,
            state_sum,
        })
    })
}

fn put_schemas(out: &mut Vec<u8>, s: &[TableSchema]) {
    put_varint(out, s.len() as u64);
    for x in s {
        put_schema(out, x);
    }
}

fn read_schemas(r: &mut Reader<'_>) -> Result<Vec<TableSchema>> {
    // name ‖ key column count ‖ max_versions ‖ time_to_live, at least.
    r.read_vec(4, read_schema)
}

/// The records of a page, each one's span of the payload noted in `spans`.
fn read_records(r: &mut Reader<'_>, spans: &mut Vec<Range<usize>>) -> Result<Vec<ChangeRecord>> {
    // version ‖ origin ‖ seq ‖ stamp (8) ‖ table ‖ kind ‖ two counts: ≥ 15 bytes.
    r.read_vec(15, |r| {
        let start = r.position();
        let rec = read_record(r)?;
        spans.push(start..r.position());
        Ok(rec)
    })
}

fn put_batch(out: &mut Vec<u8>, b: &ChangeBatch) {
    b.records.put(out);
    out.push(b.more as u8);
}

fn read_bool(r: &mut Reader<'_>) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(r.error(format!("bad boolean {b}"))),
    }
}

fn read_batch(r: &mut Reader<'_>, spans: &mut Vec<Range<usize>>) -> Result<ChangeBatch> {
    let records = read_records(r, spans)?;
    Ok(ChangeBatch {
        records: Records::Decoded(records),
        more: read_bool(r)?,
    })
}

fn put_rows(out: &mut Vec<u8>, rows: &[RowBytes]) {
    put_varint(out, rows.len() as u64);
    for (k, s) in rows {
        put_bytes(out, k);
        put_bytes(out, s);
    }
}

fn read_rows(r: &mut Reader<'_>) -> Result<Vec<RowBytes>> {
    r.read_vec(2, |r| {
        let k = r.bytes()?.to_vec();
        let s = r.bytes()?.to_vec();
        Ok((k, s))
    })
}

fn put_opt_bytes(out: &mut Vec<u8>, b: &Option<Vec<u8>>) {
    match b {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            put_bytes(out, b);
        }
    }
}

fn read_opt_bytes(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>> {
    Ok(if read_bool(r)? {
        Some(r.bytes()?.to_vec())
    } else {
        None
    })
}

fn put_symbols(out: &mut Vec<u8>, b: &SymbolBatch) {
    put_bytes(out, b.table.as_bytes());
    put_varint(out, b.from as u64);
    put_varint(out, b.symbols.len() as u64);
    for s in &b.symbols {
        out.extend_from_slice(&s.id.to_le_bytes());
        out.extend_from_slice(&s.check.to_le_bytes());
        put_zigzag(out, s.count);
    }
}

fn read_symbols(r: &mut Reader<'_>) -> Result<SymbolBatch> {
    let table = r.string()?.to_string();
    let from = u32::try_from(r.varint()?).map_err(|_| r.error("symbol index out of range"))?;
    // id (8) ‖ check (8) ‖ count (≥ 1).
    let symbols = r.read_vec(17, |r| {
        let id = r.u64_le()?;
        let check = r.u64_le()?;
        Ok(Symbol {
            id,
            check,
            count: r.zigzag()?,
        })
    })?;
    Ok(SymbolBatch {
        table,
        from,
        symbols,
    })
}

fn put_ids(out: &mut Vec<u8>, ids: &[u64]) {
    put_varint(out, ids.len() as u64);
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
}

fn read_ids(r: &mut Reader<'_>) -> Result<Vec<u64>> {
    r.read_vec(8, |r| r.u64_le())
}

fn put_held(out: &mut Vec<u8>, e: &[(String, u64, u64)]) {
    put_varint(out, e.len() as u64);
    for (o, from, to) in e {
        put_bytes(out, o.as_bytes());
        put_varint(out, *from);
        put_varint(out, *to);
    }
}

fn read_held(r: &mut Reader<'_>) -> Result<Vec<(String, u64, u64)>> {
    r.read_vec(3, |r| {
        let o = r.string()?.to_string();
        let from = r.varint()?;
        let to = r.varint()?;
        if from == 0 || from > to {
            return Err(r.error("empty or zero range"));
        }
        Ok((o, from, to))
    })
}

impl Request {
    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Request::Hello(h) => {
                out.push(1);
                out.push(h.mode.byte());
                out.push(h.direction.byte());
                put_opt_tables(out, &h.tables);
                put_vv(out, &h.vv);
                put_vv(out, &h.dropped);
                put_infos(out, &h.infos);
                put_schemas(out, &h.schemas);
                put_varint(out, h.initial_symbols as u64);
            }
            Request::GetChanges { vv, tables } => {
                out.push(2);
                put_vv(out, vv);
                put_opt_tables(out, tables);
            }
            Request::PushChanges { records } => {
                out.push(3);
                records.put(out);
            }
            Request::GetRows { table, after } => {
                out.push(4);
                put_bytes(out, table.as_bytes());
                put_opt_bytes(out, after);
            }
            Request::PushRows { table, rows } => {
                out.push(5);
                put_bytes(out, table.as_bytes());
                put_rows(out, rows);
            }
            Request::GetSymbols {
                table,
                from,
                to,
                content,
            } => {
                out.push(6);
                put_bytes(out, table.as_bytes());
                put_varint(out, *from as u64);
                put_varint(out, *to as u64);
                out.push(*content as u8);
            }
            Request::Exchange { table, rows, want } => {
                out.push(7);
                put_bytes(out, table.as_bytes());
                put_rows(out, rows);
                put_ids(out, want);
            }
            Request::ResolveIds { table, ids } => {
                out.push(8);
                put_bytes(out, table.as_bytes());
                put_ids(out, ids);
            }
            Request::MarkHeld { entries } => {
                out.push(9);
                put_held(out, entries);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>, spans: &mut Vec<Range<usize>>) -> Result<Request> {
        Ok(match r.u8()? {
            1 => {
                let mode = SyncMode::from_byte(r.u8()?).ok_or_else(|| r.error("unknown mode"))?;
                let direction = SyncDirection::from_byte(r.u8()?)
                    .ok_or_else(|| r.error("unknown direction"))?;
                let tables = read_opt_tables(r)?;
                let vv = read_vv(r)?;
                let dropped = read_vv(r)?;
                let infos = read_infos(r)?;
                let schemas = read_schemas(r)?;
                let initial_symbols =
                    u32::try_from(r.varint()?).map_err(|_| r.error("symbol count out of range"))?;
                Request::Hello(Hello {
                    mode,
                    direction,
                    tables,
                    vv,
                    dropped,
                    infos,
                    schemas,
                    initial_symbols,
                })
            }
            2 => {
                let vv = read_vv(r)?;
                Request::GetChanges {
                    vv,
                    tables: read_opt_tables(r)?,
                }
            }
            3 => Request::PushChanges {
                records: Records::Decoded(read_records(r, spans)?),
            },
            4 => {
                let table = r.string()?.to_string();
                Request::GetRows {
                    table,
                    after: read_opt_bytes(r)?,
                }
            }
            5 => {
                let table = r.string()?.to_string();
                Request::PushRows {
                    table,
                    rows: read_rows(r)?,
                }
            }
            6 => {
                let table = r.string()?.to_string();
                let from = u32::try_from(r.varint()?).map_err(|_| r.error("index out of range"))?;
                let to = u32::try_from(r.varint()?).map_err(|_| r.error("index out of range"))?;
                let content = read_bool(r)?;
                Request::GetSymbols {
                    table,
                    from,
                    to,
                    content,
                }
            }
            7 => {
                let table = r.string()?.to_string();
                let rows = read_rows(r)?;
                Request::Exchange {
                    table,
                    rows,
                    want: read_ids(r)?,
                }
            }
            8 => {
                let table = r.string()?.to_string();
                Request::ResolveIds {
                    table,
                    ids: read_ids(r)?,
                }
            }
            9 => Request::MarkHeld {
                entries: read_held(r)?,
            },
            k => return Err(r.error(format!("unknown request kind {k}"))),
        })
    }
}

impl Reply {
    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Welcome {
                region,
                vv,
                dropped,
                infos,
                schemas,
                changes,
                symbols,
            } => {
                out.push(101);
                put_bytes(out, region.as_bytes());
                put_vv(out, vv);
                put_vv(out, dropped);
                put_infos(out, infos);
                put_schemas(out, schemas);
                match changes {
                    None => out.push(0),
                    Some(b) => {
                        out.push(1);
                        put_batch(out, b);
                    }
                }
                put_varint(out, symbols.len() as u64);
                for s in symbols {
                    put_symbols(out, s);
                }
            }
            Reply::Changes(b) => {
                out.push(102);
                put_batch(out, b);
            }
            Reply::Rows { table, rows, next } => {
                out.push(103);
                put_bytes(out, table.as_bytes());
                put_rows(out, rows);
                put_opt_bytes(out, next);
            }
            Reply::Symbols(s) => {
                out.push(104);
                put_symbols(out, s);
            }
            Reply::RowsBack { table, rows } => {
                out.push(105);
                put_bytes(out, table.as_bytes());
                put_rows(out, rows);
            }
            Reply::Ack { records, rows } => {
                out.push(106);
                put_varint(out, *records);
                put_varint(out, *rows);
            }
            Reply::Failed { code, message } => {
                out.push(107);
                put_bytes(out, code.as_bytes());
                put_bytes(out, message.as_bytes());
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>, spans: &mut Vec<Range<usize>>) -> Result<Reply> {
        Ok(match r.u8()? {
            101 => {
                let region = r.string()?.to_string();
                let vv = read_vv(r)?;
                let dropped = read_vv(r)?;
                let infos = read_infos(r)?;
                let schemas = read_schemas(r)?;
                let changes = if read_bool(r)? {
                    Some(read_batch(r, spans)?)
                } else {
                    None
                };
                // table ‖ from ‖ count, at least.
                let symbols = r.read_vec(3, read_symbols)?;
                Reply::Welcome {
                    region,
                    vv,
                    dropped,
                    infos,
                    schemas,
                    changes,
                    symbols,
                }
            }
            102 => Reply::Changes(read_batch(r, spans)?),
            103 => {
                let table = r.string()?.to_string();
                let rows = read_rows(r)?;
                Reply::Rows {
                    table,
                    rows,
                    next: read_opt_bytes(r)?,
                }
            }
            104 => Reply::Symbols(read_symbols(r)?),
            105 => {
                let table = r.string()?.to_string();
                Reply::RowsBack {
                    table,
                    rows: read_rows(r)?,
                }
            }
            106 => {
                let records = r.varint()?;
                Reply::Ack {
                    records,
                    rows: r.varint()?,
                }
            }
            107 => {
                let code = r.string()?.to_string();
                Reply::Failed {
                    code,
                    message: r.string()?.to_string(),
                }
            }
            k => return Err(r.error(format!("unknown reply kind {k}"))),
        })
    }
}

fn header(session: u64, index: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(256);
    p.extend_from_slice(&session.to_le_bytes());
    p.extend_from_slice(&index.to_le_bytes());
    p
}

fn check_size(payload: &[u8], cap: usize) -> Result<()> {
    if payload.len() > cap {
        return Err(Error::Sync(format!(
            "message of {} bytes exceeds the frame cap of {cap}",
            payload.len()
        )));
    }
    Ok(())
}

/// Encode a request frame.
///
/// `cap` bounds this frame and is sent along as the largest reply the
/// initiator accepts, so the responder pages its answer to fit.
pub fn encode_request(session: u64, index: u32, req: &Request, cap: usize) -> Result<Vec<u8>> {
    let mut p = header(session, index);
    p.extend_from_slice(&(cap.min(u32::MAX as usize) as u32).to_le_bytes());
    req.encode_body(&mut p);
    check_size(&p, cap)?;
    try_encode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, &p, true, usize::MAX)
}

/// Decode a request frame: `(session, index, request)`.
pub fn decode_request(bytes: &[u8], cap: usize) -> Result<(u64, u32, Request)> {
    decode_request_with_cap(bytes, cap).map(|(s, i, _, r)| (s, i, r))
}

/// Decode a request frame: `(session, index, largest reply accepted, request)`.
pub fn decode_request_with_cap(bytes: &[u8], cap: usize) -> Result<(u64, u32, usize, Request)> {
    decode_request_spans(bytes, cap).map(|(s, i, c, r, _)| (s, i, c, r))
}

/// The encoded change records a decoded frame carried: the frame's payload
/// and each record's span of it, in the order of the frame's change page
/// (empty for frames without one). The records can then be applied from
/// these bytes, with no second encoding.
#[derive(Debug, Default)]
pub(crate) struct RecordSpans {
    payload: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl RecordSpans {
    /// Each record's bytes, in order.
    pub(crate) fn records(&self) -> Vec<&[u8]> {
        self.spans
            .iter()
            .filter_map(|s| self.payload.get(s.clone()))
            .collect()
    }
}

/// [`decode_request_with_cap`], also returning the change records' bytes.
pub(crate) fn decode_request_spans(
    bytes: &[u8],
    cap: usize,
) -> Result<(u64, u32, usize, Request, RecordSpans)> {
    if bytes.len() > cap.saturating_add(64) {
        return Err(Error::corrupt(format!(
            "frame of {} bytes exceeds the cap of {cap}",
            bytes.len()
        )));
    }
    let p = decode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, bytes, cap)?;
    let mut r = Reader::new(&p, "sync request");
    let session = r.u64_le()?;
    let index = r.u32_le()?;
    let reply_cap = r.u32_le()? as usize;
    if reply_cap < 4096 {
        return Err(r.error(format!(
            "reply cap {reply_cap} is below the 4096-byte minimum"
        )));
    }
    let mut spans = Vec::new();
    let req = Request::decode_body(&mut r, &mut spans)?;
    r.finish()?;
    Ok((
        session,
        index,
        reply_cap,
        req,
        RecordSpans { payload: p, spans },
    ))
}

/// Encode a reply frame.
pub fn encode_reply(session: u64, index: u32, env: &ReplyEnvelope, cap: usize) -> Result<Vec<u8>> {
    let mut p = header(session, index);
    env.reply.encode_body(&mut p);
    put_infos(&mut p, &env.infos);
    check_size(&p, cap)?;
    try_encode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, &p, true, usize::MAX)
}

/// Decode a reply frame, checking it answers `(session, index)`.
pub fn decode_reply(bytes: &[u8], cap: usize, session: u64, index: u32) -> Result<ReplyEnvelope> {
    decode_reply_spans(bytes, cap, session, index).map(|(env, _)| env)
}

/// [`decode_reply`], also returning the change records' bytes.
pub(crate) fn decode_reply_spans(
    bytes: &[u8],
    cap: usize,
    session: u64,
    index: u32,
) -> Result<(ReplyEnvelope, RecordSpans)> {
    if bytes.len() > cap.saturating_add(64) {
        return Err(Error::corrupt(format!(
            "frame of {} bytes exceeds the cap of {cap}",
            bytes.len()
        )));
    }
    let p = decode_frame_version(MAGIC_SYNC, SYNC_FRAME_VERSION, bytes, cap)?;
    let mut r = Reader::new(&p, "sync reply");
    let s = r.u64_le()?;
    let i = r.u32_le()?;
    if s != session {
        return Err(Error::corrupt(format!(
            "reply belongs to session {s:016x}, not {session:016x}"
        )));
    }
    if i != index {
        return Err(Error::corrupt(format!(
            "reply answers message {i}, expected {index} (replayed or reordered)"
        )));
    }
    let mut spans = Vec::new();
    let reply = Reply::decode_body(&mut r, &mut spans)?;
    let infos = read_infos(&mut r)?;
    r.finish()?;
    Ok((
        ReplyEnvelope { reply, infos },
        RecordSpans { payload: p, spans },
    ))
}
