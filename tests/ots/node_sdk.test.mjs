// Our own checks through the official Node SDK (`tablestore` on npm) against
// `tablesync serve --tablestore-listen`; run by scripts/test-ots with
// OTS_ENDPOINT set and NODE_PATH pointing at the scratch node_modules.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH, 'x.js'));
const TableStore = require('tablestore');
const Long = TableStore.Long;

const client = new TableStore.Client({
  accessKeyId: 'node-id',
  secretAccessKey: 'node-secret',
  endpoint: process.env.OTS_ENDPOINT,
  instancename: 'inst-node',
  maxRetries: 0,
});

const call = (method, params) =>
  new Promise((resolve, reject) => client[method](params, (err, data) => (err ? reject(err) : resolve(data))));

// The Node SDK reports the HTTP status as `code` and the Error protobuf's bytes in `message`.
async function serviceError(method, params) {
  try {
    await call(method, params);
  } catch (e) {
    return { status: e.code, message: String(e.message) };
  }
  assert.fail(`${method} succeeded`);
}

const table = 'node_t';
const pk = (i) => [{ uid: Long.fromNumber(i) }, { name: 'n' }];
const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const notExist = () => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
let checks = 0;

await call('createTable', {
  tableMeta: { tableName: table, primaryKey: [{ name: 'uid', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] },
  reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
  tableOptions: { timeToLive: -1, maxVersions: 2 },
});
const exists = await serviceError('createTable', {
  tableMeta: { tableName: table, primaryKey: [{ name: 'uid', type: 'INTEGER' }] },
  reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
  tableOptions: { timeToLive: -1, maxVersions: 1 },
});
assert.equal(exists.status, 409);
assert.match(exists.message, /OTSObjectAlreadyExist[\s\S]*Requested table already exists\./);
checks++;

const d = await call('describeTable', { tableName: table });
assert.deepEqual(d.tableMeta.primaryKey.map((c) => c.name), ['uid', 'name']);
assert.equal(d.tableOptions.maxVersions, 2);
checks++;

await call('putRow', { tableName: table, condition: notExist(), primaryKey: pk(1),
  attributeColumns: [{ s: '表格存储' }, { d: 3.5 }, { i: Long.fromNumber(7) }, { b: true }] });
const dup = await serviceError('putRow', { tableName: table, condition: notExist(), primaryKey: pk(1),
  attributeColumns: [{ s: 'x' }] });
assert.equal(dup.status, 403);
assert.match(dup.message, /OTSConditionCheckFail[\s\S]*Condition check failed\./);
checks++;

let got = await call('getRow', { tableName: table, primaryKey: pk(1), maxVersions: 1 });
const cols = Object.fromEntries(got.row.attributes.map((a) => [a.columnName, a.columnValue]));
assert.equal(cols.s, '表格存储');
assert.equal(cols.d, 3.5);
assert.equal(Number(cols.i), 7);
assert.equal(cols.b, true);
checks++;

await call('updateRow', { tableName: table, condition: ignore(), primaryKey: pk(1),
  updateOfAttributeColumns: [{ INCREMENT: [{ i: Long.fromNumber(5) }] }, { DELETE_ALL: ['b'] }] });
got = await call('getRow', { tableName: table, primaryKey: pk(1), maxVersions: 1 });
assert.deepEqual(got.row.attributes.map((a) => a.columnName).sort(), ['d', 'i', 's']);
assert.equal(Number(got.row.attributes.find((a) => a.columnName === 'i').columnValue), 12);
checks++;

const wrongName = await serviceError('getRow', { tableName: table, primaryKey: [{ uid: Long.fromNumber(1) }, { PK2: 'x' }] });
assert.equal(wrongName.status, 400);
assert.match(wrongName.message, /OTSParameterInvalid[\s\S]*Validate PK name fail\. Input: PK2, Meta: name\./);
const missing = await serviceError('getRow', { tableName: 'no_such_table', primaryKey: pk(1) });
assert.equal(missing.status, 404);
assert.match(missing.message, /OTSObjectNotExist[\s\S]*Requested table does not exist\./);
checks++;

// 16 concurrent EXPECT_NOT_EXIST puts on one row: exactly one wins.
const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) =>
  call('putRow', { tableName: table, condition: notExist(), primaryKey: pk(99), attributeColumns: [{ w: Long.fromNumber(i) }] })));
assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 403));
checks++;

const rows = [];
for (let i = 2; i < 12; i++) {
  rows.push({ type: 'PUT', condition: ignore(), primaryKey: pk(i), attributeColumns: [{ v: Long.fromNumber(i) }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey } });
}
const bw = await call('batchWriteRow', { tables: [{ tableName: table, rows }] });
assert.ok(bw.tables.every((r) => r.isOk));
const bg = await call('batchGetRow', { tables: [{ tableName: table, primaryKey: [pk(2), pk(3), pk(500)], maxVersions: 1 }] });
assert.deepEqual(bg.tables[0].map((r) => r.isOk), [true, true, true]);
assert.ok(bg.tables[0][2].primaryKey == null, 'a missing row has no key');
checks++;

let start = [{ uid: TableStore.INF_MIN }, { name: TableStore.INF_MIN }];
const end = [{ uid: TableStore.INF_MAX }, { name: TableStore.INF_MAX }];
let seen = 0;
let pages = 0;
while (start) {
  const page = await call('getRange', { tableName: table, direction: TableStore.Direction.FORWARD, maxVersions: 1,
    inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: end, limit: 4 });
  seen += page.rows.length;
  pages++;
  start = page.nextStartPrimaryKey
    ? [{ uid: page.nextStartPrimaryKey[0].value }, { name: page.nextStartPrimaryKey[1].value }]
    : null;
}
assert.equal(seen, 12); // rows 1..11 and 99
assert.equal(pages, 3);
checks++;

// ColumnPaginationFilter(limit, offset): attribute columns in name order.
await call('putRow', { tableName: table, condition: ignore(), primaryKey: pk(50),
  attributeColumns: [{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }, { e: 5 }].map((o) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Long.fromNumber(v)]))) });
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: new TableStore.ColumnPaginationFilter(2, 1) });
assert.deepEqual(got.row.attributes.map((a) => a.columnName), ['b', 'c']);
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: new TableStore.ColumnPaginationFilter(10, 4) });
assert.deepEqual(got.row.attributes.map((a) => a.columnName), ['e']);
checks++;

// ColumnPaginationFilter inside AND/OR/NOT: it holds for every row and
// paginates the returned columns; the other sub-filters decide the row.
const composite = (op, ...subs) => {
  const c = new TableStore.CompositeCondition(op);
  subs.forEach((x) => c.addSubCondition(x));
  return c;
};
const aIs = (v) => new TableStore.SingleColumnCondition('a', Long.fromNumber(v),
  TableStore.ComparatorType.EQUAL, false);
const page = () => new TableStore.ColumnPaginationFilter(2, 1);
const colNames = (r) => (r.row.attributes || []).map((a) => a.columnName);
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: composite(TableStore.LogicalOperator.AND, aIs(1), page()) });
assert.deepEqual(colNames(got), ['b', 'c'], 'AND(a == 1, page): the row, paginated');
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: composite(TableStore.LogicalOperator.AND, aIs(9), page()) });
assert.ok(got.row.primaryKey == null, 'AND(a == 9, page): filtered out');
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: composite(TableStore.LogicalOperator.OR, aIs(9), page()) });
assert.deepEqual(colNames(got), ['b', 'c'], 'OR(a == 9, page): every row passes, paginated');
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: composite(TableStore.LogicalOperator.AND, aIs(1),
    composite(TableStore.LogicalOperator.NOT, composite(TableStore.LogicalOperator.AND, aIs(9), page()))) });
assert.deepEqual(colNames(got), ['b', 'c'], 'AND(a == 1, NOT(AND(a == 9, page))): nested, paginated');
got = await call('getRow', { tableName: table, primaryKey: pk(50), maxVersions: 1,
  columnFilter: composite(TableStore.LogicalOperator.NOT, page()) });
assert.ok(got.row.primaryKey == null, 'NOT(page): no row passes');
got = await call('getRange', { tableName: table, direction: TableStore.Direction.FORWARD, maxVersions: 1,
  inclusiveStartPrimaryKey: [{ uid: Long.fromNumber(50) }, { name: TableStore.INF_MIN }],
  exclusiveEndPrimaryKey: [{ uid: Long.fromNumber(51) }, { name: TableStore.INF_MAX }],
  columnFilter: composite(TableStore.LogicalOperator.AND, aIs(1), page()) });
assert.deepEqual(got.rows.map((r) => r.attributes.map((a) => a.columnName)), [['b', 'c']]);
const inWrite = await serviceError('updateRow', { tableName: table, primaryKey: pk(50),
  condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE,
    composite(TableStore.LogicalOperator.AND, aIs(1), page())),
  updateOfAttributeColumns: [{ PUT: [{ z: Long.fromNumber(1) }] }] });
assert.equal(inWrite.status, 400);
assert.match(inWrite.message, /OTSParameterInvalid[\s\S]*Invalid type of sub-filter/);
checks++;

await call('deleteRow', { tableName: table, condition: ignore(), primaryKey: pk(1) });
got = await call('getRow', { tableName: table, primaryKey: pk(1), maxVersions: 1 });
assert.ok(got.row.primaryKey == null, 'the deleted row is gone');
await call('deleteTable', { tableName: table });
checks++;

console.log(`node_sdk.test.mjs: ${checks} checks passed`);
