// The offline-first example (examples/js/browser-offline/) in headless
// Chromium: two pages (separate browser contexts, so separate IndexedDB)
// and a tablesync server; writes on all three; one page offline for a
// while (playwright `context.setOffline`) keeps taking writes; back online,
// all three digests are equal. A reload with the link off finds the region
// in IndexedDB; backups kept in IndexedDB survive a reload and restore.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Database, syncOverHttp } from 'tablesync';
import { serve } from './server.mjs';
import { startServer } from '../helpers/sync-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'offline-token-5d1e';

let web;
let browser;
let profile;
let dataDir;
let region;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/test-js installs it)`);
  web = await serve({
    '/pkg/': join(repo, 'bindings-wasm', 'pkg'),
    '/examples/': join(repo, 'examples', 'js'),
  });
  profile = mkdtempSync(join(tmpdir(), 'tablesync-chromium-offline-'));
  dataDir = mkdtempSync(join(tmpdir(), 'tablesync-offline-'));
  region = await startServer(join(dataDir, 'region'), TOKEN);
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
  await web?.close();
  await region?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function open(context, name, extra = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const q = new URLSearchParams({ server: region.url, token: TOKEN, region: name, ...extra });
  await page.goto(`${web.url}/examples/browser-offline/index.html?${q}`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 30000 });
  return { page, errors };
}

const digestOf = (page) => page.evaluate(() => window.app.db.tableDigest(window.app.table));
const hasRow = (page, id) => page.evaluate((k) => window.app.db.getRow(window.app.table, { id: k }) !== null, id);

async function serverDigest() {
  const probe = Database.memory('probe');
  try {
    await syncOverHttp(probe, region.url, TOKEN, { direction: 'pull' });
    return probe.listTables().includes('notes') ? probe.tableDigest('notes') : null;
  } finally {
    probe.free();
  }
}

async function serverPut(id, text) {
  const res = await fetch(`${region.url}/v1/row/put`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ table: 'notes', primary_key: { id }, columns: { text, by: 'server' } }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Wait until the pages and the server hold the same digest. */
async function converged(pages, ms) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    const ds = [...(await Promise.all(pages.map(digestOf))), await serverDigest()];
    if (ds.every((d) => d === ds[0])) return ds[0];
    last = ds;
    if (Date.now() > end) assert.fail(`no convergence in ${ms} ms: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

test('two pages and a server converge, with one page offline for a while', async () => {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  try {
    const a = await open(ctxA, 'tab-a');
    const b = await open(ctxB, 'tab-b');
    assert.equal(await a.page.evaluate(() => window.app.loadedFrom), 'new region');

    // Writes on all three, online.
    await a.page.evaluate(() => window.app.add('from a'));
    await b.page.evaluate(() => window.app.add('from b'));
    await serverPut('server-1', 'from the server');
    const d1 = await converged([a.page, b.page], 20000);
    assert.ok(await hasRow(a.page, 'server-1'));

    // B goes offline and keeps taking writes; A and the server too.
    await ctxB.setOffline(true);
    const bIds = await b.page.evaluate(() => [window.app.add('b offline 1'), window.app.add('b offline 2')]);
    const aId = await a.page.evaluate(() => window.app.add('a while b is offline'));
    await serverPut('server-2', 'while b is offline');
    await sleep(1500);
    assert.equal(await hasRow(b.page, aId), false, 'b is really offline');
    assert.equal(await hasRow(b.page, 'server-2'), false);
    const bStatus = await b.page.evaluate(() => window.app.link.status());
    assert.ok(bStatus.pending >= 2, JSON.stringify(bStatus));
    assert.notEqual(await digestOf(b.page), d1, 'b changed locally');

    // Back online: everything meets.
    await ctxB.setOffline(false);
    const d2 = await converged([a.page, b.page], 30000);
    assert.notEqual(d2, d1);
    for (const id of bIds) assert.ok(await hasRow(a.page, id), `a got ${id}`);
    assert.ok(await hasRow(b.page, aId) && await hasRow(b.page, 'server-2'));
    const status = await b.page.evaluate(() => window.app.link.status());
    assert.equal(status.state, 'running', JSON.stringify(status));
    assert.ok(status.records_shipped > 0);

    // The page saved its region: a reload with the link off starts from IndexedDB.
    await b.page.evaluate(() => window.app.save());
    await b.page.close();
    const again = await open(ctxB, 'ignored', { link: 'off' });
    assert.equal(await again.page.evaluate(() => window.app.loadedFrom), 'indexeddb');
    assert.equal(await again.page.evaluate(() => window.app.db.region), 'tab-b');
    assert.equal(await again.page.evaluate(() => window.app.loadedDigest), d2);
    assert.deepEqual([...a.errors, ...b.errors, ...again.errors], []);
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('backups kept in IndexedDB survive a reload and restore', async () => {
  const ctx = await browser.newContext();
  try {
    const { page, errors } = await open(ctx, 'tab-backup', { link: 'off' });
    await page.evaluate(() => { window.app.add('one'); window.app.add('two'); });
    const first = await page.evaluate(async () => {
      const info = await window.app.backup();
      return { id: info.id, kind: info.kind, digest: window.app.db.tableDigest(window.app.table) };
    });
    assert.equal(first.kind, 'full');
    await page.evaluate(() => window.app.add('three'));
    const second = await page.evaluate(async () => (await window.app.backup()).kind);
    assert.equal(second, 'incremental');
    await page.evaluate(() => window.app.save());
    await page.reload();
    await page.waitForFunction(() => window.__ready === true, null, { timeout: 30000 });
    const after = await page.evaluate(async (id) => {
      const list = await window.app.listBackups();
      const copy = await window.app.restore({ backup: id });
      const latest = await window.app.restore({});
      return {
        kinds: list.map((b) => b.kind),
        restored: copy.tableDigest(window.app.table),
        latest: latest.tableDigest(window.app.table),
        live: window.app.db.tableDigest(window.app.table),
        shown: document.querySelectorAll('#backups li').length,
      };
    }, first.id);
    assert.deepEqual(after.kinds, ['full', 'incremental']);
    assert.equal(after.restored, first.digest);
    assert.equal(after.latest, after.live);
    assert.equal(after.shown, 2);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
