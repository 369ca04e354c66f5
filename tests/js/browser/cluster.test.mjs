// Headless Chromium runs the JS `Cluster` (web build) from a page on
// 127.0.0.1 against three `tablesync serve --cluster` regions on other
// origins: fetch with CORS preflights, writes, QUORUM reads, a range across
// partitions, a 2PC batch and typed errors (see cluster-page.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';
import { startCluster } from '../helpers/cluster-servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'browser-cluster-7d1e';

let server;
let browser;
let profile;
let cluster;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/test-js installs it)`);
  server = await serve({
    '/pkg/': join(repo, 'bindings-wasm', 'pkg'),
    '/test/': here,
  });
  profile = mkdtempSync(join(tmpdir(), 'tablesync-chromium-'));
  cluster = await startCluster(TOKEN);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    env: { ...process.env, TMPDIR: profile },
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await cluster?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('a page runs a Cluster client against regions on other origins (fetch, CORS)', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const query = new URLSearchParams({ url: cluster.regions[0].url, token: TOKEN });
  await page.goto(`${server.url}/test/cluster.html?${query}`);
  // Generous: a loaded machine and debug regions.
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 120000 });
  const result = await page.evaluate(() => window.__result);
  await page.close();
  assert.deepEqual(errors, []);
  assert.equal(result.ok, true, result.error);
  const r = result.report;
  assert.notEqual(new URL(r.origin).port, new URL(cluster.regions[0].url).port, 'cross-origin');
  assert.ok(r.epoch >= 1);
  assert.deepEqual(r.write, { home: r.write.home, degraded: false });
  assert.match(r.write.home, /-1$/);
  assert.equal(r.quorum, 42);
  assert.deepEqual(r.range, [40, 120, 150, 250]);
  assert.deepEqual(r.batch, { committed: true, participants: 2 });
  assert.equal(r.badMode, 'OTSParameterInvalid');
  assert.deepEqual(r.wrongToken, { code: 'Unauthorized', status: 401 });
});
