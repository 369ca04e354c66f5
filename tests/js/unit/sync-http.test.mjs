// syncOverHttp against a real tablesync HTTP server in another process
// (hosting a durable region on 127.0.0.1): push, pull, both ways, verify,
// small frames, a wrong token, a corrupt frame, a dead server, abort, and
// the region surviving a server restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, TablesyncError, syncOverHttp } from 'tablesync';
import { startServer } from '../helpers/sync-server.mjs';

const TOKEN = 'test-token-7f3a';
let dir;
let server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tablesync-http-'));
  server = await startServer(join(dir, 'region'), TOKEN);
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function region(name) {
  const db = Database.memory(name);
  db.createTable('orders', { primaryKey: [['id', 'INTEGER']] });
  return db;
}

test('push to the server, pull into another region, then both ways', async () => {
  const laptop = region('laptop');
  const phone = Database.memory('phone');
  try {
    for (let id = 0; id < 200; id++) laptop.putRow('orders', { id }, { who: 'laptop', n: id });
    const pushed = await syncOverHttp(laptop, server.url, TOKEN, { direction: 'push' });
    assert.equal(pushed.verified, true, JSON.stringify(pushed));
    assert.ok(pushed.recordsPushed + pushed.rowsPushed >= 200);
    assert.equal(pushed.recordsPulled + pushed.rowsPulled, 0);
    assert.ok(pushed.roundTrips >= 1 && pushed.bytesSent > 0);

    // A region with no tables at all gets them (schemas travel with the data).
    const pulled = await syncOverHttp(phone, `${server.url}/`, TOKEN, { direction: 'pull' });
    assert.equal(pulled.verified, true, JSON.stringify(pulled));
    assert.deepEqual(phone.listTables(), ['orders']);
    assert.equal(phone.tableDigest('orders'), laptop.tableDigest('orders'));
    assert.equal(phone.getRow('orders', { id: 7 }).columns.n, 7);

    // Concurrent writes on both clients meet through the server.
    laptop.putRow('orders', { id: 1000 }, { who: 'laptop' });
    phone.putRow('orders', { id: 2000 }, { who: 'phone' });
    phone.deleteRow('orders', { id: 3 });
    const p = await syncOverHttp(phone, server.url, TOKEN);
    assert.equal(p.verified, true);
    const l = await syncOverHttp(laptop, server.url, TOKEN, { mode: 'auto' });
    assert.equal(l.verified, true);
    assert.equal(laptop.getRow('orders', { id: 2000 }).columns.who, 'phone');
    assert.equal(laptop.getRow('orders', { id: 3 }), null);
    const p2 = await syncOverHttp(phone, new URL(server.url), TOKEN, { mode: 'incremental' });
    assert.equal(p2.verified, true);
    assert.equal(p2.recordsPulled, 1, 'only the laptop\'s new row was missing');
    assert.equal(phone.tableDigest('orders'), laptop.tableDigest('orders'));
  } finally {
    laptop.free();
    phone.free();
  }
});

test('verify over HTTP lists differing keys and moves nothing; reconcile repairs', async () => {
  const db = Database.memory('tablet');
  try {
    await syncOverHttp(db, server.url, TOKEN, { mode: 'full', direction: 'pull' });
    const base = db.tableDigest('orders');
    db.putRow('orders', { id: 5 }, { who: 'tablet' });
    db.putRow('orders', { id: 99999 }, { who: 'tablet' });
    const local = db.tableDigest('orders');
    const v = await syncOverHttp(db, server.url, TOKEN, { mode: 'verify' });
    assert.equal(v.verified, false);
    assert.equal(v.tables[0].remote, base);
    assert.deepEqual(v.tables[0].differingKeys.map((k) => k.id).sort((x, y) => x - y), [5, 99999]);
    assert.equal(db.tableDigest('orders'), local);
    const again = await syncOverHttp(db, server.url, TOKEN, { mode: 'verify' });
    assert.equal(again.tables[0].remote, base, 'the server did not change either');
    const r = await syncOverHttp(db, server.url, TOKEN, { mode: 'reconcile' });
    assert.equal(r.verified, true);
    assert.ok(r.rowsPushed >= 2 && r.rowsPushed <= 4, JSON.stringify(r));
  } finally {
    db.free();
  }
});

test('a custom fetch sees every frame; many rows take several round trips', async () => {
  const db = region('bulk');
  try {
    for (let id = 10_000; id < 12_000; id++) db.putRow('orders', { id }, { who: 'bulk', pad: 'x'.repeat(300) });
    await syncOverHttp(db, server.url, TOKEN, { direction: 'push' });
    const calls = [];
    const fresh = Database.memory('fresh');
    const r = await syncOverHttp(fresh, server.url, TOKEN, {
      mode: 'full',
      direction: 'pull',
      fetch: (url, init) => {
        calls.push({ url, method: init.method, auth: init.headers.Authorization, bytes: init.body.length });
        return fetch(url, init);
      },
    });
    assert.equal(r.verified, true);
    assert.ok(r.roundTrips >= 2 && r.rowsPulled >= 2000, JSON.stringify(r));
    assert.equal(calls.length, r.roundTrips);
    assert.ok(calls.every((c) => c.url === `${server.url}/v1/sync` && c.method === 'POST' &&
      c.auth === `Bearer ${TOKEN}`));
    assert.equal(calls.reduce((n, c) => n + c.bytes, 0), r.bytesSent);
    assert.equal(fresh.getRow('orders', { id: 11_999 }).columns.who, 'bulk');
    fresh.free();
  } finally {
    db.free();
  }
});

test('a wrong token is refused with code Unauthorized (HTTP 401) and changes nothing', async () => {
  const db = region('intruder');
  try {
    db.putRow('orders', { id: 1 }, { who: 'intruder' });
    const before = db.tableDigest('orders');
    await assert.rejects(syncOverHttp(db, server.url, 'wrong-token'), (e) => {
      assert.ok(e instanceof TablesyncError);
      assert.equal(e.code, 'Unauthorized');
      assert.equal(e.status, 401);
      assert.match(e.message, /401/);
      return true;
    });
    assert.equal(db.tableDigest('orders'), before);
    const v = await syncOverHttp(db, server.url, TOKEN, { mode: 'verify' });
    assert.ok(v.tables[0].differingKeys.some((k) => k.id === 1), 'the server still has its own row 1');
    const probe = Database.memory('probe');
    await syncOverHttp(probe, server.url, TOKEN, { direction: 'pull' });
    assert.equal(probe.getRow('orders', { id: 1 }).columns.who, 'laptop', 'the intruder\'s row never arrived');
    probe.free();
  } finally {
    db.free();
  }
});

test('a frame corrupted in transit is refused by the server with its code', async () => {
  const db = region('noisy');
  try {
    await assert.rejects(syncOverHttp(db, server.url, TOKEN, {
      fetch: (url, init) => {
        const body = init.body.slice();
        body[body.length - 1] ^= 0xff;
        return fetch(url, { ...init, body });
      },
    }), (e) => e instanceof TablesyncError && e.code === 'CorruptData' && e.status === 400);
  } finally {
    db.free();
  }
});

test('argument errors, an aborted session and a dead server', async () => {
  const db = region('misc');
  try {
    await assert.rejects(syncOverHttp(db, server.url, ''), TypeError);
    await assert.rejects(syncOverHttp(db, 42, TOKEN), TypeError);
    await assert.rejects(syncOverHttp(db, server.url, TOKEN, { mode: 'nope' }), { code: 'OTSParameterInvalid' });
    await assert.rejects(syncOverHttp(db, server.url, TOKEN, { retries: 3 }), TypeError);
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(syncOverHttp(db, server.url, TOKEN, { signal: ctl.signal }), { name: 'AbortError' });
    await assert.rejects(syncOverHttp(db, `${server.url}/nowhere`, TOKEN), { code: 'NotFound', status: 404 });
    // The region freed while a frame is in flight: a clear error, no crash.
    const doomed = region('doomed');
    await assert.rejects(syncOverHttp(doomed, server.url, TOKEN, {
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        doomed.free();
        return res;
      },
    }), { code: 'DatabaseClosed' });
    // A server that is gone: a network error with a stable code.
    const gone = await startServer(join(dir, 'gone'), TOKEN);
    await gone.stop();
    await assert.rejects(syncOverHttp(db, gone.url, TOKEN), (e) => e instanceof TablesyncError && e.code === 'NetworkError');
  } finally {
    db.free();
  }
});

test('the served region is durable: a restarted server still has it', async () => {
  const before = Database.memory('before');
  // (full: the server holds rows merged by reconcile, which carry no change records.)
  const b = await syncOverHttp(before, server.url, TOKEN, { mode: 'full', direction: 'pull' });
  assert.equal(b.verified, true, JSON.stringify(b));
  await server.stop();
  server = await startServer(join(dir, 'region'), TOKEN);
  const after = Database.memory('after');
  try {
    const r = await syncOverHttp(after, server.url, TOKEN, { mode: 'full', direction: 'pull' });
    assert.equal(r.verified, true, JSON.stringify(r));
    assert.equal(after.tableDigest('orders'), before.tableDigest('orders'));
    assert.ok(after.describeTable('orders').rowCount >= 200);
  } finally {
    before.free();
    after.free();
  }
});
