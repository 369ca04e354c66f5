// Errors: the TablesyncError class, freed databases, and hostile input
// (throwing getters, proxies, deep or cyclic conditions) that must end in a
// typed error or the user's own exception, never a broken instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, IntegerOutOfRangeError, TablesyncError, INF_MIN, INF_MAX } from 'tablesync';

function db1() {
  const db = Database.memory('eu');
  db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  return db;
}

test('TablesyncError is an Error subclass with a stable code', () => {
  const db = db1();
  try {
    db.putRow('t', { k: 1 }, { a: 1 });
    let err;
    try {
      db.putRow('t', { k: 1 }, { a: 2 }, { condition: 'EXPECT_NOT_EXIST' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Error);
    assert.ok(err instanceof TablesyncError);
    assert.equal(err.name, 'TablesyncError');
    assert.equal(err.code, 'OTSConditionCheckFail');
    assert.match(err.message, /^OTSConditionCheckFail: /);
    assert.ok(typeof err.stack === 'string');
    assert.ok(!(new TypeError('x') instanceof TablesyncError));
    assert.ok(new IntegerOutOfRangeError('x') instanceof TablesyncError);
    assert.ok(!(new IntegerOutOfRangeError('x') instanceof TypeError));
    const own = new TablesyncError('m', 'C');
    assert.equal(own.code, 'C');
  } finally {
    db.free();
  }
});

test('a freed database throws DatabaseClosed; free is idempotent', () => {
  const db = db1();
  assert.equal(db.freed, false);
  db.free();
  db.free();
  assert.equal(db.freed, true);
  for (const fn of [() => db.listTables(), () => db.getRow('t', { k: 1 }), () => db.region, () => db.exportSnapshot()]) {
    assert.throws(fn, (e) => e instanceof TablesyncError && e.code === 'DatabaseClosed');
  }
  const other = Database.memory('us');
  assert.throws(() => other.copyTable('t', 'x', { target: db }), { code: 'DatabaseClosed' });
  other.free();
});

test('exceptions thrown by user getters and proxies come back as they are; the database keeps working', () => {
  const db = db1();
  try {
    const boom = new Error('boom');
    const getter = { get a() { throw boom; } };
    const hostile = [
      () => db.putRow('t', { k: 1 }, getter),
      () => db.putRow('t', { get k() { throw boom; } }, { a: 1 }),
      () => db.putRow('t', new Proxy({}, { ownKeys() { throw boom; } }), { a: 1 }),
      () => db.putRow('t', { k: 1 }, new Proxy([], { get(_, p) { if (p === 'length') throw boom; return undefined; } })),
      () => db.putRow('t', { k: 1 }, { a: 1 }, { get condition() { throw boom; } }),
      () => db.getRow('t', { k: 1 }, { filter: { column: 'a', op: '==', get value() { throw boom; } } }),
      () => db.batchWrite([{ type: 'put', table: 't', get primaryKey() { throw boom; } }]),
      () => db.applyChanges(new Proxy([], { get() { throw boom; } })),
      () => db.createTable('u', { primaryKey: [new Proxy(['k', 'INTEGER'], { get(t, p) { if (p === '1') throw boom; return t[p]; } })] }),
    ];
    for (const fn of hostile) {
      assert.throws(fn, (e) => e === boom, fn.toString());
    }
    // Proxies that do not throw are read through their traps like plain objects.
    db.putRow('t', new Proxy({ k: 2 }, {}), new Proxy({ a: 5 }, {}));
    assert.equal(db.getRow('t', { k: 2 }).columns.a, 5);
    // A proxy of a Uint8Array is not BINARY (only genuine typed arrays are).
    assert.throws(() => db.putRow('t', { k: 3 }, { b: new Proxy(new Uint8Array(2), {}) }), TypeError);
    // Symbol keys are ignored; the instance is fine after all of the above.
    db.putRow('t', { k: 4, [Symbol('x')]: 1 }, { a: 1, [Symbol('y')]: 2 });
    assert.deepEqual(db.getRow('t', { k: 4 }).columns, { a: 1 });
    assert.equal(db.describeTable('t').rowCount, 2);
    assert.equal(db.verifyTableDigest('t'), db.tableDigest('t'));
  } finally {
    db.free();
  }
});

test('deep and cyclic conditions are refused, not a stack overflow', () => {
  const db = db1();
  try {
    db.putRow('t', { k: 1 }, { a: 1 });
    let deep = { column: 'a', op: '==', value: 1 };
    for (let i = 0; i < 100000; i++) deep = { not: deep };
    assert.throws(() => db.getRow('t', { k: 1 }, { filter: deep }), { code: 'OTSParameterInvalid' });
    const cyc = { and: [] };
    cyc.and.push(cyc);
    assert.throws(() => db.putRow('t', { k: 1 }, { a: 2 }, { condition: cyc }), { code: 'OTSParameterInvalid' });
    let ok = { column: 'a', op: '==', value: 1 };
    for (let i = 0; i < 30; i++) ok = { not: ok };
    assert.notEqual(db.getRow('t', { k: 1 }, { filter: ok }), null, 'moderate nesting is fine');
    assert.equal(db.getRow('t', { k: 1 }).columns.a, 1);
  } finally {
    db.free();
  }
});

test('hostile sizes: huge keys, many columns, sparse arrays', () => {
  const db = db1();
  try {
    db.createTable('s', { primaryKey: [['k', 'STRING']] });
    assert.throws(() => db.putRow('s', { k: 'x'.repeat(10_000_000) }, { a: 1 }), { code: 'OTSInvalidPK' });
    assert.throws(() => db.putRow('t', { k: 1 }, { a: new Uint8Array(3 * 1024 * 1024) }), { code: 'OTSOutOfRowSizeLimit' });
    const sparse = [];
    sparse[10_000_000] = ['a', 1];
    assert.throws(() => db.putRow('t', { k: 1 }, sparse), TypeError, 'holes are not column entries');
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { limit: 2 ** 60 }), { code: 'IntegerOutOfRange' });
    assert.deepEqual(db.getRange('t', INF_MIN, INF_MAX, { limit: 10 ** 9 }).rows, []);
    assert.equal(db.nextCursor(), 1);
  } finally {
    db.free();
  }
});
