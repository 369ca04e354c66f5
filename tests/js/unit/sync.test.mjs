// Change log, version vectors, merging regions, digests and table copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, Double, ManualClock, TablesyncError, double } from 'tablesync';

function region(name, clock) {
  const db = Database.memory(name, { clock, integers: 'bigint' });
  db.createTable('t', { primaryKey: [['k', 'INTEGER']], maxVersions: 2 });
  return db;
}

test('changesSince pages the log; stamps are bigint, cursors numbers', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const db = region('eu', clock);
  try {
    db.putRow('t', { k: 1 }, { a: 'x', d: double(2) });
    db.updateRow('t', { k: 1 }, { delete: [['a', 1_700_000_000_000]], deleteAll: ['d'] });
    db.deleteRow('t', { k: 2 });
    const page = db.changesSince(0, 2);
    assert.equal(page.records.length, 2);
    assert.equal(page.nextCursor, 3);
    const [put, upd] = page.records;
    assert.equal(typeof put.stamp, 'bigint');
    assert.equal(put.stamp >> 16n, 1_700_000_000_000n, 'HLC: physical ms in the high 48 bits');
    assert.ok(upd.stamp > put.stamp);
    assert.deepEqual({ ...put, stamp: 0n, columns: undefined }, {
      cursor: 1, origin: 'eu', seq: 1, stamp: 0n, table: 't', kind: 'PUT', primaryKey: { k: 1n }, columns: undefined,
    });
    assert.deepEqual(put.columns.map((c) => [c.name, c.op, c.timestamp]), [
      ['a', 'PUT', 1_700_000_000_000],
      ['d', 'PUT', 1_700_000_000_000],
    ]);
    assert.equal(put.columns[0].value, 'x');
    assert.ok(put.columns[1].value instanceof Double && put.columns[1].value.value === 2, 'DOUBLE 2.0 stays a Double');
    assert.deepEqual(upd.columns, [
      // Logged because the row holds that version (FORMAT.md §5.1).
      { name: 'a', op: 'DELETE_ONE_VERSION', timestamp: 1_700_000_000_000 },
      { name: 'd', op: 'DELETE_ALL_VERSIONS' },
    ]);
    const rest = db.changesSince(page.nextCursor);
    assert.deepEqual(rest.records.map((r) => r.kind), ['DELETE']);
    assert.equal(rest.nextCursor, 4);
    assert.deepEqual(db.changesSince(4).records, []);
    assert.deepEqual(db.versionVector(), { eu: 3 });
    assert.equal(db.nextCursor(), 4);
    assert.throws(() => db.changesSince(-1), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.changesSince('0'), TypeError);
  } finally {
    db.free();
  }
});

test('regions converge: records applied in any order, any number of times', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const eu = region('eu', clock);
  const us = region('us', clock);
  const ap = region('ap', clock);
  try {
    eu.putRow('t', { k: 1 }, { a: 'eu' });
    clock.advance(1);
    us.putRow('t', { k: 1 }, { a: 'us', b: 1 });
    us.putRow('t', { k: 2 }, { big: 2n ** 62n });
    clock.advance(1);
    eu.updateRow('t', { k: 2 }, { increment: { n: 1 } });
    eu.deleteRow('t', { k: 3 });
    const all = [...eu.changesSince(0).records, ...us.changesSince(0).records];
    assert.deepEqual(eu.applyChanges(us.changesSince(0).records), { applied: 2, skipped: 0 });
    assert.deepEqual(us.applyChanges(eu.changesSince(0).records), { applied: 3, skipped: 2 });
    assert.deepEqual(ap.applyChanges([...all].reverse()), { applied: 5, skipped: 0 });
    assert.deepEqual(ap.applyChanges(all), { applied: 0, skipped: 5 }, 'duplicates are skipped');
    const d = eu.tableDigest('t');
    assert.equal(us.tableDigest('t'), d);
    assert.equal(ap.tableDigest('t'), d);
    assert.equal(eu.getRow('t', { k: 1 }).columns.a, 'us', 'last writer wins');
    assert.deepEqual(ap.versionVector(), { eu: 3, us: 2 });
  } finally {
    eu.free();
    us.free();
    ap.free();
  }
});

test('applyChanges validates every record first and applies nothing on error', () => {
  const eu = region('eu');
  const us = region('us');
  try {
    us.putRow('t', { k: 1 }, { a: 1 });
    const [good] = us.changesSince(0).records;
    const before = eu.tableDigest('t');
    // Each bad record is a new (origin, seq), so it is not skipped as a duplicate.
    const next = { ...good, seq: 2 };
    const bad = [
      [{ ...next, table: 'nope' }, 'OTSObjectNotExist'],
      [{ ...good, seq: 0 }, 'OTSParameterInvalid'],
      [{ ...next, stamp: 0n }, 'OTSParameterInvalid'],
      [{ ...next, kind: 'MERGE' }, 'OTSParameterInvalid'],
      [{ ...next, primaryKey: { x: 1 } }, 'OTSInvalidPK'],
      [{ ...next, columns: [{ name: 'a', op: 'DELETE_ALL_VERSIONS' }] }, 'OTSParameterInvalid'],
      [{ ...next, columns: [{ name: 'a', op: 'PUT', value: 1, timestamp: -1 }] }, 'OTSParameterInvalid'],
      [{ ...next, origin: '' }, 'OTSParameterInvalid'],
    ];
    for (const [rec, code] of bad) {
      assert.throws(() => eu.applyChanges([good, rec]), { code }, JSON.stringify(rec, (k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
    for (const rec of [{ ...next, stamp: 'x' }, { ...next, seq: 1.5 }, { ...next, origin: 1 }, { ...next, columns: {} }, { ...next, extra: 1 }, 5]) {
      assert.throws(() => eu.applyChanges([rec]), TypeError);
    }
    assert.throws(() => eu.applyChanges([{ ...next, stamp: 2n ** 64n }]), { code: 'IntegerOutOfRange' });
    assert.equal(eu.tableDigest('t'), before);
    assert.equal(eu.nextCursor(), 1);
    // Records from JSON-ish sources: numbers for seq/stamp and snake_case primary_key work.
    assert.deepEqual(eu.applyChanges([{ ...good, stamp: Number(good.stamp >> 20n), primaryKey: undefined, primary_key: [['k', 1]] }]), { applied: 1, skipped: 0 });
  } finally {
    eu.free();
    us.free();
  }
});

test('tableDigest, verifyTableDigest and rangeDigest', () => {
  const a = region('eu');
  const b = region('us');
  try {
    const empty = a.tableDigest('t');
    assert.match(empty, /^[0-9a-f]{64}$/);
    a.putRow('t', { k: 1 }, [['v', 1, 10]]);
    a.putRow('t', { k: 2 }, [['v', 2, 10]]);
    b.putRow('t', { k: 2 }, [['v', 2, 10]]);
    b.putRow('t', { k: 1 }, [['v', 1, 10]]);
    assert.equal(a.tableDigest('t'), b.tableDigest('t'), 'same content, same digest, whatever the order and region');
    assert.notEqual(a.tableDigest('t'), empty);
    assert.equal(a.verifyTableDigest('t'), a.tableDigest('t'));
    const r = a.rangeDigest('t', { k: 1 }, { k: 2 });
    assert.equal(r.rows, 1);
    assert.match(r.digest, /^[0-9a-f]{64}$/);
    assert.equal(a.rangeDigest('t', Symbol.for('tablesync.INF_MIN'), Symbol.for('tablesync.INF_MAX')).digest, a.tableDigest('t'));
    assert.throws(() => a.tableDigest('nope'), { code: 'OTSObjectNotExist' });
    assert.throws(() => a.tableDigest(1), TypeError);
  } finally {
    a.free();
    b.free();
  }
});

test('copyTable here and into another database, with progress', () => {
  const src = region('eu');
  const dst = Database.memory('us');
  try {
    const ops = Array.from({ length: 150 }, (_, i) => ({ type: 'put', table: 't', primaryKey: { k: i }, columns: [['v', i, 7]] }));
    src.batchWrite(ops);
    src.batchWrite(ops.map((o) => ({ ...o, primaryKey: { k: o.primaryKey.k + 1000 } })));
    src.batchWrite(ops.map((o) => ({ ...o, primaryKey: { k: o.primaryKey.k + 5000 } })));
    src.deleteRow('t', { k: 0 });
    const seen = [];
    assert.equal(src.copyTable('t', 'copy', { onProgress: (p) => seen.push(p) }), 449);
    assert.equal(src.tableDigest('copy'), src.tableDigest('t'));
    assert.deepEqual(seen[0], { copied: 0, total: 449 });
    assert.deepEqual(seen.at(-1), { copied: 449, total: 449 });
    assert.equal(src.copyTable('t', 'other', { target: dst }), 449);
    assert.equal(dst.tableDigest('other'), src.tableDigest('t'));
    assert.deepEqual(dst.describeTable('other').primaryKey, [['k', 'INTEGER']]);
    assert.equal(dst.describeTable('other').maxVersions, 2);
    assert.throws(() => src.copyTable('t', 'copy'), { code: 'OTSObjectAlreadyExist' });
    assert.throws(() => src.copyTable('nope', 'x', { target: dst }), { code: 'OTSObjectNotExist' });
    assert.throws(() => src.copyTable('t', 'x', { target: {} }), TypeError);
    assert.throws(() => src.copyTable('t', 'x', { onProgress: 5 }), TypeError);
    assert.throws(() => src.copyTable('t', 'x', { progress: () => {} }), TypeError);
    assert.deepEqual(dst.listTables(), ['other']);
  } finally {
    src.free();
    dst.free();
  }
});

test('copyTable: a throwing onProgress cancels the copy and is rethrown; reentrant use is DatabaseBusy', () => {
  const db = region('eu');
  try {
    db.putRow('t', { k: 1 }, { a: 1 });
    let calls = 0;
    assert.throws(
      () => db.copyTable('t', 'c1', { onProgress: () => { calls++; throw new Error('stop'); } }),
      /stop/,
    );
    assert.equal(calls, 1, 'no more calls after the first exception');
    assert.ok(!db.listTables().includes('c1'), 'cancelled at the first call: no table left');
    let inner;
    db.copyTable('t', 'c2', {
      onProgress: () => {
        try {
          db.listTables();
        } catch (e) {
          inner = e;
        }
      },
    });
    assert.ok(inner instanceof TablesyncError, `got ${inner}`);
    assert.equal(inner.code, 'DatabaseBusy');
    assert.deepEqual(db.listTables(), ['c2', 't'], 'the database still works');
  } finally {
    db.free();
  }
});

test('copyTable: onProgress returning false cancels with Cancelled; committed chunks stay', () => {
  const db = region('eu');
  const other = Database.memory('us');
  try {
    for (let base = 0; base < 2400; base += 200) {
      db.batchWrite(Array.from({ length: 200 }, (_, i) => ({ type: 'put', table: 't', primaryKey: { k: base + i }, columns: [['v', 1]] })));
    }
    const seen = [];
    let err;
    try {
      db.copyTable('t', 'c', { onProgress: (p) => { seen.push(p.copied); return p.copied < 1000; } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TablesyncError, `got ${err}`);
    assert.equal(err.code, 'Cancelled');
    assert.equal(err.kind, 'Cancelled');
    assert.match(err.message, /after 1000 of 2400 rows/);
    assert.deepEqual(seen, [0, 1000]);
    assert.equal(db.describeTable('c').rowCount, 1000);
    assert.equal([...db.scan('c')].length, 1000);
    assert.throws(() => db.copyTable('t', 'd', { onProgress: () => false }), { code: 'Cancelled' });
    assert.ok(!db.listTables().includes('d'));
    assert.equal(db.copyTable('t', 'e', { onProgress: () => undefined }), 2400);
    assert.throws(
      () => db.copyTable('t', 't', { target: other, onProgress: (p) => p.copied < 2000 }),
      { code: 'Cancelled' },
    );
    assert.equal(other.describeTable('t').rowCount, 2000);
  } finally {
    db.free();
    other.free();
  }
});
