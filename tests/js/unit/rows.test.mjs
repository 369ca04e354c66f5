// Row operations: put, get, update, delete; conditions, filters, versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, ManualClock, TablesyncError } from 'tablesync';

function users() {
  const clock = new ManualClock(1_700_000_000_000);
  const db = Database.memory('eu', { clock });
  db.createTable('users', { primaryKey: [['uid', 'INTEGER']], maxVersions: 3 });
  return { db, clock };
}

test('put, get, update and delete a row', () => {
  const { db } = users();
  try {
    assert.equal(db.getRow('users', { uid: 1 }), null);
    assert.deepEqual(db.putRow('users', { uid: 1 }, { name: 'Ada', age: 36 }), { uid: 1 });
    const row = db.getRow('users', { uid: 1 });
    assert.deepEqual(row.primaryKey, { uid: 1 });
    assert.deepEqual(row.columns, { age: 36, name: 'Ada' });
    assert.deepEqual(row.cells, [
      { name: 'age', value: 36, timestamp: 1_700_000_000_000 },
      { name: 'name', value: 'Ada', timestamp: 1_700_000_000_000 },
    ]);
    db.updateRow('users', [['uid', 1]], { put: { city: 'Paris' }, increment: { age: 1 } });
    assert.deepEqual(db.getRow('users', { uid: 1 }).columns, { age: 37, city: 'Paris', name: 'Ada' });
    db.updateRow('users', { uid: 1 }, { deleteAll: ['city'] });
    assert.equal(db.getRow('users', { uid: 1 }).columns.city, undefined);
    db.deleteRow('users', { uid: 1 });
    assert.equal(db.getRow('users', { uid: 1 }), null);
    assert.equal(db.describeTable('users').rowCount, 0);
  } finally {
    db.free();
  }
});

test('a put replaces the whole row; columns given as entries keep their timestamps', () => {
  const { db } = users();
  try {
    db.putRow('users', { uid: 1 }, { a: 1, b: 2 });
    db.putRow('users', { uid: 1 }, [['c', 3, 5], { name: 'd', value: 'x', timestamp: 6n }]);
    const row = db.getRow('users', { uid: 1 });
    assert.deepEqual(row.columns, { c: 3, d: 'x' });
    assert.deepEqual(row.cells.map((c) => c.timestamp), [5, 6]);
  } finally {
    db.free();
  }
});

test('versions: maxVersions, timeRange, single-version delete and column selection', () => {
  const { db } = users();
  try {
    for (const ts of [10, 20, 30, 40]) {
      db.updateRow('users', { uid: 1 }, { put: [['v', ts / 10, ts]] });
    }
    db.updateRow('users', { uid: 1 }, { put: [['w', 'x', 1]] });
    const all = db.getRow('users', { uid: 1 }, { maxVersions: 10, columns: ['v'] });
    assert.deepEqual(all.cells.map((c) => [c.value, c.timestamp]), [[4, 40], [3, 30], [2, 20]],
      'the table keeps 3 visible versions, newest first');
    assert.deepEqual(Object.keys(all.columns), ['v'], 'only the selected column');
    const ranged = db.getRow('users', { uid: 1 }, { maxVersions: 3, timeRange: [20, 40], columns: ['v'] });
    assert.deepEqual(ranged.cells.map((c) => c.timestamp), [30, 20]);
    const ranged2 = db.getRow('users', { uid: 1 }, { maxVersions: 3, timeRange: { start: 30, end: 31 } });
    assert.deepEqual(ranged2.cells.map((c) => c.timestamp), [30]);
    db.updateRow('users', { uid: 1 }, { delete: [['v', 40]] });
    assert.equal(db.getRow('users', { uid: 1 }).columns.v, 3);
    db.updateRow('users', { uid: 1 }, { delete: [{ name: 'v', timestamp: 30 }] });
    assert.equal(db.getRow('users', { uid: 1 }).columns.v, 2);
  } finally {
    db.free();
  }
});

test('row conditions and column conditions (API.md shape, camelCase flags too)', () => {
  const { db } = users();
  try {
    db.putRow('users', { uid: 1 }, { age: 20 }, { condition: 'EXPECT_NOT_EXIST' });
    const fail = (fn) => assert.throws(fn, (e) => e instanceof TablesyncError && e.code === 'OTSConditionCheckFail');
    fail(() => db.putRow('users', { uid: 1 }, { age: 1 }, { condition: 'EXPECT_NOT_EXIST' }));
    fail(() => db.updateRow('users', { uid: 2 }, { put: { a: 1 }, condition: 'EXPECT_EXIST' }));
    fail(() => db.deleteRow('users', { uid: 2 }, { condition: 'EXPECT_EXIST' }));
    fail(() => db.updateRow('users', { uid: 1 }, {
      put: { ok: true },
      condition: { row: 'EXPECT_EXIST', column: { column: 'age', op: '<', value: 18 } },
    }));
    db.updateRow('users', { uid: 1 }, {
      put: { adult: true },
      condition: { row: 'EXPECT_EXIST', column: { column: 'age', op: '>=', value: 18 } },
    });
    // A bare column condition; composite and NOT.
    db.updateRow('users', { uid: 1 }, {
      put: { x: 1 },
      condition: { and: [{ column: 'age', op: '==', value: 20 }, { not: { column: 'adult', op: '==', value: false } }] },
    });
    fail(() => db.updateRow('users', { uid: 1 }, {
      put: { x: 2 },
      condition: { or: [{ column: 'age', op: '>', value: 30 }, { column: 'missing', op: '==', value: 1, pass_if_missing: false }] },
    }));
    db.updateRow('users', { uid: 1 }, {
      put: { x: 3 },
      condition: { column: 'missing', op: '==', value: 1, passIfMissing: true },
    });
    // An INTEGER column compares with a DOUBLE operand numerically.
    db.updateRow('users', { uid: 1 }, { put: { y: 1 }, condition: { column: 'age', op: '>', value: 19.5 } });
    assert.deepEqual(db.getRow('users', { uid: 1 }).columns, { adult: true, age: 20, x: 3, y: 1 });
    db.deleteRow('users', { uid: 1 }, { condition: 'EXPECT_EXIST' });
    assert.equal(db.getRow('users', { uid: 1 }), null);
  } finally {
    db.free();
  }
});

test('filters on reads', () => {
  const { db } = users();
  try {
    db.putRow('users', { uid: 1 }, { age: 20 });
    assert.notEqual(db.getRow('users', { uid: 1 }, { filter: { column: 'age', op: '>=', value: 18 } }), null);
    assert.equal(db.getRow('users', { uid: 1 }, { filter: { column: 'age', op: '<', value: 18 } }), null);
    assert.equal(db.getRow('users', { uid: 1 }, { filter: { column: 'zz', op: '==', value: 1, pass_if_missing: false } }), null);
  } finally {
    db.free();
  }
});

test('increment: missing counts as 0, non-INTEGER columns are an error', () => {
  const { db } = users();
  try {
    db.updateRow('users', { uid: 1 }, { increment: [['n', 5]] });
    db.updateRow('users', { uid: 1 }, { increment: { n: -2n } });
    assert.equal(db.getRow('users', { uid: 1 }).columns.n, 3);
    db.updateRow('users', { uid: 1 }, { put: { s: 'x' } });
    assert.throws(() => db.updateRow('users', { uid: 1 }, { increment: { s: 1 } }), { code: 'OTSParameterInvalid' });
  } finally {
    db.free();
  }
});

test('row errors: codes, nothing changed', () => {
  const { db } = users();
  try {
    db.createTable('pair', { primaryKey: [['a', 'STRING'], ['b', 'BINARY']] });
    const cases = [
      [() => db.putRow('nope', { uid: 1 }, { a: 1 }), 'OTSObjectNotExist'],
      [() => db.putRow('users', { id: 1 }, { a: 1 }), 'OTSInvalidPK'],
      [() => db.putRow('users', { uid: 'x' }, { a: 1 }), 'OTSInvalidPK'],
      [() => db.putRow('users', { uid: 1, x: 2 }, { a: 1 }), 'OTSInvalidPK'],
      [() => db.putRow('pair', { a: 'x' }, { a: 1 }), 'OTSInvalidPK'],
      [() => db.putRow('pair', { a: 'x'.repeat(1025), b: new Uint8Array(1) }, { c: 1 }), 'OTSInvalidPK'],
      [() => db.putRow('users', { uid: 1 }, { 'bad\nname': 1 }), 'OTSParameterInvalid'],
      [() => db.putRow('users', { uid: 1 }, { uid: 1 }), 'OTSParameterInvalid'],
      [() => db.putRow('users', { uid: 1 }, Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`c${i}`, i]))), 'OTSOutOfColumnCountLimit'],
      [() => db.putRow('users', { uid: 1 }, { big: 'x'.repeat(2 * 1024 * 1024 + 1) }), 'OTSOutOfRowSizeLimit'],
      [() => db.putRow('users', { uid: 1 }, [['a', 1, -5]]), 'OTSParameterInvalid'],
      [() => db.getRow('users', { uid: 1 }, { maxVersions: 0 }), 'OTSParameterInvalid'],
      [() => db.updateRow('users', { uid: 1 }, {}), 'OTSParameterInvalid'],
      [() => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: 'MAYBE' }), 'OTSParameterInvalid'],
      [() => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { column: 'a', op: '=~', value: 1 } }), 'OTSParameterInvalid'],
      [() => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { and: [] } }), 'OTSParameterInvalid'],
    ];
    for (const [fn, code] of cases) {
      assert.throws(fn, (e) => e instanceof TablesyncError && e.code === code, `${code}: ${fn}`);
    }
    assert.equal(db.nextCursor(), 1, 'nothing logged');
    assert.equal(db.describeTable('users').rowCount, 0);
  } finally {
    db.free();
  }
});

test('wrong JS types in row calls are TypeErrors', () => {
  const { db } = users();
  try {
    const cases = [
      () => db.putRow(5, { uid: 1 }, {}),
      () => db.putRow('users', 1, {}),
      () => db.putRow('users', 'uid', {}),
      () => db.putRow('users', [['uid']], {}),
      () => db.putRow('users', { uid: 1 }, 'a'),
      () => db.putRow('users', { uid: 1 }, [['a']]),
      () => db.putRow('users', { uid: 1 }, [['a', 1, 'ts']]),
      () => db.putRow('users', { uid: 1 }, [{ name: 'a', value: 1, when: 2 }]),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condtion: 'IGNORE' }),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: 5 }),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { column: 'a', op: '==' } }),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { column: 'a', op: '==', value: 1, pass_if_missing: 'yes' } }),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { and: {} } }),
      () => db.putRow('users', { uid: 1 }, { a: 1 }, { condition: { and: [1] } }),
      () => db.getRow('users', { uid: 1 }, { columns: 'a' }),
      () => db.getRow('users', { uid: 1 }, { columns: [1] }),
      () => db.getRow('users', { uid: 1 }, { timeRange: 5 }),
      () => db.getRow('users', { uid: 1 }, { timeRange: [1] }),
      () => db.getRow('users', { uid: 1 }, { maxVersions: '1' }),
      () => db.getRow('users', { uid: 1 }, { filter: 'age' }),
      () => db.updateRow('users', { uid: 1 }, { increment: { a: 1.5 } }),
      () => db.updateRow('users', { uid: 1 }, { deleteAll: 'a' }),
      () => db.updateRow('users', { uid: 1 }, { delete: [['a']] }),
      () => db.updateRow('users', { uid: 1 }, { putt: { a: 1 } }),
      () => db.deleteRow('users', { uid: 1 }, 'EXPECT_EXIST'),
    ];
    for (const fn of cases) assert.throws(fn, TypeError, fn.toString());
    assert.equal(db.nextCursor(), 1);
  } finally {
    db.free();
  }
});
