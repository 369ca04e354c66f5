// Headless Chromium loads the `web` build from a page served on 127.0.0.1
// and runs a round trip (see roundtrip.mjs); the example page must work too;
// and a page syncs over fetch with a tablesync HTTP server on another
// origin (see sync.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';
import { startServer } from '../helpers/sync-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let browser;
let profile;
let syncDir;
let syncServer;
const SYNC_TOKEN = 'browser-token-19c2';

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/test-js installs it)`);
  server = await serve({
    '/pkg/': join(repo, 'bindings-wasm', 'pkg'),
    '/vectors/': join(repo, 'tests', 'vectors'),
    '/helpers/': join(repo, 'tests', 'js', 'helpers'),
    '/test/': here,
    '/examples/': join(repo, 'examples', 'js'),
  });
  profile = mkdtempSync(join(tmpdir(), 'tablesync-chromium-'));
  syncDir = mkdtempSync(join(tmpdir(), 'tablesync-browser-sync-'));
  syncServer = await startServer(join(syncDir, 'region'), SYNC_TOKEN);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    // Playwright gives the browser a fresh temporary profile of its own.
    env: { ...process.env, TMPDIR: profile },
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await syncServer?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (syncDir) rmSync(syncDir, { recursive: true, force: true });
});

async function load(path) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 });
  const result = await page.evaluate(() => window.__result);
  const title = await page.title();
  await page.close();
  return { result, title, errors };
}

test('web build round trip in headless Chromium', async () => {
  const { result, title, errors } = await load('/test/roundtrip.html');
  assert.deepEqual(errors, []);
  assert.equal(result.ok, true, result.error);
  assert.match(title, /done$/);
  const r = result.report;
  assert.match(r.userAgent, /Chrome/);
  assert.equal(r.beforeInit, 'NotInitialized');
  assert.deepEqual(r.range.first, ['Ada']);
  assert.deepEqual(r.range.nextStart, { uid: 2 });
  assert.deepEqual(r.range.all, [1, 2]);
  assert.equal(r.errorCode, 'OTSConditionCheckFail');
  assert.deepEqual(r.snapshot, { bytes: r.snapshot.bytes, byteExact: true, digestEqual: true });
  assert.ok(r.vectors.length >= 5, 'golden digest cases ran');
  for (const v of r.vectors) assert.equal(v.got, v.want, `${v.case}/${v.table}`);
  assert.equal(r.snapshotVector.reexportEqual, true);
  assert.ok(r.snapshotVector.digests.every(Boolean));
});

test('the example page in examples/js/browser works', async () => {
  const { result, errors } = await load('/examples/browser/index.html');
  assert.deepEqual(errors, []);
  assert.equal(result.ok, true, result.error);
  assert.match(result.digest, /^[0-9a-f]{64}$/);
  assert.equal(result.restoredDigest, result.digest);
});

test('a page syncs with a tablesync HTTP server on another origin (fetch, CORS)', async () => {
  const query = new URLSearchParams({ server: syncServer.url, token: SYNC_TOKEN });
  const { result, title, errors } = await load(`/test/sync.html?${query}`);
  assert.deepEqual(errors, []);
  assert.equal(result.ok, true, result.error);
  assert.match(title, /done$/);
  const r = result.report;
  assert.notEqual(new URL(r.origin).port, new URL(r.server).port, 'cross-origin: the CORS path ran');
  assert.deepEqual(r.push, { verified: true, moved: 50 });
  assert.deepEqual(r.pull, { verified: true, equal: true });
  assert.deepEqual(r.both, { verified: true, got: 'hello', equal: true });
  assert.deepEqual(r.verify, { verified: true, differing: 0 });
  assert.deepEqual(r.wrongToken, { code: 'Unauthorized', status: 401 });
  assert.deepEqual(r.channel, { verified: true, equal: true });
});
