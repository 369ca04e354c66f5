//! Decoding the wire requests of the row fast path (format in `wire.rs`).
//!
//! Every byte is read by the core's plain-Rust reader
//! ([`tablesync::codec::row_wire`], fuzzed natively by `fuzz/` target
//! `js_wire`); what is left here is what needs JS: the side values
//! (conditions, filters and UPDATE changes that travel as JS values beside
//! the buffer, through the usual conversion) and the checks on values —
//! condition names, option ranges — made with the same functions and
//! messages as the field-by-field path. The JS encoder has already made
//! every JS type check of that path (it hands the call to it on anything it
//! does not accept).

use crate::condition::{parse_row_existence, to_column_condition, to_condition};
use crate::error::{IntoJs, JsResult};
use crate::options::{direction, limit, max_versions, to_update};
use crate::wire::corrupt;
use js_sys::Reflect;
use tablesync::codec::row_wire::{RowWireReader, WireBound, WireCondition, WireOptions};
use tablesync::{
    Column, Condition, GetOptions, PrimaryKey, RangeBound, RangeOptions, RowUpdate, TableSchema,
    TimeRange,
};
use wasm_bindgen::prelude::*;

pub use tablesync::codec::row_wire::{
    BOUND_PAIRS, COND_NONE, COND_ROW, COND_SIDE, OPT_COLUMNS, OPT_DIRECTION, OPT_FILTER, OPT_LIMIT,
    OPT_MAX_VERSIONS, OPT_TIME_RANGE, OP_DELETE, OP_PUT, OP_UPDATE,
};

/// A cursor over one request buffer and its side values.
pub struct Reader<'a> {
    r: RowWireReader<'a>,
    side: &'a JsValue,
}

impl<'a> Reader<'a> {
    /// A reader of `buf`, with the side values array `side` (or `undefined`).
    pub fn new(buf: &'a [u8], side: &'a JsValue) -> Self {
        Reader {
            r: RowWireReader::new(buf),
            side,
        }
    }

    /// One byte.
    pub fn u8(&mut self) -> JsResult<u8> {
        self.r.u8().js()
    }

    /// A count of items that each take at least `min_size` bytes (bounded
    /// by what is left, so a bad count cannot ask for a huge allocation).
    pub fn count(&mut self, min_size: usize) -> JsResult<usize> {
        self.r.count(min_size).js()
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> JsResult<&'a str> {
        self.r.str().js()
    }

    /// The side value at index `i`.
    fn side_value(&self, i: u32) -> JsResult<JsValue> {
        let v = Reflect::get_u32(self.side, i).map_err(|_| corrupt("no side values"))?;
        if v.is_undefined() {
            return Err(corrupt("missing side value"));
        }
        Ok(v)
    }

    /// Fail unless every byte was read.
    pub fn end(&self) -> JsResult<()> {
        self.r.end().js()
    }

    /// A primary key: u32 count, then (name, value) pairs.
    pub fn primary_key(&mut self) -> JsResult<PrimaryKey> {
        self.r.primary_key().js()
    }

    /// A primary key into `pk`, reusing its allocations (point reads
    /// decode one key per call).
    pub fn primary_key_into(&mut self, pk: &mut PrimaryKey) -> JsResult<()> {
        self.r.primary_key_into(pk).js()
    }

    /// A range bound; `INF_MIN` / `INF_MAX` alone stand for every key column.
    pub fn range_bound(&mut self, schema: &TableSchema) -> JsResult<RangeBound> {
        Ok(match self.r.range_bound().js()? {
            WireBound::Whole(b) => RangeBound::all(schema, b),
            WireBound::Pairs(pairs) => RangeBound(pairs),
        })
    }

    /// Attribute columns: u32 count, then (name, value, timestamp or NONE).
    pub fn columns(&mut self) -> JsResult<Vec<Column>> {
        Ok(self
            .r
            .columns()
            .js()?
            .into_iter()
            .map(|c| Column {
                name: c.name,
                value: c.value,
                timestamp: c.timestamp,
            })
            .collect())
    }

    /// A write condition.
    pub fn condition(&mut self) -> JsResult<Condition> {
        match self.r.condition().js()? {
            WireCondition::None => Ok(Condition::ignore()),
            WireCondition::Row(name) => Ok(Condition::row(parse_row_existence(name, "condition")?)),
            WireCondition::Side(i) => to_condition(Some(self.side_value(i)?)),
        }
    }

    /// The changes and condition of an UPDATE operation (its object is a side value).
    pub fn update(&mut self) -> JsResult<(RowUpdate, Condition)> {
        let i = self.r.side_index().js()?;
        to_update(&Some(self.side_value(i)?))
    }

    /// The read options of `o`, checked in the order they are sent.
    fn read_options(&self, o: &mut WireOptions) -> JsResult<GetOptions> {
        let max_versions = match o.max_versions {
            Some(n) => max_versions(n)?,
            None => GetOptions::default().max_versions,
        };
        let filter = match o.filter {
            Some(i) => Some(to_column_condition(&self.side_value(i)?)?),
            None => None,
        };
        Ok(GetOptions {
            columns: o.columns.take(),
            max_versions,
            time_range: o.time_range.map(|(start, end)| TimeRange { start, end }),
            filter,
        })
    }

    /// Read options (`getRow`, `batchGet`): a flags byte, then each option set.
    pub fn get_options(&mut self) -> JsResult<GetOptions> {
        let mut o = self.r.get_options().js()?;
        self.read_options(&mut o)
    }

    /// Range options (`getRange`): read options, then direction and limit.
    pub fn range_options(&mut self) -> JsResult<RangeOptions> {
        let mut o = self.r.range_options().js()?;
        let mut out = RangeOptions {
            read: self.read_options(&mut o)?,
            ..RangeOptions::default()
        };
        if let Some(d) = o.direction {
            out.direction = direction(d)?;
        }
        if let Some(n) = o.limit {
            out.limit = Some(limit(n)?);
        }
        Ok(out)
    }
}
