//! Decoding the wire requests of the row fast path (format in `wire.rs`).
//!
//! The JS encoder has already made every JS type check of the
//! field-by-field path (it hands the call to that path on anything it does
//! not accept), so what is left here are the checks on values — condition
//! names, option ranges — made with the same functions and messages, in
//! the same order. Conditions, filters and UPDATE changes travel as JS
//! values beside the buffer ("side values") and go through the usual
//! conversion.

use crate::condition::{parse_row_existence, to_column_condition, to_condition};
use crate::error::JsResult;
use crate::options::{direction, limit, max_versions, to_update};
use crate::value::MAX_SAFE_INTEGER;
use crate::wire::{self, corrupt};
use js_sys::Reflect;
use tablesync::{
    Column, Condition, GetOptions, PkBound, PkValue, PrimaryKey, RangeBound, RangeOptions,
    RowUpdate, TableSchema, TimeRange, Value,
};
use wasm_bindgen::prelude::*;

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

/// `batchWrite` operation kinds.
pub const OP_PUT: u8 = 0;
/// An UPDATE: the operation object itself is a side value.
pub const OP_UPDATE: u8 = 1;
/// A DELETE.
pub const OP_DELETE: u8 = 2;

/// A bound made of `(name, part)` pairs (the other kinds are [`wire::INF_MIN`]
/// and [`wire::INF_MAX`] alone).
pub const BOUND_PAIRS: u8 = 0;

/// A cursor over one request buffer and its side values.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    side: &'a JsValue,
}

impl<'a> Reader<'a> {
    /// A reader of `buf`, with the side values array `side` (or `undefined`).
    pub fn new(buf: &'a [u8], side: &'a JsValue) -> Self {
        Reader { buf, pos: 0, side }
    }

    fn take(&mut self, n: usize) -> JsResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> JsResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> JsResult<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> JsResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> JsResult<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> JsResult<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of items that each take at least `min_size` bytes (bounded
    /// by what is left, so a bad count cannot ask for a huge allocation).
    pub fn count(&mut self, min_size: usize) -> JsResult<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.buf.len() - self.pos {
            return Err(corrupt("count beyond the buffer"));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> JsResult<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> JsResult<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| corrupt("invalid UTF-8"))
    }

    /// The side value at the index that follows.
    fn side_value(&mut self) -> JsResult<JsValue> {
        let i = self.u32()?;
        let v = Reflect::get_u32(self.side, i).map_err(|_| corrupt("no side values"))?;
        if v.is_undefined() {
            return Err(corrupt("missing side value"));
        }
        Ok(v)
    }

    /// Fail unless every byte was read.
    pub fn end(&self) -> JsResult<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(corrupt("trailing bytes"))
        }
    }

    fn int_tagged(&mut self, tag: u8) -> JsResult<i64> {
        match tag {
            wire::INT => {
                let x = self.f64()?;
                if x.fract() != 0.0 || x.abs() > MAX_SAFE_INTEGER as f64 {
                    return Err(corrupt("INT is not a safe integer"));
                }
                Ok(x as i64)
            }
            wire::BIGINT => self.i64(),
            _ => Err(corrupt("expected an integer")),
        }
    }

    /// An integer value (an INT or BIGINT tag and its payload).
    pub fn int(&mut self) -> JsResult<i64> {
        let tag = self.u8()?;
        self.int_tagged(tag)
    }

    /// An attribute value.
    pub fn value(&mut self) -> JsResult<Value> {
        Ok(match self.u8()? {
            wire::STR => Value::String(self.str()?.to_string()),
            t @ (wire::INT | wire::BIGINT) => Value::Integer(self.int_tagged(t)?),
            wire::DOUBLE => Value::Double(self.f64()?),
            wire::TRUE => Value::Boolean(true),
            wire::FALSE => Value::Boolean(false),
            wire::BIN => Value::Binary(self.bytes()?.to_vec()),
            _ => return Err(corrupt("bad value tag")),
        })
    }

    fn pk_value_tagged(&mut self, tag: u8) -> JsResult<PkValue> {
        Ok(match tag {
            wire::STR => PkValue::String(self.str()?.to_string()),
            t @ (wire::INT | wire::BIGINT) => PkValue::Integer(self.int_tagged(t)?),
            wire::BIN => PkValue::Binary(self.bytes()?.to_vec()),
            wire::AUTO_INCREMENT => PkValue::AutoIncrement,
            _ => return Err(corrupt("bad primary-key value tag")),
        })
    }

    /// A primary key: u32 count, then (name, value) pairs.
    pub fn primary_key(&mut self) -> JsResult<PrimaryKey> {
        let n = self.count(5)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_string();
            let tag = self.u8()?;
            out.push((name, self.pk_value_tagged(tag)?));
        }
        Ok(PrimaryKey(out))
    }

    /// A primary key into `pk`, reusing its allocations (point reads
    /// decode one key per call).
    pub fn primary_key_into(&mut self, pk: &mut PrimaryKey) -> JsResult<()> {
        let n = self.count(5)?;
        pk.0.truncate(n);
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
    pub fn range_bound(&mut self, schema: &TableSchema) -> JsResult<RangeBound> {
        let whole = match self.u8()? {
            BOUND_PAIRS => None,
            wire::INF_MIN => Some(PkBound::InfMin),
            wire::INF_MAX => Some(PkBound::InfMax),
            _ => return Err(corrupt("bad bound kind")),
        };
        if let Some(b) = whole {
            return Ok(RangeBound(
                schema
                    .primary_key
                    .iter()
                    .map(|c| (c.name.clone(), b.clone()))
                    .collect(),
            ));
        }
        let n = self.count(5)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_string();
            let part = match self.u8()? {
                wire::INF_MIN => PkBound::InfMin,
                wire::INF_MAX => PkBound::InfMax,
                t => PkBound::Value(self.pk_value_tagged(t)?),
            };
            out.push((name, part));
        }
        Ok(RangeBound(out))
    }

    /// Attribute columns: u32 count, then (name, value, timestamp or NONE).
    pub fn columns(&mut self) -> JsResult<Vec<Column>> {
        let n = self.count(7)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_string();
            let value = self.value()?;
            let timestamp = match self.u8()? {
                wire::NONE => None,
                t => Some(self.int_tagged(t)?),
            };
            out.push(Column {
                name,
                value,
                timestamp,
            });
        }
        Ok(out)
    }

    /// A write condition.
    pub fn condition(&mut self) -> JsResult<Condition> {
        match self.u8()? {
            COND_NONE => Ok(Condition::ignore()),
            COND_ROW => Ok(Condition::row(parse_row_existence(
                self.str()?,
                "condition",
            )?)),
            COND_SIDE => to_condition(Some(self.side_value()?)),
            _ => Err(corrupt("bad condition kind")),
        }
    }

    /// The changes and condition of an UPDATE operation (its object is a side value).
    pub fn update(&mut self) -> JsResult<(RowUpdate, Condition)> {
        to_update(&Some(self.side_value()?))
    }

    fn read_options(&mut self, flags: u8) -> JsResult<GetOptions> {
        let mut out = GetOptions::default();
        if flags & OPT_COLUMNS != 0 {
            let n = self.count(4)?;
            let mut names = Vec::with_capacity(n);
            for _ in 0..n {
                names.push(self.str()?.to_string());
            }
            out.columns = Some(names);
        }
        if flags & OPT_MAX_VERSIONS != 0 {
            out.max_versions = max_versions(self.int()?)?;
        }
        if flags & OPT_TIME_RANGE != 0 {
            let start = self.int()?;
            let end = self.int()?;
            out.time_range = Some(TimeRange { start, end });
        }
        if flags & OPT_FILTER != 0 {
            out.filter = Some(to_column_condition(&self.side_value()?)?);
        }
        Ok(out)
    }

    /// Read options (`getRow`, `batchGet`): a flags byte, then each option set.
    pub fn get_options(&mut self) -> JsResult<GetOptions> {
        let flags = self.u8()?;
        if flags & !(OPT_COLUMNS | OPT_MAX_VERSIONS | OPT_TIME_RANGE | OPT_FILTER) != 0 {
            return Err(corrupt("bad read option flags"));
        }
        self.read_options(flags)
    }

    /// Range options (`getRange`): read options, then direction and limit.
    pub fn range_options(&mut self) -> JsResult<RangeOptions> {
        let flags = self.u8()?;
        if flags & !0x3f != 0 {
            return Err(corrupt("bad range option flags"));
        }
        let mut out = RangeOptions {
            read: self.read_options(flags)?,
            ..RangeOptions::default()
        };
        if flags & OPT_DIRECTION != 0 {
            out.direction = direction(self.str()?)?;
        }
        if flags & OPT_LIMIT != 0 {
            out.limit = Some(limit(self.int()?)?);
        }
        Ok(out)
    }
}
