//! Rows and range pages as JS objects.

use crate::error::JsResult;
use crate::js;
use crate::key::{primary_key_to_js, range_bound_to_js};
use crate::value::{from_value, timestamp_to_js, IntegerMode};
use js_sys::{Array, Object};
use std::cell::RefCell;
use tablesync::{RangePage, Row};
use wasm_bindgen::prelude::*;

thread_local! {
    static MAKE_CELL: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
    static MAKE_ROW: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Register the JS layer's `(primaryKey, columns, cells) => ({ primaryKey, columns, cells })`
/// (same reason as [`register_cell_maker`]).
#[wasm_bindgen(js_name = registerRowMaker)]
pub fn register_row_maker(f: js_sys::Function) {
    MAKE_ROW.with(|m| *m.borrow_mut() = Some(f));
}

fn make_row(pk: JsValue, columns: JsValue, cells: JsValue) -> JsValue {
    let made = MAKE_ROW.with(|m| {
        m.borrow()
            .as_ref()
            .and_then(|f| f.call3(&JsValue::UNDEFINED, &pk, &columns, &cells).ok())
    });
    made.unwrap_or_else(|| {
        let obj = Object::new();
        js::set(&obj, "primaryKey", &pk);
        js::set(&obj, "columns", &columns);
        js::set(&obj, "cells", &cells);
        obj.into()
    })
}

/// Register the JS layer's `(name, value, timestamp) => ({ name, value, timestamp })`:
/// one call that builds a cell object as a literal (V8 gives every cell the
/// same shape) instead of an empty object and three property stores.
#[wasm_bindgen(js_name = registerCellMaker)]
pub fn register_cell_maker(f: js_sys::Function) {
    MAKE_CELL.with(|m| *m.borrow_mut() = Some(f));
}

fn make_cell(name: JsValue, value: JsValue, timestamp: JsValue) -> JsValue {
    let made = MAKE_CELL.with(|m| {
        m.borrow()
            .as_ref()
            .and_then(|f| f.call3(&JsValue::UNDEFINED, &name, &value, &timestamp).ok())
    });
    made.unwrap_or_else(|| {
        let cell = Object::new();
        js::set(&cell, "name", &name);
        js::set(&cell, "value", &value);
        js::set(&cell, "timestamp", &timestamp);
        cell.into()
    })
}

/// A row as `{ primaryKey, columns, cells }`: `columns` holds the latest
/// returned value of each column, `cells` every returned version as
/// `{ name, value, timestamp }` (by column name, newest first).
pub fn row_to_js(row: &Row, mode: IntegerMode) -> JsResult<JsValue> {
    let pk = primary_key_to_js(&row.primary_key, mode)?;
    let columns = Object::new();
    let cells = Array::new_with_length(row.cells.len() as u32);
    let mut last: Option<&str> = None;
    for (i, c) in row.cells.iter().enumerate() {
        let what = format_args!("column '{}'", c.name);
        let value = from_value(&c.value, mode, &what)?;
        let cell = make_cell(
            js::name(&c.name),
            value.clone(),
            timestamp_to_js(c.timestamp, &what)?,
        );
        cells.set(i as u32, cell);
        if last != Some(c.name.as_str()) {
            js::set_dynamic(&columns, &c.name, &value);
            last = Some(c.name.as_str());
        }
    }
    Ok(make_row(pk, columns.into(), cells.into()))
}

/// An optional row (`null` when absent).
pub fn opt_row_to_js(row: &Option<Row>, mode: IntegerMode) -> JsResult<JsValue> {
    match row {
        None => Ok(JsValue::NULL),
        Some(r) => row_to_js(r, mode),
    }
}

/// A range page as `{ rows, nextStart }` (`nextStart` is `null` at the end).
pub fn page_to_js(page: &RangePage, mode: IntegerMode) -> JsResult<JsValue> {
    let obj = Object::new();
    let rows = Array::new_with_length(page.rows.len() as u32);
    for (i, r) in page.rows.iter().enumerate() {
        rows.set(i as u32, row_to_js(r, mode)?);
    }
    js::set(&obj, "rows", &rows);
    let next = match &page.next_start {
        None => JsValue::NULL,
        Some(b) => range_bound_to_js(b, mode)?,
    };
    js::set(&obj, "nextStart", &next);
    Ok(obj.into())
}
