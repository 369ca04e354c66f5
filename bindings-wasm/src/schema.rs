//! Table schemas and options between JS and tablesync.
//!
//! `createTable(name, { primaryKey: [["uid", "INTEGER"], ["id", "INTEGER", "AUTO_INCREMENT"]], maxVersions, timeToLive })`.

use crate::error::{invalid, type_error, JsResult};
use crate::js;
use crate::key::auto_increment;
use crate::value::require_integer;
use js_sys::{Array, Object};
use tablesync::{PkColumn, PkType, TableDescription, TableOptions, TableSchema};
use wasm_bindgen::prelude::*;

fn pk_column(v: &JsValue) -> JsResult<PkColumn> {
    let parts = js::array_items(v, "a primaryKey entry")?;
    let (name, ty, extra) = match parts.as_slice() {
        [n, t] => (n, t, None),
        [n, t, x] => (n, t, Some(x)),
        _ => return Err(type_error(
            "a primaryKey entry must be [name, type] or [name, \"INTEGER\", \"AUTO_INCREMENT\"]",
        )),
    };
    let name = js::string(name, &"primary-key column name")?;
    let ty_s = js::string(ty, &format_args!("type of primary-key column '{name}'"))?;
    let pk_type = PkType::parse(&ty_s).ok_or_else(|| {
        invalid(format!(
            "primary-key column '{name}': unknown type {ty_s:?} (INTEGER, STRING or BINARY)"
        ))
    })?;
    let auto = match extra {
        None => false,
        Some(x) if js::is_nullish(x) => false,
        Some(x) if *x == auto_increment() || x.as_string().as_deref() == Some("AUTO_INCREMENT") => {
            true
        }
        Some(_) => {
            return Err(type_error(format!(
                "primary-key column '{name}': the third entry may only be \"AUTO_INCREMENT\""
            )))
        }
    };
    Ok(PkColumn {
        name,
        pk_type,
        auto_increment: auto,
    })
}

/// Table options from `{ maxVersions, timeToLive }`, defaulting to `base`.
pub fn to_table_options(opts: &Option<JsValue>, base: TableOptions) -> JsResult<TableOptions> {
    let mut out = base;
    if let Some(v) = js::opt(opts, "maxVersions")? {
        let n = require_integer(&v, &"maxVersions")?;
        out.max_versions = u32::try_from(n).map_err(|_| {
            invalid(format!(
                "maxVersions must be between 1 and 2147483647, got {n}"
            ))
        })?;
    }
    if let Some(v) = js::opt(opts, "timeToLive")? {
        out.time_to_live = require_integer(&v, &"timeToLive")?;
    }
    Ok(out)
}

/// The schema `createTable(name, opts)` describes.
pub fn to_schema(name: &JsValue, opts: &JsValue) -> JsResult<TableSchema> {
    let name = js::string(name, &"table name")?;
    let opts = js::options(
        opts,
        &["primaryKey", "maxVersions", "timeToLive"],
        "createTable options",
    )?
    .ok_or_else(|| type_error("createTable needs options with a primaryKey"))?;
    let pk = js::get(&opts, "primaryKey")?;
    if js::is_nullish(&pk) {
        return Err(type_error("createTable: option 'primaryKey' is required"));
    }
    let primary_key = js::array_items(&pk, "primaryKey")?
        .iter()
        .map(pk_column)
        .collect::<JsResult<Vec<_>>>()?;
    let options = to_table_options(&Some(opts), TableOptions::default())?;
    Ok(TableSchema {
        name,
        primary_key,
        options,
    })
}

/// `describeTable` output: `{ name, primaryKey, maxVersions, timeToLive, rowCount }`.
pub fn description_to_js(d: &TableDescription) -> JsValue {
    let obj = Object::new();
    js::set(&obj, "name", &JsValue::from_str(&d.schema.name));
    let pk = Array::new();
    for c in &d.schema.primary_key {
        let entry = Array::new();
        entry.push(&JsValue::from_str(&c.name));
        entry.push(&JsValue::from_str(c.pk_type.name()));
        if c.auto_increment {
            entry.push(&JsValue::from_str("AUTO_INCREMENT"));
        }
        pk.push(&entry);
    }
    js::set(&obj, "primaryKey", &pk);
    js::set(
        &obj,
        "maxVersions",
        &JsValue::from_f64(d.schema.options.max_versions as f64),
    );
    js::set(
        &obj,
        "timeToLive",
        &JsValue::from_f64(d.schema.options.time_to_live as f64),
    );
    js::set(&obj, "rowCount", &JsValue::from_f64(d.row_count as f64));
    obj.into()
}
