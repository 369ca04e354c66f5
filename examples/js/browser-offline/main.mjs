// An offline-first page: its region lives in memory (wasm) and is saved to
// IndexedDB as a snapshot after every change, so a reload — online or not —
// starts where it left off. A realtime link (`db.replicate`) keeps it in
// step with a `tablesync serve` region: local commits are pushed at once,
// the server's change feed wakes pulls, and while the network is down the
// link backs off and retries, converging when it is back. Backups are
// one-file repository bundles (`db.backup`) kept in IndexedDB too.
//
// Query parameters: server (URL of `tablesync serve`), token, region (this
// page's region name on first load), link=off (do not replicate).
// `window.app` exposes the pieces for scripts and tests.
import init, { Database, INF_MIN, INF_MAX } from 'tablesync';
import { idbGet, idbPut } from './idb.mjs';

const TABLE = 'notes';
const params = new URLSearchParams(location.search);
const server = params.get('server');
const token = params.get('token') ?? '';
const $ = (id) => document.getElementById(id);

await init();

// The region: from IndexedDB if this browser has one, else a new one.
let db;
let loadedFrom;
const saved = await idbGet('snapshot');
if (saved instanceof Uint8Array) {
  db = Database.importSnapshot(saved);
  loadedFrom = 'indexeddb';
} else {
  const region = params.get('region') ?? `tab-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
  db = Database.memory(region);
  loadedFrom = 'new region';
}
if (!db.listTables().includes(TABLE)) {
  db.createTable(TABLE, { primaryKey: [['id', 'STRING']] });
}
const loadedDigest = db.tableDigest(TABLE);

// Save a snapshot whenever the region changed (local writes or pulls).
let savedMark = null;
async function save() {
  const mark = `${db.nextCursor()}:${db.tableDigest(TABLE)}`;
  if (mark === savedMark) return false;
  await idbPut('snapshot', db.exportSnapshot());
  savedMark = mark;
  return true;
}

const link = server && params.get('link') !== 'off'
  ? db.replicate(server, { token, trigger: 'realtime', direction: 'both', name: 'page' })
  : null;

function add(text) {
  const id = `${db.region}-${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
  db.putRow(TABLE, { id }, { text, by: db.region });
  render();
  return id;
}

function rows() {
  return [...db.scan(TABLE, INF_MIN, INF_MAX)];
}

function render() {
  $('region').textContent = db.region;
  $('net').textContent = navigator.onLine ? 'online' : 'offline';
  $('net').className = navigator.onLine ? '' : 'offline';
  const s = link?.status();
  $('state').textContent = s ? s.state : 'off';
  $('lag').textContent = s ? String(s.lag_ms) : '-';
  $('pending').textContent = s ? String(s.pending) : '-';
  $('shipped').textContent = s ? String(s.records_shipped) : '-';
  $('error').textContent = s?.last_error ?? 'none';
  const all = rows();
  $('digest').textContent = db.tableDigest(TABLE);
  $('count').textContent = String(all.length);
  $('loaded').textContent = loadedFrom;
  $('rows').replaceChildren(...all.map((row) => {
    const tr = document.createElement('tr');
    for (const v of [row.primaryKey.id, row.columns.text, row.columns.by]) {
      const td = document.createElement('td');
      td.textContent = String(v ?? '');
      tr.append(td);
    }
    return tr;
  }));
}

// Backups: the repository bundle (every backup so far) in IndexedDB.
async function backup() {
  const parent = await idbGet('backups');
  const passphrase = $('passphrase').value || undefined;
  const bundle = db.backup({ parent: parent instanceof Uint8Array ? parent : undefined, passphrase });
  await idbPut('backups', bundle);
  await renderBackups();
  return Database.listBackups(bundle, { passphrase }).at(-1);
}

async function listBackups() {
  const bundle = await idbGet('backups');
  if (!(bundle instanceof Uint8Array)) return [];
  return Database.listBackups(bundle, { passphrase: $('passphrase').value || undefined });
}

/** A region restored from the kept bundle (`opts` as `Database.restore`). */
async function restore(opts) {
  const bundle = await idbGet('backups');
  if (!(bundle instanceof Uint8Array)) throw new Error('no backups yet');
  return Database.restore(bundle, { passphrase: $('passphrase').value || undefined, ...opts });
}

async function renderBackups() {
  let list = [];
  try {
    list = await listBackups();
  } catch (e) {
    $('backups').replaceChildren(Object.assign(document.createElement('li'), { textContent: String(e.message ?? e) }));
    return;
  }
  $('backups').replaceChildren(...list.map((b) => {
    const li = document.createElement('li');
    li.textContent = `${new Date(b.createdMs).toISOString()} ${b.kind} ${b.id.slice(0, 12)} (${b.rows} rows) `;
    const btn = document.createElement('button');
    btn.textContent = 'restore into a copy';
    btn.onclick = async () => {
      const copy = await restore({ backup: b.id });
      li.append(` → digest ${copy.tableDigest(TABLE).slice(0, 16)}…`);
      copy.free();
    };
    li.append(btn);
    return li;
  }));
}

$('add').addEventListener('submit', (ev) => {
  ev.preventDefault();
  add(String(new FormData(ev.target).get('text')));
  ev.target.reset();
});
$('pause').onclick = () => link?.pause();
$('resume').onclick = () => link?.resume();
$('sync').onclick = () => link?.trigger();
$('backup').onclick = () => backup();
addEventListener('online', render);
addEventListener('offline', render);

// Save and redraw a few times a second (cheap: the mark skips idle saves).
setInterval(async () => {
  await save();
  render();
}, 250);

await save();
render();
await renderBackups();
window.app = { db, link, add, rows, save, backup, listBackups, restore, loadedFrom, loadedDigest, table: TABLE };
window.__ready = true;
