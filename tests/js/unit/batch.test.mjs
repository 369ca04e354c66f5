// batchWrite and batchGet: per-operation results and batch-wide errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, TablesyncError } from 'tablesync';

function db2() {
  const db = Database.memory('eu');
  db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  return db;
}

test('batchWrite: each operation succeeds or fails on its own', () => {
  const db = db2();
  try {
    db.putRow('t', { k: 1 }, { a: 1 });
    const res = db.batchWrite([
      { type: 'put', table: 't', primaryKey: { k: 2 }, columns: { a: 2 } },
      { type: 'UPDATE', table: 't', primaryKey: { k: 1 }, put: { b: 1 }, increment: { a: 10 } },
      { type: 'put', table: 't', primaryKey: { k: 3 }, columns: { a: 3 }, condition: 'EXPECT_EXIST' },
      { type: 'delete', table: 't', primaryKey: { k: 4 } },
      { type: 'delete', table: 'nope', primaryKey: { k: 1 } },
    ]);
    assert.deepEqual(res.map((r) => r.ok), [true, true, false, true, false]);
    assert.deepEqual(res[0].primaryKey, { k: 2 });
    assert.ok(res[2].error instanceof TablesyncError);
    assert.equal(res[2].error.code, 'OTSConditionCheckFail');
    assert.equal(res[4].error.code, 'OTSObjectNotExist');
    assert.deepEqual(db.getRow('t', { k: 1 }).columns, { a: 11, b: 1 });
    assert.equal(db.getRow('t', { k: 3 }), null);
  } finally {
    db.free();
  }
});

test('batchWrite: batch-wide errors change nothing', () => {
  const db = db2();
  try {
    const put = (k) => ({ type: 'put', table: 't', primaryKey: { k }, columns: { a: k } });
    assert.throws(() => db.batchWrite([]), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchWrite(Array.from({ length: 201 }, (_, i) => put(i))), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchWrite([put(1), put(1)]), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchWrite([put(1), { type: 'merge', table: 't', primaryKey: { k: 2 } }]), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchWrite([put(1), { type: 'put', table: 't', primaryKey: { k: 2 }, columns: { a: 1 }, extra: 1 }]), TypeError);
    assert.throws(() => db.batchWrite([put(1), 'put']), TypeError);
    assert.throws(() => db.batchWrite({}), TypeError);
    assert.equal(db.nextCursor(), 1);
    const ok = db.batchWrite(Array.from({ length: 200 }, (_, i) => put(i)));
    assert.equal(ok.length, 200);
    assert.equal(db.describeTable('t').rowCount, 200);
  } finally {
    db.free();
  }
});

test('batchGet: one result per request, in order', () => {
  const db = db2();
  try {
    db.putRow('t', { k: 1 }, { a: 1, b: 2 });
    const res = db.batchGet([
      { table: 't', primaryKey: { k: 1 }, columns: ['b'] },
      { table: 't', primaryKey: { k: 2 } },
      { table: 'nope', primaryKey: { k: 1 } },
      { table: 't', primaryKey: { k: 1 }, filter: { column: 'a', op: '>', value: 5 } },
    ]);
    assert.deepEqual(res[0], { ok: true, row: { primaryKey: { k: 1 }, columns: { b: 2 }, cells: res[0].row.cells } });
    assert.deepEqual(res[1], { ok: true, row: null });
    assert.equal(res[2].ok, false);
    assert.equal(res[2].error.code, 'OTSObjectNotExist');
    assert.deepEqual(res[3], { ok: true, row: null });
    assert.throws(() => db.batchGet([]), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchGet(Array.from({ length: 101 }, () => ({ table: 't', primaryKey: { k: 1 } }))), { code: 'OTSParameterInvalid' });
    assert.throws(() => db.batchGet([{ table: 't', primaryKey: { k: 1 }, colums: ['a'] }]), TypeError);
  } finally {
    db.free();
  }
});
