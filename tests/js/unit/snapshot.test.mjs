// exportSnapshot / Database.importSnapshot: byte-exact, and damaged bytes
// are typed errors, never crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, TablesyncError, double } from 'tablesync';

function sample() {
  const db = Database.memory('eu', { integers: 'bigint' });
  db.createTable('t', { primaryKey: [['k', 'INTEGER'], ['s', 'STRING']], maxVersions: 3 });
  db.createTable('u', { primaryKey: [['b', 'BINARY']] });
  for (let i = 0; i < 300; i++) {
    db.putRow('t', { k: i, s: `s${i}` }, { v: i, d: double(i / 2), x: 'y'.repeat(i % 17) });
  }
  db.putRow('u', { b: new Uint8Array([1, 2, 3]) }, { big: 2n ** 63n - 1n });
  db.deleteRow('t', { k: 5, s: 's5' });
  db.applyChanges([{ origin: 'us', seq: 1, stamp: 5n << 16n, table: 'u', kind: 'PUT', primaryKey: { b: new Uint8Array([9]) }, columns: [{ name: 'z', op: 'PUT', value: 1, timestamp: 1 }] }]);
  return db;
}

test('export → import is byte-exact and keeps tables, log and clocks', () => {
  const db = sample();
  try {
    const bytes = db.exportSnapshot();
    assert.ok(bytes instanceof Uint8Array);
    const copy = Database.importSnapshot(bytes, { integers: 'bigint' });
    try {
      assert.deepEqual(copy.exportSnapshot(), bytes);
      assert.equal(copy.region, 'eu');
      assert.deepEqual(copy.listTables(), ['t', 'u']);
      for (const t of ['t', 'u']) assert.equal(copy.tableDigest(t), db.tableDigest(t));
      assert.deepEqual(copy.versionVector(), db.versionVector());
      assert.deepEqual(copy.changesSince(0, 10000), db.changesSince(0, 10000));
      assert.deepEqual(copy.getRow('u', { b: new Uint8Array([1, 2, 3]) }).columns, { big: 2n ** 63n - 1n });
      // The imported region keeps working and continues its sequence.
      copy.putRow('t', { k: 1000, s: 'new' }, { v: 1 });
      const last = copy.changesSince(copy.nextCursor() - 1).records[0];
      assert.equal(last.origin, 'eu');
      assert.equal(last.seq, db.versionVector().eu + 1);
    } finally {
      copy.free();
    }
    // Number mode can import too (reads of big integers then throw).
    const num = Database.importSnapshot(bytes);
    assert.equal(num.integers, 'number');
    assert.throws(() => num.getRow('u', { b: new Uint8Array([1, 2, 3]) }), { code: 'IntegerOutOfRange' });
    num.free();
  } finally {
    db.free();
  }
});

test('importSnapshot rejects damaged bytes with typed errors', () => {
  const db = sample();
  const bytes = db.exportSnapshot();
  db.free();
  const codes = new Set();
  const attempt = (b) => {
    try {
      Database.importSnapshot(b).free();
      return null;
    } catch (e) {
      assert.ok(e instanceof TablesyncError, `not a TablesyncError: ${e}`);
      codes.add(e.code);
      return e.code;
    }
  };
  assert.equal(attempt(new Uint8Array(0)), 'CorruptData');
  assert.equal(attempt(bytes.slice(0, bytes.length - 1)), 'CorruptData');
  // Flip every byte of the header and a sample of the body: each must fail cleanly.
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const positions = [...Array(14).keys(), ...Array.from({ length: 300 }, () => rand() % bytes.length)];
  for (const pos of positions) {
    const b = bytes.slice();
    b[pos] ^= 1 + (rand() % 255);
    assert.notEqual(attempt(b), null, `flip at ${pos} was accepted`);
  }
  // Random garbage with a valid magic.
  for (let i = 0; i < 200; i++) {
    const b = new Uint8Array(14 + (rand() % 64)).map(() => rand() & 255);
    b.set([0x54, 0x53, 0x53, 0x4e], 0);
    attempt(b);
  }
  assert.ok([...codes].every((c) => ['CorruptData', 'UnsupportedVersion'].includes(c)), [...codes].join());
  assert.throws(() => Database.importSnapshot('TSSN'), TypeError);
  assert.throws(() => Database.importSnapshot([1, 2, 3]), TypeError);
  assert.throws(() => Database.importSnapshot(bytes.buffer), TypeError);
  assert.throws(() => Database.importSnapshot(bytes, { integers: 'x' }), TypeError);
});

// CRC-32 (IEEE), to craft frames whose checksum is right but whose content lies.
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function frame(body, flags) {
  const out = new Uint8Array(14 + body.length);
  const view = new DataView(out.buffer);
  out.set([0x54, 0x53, 0x53, 0x4e, 1, flags]);
  view.setUint32(6, body.length, true);
  out.set(body, 14);
  view.setUint32(10, crc32([...out.subarray(0, 10), ...body]), true);
  return out;
}

test('a checksummed frame that claims a huge payload is refused before allocating', () => {
  for (const size of [0xfffffff0, 0x7fffffff, 0x40000000]) {
    const body = new Uint8Array(16);
    new DataView(body.buffer).setUint32(0, size, true);
    body[4] = 0xf0;
    assert.throws(() => Database.importSnapshot(frame(body, 1)), { code: 'CorruptData' });
  }
  // A checksummed uncompressed payload of garbage: a clean CorruptData too.
  assert.throws(() => Database.importSnapshot(frame(new Uint8Array([5, 1, 2, 3]), 0)), { code: 'CorruptData' });
  // And the module still works afterwards (nothing trapped).
  const db = Database.memory('ok');
  db.free();
});
