// The tablesync region dashboard: polls /readyz, /v1/links and /metrics
// every second and draws the link table and two SVG charts by hand.
// No build step, no external script.
"use strict";

const KEEP = 120; // points per series (two minutes)
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const lagSeries = new Map(); // link -> [[t, lag_ms]]
const tputSeries = new Map(); // link -> [[t, records/s]]
const lastShipped = new Map(); // link -> [t, records]

function token() {
  const m = /(?:^|[#&])token=([^&]*)/.exec(location.hash);
  if (m) {
    const t = decodeURIComponent(m[1]);
    sessionStorage.setItem("tablesync-token", t);
    return t;
  }
  return sessionStorage.getItem("tablesync-token") || "";
}

async function getText(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (r.status === 401) {
    document.getElementById("login").hidden = false;
    throw new Error("the token was refused");
  }
  if (!r.ok) throw new Error(path + ": HTTP " + r.status + " " + (await r.text()).trim());
  return r.text();
}

// `name{label="value"} number` samples of one metric family.
function samples(text, name, label) {
  const out = new Map();
  const re = new RegExp("^" + name + "\\{" + label + "=\"((?:[^\"\\\\]|\\\\.)*)\"\\} (\\S+)$", "gm");
  let m;
  while ((m = re.exec(text)) !== null) out.set(m[1].replace(/\\(.)/g, "$1"), Number(m[2]));
  return out;
}

function push(map, key, point) {
  if (!map.has(key)) map.set(key, []);
  const s = map.get(key);
  s.push(point);
  if (s.length > KEEP) s.shift();
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function badge(td, text) {
  td.textContent = "";
  const s = document.createElement("span");
  s.className = "badge " + text;
  s.textContent = text;
  td.appendChild(s);
}

function ago(ms) {
  if (ms === null || ms === undefined) return "never";
  return Math.max(0, Date.now() - ms) + " ms ago";
}

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// A line chart of every series in `map` into the <svg> `id`.
function chart(id, legendId, map, unit) {
  const svg = document.getElementById(id);
  const W = Number(svg.getAttribute("width")), H = Number(svg.getAttribute("height"));
  const L = 50, R = 10, T = 10, B = 20;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  let t0 = Infinity, t1 = -Infinity, vmax = 1;
  for (const s of map.values()) for (const [t, v] of s) {
    t0 = Math.min(t0, t); t1 = Math.max(t1, t); vmax = Math.max(vmax, v);
  }
  if (!isFinite(t0)) return;
  if (t1 - t0 < 1000) t0 = t1 - 1000;
  const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
  const y = (v) => H - B - (H - T - B) * v / vmax;
  svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }));
  svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" }));
  for (const f of [0, 0.5, 1]) {
    const lab = el("text", { x: L - 4, y: y(vmax * f) + 4, "text-anchor": "end", "font-size": 10 });
    lab.textContent = Math.round(vmax * f);
    svg.appendChild(lab);
  }
  const span = el("text", { x: W - R, y: H - 4, "text-anchor": "end", "font-size": 10 });
  span.textContent = "last " + Math.round((t1 - t0) / 1000) + " s (" + unit + ")";
  svg.appendChild(span);
  const legend = document.getElementById(legendId);
  legend.textContent = "";
  let i = 0;
  for (const [name, s] of map) {
    const color = COLORS[i++ % COLORS.length];
    const pts = s.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    svg.appendChild(el("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 2,
      "data-series": name, "data-count": s.length }));
    const l = document.createElement("span");
    l.style.color = color;
    l.textContent = "\u25A0 " + name;
    legend.appendChild(l);
  }
}

function render(doc, ready, metrics, now) {
  document.getElementById("region").textContent = doc.region;
  const role = document.getElementById("role");
  role.textContent = doc.role;
  role.className = "badge " + doc.role;
  document.getElementById("epoch").textContent = doc.epoch;
  document.getElementById("primary").textContent = doc.primary || "none";
  const h = document.getElementById("health");
  h.textContent = ready ? "ready" : "not ready";
  h.className = "badge " + (ready ? "ok" : "bad");
  document.getElementById("resync").textContent = doc.needs_resync ? "(must resync before leading)" : "";

  const pb = document.querySelector("#peers tbody");
  pb.textContent = "";
  for (const p of doc.peers) {
    const tr = document.createElement("tr");
    tr.dataset.peer = p.name;
    cell(tr, p.name);
    badge(cell(tr, ""), p.state);
    cell(tr, p.phi.toFixed(2), "num");
    cell(tr, ago(p.last_heard_ms));
    pb.appendChild(tr);
  }

  const lb = document.querySelector("#links tbody");
  lb.textContent = "";
  const shipped = samples(metrics, "tablesync_link_records_shipped_total", "link");
  for (const l of doc.links) {
    const tr = document.createElement("tr");
    tr.dataset.link = l.name;
    cell(tr, l.name);
    cell(tr, l.direction);
    cell(tr, l.trigger);
    badge(cell(tr, ""), l.state);
    cell(tr, l.lag_ms, "num");
    cell(tr, l.pending, "num");
    cell(tr, l.records_shipped, "num");
    cell(tr, l.bytes_shipped, "num");
    cell(tr, l.rpo_ms === null ? "unbounded" : l.rpo_ms, "num");
    cell(tr, l.last_error || "");
    lb.appendChild(tr);
    push(lagSeries, l.name, [now, l.lag_ms]);
    const rec = shipped.has(l.name) ? shipped.get(l.name) : l.records_shipped;
    const prev = lastShipped.get(l.name);
    if (prev && now > prev[0]) push(tputSeries, l.name, [now, Math.max(0, (rec - prev[1]) * 1000 / (now - prev[0]))]);
    lastShipped.set(l.name, [now, rec]);
  }
  chart("lag-chart", "lag-legend", lagSeries, "ms");
  chart("tput-chart", "tput-legend", tputSeries, "records/s");
}

async function poll() {
  const err = document.getElementById("error");
  try {
    const ready = await fetch("/readyz").then((r) => r.ok, () => false);
    const [doc, metrics] = await Promise.all([
      getText("/v1/links").then(JSON.parse),
      getText("/metrics"),
    ]);
    render(doc, ready, metrics, Date.now());
    err.textContent = "";
  } catch (e) {
    err.textContent = String(e.message || e);
  }
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("tablesync-token", document.getElementById("token").value);
  document.getElementById("login").hidden = true;
  poll();
});
if (!token()) document.getElementById("login").hidden = false;
poll();
setInterval(poll, 1000);
