//! Reading PlainBuffer: every length bounds-checked before use, every
//! checksum verified, nothing allocated beyond the input's size.

use super::{crc8, tag, vt, CellOp, DecodeError, PbCell, PbRow, PbValue, HEADER};

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The tag read last; 0 once the input is exhausted.
    last_tag: u8,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            last_tag: 0,
        }
    }

    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, DecodeError> {
        Err(DecodeError {
            offset: self.pos,
            reason: reason.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() - self.pos < n {
            return self.fail(format!(
                "needs {n} more bytes, {} left",
                self.buf.len() - self.pos
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn read_tag(&mut self) -> Result<(), DecodeError> {
        self.last_tag = if self.pos == self.buf.len() {
            0
        } else {
            // A 0x00 byte ends the buffer like its end does (the Node SDK
            // pads its buffers with zeros); `rest_is_padding` checks the rest.
            self.u8()?
        };
        Ok(())
    }

    fn expect_tag(&self, want: u8, what: &str) -> Result<(), DecodeError> {
        if self.last_tag != want {
            return self.fail(format!(
                "expected {what}, found tag 0x{:02x}",
                self.last_tag
            ));
        }
        Ok(())
    }

    fn string(&mut self, n: usize) -> Result<String, DecodeError> {
        let start = self.pos;
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(DecodeError {
                offset: start,
                reason: "string is not UTF-8".into(),
            }),
        }
    }

    /// A variant (type byte then data) filling exactly `len` bytes when given.
    fn variant(&mut self, len: Option<usize>, crc: u8) -> Result<(PbValue, u8), DecodeError> {
        let start = self.pos;
        let t = self.u8()?;
        let mut crc = crc8::byte(crc, t);
        let v = match t {
            vt::INTEGER => {
                let v = self.u64()?;
                crc = crc8::u64_le(crc, v);
                PbValue::Integer(v as i64)
            }
            vt::DOUBLE => {
                let v = self.u64()?;
                crc = crc8::u64_le(crc, v);
                PbValue::Double(f64::from_bits(v))
            }
            vt::BOOLEAN => {
                let b = self.u8()?;
                crc = crc8::byte(crc, b);
                PbValue::Boolean(b != 0)
            }
            vt::STRING | vt::BLOB => {
                let n = self.u32()?;
                crc = crc8::u32_le(crc, n);
                let n = n as usize;
                if t == vt::STRING {
                    let s = self.string(n)?;
                    crc = crc8::bytes(crc, s.as_bytes());
                    PbValue::String(s)
                } else {
                    let b = self.take(n)?;
                    crc = crc8::bytes(crc, b);
                    PbValue::Binary(b.to_vec())
                }
            }
            vt::NULL => PbValue::Null,
            vt::INF_MIN => PbValue::InfMin,
            vt::INF_MAX => PbValue::InfMax,
            vt::AUTO_INCREMENT => PbValue::AutoIncrement,
            other => return self.fail(format!("unknown value type 0x{other:02x}")),
        };
        if let Some(len) = len {
            if self.pos - start != len {
                return Err(DecodeError {
                    offset: start,
                    reason: format!(
                        "value length prefix says {len} bytes, the value takes {}",
                        self.pos - start
                    ),
                });
            }
        }
        Ok((v, crc))
    }

    fn cell_name(&mut self) -> Result<(String, u8), DecodeError> {
        self.read_tag()?;
        self.expect_tag(tag::CELL_NAME, "TAG_CELL_NAME")?;
        let n = self.u32()? as usize;
        let name = self.string(n)?;
        let crc = crc8::bytes(0, name.as_bytes());
        Ok((name, crc))
    }

    fn cell_value(&mut self, crc: u8) -> Result<(PbValue, u8), DecodeError> {
        let len = self.u32()? as usize;
        self.variant(Some(len), crc)
    }

    fn cell_checksum(&mut self, crc: u8) -> Result<(), DecodeError> {
        self.expect_tag(tag::CELL_CHECKSUM, "TAG_CELL_CHECKSUM")?;
        let got = self.u8()?;
        if got != crc {
            return self.fail(format!(
                "cell checksum mismatch: stored 0x{got:02x}, computed 0x{crc:02x}"
            ));
        }
        self.read_tag()
    }

    fn pk_column(&mut self) -> Result<(String, PbValue, u8), DecodeError> {
        let (name, crc) = self.cell_name()?;
        self.read_tag()?;
        self.expect_tag(tag::CELL_VALUE, "TAG_CELL_VALUE")?;
        let (value, crc) = self.cell_value(crc)?;
        self.read_tag()?;
        self.cell_checksum(crc)?;
        Ok((name, value, crc))
    }

    fn column(&mut self) -> Result<(PbCell, u8), DecodeError> {
        let (name, mut crc) = self.cell_name()?;
        self.read_tag()?;
        let mut value = None;
        if self.last_tag == tag::CELL_VALUE {
            let (v, c) = self.cell_value(crc)?;
            crc = c;
            value = Some(v);
            self.read_tag()?;
        }
        let mut op = None;
        if self.last_tag == tag::CELL_TYPE {
            let b = self.u8()?;
            op = Some(match CellOp::from_byte(b) {
                Some(o) => o,
                None => return self.fail(format!("unknown cell type 0x{b:02x}")),
            });
            self.read_tag()?;
        }
        let mut timestamp = None;
        if self.last_tag == tag::CELL_TIMESTAMP {
            let ts = self.u64()?;
            crc = crc8::u64_le(crc, ts);
            timestamp = Some(ts as i64);
            self.read_tag()?;
        }
        // The writer feeds the operation after the timestamp.
        if let Some(o) = op {
            crc = crc8::byte(crc, o.byte());
        }
        self.cell_checksum(crc)?;
        Ok((
            PbCell {
                name,
                value,
                op,
                timestamp,
            },
            crc,
        ))
    }

    fn row(&mut self) -> Result<PbRow, DecodeError> {
        self.expect_tag(tag::ROW_PK, "TAG_ROW_PK")?;
        let mut row = PbRow::default();
        let mut crc = 0u8;
        self.read_tag()?;
        while self.last_tag == tag::CELL {
            let (name, value, c) = self.pk_column()?;
            crc = crc8::byte(crc, c);
            row.primary_key.push((name, value));
        }
        if self.last_tag == tag::ROW_DATA {
            self.read_tag()?;
            while self.last_tag == tag::CELL {
                let (cell, c) = self.column()?;
                crc = crc8::byte(crc, c);
                row.cells.push(cell);
            }
        }
        if self.last_tag == tag::DELETE_ROW_MARKER {
            row.delete_marker = true;
            crc = crc8::byte(crc, 1);
            self.read_tag()?;
        } else {
            crc = crc8::byte(crc, 0);
        }
        self.expect_tag(tag::ROW_CHECKSUM, "TAG_ROW_CHECKSUM")?;
        let got = self.u8()?;
        if got != crc {
            return self.fail(format!(
                "row checksum mismatch: stored 0x{got:02x}, computed 0x{crc:02x}"
            ));
        }
        self.read_tag()?;
        Ok(row)
    }

    /// After the last row: only zero padding may follow.
    fn rest_is_padding(&self) -> Result<(), DecodeError> {
        match self.buf[self.pos..].iter().position(|b| *b != 0) {
            None => Ok(()),
            Some(i) => Err(DecodeError {
                offset: self.pos + i,
                reason: "bytes after the row".into(),
            }),
        }
    }

    fn header(&mut self) -> Result<(), DecodeError> {
        let h = self.u32()?;
        if h != HEADER {
            return Err(DecodeError {
                offset: 0,
                reason: format!("header is 0x{h:x}, expected 0x{HEADER:x}"),
            });
        }
        self.read_tag()
    }
}

/// Decode one row (header, row, nothing after it).
pub fn decode_row(buf: &[u8]) -> Result<PbRow, DecodeError> {
    let mut r = Reader::new(buf);
    r.header()?;
    let row = r.row()?;
    if r.last_tag != 0 {
        return r.fail(format!("tag 0x{:02x} after the row", r.last_tag));
    }
    r.rest_is_padding()?;
    Ok(row)
}

/// Decode a header followed by any number of rows (GetRange's `rows`).
pub fn decode_rows(buf: &[u8]) -> Result<Vec<PbRow>, DecodeError> {
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(buf);
    r.header()?;
    let mut rows = Vec::new();
    while r.last_tag != 0 {
        rows.push(r.row()?);
    }
    r.rest_is_padding()?;
    Ok(rows)
}

/// Decode a bare variant (type byte then data), as filters carry their operand.
pub fn decode_variant(buf: &[u8]) -> Result<PbValue, DecodeError> {
    let mut r = Reader::new(buf);
    let (v, _) = r.variant(None, 0)?;
    if r.pos != buf.len() {
        return r.fail("bytes after the value");
    }
    Ok(v)
}
