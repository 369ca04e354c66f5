//! `RawClusterRange`: one page of a cluster range, merged in key order
//! across the partitions that answer it (the core's `RangeMerge`). The JS
//! layer asks `poll()` what to fetch, POSTs each body to the listed
//! replicas (home first; the next on failure unless `scatter`), feeds the
//! answers back with `feed`, and polls again until a page comes out.

use crate::cluster::{record_to_row_js, replica_to_js, rows_from_reply};
use crate::error::{IntoJs, JsResult};
use crate::js;
use crate::panic::guard;
use crate::value::IntegerMode;
use js_sys::{Array, Object, Uint8Array};
use tablesync::cluster::merge::{MergeStep, RangeMerge};
use tablesync::cluster::wire::{encode_messages, ClusterMsg};
use tablesync::cluster::{ClusterMap, SubRange};
use tablesync::codec::key::encode_key_values;
use tablesync::ChangeRecord;
use wasm_bindgen::prelude::*;

/// The merge state of one range page (see the module docs).
#[wasm_bindgen]
pub struct RawClusterRange {
    map: ClusterMap,
    table: String,
    subs: Vec<SubRange>,
    merge: RangeMerge<ChangeRecord>,
    limit: usize,
    mode: IntegerMode,
}

impl RawClusterRange {
    /// A page of at most `limit` rows of `table` in `[start, end)` (encoded
    /// keys, empty = unbounded), routed by `map`.
    pub fn new(
        map: ClusterMap,
        table: &str,
        start: Vec<u8>,
        end: Vec<u8>,
        limit: usize,
        mode: IntegerMode,
    ) -> JsResult<RawClusterRange> {
        let subs = map.split_range(table, &start, &end).js()?;
        let merge = RangeMerge::new(
            subs.iter()
                .map(|s| (s.start.clone(), s.end.clone()))
                .collect(),
            limit,
        );
        Ok(RawClusterRange {
            map,
            table: table.to_string(),
            subs,
            merge,
            limit,
            mode,
        })
    }
}

#[wasm_bindgen]
impl RawClusterRange {
    /// What next: `{ kind: "fetch", requests: [{ stream, replicas, scatter,
    /// body }] }` or `{ kind: "page", rows, nextStart }` (`nextStart`: the
    /// encoded key to resume at, `null` at the end).
    pub fn poll(&mut self) -> JsResult<JsValue> {
        guard()?;
        let o = Object::new();
        match self.merge.poll(self.limit) {
            MergeStep::Page { rows, next_start } => {
                js::set(&o, "kind", &JsValue::from_str("page"));
                let out = Array::new();
                for (_, r) in rows {
                    out.push(&record_to_row_js(r, self.mode)?);
                }
                js::set(&o, "rows", &out);
                js::set(
                    &o,
                    "nextStart",
                    &next_start
                        .map(|k| Uint8Array::from(&k[..]).into())
                        .unwrap_or(JsValue::NULL),
                );
            }
            MergeStep::Fetch(reqs) => {
                js::set(&o, "kind", &JsValue::from_str("fetch"));
                let out = Array::new();
                for p in reqs {
                    let sub = &self.subs[p.stream];
                    let r = Object::new();
                    js::set(&r, "stream", &JsValue::from_f64(p.stream as f64));
                    js::set(
                        &r,
                        "replicas",
                        &sub.route
                            .replicas
                            .iter()
                            .map(replica_to_js)
                            .collect::<Array>(),
                    );
                    js::set(&r, "scatter", &JsValue::from_bool(sub.scatter));
                    let body = encode_messages(&[ClusterMsg::Range {
                        epoch: self.map.epoch,
                        table: self.table.clone(),
                        start: p.start,
                        end: p.end,
                        limit: p.limit as u64,
                    }]);
                    js::set(&r, "body", &Uint8Array::from(&body[..]).into());
                    out.push(&r);
                }
                js::set(&o, "requests", &out);
            }
        }
        Ok(o.into())
    }

    /// Feed the answer to request `stream` of the last `poll()`.
    pub fn feed(&mut self, stream: usize, reply: &[u8]) -> JsResult<()> {
        guard()?;
        let sub = self
            .subs
            .get(stream)
            .ok_or_else(|| crate::error::invalid(format!("no range stream {stream}")))?;
        let (rows, next) = rows_from_reply(reply)?;
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            let k = encode_key_values(r.primary_key.0.iter().map(|(_, v)| v));
            if sub.owns(&self.map, &k).js()? {
                kept.push((k, r));
            }
        }
        self.merge
            .on_page(stream, kept, (!next.is_empty()).then_some(next))
            .js()
    }
}
