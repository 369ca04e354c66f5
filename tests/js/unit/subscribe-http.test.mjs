// subscribe() against a real tablesync HTTP server in another process: a
// batch pushed by syncOverHttp reaches the subscriber through the change
// feed's long poll, and close() ends the subscription.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, TablesyncError, subscribe, syncOverHttp } from 'tablesync';
import { startServer } from '../helpers/sync-server.mjs';

const TOKEN = 'test-token-feed';
let dir;
let server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tablesync-feed-'));
  server = await startServer(join(dir, 'region'), TOKEN);
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a subscriber sees records pushed by another client', async () => {
  const seen = [];
  let wake;
  const arrived = new Promise((r) => { wake = r; });
  const sub = subscribe(server.url, (records) => {
    seen.push(...records);
    if (seen.length >= 3) wake();
  }, { token: TOKEN, wait: 5000 });
  const laptop = Database.memory('laptop');
  try {
    laptop.createTable('orders', { primaryKey: [['id', 'INTEGER']] });
    for (let id = 0; id < 3; id++) laptop.putRow('orders', { id }, { n: id });
    const r = await syncOverHttp(laptop, server.url, TOKEN, { direction: 'push' });
    assert.equal(r.verified, true);
    await arrived;
    assert.deepEqual(seen.map((x) => x.primary_key.id).sort(), [0, 1, 2]);
    assert.ok(seen.every((x) => x.table === 'orders' && x.kind === 'PUT'));
  } finally {
    sub.close();
    await sub.done;
    laptop.free();
  }
});

test('a wrong token ends the subscription with a typed error', async () => {
  const sub = subscribe(server.url, () => {}, { token: 'wrong', wait: 100 });
  await assert.rejects(sub.done, (e) => e instanceof TablesyncError && e.code === 'Unauthorized' && e.status === 401);
  assert.throws(() => subscribe(server.url, () => {}, {}), TypeError);
});
