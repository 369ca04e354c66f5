//! The row API, executed at the region: each write's condition is checked
//! and the write applied under one write lock, so two racing clients
//! cannot both pass an `EXPECT_NOT_EXIST`.

use super::{blocking, error, read_body, require_write, AppState};
use crate::config::Access;
use crate::json::{of_bound, of_pk, of_row, to_bound, to_column_condition, to_pk, to_value};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value as J};
use tablesync::{
    Column, Condition, Database, Direction, Error, GetOptions, RangeOptions, RegionRead, Result,
    RowExistence, RowUpdate, TableSchema, WriteOp,
};

/// Most operations one batch may carry (the database's own cap).
const MAX_BATCH: usize = 200;

async fn parse(app: &AppState, body: Body) -> std::result::Result<J, Response> {
    let bytes = read_body(app, body).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "OTSParameterInvalid",
            &format!("the body is not JSON: {e}"),
        )
    })
}

fn field<'a>(j: &'a J, name: &str) -> Result<&'a J> {
    j.get(name)
        .ok_or_else(|| Error::invalid(format!("missing field '{name}'")))
}

fn text<'a>(j: &'a J, name: &str) -> Result<&'a str> {
    field(j, name)?
        .as_str()
        .ok_or_else(|| Error::invalid(format!("field '{name}' must be a string")))
}

fn schema(db: &(impl RegionRead + ?Sized), j: &J) -> Result<TableSchema> {
    Ok(db.describe_table(text(j, "table")?)?.schema)
}

/// A write condition: `"IGNORE"|"EXPECT_EXIST"|"EXPECT_NOT_EXIST"`, or
/// `{"row": EXPECTATION, "column": COLUMN_CONDITION}`.
fn condition(j: &J) -> Result<Condition> {
    let Some(c) = j.get("condition") else {
        return Ok(Condition::ignore());
    };
    let (row, column) = match c {
        J::String(s) => (s.as_str(), None),
        J::Object(o) => (
            o.get("row").and_then(J::as_str).unwrap_or("IGNORE"),
            o.get("column"),
        ),
        _ => {
            return Err(Error::invalid(
                "condition must be a row expectation or {\"row\", \"column\"}",
            ))
        }
    };
    let row_existence = RowExistence::parse(row)
        .ok_or_else(|| Error::invalid(format!("unknown row expectation {row:?}")))?;
    Ok(Condition {
        row_existence,
        column_condition: column.map(to_column_condition).transpose()?,
    })
}

/// Columns to put: `{"name": value}`, or `[[name, value], [name, value, timestamp]]`.
fn columns(j: Option<&J>) -> Result<Vec<Column>> {
    let Some(j) = j else { return Ok(Vec::new()) };
    if let Some(list) = j.as_array() {
        return list
            .iter()
            .map(|c| {
                let parts = c.as_array().filter(|p| p.len() == 2 || p.len() == 3);
                let parts = parts.ok_or_else(|| {
                    Error::invalid("a column is [name, value] or [name, value, timestamp]")
                })?;
                let name = parts[0]
                    .as_str()
                    .ok_or_else(|| Error::invalid("column names are strings"))?;
                let mut col = Column::new(name, to_value(&parts[1])?);
                if let Some(ts) = parts.get(2).filter(|t| !t.is_null()) {
                    col.timestamp = Some(
                        ts.as_i64()
                            .ok_or_else(|| Error::invalid("timestamps are integers"))?,
                    );
                }
                Ok(col)
            })
            .collect();
    }
    let o = j
        .as_object()
        .ok_or_else(|| Error::invalid("columns must be a JSON object or list"))?;
    o.iter()
        .map(|(n, v)| Ok(Column::new(n.clone(), to_value(v)?)))
        .collect()
}

/// Single versions to delete: `[[name, timestamp], ...]`.
fn versions(j: Option<&J>) -> Result<Vec<(String, i64)>> {
    let Some(j) = j else { return Ok(Vec::new()) };
    j.as_array()
        .ok_or_else(|| Error::invalid("delete must be a list of [name, timestamp]"))?
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([J::String(n), t]) => t
                .as_i64()
                .map(|t| (n.clone(), t))
                .ok_or_else(|| Error::invalid("timestamps are integers")),
            _ => Err(Error::invalid("delete items are [name, timestamp]")),
        })
        .collect()
}

fn names(j: Option<&J>) -> Result<Vec<String>> {
    let Some(j) = j else { return Ok(Vec::new()) };
    j.as_array()
        .ok_or_else(|| Error::invalid("delete_all must be a list of column names"))?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::invalid("column names are strings"))
        })
        .collect()
}

/// Increments: `{"name": delta}` or `[[name, delta], ...]`.
fn increments(j: Option<&J>) -> Result<Vec<(String, i64)>> {
    let Some(j) = j else { return Ok(Vec::new()) };
    if let Some(list) = j.as_array() {
        return list
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([J::String(n), d]) => d
                    .as_i64()
                    .map(|d| (n.clone(), d))
                    .ok_or_else(|| Error::invalid("increments are integers")),
                _ => Err(Error::invalid("increment items are [name, delta]")),
            })
            .collect();
    }
    let o: &Map<String, J> = j
        .as_object()
        .ok_or_else(|| Error::invalid("increment must be an object of integers"))?;
    o.iter()
        .map(|(n, v)| {
            v.as_i64()
                .map(|i| (n.clone(), i))
                .ok_or_else(|| Error::invalid("increments are integers"))
        })
        .collect()
}

/// A write operation from JSON; `op` is `put`, `update` or `delete`.
fn write_op(db: &Database, op: &str, j: &J) -> Result<WriteOp> {
    let s = schema(db, j)?;
    let table = s.name.clone();
    let primary_key = to_pk(&s, field(j, "primary_key")?)?;
    let condition = condition(j)?;
    Ok(match op {
        "put" => WriteOp::Put {
            table,
            primary_key,
            columns: columns(j.get("columns"))?,
            condition,
        },
        "update" => {
            let mut update = RowUpdate::new();
            update.put = columns(j.get("put"))?;
            update.delete = versions(j.get("delete"))?;
            update.delete_all = names(j.get("delete_all"))?;
            update.increment = increments(j.get("increment"))?;
            WriteOp::Update {
                table,
                primary_key,
                update,
                condition,
            }
        }
        "delete" => WriteOp::Delete {
            table,
            primary_key,
            condition,
        },
        other => return Err(Error::invalid(format!("unknown op {other:?}"))),
    })
}

async fn one_write(app: AppState, access: Access, body: Body, op: &'static str) -> Response {
    if let Some(r) = require_write(access, &app) {
        return r;
    }
    let j = match parse(&app, body).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let region = app.region.clone();
    let r = blocking(move || {
        region.write(op, |db| {
            let w = write_op(db, op, &j)?;
            db.write(w)
        })
    })
    .await;
    match r {
        Ok(pk) => {
            app.metrics.commits.inc();
            Json(json!({"primary_key": of_pk(&pk)})).into_response()
        }
        Err(r) => r,
    }
}

/// `POST /v1/row/put` `{"table", "primary_key", "columns", "condition"}`.
pub async fn put_row(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    one_write(app, access, body, "put").await
}

/// `POST /v1/row/update` `{"table", "primary_key", "put", "delete_all", "increment", "condition"}`.
pub async fn update_row(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    one_write(app, access, body, "update").await
}

/// `POST /v1/row/delete` `{"table", "primary_key", "condition"}`.
pub async fn delete_row(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    one_write(app, access, body, "delete").await
}

/// `POST /v1/row/get` `{"table", "primary_key"}` → `{"row": ROW | null}`.
pub async fn get_row(State(app): State<AppState>, body: Body) -> Response {
    let j = match parse(&app, body).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let region = app.region.clone();
    let r = blocking(move || {
        region.read_view("read:get", |db| {
            let s = schema(db, &j)?;
            let pk = to_pk(&s, field(&j, "primary_key")?)?;
            db.get_row(&s.name, &pk, &GetOptions::default())
        })
    })
    .await;
    match r {
        Ok(row) => Json(json!({"row": row.as_ref().map(of_row)})).into_response(),
        Err(r) => r,
    }
}

/// `POST /v1/row/range` `{"table", "start", "end", "limit", "backward"}` →
/// `{"rows": [...], "next_start": BOUND | null}`.
pub async fn range(State(app): State<AppState>, body: Body) -> Response {
    let j = match parse(&app, body).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let region = app.region.clone();
    let r = blocking(move || {
        region.read_view("read:range", |db| {
            let s = schema(db, &j)?;
            let start = to_bound(&s, field(&j, "start")?)?;
            let end = to_bound(&s, field(&j, "end")?)?;
            let opts = RangeOptions {
                direction: if j.get("backward") == Some(&J::Bool(true)) {
                    Direction::Backward
                } else {
                    Direction::Forward
                },
                limit: j.get("limit").and_then(J::as_u64).map(|n| n as usize),
                ..RangeOptions::default()
            };
            db.get_range(&s.name, &start, &end, &opts)
        })
    })
    .await;
    match r {
        Ok(page) => Json(json!({
            "rows": page.rows.iter().map(of_row).collect::<Vec<_>>(),
            "next_start": page.next_start.as_ref().map(of_bound),
        }))
        .into_response(),
        Err(r) => r,
    }
}

/// `POST /v1/row/batch` `{"ops": [{"op": "put"|"update"|"delete", ...}]}` →
/// `{"results": [{"primary_key"} | {"code", "message"}]}`; every operation is
/// checked and applied under one write lock, committed together.
pub async fn batch(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    if let Some(r) = require_write(access, &app) {
        return r;
    }
    let j = match parse(&app, body).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let region = app.region.clone();
    let r = blocking(move || {
        region.write("batch", |db| {
            let ops = field(&j, "ops")?
                .as_array()
                .ok_or_else(|| Error::invalid("ops must be a list"))?;
            if ops.len() > MAX_BATCH {
                return Err(Error::invalid(format!(
                    "a batch holds at most {MAX_BATCH} operations"
                )));
            }
            let ops = ops
                .iter()
                .map(|o| write_op(db, text(o, "op")?, o))
                .collect::<Result<Vec<_>>>()?;
            db.batch_write(ops)
        })
    })
    .await;
    match r {
        Ok(results) => {
            let n = results.iter().filter(|r| r.is_ok()).count();
            app.metrics.commits.inc_by(n as u64);
            let out: Vec<J> = results
                .iter()
                .map(|r| match r {
                    Ok(pk) => json!({"primary_key": of_pk(pk)}),
                    Err(e) => json!({"code": e.code(), "message": e.message()}),
                })
                .collect();
            Json(json!({ "results": out })).into_response()
        }
        Err(r) => r,
    }
}
