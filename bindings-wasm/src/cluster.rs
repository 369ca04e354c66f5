//! `RawCluster` (the package's JS layer drives it as `Cluster`, see
//! `js/cluster.mjs`): the core's sans-IO cluster client — routing by the
//! map, write modes, the read balancer, semi-sync state — plus the `TSCX`
//! message bodies the JS layer POSTs to `/v1/cluster/msg` and the decoding
//! of their answers. The JS layer passes the time and does the fetches;
//! this only converts and keeps state.

use crate::condition::to_condition;
use crate::error::{core_error, invalid, type_error, IntoJs, JsResult};
use crate::js;
use crate::key::{to_pk_value, to_primary_key};
use crate::options::{to_columns, to_update, UPDATE_KEYS};
use crate::panic::guard;
use crate::row::{opt_row_to_js, row_to_js};
use crate::value::IntegerMode;
use js_sys::{Array, Object, Uint8Array};
use std::collections::BTreeMap;
use tablesync::cluster::balance::BalancerConfig;
use tablesync::cluster::client::{ClusterClient, Send, WriteEvent};
use tablesync::cluster::record_row;
use tablesync::cluster::txn::{Outcome, TxnId};
use tablesync::cluster::wire::{
    decode_messages, encode_messages, put_row_write, read_row_write, ClusterMsg, RowWrite,
};
use tablesync::cluster::{ClusterMap, ReadLevel, Replica, WriteMode};
use tablesync::codec::buf::Reader;
use tablesync::codec::key::encode_key_values;
use tablesync::{ChangeKind, ChangeRecord, ColumnOp, Error, PkValue, PrimaryKey, RowExistence};
use wasm_bindgen::prelude::*;

/// The newest cell timestamp of a record (`i64::MIN` for none).
fn newest(rec: &Option<ChangeRecord>) -> i64 {
    rec.as_ref()
        .and_then(|r| {
            r.columns
                .iter()
                .filter_map(|c| match c {
                    ColumnOp::Put { timestamp, .. } => Some(*timestamp),
                    _ => None,
                })
                .max()
        })
        .unwrap_or(i64::MIN)
}

fn key_of(pk: &PrimaryKey) -> Vec<u8> {
    encode_key_values(pk.0.iter().map(|(_, v)| v))
}

fn bytes_out(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// `{ datacenter, region, endpoint }`.
pub fn replica_to_js(r: &Replica) -> JsValue {
    let o = Object::new();
    js::set(&o, "datacenter", &JsValue::from_str(&r.datacenter));
    js::set(&o, "region", &JsValue::from_str(&r.region));
    js::set(&o, "endpoint", &JsValue::from_str(&r.endpoint));
    o.into()
}

/// The inverse of [`replica_to_js`].
pub fn replica_from_js(v: &JsValue) -> JsResult<Replica> {
    Ok(Replica {
        datacenter: js::string(&js::get(v, "datacenter")?, &"replica 'datacenter'")?,
        region: js::string(&js::get(v, "region")?, &"replica 'region'")?,
        endpoint: js::string(&js::get(v, "endpoint")?, &"replica 'endpoint'")?,
    })
}

/// The one message of an answer.
pub fn one_message(reply: &[u8]) -> JsResult<ClusterMsg> {
    let mut msgs = decode_messages(reply).js()?;
    match (msgs.pop(), msgs.is_empty()) {
        (Some(m), true) => Ok(m),
        _ => Err(core_error(Error::Sync(
            "a cluster answer must hold exactly one message".into(),
        ))),
    }
}

fn unexpected(what: &str, m: &ClusterMsg) -> JsValue {
    core_error(Error::Sync(format!(
        "unexpected answer to {what}: {}",
        m.kind_name()
    )))
}

/// A range bound: nullish (unbounded), a `Uint8Array` (an encoded key, as
/// `nextStart` gives it), an array of leading key values, or an object of
/// leading key columns (in key order).
pub fn range_bound(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    if js::is_nullish(v) {
        return Ok(Vec::new());
    }
    if let Some(b) = js::as_bytes(v) {
        return Ok(b);
    }
    let values: Vec<PkValue> = if js::is_array(v) {
        js::array_items(v, what)?
            .iter()
            .enumerate()
            .map(|(i, x)| to_pk_value(x, &format_args!("{what} entry {i}")))
            .collect::<JsResult<_>>()?
    } else if js::is_object(v) {
        js::object_entries(v, what)?
            .iter()
            .map(|(k, x)| to_pk_value(x, &format_args!("{what} column '{k}'")))
            .collect::<JsResult<_>>()?
    } else {
        return Err(type_error(format!(
            "{what} must be null, a Uint8Array, an array of key values or a key object, got {}",
            js::type_name(v)
        )));
    };
    Ok(encode_key_values(values.iter()))
}

/// Row-existence only: a cluster write refuses column conditions.
fn existence(v: Option<JsValue>, what: &str) -> JsResult<RowExistence> {
    let c = to_condition(v)?;
    if c.column_condition.is_some() {
        return Err(invalid(format!(
            "{what}: cluster writes take a row-existence condition only (no column condition)"
        )));
    }
    Ok(c.row_existence)
}

/// Build one row write from `{ type, table, primaryKey, … }` with column
/// timestamps `now_ms` where none is given (so every replica stores the
/// same versions).
fn row_write(op: &JsValue, now_ms: i64) -> JsResult<RowWrite> {
    if !js::is_object(op) || js::is_array(op) {
        return Err(type_error(format!(
            "a cluster write must be an object, got {}",
            js::type_name(op)
        )));
    }
    let ty = js::string(&js::get(op, "type")?, &"write 'type'")?;
    let table = js::string(&js::get(op, "table")?, &"write 'table'")?;
    let pk = to_primary_key(&js::get(op, "primaryKey")?)?;
    if pk.0.iter().any(|(_, v)| *v == PkValue::AutoIncrement) {
        return Err(invalid(
            "cluster writes cannot assign auto-increment keys (no single region orders them)",
        ));
    }
    let opt = Some(op.clone());
    let stamp = |c: tablesync::Column| ColumnOp::Put {
        name: c.name,
        value: c.value,
        timestamp: c.timestamp.unwrap_or(now_ms),
    };
    match ty.to_ascii_uppercase().as_str() {
        "PUT" => {
            js::check_keys(
                op,
                &["type", "table", "primaryKey", "columns", "condition"],
                "a cluster put",
            )?;
            let cols = to_columns(&js::get(op, "columns")?, "columns")?;
            let cond = existence(js::opt(&opt, "condition")?, "a cluster put")?;
            Ok(RowWrite::new(
                cond,
                table,
                ChangeKind::Put,
                pk,
                cols.into_iter().map(stamp).collect(),
            ))
        }
        "UPDATE" => {
            let mut allowed = vec!["type", "table", "primaryKey"];
            allowed.extend_from_slice(UPDATE_KEYS);
            js::check_keys(op, &allowed, "a cluster update")?;
            let (update, cond) = to_update(&opt)?;
            if cond.column_condition.is_some() {
                return Err(invalid(
                    "a cluster update takes a row-existence condition only (no column condition)",
                ));
            }
            RowWrite::update(&table, pk, update, cond.row_existence, now_ms).js()
        }
        "DELETE" => {
            js::check_keys(
                op,
                &["type", "table", "primaryKey", "condition"],
                "a cluster delete",
            )?;
            let cond = existence(js::opt(&opt, "condition")?, "a cluster delete")?;
            Ok(RowWrite::new(
                cond,
                table,
                ChangeKind::Delete,
                pk,
                Vec::new(),
            ))
        }
        _ => Err(invalid(format!(
            "cluster write type {ty:?} (put, update or delete)"
        ))),
    }
}

fn write_from_bytes(b: &[u8]) -> JsResult<RowWrite> {
    let mut r = Reader::new(b, "a cluster row write");
    let w = read_row_write(&mut r).js()?;
    r.finish().js()?;
    Ok(w)
}

/// A write in flight: what its forwards and probe need.
struct InFlight {
    table: String,
    key: Vec<u8>,
    records: Vec<ChangeRecord>,
}

/// The sans-IO client of a tablesync cluster (see the module docs).
#[wasm_bindgen]
pub struct RawCluster {
    core: ClusterClient,
    mode: IntegerMode,
    local: String,
    writes: BTreeMap<u64, InFlight>,
}

fn ms(now: f64) -> i64 {
    if now.is_finite() {
        now as i64
    } else {
        0
    }
}

impl RawCluster {
    fn event_to_js(&mut self, e: WriteEvent, now: i64) -> JsValue {
        let o = Object::new();
        let kind = |k: &str| JsValue::from_str(k);
        match e {
            WriteEvent::Acked { request, degraded } => {
                js::set(&o, "kind", &kind("acked"));
                js::set(&o, "request", &JsValue::from_f64(request as f64));
                js::set(&o, "degraded", &JsValue::from_bool(degraded));
                let w = self.writes.remove(&request);
                let mut probe = JsValue::NULL;
                if let Some(w) = w {
                    let table_degraded = self
                        .core
                        .semi_sync(&w.table)
                        .is_some_and(|s| s.is_degraded());
                    if degraded || table_degraded {
                        probe = self.probe_for(&w).unwrap_or(JsValue::NULL);
                    }
                    js::set(&o, "table", &JsValue::from_str(&w.table));
                }
                js::set(&o, "probe", &probe);
                let _ = now;
            }
            WriteEvent::Forward(sends) => {
                js::set(&o, "kind", &kind("forward"));
                let request = sends.first().map(|s| s.request).unwrap_or(0);
                js::set(&o, "request", &JsValue::from_f64(request as f64));
                let out = Array::new();
                for s in sends {
                    out.push(&self.forward_send(&s));
                }
                js::set(&o, "sends", &out);
            }
            WriteEvent::Failed { request, error } => {
                self.writes.remove(&request);
                js::set(&o, "kind", &kind("failed"));
                js::set(&o, "request", &JsValue::from_f64(request as f64));
                js::set(&o, "error", &core_error(error));
            }
            WriteEvent::RefreshMap { request } => {
                self.writes.remove(&request);
                js::set(&o, "kind", &kind("refresh"));
                js::set(&o, "request", &JsValue::from_f64(request as f64));
            }
        }
        o.into()
    }

    fn forward_send(&self, s: &Send) -> JsValue {
        let records = self
            .writes
            .get(&s.request)
            .map(|w| w.records.clone())
            .unwrap_or_default();
        let o = Object::new();
        js::set(&o, "replica", &replica_to_js(&s.replica));
        js::set(
            &o,
            "body",
            &bytes_out(&encode_messages(&[ClusterMsg::Apply {
                epoch: s.epoch,
                records,
            }])),
        );
        o.into()
    }

    /// After a degraded write: its records for one replica in another
    /// datacenter; an answer lets semi-sync return to normal.
    fn probe_for(&self, w: &InFlight) -> Option<JsValue> {
        let route = self.core.map().route_key(&w.table, &w.key).ok()?;
        let home_dc = route.home().datacenter.clone();
        let target = route.replicas.iter().find(|r| r.datacenter != home_dc)?;
        let o = Object::new();
        js::set(&o, "replica", &replica_to_js(target));
        js::set(
            &o,
            "body",
            &bytes_out(&encode_messages(&[ClusterMsg::Apply {
                epoch: route.epoch,
                records: w.records.clone(),
            }])),
        );
        Some(o.into())
    }

    fn events(&mut self, evs: Vec<WriteEvent>, now: i64) -> Array {
        let out = Array::new();
        for e in evs {
            out.push(&self.event_to_js(e, now));
        }
        out
    }
}

#[wasm_bindgen]
impl RawCluster {
    /// A client with the map `map` (a `TSCM` frame) in datacenter `localDc`
    /// (empty: the map's first); `seed` drives the balancer's choices;
    /// `integers` is `"number"` (default) or `"bigint"`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        map: &[u8],
        local_dc: String,
        seed: f64,
        write_timeout_ms: f64,
        integers: Option<JsValue>,
    ) -> JsResult<RawCluster> {
        guard()?;
        let map = ClusterMap::from_bytes(map).js()?;
        map.validate().js()?;
        if !(write_timeout_ms.is_finite() && write_timeout_ms >= 1.0) {
            return Err(invalid(
                "writeTimeoutMs must be a positive number of milliseconds",
            ));
        }
        let local = if local_dc.is_empty() {
            map.datacenters
                .first()
                .map(|d| d.name.clone())
                .unwrap_or_default()
        } else {
            local_dc
        };
        let seed = if seed.is_finite() { seed as u64 } else { 7 };
        let mut core = ClusterClient::new(map, local.clone(), BalancerConfig::default(), seed);
        core.write_timeout_ms = Some(write_timeout_ms as i64);
        Ok(RawCluster {
            core,
            mode: IntegerMode::parse(integers)?,
            local,
            writes: BTreeMap::new(),
        })
    }

    /// The body of a map request (`MapGet`).
    #[wasm_bindgen(js_name = mapGetBody)]
    pub fn map_get_body() -> Uint8Array {
        Uint8Array::from(&encode_messages(&[ClusterMsg::MapGet])[..])
    }

    /// The map (`TSCM` bytes) in a region's answer to `mapGetBody()`.
    #[wasm_bindgen(js_name = mapFromReply)]
    pub fn map_from_reply(reply: &[u8]) -> JsResult<Uint8Array> {
        guard()?;
        match one_message(reply)? {
            ClusterMsg::Map(m) => Ok(Uint8Array::from(&m.to_bytes()[..])),
            other => Err(unexpected("a map request", &other)),
        }
    }

    /// The epoch of the map the client routes by.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> f64 {
        self.core.map().epoch as f64
    }

    /// The client's datacenter.
    #[wasm_bindgen(getter, js_name = localDc)]
    pub fn local_dc(&self) -> String {
        self.local.clone()
    }

    /// The map's bytes (`TSCM`).
    #[wasm_bindgen(js_name = mapBytes)]
    pub fn map_bytes(&self) -> Uint8Array {
        Uint8Array::from(&self.core.map().to_bytes()[..])
    }

    /// The body pushing this client's map to a region.
    #[wasm_bindgen(js_name = mapPushBody)]
    pub fn map_push_body(&self) -> Uint8Array {
        Uint8Array::from(&encode_messages(&[ClusterMsg::Map(self.core.map().clone())])[..])
    }

    /// Adopt the map `bytes` if newer; returns whether it was.
    #[wasm_bindgen(js_name = setMap)]
    pub fn set_map(&mut self, bytes: &[u8]) -> JsResult<bool> {
        guard()?;
        let m = ClusterMap::from_bytes(bytes).js()?;
        m.validate().js()?;
        Ok(self.core.set_map(m))
    }

    /// Every region of the map as `{ datacenter, region, endpoint }`.
    pub fn regions(&self) -> Array {
        let out = Array::new();
        for d in &self.core.map().datacenters {
            for r in &d.regions {
                out.push(&replica_to_js(&Replica {
                    datacenter: d.name.clone(),
                    region: r.name.clone(),
                    endpoint: r.endpoint.clone(),
                }));
            }
        }
        out
    }

    /// Names of the map's datacenters, in map order.
    pub fn datacenters(&self) -> Array {
        self.core
            .map()
            .datacenters
            .iter()
            .map(|d| JsValue::from_str(&d.name))
            .collect()
    }

    /// Whether semi-sync writes to `table` are degraded to async.
    #[wasm_bindgen(js_name = isDegraded)]
    pub fn is_degraded(&self, table: &str) -> bool {
        self.core.semi_sync(table).is_some_and(|s| s.is_degraded())
    }

    /// Reads sent per datacenter: `{ name: count }`.
    #[wasm_bindgen(js_name = requestsPerDatacenter)]
    pub fn requests_per_datacenter(&self) -> JsValue {
        let o = Object::new();
        for (k, v) in self.core.balancer().requests_per_datacenter() {
            js::set_dynamic(&o, &k, &JsValue::from_f64(v as f64));
        }
        o.into()
    }

    /// A write `{ type: "put" | "update" | "delete", table, primaryKey,
    /// columns | put, delete, deleteAll, condition }` as bytes (keep them:
    /// retries resend the same write with the same timestamps).
    #[wasm_bindgen(js_name = encodeWrite)]
    pub fn encode_write(op: JsValue, now_ms: f64) -> JsResult<Uint8Array> {
        guard()?;
        let w = row_write(&op, ms(now_ms))?;
        let mut out = Vec::new();
        put_row_write(&mut out, &w);
        Ok(Uint8Array::from(&out[..]))
    }

    /// Start a write (bytes of `encodeWrite`) with `mode` (`null`: the
    /// table's): `{ request, replica, body }` to POST to the home.
    #[wasm_bindgen(js_name = beginWrite)]
    pub fn begin_write(
        &mut self,
        write: &[u8],
        mode: Option<String>,
        now_ms: f64,
    ) -> JsResult<JsValue> {
        guard()?;
        let w = write_from_bytes(write)?;
        let mode = mode.as_deref().map(WriteMode::parse_arg).transpose().js()?;
        let key = w.encoded_key();
        let (request, send) = self
            .core
            .begin_write(&w.table, &key, mode, ms(now_ms))
            .js()?;
        let body = encode_messages(&[ClusterMsg::Write {
            epoch: send.epoch,
            write: w.clone(),
        }]);
        self.writes.insert(
            request,
            InFlight {
                table: w.table,
                key,
                records: Vec::new(),
            },
        );
        let o = Object::new();
        js::set(&o, "request", &JsValue::from_f64(request as f64));
        js::set(&o, "replica", &replica_to_js(&send.replica));
        js::set(&o, "body", &bytes_out(&body));
        Ok(o.into())
    }

    /// The home answered write `request`: `reply` (its bytes) on success,
    /// else `null` and the error `code` (`""` for no answer). Returns the
    /// events: `{ kind: "forward", sends: [{ replica, body }] }`,
    /// `{ kind: "acked", degraded, probe }`, `{ kind: "failed", error }`,
    /// `{ kind: "refresh" }` (each with its `request`).
    #[wasm_bindgen(js_name = onHomeReply)]
    pub fn on_home_reply(
        &mut self,
        request: f64,
        region: &str,
        reply: Option<Vec<u8>>,
        code: &str,
        now_ms: f64,
    ) -> JsResult<Array> {
        guard()?;
        let request = request as u64;
        let now = ms(now_ms);
        let result = match reply {
            Some(bytes) => match one_message(&bytes) {
                Ok(ClusterMsg::Written { records }) => {
                    if let Some(w) = self.writes.get_mut(&request) {
                        w.records = records;
                    }
                    Ok(())
                }
                Ok(other) => Err(Error::Sync(format!(
                    "unexpected answer to a write: {}",
                    other.kind_name()
                ))),
                Err(_) => Err(Error::Sync("an undecodable answer to a write".into())),
            },
            None if code == "StaleClusterMap"
                || code == "NotHome"
                || code == "ClusterMapBehind"
                || code == "RowLocked"
                || code == "CatchingUp" =>
            {
                // Never ran: settle it as stale; the JS layer fixes and retries.
                Err(Error::StaleClusterMap {
                    request_epoch: self.core.map().epoch,
                    current_epoch: 0,
                })
            }
            None => Err(Error::Sync(format!(
                "the home refused the write ({})",
                if code.is_empty() { "no answer" } else { code }
            ))),
        };
        let evs = self.core.on_write_reply(request, region, result, now);
        Ok(self.events(evs, now))
    }

    /// A replica answered a forward of write `request` (`ok`: applied).
    #[wasm_bindgen(js_name = onReplicaReply)]
    pub fn on_replica_reply(
        &mut self,
        request: f64,
        region: &str,
        ok: bool,
        now_ms: f64,
    ) -> JsResult<Array> {
        guard()?;
        let now = ms(now_ms);
        let result = if ok {
            Ok(())
        } else {
            Err(Error::Sync(format!("{region} did not apply the write")))
        };
        let evs = self
            .core
            .on_write_reply(request as u64, region, result, now);
        Ok(self.events(evs, now))
    }

    /// Time passed: semi-sync timeouts and deadlines (events as above).
    pub fn tick(&mut self, now_ms: f64) -> JsResult<Array> {
        guard()?;
        let now = ms(now_ms);
        let evs = self.core.tick(now);
        Ok(self.events(evs, now))
    }

    /// A probe after a degraded write of `table` was applied by a replica
    /// in another datacenter: semi-sync returns to normal.
    #[wasm_bindgen(js_name = onProbeApplied)]
    pub fn on_probe_applied(&mut self, table: &str, now_ms: f64) -> bool {
        self.core.on_replica_progress(table, 1, 1, ms(now_ms))
    }

    /// Plan a read of `primaryKey` at `level`: `{ epoch, key, body,
    /// targets, probe, need }` — try `targets` in order (`ONE`, `LEADER`),
    /// or ask all and wait for `need` answers (`QUORUM`); send `probe`
    /// (if not null) beside the read and report it, never wait for it.
    #[wasm_bindgen(js_name = planRead)]
    pub fn plan_read(
        &mut self,
        table: &str,
        primary_key: JsValue,
        level: &str,
        now_ms: f64,
    ) -> JsResult<JsValue> {
        guard()?;
        let level = ReadLevel::parse_arg(level).js()?;
        let pk = to_primary_key(&primary_key)?;
        let key = key_of(&pk);
        let now = ms(now_ms);
        let route = self.core.map().route_key(table, &key).js()?;
        let mut probe = None;
        let targets: Vec<Replica> = match level {
            ReadLevel::One => {
                let (serve, p) = self.core.read_one(table, &key, now).js()?;
                probe = p;
                let mut order = vec![serve];
                for r in route.by_locality(&self.local) {
                    if !order.contains(r) {
                        order.push(r.clone());
                    }
                }
                order
            }
            _ => self.core.read_targets(table, &key, level, now).js()?,
        };
        let o = Object::new();
        js::set(&o, "epoch", &JsValue::from_f64(route.epoch as f64));
        js::set(&o, "key", &bytes_out(&key));
        js::set(
            &o,
            "body",
            &bytes_out(&encode_messages(&[ClusterMsg::Get {
                epoch: route.epoch,
                table: table.to_string(),
                key: key.clone(),
            }])),
        );
        js::set(
            &o,
            "targets",
            &targets.iter().map(replica_to_js).collect::<Array>(),
        );
        js::set(
            &o,
            "probe",
            &probe.as_ref().map(replica_to_js).unwrap_or(JsValue::NULL),
        );
        js::set(
            &o,
            "need",
            &JsValue::from_f64((route.replicas.len() / 2 + 1) as f64),
        );
        Ok(o.into())
    }

    /// A read from `replica` took `latencyMs` (`null`: it failed).
    #[wasm_bindgen(js_name = onReadReply)]
    pub fn on_read_reply(
        &mut self,
        replica: JsValue,
        latency_ms: Option<f64>,
        now_ms: f64,
    ) -> JsResult<()> {
        guard()?;
        let r = replica_from_js(&replica)?;
        self.core.on_read_reply(&r, latency_ms, ms(now_ms));
        Ok(())
    }

    /// The row in an answer to a read (`null`: no such row).
    #[wasm_bindgen(js_name = rowFromReply)]
    pub fn row_from_reply(&self, reply: &[u8]) -> JsResult<JsValue> {
        guard()?;
        match one_message(reply)? {
            ClusterMsg::Rows { rows, .. } => {
                opt_row_to_js(&rows.into_iter().next().map(record_row), self.mode)
            }
            other => Err(unexpected("a read", &other)),
        }
    }

    /// A `QUORUM` read's answers (`replies[i]` from `replicas[i]`): the
    /// newest row (by cell timestamp) and the write-backs `[{ replica,
    /// body }]` bringing the older members of the quorum up to it.
    #[wasm_bindgen(js_name = quorumResult)]
    pub fn quorum_result(&self, replicas: Array, replies: Array, epoch: f64) -> JsResult<JsValue> {
        guard()?;
        let mut got: Vec<(Replica, Option<ChangeRecord>)> = Vec::new();
        for (r, b) in replicas.iter().zip(replies.iter()) {
            let bytes = js::as_bytes(&b).ok_or_else(|| type_error("a reply must be bytes"))?;
            let rec = match one_message(&bytes)? {
                ClusterMsg::Rows { rows, .. } => rows.into_iter().next(),
                other => return Err(unexpected("a read", &other)),
            };
            got.push((replica_from_js(&r)?, rec));
        }
        let best = got
            .iter()
            .map(|(_, rec)| rec.clone())
            .max_by_key(newest)
            .flatten();
        let backs = Array::new();
        if let Some(rec) = &best {
            let ts = newest(&Some(rec.clone()));
            for (r, old) in &got {
                if newest(old) < ts {
                    let o = Object::new();
                    js::set(&o, "replica", &replica_to_js(r));
                    js::set(
                        &o,
                        "body",
                        &bytes_out(&encode_messages(&[ClusterMsg::Apply {
                            epoch: epoch as u64,
                            records: vec![rec.clone()],
                        }])),
                    );
                    backs.push(&o);
                }
            }
        }
        let o = Object::new();
        js::set(&o, "row", &opt_row_to_js(&best.map(record_row), self.mode)?);
        js::set(&o, "writeBack", &backs);
        Ok(o.into())
    }

    /// A paged range of `table` over `[start, end)` merged across
    /// partitions (see [`crate::cluster_range::RawClusterRange`]).
    pub fn range(
        &self,
        table: &str,
        start: JsValue,
        end: JsValue,
        limit: f64,
    ) -> JsResult<crate::cluster_range::RawClusterRange> {
        guard()?;
        if !(limit.fract() == 0.0 && (1.0..=1000.0).contains(&limit)) {
            return Err(invalid(format!("limit {limit}: expected 1..=1000")));
        }
        let s = range_bound(&start, "range start")?;
        let e = range_bound(&end, "range end")?;
        crate::cluster_range::RawClusterRange::new(
            self.core.map().clone(),
            table,
            s,
            e,
            limit as usize,
            self.mode,
        )
    }

    /// Plan a batch of writes (bytes of `encodeWrite`) as transaction
    /// `(hi << 64) | lo`: `{ replica, body, participants }` — POST `body`
    /// to `replica` (the first row's home, the coordinator); one
    /// participant commits in one round, several by two-phase commit.
    #[wasm_bindgen(js_name = planBatch)]
    pub fn plan_batch(&self, writes: Array, hi: u64, lo: u64) -> JsResult<JsValue> {
        guard()?;
        if writes.length() == 0 {
            return Err(invalid("an empty batch"));
        }
        let map = self.core.map();
        let mut parts: BTreeMap<String, Vec<RowWrite>> = BTreeMap::new();
        let mut coordinator: Option<Replica> = None;
        for b in writes.iter() {
            let bytes =
                js::as_bytes(&b).ok_or_else(|| type_error("a batch write must be bytes"))?;
            let w = write_from_bytes(&bytes)?;
            let route = map.route_key(&w.table, &w.encoded_key()).js()?;
            coordinator.get_or_insert_with(|| route.home().clone());
            parts
                .entry(route.home().region.clone())
                .or_default()
                .push(w);
        }
        let coordinator = coordinator.ok_or_else(|| invalid("an empty batch"))?;
        let n = parts.len();
        let txn = ((hi as u128) << 64) | lo as u128;
        let body = encode_messages(&[ClusterMsg::Begin {
            txn: TxnId(txn),
            epoch: map.epoch,
            parts: parts.into_iter().collect(),
        }]);
        let o = Object::new();
        js::set(&o, "replica", &replica_to_js(&coordinator));
        js::set(&o, "body", &bytes_out(&body));
        js::set(&o, "participants", &JsValue::from_f64(n as f64));
        Ok(o.into())
    }

    /// A coordinator's answer to a batch: `{ committed, reason }`.
    #[wasm_bindgen(js_name = outcomeFromReply)]
    pub fn outcome_from_reply(reply: &[u8]) -> JsResult<JsValue> {
        guard()?;
        let (committed, reason) = match one_message(reply)? {
            ClusterMsg::Outcome { outcome, .. } => match outcome {
                Outcome::Committed => (true, String::new()),
                Outcome::Aborted(r) => (false, r),
            },
            other => return Err(unexpected("a batch", &other)),
        };
        let o = Object::new();
        js::set(&o, "committed", &JsValue::from_bool(committed));
        js::set(&o, "reason", &JsValue::from_str(&reason));
        Ok(o.into())
    }

    /// Writes in flight (for tests: every write settles).
    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(&self) -> f64 {
        self.core.in_flight() as f64
    }
}

/// Rows of a range answer, for [`crate::cluster_range`].
pub fn rows_from_reply(reply: &[u8]) -> JsResult<(Vec<ChangeRecord>, Vec<u8>)> {
    match one_message(reply)? {
        ClusterMsg::Rows { rows, next } => Ok((rows, next)),
        other => Err(unexpected("a range read", &other)),
    }
}

/// A row as JS (for [`crate::cluster_range`]).
pub fn record_to_row_js(rec: ChangeRecord, mode: IntegerMode) -> JsResult<JsValue> {
    row_to_js(&record_row(rec), mode)
}
