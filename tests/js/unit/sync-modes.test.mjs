// Sync sessions between two regions of one process (`db.syncWith`): every
// mode and direction, verify, repair, LogGap and the auto fallback, option
// checking, and copyTable into another region.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, ManualClock, TablesyncError } from 'tablesync';

const MOVING_MODES = ['incremental', 'full', 'hybrid', 'reconcile', 'auto'];
const DIRECTIONS = ['pull', 'push', 'both'];

function region(name, clock) {
  const db = Database.memory(name, { clock });
  db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  return db;
}

function value(db, k) {
  return db.getRow('t', { k })?.columns.v ?? null;
}

/** a: keys 0..39 ("a"); b later: keys 30..59 ("b") and a delete of key 5. */
function pair() {
  const clock = new ManualClock(1_700_000_000_000);
  const a = region('a', clock);
  const b = region('b', clock);
  for (let k = 0; k < 40; k++) {
    a.putRow('t', { k }, { v: 'a' });
    clock.advance(1);
  }
  for (let k = 30; k < 60; k++) {
    b.putRow('t', { k }, { v: 'b' });
    clock.advance(1);
  }
  b.deleteRow('t', { k: 5 });
  return { a, b, clock };
}

function checkReportShape(r, mode) {
  assert.equal(r.mode, mode);
  for (const f of ['bytesSent', 'bytesReceived', 'roundTrips', 'recordsPulled', 'recordsPushed',
    'rowsPulled', 'rowsPushed', 'durationMs']) {
    assert.equal(typeof r[f], 'number', f);
    assert.ok(Number.isSafeInteger(r[f]) && r[f] >= 0, `${f} = ${r[f]}`);
  }
  assert.equal(typeof r.fellBackToReconcile, 'boolean');
  assert.equal(typeof r.verified, 'boolean');
  assert.ok(r.bytesSent > 0 && r.bytesReceived > 0 && r.roundTrips >= 1);
  assert.deepEqual(r.tables.map((t) => t.table), ['t']);
  assert.equal(Object.getPrototypeOf(r), Object.prototype, 'a plain object');
}

for (const mode of MOVING_MODES) {
  for (const direction of DIRECTIONS) {
    test(`syncWith mode ${mode}, direction ${direction}`, () => {
      const { a, b } = pair();
      try {
        const aBefore = a.tableDigest('t');
        const bBefore = b.tableDigest('t');
        const r = a.syncWith(b, { mode, direction });
        checkReportShape(r, mode);
        const pulled = r.recordsPulled + r.rowsPulled;
        const pushed = r.recordsPushed + r.rowsPushed;
        const [t] = r.tables;
        assert.equal(t.local, a.tableDigest('t'));
        assert.equal(t.remote, b.tableDigest('t'));
        assert.deepEqual(t.differingKeys, []);
        if (direction === 'both') {
          assert.equal(r.verified, true);
          assert.equal(a.tableDigest('t'), b.tableDigest('t'));
          assert.ok(pulled > 0 && pushed > 0, JSON.stringify(r));
          // b's later writes win on 30..39; each side got the other's own keys.
          assert.equal(value(a, 35), 'b');
          assert.equal(value(b, 35), 'b');
          assert.equal(value(b, 10), 'a');
          assert.equal(value(a, 55), 'b');
          // A second session (auto: full and hybrid always resend rows) finds nothing to move.
          const digest = a.tableDigest('t');
          const again = a.syncWith(b, { mode: 'auto' });
          assert.equal(again.verified, true);
          assert.equal(a.tableDigest('t'), digest);
          assert.equal(b.tableDigest('t'), digest);
          if (['incremental', 'hybrid', 'auto'].includes(mode)) {
            // These leave the version vectors level; (full and reconcile move
            // rows, not records, so auto may still resend records: no-ops.)
            assert.deepEqual(a.versionVector(), b.versionVector());
            assert.equal(again.recordsPulled + again.rowsPulled + again.recordsPushed + again.rowsPushed, 0,
              JSON.stringify(again));
          }
        } else if (direction === 'pull') {
          assert.equal(r.verified, false, 'a still has rows b lacks');
          assert.equal(b.tableDigest('t'), bBefore, 'pull must not change the responder');
          assert.equal(pushed, 0);
          assert.ok(pulled > 0);
          assert.equal(value(a, 55), 'b');
          assert.equal(value(a, 35), 'b');
          assert.equal(value(b, 10), null);
        } else {
          assert.equal(r.verified, false, 'b still has rows a lacks');
          assert.equal(a.tableDigest('t'), aBefore, 'push must not change the initiator');
          assert.equal(pulled, 0);
          assert.ok(pushed > 0);
          assert.equal(value(b, 10), 'a');
          assert.equal(value(b, 35), 'b', 'b\'s later writes stay');
          assert.equal(value(a, 55), null);
          // Pulling afterwards completes the convergence.
          const back = a.syncWith(b, { mode, direction: 'pull' });
          assert.equal(back.verified, true, JSON.stringify(back));
          assert.equal(a.tableDigest('t'), b.tableDigest('t'));
        }
      } finally {
        a.free();
        b.free();
      }
    });
  }
}

test('mode verify (any direction) lists the differing keys and moves nothing', () => {
  for (const direction of DIRECTIONS) {
    const { a, b } = pair();
    try {
      const before = [a.tableDigest('t'), b.tableDigest('t'), a.nextCursor(), b.nextCursor()];
      const r = a.syncWith(b, { mode: 'verify', direction });
      checkReportShape(r, 'verify');
      assert.equal(r.verified, false);
      assert.equal(r.rowsPulled + r.rowsPushed + r.recordsPulled + r.recordsPushed, 0);
      assert.deepEqual([a.tableDigest('t'), b.tableDigest('t'), a.nextCursor(), b.nextCursor()], before);
      const keys = r.tables[0].differingKeys.map((pk) => pk.k).sort((x, y) => x - y);
      // a-only 0..29 except... key 5 differs too (deleted in b); 30..39 changed; 40..59 b-only.
      assert.deepEqual(keys, Array.from({ length: 60 }, (_, i) => i));
    } finally {
      a.free();
      b.free();
    }
  }
});

test('verify finds a few differing keys among many equal rows; repair moves only those', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const a = region('a', clock);
  const b = region('b', clock);
  try {
    for (let k = 0; k < 500; k++) a.putRow('t', { k }, { v: 'same' });
    a.syncWith(b);
    assert.equal(a.tableDigest('t'), b.tableDigest('t'));
    clock.advance(10);
    a.putRow('t', { k: 17 }, { v: 'changed' });
    b.deleteRow('t', { k: 42 });
    b.putRow('t', { k: 1500 }, { v: 'only-b' });
    const digests = [a.tableDigest('t'), b.tableDigest('t')];

    const v = a.verify(b);
    assert.equal(v.mode, 'verify');
    assert.equal(v.verified, false);
    // (The core orders differingKeys by their text form, not by key.)
    assert.deepEqual(v.tables[0].differingKeys.map((pk) => pk.k).sort((x, y) => x - y), [17, 42, 1500]);
    assert.deepEqual(Object.keys(v.tables[0].differingKeys[0]), ['k']);
    assert.deepEqual([a.tableDigest('t'), b.tableDigest('t')], digests, 'verify moves nothing');
    assert.deepEqual(a.verify(b, { tables: ['t'] }).tables[0].differingKeys.length, 3);

    const r = a.repair(b);
    assert.equal(r.mode, 'reconcile');
    assert.equal(r.verified, true);
    assert.ok(r.rowsPulled + r.rowsPushed <= 8, `only the differing rows move: ${JSON.stringify(r)}`);
    assert.equal(a.tableDigest('t'), b.tableDigest('t'));
    assert.equal(value(b, 17), 'changed');
    assert.equal(value(a, 1500), 'only-b');
    assert.equal(value(a, 42), null);
    const after = a.verify(b);
    assert.equal(after.verified, true);
    assert.deepEqual(after.tables[0].differingKeys, []);
  } finally {
    a.free();
    b.free();
  }
});

test('differingKeys follow the integer mode; tables limits the session', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const a = Database.memory('a', { clock, integers: 'bigint' });
  const b = Database.memory('b', { clock });
  try {
    for (const db of [a, b]) {
      db.createTable('t', { primaryKey: [['k', 'INTEGER'], ['s', 'STRING']] });
      db.createTable('u', { primaryKey: [['k', 'INTEGER']] });
    }
    a.putRow('t', { k: 1, s: 'x' }, { v: 1 });
    a.putRow('u', { k: 1 }, { v: 1 });
    const v = a.verify(b, { tables: ['t'] });
    assert.deepEqual(v.tables.map((t) => t.table), ['t']);
    assert.deepEqual(v.tables[0].differingKeys, [{ k: 1n, s: 'x' }]);
    const r = a.syncWith(b, { tables: ['t'], mode: 'full' });
    assert.equal(r.verified, true);
    assert.equal(b.getRow('t', { k: 1, s: 'x' }).columns.v, 1);
    assert.equal(b.getRow('u', { k: 1 }), null, 'table u was not selected');
  } finally {
    a.free();
    b.free();
  }
});

test('LogGap: incremental from a region that got its rows by hybrid; auto falls back to reconcile', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const a = region('a', clock);
  const b = Database.memory('b', { clock });
  const c = region('c', clock);
  try {
    for (let k = 0; k < 100; k++) a.putRow('t', { k }, { v: 'a' });
    const h = b.syncWith(a, { mode: 'hybrid', direction: 'pull' });
    assert.equal(h.verified, true);
    assert.deepEqual(b.listTables(), ['t'], 'the table was created from its schema');
    assert.deepEqual(b.versionVector(), a.versionVector());
    const before = c.tableDigest('t');
    assert.throws(() => c.syncWith(b, { mode: 'incremental', direction: 'pull' }),
      (e) => e instanceof TablesyncError && e.code === 'LogGap');
    assert.equal(c.tableDigest('t'), before, 'a failed session changes nothing');
    const r = c.syncWith(b, { mode: 'auto', direction: 'pull' });
    assert.equal(r.verified, true, JSON.stringify(r));
    assert.equal(r.fellBackToReconcile, true);
    assert.equal(value(c, 99), 'a');
  } finally {
    for (const db of [a, b, c]) db.free();
  }
});

test('sync options are checked: TypeError for wrong types, OTSParameterInvalid for wrong values', () => {
  const { a, b } = pair();
  try {
    const before = [a.tableDigest('t'), b.tableDigest('t')];
    assert.throws(() => a.syncWith(b, { mode: 'sideways' }), { code: 'OTSParameterInvalid' });
    assert.throws(() => a.syncWith(b, { direction: 'up' }), { code: 'OTSParameterInvalid' });
    assert.throws(() => a.syncWith(b, { maxFrameBytes: 100 }), { code: 'OTSParameterInvalid' });
    assert.throws(() => a.syncWith(b, { initialSymbols: 0 }), { code: 'OTSParameterInvalid' });
    assert.throws(() => a.syncWith(b, { mode: 3 }), TypeError);
    assert.throws(() => a.syncWith(b, { tables: 't' }), TypeError);
    assert.throws(() => a.syncWith(b, { tables: [1] }), TypeError);
    assert.throws(() => a.syncWith(b, { maxframebytes: 1 << 20 }), /unknown option 'maxframebytes'/);
    assert.throws(() => a.syncWith(b, 'full'), TypeError);
    assert.throws(() => a.syncWith({}, {}), TypeError);
    assert.throws(() => a.syncWith(a), { code: 'OTSParameterInvalid' });
    assert.throws(() => a.verify(b, { mode: 'full' }), /unknown option 'mode'/);
    assert.deepEqual([a.tableDigest('t'), b.tableDigest('t')], before);
    const c = Database.memory('c');
    c.free();
    assert.throws(() => a.syncWith(c), { code: 'DatabaseClosed' });
    // A small frame cap still converges, in more round trips.
    const r = a.syncWith(b, { mode: 'full', maxFrameBytes: 4096 });
    assert.equal(r.verified, true);
    assert.ok(r.roundTrips > 2, JSON.stringify(r));
  } finally {
    a.free();
    b.free();
  }
});

test('copyTable into another region: equal digests, progress, and it syncs afterwards', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const a = region('a', clock);
  const b = Database.memory('b', { clock });
  try {
    for (let k = 0; k < 3000; k++) a.putRow('t', { k }, { v: `row ${k}`, n: k });
    const progress = [];
    const copied = a.copyTable('t', 't', { target: b, onProgress: (p) => progress.push({ ...p }) });
    assert.equal(copied, 3000);
    assert.equal(b.tableDigest('t'), a.tableDigest('t'));
    assert.equal(b.verifyTableDigest('t'), a.tableDigest('t'));
    assert.ok(progress.length >= 1);
    assert.deepEqual(progress.at(-1), { copied: 3000, total: 3000 });
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].copied >= progress[i - 1].copied);
    assert.equal(a.verify(b).verified, true, 'the copy verifies against its source');
    // Into another name of the other region too; the source is unchanged.
    a.copyTable('t', 't2', { target: b });
    assert.equal(b.tableDigest('t2'), a.tableDigest('t'));
    assert.throws(() => a.copyTable('t', 't', { target: b }), { code: 'OTSObjectAlreadyExist' });
    assert.throws(() => a.copyTable('t', 'x', { target: 'b' }), TypeError);
    // Later writes on either side sync as usual.
    a.putRow('t', { k: 1 }, { v: 'new' });
    const r = b.syncWith(a, { tables: ['t'] });
    assert.equal(r.verified, true, JSON.stringify(r));
    assert.equal(b.getRow('t', { k: 1 }).columns.v, 'new');
  } finally {
    a.free();
    b.free();
  }
});
