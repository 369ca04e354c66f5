//! A page of change records held as their encodings (FORMAT.md §7), back to
//! back: what a region sends. The log keeps every record's encoding, so the
//! sending side copies those bytes into the frame and decodes nothing.

use super::buf::Reader;
use super::record::{decode_record, put_record};
use crate::model::error::Result;
use crate::model::record::ChangeRecord;

/// Change-record encodings, concatenated in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordPage {
    bytes: Vec<u8>,
    /// End offset of each record in `bytes`.
    ends: Vec<usize>,
}

impl RecordPage {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one record given as its encoding. The bytes must be a
    /// record's canonical encoding (as the log stores them): they go on
    /// the wire as they are.
    pub fn push(&mut self, record: &[u8]) {
        self.bytes.extend_from_slice(record);
        self.ends.push(self.bytes.len());
    }

    /// A page holding the encodings of `records`.
    pub fn from_records(records: &[ChangeRecord]) -> Self {
        let mut page = RecordPage::new();
        for r in records {
            put_record(&mut page.bytes, r);
            page.ends.push(page.bytes.len());
        }
        page
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the page holds no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The records' encodings, concatenated (what a frame carries after
    /// the record count).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Each record's encoding, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter())
            .map(|(s, &e)| &self.bytes[s..e])
    }

    /// Decode every record (cursor 0).
    pub fn decode(&self) -> Result<Vec<ChangeRecord>> {
        self.iter().map(decode_record).collect()
    }
}

/// The origin and sequence number at the head of a record's encoding,
/// read without decoding the rest of it.
pub fn record_id(record: &[u8]) -> Result<(&str, u64)> {
    let mut r = Reader::new(record, "change record");
    r.u8()?; // record version
    let origin = r.string()?;
    Ok((origin, r.varint()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::record::encode_record;
    use crate::model::primary_key::PrimaryKey;
    use crate::model::record::{ChangeKind, ColumnOp};

    fn rec(origin: &str, seq: u64) -> ChangeRecord {
        ChangeRecord {
            cursor: 0,
            origin: origin.into(),
            seq,
            stamp: 9,
            table: "t".into(),
            kind: ChangeKind::Update,
            primary_key: PrimaryKey::new([("k", seq as i64)]),
            columns: vec![ColumnOp::DeleteAllVersions { name: "c".into() }],
        }
    }

    /// Pushing stored encodings gives the bytes `from_records` writes, and
    /// the page reads back record by record.
    #[test]
    fn pushed_encodings_equal_encoded_records() {
        let records = vec![rec("eu", 1), rec("us-east", 300), rec("eu", u64::MAX)];
        let mut page = RecordPage::new();
        for r in &records {
            page.push(&encode_record(r));
        }
        assert_eq!(page, RecordPage::from_records(&records));
        assert_eq!(page.len(), 3);
        assert_eq!(page.decode().unwrap(), records);
        let ids: Vec<(&str, u64)> = page.iter().map(|b| record_id(b).unwrap()).collect();
        assert_eq!(ids, [("eu", 1), ("us-east", 300), ("eu", u64::MAX)]);
        assert!(RecordPage::new().is_empty());
        assert!(record_id(&[1, 5, b'a']).is_err());
    }
}
