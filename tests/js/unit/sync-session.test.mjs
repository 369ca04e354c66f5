// SyncSession driven by hand with respond(): the frames a transport would
// carry, corrupt / foreign / replayed replies, errors from the responder,
// and a region hosted over an asynchronous channel (BroadcastChannel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, ManualClock, SyncSession, TablesyncError, respond } from 'tablesync';

function pair() {
  const clock = new ManualClock(1_700_000_000_000);
  const a = Database.memory('a', { clock });
  const b = Database.memory('b', { clock });
  for (const db of [a, b]) db.createTable('t', { primaryKey: [['k', 'STRING']] });
  for (let i = 0; i < 50; i++) a.putRow('t', { k: `a${i}` }, { v: i });
  clock.advance(5);
  for (let i = 0; i < 30; i++) b.putRow('t', { k: `b${i}` }, { v: -i });
  return { a, b, clock };
}

function state(db) {
  return { digest: db.tableDigest('t'), vv: db.versionVector(), cursor: db.nextCursor(), rows: db.describeTable('t').rowCount };
}

/** Drive a session to the end; returns the report and the frames seen. */
function drive(session, first, a, b) {
  const frames = [];
  let out = first;
  while (out instanceof Uint8Array) {
    const reply = respond(b, out);
    assert.ok(reply instanceof Uint8Array);
    frames.push([out, reply]);
    out = session.receive(a, reply);
  }
  return { report: out, frames };
}

test('SyncSession.start + receive with respond() converges like syncWith', () => {
  for (const mode of ['incremental', 'full', 'hybrid', 'reconcile', 'auto']) {
    const { a, b } = pair();
    try {
      const { session, request } = SyncSession.start(a, { mode });
      assert.ok(request instanceof Uint8Array && request.length > 0);
      assert.match(session.sessionId, /^[0-9a-f]{16}$/);
      assert.equal(session.done, false);
      assert.equal(session.report, null);
      const { report, frames } = drive(session, request, a, b);
      assert.equal(report.mode, mode);
      assert.equal(report.verified, true, JSON.stringify(report));
      assert.equal(report.roundTrips, frames.length);
      assert.equal(report.bytesSent, frames.reduce((n, [q]) => n + q.length, 0));
      assert.equal(report.bytesReceived, frames.reduce((n, [, r]) => n + r.length, 0));
      assert.equal(a.tableDigest('t'), b.tableDigest('t'));
      assert.equal(a.getRow('t', { k: 'b7' }).columns.v, -7);
      assert.equal(b.getRow('t', { k: 'a7' }).columns.v, 7);
      assert.equal(session.done, true);
      assert.deepEqual(session.report, report);
      // Over: further calls are a clear error, not a crash.
      assert.throws(() => session.receive(a, frames[0][1]), { code: 'SyncError' });
      assert.throws(() => session.start(a), { code: 'SyncError' });
      session.free();
    } finally {
      a.free();
      b.free();
    }
  }
});

test('new SyncSession(opts).start(db): pull only; session ids come from the host and differ', () => {
  const { a, b } = pair();
  try {
    const bBefore = state(b);
    const s = new SyncSession({ mode: 'incremental', direction: 'pull', tables: ['t'] });
    const other = new SyncSession();
    assert.notEqual(s.sessionId, other.sessionId);
    other.free();
    assert.throws(() => other.sessionId, { code: 'DatabaseClosed' });
    const { report } = drive(s, s.start(a), a, b);
    assert.equal(report.recordsPulled, 30);
    assert.equal(report.recordsPushed, 0);
    assert.equal(report.verified, false);
    assert.deepEqual(state(b), bBefore, 'a pull changes nothing on the responder');
    assert.equal(a.describeTable('t').rowCount, 80);
  } finally {
    a.free();
    b.free();
  }
});

test('a corrupted reply throws CorruptData and changes nothing; the genuine reply still works', () => {
  const { a, b } = pair();
  try {
    const { session, request } = SyncSession.start(a, { mode: 'incremental' });
    let out = request;
    let corrupted = 0;
    while (out instanceof Uint8Array) {
      const reply = respond(b, out);
      const before = state(a);
      for (const at of [0, 10, reply.length >> 1, reply.length - 1]) {
        const bad = reply.slice();
        bad[at] ^= 0x40;
        assert.throws(() => session.receive(a, bad),
          (e) => e instanceof TablesyncError && e.code === 'CorruptData', `byte ${at} flipped`);
        assert.deepEqual(state(a), before);
        corrupted += 1;
      }
      assert.throws(() => session.receive(a, reply.subarray(0, reply.length - 3)), { code: 'CorruptData' });
      assert.throws(() => session.receive(a, new Uint8Array(0)), { code: 'CorruptData' });
      assert.throws(() => session.receive(a, [...reply]), TypeError);
      assert.deepEqual(state(a), before);
      out = session.receive(a, reply);
    }
    assert.ok(corrupted >= 8);
    assert.equal(out.verified, true);
    assert.equal(a.tableDigest('t'), b.tableDigest('t'));
  } finally {
    a.free();
    b.free();
  }
});

test('a reply of another session, or a replayed one, is rejected', () => {
  const { a, b } = pair();
  try {
    const s1 = SyncSession.start(a, { mode: 'incremental' });
    const s2 = SyncSession.start(a, { mode: 'incremental' });
    const reply1 = respond(b, s1.request);
    const reply2 = respond(b, s2.request);
    const before = state(a);
    assert.throws(() => s1.session.receive(a, reply2), (e) => {
      assert.ok(e instanceof TablesyncError);
      assert.equal(e.code, 'CorruptData');
      assert.match(e.message, /session/);
      return true;
    });
    assert.deepEqual(state(a), before);
    const next = s1.session.receive(a, reply1);
    // Replaying the reply already handled is refused too.
    if (next instanceof Uint8Array) {
      assert.throws(() => s1.session.receive(a, reply1), { code: 'CorruptData' });
      drive(s1.session, next, a, b);
    }
    assert.equal(s1.session.done, true);
    assert.equal(s1.session.report.verified, true);
    s2.session.free();
  } finally {
    a.free();
    b.free();
  }
});

test('an error on the responder side reaches the initiator with its code', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const a = Database.memory('a', { clock });
  const b = Database.memory('b', { clock });
  const c = Database.memory('c', { clock });
  try {
    a.createTable('t', { primaryKey: [['k', 'INTEGER']] });
    for (let k = 0; k < 20; k++) a.putRow('t', { k }, { v: k });
    b.syncWith(a, { mode: 'hybrid', direction: 'pull' }); // b holds a's rows, not its records
    const before = state(a);
    const { session, request } = SyncSession.start(c, { mode: 'incremental', direction: 'pull' });
    assert.throws(() => drive(session, request, c, b),
      (e) => e instanceof TablesyncError && e.code === 'LogGap');
    session.free();
    // The schema may arrive before the failure; no row does.
    for (const t of c.listTables()) assert.equal(c.describeTable(t).rowCount, 0, 'nothing was merged');
    assert.deepEqual(c.versionVector(), {});
    assert.deepEqual(state(a), before);
  } finally {
    for (const db of [a, b, c]) db.free();
  }
});

test('respond checks its input', () => {
  const { a, b } = pair();
  try {
    const before = state(b);
    assert.throws(() => respond(b, new Uint8Array([1, 2, 3])), { code: 'CorruptData' });
    assert.throws(() => respond(b, 'frame'), TypeError);
    assert.throws(() => respond({}, new Uint8Array(4)), TypeError);
    const { session, request } = SyncSession.start(a);
    assert.throws(() => respond(b, request, 100), { code: 'OTSParameterInvalid' });
    const garbled = request.slice();
    garbled[garbled.length - 1] ^= 1;
    assert.throws(() => respond(b, garbled), { code: 'CorruptData' });
    assert.deepEqual(state(b), before);
    // Answers are stateless: the same request may be answered twice.
    const r1 = respond(b, request, 1 << 20);
    const r2 = respond(b, request);
    assert.deepEqual(r1, r2);
    drive(session, session.receive(a, r1), a, b);
    assert.equal(session.report.verified, true);
  } finally {
    a.free();
    b.free();
  }
});

test('a region hosted over an async channel (BroadcastChannel, as between browser tabs)', async () => {
  const { a, b } = pair();
  // The "tab" hosting b answers every frame posted on the channel.
  const host = new BroadcastChannel('tablesync-test');
  host.onmessage = (ev) => host.postMessage(respond(b, ev.data));
  const client = new BroadcastChannel('tablesync-test');
  const replies = [];
  let waiting = null;
  client.onmessage = (ev) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(ev.data);
    } else replies.push(ev.data);
  };
  const exchange = (frame) => new Promise((resolve) => {
    waiting = resolve;
    client.postMessage(frame);
  });
  try {
    const { session, request } = SyncSession.start(a, { mode: 'reconcile' });
    let out = request;
    while (out instanceof Uint8Array) out = session.receive(a, await exchange(out));
    assert.equal(out.verified, true);
    assert.ok(out.rowsPulled === 30 && out.rowsPushed === 50, JSON.stringify(out));
    assert.equal(a.tableDigest('t'), b.tableDigest('t'));
    assert.deepEqual(replies, []);
  } finally {
    host.close();
    client.close();
    a.free();
    b.free();
  }
});
