//! The reference: SQLite (one connection, WAL, synchronous=FULL) behind
//! axum on tokio, answering the same put/get JSON as the region server.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::Connection;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

type Db = Arc<Mutex<Connection>>;

fn key(j: &Value) -> Option<i64> {
    j.get("primary_key")?.get("k")?.as_i64()
}

async fn put(State(db): State<Db>, Json(j): Json<Value>) -> Result<Json<Value>, StatusCode> {
    let k = key(&j).ok_or(StatusCode::BAD_REQUEST)?;
    let v = j.get("columns").map(|c| c.to_string()).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let c = db.lock().unwrap();
        c.execute(
            "INSERT OR REPLACE INTO rows (k, v) VALUES (?1, ?2)",
            rusqlite::params![k, v],
        )
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
    })
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)??;
    Ok(Json(json!({"primary_key": {"k": k}})))
}

async fn get(State(db): State<Db>, Json(j): Json<Value>) -> Result<Json<Value>, StatusCode> {
    let k = key(&j).ok_or(StatusCode::BAD_REQUEST)?;
    let v: Option<String> = tokio::task::spawn_blocking(move || {
        let c = db.lock().unwrap();
        c.query_row("SELECT v FROM rows WHERE k = ?1", [k], |r| r.get(0))
            .ok()
    })
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let row = v.map(|v| {
        json!({"primary_key": {"k": k}, "columns": serde_json::from_str::<Value>(&v).unwrap_or(Value::Null)})
    });
    Ok(Json(json!({ "row": row })))
}

/// A running reference server.
pub struct Reference {
    /// Base URL.
    pub url: String,
    _rt: tokio::runtime::Runtime,
}

/// Start the reference on 127.0.0.1 with its database file in `dir`.
pub fn start(dir: &std::path::Path) -> Reference {
    let c = Connection::open(dir.join("reference.sqlite")).expect("open sqlite");
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS rows (k INTEGER PRIMARY KEY, v TEXT);",
    )
    .expect("sqlite schema");
    let db: Db = Arc::new(Mutex::new(c));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/v1/row/put", post(put))
        .route("/v1/row/get", post(get))
        .with_state(db);
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Reference {
        url: format!("http://{addr}"),
        _rt: rt,
    }
}
