// The row fast path (bindings-wasm/js/wire.mjs + src/rows_wire.rs): putRow,
// getRow, getRange, batchWrite and batchGet cross into wasm once with byte
// buffers. These tests hold it to the field-by-field path of the raw
// module (same results, same errors), and check that malformed buffers are
// CorruptData errors, that the column-name table stays in step, and that
// calls made from user code inside a call work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  AUTO_INCREMENT,
  Database,
  Double,
  INF_MAX,
  INF_MIN,
  IntegerOutOfRangeError,
  ManualClock,
  TablesyncError,
  double,
} from 'tablesync';

// The raw wasm-bindgen module the package wraps (the same instance).
const require = createRequire(import.meta.url);
const raw = require(join(dirname(require.resolve('tablesync/package.json')), 'node', 'tablesync_wasm.js'));

const T0 = 1_700_000_000_000;

/** A region with a table of every key type, rows of every value type and several versions. */
function sample(opts) {
  const clock = new ManualClock(T0);
  const db = Database.memory('eu', { ...opts, clock });
  db.createTable('t', {
    primaryKey: [['s', 'STRING'], ['i', 'INTEGER'], ['b', 'BINARY']],
    maxVersions: 3,
  });
  const values = {
    ascii: 'plain',
    unicode: 'héllo wörld ✓ 𝄞',
    long: 'x'.repeat(300),
    empty: '',
    int: -42,
    big: 2 ** 53 - 1,
    frac: 0.5,
    whole: double(3),
    negZero: double(-0),
    nan: NaN,
    inf: -Infinity,
    yes: true,
    no: false,
    bytes: new Uint8Array([0, 1, 255]),
    noBytes: new Uint8Array(0),
  };
  for (let n = 0; n < 5; n++) {
    db.putRow('t', { s: `k${n}é`, i: n - 2, b: new Uint8Array([n]) }, values);
    clock.advance(1);
    db.updateRow('t', [['s', `k${n}é`], ['i', n - 2], ['b', new Uint8Array([n])]], { put: [['int', n, T0 + 100 + n]] });
  }
  return { db, clock };
}

/** The same region as a raw database (its rows read field by field). */
function rawCopy(db, integers) {
  return raw.RawDatabase.importSnapshot(db.exportSnapshot(), { integers });
}

const start = { s: INF_MIN, i: INF_MIN, b: INF_MIN };

test('reads on the fast path equal the field-by-field reads, in both integer modes', () => {
  for (const integers of ['number', 'bigint']) {
    const { db } = sample({ integers });
    const r = rawCopy(db, integers);
    try {
      const key = { s: 'k3é', i: 1, b: new Uint8Array([3]) };
      const k = integers === 'bigint' ? { ...key, i: 1n } : key;
      for (const opts of [undefined, { maxVersions: 3 }, { columns: ['int', 'unicode'], maxVersions: 2 },
        { timeRange: [T0, T0 + 10] }, { filter: { column: 'int', op: '>', value: 0 } }]) {
        const fast = db.getRow('t', k, opts);
        assert.deepEqual(fast, r.getRow('t', k, opts), JSON.stringify(opts));
        assert.notEqual(fast, null);
      }
      assert.equal(db.getRow('t', { ...k, s: 'missing' }), null);
      const row = db.getRow('t', k);
      assert.ok(row.columns.whole instanceof Double && row.columns.whole.value === 3);
      assert.ok(row.columns.negZero instanceof Double && Object.is(row.columns.negZero.value, -0));
      assert.ok(Number.isNaN(row.columns.nan));
      assert.ok(row.columns.bytes instanceof Uint8Array && row.columns.bytes.length === 3);
      assert.equal(row.columns.unicode, 'héllo wörld ✓ 𝄞');
      assert.equal(typeof row.columns.int, integers === 'bigint' ? 'bigint' : 'number');

      for (const opts of [undefined, { limit: 2 }, { direction: 'BACKWARD' }, { columns: ['ascii'] }]) {
        const backward = opts?.direction === 'BACKWARD';
        const [from, to] = backward ? [INF_MAX, INF_MIN] : [start, INF_MAX];
        assert.deepEqual(db.getRange('t', from, to, opts), r.getRange('t', from, to, opts), JSON.stringify(opts));
      }
      const page = db.getRange('t', start, INF_MAX, { limit: 2 });
      assert.equal(page.nextStart.s, 'k2é', 'nextStart is a key object');

      const requests = [
        { table: 't', primaryKey: k },
        { table: 't', primaryKey: { ...k, s: 'none' } },
        { table: 'nope', primaryKey: k },
        { table: 't', primaryKey: k, columns: ['long'], filter: { column: 'yes', op: '==', value: true } },
      ];
      const fast = db.batchGet(requests);
      const slow = r.batchGet(requests);
      assert.deepEqual(fast.map((x) => x.ok), [true, true, false, true]);
      assert.deepEqual(fast[0], slow[0]);
      assert.deepEqual(fast[3], slow[3]);
      assert.ok(fast[2].error instanceof TablesyncError);
      assert.equal(fast[2].error.code, 'OTSObjectNotExist');
      assert.equal(fast[2].error.message, slow[2].error.message);
    } finally {
      db.free();
      r.free();
    }
  }
});

test('writes on the fast path store what the field-by-field writes store', () => {
  const clockA = new ManualClock(T0);
  const clockB = new ManualClock(T0);
  const a = Database.memory('eu', { clock: clockA, integers: 'bigint' });
  const b = raw.RawDatabase.memoryWithClock('eu', { integers: 'bigint' }, clockB);
  try {
    for (const d of [a, b]) {
      d.createTable('t', { primaryKey: [['k', 'INTEGER'], ['n', 'STRING']] });
      d.createTable('auto', { primaryKey: [['p', 'STRING'], ['id', 'INTEGER', 'AUTO_INCREMENT']] });
    }
    const ops = [
      { type: 'put', table: 't', primaryKey: { k: 1, n: 'a' }, columns: { x: 1, y: 'é', z: double(2), w: new Uint8Array([9]) } },
      { type: 'PUT', table: 't', primaryKey: [['k', 2n], ['n', 'b']], columns: [['x', 9007199254740993n, 5], { name: 'y', value: 0.25 }] },
      { type: 'update', table: 't', primaryKey: { k: 6, n: 'a' }, put: { q: true }, increment: { x: 2 } },
      { type: 'delete', table: 't', primaryKey: { k: 3, n: 'c' }, condition: 'EXPECT_EXIST' },
      { type: 'put', table: 't', primaryKey: { k: 4, n: 'd' }, columns: {}, condition: { row: 'EXPECT_NOT_EXIST' } },
    ];
    const fast = a.batchWrite(ops);
    const slow = b.batchWrite(ops);
    assert.deepEqual(fast.map((x) => x.ok), slow.map((x) => x.ok));
    assert.deepEqual(fast.slice(0, 4).map((x) => x.ok), [true, true, true, false]);
    assert.deepEqual(fast.map((x) => x.primaryKey), slow.map((x) => x.primaryKey));
    assert.equal(fast[3].error.code, 'OTSConditionCheckFail');
    assert.equal(fast[3].error.message, slow[3].error.message);
    assert.deepEqual(
      a.putRow('t', { k: 5, n: 'e' }, [['v', 'x', 7]], { condition: 'EXPECT_NOT_EXIST' }),
      b.putRow('t', { k: 5, n: 'e' }, [['v', 'x', 7]], { condition: 'EXPECT_NOT_EXIST' }),
    );
    const auto = a.putRow('auto', { p: 'x', id: AUTO_INCREMENT }, { v: 1 });
    assert.equal(typeof auto.id, 'bigint', 'AUTO_INCREMENT comes back filled in (bigint mode)');
    assert.deepEqual(auto, b.putRow('auto', { p: 'x', id: AUTO_INCREMENT }, { v: 1 }));
    assert.equal(a.tableDigest('auto'), b.tableDigest('auto'));
    assert.equal(a.tableDigest('t'), b.tableDigest('t'));
    assert.equal(a.nextCursor(), b.nextCursor());
  } finally {
    a.free();
    b.free();
  }
});

test('the fast path keeps the errors of the field-by-field path', () => {
  const db = Database.memory('eu');
  try {
    db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    db.putRow('t', { k: 1 }, { big: 2n ** 60n, v: 1 });
    assert.throws(() => db.getRow('t', { k: 1 }), IntegerOutOfRangeError, 'number mode refuses an unsafe INTEGER');
    // The failed result defined names JS never saw: later reads still name columns right.
    assert.deepEqual(db.getRow('t', { k: 1 }, { columns: ['v'] }).columns, { v: 1 });
    db.putRow('t', { k: 2 }, { v: 2, w: 3 });
    assert.deepEqual(db.getRow('t', { k: 2 }).columns, { v: 2, w: 3 });
    assert.throws(() => db.putRow('t', { k: AUTO_INCREMENT }, {}), IntegerOutOfRangeError);
    assert.throws(() => db.putRow('t', { k: 2 ** 60 }, {}), IntegerOutOfRangeError);
    assert.throws(() => db.putRow('t', { k: 1 }, { v: 2n ** 64n }), IntegerOutOfRangeError);
    assert.throws(() => db.getRow('t', { k: 1.5 }), TypeError);
    assert.throws(() => db.getRow('t', { k: 1 }, { maxVersions: 2 ** 40 }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { direction: 'SIDEWAYS' }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', INF_MIN, INF_MAX, { limit: 0 }), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.getRange('t', Symbol('x'), INF_MAX), TypeError);
    assert.throws(() => db.batchWrite([{ type: 'put', table: 't', primaryKey: { k: 9 }, columns: { a: 1 }, condition: 'SOMETIMES' }]),
      { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchGet([{ table: 't', primaryKey: { k: 1 }, timeRange: [1] }]), TypeError);
    assert.equal(db.nextCursor(), 3, 'no failed call wrote anything');
  } finally {
    db.free();
  }
});

test('thousands of column names decode right past the name table limit', () => {
  const db = Database.memory('eu');
  try {
    db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    for (let k = 0; k < 6; k++) {
      const cols = {};
      for (let c = 0; c < 1000; c++) cols[`c${k}_${c}`] = k * 1000 + c;
      db.putRow('t', { k }, cols);
    }
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < 6; k++) {
        const row = db.getRow('t', { k });
        const names = Object.keys(row.columns);
        assert.equal(names.length, 1000);
        for (const name of names) {
          const [, kk, c] = /^c(\d)_(\d+)$/.exec(name);
          assert.equal(row.columns[name], +kk * 1000 + +c, name);
        }
      }
    }
    const long = 'n'.repeat(200);
    db.putRow('t', { k: 7 }, { [long]: 1 });
    assert.deepEqual(db.getRow('t', { k: 7 }).columns, { [long]: 1 });
  } finally {
    db.free();
  }
});

test('calls from user code inside a call (getters) take the slow path and work', () => {
  const db = Database.memory('eu');
  try {
    db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    db.putRow('t', { k: 1 }, { v: 10 });
    let inner;
    const key = {
      get k() {
        inner = db.getRow('t', { k: 1 });
        return 1;
      },
    };
    assert.deepEqual(db.getRow('t', key).columns, { v: 10 });
    assert.deepEqual(inner.columns, { v: 10 });
    // A filter read by Rust (a side value) whose getter reads the database.
    const filter = { column: 'v', op: '==', get value() { return db.getRow('t', { k: 1 }).columns.v; } };
    assert.deepEqual(db.getRow('t', { k: 1 }, { filter }).columns, { v: 10 });
  } finally {
    db.free();
  }
});

/** Run a getRowWire call on hand-made request bytes. */
function rawCall(r, bytes) {
  const at = raw.wireIn(bytes.length);
  new Uint8Array(raw.wireMemory().buffer).set(bytes, at);
  return r.getRowWire(bytes.length, NaN);
}

test('malformed wire buffers are CorruptData errors, never a panic', () => {
  const r = raw.RawDatabase.memory('eu', undefined);
  try {
    r.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    const u32 = (n) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
    const table = [...u32(1), 116]; // "t"
    const f64 = (x) => [...new Uint8Array(new Float64Array([x]).buffer)];
    const good = [...table, ...u32(1), ...u32(1), 107, 1, ...f64(1), 0];
    assert.equal(rawCall(r, good) > 0, true, 'a well-formed request works');
    const bad = [
      [],
      table,
      [...u32(5), 116], // string longer than the buffer
      [...u32(1), 0xff, ...u32(0), 0], // invalid UTF-8
      [...table, ...u32(0xffffffff)], // huge count
      [...table, ...u32(1), ...u32(1), 107, 99], // bad value tag
      [...table, ...u32(1), ...u32(1), 107, 1, ...f64(0.5), 0], // INT that is not an integer
      [...table, ...u32(1), ...u32(1), 107, 1, ...f64(2 ** 60), 0], // INT beyond 2^53
      [...table, ...u32(1), ...u32(1), 107, 1, ...f64(1), 0xc0], // bad option flags
      [...table, ...u32(1), ...u32(1), 107, 1, ...f64(1), 8, ...u32(0)], // filter without side values
      [...good, 0], // trailing bytes
    ];
    for (const bytes of bad) {
      assert.throws(() => rawCall(r, new Uint8Array(bytes)), (e) => e.code === 'CorruptData', JSON.stringify(bytes));
    }
    assert.throws(() => r.getRowWire(1 << 30, NaN), (e) => e.code === 'CorruptData', 'length beyond the buffer');
    assert.equal(raw.isPoisoned(), false);
    assert.equal(rawCall(r, new Uint8Array(good)) > 0, true, 'still usable');
  } finally {
    r.free();
  }
});
