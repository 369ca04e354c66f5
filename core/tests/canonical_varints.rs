//! Varints have exactly one byte form (FORMAT.md §1): every value written
//! decodes back to itself, and any longer (non-minimal), overlong or
//! overflowing form is refused with `CorruptData`, so two different byte
//! strings never decode to one record.

use proptest::prelude::*;
use tablesync::codec::buf::{put_varint, put_zigzag, Reader};
use tablesync::codec::record::{decode_record, encode_record};
use tablesync::{ChangeKind, ChangeRecord, ColumnOp, PrimaryKey, Value};

fn read(bytes: &[u8]) -> tablesync::Result<u64> {
    let mut r = Reader::new(bytes, "varint");
    let v = r.varint()?;
    r.finish()?;
    Ok(v)
}

/// `x` padded with `extra` redundant groups: the last written byte gets the
/// continuation bit, then `extra - 1` bytes `80` and a final `00`.
fn padded(x: u64, extra: usize) -> Vec<u8> {
    let mut b = Vec::new();
    put_varint(&mut b, x);
    *b.last_mut().unwrap() |= 0x80;
    b.extend(std::iter::repeat_n(0x80, extra - 1));
    b.push(0);
    b
}

#[test]
fn fixed_cases() {
    assert_eq!(read(&[0]).unwrap(), 0);
    assert_eq!(read(&[0x7f]).unwrap(), 127);
    assert_eq!(read(&[0x80, 0x01]).unwrap(), 128);
    let mut max = vec![0xff; 9];
    max.push(0x01);
    assert_eq!(read(&max).unwrap(), u64::MAX);
    for bad in [
        &[0x80, 0x00][..],
        &[0xff, 0x00],
        &[0x80, 0x80, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00],
        // 10th byte above 01: more than 64 bits.
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        // 11 bytes.
        &[
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
        ],
    ] {
        let e = read(bad).unwrap_err();
        assert_eq!(e.code(), "CorruptData", "{bad:02x?}");
    }
}

fn record(seq: u64, ts: i64, text_len: usize) -> ChangeRecord {
    ChangeRecord {
        cursor: 0,
        origin: "eu".into(),
        seq,
        stamp: 7,
        table: "t".into(),
        kind: ChangeKind::Put,
        primary_key: PrimaryKey::new([("k", 1)]),
        columns: vec![ColumnOp::Put {
            name: "c".into(),
            timestamp: ts,
            value: Value::String("x".repeat(text_len)),
        }],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_identity(x in any::<u64>(), z in any::<i64>()) {
        let mut b = Vec::new();
        put_varint(&mut b, x);
        prop_assert_eq!(read(&b).unwrap(), x);
        let mut b = Vec::new();
        put_zigzag(&mut b, z);
        let mut r = Reader::new(&b, "zigzag");
        prop_assert_eq!(r.zigzag().unwrap(), z);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn every_non_minimal_form_is_refused(x in any::<u64>(), extra in 1usize..12) {
        let b = padded(x, extra);
        let e = read(&b).unwrap_err();
        prop_assert_eq!(e.code(), "CorruptData");
        // Zigzag goes through the same reader.
        let mut r = Reader::new(&b, "zigzag");
        prop_assert_eq!(r.zigzag().unwrap_err().code(), "CorruptData");
    }

    /// A whole change record: its minimal bytes round-trip, and padding
    /// any one of its varints (seq, name lengths, counts, timestamp) makes
    /// the record refused, never a second byte form of the same record.
    #[test]
    fn records_have_one_byte_form(
        seq in 1u64..u64::MAX >> 1,
        ts in any::<i64>(),
        text_len in 0usize..200,
        which in 0usize..64,
        extra in 1usize..4,
    ) {
        let rec = record(seq, ts, text_len);
        let bytes = encode_record(&rec);
        prop_assert_eq!(decode_record(&bytes).unwrap(), rec.clone());
        // Varint positions, found by re-encoding the prefix field by field.
        let mut at = Vec::new();
        let mut b = vec![1u8];
        at.push(b.len()); put_varint(&mut b, 2); b.extend_from_slice(b"eu");
        at.push(b.len()); put_varint(&mut b, seq);
        b.extend_from_slice(&7u64.to_le_bytes());
        at.push(b.len()); put_varint(&mut b, 1); b.push(b't');
        b.push(1); // kind PUT
        at.push(b.len()); put_varint(&mut b, 1); // key column count
        at.push(b.len()); put_varint(&mut b, 1); b.push(b'k');
        b.extend_from_slice(&[0x10, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        at.push(b.len()); put_varint(&mut b, 1); // column count
        b.push(1); // op PUT
        at.push(b.len()); put_varint(&mut b, 1); b.push(b'c');
        at.push(b.len()); put_zigzag(&mut b, ts);
        b.push(4); // STRING
        at.push(b.len()); put_varint(&mut b, text_len as u64);
        b.extend(std::iter::repeat_n(b'x', text_len));
        prop_assert_eq!(&b, &bytes, "the test's layout of the record");
        let start = at[which % at.len()];
        let mut r = Reader::new(&bytes[start..], "v");
        let v = r.varint().unwrap();
        let len = r.position();
        let mut bad = bytes[..start].to_vec();
        bad.extend(padded(v, extra));
        bad.extend_from_slice(&bytes[start + len..]);
        prop_assert_eq!(decode_record(&bad).unwrap_err().code(), "CorruptData");
    }
}
