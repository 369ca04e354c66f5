// db.replicate(url, …) against a real tablesync HTTP server in another
// process: realtime links both ways make two clients and the server
// converge (writes on all three, equal digests); a manual link sends
// nothing until trigger(); pause → writes → resume loses and duplicates
// nothing; status() has the contract's fields; stop() ends everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, Link, syncOverHttp } from 'tablesync';
import { startServer } from '../helpers/sync-server.mjs';

const TOKEN = 'test-token-link';
let dir;
let server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tablesync-link-'));
  server = await startServer(join(dir, 'region'), TOKEN);
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond()` holds (polling), or fail after `ms`. */
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The server's digest of `table`: a fresh region pulls everything. */
async function serverDigest(table) {
  const probe = Database.memory('probe');
  try {
    await syncOverHttp(probe, server.url, TOKEN, { direction: 'pull' });
    return probe.listTables().includes(table) ? probe.tableDigest(table) : null;
  } finally {
    probe.free();
  }
}

/** A write made at the server itself, through its row API. */
async function serverPut(table, id, columns) {
  const res = await fetch(`${server.url}/v1/row/put`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ table, primary_key: { id }, columns }),
  });
  assert.equal(res.status, 200, await res.text());
}

test('realtime links both ways: two clients and the server converge', async () => {
  const a = Database.memory('js-a');
  const b = Database.memory('js-b');
  a.createTable('notes', { primaryKey: [['id', 'INTEGER']] });
  const la = a.replicate(server.url, { token: TOKEN, trigger: 'realtime', direction: 'both', name: 'a-srv' });
  const lb = b.replicate(server.url, { token: TOKEN, trigger: 'realtime', direction: 'both', name: 'b-srv' });
  try {
    assert.ok(la instanceof Link);
    for (let id = 0; id < 50; id++) a.putRow('notes', { id }, { by: 'a', n: id });
    // The table and rows reach b through the server (pushed by a, pulled by b).
    await until(() => b.listTables().includes('notes') && b.describeTable('notes').rowCount === 50, 10_000, 'b to get a\'s rows');
    for (let id = 100; id < 120; id++) b.putRow('notes', { id }, { by: 'b' });
    await serverPut('notes', 500, { by: 'server' });
    b.deleteRow('notes', { id: 3 });
    await until(() => a.getRow('notes', { id: 500 }) !== null && a.getRow('notes', { id: 119 }) !== null &&
      a.getRow('notes', { id: 3 }) === null, 10_000, 'a to get b\'s and the server\'s writes');
    await until(() => b.getRow('notes', { id: 500 }) !== null, 10_000, 'b to get the server\'s write');
    await until(() => la.status().pending === 0 && lb.status().pending === 0, 10_000, 'nothing pending');
    const d = a.tableDigest('notes');
    assert.equal(b.tableDigest('notes'), d);
    assert.equal(await serverDigest('notes'), d);

    const s = la.status();
    for (const k of ['name', 'peer', 'url', 'direction', 'trigger', 'state', 'lag_ms', 'pending',
      'records_shipped', 'bytes_shipped', 'last_success_ms', 'last_error', 'rpo_ms']) {
      assert.ok(k in s, `status has ${k}`);
    }
    assert.equal(s.name, 'a-srv');
    assert.equal(s.direction, 'both');
    assert.equal(s.trigger, 'realtime');
    assert.equal(s.state, 'running');
    assert.ok(s.records_shipped >= 50 && s.bytes_shipped > 0, JSON.stringify(s));
    assert.equal(s.last_error, null);
    assert.ok(s.last_success_ms > 0);
  } finally {
    la.stop();
    lb.stop();
  }
  assert.equal(la.status().state, 'stopped');
  // Stopped: a write stays local.
  a.putRow('notes', { id: 9999 }, { by: 'a' });
  await sleep(300);
  assert.equal(b.getRow('notes', { id: 9999 }), null);
});

test('a manual link sends nothing until trigger()', async () => {
  const m = Database.memory('js-manual');
  m.createTable('manual_t', { primaryKey: [['id', 'INTEGER']] });
  let posts = 0;
  const counting = (url, init) => {
    if (String(url).endsWith('/v1/sync')) posts += 1;
    return fetch(url, init);
  };
  const link = m.replicate(server.url, { token: TOKEN, trigger: 'manual', direction: 'push', fetch: counting, name: 'manual' });
  try {
    for (let id = 0; id < 10; id++) m.putRow('manual_t', { id }, { v: id });
    await sleep(400);
    assert.equal(posts, 0, 'no frame before trigger()');
    assert.equal(link.status().bytes_shipped, 0);
    assert.ok(link.status().pending >= 10, 'the writes are pending');
    assert.equal(await serverDigest('manual_t'), null, 'the server has nothing yet');
    link.trigger();
    await until(() => link.status().pending === 0 && !link.status().in_flight, 10_000, 'the triggered session');
    assert.ok(posts > 0);
    assert.equal(await serverDigest('manual_t'), m.tableDigest('manual_t'));
    // Idle again: more writes stay local until the next trigger.
    const before = posts;
    m.putRow('manual_t', { id: 50 }, { v: 50 });
    await sleep(300);
    assert.equal(posts, before);
    assert.equal(link.status().pending, 1);
  } finally {
    link.stop();
  }
});

test('pause → writes → resume loses and duplicates nothing', async () => {
  const p = Database.memory('js-pause');
  p.createTable('paused_t', { primaryKey: [['id', 'INTEGER']] });
  const link = p.replicate(server.url, { token: TOKEN, trigger: 'realtime', direction: 'push', name: 'pause' });
  try {
    p.putRow('paused_t', { id: 0 }, { v: 0 });
    await until(() => link.status().pending === 0, 10_000, 'the first row shipped');
    link.pause();
    assert.equal(link.status().state, 'paused');
    for (let id = 1; id <= 30; id++) p.putRow('paused_t', { id }, { v: id });
    await sleep(300);
    assert.equal(link.status().pending, 30, 'paused: nothing moves');
    const probe = Database.memory('probe2');
    await syncOverHttp(probe, server.url, TOKEN, { direction: 'pull' });
    assert.equal(probe.describeTable('paused_t').rowCount, 1);
    link.resume();
    await until(() => link.status().pending === 0, 10_000, 'the paused writes shipped');
    assert.equal(await serverDigest('paused_t'), p.tableDigest('paused_t'));
    const probe2 = Database.memory('probe3');
    await syncOverHttp(probe2, server.url, TOKEN, { direction: 'pull' });
    assert.equal(probe2.describeTable('paused_t').rowCount, 31);
  } finally {
    link.stop();
  }
});

test('bad options are refused with TypeError or a typed error', () => {
  const db = Database.memory('js-bad');
  assert.throws(() => db.replicate(server.url, {}), TypeError);
  assert.throws(() => db.replicate(server.url, { token: TOKEN, bogus: 1 }), TypeError);
  assert.throws(() => db.replicate(server.url, { token: TOKEN, trigger: 'sometimes' }),
    (e) => e.code === 'OTSParameterInvalid');
  assert.throws(() => db.replicate(server.url, { token: TOKEN, direction: 'sideways' }),
    (e) => e.code === 'OTSParameterInvalid');
});

test('an unreachable server: the link reports failing, backs off, and recovers nothing lost', async () => {
  const db = Database.memory('js-dead');
  db.createTable('dead_t', { primaryKey: [['id', 'INTEGER']] });
  db.putRow('dead_t', { id: 1 }, { v: 1 });
  let calls = 0;
  let down = true;
  const flaky = (url, init) => {
    calls += 1;
    return down ? Promise.reject(new TypeError('fetch failed')) : fetch(url, init);
  };
  const link = db.replicate(server.url, { token: TOKEN, direction: 'push', fetch: flaky, maxBackoffMs: 400, name: 'flaky' });
  try {
    await until(() => link.status().sessions_failed >= 2, 5_000, 'failed attempts');
    const s = link.status();
    assert.equal(s.state, 'failing', JSON.stringify(s));
    assert.match(s.last_error, /NetworkError/);
    assert.ok(s.pending >= 1);
    const before = calls;
    await sleep(300);
    assert.ok(calls - before <= 3, `backs off (${calls - before} attempts in 300 ms)`);
    down = false;
    await until(() => link.status().pending === 0, 10_000, 'recovery');
    assert.equal(link.status().state, 'running');
    assert.equal(link.status().last_error, null);
    assert.equal(await serverDigest('dead_t'), db.tableDigest('dead_t'));
  } finally {
    link.stop();
  }
});

test('freeing the database stops its link', async () => {
  const db = Database.memory('js-freed');
  const link = db.replicate(server.url, { token: TOKEN, trigger: 'periodic:50ms', direction: 'push', name: 'freed' });
  await sleep(100);
  db.free();
  await sleep(200);
  assert.equal(link.state, 'stopped');
  assert.throws(() => link.status(), (e) => e.code === 'DatabaseClosed');
});

test('every link and sync frame carries X-Tablesync-Epoch (the option, or 0)', async () => {
  // A fetch that records the header and forwards to the real server.
  const seen = [];
  const recording = (input, init) => {
    seen.push(new Headers(init?.headers).get('X-Tablesync-Epoch'));
    return fetch(input, init);
  };
  const a = Database.memory('js-epoch');
  a.createTable('epochs', { primaryKey: [['id', 'INTEGER']] });
  a.putRow('epochs', { id: 1 }, { v: 1 });
  await syncOverHttp(a, server.url, TOKEN, { fetch: recording, epoch: 7, direction: 'push' });
  assert.ok(seen.length > 0 && seen.every((e) => e === '7'), JSON.stringify(seen));
  seen.length = 0;
  const link = a.replicate(server.url, { token: TOKEN, trigger: 'manual', direction: 'push', name: 'epoch-link', fetch: recording, epoch: 3 });
  try {
    link.trigger();
    await until(() => seen.length > 0 && link.status().pending === 0 && !link.status().in_flight, 10_000, 'the manual session');
    assert.ok(seen.every((e) => e === '3'), JSON.stringify(seen));
  } finally {
    link.stop();
  }
  seen.length = 0;
  await syncOverHttp(a, server.url, TOKEN, { fetch: recording, direction: 'push' });
  assert.ok(seen.length > 0 && seen.every((e) => e === '0'), JSON.stringify(seen));
  assert.throws(() => a.replicate(server.url, { token: TOKEN, epoch: -1 }), TypeError);
  await assert.rejects(syncOverHttp(a, server.url, TOKEN, { epoch: 1.5 }), TypeError);
  a.free();
});
