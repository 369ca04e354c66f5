//! Change-record encoding (the cursor is local and not encoded).

use super::buf::{put_bytes, put_varint, put_zigzag, Reader};
use super::key::{put_pk_value, read_pk_value};
use super::value::{put_value, read_value};
use crate::model::error::Result;
use crate::model::primary_key::PrimaryKey;
use crate::model::record::{ChangeKind, ChangeRecord, ColumnOp, OpRef};
use crate::model::value::Value;

/// Current record encoding version.
pub const RECORD_VERSION: u8 = 1;

/// The fields of a record, borrowed: what [`put_record_parts`] encodes.
#[derive(Clone, Copy, Debug)]
pub struct RecordParts<'a> {
    /// Region that made the mutation.
    pub origin: &'a str,
    /// The origin's sequence number.
    pub seq: u64,
    /// HLC stamp.
    pub stamp: u64,
    /// Table.
    pub table: &'a str,
    /// Kind.
    pub kind: ChangeKind,
    /// Full primary key.
    pub primary_key: &'a PrimaryKey,
}

/// Append a record: version byte, origin, seq, stamp (u64 LE), table, kind,
/// key columns (name ‖ key part), column operations.
pub fn put_record(out: &mut Vec<u8>, r: &ChangeRecord) {
    let ops: Vec<OpRef<'_>> = r.columns.iter().map(ColumnOp::as_op_ref).collect();
    put_record_parts(
        out,
        &RecordParts {
            origin: &r.origin,
            seq: r.seq,
            stamp: r.stamp,
            table: &r.table,
            kind: r.kind,
            primary_key: &r.primary_key,
        },
        &ops,
    );
}

/// Append a record from borrowed parts (the same bytes as [`put_record`]):
/// the write path encodes each record once, straight from the caller's
/// columns, and hands those bytes to the WAL and the change log.
pub fn put_record_parts(out: &mut Vec<u8>, r: &RecordParts<'_>, ops: &[OpRef<'_>]) {
    out.push(RECORD_VERSION);
    put_bytes(out, r.origin.as_bytes());
    put_varint(out, r.seq);
    out.extend_from_slice(&r.stamp.to_le_bytes());
    put_bytes(out, r.table.as_bytes());
    out.push(match r.kind {
        ChangeKind::Put => 1,
        ChangeKind::Update => 2,
        ChangeKind::Delete => 3,
    });
    put_varint(out, r.primary_key.0.len() as u64);
    for (name, v) in &r.primary_key.0 {
        put_bytes(out, name.as_bytes());
        put_pk_value(out, v);
    }
    put_varint(out, ops.len() as u64);
    for c in ops {
        match *c {
            OpRef::Put {
                name,
                value,
                timestamp,
            } => {
                out.push(1);
                put_bytes(out, name.as_bytes());
                put_zigzag(out, timestamp);
                put_value(out, value);
            }
            OpRef::DeleteOneVersion { name, timestamp } => {
                out.push(2);
                put_bytes(out, name.as_bytes());
                put_zigzag(out, timestamp);
            }
            OpRef::DeleteAllVersions { name } => {
                out.push(3);
                put_bytes(out, name.as_bytes());
            }
        }
    }
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn bytes_len(n: usize) -> usize {
    varint_len(n as u64) + n
}

/// The exact length of [`put_record_parts`]'s output, given `key_len`: the
/// length of the record's key values encoded in order (for a key in schema
/// order, the encoded key's length), so the record buffer is allocated once
/// at its final size.
pub fn record_size(r: &RecordParts<'_>, key_len: usize, ops: &[OpRef<'_>]) -> usize {
    let mut n = 1 + bytes_len(r.origin.len()) + varint_len(r.seq) + 8;
    n += bytes_len(r.table.len()) + 1 + varint_len(r.primary_key.0.len() as u64);
    n += r
        .primary_key
        .0
        .iter()
        .map(|(name, _)| bytes_len(name.len()))
        .sum::<usize>()
        + key_len;
    n += varint_len(ops.len() as u64);
    for c in ops {
        n += 1 + bytes_len(c.name().len());
        match *c {
            OpRef::Put {
                value, timestamp, ..
            } => {
                n += zigzag_len(timestamp) + 1;
                n += match value {
                    Value::Integer(_) | Value::Double(_) => 8,
                    Value::Boolean(_) => 1,
                    Value::String(s) => bytes_len(s.len()),
                    Value::Binary(b) => bytes_len(b.len()),
                };
            }
            OpRef::DeleteOneVersion { timestamp, .. } => n += zigzag_len(timestamp),
            OpRef::DeleteAllVersions { .. } => {}
        }
    }
    n
}

fn zigzag_len(v: i64) -> usize {
    varint_len(((v << 1) ^ (v >> 63)) as u64)
}

/// Encode a record into a new buffer.
pub fn encode_record(r: &ChangeRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_record(&mut out, r);
    out
}

/// Read a record (cursor 0).
pub fn read_record(r: &mut Reader<'_>) -> Result<ChangeRecord> {
    let v = r.u8()?;
    if v != RECORD_VERSION {
        return Err(crate::model::error::Error::UnsupportedVersion(format!(
            "change record version {v} (this build reads {RECORD_VERSION})"
        )));
    }
    let origin = r.string()?.to_string();
    let seq = r.varint()?;
    let stamp = r.u64_le()?;
    let table = r.string()?.to_string();
    let kind = match r.u8()? {
        1 => ChangeKind::Put,
        2 => ChangeKind::Update,
        3 => ChangeKind::Delete,
        k => return Err(r.error(format!("unknown record kind {k}"))),
    };
    // Key column: name (≥ 1) ‖ value (≥ 1). Column op: tag ‖ name (≥ 1).
    let pk = r.read_vec(2, |r| {
        let name = r.string()?.to_string();
        Ok((name, read_pk_value(r)?))
    })?;
    let columns = r.read_vec(2, |r| {
        let op = r.u8()?;
        let name = r.string()?.to_string();
        Ok(match op {
            1 => {
                let timestamp = r.zigzag()?;
                ColumnOp::Put {
                    name,
                    timestamp,
                    value: read_value(r)?,
                }
            }
            2 => ColumnOp::DeleteOneVersion {
                name,
                timestamp: r.zigzag()?,
            },
            3 => ColumnOp::DeleteAllVersions { name },
            o => return Err(r.error(format!("unknown column op {o}"))),
        })
    })?;
    Ok(ChangeRecord {
        cursor: 0,
        origin,
        seq,
        stamp,
        table,
        kind,
        primary_key: PrimaryKey(pk),
        columns,
    })
}

/// Decode a record that fills `bytes` exactly.
pub fn decode_record(bytes: &[u8]) -> Result<ChangeRecord> {
    let mut r = Reader::new(bytes, "change record");
    let rec = read_record(&mut r)?;
    r.finish()?;
    Ok(rec)
}

/// What a record's first fields say, borrowed from its bytes: what a log
/// filters and indexes records by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHead<'a> {
    /// Region the record came from.
    pub origin: &'a str,
    /// The origin's sequence number.
    pub seq: u64,
    /// HLC stamp.
    pub stamp: u64,
    /// Table written.
    pub table: &'a str,
}

/// Read only a record's head (version, origin, seq, stamp, table), leaving
/// the key and operations unread: for records this process encoded and
/// stored behind a checksum (a paged region's log read back), which their
/// readers decode whole when they use them.
pub fn decode_record_head(bytes: &[u8]) -> Result<RecordHead<'_>> {
    let mut r = Reader::new(bytes, "change record");
    let v = r.u8()?;
    if v != RECORD_VERSION {
        return Err(crate::model::error::Error::UnsupportedVersion(format!(
            "change record version {v} (this build reads {RECORD_VERSION})"
        )));
    }
    Ok(RecordHead {
        origin: r.string()?,
        seq: r.varint()?,
        stamp: r.u64_le()?,
        table: r.string()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::key::encode_key_values;
    use crate::model::primary_key::PkValue;

    /// `record_size` is the exact encoded length, across varint boundaries,
    /// escaped key bytes and every value type.
    #[test]
    fn record_size_is_exact() {
        let big = "s".repeat(300);
        let values = [
            Value::Integer(-1),
            Value::Double(0.5),
            Value::Boolean(true),
            Value::String(big.clone()),
            Value::Binary(vec![0; 129]),
        ];
        for (i, seq) in [1u64, 127, 128, 1 << 40, u64::MAX].into_iter().enumerate() {
            let pk = PrimaryKey(vec![
                ("a".into(), PkValue::Integer(i as i64)),
                (
                    "b".into(),
                    PkValue::String(format!("x\0{}", "y".repeat(i * 70))),
                ),
                (
                    "c".into(),
                    PkValue::Binary(vec![0, 0, 1, 0xff][..i % 4].to_vec()),
                ),
            ]);
            let parts = RecordParts {
                origin: &big[..i * 60 + 1],
                seq,
                stamp: seq,
                table: "t",
                kind: ChangeKind::Update,
                primary_key: &pk,
            };
            let mut ops: Vec<OpRef<'_>> = values
                .iter()
                .map(|value| OpRef::Put {
                    name: "v",
                    value,
                    timestamp: -(seq as i64 >> 2),
                })
                .collect();
            ops.push(OpRef::DeleteOneVersion {
                name: &big[..200],
                timestamp: seq as i64 >> 1,
            });
            ops.push(OpRef::DeleteAllVersions { name: "z" });
            let key = encode_key_values(pk.0.iter().map(|(_, v)| v));
            let mut out = Vec::new();
            put_record_parts(&mut out, &parts, &ops[..i + 2]);
            assert_eq!(
                record_size(&parts, key.len(), &ops[..i + 2]),
                out.len(),
                "case {i}"
            );
        }
    }
}
