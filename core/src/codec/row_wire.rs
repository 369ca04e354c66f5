//! The request bytes of the JS row fast path (`putRowWire`, `getRowWire`,
//! `getRangeWire`, `batchWriteWire`, `batchGetWire` of the wasm binding;
//! the encoder is `js/wire.mjs`, the result format lives in the binding).
//!
//! Plain Rust so that it builds natively and can be fuzzed: every byte is
//! read here, and a malformed buffer is a [`Error::Corrupt`]
//! (`CorruptData: malformed wire buffer (…)`), never a panic. Counts are
//! checked against the bytes left before anything is reserved, so no
//! request can ask for more memory than a small multiple of its length.
//!
//! What the binding still does itself: look up the JS "side values"
//! (conditions, filters and UPDATE objects that travel beside the buffer,
//! referred to here by index) and check option values (`maxVersions`,
//! `limit`, `direction`, row condition names) with its own error types.
//!
//! All numbers are little-endian. `str` is a `u32` byte length then UTF-8.
//! Values: tag byte, then payload — [`STR`] str · [`INT`] f64 holding a safe
//! integer · [`BIGINT`] i64 · [`DOUBLE`] f64 · [`TRUE`] · [`FALSE`] · [`BIN`]
//! u32 length + bytes · [`AUTO_INCREMENT`] · [`INF_MIN`] · [`INF_MAX`].

use crate::model::error::{Error, Result};
use crate::model::primary_key::{PkBound, PkValue, PrimaryKey};
use crate::model::value::Value;

/// A string.
pub const STR: u8 = 0;
/// In: a safe integer as f64 (out: a JS number).
pub const INT: u8 = 1;
/// A 64-bit integer (JS `bigint`).
pub const BIGINT: u8 = 2;
/// In: a DOUBLE (out: a `Double` object).
pub const DOUBLE: u8 = 3;
/// `true`.
pub const TRUE: u8 = 4;
/// `false`.
pub const FALSE: u8 = 5;
/// Bytes (`Uint8Array`).
pub const BIN: u8 = 6;
/// The `AUTO_INCREMENT` symbol.
pub const AUTO_INCREMENT: u8 = 7;
/// The `INF_MIN` symbol.
pub const INF_MIN: u8 = 8;
/// The `INF_MAX` symbol.
pub const INF_MAX: u8 = 9;
/// No value (an optional timestamp left out).
pub const NONE: u8 = 10;

/// `condition`: none (IGNORE).
pub const COND_NONE: u8 = 0;
/// `condition`: a row condition name (str).
pub const COND_ROW: u8 = 1;
/// `condition`: any other JS value (u32 side index).
pub const COND_SIDE: u8 = 2;

/// Read option flag: `columns` (u32 count + str each).
pub const OPT_COLUMNS: u8 = 1;
/// Read option flag: `maxVersions` (integer value).
pub const OPT_MAX_VERSIONS: u8 = 2;
/// Read option flag: `timeRange` (two integer values).
pub const OPT_TIME_RANGE: u8 = 4;
/// Read option flag: `filter` (u32 side index).
pub const OPT_FILTER: u8 = 8;
/// Range option flag: `direction` (str).
pub const OPT_DIRECTION: u8 = 16;
/// Range option flag: `limit` (integer value).
pub const OPT_LIMIT: u8 = 32;

/// `batchWrite` operation kinds: a PUT.
pub const OP_PUT: u8 = 0;
/// An UPDATE: the operation object itself is a side value.
pub const OP_UPDATE: u8 = 1;
/// A DELETE.
pub const OP_DELETE: u8 = 2;

/// A bound made of `(name, part)` pairs (the other kinds are [`INF_MIN`]
/// and [`INF_MAX`] alone).
pub const BOUND_PAIRS: u8 = 0;

/// The largest integer a JS number holds exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The `CorruptData` error of a malformed request buffer.
pub fn corrupt(what: &str) -> Error {
    Error::corrupt(format!("malformed wire buffer ({what})"))
}

/// A write condition as sent: the binding turns names and side values into
/// a [`crate::Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireCondition<'a> {
    /// None (IGNORE).
    None,
    /// A row condition name, not yet checked.
    Row(&'a str),
    /// The side value at this index.
    Side(u32),
}

/// A range bound as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum WireBound {
    /// `INF_MIN` or `INF_MAX` alone: that bound for every key column.
    Whole(PkBound),
    /// `(column, part)` pairs.
    Pairs(Vec<(String, PkBound)>),
}

/// Read and range options as sent; values not yet range-checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireOptions<'a> {
    /// `columns`.
    pub columns: Option<Vec<String>>,
    /// `maxVersions`.
    pub max_versions: Option<i64>,
    /// `timeRange`: start (inclusive), end (exclusive).
    pub time_range: Option<(i64, i64)>,
    /// `filter`: a side value index.
    pub filter: Option<u32>,
    /// `direction` (range options only).
    pub direction: Option<&'a str>,
    /// `limit` (range options only).
    pub limit: Option<i64>,
}

/// One attribute column as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct WireColumn {
    /// Column name.
    pub name: String,
    /// Value.
    pub value: Value,
    /// Explicit timestamp, if any.
    pub timestamp: Option<i64>,
}

/// A cursor over one request buffer.
pub struct RowWireReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> RowWireReader<'a> {
    /// A reader of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        RowWireReader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// A count of items that each take at least `min_size` bytes (bounded
    /// by what is left, so a bad count cannot ask for a huge allocation).
    pub fn count(&mut self, min_size: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.remaining() {
            return Err(corrupt("count beyond the buffer"));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| corrupt("invalid UTF-8"))
    }

    /// A side value index.
    pub fn side_index(&mut self) -> Result<u32> {
        self.u32()
    }

    /// Fail unless every byte was read.
    pub fn end(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(corrupt("trailing bytes"))
        }
    }

    fn int_tagged(&mut self, tag: u8) -> Result<i64> {
        match tag {
            INT => {
                let x = self.f64()?;
                // NaN fails `fract() == 0`; ±∞ fails the bound.
                if x.fract() != 0.0 || x.abs() > MAX_SAFE_INTEGER as f64 {
                    return Err(corrupt("INT is not a safe integer"));
                }
                Ok(x as i64)
            }
            BIGINT => self.i64(),
            _ => Err(corrupt("expected an integer")),
        }
    }

    /// An integer value (an INT or BIGINT tag and its payload).
    pub fn int(&mut self) -> Result<i64> {
        let tag = self.u8()?;
        self.int_tagged(tag)
    }

    /// An attribute value.
    pub fn value(&mut self) -> Result<Value> {
        Ok(match self.u8()? {
            STR => Value::String(self.str()?.to_string()),
            t @ (INT | BIGINT) => Value::Integer(self.int_tagged(t)?),
            DOUBLE => Value::Double(self.f64()?),
            TRUE => Value::Boolean(true),
            FALSE => Value::Boolean(false),
            BIN => Value::Binary(self.bytes()?.to_vec()),
            _ => return Err(corrupt("bad value tag")),
        })
    }

    fn pk_value_tagged(&mut self, tag: u8) -> Result<PkValue> {
        Ok(match tag {
            STR => PkValue::String(self.str()?.to_string()),
            t @ (INT | BIGINT) => PkValue::Integer(self.int_tagged(t)?),
            BIN => PkValue::Binary(self.bytes()?.to_vec()),
            AUTO_INCREMENT => PkValue::AutoIncrement,
            _ => return Err(corrupt("bad primary-key value tag")),
        })
    }

    /// A primary key: u32 count, then (name, value) pairs.
    pub fn primary_key(&mut self) -> Result<PrimaryKey> {
        let mut pk = PrimaryKey(Vec::new());
        self.primary_key_into(&mut pk)?;
        Ok(pk)
    }

    /// A primary key into `pk`, reusing its allocations (point reads
    /// decode one key per call).
    pub fn primary_key_into(&mut self, pk: &mut PrimaryKey) -> Result<()> {
        // Each pair: a name (4-byte length) and a tag.
        let n = self.count(5)?;
        pk.0.truncate(n);
        pk.0.reserve(n - pk.0.len());
        for i in 0..n {
            let name = self.str()?;
            let tag = self.u8()?;
            let value = self.pk_value_tagged(tag)?;
            match pk.0.get_mut(i) {
                Some(part) => {
                    part.0.clear();
                    part.0.push_str(name);
                    part.1 = value;
                }
                None => pk.0.push((name.to_string(), value)),
            }
        }
        Ok(())
    }

    /// A range bound; `INF_MIN` / `INF_MAX` alone stand for every key column.
    pub fn range_bound(&mut self) -> Result<WireBound> {
        match self.u8()? {
            BOUND_PAIRS => {}
            INF_MIN => return Ok(WireBound::Whole(PkBound::InfMin)),
            INF_MAX => return Ok(WireBound::Whole(PkBound::InfMax)),
            _ => return Err(corrupt("bad bound kind")),
        }
        let n = self.count(5)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_string();
            let part = match self.u8()? {
                INF_MIN => PkBound::InfMin,
                INF_MAX => PkBound::InfMax,
                t => PkBound::Value(self.pk_value_tagged(t)?),
            };
            out.push((name, part));
        }
        Ok(WireBound::Pairs(out))
    }

    /// Attribute columns: u32 count, then (name, value, timestamp or NONE).
    pub fn columns(&mut self) -> Result<Vec<WireColumn>> {
        // Each: a name (4), a value tag (1) and a timestamp tag (1), the
        // smallest value (TRUE/FALSE) having no payload.
        let n = self.count(6)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_string();
            let value = self.value()?;
            let timestamp = match self.u8()? {
                NONE => None,
                t => Some(self.int_tagged(t)?),
            };
            out.push(WireColumn {
                name,
                value,
                timestamp,
            });
        }
        Ok(out)
    }

    /// A write condition.
    pub fn condition(&mut self) -> Result<WireCondition<'a>> {
        match self.u8()? {
            COND_NONE => Ok(WireCondition::None),
            COND_ROW => Ok(WireCondition::Row(self.str()?)),
            COND_SIDE => Ok(WireCondition::Side(self.side_index()?)),
            _ => Err(corrupt("bad condition kind")),
        }
    }

    fn read_options(&mut self, flags: u8, out: &mut WireOptions<'a>) -> Result<()> {
        if flags & OPT_COLUMNS != 0 {
            let n = self.count(4)?;
            let mut names = Vec::with_capacity(n);
            for _ in 0..n {
                names.push(self.str()?.to_string());
            }
            out.columns = Some(names);
        }
        if flags & OPT_MAX_VERSIONS != 0 {
            out.max_versions = Some(self.int()?);
        }
        if flags & OPT_TIME_RANGE != 0 {
            let start = self.int()?;
            let end = self.int()?;
            out.time_range = Some((start, end));
        }
        if flags & OPT_FILTER != 0 {
            out.filter = Some(self.side_index()?);
        }
        Ok(())
    }

    /// Read options (`getRow`, `batchGet`): a flags byte, then each option set.
    pub fn get_options(&mut self) -> Result<WireOptions<'a>> {
        let flags = self.u8()?;
        if flags & !(OPT_COLUMNS | OPT_MAX_VERSIONS | OPT_TIME_RANGE | OPT_FILTER) != 0 {
            return Err(corrupt("bad read option flags"));
        }
        let mut out = WireOptions::default();
        self.read_options(flags, &mut out)?;
        Ok(out)
    }

    /// Range options (`getRange`): read options, then direction and limit.
    pub fn range_options(&mut self) -> Result<WireOptions<'a>> {
        let flags = self.u8()?;
        if flags & !0x3f != 0 {
            return Err(corrupt("bad range option flags"));
        }
        let mut out = WireOptions::default();
        self.read_options(flags, &mut out)?;
        if flags & OPT_DIRECTION != 0 {
            out.direction = Some(self.str()?);
        }
        if flags & OPT_LIMIT != 0 {
            out.limit = Some(self.int()?);
        }
        Ok(out)
    }
}

/// One `batchWrite` operation as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum WireOp<'a> {
    /// A PUT.
    Put {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Columns.
        columns: Vec<WireColumn>,
        /// Condition.
        condition: WireCondition<'a>,
    },
    /// An UPDATE: changes and condition are in the side value at `side`.
    Update {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Side value index of the operation object.
        side: u32,
    },
    /// A DELETE.
    Delete {
        /// Table.
        table: String,
        /// Key.
        primary_key: PrimaryKey,
        /// Condition.
        condition: WireCondition<'a>,
    },
}

/// One request of each kind, decoded whole (what the binding reads, in
/// the same order; used by the fuzz target and the tests).
#[derive(Debug, Clone, PartialEq)]
pub enum WireRequest<'a> {
    /// `putRow`: table, key, columns, condition.
    PutRow {
        /// Table.
        table: &'a str,
        /// Key.
        primary_key: PrimaryKey,
        /// Columns.
        columns: Vec<WireColumn>,
        /// Condition.
        condition: WireCondition<'a>,
    },
    /// `getRow`: table, key, read options.
    GetRow {
        /// Table.
        table: &'a str,
        /// Key.
        primary_key: PrimaryKey,
        /// Options.
        options: WireOptions<'a>,
    },
    /// `getRange`: table, start, end, range options.
    GetRange {
        /// Table.
        table: &'a str,
        /// Start bound.
        start: WireBound,
        /// End bound.
        end: WireBound,
        /// Options.
        options: WireOptions<'a>,
    },
    /// `batchWrite`: operations.
    BatchWrite(Vec<WireOp<'a>>),
    /// `batchGet`: (table, key, read options) each.
    BatchGet(Vec<(String, PrimaryKey, WireOptions<'a>)>),
}

/// Which call a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireCall {
    /// `putRowWire`.
    PutRow,
    /// `getRowWire`.
    GetRow,
    /// `getRangeWire`.
    GetRange,
    /// `batchWriteWire`.
    BatchWrite,
    /// `batchGetWire`.
    BatchGet,
}

impl<'a> RowWireReader<'a> {
    /// One `batchWrite` operation: kind, table, key, then its payload.
    pub fn write_op(&mut self) -> Result<WireOp<'a>> {
        let kind = self.u8()?;
        let table = self.str()?.to_string();
        let primary_key = self.primary_key()?;
        Ok(match kind {
            OP_PUT => WireOp::Put {
                table,
                primary_key,
                columns: self.columns()?,
                condition: self.condition()?,
            },
            OP_UPDATE => WireOp::Update {
                table,
                primary_key,
                side: self.side_index()?,
            },
            OP_DELETE => WireOp::Delete {
                table,
                primary_key,
                condition: self.condition()?,
            },
            _ => return Err(corrupt("bad operation kind")),
        })
    }

    /// One `batchGet` request: table, key, read options.
    pub fn get_request(&mut self) -> Result<(String, PrimaryKey, WireOptions<'a>)> {
        let table = self.str()?.to_string();
        let primary_key = self.primary_key()?;
        Ok((table, primary_key, self.get_options()?))
    }
}

/// Decode a whole request for `call`; every byte must be used.
pub fn decode_request(call: WireCall, buf: &[u8]) -> Result<WireRequest<'_>> {
    let mut r = RowWireReader::new(buf);
    let out = match call {
        WireCall::PutRow => WireRequest::PutRow {
            table: r.str()?,
            primary_key: r.primary_key()?,
            columns: r.columns()?,
            condition: r.condition()?,
        },
        WireCall::GetRow => WireRequest::GetRow {
            table: r.str()?,
            primary_key: r.primary_key()?,
            options: r.get_options()?,
        },
        WireCall::GetRange => WireRequest::GetRange {
            table: r.str()?,
            start: r.range_bound()?,
            end: r.range_bound()?,
            options: r.range_options()?,
        },
        WireCall::BatchWrite => {
            // Each operation: kind (1), table (4), key count (4) and more.
            let n = r.count(9)?;
            let mut ops = Vec::with_capacity(n);
            for _ in 0..n {
                ops.push(r.write_op()?);
            }
            WireRequest::BatchWrite(ops)
        }
        WireCall::BatchGet => {
            // Each request: table (4), key count (4), flags (1).
            let n = r.count(9)?;
            let mut reqs = Vec::with_capacity(n);
            for _ in 0..n {
                reqs.push(r.get_request()?);
            }
            WireRequest::BatchGet(reqs)
        }
    };
    r.end()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::error::Error;

    fn u32le(n: u32) -> Vec<u8> {
        n.to_le_bytes().to_vec()
    }

    fn s(x: &str) -> Vec<u8> {
        let mut out = u32le(x.len() as u32);
        out.extend_from_slice(x.as_bytes());
        out
    }

    /// `getRow('t', {k: 1})` as `js/wire.mjs` encodes it.
    fn good_get_row() -> Vec<u8> {
        let mut b = s("t");
        b.extend(u32le(1));
        b.extend(s("k"));
        b.push(INT);
        b.extend(1f64.to_le_bytes());
        b.push(0);
        b
    }

    #[test]
    fn decodes_a_get_row() {
        let b = good_get_row();
        let req = decode_request(WireCall::GetRow, &b).unwrap();
        assert_eq!(
            req,
            WireRequest::GetRow {
                table: "t",
                primary_key: PrimaryKey(vec![("k".into(), PkValue::Integer(1))]),
                options: WireOptions::default(),
            }
        );
    }

    #[test]
    fn decodes_a_put_and_a_batch_write() {
        let mut b = s("t");
        b.extend(u32le(1));
        b.extend(s("k"));
        b.push(AUTO_INCREMENT);
        b.extend(u32le(2));
        b.extend(s("a"));
        b.push(TRUE);
        b.push(NONE);
        b.extend(s("b"));
        b.push(BIGINT);
        b.extend((-5i64).to_le_bytes());
        b.push(INT);
        b.extend(7f64.to_le_bytes());
        b.push(COND_ROW);
        b.extend(s("EXPECT_EXIST"));
        let req = decode_request(WireCall::PutRow, &b).unwrap();
        let WireRequest::PutRow {
            columns, condition, ..
        } = req
        else {
            panic!("not a put")
        };
        assert_eq!(columns[1].value, Value::Integer(-5));
        assert_eq!(columns[1].timestamp, Some(7));
        assert_eq!(condition, WireCondition::Row("EXPECT_EXIST"));

        let mut w = u32le(1);
        w.push(OP_UPDATE);
        w.extend(s("t"));
        w.extend(u32le(0));
        w.extend(u32le(3));
        let req = decode_request(WireCall::BatchWrite, &w).unwrap();
        assert!(matches!(
            &req,
            WireRequest::BatchWrite(ops) if matches!(ops[0], WireOp::Update { side: 3, .. })
        ));
    }

    /// The malformed buffers of `tests/js/unit/wire.test.mjs`, decoded
    /// natively: each a `CorruptData` error.
    #[test]
    fn malformed_buffers_are_corrupt_data() {
        let good = good_get_row();
        let table = s("t");
        let key_head = |tail: &[u8]| {
            let mut b = table.clone();
            b.extend(u32le(1));
            b.extend(s("k"));
            b.extend_from_slice(tail);
            b
        };
        let int1: Vec<u8> = [&[INT][..], &1f64.to_le_bytes()].concat();
        let bad: Vec<Vec<u8>> = vec![
            vec![],
            table.clone(),
            [u32le(5), vec![116]].concat(),
            [u32le(1), vec![0xff], u32le(0), vec![0]].concat(),
            [table.clone(), u32le(u32::MAX)].concat(),
            key_head(&[99]),
            key_head(&[&[INT][..], &0.5f64.to_le_bytes(), &[0]].concat()),
            key_head(&[&[INT][..], &2f64.powi(60).to_le_bytes(), &[0]].concat()),
            key_head(&[&[INT][..], &f64::NAN.to_le_bytes(), &[0]].concat()),
            key_head(&[&int1[..], &[0xc0]].concat()),
            [good.clone(), vec![0]].concat(),
        ];
        for b in &bad {
            match decode_request(WireCall::GetRow, b) {
                Err(Error::Corrupt(m)) => assert!(m.starts_with("malformed wire buffer"), "{m}"),
                other => panic!("{b:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_huge_count_reserves_nothing() {
        // 4 GiB of operations claimed by a 4-byte request.
        for call in [WireCall::BatchWrite, WireCall::BatchGet] {
            let err = decode_request(call, &u32le(u32::MAX)).unwrap_err();
            assert_eq!(err.code(), "CorruptData");
        }
    }
}
