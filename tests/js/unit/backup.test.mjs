// db.backup() / Database.restore() (one-file repository bundles, FORMAT.md
// §19.9): the golden repositories of tests/vectors/backup.json (written by
// Rust) restore here to the pinned digests; the same script replayed here
// backs up into byte-identical objects (so Rust and the CLI read what JS
// writes); backup → write more → incremental → restore at a time equals a
// reference; encryption refuses wrong or missing passphrases; any damage
// to a bundle is BackupCorrupt; a write(name, bytes) sink gets a
// repository directory's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as api from 'tablesync';
import { loadVectors } from '../helpers/vectors.mjs';
import { makeReplayer } from '../helpers/replay-core.mjs';

const { Database, ManualClock, TablesyncError } = api;
const V = loadVectors('backup.json');
const R = makeReplayer(api);

/** A bundle (FORMAT.md §19.9) written independently of the Rust codec. */
function bundleOf(objects) {
  const names = Object.keys(objects).sort();
  const parts = [Buffer.from('TSBN'), Buffer.from([1])];
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
  parts.push(u32(names.length));
  for (const n of names) {
    const data = Buffer.from(objects[n]);
    parts.push(u16(n.length), Buffer.from(n, 'ascii'), u32(data.length), data);
  }
  const body = Buffer.concat(parts);
  return new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

/** The objects of a bundle (the inverse of bundleOf, checksum checked). */
function objectsOf(bundle) {
  const b = Buffer.from(bundle);
  const body = b.subarray(0, b.length - 32);
  assert.deepEqual(createHash('sha256').update(body).digest(), b.subarray(b.length - 32));
  assert.equal(body.subarray(0, 4).toString(), 'TSBN');
  assert.equal(body[4], 1);
  const out = {};
  let at = 9;
  for (let i = 0, n = body.readUInt32LE(5); i < n; i++) {
    const nl = body.readUInt16LE(at);
    const name = body.subarray(at + 2, at + 2 + nl).toString('ascii');
    at += 2 + nl;
    const len = body.readUInt32LE(at);
    out[name] = R.toHex(body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  assert.equal(at, body.length);
  return out;
}

const hexObjects = (objs) => Object.fromEntries(Object.entries(objs).map(([k, v]) => [k, R.fromHex(v)]));

function replay(db, clock, ops) {
  for (const op of ops) {
    if (op.now !== undefined) clock.set(Number(op.now));
    R.runOp(db, op);
  }
}

test('the golden repositories (written by Rust) restore to the pinned digests', () => {
  const plain = bundleOf(hexObjects(V.plain.objects));
  // The bundle layout as pinned in backup_bundle.json (read by Rust too).
  const B = loadVectors('backup_bundle.json');
  assert.equal(R.toHex(plain), B.plain);
  assert.equal(R.toHex(bundleOf(hexObjects(V.encrypted.objects))), B.encrypted);
  assert.equal(Database.restore(R.fromHex(B.plain)).tableDigest('users'), B.final_digest);
  // Repository format 1 (before row ids) is still read.
  assert.equal(Database.restore(R.fromHex(B.plain_format1)).tableDigest('users'), B.final_digest);
  const latest = Database.restore(plain);
  assert.equal(latest.region, V.region);
  assert.equal(latest.tableDigest('users'), V.final_digest);
  const full = Database.restore(plain, { backup: V.plain.backups[0].id.slice(0, 12) });
  assert.equal(full.tableDigest('users'), V.full_digest);
  const listed = Database.listBackups(plain);
  assert.deepEqual(listed.map((b) => b.id), V.plain.backups.map((b) => b.id));
  assert.deepEqual(listed.map((b) => b.kind), ['full', 'incremental']);
  assert.equal(String(listed[1].point), V.plain.backups[1].point);

  const sealed = bundleOf(hexObjects(V.encrypted.objects));
  const e = Database.restore(sealed, { passphrase: V.passphrase });
  assert.equal(e.tableDigest('users'), V.full_digest);
  assert.throws(() => Database.restore(sealed, { passphrase: 'wrong horse' }),
    (x) => x instanceof TablesyncError && x.code === 'BackupKeyInvalid');
  assert.throws(() => Database.restore(sealed), (x) => x.code === 'BackupKeyInvalid');
});

test('the same script backed up in JS gives byte-identical objects', () => {
  const clock = new ManualClock(Number(V.clock_ms));
  const db = Database.memory(V.region, { clock });
  replay(db, clock, V.ops);
  const first = db.backup();
  const fullObjs = objectsOf(first);
  const [full, inc] = V.plain.backups;
  // Content-addressed objects do not depend on the repository's random id.
  for (const [name, hex] of Object.entries(fullObjs)) {
    if (name === 'config' || name === 'index') continue;
    assert.equal(hex, V.plain.objects[name], `object ${name} as Rust writes it`);
  }
  assert.ok(`manifests/${full.id}` in fullObjs);
  replay(db, clock, V.more_ops);
  const second = db.backup({ parent: first });
  const all = objectsOf(second);
  assert.ok(`manifests/${inc.id}` in all, 'the incremental is the one Rust wrote');
  for (const [name, hex] of Object.entries(all)) {
    if (name === 'config' || name === 'index') continue;
    assert.equal(hex, V.plain.objects[name], `object ${name} as Rust writes it`);
  }
  assert.equal(Database.restore(second).tableDigest('users'), V.final_digest);
});

test('backup, write more, incremental, restore at a time equals the reference', () => {
  const clock = new ManualClock(1_800_000_000_000);
  const db = Database.memory('js-backup', { clock });
  db.createTable('items', { primaryKey: [['id', 'INTEGER']] });
  const digests = [];
  const times = [];
  const counts = [];
  for (let step = 0; step < 5; step++) {
    for (let i = 0; i < 20; i++) db.putRow('items', { id: step * 100 + i }, { step, i });
    if (step > 0) db.deleteRow('items', { id: (step - 1) * 100 });
    times.push(clock.now);
    digests.push(db.tableDigest('items'));
    counts.push(db.describeTable('items').rowCount);
    clock.advance(1000);
  }
  const full = db.backup({ full: true });
  for (let i = 0; i < 10; i++) db.updateRow('items', { id: 401 + i }, { put: { late: true } });
  times.push(clock.now);
  digests.push(db.tableDigest('items'));
  const chain = db.backup({ parent: full });
  assert.equal(Database.listBackups(chain).length, 2);
  for (let k = 0; k < times.length; k++) {
    const r = Database.restore(chain, { at: times[k] });
    assert.equal(r.tableDigest('items'), digests[k], `restore at step ${k}`);
    r.free();
  }
  const atDate = Database.restore(chain, { at: new Date(times[2]) });
  assert.equal(atDate.tableDigest('items'), digests[2]);
  // One table under another name.
  const renamed = Database.restore(chain, { table: 'items', as: 'items_old', at: times[1] });
  assert.deepEqual(renamed.listTables(), ['items_old']);
  assert.equal(renamed.describeTable('items_old').rowCount, counts[1]);
  // The full backup alone still restores to its own point.
  assert.equal(Database.restore(full).tableDigest('items'), digests[4]);
});

test('encryption: the right passphrase restores, a wrong one or none is refused', () => {
  const db = Database.memory('js-sealed');
  db.createTable('secrets', { primaryKey: [['k', 'STRING']] });
  db.putRow('secrets', { k: 'a' }, { v: 'launch code' });
  const sealed = db.backup({ passphrase: 'open sesame', kdf: 'insecure-test' });
  assert.ok(!Buffer.from(sealed).includes(Buffer.from('launch code')), 'no plaintext in the bundle');
  const r = Database.restore(sealed, { passphrase: 'open sesame' });
  assert.equal(r.tableDigest('secrets'), db.tableDigest('secrets'));
  assert.throws(() => Database.restore(sealed, { passphrase: 'open sesame!' }), (e) => e.code === 'BackupKeyInvalid');
  assert.throws(() => Database.restore(sealed), (e) => e.code === 'BackupKeyInvalid');
  const more = db.backup({ parent: sealed, passphrase: 'open sesame' });
  assert.equal(Database.listBackups(more, { passphrase: 'open sesame' }).length, 1, 'nothing changed: no new backup');
  db.putRow('secrets', { k: 'b' }, { v: 'x' });
  assert.throws(() => db.backup({ parent: sealed, passphrase: 'nope' }), (e) => e.code === 'BackupKeyInvalid');
});

test('damaged bundles are BackupCorrupt, never wrong data', () => {
  const db = Database.memory('js-damage');
  db.createTable('t', { primaryKey: [['id', 'INTEGER']] });
  for (let i = 0; i < 50; i++) db.putRow('t', { id: i }, { v: 'x'.repeat(i) });
  const bundle = db.backup();
  for (let i = 0; i < bundle.length; i += Math.max(1, Math.floor(bundle.length / 97))) {
    const d = bundle.slice();
    d[i] ^= 0x40;
    assert.throws(() => Database.restore(d), (e) => e instanceof TablesyncError && e.code === 'BackupCorrupt', `flip at ${i}`);
  }
  assert.throws(() => Database.restore(bundle.subarray(0, bundle.length - 1)), (e) => e.code === 'BackupCorrupt');
  assert.throws(() => Database.restore(new Uint8Array([1, 2, 3])), (e) => e.code === 'BackupCorrupt');
  assert.throws(() => Database.restore('nope'), TypeError);
  assert.throws(() => db.backup({ bogus: 1 }), TypeError);
});

test('a write(name, bytes) sink gets the repository objects, only new ones next time', async () => {
  const db = Database.memory('js-sink');
  db.createTable('t', { primaryKey: [['id', 'INTEGER']] });
  db.putRow('t', { id: 1 }, { v: 1 });
  const files = new Map();
  const info = await db.backup({ write: async (name, bytes) => { files.set(name, bytes); } });
  assert.equal(info.kind, 'full');
  assert.ok(files.has('config') && files.has('index') && files.has(`manifests/${info.id}`));
  assert.ok([...files.keys()].some((n) => n.startsWith('chunks/')));
  // The files are the repository: bundled again, they restore.
  assert.equal(Database.restore(bundleOf(Object.fromEntries(files))).tableDigest('t'), db.tableDigest('t'));
  db.putRow('t', { id: 2 }, { v: 2 });
  const written = [];
  const inc = await db.backup({ parent: info.bundle, write: (name) => { written.push(name); } });
  assert.equal(inc.kind, 'incremental');
  assert.ok(written.includes(`manifests/${inc.id}`) && written.includes('index'));
  assert.ok(!written.includes('config') && !written.includes(`manifests/${info.id}`));
});

test('db.backup() reports progress and streams into an async sink', async () => {
  const db = Database.memory('js-stream');
  db.createTable('t', { primaryKey: [['id', 'INTEGER']] });
  for (let i = 0; i < 400; i++) db.putRow('t', { id: i }, { v: `row ${i} `.repeat(20) });
  // Progress while the backup is taken: monotonic, ending at the total.
  const seen = [];
  const bundle = db.backup({ onProgress: (p) => seen.push(p) });
  assert.ok(seen.length >= 1);
  assert.ok(seen.every((p) => p.phase === 'backup'));
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i].done >= seen[i - 1].done && seen[i].bytes >= seen[i - 1].bytes);
  }
  const last = seen[seen.length - 1];
  assert.equal(last.done, last.total);
  assert.equal(last.total, 400 + 400, 'rows and their records');

  // A sink whose write(chunk) is a slow promise: each write is awaited
  // before the next, the pieces concatenate to a bundle that restores.
  const pieces = [];
  let busy = false;
  let closed = false;
  const sink = {
    async write(chunk) {
      assert.ok(!busy, 'writes do not overlap');
      busy = true;
      await new Promise((r) => setImmediate(r));
      pieces.push(Uint8Array.from(chunk));
      busy = false;
    },
    async close() { closed = true; },
  };
  const progress = [];
  const info = await db.backup({ sink, sinkChunkBytes: 1000, onProgress: (p) => progress.push(p) });
  assert.equal(info.kind, 'full');
  assert.ok(closed, 'close() awaited');
  const streamed = Buffer.concat(pieces);
  assert.equal(streamed.length, info.bundleBytes);
  assert.ok(pieces.length > 1 && pieces.every((p) => p.length <= 1000));
  assert.equal(Database.restore(new Uint8Array(streamed)).tableDigest('t'), db.tableDigest('t'));
  const writes = progress.filter((p) => p.phase === 'write');
  assert.equal(writes.length, pieces.length);
  assert.equal(writes[writes.length - 1].bytes, streamed.length);
  assert.ok(progress.findIndex((p) => p.phase === 'write') > progress.findIndex((p) => p.phase === 'backup'));

  // A WHATWG WritableStream works the same (through its writer).
  const got = [];
  const ws = new WritableStream({ write(chunk) { got.push(Uint8Array.from(chunk)); } });
  const again = await db.backup({ sink: ws, parent: bundle });
  assert.equal(again.kind, 'full', 'nothing changed: the parent');
  assert.equal(Database.restore(new Uint8Array(Buffer.concat(got))).tableDigest('t'), db.tableDigest('t'));

  // A sink that fails rejects the promise; bad options are TypeErrors.
  await assert.rejects(db.backup({ sink: { write: async () => { throw new Error('disk full'); } } }), /disk full/);
  assert.throws(() => db.backup({ sink: {} }), TypeError);
  assert.throws(() => db.backup({ sink, write: () => {} }), TypeError);
  assert.throws(() => db.backup({ onProgress: 5 }), TypeError);
  assert.throws(() => db.backup({ onProgress: () => { throw new RangeError('stop'); } }), RangeError);
  assert.equal(Database.restore(bundle).tableDigest('t'), db.tableDigest('t'), 'the region is unchanged');
});
