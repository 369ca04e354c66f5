// Values across the JS boundary: integer modes, DOUBLE vs INTEGER, BINARY,
// and rows that keep their types and digest when written back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Database,
  Double,
  IntegerOutOfRangeError,
  TablesyncError,
  double,
} from 'tablesync';

function fresh(opts) {
  const db = Database.memory('eu', opts);
  db.createTable('t', { primaryKey: [['k', 'INTEGER']], maxVersions: 5 });
  return db;
}

function typeOfStored(db, value) {
  // The change record's value shows the stored type through the same rules;
  // compare digests of a row holding `value` with a row holding a typed reference.
  db.putRow('t', { k: 1 }, [['v', value, 1]]);
  return db.tableDigest('t');
}

test('integral numbers are INTEGER, other numbers DOUBLE, double(x) forces DOUBLE', () => {
  const a = fresh();
  const b = fresh();
  const c = fresh();
  try {
    const asInt = typeOfStored(a, 1);
    const asBigint = typeOfStored(b, 1n);
    const asDouble = typeOfStored(c, double(1));
    assert.equal(asInt, asBigint, 'number 1 and bigint 1n are the same INTEGER');
    assert.notEqual(asInt, asDouble, 'double(1) is DOUBLE, not INTEGER');
    const row = c.getRow('t', { k: 1 });
    assert.ok(row.columns.v instanceof Double, 'an integral DOUBLE reads back as Double');
    assert.equal(row.columns.v.value, 1);
    assert.equal(+row.columns.v, 1, 'Double converts to a number');
    assert.equal(JSON.stringify(row.columns), '{"v":1}');
  } finally {
    a.free();
    b.free();
    c.free();
  }
});

test('non-integral, NaN, ±Infinity and -0 are DOUBLE and read back with their value', () => {
  const db = fresh();
  try {
    const values = { a: 0.5, b: NaN, c: Infinity, d: -Infinity, e: double(-0), f: -2.75 };
    db.putRow('t', { k: 1 }, values);
    const cols = db.getRow('t', { k: 1 }).columns;
    assert.equal(cols.a, 0.5);
    assert.ok(Number.isNaN(cols.b));
    assert.equal(cols.c, Infinity);
    assert.equal(cols.d, -Infinity);
    assert.ok(cols.e instanceof Double && Object.is(cols.e.value, -0), '-0 keeps its sign as a Double');
    assert.equal(cols.f, -2.75);
  } finally {
    db.free();
  }
});

test('number mode: INTEGER beyond ±(2^53−1) throws IntegerOutOfRange on read', () => {
  const db = fresh();
  try {
    db.putRow('t', { k: 1 }, { big: 2n ** 60n, edge: 2n ** 53n - 1n, neg: -(2n ** 53n) });
    assert.throws(
      () => db.getRow('t', { k: 1 }),
      (e) =>
        e instanceof RangeError &&
        e instanceof IntegerOutOfRangeError &&
        e instanceof TablesyncError &&
        e.code === 'IntegerOutOfRange',
    );
    // The safe edge reads fine on its own.
    const row = db.getRow('t', { k: 1 }, { columns: ['edge'] });
    assert.equal(row.columns.edge, Number.MAX_SAFE_INTEGER);
    assert.throws(() => db.getRow('t', { k: 1 }, { columns: ['neg'] }), { code: 'IntegerOutOfRange' });
  } finally {
    db.free();
  }
});

test('bigint mode returns every INTEGER (keys, values, increments) as bigint', () => {
  const db = fresh({ integers: 'bigint' });
  try {
    assert.equal(db.integers, 'bigint');
    db.putRow('t', { k: 7 }, { small: 1, big: 2n ** 62n, neg: -(2n ** 63n), d: 1.5 });
    const row = db.getRow('t', { k: 7n });
    assert.deepEqual(row.primaryKey, { k: 7n });
    assert.equal(row.columns.small, 1n);
    assert.equal(row.columns.big, 2n ** 62n);
    assert.equal(row.columns.neg, -(2n ** 63n));
    assert.equal(row.columns.d, 1.5, 'DOUBLE stays a number');
    db.updateRow('t', { k: 7 }, { increment: { small: 2n ** 40n } });
    assert.equal(db.getRow('t', { k: 7 }).columns.small, 2n ** 40n + 1n);
  } finally {
    db.free();
  }
});

test('inputs: unsafe integer numbers and bigints beyond i64 are rejected and change nothing', () => {
  const db = fresh();
  try {
    const before = db.tableDigest('t');
    assert.throws(() => db.putRow('t', { k: 1 }, { v: 2 ** 53 }), { code: 'IntegerOutOfRange' });
    assert.throws(() => db.putRow('t', { k: 1 }, { v: 2n ** 63n }), { code: 'IntegerOutOfRange' });
    assert.throws(() => db.putRow('t', { k: 1 }, { v: -(2n ** 63n) - 1n }), RangeError);
    assert.throws(() => db.putRow('t', { k: 2 ** 60 }, { v: 1 }), { code: 'IntegerOutOfRange' });
    assert.throws(() => db.putRow('t', { k: 1.5 }, { v: 1 }), TypeError);
    assert.equal(db.tableDigest('t'), before);
    assert.equal(db.nextCursor(), 1, 'no record was logged');
  } finally {
    db.free();
  }
});

test('Binary is Uint8Array (Buffer accepted), booleans and strings round-trip', () => {
  const db = fresh();
  try {
    db.putRow('t', { k: 1 }, {
      bin: new Uint8Array([0, 255, 7]),
      buf: Buffer.from('hi'),
      empty: new Uint8Array(0),
      t: true,
      f: false,
      s: 'héllo ✓',
      e: '',
    });
    const c = db.getRow('t', { k: 1 }).columns;
    assert.ok(c.bin instanceof Uint8Array);
    assert.deepEqual([...c.bin], [0, 255, 7]);
    assert.deepEqual([...c.buf], [104, 105]);
    assert.equal(c.empty.length, 0);
    assert.equal(c.t, true);
    assert.equal(c.f, false);
    assert.equal(c.s, 'héllo ✓');
    assert.equal(c.e, '');
  } finally {
    db.free();
  }
});

test('a row read and written back unchanged keeps its types and its digest', () => {
  for (const integers of ['number', 'bigint']) {
    const src = fresh({ integers });
    const dst = fresh({ integers });
    try {
      src.putRow('t', { k: 1 }, [
        ['i', 42, 10],
        ['i', 41, 5],
        ['d', double(3), 10],
        ['x', 2.5, 10],
        ['neg0', double(-0), 10],
        ['b', new Uint8Array([1, 2]), 10],
        ['s', 'str', 10],
        ['t', true, 10],
      ]);
      const row = src.getRow('t', { k: 1 }, { maxVersions: 5 });
      dst.putRow('t', row.primaryKey, row.cells);
      assert.equal(dst.tableDigest('t'), src.tableDigest('t'), `digest kept (${integers} mode)`);
      const again = dst.getRow('t', { k: 1 }, { maxVersions: 5 });
      assert.deepEqual(again, row, `row kept (${integers} mode)`);
    } finally {
      src.free();
      dst.free();
    }
  }
});

test('double() checks its argument and Double behaves like its number', () => {
  assert.throws(() => double('1'), TypeError);
  assert.throws(() => double(1n), TypeError);
  const d = double(2);
  assert.equal(double(d), d, 'double of a Double is the same Double');
  assert.equal(d * 2, 4);
  assert.equal(`${d}`, '2');
  assert.ok(Object.isFrozen(d));
});

test('unsupported value types are TypeErrors', () => {
  const db = fresh();
  try {
    for (const bad of [null, undefined, {}, [], Symbol('x'), () => 1, new Date(), new Uint16Array(2), new ArrayBuffer(2)]) {
      assert.throws(() => db.putRow('t', { k: 1 }, { v: bad }), TypeError, `value ${String(typeof bad)}`);
    }
    assert.equal(db.nextCursor(), 1);
  } finally {
    db.free();
  }
});

test('integers option is validated', () => {
  assert.throws(() => Database.memory('a', { integers: 'BigInt' }), TypeError);
  assert.throws(() => Database.memory('a', { integer: 'bigint' }), TypeError, 'unknown option');
  assert.throws(() => Database.memory('a', 'bigint'), TypeError);
});

test('number mode: a write returns an unsafe key part (given as bigint) as bigint, never fails after committing', () => {
  const db = fresh();
  try {
    const key = db.putRow('t', { k: 2n ** 60n }, { v: 1 });
    assert.deepEqual(key, { k: 2n ** 60n });
    assert.deepEqual(db.updateRow('t', { k: 3 }, { put: { v: 2 } }), { k: 3 }, 'safe parts stay numbers');
    const [r] = db.batchWrite([{ type: 'delete', table: 't', primaryKey: { k: -(2n ** 62n) } }]);
    assert.deepEqual(r, { ok: true, primaryKey: { k: -(2n ** 62n) } });
    assert.equal(db.describeTable('t').rowCount, 2);
    // Reading that row back in number mode is the documented RangeError.
    assert.throws(() => db.getRow('t', { k: 2n ** 60n }), { code: 'IntegerOutOfRange' });
  } finally {
    db.free();
  }
});
