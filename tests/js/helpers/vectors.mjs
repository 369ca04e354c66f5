// Replays the golden vectors of tests/vectors/ (shapes: tests/vectors/README.md)
// through the JS API. Shared by the node tests and (as plain data) the
// browser test.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as api from 'tablesync';
import { makeReplayer } from './replay-core.mjs';

const { Database, Double, ManualClock } = api;
export const { fromHex, toHex, value, keyValue, primaryKey, columns, columnCondition, condition, record, runOp } =
  makeReplayer(api);

export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors');

/** Parse one vector file. */
export function loadVectors(name) {
  return JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8'));
}

/** Everything observable that a failed op must leave unchanged. */
function stateOf(db) {
  return {
    tables: db.listTables().map((t) => [t, db.tableDigest(t), db.describeTable(t)]),
    next: db.nextCursor(),
  };
}

/**
 * Run a script (digests.json case or snapshot.json) on a fresh region
 * (default: bigint mode, manual clock at `clock_ms`); ops with `expect_error` must fail with that
 * code and change nothing. Returns the database (caller frees it).
 */
export function replay(script, { integers = 'bigint', manualClock = true } = {}) {
  const clock = manualClock ? new ManualClock(BigInt(script.clock_ms)) : null;
  const db = Database.memory(script.region, clock ? { integers, clock } : { integers });
  for (const [i, op] of script.ops.entries()) {
    if (op.now !== undefined && clock) clock.set(BigInt(op.now));
    if (op.expect_error) {
      const before = stateOf(db);
      assert.throws(() => runOp(db, op), (e) => e.code === op.expect_error,
        `op ${i} (${op.op}) must fail with ${op.expect_error}`);
      assert.deepEqual(stateOf(db), before, `failed op ${i} changed the database`);
    } else {
      runOp(db, op);
    }
  }
  return db;
}

function bitsOfDouble(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

/** A read value in the comparable vector shape. */
export function valueShape(v) {
  if (typeof v === 'bigint') return { type: 'INTEGER', value: v.toString() };
  if (v instanceof Double || typeof v === 'number') {
    return { type: 'DOUBLE', bits: bitsOfDouble(Number(v)) };
  }
  if (typeof v === 'boolean') return { type: 'BOOLEAN', value: v };
  if (typeof v === 'string') return { type: 'STRING', value: v };
  if (v instanceof Uint8Array) return { type: 'BINARY', value: toHex(v) };
  throw new Error(`unexpected read value ${String(v)}`);
}

function expectedValueShape(v) {
  return v.type === 'DOUBLE' ? { type: 'DOUBLE', bits: v.bits } : v;
}

/** Assert a bigint-mode database holds exactly `expected` tables (names, counts, digests, rows). */
export function assertTables(db, expected) {
  assert.deepEqual(db.listTables(), expected.map((t) => t.name).sort());
  for (const t of expected) {
    assert.equal(db.tableDigest(t.name), t.digest, `digest of ${t.name}`);
    assert.equal(db.verifyTableDigest(t.name), t.digest, `rescanned digest of ${t.name}`);
    const desc = db.describeTable(t.name);
    assert.equal(desc.rowCount, t.row_count, `row count of ${t.name}`);
    const rows = [...db.scan(t.name, null, null, { maxVersions: desc.maxVersions })];
    assert.equal(rows.length, t.rows.length, `rows read from ${t.name}`);
    rows.forEach((row, i) => {
      const want = t.rows[i];
      assert.deepEqual(
        Object.entries(row.primaryKey).map(([n, v]) => [n, valueShape(v)]),
        want.primary_key.map(([n, v]) => [n, expectedValueShape(v)]),
        `key of row ${i} of ${t.name}`,
      );
      assert.deepEqual(
        row.cells.map((c) => [c.name, valueShape(c.value), String(c.timestamp)]),
        want.cells.map(([n, v, ts]) => [n, expectedValueShape(v), ts]),
        `cells of row ${i} of ${t.name}`,
      );
    });
  }
}
