//! Writing PlainBuffer rows as the service returns them (and as the SDKs send them).

use super::{crc8, tag, vt, PbCell, PbValue, HEADER};

/// Appends rows to one PlainBuffer (one header, then the rows).
#[derive(Default)]
pub struct RowWriter {
    buf: Vec<u8>,
}

impl RowWriter {
    /// A buffer holding just the header.
    pub fn new() -> Self {
        RowWriter {
            buf: HEADER.to_le_bytes().to_vec(),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether only the header is there.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 4
    }

    /// The finished buffer.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    fn value(&mut self, v: &PbValue, crc: u8) -> u8 {
        let mut body = Vec::new();
        let t = match v {
            PbValue::Integer(i) => {
                body.extend_from_slice(&i.to_le_bytes());
                vt::INTEGER
            }
            PbValue::Double(d) => {
                body.extend_from_slice(&d.to_bits().to_le_bytes());
                vt::DOUBLE
            }
            PbValue::Boolean(b) => {
                body.push(*b as u8);
                vt::BOOLEAN
            }
            PbValue::String(s) => {
                body.extend_from_slice(&(s.len() as u32).to_le_bytes());
                body.extend_from_slice(s.as_bytes());
                vt::STRING
            }
            PbValue::Binary(b) => {
                body.extend_from_slice(&(b.len() as u32).to_le_bytes());
                body.extend_from_slice(b);
                vt::BLOB
            }
            PbValue::Null => vt::NULL,
            PbValue::InfMin => vt::INF_MIN,
            PbValue::InfMax => vt::INF_MAX,
            PbValue::AutoIncrement => vt::AUTO_INCREMENT,
        };
        self.buf.push(tag::CELL_VALUE);
        self.buf
            .extend_from_slice(&((1 + body.len()) as u32).to_le_bytes());
        self.buf.push(t);
        self.buf.extend_from_slice(&body);
        crc8::bytes(crc8::byte(crc, t), &body)
    }

    fn name(&mut self, name: &str) -> u8 {
        self.buf.push(tag::CELL);
        self.buf.push(tag::CELL_NAME);
        self.buf
            .extend_from_slice(&(name.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        crc8::bytes(0, name.as_bytes())
    }

    /// Append one row.
    pub fn row(
        &mut self,
        primary_key: &[(String, PbValue)],
        cells: &[PbCell],
        delete_marker: bool,
    ) {
        self.buf.push(tag::ROW_PK);
        let mut row_crc = 0u8;
        for (name, v) in primary_key {
            let crc = self.name(name);
            let crc = self.value(v, crc);
            self.buf.push(tag::CELL_CHECKSUM);
            self.buf.push(crc);
            row_crc = crc8::byte(row_crc, crc);
        }
        if !cells.is_empty() {
            self.buf.push(tag::ROW_DATA);
            for c in cells {
                let mut crc = self.name(&c.name);
                if let Some(v) = &c.value {
                    crc = self.value(v, crc);
                }
                if let Some(op) = c.op {
                    self.buf.push(tag::CELL_TYPE);
                    self.buf.push(op.byte());
                }
                if let Some(ts) = c.timestamp {
                    self.buf.push(tag::CELL_TIMESTAMP);
                    self.buf.extend_from_slice(&ts.to_le_bytes());
                    crc = crc8::u64_le(crc, ts as u64);
                }
                if let Some(op) = c.op {
                    crc = crc8::byte(crc, op.byte());
                }
                self.buf.push(tag::CELL_CHECKSUM);
                self.buf.push(crc);
                row_crc = crc8::byte(row_crc, crc);
            }
        }
        if delete_marker {
            self.buf.push(tag::DELETE_ROW_MARKER);
            row_crc = crc8::byte(row_crc, 1);
        } else {
            row_crc = crc8::byte(row_crc, 0);
        }
        self.buf.push(tag::ROW_CHECKSUM);
        self.buf.push(row_crc);
    }
}

/// One row with its header.
pub fn encode_row(
    primary_key: &[(String, PbValue)],
    cells: &[PbCell],
    delete_marker: bool,
) -> Vec<u8> {
    let mut w = RowWriter::new();
    w.row(primary_key, cells, delete_marker);
    w.finish()
}

/// A key-only row with its header (next_start_primary_key, RT_PK returns).
pub fn encode_pk_row(primary_key: &[(String, PbValue)]) -> Vec<u8> {
    encode_row(primary_key, &[], false)
}

/// Several rows after one header; no rows gives an empty buffer.
pub fn encode_rows<'a>(
    rows: impl IntoIterator<Item = (&'a [(String, PbValue)], &'a [PbCell])>,
) -> Vec<u8> {
    let mut w = RowWriter::new();
    for (pk, cells) in rows {
        w.row(pk, cells, false);
    }
    if w.is_empty() {
        Vec::new()
    } else {
        w.finish()
    }
}
