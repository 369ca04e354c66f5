//! Row operations of `RawDatabase`: put, get, update, delete, ranges and batches.

use crate::condition::to_condition;
use crate::database::RawDatabase;
use crate::error::{core_error, integer_out_of_range, invalid, type_error, IntoJs, JsResult};
use crate::js;
use crate::key::{primary_key_to_js, to_primary_key, to_range_bound};
use crate::options::{
    to_columns, to_get_options, to_range_options, to_update, GET_KEYS, RANGE_KEYS, UPDATE_KEYS,
};
use crate::panic::guard;
use crate::row::{opt_row_to_js, page_to_js};
use crate::value::IntegerMode;
use js_sys::{Array, Object};
use tablesync::{GetRequest, PkValue, PrimaryKey, Row, TableSchema, WriteOp};
use wasm_bindgen::prelude::*;

const CONDITION_KEYS: &[&str] = &["condition"];

fn ok_result(key: &str, value: &JsValue) -> JsValue {
    let o = Object::new();
    js::set(&o, "ok", &JsValue::TRUE);
    js::set(&o, key, value);
    o.into()
}

fn err_result(error: JsValue) -> JsValue {
    let o = Object::new();
    js::set(&o, "ok", &JsValue::FALSE);
    js::set(&o, "error", &error);
    o.into()
}

/// Auto-increment values are 64-bit stamps no JS number holds exactly:
/// in number mode refuse the write up front rather than fail after it.
pub(crate) fn check_auto_increment(mode: IntegerMode, pk: &PrimaryKey) -> JsResult<()> {
    if mode == IntegerMode::Number && pk.0.iter().any(|(_, v)| *v == PkValue::AutoIncrement) {
        return Err(integer_out_of_range(
            "auto-increment values are 64-bit and need a database opened with { integers: \"bigint\" }",
        ));
    }
    Ok(())
}

impl RawDatabase {
    pub(crate) fn schema_of(&self, table: &str) -> JsResult<TableSchema> {
        Ok(self.db.describe_table(table).js()?.schema)
    }

    /// The key a write returns: in number mode an integer part beyond
    /// ±(2^53−1) (given as a bigint) comes back as a bigint, never an error
    /// after the write committed.
    fn key_out(&self, pk: &PrimaryKey) -> JsResult<JsValue> {
        primary_key_to_js(pk, self.mode.echo())
    }

    /// Auto-increment values are 64-bit stamps no JS number holds exactly:
    /// in number mode refuse the write up front rather than fail after it.
    pub(crate) fn check_auto_increment(&self, pk: &PrimaryKey) -> JsResult<()> {
        check_auto_increment(self.mode, pk)
    }

    fn write_op(&self, v: &JsValue) -> JsResult<WriteOp> {
        if !js::is_object(v) || js::is_array(v) {
            return Err(type_error(format!(
                "a batch write operation must be an object, got {}",
                js::type_name(v)
            )));
        }
        let ty = js::string(&js::get(v, "type")?, &"batch operation 'type'")?;
        let table = js::string(&js::get(v, "table")?, &"batch operation 'table'")?;
        let primary_key = to_primary_key(&js::get(v, "primaryKey")?)?;
        self.check_auto_increment(&primary_key)?;
        match ty.to_ascii_uppercase().as_str() {
            "PUT" => {
                js::check_keys(
                    v,
                    &["type", "table", "primaryKey", "columns", "condition"],
                    "a PUT operation",
                )?;
                Ok(WriteOp::Put {
                    table,
                    primary_key,
                    columns: to_columns(&js::get(v, "columns")?, "columns")?,
                    condition: to_condition(js::opt(&Some(v.clone()), "condition")?)?,
                })
            }
            "UPDATE" => {
                let mut allowed = vec!["type", "table", "primaryKey"];
                allowed.extend_from_slice(UPDATE_KEYS);
                js::check_keys(v, &allowed, "an UPDATE operation")?;
                let (update, condition) = to_update(&Some(v.clone()))?;
                Ok(WriteOp::Update {
                    table,
                    primary_key,
                    update,
                    condition,
                })
            }
            "DELETE" => {
                js::check_keys(
                    v,
                    &["type", "table", "primaryKey", "condition"],
                    "a DELETE operation",
                )?;
                Ok(WriteOp::Delete {
                    table,
                    primary_key,
                    condition: to_condition(js::opt(&Some(v.clone()), "condition")?)?,
                })
            }
            _ => Err(invalid(format!(
                "batch operation type {ty:?} (put, update or delete)"
            ))),
        }
    }

    fn get_request(&self, v: &JsValue) -> JsResult<GetRequest> {
        if !js::is_object(v) || js::is_array(v) {
            return Err(type_error(format!(
                "a batch get request must be an object, got {}",
                js::type_name(v)
            )));
        }
        let mut allowed = vec!["table", "primaryKey"];
        allowed.extend_from_slice(GET_KEYS);
        js::check_keys(v, &allowed, "a batch get request")?;
        let opts = Some(v.clone());
        Ok(GetRequest {
            table: js::string(&js::get(v, "table")?, &"batch get 'table'")?,
            primary_key: to_primary_key(&js::get(v, "primaryKey")?)?,
            options: to_get_options(&opts)?,
        })
    }
}

#[wasm_bindgen]
impl RawDatabase {
    /// Replace a row; returns its key (auto-increment values filled in).
    #[wasm_bindgen(js_name = putRow)]
    pub fn put_row(
        &mut self,
        table: JsValue,
        pk: JsValue,
        columns: JsValue,
        opts: JsValue,
    ) -> JsResult<JsValue> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let pk = to_primary_key(&pk)?;
        self.check_auto_increment(&pk)?;
        let columns = to_columns(&columns, "columns")?;
        let opts = js::options(&opts, CONDITION_KEYS, "putRow options")?;
        let cond = to_condition(js::opt(&opts, "condition")?)?;
        let key = self.db.put_row(&table, pk, columns, cond).js()?;
        self.key_out(&key)
    }

    /// Read a row, or `null`.
    #[wasm_bindgen(js_name = getRow)]
    pub fn get_row(&self, table: JsValue, pk: JsValue, opts: JsValue) -> JsResult<JsValue> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let pk = to_primary_key(&pk)?;
        let opts = js::options(&opts, GET_KEYS, "getRow options")?;
        let options = to_get_options(&opts)?;
        let row: Option<Row> = self.db.get_row(&table, &pk, &options).js()?;
        opt_row_to_js(&row, self.mode)
    }

    /// Change columns of a row (creating it if absent); returns its key.
    #[wasm_bindgen(js_name = updateRow)]
    pub fn update_row(&mut self, table: JsValue, pk: JsValue, opts: JsValue) -> JsResult<JsValue> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let pk = to_primary_key(&pk)?;
        let opts = js::options(&opts, UPDATE_KEYS, "updateRow options")?;
        let (update, cond) = to_update(&opts)?;
        let key = self.db.update_row(&table, pk, update, cond).js()?;
        self.key_out(&key)
    }

    /// Delete a row.
    #[wasm_bindgen(js_name = deleteRow)]
    pub fn delete_row(&mut self, table: JsValue, pk: JsValue, opts: JsValue) -> JsResult<()> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let pk = to_primary_key(&pk)?;
        let opts = js::options(&opts, CONDITION_KEYS, "deleteRow options")?;
        let cond = to_condition(js::opt(&opts, "condition")?)?;
        self.db.delete_row(&table, pk, cond).js()
    }

    /// One page of a range: `{ rows, nextStart }`.
    #[wasm_bindgen(js_name = getRange)]
    pub fn get_range(
        &self,
        table: JsValue,
        start: JsValue,
        end: JsValue,
        opts: JsValue,
    ) -> JsResult<JsValue> {
        guard()?;
        let table = js::string(&table, &"table name")?;
        let schema = self.schema_of(&table)?;
        let start = to_range_bound(&start, &schema, "range start")?;
        let end = to_range_bound(&end, &schema, "range end")?;
        let opts = js::options(&opts, RANGE_KEYS, "getRange options")?;
        let options = to_range_options(&opts)?;
        let page = self.db.get_range(&table, &start, &end, &options).js()?;
        page_to_js(&page, self.mode)
    }

    /// Up to 200 writes; one `{ ok, primaryKey }` / `{ ok: false, error }` per operation.
    #[wasm_bindgen(js_name = batchWrite)]
    pub fn batch_write(&mut self, ops: JsValue) -> JsResult<Array> {
        guard()?;
        let ops = js::array_items(&ops, "batchWrite operations")?
            .iter()
            .map(|o| self.write_op(o))
            .collect::<JsResult<Vec<_>>>()?;
        let results = self.db.batch_write(ops).js()?;
        let out = Array::new_with_length(results.len() as u32);
        for (i, r) in results.into_iter().enumerate() {
            let v = match r {
                Ok(key) => ok_result("primaryKey", &self.key_out(&key)?),
                Err(e) => err_result(core_error(e)),
            };
            out.set(i as u32, v);
        }
        Ok(out)
    }

    /// Up to 100 reads; one `{ ok, row }` / `{ ok: false, error }` per request.
    #[wasm_bindgen(js_name = batchGet)]
    pub fn batch_get(&self, requests: JsValue) -> JsResult<Array> {
        guard()?;
        let reqs = js::array_items(&requests, "batchGet requests")?
            .iter()
            .map(|r| self.get_request(r))
            .collect::<JsResult<Vec<_>>>()?;
        let results = self.db.batch_get(&reqs).js()?;
        let out = Array::new_with_length(results.len() as u32);
        for (i, r) in results.into_iter().enumerate() {
            let v = match r {
                Ok(row) => ok_result("row", &opt_row_to_js(&row, self.mode)?),
                Err(e) => err_result(core_error(e)),
            };
            out.set(i as u32, v);
        }
        Ok(out)
    }
}
