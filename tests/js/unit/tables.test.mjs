// Table operations: create, list, describe, update, delete and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_INCREMENT, Database, TablesyncError } from 'tablesync';

test('create, list, describe, update and delete tables', () => {
  const db = Database.memory('eu');
  try {
    assert.equal(db.region, 'eu');
    assert.deepEqual(db.listTables(), []);
    db.createTable('users', { primaryKey: [['uid', 'INTEGER']] });
    db.createTable('events', {
      primaryKey: [['device', 'STRING'], ['seq', 'INTEGER', 'AUTO_INCREMENT'], ['tag', 'binary']],
      maxVersions: 3,
      timeToLive: 86400,
    });
    assert.deepEqual(db.listTables(), ['events', 'users']);
    assert.deepEqual(db.describeTable('events'), {
      name: 'events',
      primaryKey: [['device', 'STRING'], ['seq', 'INTEGER', 'AUTO_INCREMENT'], ['tag', 'BINARY']],
      maxVersions: 3,
      timeToLive: 86400,
      rowCount: 0,
    });
    db.putRow('users', { uid: 1 }, { a: 1 });
    assert.equal(db.describeTable('users').rowCount, 1);
    db.updateTable('users', { maxVersions: 4 });
    assert.equal(db.describeTable('users').maxVersions, 4);
    assert.equal(db.describeTable('users').timeToLive, -1, 'omitted option keeps its value');
    db.updateTable('users', { timeToLive: 100000 });
    assert.deepEqual(
      [db.describeTable('users').maxVersions, db.describeTable('users').timeToLive],
      [4, 100000],
    );
    db.deleteTable('users');
    assert.deepEqual(db.listTables(), ['events']);
    assert.throws(() => db.describeTable('users'), { code: 'OTSObjectNotExist' });
  } finally {
    db.free();
  }
});

test('auto-increment keys: bigint mode gets the assigned 64-bit values', () => {
  const db = Database.memory('eu', { integers: 'bigint' });
  try {
    db.createTable('e', { primaryKey: [['p', 'STRING'], ['id', 'INTEGER', AUTO_INCREMENT]] });
    const k1 = db.putRow('e', { p: 'x', id: AUTO_INCREMENT }, { v: 1 });
    const k2 = db.putRow('e', [['p', 'x'], ['id', AUTO_INCREMENT]], { v: 2 });
    assert.equal(k1.p, 'x');
    assert.equal(typeof k1.id, 'bigint');
    assert.ok(k2.id > k1.id, 'assigned ids increase');
    assert.equal(db.getRow('e', k2).columns.v, 2n);
    const [r] = db.batchWrite([{ type: 'put', table: 'e', primaryKey: { p: 'y', id: AUTO_INCREMENT }, columns: { v: 3 } }]);
    assert.ok(r.ok && r.primaryKey.id > k2.id);
    assert.throws(
      () => db.putRow('e', { p: 'x', id: AUTO_INCREMENT }, { v: 3 }, { condition: 'EXPECT_NOT_EXIST' }),
      { code: 'OTSParameterInvalid' },
    );
  } finally {
    db.free();
  }
});

test('auto-increment keys in number mode are refused before anything is written', () => {
  // Assigned values are 64-bit stamps that no JS number holds exactly.
  const db = Database.memory('eu');
  try {
    db.createTable('e', { primaryKey: [['p', 'STRING'], ['id', 'INTEGER', 'AUTO_INCREMENT']] });
    assert.throws(() => db.putRow('e', { p: 'x', id: AUTO_INCREMENT }, { v: 1 }), { code: 'IntegerOutOfRange' });
    assert.throws(
      () => db.batchWrite([{ type: 'put', table: 'e', primaryKey: { p: 'x', id: AUTO_INCREMENT }, columns: { v: 1 } }]),
      { code: 'IntegerOutOfRange' },
    );
    assert.equal(db.describeTable('e').rowCount, 0);
    assert.equal(db.nextCursor(), 1);
  } finally {
    db.free();
  }
});

test('table errors carry stable codes and change nothing', () => {
  const db = Database.memory('eu');
  try {
    db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    const cases = [
      [() => db.createTable('t', { primaryKey: [['k', 'INTEGER']] }), 'OTSObjectAlreadyExist'],
      [() => db.createTable('bad-name', { primaryKey: [['k', 'INTEGER']] }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [] }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['a', 'INTEGER'], ['b', 'INTEGER'], ['c', 'INTEGER'], ['d', 'INTEGER'], ['e', 'INTEGER']] }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['k', 'FLOAT']] }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['k', 'INTEGER', 'AUTO_INCREMENT']] }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['k', 'INTEGER']], maxVersions: 0 }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['k', 'INTEGER']], timeToLive: 5 }), 'OTSParameterInvalid'],
      [() => db.createTable('u', { primaryKey: [['k', 'INTEGER']], maxVersions: -1 }), 'OTSParameterInvalid'],
      [() => db.updateTable('nope', { maxVersions: 2 }), 'OTSObjectNotExist'],
      [() => db.updateTable('t', { maxVersions: 0 }), 'OTSParameterInvalid'],
      [() => db.deleteTable('nope'), 'OTSObjectNotExist'],
      [() => db.describeTable('nope'), 'OTSObjectNotExist'],
    ];
    for (const [fn, code] of cases) {
      assert.throws(fn, (e) => e instanceof TablesyncError && e.code === code && e.message.startsWith(code), code);
    }
    assert.deepEqual(db.listTables(), ['t']);
    assert.equal(db.nextCursor(), 1, 'nothing logged');
  } finally {
    db.free();
  }
});

test('wrong JS types in table calls are TypeErrors', () => {
  const db = Database.memory('eu');
  try {
    const cases = [
      () => db.createTable(1, { primaryKey: [['k', 'INTEGER']] }),
      () => db.createTable('t'),
      () => db.createTable('t', { primaryKey: 'k' }),
      () => db.createTable('t', { primaryKey: [['k']] }),
      () => db.createTable('t', { primaryKey: [[1, 'INTEGER']] }),
      () => db.createTable('t', { primaryKey: [['k', 'INTEGER']], maxVersions: '2' }),
      () => db.createTable('t', { primaryKey: [['k', 'INTEGER']], maxVersions: 1.5 }),
      () => db.createTable('t', { primaryKey: [['k', 'INTEGER']], maxversions: 2 }),
      () => db.createTable('t', { primaryKey: [['k', 'INTEGER', 'AUTO']] }),
      () => db.describeTable(null),
      () => db.updateTable('t', 5),
      () => db.deleteTable({}),
    ];
    for (const fn of cases) assert.throws(fn, TypeError, fn.toString());
    assert.deepEqual(db.listTables(), []);
  } finally {
    db.free();
  }
});

test('region names are checked', () => {
  assert.throws(() => Database.memory(''), { code: 'OTSParameterInvalid' });
  assert.throws(() => Database.memory('a\u0000b'), { code: 'OTSParameterInvalid' });
  assert.throws(() => Database.memory(42), TypeError);
  assert.throws(() => new Database(), TypeError, 'the constructor is private');
});
