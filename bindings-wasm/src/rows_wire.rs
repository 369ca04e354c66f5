//! The row fast path of `RawDatabase`: `putRow`, `getRow`, `getRange`,
//! `batchWrite` and `batchGet` with their arguments and results as wire
//! buffers (`wire.rs`) instead of JS objects read and built property by
//! property. Same checks, errors and results as the methods of `rows.rs`,
//! which the JS layer still calls for arguments its encoder does not take.

use crate::clock::NowHint;
use crate::database::RawDatabase;
use crate::error::{IntoJs, JsResult};
use crate::panic::guard;
use crate::rows::check_auto_increment;
use crate::value::IntegerMode;
use crate::wire::{self, corrupt, NameTable};
use crate::wire_in::{Reader, OP_DELETE, OP_PUT, OP_UPDATE};
use crate::wire_out::{Out, RESULT_OK};
use std::cell::RefCell;
use tablesync::{GetRequest, PrimaryKey, WriteOp};
use wasm_bindgen::prelude::*;

/// Run one wire call: `call` is the request's length and the host's
/// `Date.now()` (NaN: none), its side values those handed to
/// [`wire::wire_side`]. Decodes with a [`Reader`], writes the result with
/// an [`Out`] and returns where the result starts. Names a failed result
/// defined are forgotten again (JS never saw them). A call made while the
/// name table is in use (from a user callback inside another call) sends
/// its names as literals.
pub(crate) fn run(
    names: &RefCell<NameTable>,
    mode: IntegerMode,
    call: (usize, f64),
    f: impl FnOnce(&mut Reader, &mut Out) -> JsResult<()>,
) -> JsResult<usize> {
    let side = wire::take_side();
    guard()?;
    let (len, now) = call;
    let _now = NowHint::set(now);
    let mut table = names.try_borrow_mut().ok();
    let mark = table.as_ref().map(|t| t.mark());
    let result = wire::call(len, |input, w| {
        let mut r = Reader::new(input, &side);
        let mut out = Out {
            w,
            names: table.as_deref_mut(),
            mode,
        };
        f(&mut r, &mut out)
    });
    if result.is_err() {
        if let (Some(t), Some(m)) = (table.as_deref_mut(), mark) {
            t.rollback(m);
        }
    }
    result
}

#[wasm_bindgen]
impl RawDatabase {
    /// `putRow` over the wire: table, key, columns, condition → the key.
    /// Like every `*Wire` method, returns where its result starts.
    #[wasm_bindgen(js_name = putRowWire)]
    pub fn put_row_wire(&mut self, len: usize, now: f64) -> JsResult<usize> {
        let RawDatabase {
            db, mode, names, ..
        } = self;
        let mode = *mode;
        run(names, mode, (len, now), |r, out| {
            let table = r.str()?;
            let pk = r.primary_key()?;
            check_auto_increment(mode, &pk)?;
            let columns = r.columns()?;
            let condition = r.condition()?;
            r.end()?;
            let key = db.put_row(table, pk, columns, condition).js()?;
            out.primary_key(&key, mode.echo())
        })
    }

    /// `getRow` over the wire: table, key, read options → an optional row.
    #[wasm_bindgen(js_name = getRowWire)]
    pub fn get_row_wire(&self, len: usize, now: f64) -> JsResult<usize> {
        run(&self.names, self.mode, (len, now), |r, out| {
            let table = r.str()?;
            // A call nested in a user callback gets a key of its own.
            let mut own = None;
            let mut scratch = self.scratch_key.try_borrow_mut().ok();
            let pk = match scratch.as_deref_mut() {
                Some(pk) => pk,
                None => own.insert(PrimaryKey(Vec::new())),
            };
            r.primary_key_into(pk)?;
            let options = r.get_options()?;
            r.end()?;
            let row = self.db.get_row(table, pk, &options).js()?;
            out.opt_row(&row)
        })
    }

    /// `getRange` over the wire: table, start, end, range options → a page.
    #[wasm_bindgen(js_name = getRangeWire)]
    pub fn get_range_wire(&self, len: usize, now: f64) -> JsResult<usize> {
        run(&self.names, self.mode, (len, now), |r, out| {
            let table = r.str()?;
            let schema = self.schema_of(table)?;
            let start = r.range_bound(&schema)?;
            let end = r.range_bound(&schema)?;
            let options = r.range_options()?;
            r.end()?;
            let page = self.db.get_range(table, &start, &end, &options).js()?;
            out.page(&page)
        })
    }

    /// `batchWrite` over the wire: operations → one result each.
    #[wasm_bindgen(js_name = batchWriteWire)]
    pub fn batch_write_wire(&mut self, len: usize, now: f64) -> JsResult<usize> {
        let RawDatabase {
            db, mode, names, ..
        } = self;
        let mode = *mode;
        run(names, mode, (len, now), |r, out| {
            let n = r.count(1)?;
            let mut ops = Vec::with_capacity(n);
            for _ in 0..n {
                let kind = r.u8()?;
                let table = r.str()?.to_string();
                let primary_key = r.primary_key()?;
                check_auto_increment(mode, &primary_key)?;
                ops.push(match kind {
                    OP_PUT => WriteOp::Put {
                        table,
                        primary_key,
                        columns: r.columns()?,
                        condition: r.condition()?,
                    },
                    OP_UPDATE => {
                        let (update, condition) = r.update()?;
                        WriteOp::Update {
                            table,
                            primary_key,
                            update,
                            condition,
                        }
                    }
                    OP_DELETE => WriteOp::Delete {
                        table,
                        primary_key,
                        condition: r.condition()?,
                    },
                    _ => return Err(corrupt("bad operation kind")),
                });
            }
            r.end()?;
            let results = db.batch_write(ops).js()?;
            out.w.len(results.len());
            for res in &results {
                match res {
                    Ok(key) => {
                        out.w.u8(RESULT_OK);
                        out.primary_key(key, mode.echo())?;
                    }
                    Err(e) => out.error(e),
                }
            }
            Ok(())
        })
    }

    /// `batchGet` over the wire: requests → one result each.
    #[wasm_bindgen(js_name = batchGetWire)]
    pub fn batch_get_wire(&self, len: usize, now: f64) -> JsResult<usize> {
        run(&self.names, self.mode, (len, now), |r, out| {
            let n = r.count(1)?;
            let mut reqs = Vec::with_capacity(n);
            for _ in 0..n {
                reqs.push(GetRequest {
                    table: r.str()?.to_string(),
                    primary_key: r.primary_key()?,
                    options: r.get_options()?,
                });
            }
            r.end()?;
            let results = self.db.batch_get(&reqs).js()?;
            out.w.len(results.len());
            for res in &results {
                match res {
                    Ok(row) => {
                        out.w.u8(RESULT_OK);
                        out.opt_row(row)?;
                    }
                    Err(e) => out.error(e),
                }
            }
            Ok(())
        })
    }

    /// Forget the names sent so far (the JS side dropped its copy).
    #[wasm_bindgen(js_name = wireResetNames)]
    pub fn wire_reset_names(&self) {
        if let Ok(mut t) = self.names.try_borrow_mut() {
            t.clear();
        }
    }
}
