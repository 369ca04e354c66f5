//! Encoding the results of the row fast path (format in `wire.rs`): keys,
//! rows, range pages and per-operation batch results. The checks are those
//! of the object-building path (`row.rs`, `key.rs`), with the same messages:
//! an INTEGER no JS number holds exactly is `IntegerOutOfRange` in number mode.

use crate::error::JsResult;
use crate::value::{double_needs_wrapper, integer_out, IntegerMode, JsInt};
use crate::wire::{self, NameTable, Writer};
use std::fmt::Display;
use tablesync::{PkBound, PkValue, PrimaryKey, RangePage, Row, Value};

/// Batch result: the operation succeeded (its payload follows).
pub const RESULT_OK: u8 = 1;
/// Batch result: the operation failed (code and message follow).
pub const RESULT_ERR: u8 = 0;

/// A result being written: the buffer, the name table (`None`: names go
/// as literals) and the integer mode of values.
pub struct Out<'a> {
    /// The result buffer.
    pub w: &'a mut Writer,
    /// The database's name table, when this call may use it.
    pub names: Option<&'a mut NameTable>,
    /// How INTEGER values go out.
    pub mode: IntegerMode,
}

impl Out<'_> {
    fn name(&mut self, name: &str, slot: usize) {
        match self.names.as_deref_mut() {
            Some(t) => t.write(self.w, name, slot),
            None => {
                self.w.u8(wire::NAME_LIT);
                self.w.str(name);
            }
        }
    }

    fn integer(&mut self, i: i64, mode: IntegerMode, what: &dyn Display) -> JsResult<()> {
        match integer_out(i, mode, what)? {
            JsInt::Number(x) => {
                self.w.u8(wire::INT);
                self.w.f64(x);
            }
            JsInt::BigInt(i) => {
                self.w.u8(wire::BIGINT);
                self.w.i64(i);
            }
        }
        Ok(())
    }

    fn value(&mut self, v: &Value, what: &dyn Display) -> JsResult<()> {
        match v {
            Value::Integer(i) => return self.integer(*i, self.mode, what),
            Value::Double(x) => {
                self.w.u8(if double_needs_wrapper(*x) {
                    wire::DOUBLE
                } else {
                    wire::INT
                });
                self.w.f64(*x);
            }
            Value::Boolean(b) => self.w.u8(if *b { wire::TRUE } else { wire::FALSE }),
            Value::String(s) => {
                self.w.u8(wire::STR);
                self.w.str(s);
            }
            Value::Binary(b) => {
                self.w.u8(wire::BIN);
                self.w.bytes(b);
            }
        }
        Ok(())
    }

    fn pk_value(&mut self, v: &PkValue, mode: IntegerMode, what: &dyn Display) -> JsResult<()> {
        match v {
            PkValue::Integer(i) => return self.integer(*i, mode, what),
            PkValue::String(s) => {
                self.w.u8(wire::STR);
                self.w.str(s);
            }
            PkValue::Binary(b) => {
                self.w.u8(wire::BIN);
                self.w.bytes(b);
            }
            PkValue::AutoIncrement => self.w.u8(wire::AUTO_INCREMENT),
        }
        Ok(())
    }

    /// A primary key: u32 count, then (name, value) in schema order.
    /// `mode` is the database's, or its echo mode for keys a write returns.
    pub fn primary_key(&mut self, pk: &PrimaryKey, mode: IntegerMode) -> JsResult<()> {
        self.w.len(pk.0.len());
        for (slot, (name, v)) in pk.0.iter().enumerate() {
            self.name(name, slot);
            self.pk_value(v, mode, &format_args!("primary-key column '{name}'"))?;
        }
        Ok(())
    }

    /// A row: key, then u32 count of cells, each (name, value, f64 timestamp).
    pub fn row(&mut self, row: &Row) -> JsResult<()> {
        self.primary_key(&row.primary_key, self.mode)?;
        self.w.len(row.cells.len());
        let first = row.primary_key.0.len();
        for (i, c) in row.cells.iter().enumerate() {
            let what = format_args!("column '{}'", c.name);
            self.name(&c.name, first + i);
            self.value(&c.value, &what)?;
            match integer_out(c.timestamp, IntegerMode::Number, &what)? {
                JsInt::Number(x) => self.w.f64(x),
                // Number mode never gives a bigint.
                JsInt::BigInt(i) => self.w.f64(i as f64),
            }
        }
        Ok(())
    }

    /// An optional row: 0 (null) or 1 and the row.
    pub fn opt_row(&mut self, row: &Option<Row>) -> JsResult<()> {
        match row {
            None => self.w.u8(0),
            Some(r) => {
                self.w.u8(1);
                self.row(r)?;
            }
        }
        Ok(())
    }

    /// A range page: u32 count of rows, each a row; then 0 (no next
    /// start) or 1 and the bound as (name, value or INF tag) pairs.
    pub fn page(&mut self, page: &RangePage) -> JsResult<()> {
        self.w.len(page.rows.len());
        for r in &page.rows {
            self.row(r)?;
        }
        match &page.next_start {
            None => self.w.u8(0),
            Some(b) => {
                self.w.u8(1);
                self.w.len(b.0.len());
                for (slot, (name, part)) in b.0.iter().enumerate() {
                    self.name(name, slot);
                    match part {
                        PkBound::InfMin => self.w.u8(wire::INF_MIN),
                        PkBound::InfMax => self.w.u8(wire::INF_MAX),
                        PkBound::Value(v) => self.pk_value(
                            v,
                            self.mode,
                            &format_args!("range bound column '{name}'"),
                        )?,
                    }
                }
            }
        }
        Ok(())
    }

    /// A failed operation of a batch: its code and message.
    pub fn error(&mut self, e: &tablesync::Error) {
        self.w.u8(RESULT_ERR);
        self.w.str(e.code());
        self.w.str(&format!("{}: {}", e.code(), e.message()));
    }
}
