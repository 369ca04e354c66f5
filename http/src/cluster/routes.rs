//! `POST /v1/cluster/msg` (a `TSCX` frame in, a `TSCX` frame out) and
//! `GET /v1/cluster/status` (JSON).

use super::node::{ClusterNode, NodeError};
use super::peer::{CLUSTER_MSG_PATH, CLUSTER_STATUS_PATH};
use crate::config::Access;
use crate::routes::{blocking, error, read_body, refused, require_write, status_of, AppState};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value as J};
use std::sync::Arc;
use tablesync::cluster::wire::{decode_one, encode_messages, ClusterMsg};
use tablesync::cluster::Placement;

/// The cluster routes (merged into the server's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(CLUSTER_MSG_PATH, post(msg))
        .route(CLUSTER_STATUS_PATH, get(status))
}

fn node(app: &AppState) -> Option<Arc<ClusterNode>> {
    app.cluster.clone()
}

fn disabled() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ClusterDisabled",
        "this region was started without a cluster directory",
    )
}

fn node_error(e: NodeError) -> Response {
    match e {
        NodeError::Db(e) => {
            let status = if matches!(e, tablesync::Error::StaleClusterMap { .. }) {
                StatusCode::CONFLICT
            } else {
                status_of(&e)
            };
            error(status, e.code(), &e.message())
        }
        NodeError::MapBehind(epoch) => error(
            StatusCode::CONFLICT,
            "ClusterMapBehind",
            &format!("this region's map has epoch {epoch}: push the newer map and retry"),
        ),
        NodeError::NotHome(home) => error(
            StatusCode::CONFLICT,
            "NotHome",
            &format!("this region is not the key's home ({home} is): refresh the map"),
        ),
        NodeError::Refused(r) => refused(r),
        NodeError::InProgress => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "TxnInProgress",
            "the transaction is not decided yet: retry with the same id",
        ),
        NodeError::CatchingUp(why) => error(StatusCode::SERVICE_UNAVAILABLE, "CatchingUp", &why),
        NodeError::RowLocked => error(
            StatusCode::CONFLICT,
            "RowLocked",
            "the row is locked by a transaction in progress: retry shortly",
        ),
    }
}

fn reads_only(m: &ClusterMsg) -> bool {
    matches!(
        m,
        ClusterMsg::MapGet | ClusterMsg::Get { .. } | ClusterMsg::Range { .. }
    )
}

async fn msg(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    body: Body,
) -> Response {
    let Some(node) = node(&app) else {
        return disabled();
    };
    let bytes = match read_body(&app, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let m = match decode_one(&bytes) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code(), &e.message()),
    };
    if !reads_only(&m) {
        if let Some(r) = require_write(access, &app) {
            return r;
        }
    }
    let r = blocking(move || Ok(node.handle(m))).await;
    match r {
        Ok(Ok(replies)) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            encode_messages(&replies),
        )
            .into_response(),
        Ok(Err(e)) => node_error(e),
        Err(resp) => resp,
    }
}

/// This region's view: map epoch, forwarding lag per replica region,
/// 2PC state, and digests of the partitions it holds.
async fn status(State(app): State<AppState>) -> Response {
    let Some(node) = node(&app) else {
        return disabled();
    };
    let region = app.region.clone();
    let r = blocking(move || {
        let map = node.map();
        let mut digests = Vec::new();
        if let Some(map) = &map {
            for t in &map.tables {
                let mut parts: Vec<(u32, Vec<u8>, Vec<u8>)> = Vec::new();
                match &t.placement {
                    Placement::Range { partitions } => {
                        for (i, p) in partitions.iter().enumerate() {
                            let end = partitions
                                .get(i + 1)
                                .map(|n| n.start.clone())
                                .unwrap_or_default();
                            parts.push((p.id, p.start.clone(), end));
                        }
                    }
                    Placement::Hash { buckets } => {
                        // One digest per bucket this region holds (empty
                        // ones too, so every replica reports it).
                        let accs = region.read("read:cluster-status", |db| {
                            db.partition_accumulators(map, &t.table)
                        });
                        if let Ok(accs) = accs {
                            for id in 0..*buckets {
                                let holds = map
                                    .route_partition(&t.table, id)
                                    .map(|r| r.replicas.iter().any(|x| x.region == node.name()))
                                    .unwrap_or(false);
                                if holds {
                                    let a = accs.get(&id).copied().unwrap_or_default();
                                    digests.push(json!({
                                        "table": t.table, "partition": id, "placement": "hash",
                                        "rows": a.count, "digest": a.digest().to_hex(),
                                    }));
                                }
                            }
                        }
                    }
                }
                for (id, start, end) in parts {
                    let holds = id == u32::MAX
                        || map
                            .route_partition(&t.table, id)
                            .map(|r| r.replicas.iter().any(|x| x.region == node.name()))
                            .unwrap_or(false);
                    if !holds {
                        continue;
                    }
                    let acc = region.read("read:cluster-status", |db| {
                        if id == u32::MAX {
                            let d = db.table_digest(&t.table)?;
                            let rows = db.describe_table(&t.table)?.row_count;
                            Ok((rows, d))
                        } else {
                            let end = if end.is_empty() { vec![0xff; 1] } else { end };
                            let a = db.range_accumulator_encoded(&t.table, &start, &end)?;
                            Ok((a.count, a.digest()))
                        }
                    });
                    if let Ok((rows, d)) = acc {
                        let partition = if id == u32::MAX { J::Null } else { json!(id) };
                        digests.push(json!({
                            "table": t.table, "partition": partition,
                            "rows": rows, "digest": d.to_hex(),
                        }));
                    }
                }
            }
        }
        let dc_of = |r: &str| {
            map.as_ref()
                .and_then(|m| m.datacenter_of_region(r))
                .map(|d| d.name.clone())
        };
        let lag: serde_json::Map<String, J> = node
            .forward_lag()
            .into_iter()
            .map(|(r, (q, s, d))| {
                let dc = dc_of(&r);
                (
                    r,
                    json!({"datacenter": dc, "queued": q, "sent": s, "dropped": d}),
                )
            })
            .collect();
        let handled: serde_json::Map<String, J> = node
            .handled()
            .into_iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect();
        let (in_doubt, running, unfinished) = node.txn_status();
        Ok(json!({
            "region": node.name(),
            "epoch": map.as_ref().map(|m| m.epoch),
            "forward": lag,
            "requests": handled,
            "txn": {"in_doubt": in_doubt, "running": running, "unacknowledged": unfinished},
            "digests": digests,
        }))
    })
    .await;
    match r {
        Ok(j) => Json(j).into_response(),
        Err(resp) => resp,
    }
}
