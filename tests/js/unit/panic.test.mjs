// A panic (always a bug) must not leave a silently broken instance: the
// call that panicked throws InternalPanic and every later call Poisoned.
// (node --test runs each file in its own process, so poisoning stays here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Database, ManualClock, TablesyncError } from 'tablesync';

const require = createRequire(import.meta.url);
// The same module instance the package entry loaded (symlinks resolve to one path).
const raw = require(require.resolve('tablesync').replace(/index\.cjs$/, 'tablesync_wasm.js'));

test('a panic poisons the module: InternalPanic, then Poisoned everywhere', () => {
  const db = Database.memory('eu');
  db.createTable('t', { primaryKey: [['k', 'INTEGER']] });
  db.putRow('t', { k: 1 }, { a: 1 });
  assert.equal(raw.isPoisoned(), false);

  // Silence the panic hook's console.error for the test output.
  const origError = console.error;
  const logged = [];
  console.error = (...args) => logged.push(args.join(' '));
  try {
    assert.throws(() => raw.__tablesyncTestPanic(), WebAssembly.RuntimeError);
  } finally {
    console.error = origError;
  }
  assert.ok(logged.some((l) => l.includes('deliberate panic')), 'the hook logged the panic');
  assert.equal(raw.isPoisoned(), true);
  assert.match(raw.lastPanicMessage(), /deliberate panic/);

  for (const fn of [
    () => db.getRow('t', { k: 1 }),
    () => db.putRow('t', { k: 2 }, { a: 1 }),
    () => Database.memory('us'),
    () => new ManualClock(0),
  ]) {
    assert.throws(fn, (e) => e instanceof TablesyncError && e.code === 'Poisoned' && /deliberate panic/.test(e.message));
  }
  db.free(); // releasing is still allowed (a no-op once poisoned)
});
