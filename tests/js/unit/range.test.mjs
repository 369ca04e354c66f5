// Range reads: getRange pages, nextStart, directions, bounds, and scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, INF_MAX, INF_MIN } from 'tablesync';

function filled(n) {
  const db = Database.memory('eu');
  db.createTable('t', { primaryKey: [['g', 'STRING'], ['i', 'INTEGER']] });
  for (let start = 0; start < n; start += 200) {
    const ops = [];
    for (let i = start; i < Math.min(n, start + 200); i++) {
      ops.push({ type: 'put', table: 't', primaryKey: { g: i % 2 ? 'odd' : 'even', i }, columns: { v: i } });
    }
    db.batchWrite(ops);
  }
  return db;
}

test('getRange returns one page and where the next starts', () => {
  const db = filled(10);
  try {
    const p1 = db.getRange('t', INF_MIN, INF_MAX, { limit: 4 });
    assert.deepEqual(p1.rows.map((r) => [r.primaryKey.g, r.primaryKey.i]), [
      ['even', 0], ['even', 2], ['even', 4], ['even', 6],
    ]);
    assert.deepEqual(p1.nextStart, { g: 'even', i: 8 });
    const p2 = db.getRange('t', p1.nextStart, INF_MAX, { limit: 4 });
    assert.deepEqual(p2.rows.map((r) => r.primaryKey.i), [8, 1, 3, 5]);
    const p3 = db.getRange('t', p2.nextStart, INF_MAX, { limit: 4 });
    assert.deepEqual(p3.rows.map((r) => r.primaryKey.i), [7, 9]);
    assert.equal(p3.nextStart, null);
  } finally {
    db.free();
  }
});

test('per-column bounds, pair-list bounds and backward ranges', () => {
  const db = filled(10);
  try {
    const odd = db.getRange('t', { g: 'odd', i: INF_MIN }, { g: 'odd', i: INF_MAX });
    assert.deepEqual(odd.rows.map((r) => r.primaryKey.i), [1, 3, 5, 7, 9]);
    const mid = db.getRange('t', [['g', 'even'], ['i', 4]], [['g', 'odd'], ['i', 3]]);
    assert.deepEqual(mid.rows.map((r) => r.primaryKey.i), [4, 6, 8, 1], 'start inclusive, end exclusive');
    const back = db.getRange('t', INF_MAX, INF_MIN, { direction: 'BACKWARD', limit: 3 });
    assert.deepEqual(back.rows.map((r) => r.primaryKey.i), [9, 7, 5]);
    assert.deepEqual(back.nextStart, { g: 'odd', i: 3 });
    const cols = db.getRange('t', INF_MIN, INF_MAX, { limit: 1, columns: ['nope'] });
    assert.deepEqual(cols.rows[0].columns, {});
    const filtered = db.getRange('t', INF_MIN, INF_MAX, { filter: { column: 'v', op: '>=', value: 8 } });
    assert.deepEqual(filtered.rows.map((r) => r.columns.v), [8, 9]);
  } finally {
    db.free();
  }
});

test('scan iterates every page (more rows than one page holds)', () => {
  const db = filled(5200);
  try {
    const rows = [...db.scan('t')];
    assert.equal(rows.length, 5200);
    assert.deepEqual(rows.slice(0, 2).map((r) => r.primaryKey), [{ g: 'even', i: 0 }, { g: 'even', i: 2 }]);
    let n = 0;
    for (const r of db.scan('t', { g: 'odd', i: INF_MIN }, null, { columns: ['v'] })) {
      assert.equal(r.primaryKey.g, 'odd');
      n++;
    }
    assert.equal(n, 2600);
    const back = [...db.scan('t', null, null, { direction: 'BACKWARD', limit: 3 })];
    assert.deepEqual(back.map((r) => r.primaryKey.i), [5199, 5197, 5195]);
    const it = db.scan('t', null, null, { limit: 2 });
    assert.equal(typeof it[Symbol.iterator], 'function');
    assert.equal([...it].length, 2);
  } finally {
    db.free();
  }
});

test('a scan holds a cursor, not the database: writes between pages', () => {
  const db = Database.memory('eu');
  db.createTable('n', { primaryKey: [['k', 'INTEGER']] });
  try {
    for (let base = 0; base < 12000; base += 400) {
      db.batchWrite(Array.from({ length: 200 }, (_, i) => ({ type: 'put', table: 'n', primaryKey: { k: base + 2 * i }, columns: { v: 1 } })));
    }
    const it = db.scan('n');
    const first = [];
    for (let i = 0; i < 5000; i++) first.push(it.next().value.primaryKey.k);
    assert.equal(first.at(-1), 9998);
    // The database is free between pages: behind the cursor is not seen,
    // ahead of it is, a row deleted ahead is not returned.
    db.putRow('n', { k: 1 }, { v: 2 });
    db.putRow('n', { k: 10001 }, { v: 2 });
    db.deleteRow('n', { k: 10002 });
    const rest = [...it].map((r) => r.primaryKey.k);
    const want = [];
    for (let k = 10000; k < 12000; k += 2) if (k !== 10002) want.push(k);
    want.push(10001);
    want.sort((a, b) => a - b);
    assert.deepEqual(rest, want);
    assert.deepEqual(it.next(), { value: undefined, done: true });
    // Breaking out of a scan early releases its cursor; the database goes on.
    for (const r of db.scan('n')) { assert.equal(r.primaryKey.k, 0); break; }
    assert.equal(db.scan('n', null, null, { direction: 'BACKWARD', limit: 1 }).next().value.primaryKey.k, 11998);
  } finally {
    db.free();
  }
});

test('range errors', () => {
  const db = filled(4);
  try {
    assert.throws(() => db.getRange('t', INF_MAX, INF_MIN), { code: 'OTSParameterInvalid' }, 'forward needs start < end');
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { direction: 'BACKWARD' }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { direction: 'SIDEWAYS' }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { limit: 0 }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', { g: 'a' }, INF_MAX), { code: 'OTSInvalidPK' });
    assert.throws(() => db.getRange('nope', INF_MIN, INF_MAX), { code: 'OTSObjectNotExist' });
    assert.throws(() => db.getRange('t', Symbol('x'), INF_MAX), TypeError);
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { limit: 'all' }), TypeError);
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { lmit: 2 }), TypeError);
    assert.throws(() => db.scan('t', null, null, { limit: 0 }), TypeError);
    assert.throws(() => db.scan('nope'), { code: 'OTSObjectNotExist' }, 'scan checks its arguments at once');
  } finally {
    db.free();
  }
});
