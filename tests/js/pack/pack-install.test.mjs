// `npm pack` of bindings-wasm/pkg gives an installable tarball: install it
// into a scratch project and use it through require and import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bindings-wasm', 'pkg');
const npm = (args, cwd) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

const roundTrip = (api) => `
const db = ${api}.Database.memory('eu');
db.createTable('users', { primaryKey: [['uid', 'INTEGER']] });
db.putRow('users', { uid: 1 }, [['name', 'Ada', 1000], ['age', 36, 1000]]);
const row = db.getRow('users', { uid: 1 });
let code = null;
try { db.putRow('users', { uid: 1 }, {}, { condition: 'EXPECT_NOT_EXIST' }); } catch (e) { code = (e instanceof ${api}.TablesyncError) && e.code; }
const copy = ${api}.Database.importSnapshot(db.exportSnapshot());
const peer = ${api}.Database.memory('us');
const synced = db.syncWith(peer, { mode: 'full' });
const { session, request } = ${api}.SyncSession.start(peer, { mode: 'verify' });
let check = request;
while (check instanceof Uint8Array) check = session.receive(peer, ${api}.respond(db, check));
console.log(JSON.stringify({
  synced: synced.verified && peer.tableDigest('users') === db.tableDigest('users'),
  hand: check.verified && check.mode === 'verify',
  http: typeof ${api}.syncOverHttp,
  name: row.columns.name, age: row.columns.age, digest: db.tableDigest('users'),
  copyDigest: copy.tableDigest('users'), code, double: ${api}.double(1) instanceof ${api}.Double,
  infMin: ${api}.INF_MIN === Symbol.for('tablesync.INF_MIN'),
}));
`;

test('npm pack → npm install → require and import', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tablesync-pack-'));
  try {
    const packed = JSON.parse(npm(['pack', PKG, '--json', '--pack-destination', scratch], scratch));
    const files = packed[0].files.map((f) => f.path).sort();
    for (const f of ['package.json', 'README.md', 'api.cjs', 'api.mjs', 'index.d.cts', 'index.d.mts',
      'node/index.cjs', 'node/index.mjs', 'node/tablesync_wasm.js', 'node/tablesync_wasm_bg.wasm',
      'web/index.mjs', 'web/package.json', 'web/tablesync_wasm.js', 'web/tablesync_wasm_bg.wasm']) {
      assert.ok(files.includes(f), `tarball lacks ${f}`);
    }
    assert.ok(!files.some((f) => f.endsWith('.d.ts')), 'no generated raw .d.ts files ship');
    const tarball = join(scratch, packed[0].filename);

    const app = join(scratch, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }));
    npm(['install', '--offline', tarball], app);

    writeFileSync(join(app, 'cjs.cjs'), `const ts = require('tablesync');\n${roundTrip('ts')}`);
    writeFileSync(join(app, 'esm.mjs'), `import * as ts from 'tablesync';\nimport init from 'tablesync';\nawait init();\n${roundTrip('ts')}`);
    writeFileSync(join(app, 'both.mjs'), [
      "import { createRequire } from 'node:module';",
      "import { Database } from 'tablesync';",
      "const required = createRequire(import.meta.url)('tablesync');",
      'console.log(JSON.stringify({ same: required.Database === Database }));',
    ].join('\n'));

    const cjs = JSON.parse(execFileSync('node', ['cjs.cjs'], { cwd: app, encoding: 'utf8' }));
    const esm = JSON.parse(execFileSync('node', ['esm.mjs'], { cwd: app, encoding: 'utf8' }));
    assert.deepEqual(cjs, esm, 'require and import behave the same');
    assert.equal(cjs.name, 'Ada');
    assert.equal(cjs.age, 36);
    assert.match(cjs.digest, /^[0-9a-f]{64}$/);
    assert.equal(cjs.copyDigest, cjs.digest);
    assert.equal(cjs.code, 'OTSConditionCheckFail');
    assert.equal(cjs.double, true);
    assert.equal(cjs.infMin, true);
    assert.equal(cjs.synced, true, 'syncWith works from the installed package');
    assert.equal(cjs.hand, true, 'SyncSession + respond work from the installed package');
    assert.equal(cjs.http, 'function');
    const both = JSON.parse(execFileSync('node', ['both.mjs'], { cwd: app, encoding: 'utf8' }));
    assert.equal(both.same, true, 'require and import share one module instance');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
