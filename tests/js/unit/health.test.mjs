// Issue 12 in JS: the `maxClockDrift` open option and `health()` (refusals
// of peer input, background failures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, ManualClock, TablesyncError } from 'tablesync';

const T0 = 1_700_000_000_000;

test('maxClockDrift: default, option, bad values', () => {
  assert.equal(Database.memory('a').maxClockDrift, 60_000);
  assert.equal(Database.memory('a', { maxClockDrift: 5 }).maxClockDrift, 5);
  assert.throws(() => Database.memory('a', { maxClockDrift: -1 }), TablesyncError);
  assert.throws(() => Database.memory('a', { maxClockDrift: 'soon' }), TypeError);
});

test('health() counts clock-drift refusals and leaves the region unchanged', () => {
  const ahead = Database.memory('ahead', { clock: new ManualClock(T0 + 600_000) });
  const behind = Database.memory('behind', { clock: new ManualClock(T0), maxClockDrift: 60_000 });
  for (const d of [ahead, behind]) d.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  ahead.putRow('t', { k: 1 }, { v: 'x' });
  assert.deepEqual(behind.health(), {
    clockDriftRefusals: 0,
    peerViolations: 0,
    backgroundFailures: 0,
    lastBackgroundError: null,
  });
  assert.throws(() => behind.syncWith(ahead, { mode: 'incremental', direction: 'pull' }), TablesyncError);
  assert.ok(behind.health().clockDriftRefusals >= 1);
  assert.equal(behind.getRow('t', { k: 1 }), null);
  const patient = Database.memory('patient', {
    clock: new ManualClock(T0),
    maxClockDrift: 3_600_000,
  });
  patient.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  patient.syncWith(ahead, { mode: 'incremental', direction: 'pull' });
  assert.notEqual(patient.getRow('t', { k: 1 }), null);
  assert.equal(patient.health().clockDriftRefusals, 0);
});
