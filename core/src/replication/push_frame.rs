//! Record push: the frames a delayed link uses to ship exactly the records
//! it chose (docs/FORMAT.md, "Replication frames").
//!
//! Request `TSRP`: `session u64 LE ‖ batch u64 LE ‖ count varint ‖ records`
//! (each a §7 change record). Ack `TSRA` (frame version 2): `session u64 LE ‖
//! batch u64 LE ‖ status u8` then, for status 0, `applied varint ‖ skipped
//! varint ‖ vv` (the peer's version vector after the merge, §11 layout), for
//! status 1, `code string ‖ message string`. Version-1 acks (no vv) are
//! still read.

use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::codec::frame::{decode_frame, decode_frame_version, encode_frame, encode_frame_version};
use crate::codec::record::{put_record, read_record};
use crate::codec::record_page::RecordPage;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::log::vv_codec::{put_vv, read_vv};
use crate::model::error::{Error, Result};

/// Magic of a record-push request.
pub const MAGIC_PUSH: [u8; 4] = *b"TSRP";
/// Magic of a record-push acknowledgement.
pub const MAGIC_PUSH_ACK: [u8; 4] = *b"TSRA";
/// Frame version of acks written now: 2 carries the peer's version vector.
pub const PUSH_ACK_VERSION: u8 = 2;

/// A batch of records to merge at the target.
#[derive(Clone, Debug, PartialEq)]
pub struct PushBatch {
    /// Session id chosen by the link (from its seed).
    pub session: u64,
    /// Batch number within the session.
    pub batch: u64,
    /// The records.
    pub records: Vec<ChangeRecord>,
}

/// What the target did with a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushAck {
    /// Echo of the batch's session.
    pub session: u64,
    /// Echo of the batch number.
    pub batch: u64,
    /// `Ok((applied, skipped))`, or the target's error `(code, message)`.
    pub outcome: std::result::Result<(u64, u64), (String, String)>,
    /// The target's version vector after the merge (`None` in a version-1
    /// ack or an error ack).
    pub vv: Option<VersionVector>,
}

/// Encode a batch (lz4-compressed frame).
pub fn encode_push(b: &PushBatch) -> Vec<u8> {
    let mut p = Vec::with_capacity(64 + b.records.len() * 64);
    p.extend_from_slice(&b.session.to_le_bytes());
    p.extend_from_slice(&b.batch.to_le_bytes());
    put_varint(&mut p, b.records.len() as u64);
    for r in &b.records {
        put_record(&mut p, r);
    }
    encode_frame(MAGIC_PUSH, &p, true)
}

/// [`encode_push`] of records given as their stored encodings: the bytes
/// are copied into the frame (the same frame as for the decoded records).
pub fn encode_push_page(session: u64, batch: u64, records: &RecordPage) -> Vec<u8> {
    let mut p = Vec::with_capacity(32 + records.bytes().len());
    p.extend_from_slice(&session.to_le_bytes());
    p.extend_from_slice(&batch.to_le_bytes());
    put_varint(&mut p, records.len() as u64);
    p.extend_from_slice(records.bytes());
    encode_frame(MAGIC_PUSH, &p, true)
}

/// Decode a batch; `cap` bounds the uncompressed payload.
pub fn decode_push(bytes: &[u8], cap: usize) -> Result<PushBatch> {
    let p = decode_frame(MAGIC_PUSH, bytes, cap)?;
    let mut r = Reader::new(&p, "record push");
    let session = r.u64_le()?;
    let batch = r.u64_le()?;
    let n = r.count()?;
    let mut records = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        records.push(read_record(&mut r)?);
    }
    r.finish()?;
    Ok(PushBatch {
        session,
        batch,
        records,
    })
}

/// Encode an acknowledgement.
pub fn encode_ack(a: &PushAck) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&a.session.to_le_bytes());
    p.extend_from_slice(&a.batch.to_le_bytes());
    match &a.outcome {
        Ok((applied, skipped)) => {
            p.push(0);
            put_varint(&mut p, *applied);
            put_varint(&mut p, *skipped);
            put_vv(&mut p, a.vv.as_ref().unwrap_or(&VersionVector::new()));
        }
        Err((code, message)) => {
            p.push(1);
            put_bytes(&mut p, code.as_bytes());
            put_bytes(&mut p, message.as_bytes());
        }
    }
    encode_frame_version(MAGIC_PUSH_ACK, PUSH_ACK_VERSION, &p, false)
}

/// Largest acknowledgement payload read (a version vector of many origins
/// with held ranges fits).
const ACK_CAP: usize = 1 << 20;

/// Decode an acknowledgement (version 2, or version 1 without a vv).
pub fn decode_ack(bytes: &[u8]) -> Result<PushAck> {
    let v1 = bytes.get(4) == Some(&1);
    let p = if v1 {
        decode_frame(MAGIC_PUSH_ACK, bytes, ACK_CAP)?
    } else {
        decode_frame_version(MAGIC_PUSH_ACK, PUSH_ACK_VERSION, bytes, ACK_CAP)?
    };
    let mut r = Reader::new(&p, "record push ack");
    let session = r.u64_le()?;
    let batch = r.u64_le()?;
    let (outcome, vv) = match r.u8()? {
        0 => {
            let counts = (r.varint()?, r.varint()?);
            let vv = if v1 { None } else { Some(read_vv(&mut r)?) };
            (Ok(counts), vv)
        }
        1 => (
            Err((r.string()?.to_string(), r.string()?.to_string())),
            None,
        ),
        s => return Err(r.error(format!("unknown ack status {s}"))),
    };
    r.finish()?;
    Ok(PushAck {
        session,
        batch,
        outcome,
        vv,
    })
}

/// Whether `bytes` starts like a frame with `magic`.
pub(crate) fn has_magic(bytes: &[u8], magic: [u8; 4]) -> bool {
    bytes.len() >= 4 && bytes[..4] == magic
}

/// Turn an ack's error back into a core error (stable code kept).
pub(crate) fn remote_error(code: &str, message: &str) -> Error {
    Error::Sync(format!("peer refused the batch with {code}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::record::{ChangeKind, ColumnOp};
    use crate::model::primary_key::PrimaryKey;
    use crate::model::value::Value;

    fn rec(seq: u64) -> ChangeRecord {
        ChangeRecord {
            cursor: 0,
            origin: "eu".into(),
            seq,
            stamp: 7 << 16,
            table: "t".into(),
            kind: ChangeKind::Put,
            primary_key: PrimaryKey::new([("k", seq as i64)]),
            columns: vec![ColumnOp::Put {
                name: "v".into(),
                value: Value::from("x"),
                timestamp: 7,
            }],
        }
    }

    #[test]
    fn push_and_ack_round_trip_and_reject_damage() {
        let b = PushBatch {
            session: 9,
            batch: 2,
            records: vec![rec(1), rec(2)],
        };
        let bytes = encode_push(&b);
        assert_eq!(decode_push(&bytes, 1 << 20).unwrap(), b);
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            decode_push(&bad, 1 << 20).unwrap_err().code(),
            "CorruptData"
        );
        assert_eq!(
            decode_push(&bytes[..10], 1 << 20).unwrap_err().code(),
            "CorruptData"
        );
        let mut vv = VersionVector::new();
        vv.insert_range("eu", 1, 2);
        vv.insert_range("us", 5, 9);
        for (outcome, vv) in [
            (Ok((3, 1)), Some(vv)),
            (
                Err(("OTSObjectNotExist".to_string(), "no t".to_string())),
                None,
            ),
        ] {
            let a = PushAck {
                session: 9,
                batch: 2,
                outcome,
                vv,
            };
            assert_eq!(decode_ack(&encode_ack(&a)).unwrap(), a);
        }
        // A version-1 ack (no vv) still reads.
        let mut p = Vec::new();
        p.extend_from_slice(&9u64.to_le_bytes());
        p.extend_from_slice(&2u64.to_le_bytes());
        p.extend_from_slice(&[0, 3, 1]);
        let v1 = decode_ack(&encode_frame(MAGIC_PUSH_ACK, &p, false)).unwrap();
        assert_eq!((v1.outcome, v1.vv), (Ok((3, 1)), None));
        // An unknown version is refused with a stable code.
        let v3 = encode_frame_version(MAGIC_PUSH_ACK, 3, &p, false);
        assert_eq!(decode_ack(&v3).unwrap_err().code(), "UnsupportedVersion");
    }
}
