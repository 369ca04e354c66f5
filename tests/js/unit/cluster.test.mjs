// `Cluster` (the npm package's cluster client: the core's routing and
// protocol state in wasm, fetch in JS) against three real `tablesync serve
// --cluster` processes on loopback ("datacenters" eu, us, ap): every write
// mode, reads at ONE / LEADER / QUORUM, ranges merged across partitions
// with paging, one-round and two-phase-commit batches, typed errors on bad
// input, a stale map refreshed, and a killed datacenter.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Cluster, TablesyncError } from 'tablesync';
import { cli, startCluster } from '../helpers/cluster-servers.mjs';

const TOKEN = 'js-cluster-secret';
let env;

before(async () => {
  env = await startCluster(TOKEN);
});

after(async () => {
  await env?.stop();
});

const client = (source) =>
  Cluster.connect(source ?? env.regions[0].url, { token: TOKEN, localDc: 'eu', seed: 7 });
const value = (row) => (row === null ? null : row.columns.v);
const isCode = (code) => (e) => e instanceof TablesyncError && e.code === code;

test('connect by URL and by map bytes', async () => {
  const byUrl = await client();
  const byBytes = await client(new Uint8Array(readFileSync(env.mapFile)));
  const again = await client(byUrl.mapBytes());
  assert.ok(byUrl.mapEpoch >= 1);
  assert.equal(byBytes.mapEpoch, byUrl.mapEpoch);
  assert.equal(again.mapEpoch, byUrl.mapEpoch);
  assert.equal(byUrl.localDc, 'eu');
  assert.match(String(byUrl), /eu/);
});

test('every write mode and read level', async () => {
  const c = await client();
  const modes = [undefined, 'async', 'semi-sync:500', 'sync:ONE', 'QUORUM', 'sync:LOCAL_QUORUM',
    'EACH_QUORUM', 'ALL', 'sync:2'];
  for (const [i, mode] of modes.entries()) {
    for (const table of ['users', 'events']) {
      const w = await c.putRow(table, { k: 1000 + i }, { v: i, s: `row ${i}` }, { mode });
      assert.match(w.home, /-1$/);
      assert.equal(w.degraded, false);
    }
  }
  // A QUORUM write is on a majority: QUORUM and LEADER reads see it at once.
  await c.putRow('events', { k: 150 }, { v: 42 }, { mode: 'QUORUM' });
  assert.equal(value(await c.getRow('events', { k: 150 }, { level: 'QUORUM' })), 42);
  assert.equal(value(await c.getRow('events', { k: 150 }, { level: 'LEADER' })), 42);
  // An ALL write is everywhere: a ONE read from any replica sees it.
  await c.putRow('users', { k: 7 }, { v: 1 }, { mode: 'ALL' });
  for (let i = 0; i < 10; i++) assert.equal(value(await c.getRow('users', { k: 7 })), 1);
  const counts = c.requestsPerDatacenter();
  assert.ok(Object.values(counts).reduce((a, b) => a + b, 0) >= 10, JSON.stringify(counts));
  await c.updateRow('users', { k: 7 }, { put: { v: 2, w: 'x' }, mode: 'ALL' });
  let row = await c.getRow('users', { k: 7 }, { level: 'QUORUM' });
  assert.equal(row.columns.v, 2);
  assert.equal(row.columns.w, 'x');
  await c.updateRow('users', { k: 7 }, { deleteAll: ['w'], mode: 'ALL' });
  row = await c.getRow('users', { k: 7 }, { level: 'LEADER' });
  assert.equal(row.columns.v, 2);
  assert.ok(!('w' in row.columns));
  await c.deleteRow('users', { k: 7 }, { mode: 'ALL' });
  assert.equal(await c.getRow('users', { k: 7 }, { level: 'QUORUM' }), null);
  assert.equal(c.isDegraded('users'), false);
});

test('conditions are checked at the home', async () => {
  const c = await client();
  await c.putRow('users', { k: 500 }, { v: 1 }, { mode: 'QUORUM' });
  await assert.rejects(
    c.putRow('users', { k: 500 }, { v: 2 }, { condition: 'EXPECT_NOT_EXIST', mode: 'QUORUM' }),
    isCode('OTSConditionCheckFail'),
  );
  assert.equal(value(await c.getRow('users', { k: 500 }, { level: 'LEADER' })), 1);
  await c.putRow('users', { k: 500 }, { v: 3 }, { condition: 'EXPECT_EXIST', mode: 'QUORUM' });
  assert.equal(value(await c.getRow('users', { k: 500 }, { level: 'LEADER' })), 3);
});

test('ranges merge across partitions in key order, with paging', async () => {
  const c = await client();
  const keys = [];
  for (let k = 2000; k < 2060; k++) keys.push(k);
  for (let k = 40; k < 60; k++) keys.push(k);
  for (let k = 180; k < 230; k++) keys.push(k);
  for (const k of keys) await c.putRow('events', { k }, { v: k }, { mode: 'QUORUM' });
  const got = [];
  let start = [40];
  let pages = 0;
  for (;;) {
    const page = await c.getRange('events', start, [2060], { limit: 17 });
    pages++;
    got.push(...page.rows.map((r) => r.primaryKey.k));
    if (page.nextStart === null) break;
    assert.ok(page.nextStart instanceof Uint8Array);
    start = page.nextStart;
  }
  assert.ok(pages >= 8, `pages: ${pages}`);
  const want = [...new Set([...keys, 150])].filter((k) => k >= 40 && k < 2060).sort((a, b) => a - b);
  const wanted = new Set(want);
  assert.deepEqual(got.filter((k) => wanted.has(k)), want);
  assert.deepEqual(got, [...got].sort((a, b) => a - b));
  // A hash-placed table: a range is scattered to every home and merged.
  for (let k = 3000; k < 3040; k++) await c.putRow('users', { k }, { v: k }, { mode: 'ALL' });
  const { rows, nextStart } = await c.getRange('users', { k: 3000 }, { k: 3040 }, { limit: 1000 });
  assert.deepEqual(rows.map((r) => r.primaryKey.k), Array.from({ length: 40 }, (_, i) => 3000 + i));
  assert.equal(nextStart, null);
});

test('batches: one round, two-phase commit, and an abort that changes nothing', async () => {
  const c = await client();
  const one = await c.batchWrite([
    { type: 'put', table: 'events', primaryKey: { k: 10 }, columns: { v: 1 } },
    { type: 'put', table: 'events', primaryKey: { k: 11 }, columns: { v: 2 } },
  ]);
  assert.equal(one.committed, true);
  assert.equal(one.participants, 1);
  assert.equal(one.reason, '');
  assert.equal(typeof one.txn, 'bigint');
  const two = await c.batchWrite([
    { type: 'put', table: 'events', primaryKey: { k: 20 }, columns: { v: 3 } },
    { type: 'put', table: 'events', primaryKey: { k: 250 }, columns: { v: 4 } },
    { type: 'delete', table: 'events', primaryKey: { k: 10 } },
  ]);
  assert.equal(two.committed, true, two.reason);
  assert.equal(two.participants, 2);
  assert.equal(value(await c.getRow('events', { k: 250 }, { level: 'LEADER' })), 4);
  assert.equal(await c.getRow('events', { k: 10 }, { level: 'LEADER' }), null);
  // A failed condition in one partition aborts the whole transaction.
  const aborted = await c.batchWrite([
    { type: 'put', table: 'events', primaryKey: { k: 21 }, columns: { v: 5 } },
    { type: 'put', table: 'events', primaryKey: { k: 250 }, columns: { v: 6 }, condition: 'EXPECT_NOT_EXIST' },
  ]);
  assert.equal(aborted.committed, false);
  assert.equal(aborted.participants, 2);
  assert.ok(aborted.reason.length > 0);
  assert.notEqual(aborted.txn, two.txn);
  assert.equal(await c.getRow('events', { k: 21 }, { level: 'LEADER' }), null);
  assert.equal(value(await c.getRow('events', { k: 250 }, { level: 'LEADER' })), 4);
});

test('bad input is a typed error and changes nothing', async () => {
  const c = await client();
  await assert.rejects(c.putRow('users', { k: 9000 }, { v: 1 }, { mode: 'sometimes' }), isCode('OTSParameterInvalid'));
  await assert.rejects(c.getRow('users', { k: 9000 }, { level: 'MOST' }), isCode('OTSParameterInvalid'));
  await assert.rejects(
    c.batchWrite([{ type: 'update', table: 'users', primaryKey: { k: 9000 }, increment: { v: 1 } }]),
    isCode('OTSParameterInvalid'),
  );
  // Cluster writes take row-existence conditions only.
  await assert.rejects(
    c.putRow('users', { k: 9000 }, { v: 1 }, { condition: { row: 'IGNORE', column: { column: 'v', op: '==', value: 1 } } }),
    isCode('OTSParameterInvalid'),
  );
  await assert.rejects(c.batchWrite([]), isCode('OTSParameterInvalid'));
  await assert.rejects(c.getRange('users', null, null, { limit: 0 }), isCode('OTSParameterInvalid'));
  await assert.rejects(c.putRow('no_such_table', { k: 1 }, { v: 1 }), (e) => e instanceof TablesyncError);
  await assert.rejects(c.putRow('users', { k: 9000 }, { v: 1 }, { nope: 1 }), isCode('OTSParameterInvalid'));
  assert.equal(await c.getRow('users', { k: 9000 }, { level: 'QUORUM' }), null);
  await assert.rejects(Cluster.connect(new TextEncoder().encode('not a map'), { token: TOKEN }), isCode('CorruptData'));
  await assert.rejects(Cluster.connect(42, { token: TOKEN }), TypeError);
  await assert.rejects(Cluster.connect(env.regions[0].url, {}), TypeError);
  // A wrong token: the region's refusal, typed.
  await assert.rejects(Cluster.connect(env.regions[0].url, { token: 'wrong' }), (e) => e instanceof TablesyncError && e.status === 401);
});

test('a stale map is refreshed and the write retried', async () => {
  const old = await client();
  const epoch = old.mapEpoch;
  cli(TOKEN, 'cluster', 'set-mode', env.mapFile, 'users', 'sync:ALL');
  cli(TOKEN, 'cluster', 'push', env.mapFile);
  // The old client routes with the old epoch, is refused, refreshes, retries.
  await old.putRow('users', { k: 77 }, { v: 77 });
  assert.equal(old.mapEpoch, epoch + 1);
  assert.equal((await client()).mapEpoch, epoch + 1);
  assert.equal(await old.refreshMap(), epoch + 1);
  // Reads and batches with a stale map refresh too.
  const stale = await client();
  cli(TOKEN, 'cluster', 'set-mode', env.mapFile, 'users', 'sync:QUORUM');
  cli(TOKEN, 'cluster', 'push', env.mapFile);
  assert.equal(value(await stale.getRow('users', { k: 77 }, { level: 'LEADER' })), 77);
  assert.equal(stale.mapEpoch, epoch + 2);
  const stale2 = await Cluster.connect(old.mapBytes(), { token: TOKEN, localDc: 'eu' });
  assert.equal(stale2.mapEpoch, epoch + 1);
  const b = await stale2.batchWrite([{ type: 'put', table: 'events', primaryKey: { k: 30 }, columns: { v: 30 } }]);
  assert.equal(b.committed, true);
  assert.equal(stale2.mapEpoch, epoch + 2);
});

test('a killed datacenter leaves the others serving', async () => {
  const c = await client();
  for (let k = 600; k < 620; k++) await c.putRow('events', { k }, { v: k }, { mode: 'ALL' });
  await env.regions[2].kill(); // ap, SIGKILL
  for (let k = 600; k < 620; k++) {
    assert.equal(value(await c.getRow('events', { k })), k);
    assert.equal(value(await c.getRow('events', { k }, { level: 'QUORUM' })), k);
  }
  await c.putRow('events', { k: 700 }, { v: 1 }, { mode: 'QUORUM' });
  assert.equal(value(await c.getRow('events', { k: 700 }, { level: 'QUORUM' })), 1);
  // ALL cannot be met with a datacenter down: a typed error, not a hang.
  await assert.rejects(c.putRow('events', { k: 701 }, { v: 1 }, { mode: 'ALL' }), (e) => e instanceof TablesyncError);
  // Semi-sync with ap down: a write whose other replica is in ap waits
  // for T, then is acknowledged by its home alone and reported degraded;
  // the table stays degraded (later writes never wait). Writes whose home
  // is ap fail with a typed error.
  const results = [];
  for (let k = 800; k < 840; k++) {
    try {
      results.push(await c.putRow('users', { k }, { v: k }, { mode: 'semi-sync:250' }));
    } catch (e) {
      // Its home is ap: no answer.
      assert.ok(e instanceof TablesyncError && e.code === 'NetworkError', String(e));
    }
  }
  assert.ok(results.some((w) => w.degraded), JSON.stringify(results));
  assert.equal(c.isDegraded('users'), true);
  // A range over every partition still answers (from the live replicas).
  const page = await c.getRange('events', [600], [620], { limit: 100 });
  assert.deepEqual(page.rows.map((r) => r.primaryKey.k), Array.from({ length: 20 }, (_, i) => 600 + i));
});
