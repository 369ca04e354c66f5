//! The bytes of cluster messages between clients and regions (FORMAT.md
//! §17): 2PC (prepare, vote, decision, ack, query, one-phase), a client's
//! transaction request and its outcome, map fetch/push, home writes and
//! the change records forwarded to replicas. One HTTP body carries one
//! `TSCX` frame holding a list of messages.

use super::map::ClusterMap;
use super::txn::{Msg, NodeId, Outcome, TxnId, TxnOp};
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame, encode_frame};
use crate::codec::key::encode_key_values;
use crate::codec::record::{put_record, read_record};
use crate::log::record::{ChangeKind, ChangeRecord, ColumnOp};
use crate::model::condition::RowExistence;
use crate::model::error::{Error, Result};
use crate::model::primary_key::PrimaryKey;

/// Magic of a cluster message frame.
pub const MAGIC_CLUSTER_MSG: [u8; 4] = *b"TSCX";
/// Largest message-frame payload a reader accepts.
pub const MAX_MSG_PAYLOAD: usize = 64 << 20;

/// One row write routed through the cluster: a row-existence condition and
/// the write as a change record body (origin, seq and stamp unused: the
/// region that applies it stamps it). Column timestamps are explicit so
/// every replica stores the same versions.
#[derive(Clone, Debug, PartialEq)]
pub struct RowWrite {
    /// Checked at the home (prepare for 2PC).
    pub condition: RowExistence,
    /// Table.
    pub table: String,
    /// Put (replace the row), update (column operations) or delete.
    pub kind: ChangeKind,
    /// Primary key, columns in schema order.
    pub primary_key: PrimaryKey,
    /// Column operations (empty for a delete).
    pub columns: Vec<ColumnOp>,
    lock_key: Vec<u8>,
}

impl RowWrite {
    /// A write; `primary_key` must list the columns in schema order.
    pub fn new(
        condition: RowExistence,
        table: impl Into<String>,
        kind: ChangeKind,
        primary_key: PrimaryKey,
        columns: Vec<ColumnOp>,
    ) -> RowWrite {
        let table = table.into();
        let lock_key = lock_key(&table, &primary_key);
        RowWrite {
            condition,
            table,
            kind,
            primary_key,
            columns,
            lock_key,
        }
    }

    /// The encoded primary key (what routing hashes or compares).
    pub fn encoded_key(&self) -> Vec<u8> {
        encode_key_values(self.primary_key.0.iter().map(|(_, v)| v))
    }
}

fn lock_key(table: &str, pk: &PrimaryKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(table.len() + 16);
    put_bytes(&mut k, table.as_bytes());
    k.extend(encode_key_values(pk.0.iter().map(|(_, v)| v)));
    k
}

impl TxnOp for RowWrite {
    fn key(&self) -> &[u8] {
        &self.lock_key
    }
}

/// A message between a cluster client and a region, or between regions.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterMsg {
    /// A 2PC message (coordinator ↔ participant).
    Txn(Msg<RowWrite>),
    /// Client → coordinator region: run this transaction (a retry reuses `txn`).
    Begin {
        /// The transaction id (client-chosen, unique).
        txn: TxnId,
        /// The map epoch the client routed with.
        epoch: u64,
        /// Participant region → its writes.
        parts: Vec<(NodeId, Vec<RowWrite>)>,
    },
    /// Coordinator region → client: the transaction's outcome.
    Outcome {
        /// The transaction.
        txn: TxnId,
        /// Committed or aborted (with the reason).
        outcome: Outcome,
    },
    /// Ask a region for its map.
    MapGet,
    /// A map: a region's answer to `MapGet`, or a push (installed if newer).
    Map(ClusterMap),
    /// Client → home region: apply this write (checked against the map epoch).
    Write {
        /// The map epoch the client routed with.
        epoch: u64,
        /// The write.
        write: RowWrite,
    },
    /// Home → client: the change records the write produced.
    Written {
        /// The records, in commit order.
        records: Vec<ChangeRecord>,
    },
    /// Forward committed change records to a replica (idempotent).
    Apply {
        /// The map epoch the sender routed with.
        epoch: u64,
        /// The records.
        records: Vec<ChangeRecord>,
    },
    /// Replica → sender: how many of the records were new.
    Applied {
        /// Records applied (the rest were already there).
        applied: u64,
    },
    /// Read one row (every column's newest version).
    Get {
        /// The map epoch the client routed with.
        epoch: u64,
        /// Table.
        table: String,
        /// Encoded primary key.
        key: Vec<u8>,
    },
    /// Read rows with encoded keys in `[start, end)` (empty `end`: unbounded).
    Range {
        /// The map epoch the client routed with.
        epoch: u64,
        /// Table.
        table: String,
        /// Inclusive start (encoded key; empty: from the first row).
        start: Vec<u8>,
        /// Exclusive end (encoded key; empty: to the last row).
        end: Vec<u8>,
        /// Most rows to return.
        limit: u64,
    },
    /// Rows read: each as a `Put` record of its newest cells (stamp 0),
    /// in key order; `next` is where a range continues (empty: exhausted).
    Rows {
        /// The rows.
        rows: Vec<ChangeRecord>,
        /// The next key of a range (empty when done or for `Get`).
        next: Vec<u8>,
    },
    /// A rebalance message (FORMAT.md §17.3): map install, partition
    /// copies and releases during `cluster add-dc|remove-dc|split|move`.
    Move(super::rebalance::MoveMsg),
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_txn(out: &mut Vec<u8>, t: TxnId) {
    out.extend_from_slice(&t.0.to_be_bytes());
}

fn read_txn(r: &mut Reader<'_>) -> Result<TxnId> {
    let b = r.take(16)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ok(TxnId(u128::from_be_bytes(a)))
}

fn read_bool(r: &mut Reader<'_>) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(r.error(format!("boolean byte {b}"))),
    }
}

/// Append a row write: `u8` condition (0 IGNORE, 1 EXPECT_EXIST,
/// 2 EXPECT_NOT_EXIST) ‖ change record (FORMAT.md §4).
pub fn put_row_write(out: &mut Vec<u8>, w: &RowWrite) {
    out.push(match w.condition {
        RowExistence::Ignore => 0,
        RowExistence::ExpectExist => 1,
        RowExistence::ExpectNotExist => 2,
    });
    put_record(
        out,
        &ChangeRecord {
            cursor: 0,
            origin: String::new(),
            seq: 0,
            stamp: 0,
            table: w.table.clone(),
            kind: w.kind,
            primary_key: w.primary_key.clone(),
            columns: w.columns.clone(),
        },
    );
}

/// Read a row write written by [`put_row_write`].
pub fn read_row_write(r: &mut Reader<'_>) -> Result<RowWrite> {
    let condition = match r.u8()? {
        0 => RowExistence::Ignore,
        1 => RowExistence::ExpectExist,
        2 => RowExistence::ExpectNotExist,
        c => return Err(r.error(format!("unknown row condition {c}"))),
    };
    let rec = read_record(r)?;
    if rec.primary_key.0.is_empty() {
        return Err(r.error("a row write needs a primary key"));
    }
    Ok(RowWrite::new(
        condition,
        rec.table,
        rec.kind,
        rec.primary_key,
        rec.columns,
    ))
}

fn put_writes(out: &mut Vec<u8>, ws: &[RowWrite]) {
    put_varint(out, ws.len() as u64);
    for w in ws {
        put_row_write(out, w);
    }
}

// A row write takes at least: condition, version, origin len, seq, stamp
// (8), table len, kind, pk count, a key column (2), column count.
const MIN_WRITE: usize = 17;
const MIN_RECORD: usize = 16;

fn read_writes(r: &mut Reader<'_>) -> Result<Vec<RowWrite>> {
    r.read_vec(MIN_WRITE, read_row_write)
}

fn put_records(out: &mut Vec<u8>, rs: &[ChangeRecord]) {
    put_varint(out, rs.len() as u64);
    for rec in rs {
        put_record(out, rec);
    }
}

fn read_records(r: &mut Reader<'_>) -> Result<Vec<ChangeRecord>> {
    r.read_vec(MIN_RECORD, read_record)
}

/// Append one message: `u8` tag ‖ fields (FORMAT.md §17).
pub fn put_message(out: &mut Vec<u8>, m: &ClusterMsg) {
    match m {
        ClusterMsg::Txn(t) => match t {
            Msg::Prepare {
                txn,
                coordinator,
                ops,
            } => {
                out.push(1);
                put_txn(out, *txn);
                put_str(out, coordinator);
                put_writes(out, ops);
            }
            Msg::Vote {
                txn,
                from,
                yes,
                reason,
            } => {
                out.push(2);
                put_txn(out, *txn);
                put_str(out, from);
                out.push(*yes as u8);
                put_str(out, reason);
            }
            Msg::Decision {
                txn,
                coordinator,
                commit,
            } => {
                out.push(3);
                put_txn(out, *txn);
                put_str(out, coordinator);
                out.push(*commit as u8);
            }
            Msg::Ack { txn, from } => {
                out.push(4);
                put_txn(out, *txn);
                put_str(out, from);
            }
            Msg::Query { txn, from } => {
                out.push(5);
                put_txn(out, *txn);
                put_str(out, from);
            }
            Msg::OnePhase {
                txn,
                coordinator,
                ops,
            } => {
                out.push(6);
                put_txn(out, *txn);
                put_str(out, coordinator);
                put_writes(out, ops);
            }
            Msg::OnePhaseResult {
                txn,
                from,
                committed,
                reason,
            } => {
                out.push(7);
                put_txn(out, *txn);
                put_str(out, from);
                out.push(*committed as u8);
                put_str(out, reason);
            }
        },
        ClusterMsg::Begin { txn, epoch, parts } => {
            out.push(8);
            put_txn(out, *txn);
            put_varint(out, *epoch);
            put_varint(out, parts.len() as u64);
            for (node, ws) in parts {
                put_str(out, node);
                put_writes(out, ws);
            }
        }
        ClusterMsg::Outcome { txn, outcome } => {
            out.push(9);
            put_txn(out, *txn);
            match outcome {
                Outcome::Committed => {
                    out.push(1);
                    put_str(out, "");
                }
                Outcome::Aborted(why) => {
                    out.push(0);
                    put_str(out, why);
                }
            }
        }
        ClusterMsg::MapGet => out.push(10),
        ClusterMsg::Map(map) => {
            out.push(11);
            put_bytes(out, &map.to_bytes());
        }
        ClusterMsg::Write { epoch, write } => {
            out.push(12);
            put_varint(out, *epoch);
            put_row_write(out, write);
        }
        ClusterMsg::Written { records } => {
            out.push(13);
            put_records(out, records);
        }
        ClusterMsg::Apply { epoch, records } => {
            out.push(14);
            put_varint(out, *epoch);
            put_records(out, records);
        }
        ClusterMsg::Applied { applied } => {
            out.push(15);
            put_varint(out, *applied);
        }
        ClusterMsg::Get { epoch, table, key } => {
            out.push(16);
            put_varint(out, *epoch);
            put_str(out, table);
            put_bytes(out, key);
        }
        ClusterMsg::Range {
            epoch,
            table,
            start,
            end,
            limit,
        } => {
            out.push(17);
            put_varint(out, *epoch);
            put_str(out, table);
            put_bytes(out, start);
            put_bytes(out, end);
            put_varint(out, *limit);
        }
        ClusterMsg::Rows { rows, next } => {
            out.push(18);
            put_records(out, rows);
            put_bytes(out, next);
        }
        ClusterMsg::Move(m) => {
            out.push(19);
            super::move_wire::put_move(out, m);
        }
    }
}

/// Read one message written by [`put_message`].
pub fn read_message(r: &mut Reader<'_>) -> Result<ClusterMsg> {
    let tag = r.u8()?;
    Ok(match tag {
        1 => ClusterMsg::Txn(Msg::Prepare {
            txn: read_txn(r)?,
            coordinator: r.string()?.to_string(),
            ops: read_writes(r)?,
        }),
        2 => ClusterMsg::Txn(Msg::Vote {
            txn: read_txn(r)?,
            from: r.string()?.to_string(),
            yes: read_bool(r)?,
            reason: r.string()?.to_string(),
        }),
        3 => ClusterMsg::Txn(Msg::Decision {
            txn: read_txn(r)?,
            coordinator: r.string()?.to_string(),
            commit: read_bool(r)?,
        }),
        4 => ClusterMsg::Txn(Msg::Ack {
            txn: read_txn(r)?,
            from: r.string()?.to_string(),
        }),
        5 => ClusterMsg::Txn(Msg::Query {
            txn: read_txn(r)?,
            from: r.string()?.to_string(),
        }),
        6 => ClusterMsg::Txn(Msg::OnePhase {
            txn: read_txn(r)?,
            coordinator: r.string()?.to_string(),
            ops: read_writes(r)?,
        }),
        7 => ClusterMsg::Txn(Msg::OnePhaseResult {
            txn: read_txn(r)?,
            from: r.string()?.to_string(),
            committed: read_bool(r)?,
            reason: r.string()?.to_string(),
        }),
        8 => {
            let txn = read_txn(r)?;
            let epoch = r.varint()?;
            let parts = r.read_vec(2, |r| {
                let node = r.string()?.to_string();
                Ok((node, read_writes(r)?))
            })?;
            ClusterMsg::Begin { txn, epoch, parts }
        }
        9 => {
            let txn = read_txn(r)?;
            let committed = read_bool(r)?;
            let why = r.string()?.to_string();
            ClusterMsg::Outcome {
                txn,
                outcome: if committed {
                    Outcome::Committed
                } else {
                    Outcome::Aborted(why)
                },
            }
        }
        10 => ClusterMsg::MapGet,
        11 => ClusterMsg::Map(ClusterMap::from_bytes(r.bytes()?)?),
        12 => ClusterMsg::Write {
            epoch: r.varint()?,
            write: read_row_write(r)?,
        },
        13 => ClusterMsg::Written {
            records: read_records(r)?,
        },
        14 => ClusterMsg::Apply {
            epoch: r.varint()?,
            records: read_records(r)?,
        },
        15 => ClusterMsg::Applied {
            applied: r.varint()?,
        },
        16 => ClusterMsg::Get {
            epoch: r.varint()?,
            table: r.string()?.to_string(),
            key: r.bytes()?.to_vec(),
        },
        17 => ClusterMsg::Range {
            epoch: r.varint()?,
            table: r.string()?.to_string(),
            start: r.bytes()?.to_vec(),
            end: r.bytes()?.to_vec(),
            limit: r.varint()?,
        },
        18 => ClusterMsg::Rows {
            rows: read_records(r)?,
            next: r.bytes()?.to_vec(),
        },
        19 => ClusterMsg::Move(super::move_wire::read_move(r)?),
        t => return Err(r.error(format!("unknown cluster message tag {t}"))),
    })
}

/// The payload of a message frame: `varint` count ‖ messages.
pub fn messages_payload(msgs: &[ClusterMsg]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_varint(&mut out, msgs.len() as u64);
    for m in msgs {
        put_message(&mut out, m);
    }
    out
}

/// Encode messages as one `TSCX` frame (uncompressed).
pub fn encode_messages(msgs: &[ClusterMsg]) -> Vec<u8> {
    encode_frame(MAGIC_CLUSTER_MSG, &messages_payload(msgs), false)
}

/// Decode a `TSCX` frame written by [`encode_messages`]. Damaged or
/// truncated bytes, unknown tags and trailing bytes are `CorruptData`.
pub fn decode_messages(bytes: &[u8]) -> Result<Vec<ClusterMsg>> {
    let payload = decode_frame(MAGIC_CLUSTER_MSG, bytes, MAX_MSG_PAYLOAD)?;
    let mut r = Reader::new(&payload, "cluster message frame");
    let msgs = r.read_vec(1, read_message)?;
    r.finish()?;
    Ok(msgs)
}

/// The single message of a frame that must hold exactly one.
pub fn decode_one(bytes: &[u8]) -> Result<ClusterMsg> {
    let mut msgs = decode_messages(bytes)?;
    if msgs.len() != 1 {
        return Err(Error::corrupt(format!(
            "expected one cluster message, got {}",
            msgs.len()
        )));
    }
    Ok(msgs.remove(0))
}

/// Magic of one durable 2PC record in a region's transaction log.
pub const MAGIC_TXN_RECORD: [u8; 4] = *b"TSCR";

/// A durable 2PC record of a region (its coordinator's or its participant's).
#[derive(Clone, Debug, PartialEq)]
pub enum TxnRecord {
    /// A coordinator record.
    Coord(super::txn::CoordRecord),
    /// A participant record.
    Part(super::txn::PartRecord<RowWrite>),
}

impl TxnRecord {
    /// The transaction it is about.
    pub fn txn(&self) -> TxnId {
        use super::txn::{CoordRecord as C, PartRecord as P};
        match self {
            TxnRecord::Coord(C::Decided { txn, .. } | C::Finished { txn }) => *txn,
            TxnRecord::Part(
                P::Prepared { txn, .. } | P::Committed { txn } | P::Aborted { txn, .. },
            ) => *txn,
        }
    }
}

/// A record as one `TSCR` frame: payload `u8` tag ‖ fields (FORMAT.md §17.3).
pub fn encode_txn_record(rec: &TxnRecord) -> Vec<u8> {
    use super::txn::{CoordRecord as C, PartRecord as P};
    let mut out = Vec::with_capacity(64);
    match rec {
        TxnRecord::Coord(C::Decided {
            txn,
            commit,
            participants,
            reason,
        }) => {
            out.push(1);
            put_txn(&mut out, *txn);
            out.push(*commit as u8);
            put_varint(&mut out, participants.len() as u64);
            for p in participants {
                put_str(&mut out, p);
            }
            put_str(&mut out, reason);
        }
        TxnRecord::Coord(C::Finished { txn }) => {
            out.push(2);
            put_txn(&mut out, *txn);
        }
        TxnRecord::Part(P::Prepared {
            txn,
            coordinator,
            ops,
        }) => {
            out.push(3);
            put_txn(&mut out, *txn);
            put_str(&mut out, coordinator);
            put_writes(&mut out, ops);
        }
        TxnRecord::Part(P::Committed { txn }) => {
            out.push(4);
            put_txn(&mut out, *txn);
        }
        TxnRecord::Part(P::Aborted { txn, reason }) => {
            out.push(5);
            put_txn(&mut out, *txn);
            put_str(&mut out, reason);
        }
    }
    encode_frame(MAGIC_TXN_RECORD, &out, false)
}

/// Decode one `TSCR` frame written by [`encode_txn_record`].
pub fn decode_txn_record(frame: &[u8]) -> Result<TxnRecord> {
    use super::txn::{CoordRecord as C, PartRecord as P};
    let payload = decode_frame(MAGIC_TXN_RECORD, frame, MAX_MSG_PAYLOAD)?;
    let mut r = Reader::new(&payload, "transaction record");
    let rec = match r.u8()? {
        1 => TxnRecord::Coord(C::Decided {
            txn: read_txn(&mut r)?,
            commit: read_bool(&mut r)?,
            participants: r.read_vec(1, |r| Ok(r.string()?.to_string()))?,
            reason: r.string()?.to_string(),
        }),
        2 => TxnRecord::Coord(C::Finished {
            txn: read_txn(&mut r)?,
        }),
        3 => TxnRecord::Part(P::Prepared {
            txn: read_txn(&mut r)?,
            coordinator: r.string()?.to_string(),
            ops: read_writes(&mut r)?,
        }),
        4 => TxnRecord::Part(P::Committed {
            txn: read_txn(&mut r)?,
        }),
        5 => TxnRecord::Part(P::Aborted {
            txn: read_txn(&mut r)?,
            reason: r.string()?.to_string(),
        }),
        t => return Err(r.error(format!("unknown transaction record tag {t}"))),
    };
    r.finish()?;
    Ok(rec)
}
