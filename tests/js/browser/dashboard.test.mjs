// The dashboard page of `tablesync serve` (GET /) in headless Chromium,
// against a running pair of servers with a realtime link each way: the
// link table shows the link, the lag chart draws at least two points,
// and a screenshot is saved (target/dashboard.png, or $DASHBOARD_SHOT).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-token-7f1e';

/** The CLI binary (cargo builds it if needed; a no-op when fresh). */
function cliBinary() {
  if (process.env.TABLESYNC_CLI_BIN) return process.env.TABLESYNC_CLI_BIN;
  const out = execFileSync('cargo', ['build', '-p', 'tablesync-cli', '--bin', 'tablesync',
    '--message-format=json-render-diagnostics'],
  { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === 'tablesync' && msg.executable) {
      return msg.executable;
    }
  }
  throw new Error('cargo did not report the tablesync executable');
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** `tablesync serve DIR --peer …`; resolves once it prints its URL. */
function startNode(bin, dir, region, port, peer, peerPort) {
  const child = spawn(bin, ['--region', region, 'serve', dir, '--listen', `127.0.0.1:${port}`,
    '--peer', `${peer}=http://127.0.0.1:${peerPort}`, '--group-primary', 'a'],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TABLESYNC_TOKEN: TOKEN } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { child.kill(); rej(new Error(`no start in 60 s: ${stderr}`)); }, 60_000);
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`exited ${code}: ${stderr}`)); });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      if (!line.startsWith('serving region')) rej(new Error(line));
      res({ child, url: `http://127.0.0.1:${port}` });
    });
  });
}

let bin;
let work;
let nodes = [];
let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/test-js installs it)`);
  bin = cliBinary();
  work = mkdtempSync(join(tmpdir(), 'tablesync-dashboard-'));
  const seed = join(work, 'seed.jsonl');
  writeFileSync(seed, '{"primary_key":{"uid":0},"columns":{"v":"seed"},"timestamps":{"v":1}}\n');
  for (const r of ['a', 'b']) {
    execFileSync(bin, ['--region', r, 'import', join(work, r), 't', seed, '--pk', 'uid:INTEGER']);
  }
  const [pa, pb] = [await freePort(), await freePort()];
  nodes = [await startNode(bin, join(work, 'a'), 'a', pa, 'b', pb),
    await startNode(bin, join(work, 'b'), 'b', pb, 'a', pa)];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await Promise.all(nodes.map((n) => new Promise((res) => {
    if (n.child.exitCode !== null) return res();
    n.child.once('exit', res);
    n.child.kill('SIGTERM');
  })));
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the dashboard shows the link table and a live lag chart', async () => {
  const [a] = nodes;
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const resp = await page.goto(`${a.url}/#token=${TOKEN}`);
  assert.equal(resp.status(), 200);
  // Writes on the primary while the page polls, so the link ships records.
  for (let k = 1; k <= 40; k++) {
    const r = await fetch(`${a.url}/v1/row/put`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ table: 't', primary_key: { uid: k }, columns: { v: 'x' } }),
    });
    assert.equal(r.status, 200, await r.text());
  }
  const row = page.locator('#links tbody tr[data-link="a->b"]');
  await row.waitFor({ timeout: 15_000 });
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[0], 'a->b');
  assert.equal(cells[1], 'push');
  assert.equal(cells[2], 'realtime');
  assert.ok(['running', 'failing'].includes(cells[3]), cells.join(' | '));
  await page.locator('#peers tbody tr[data-peer="b"]').waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('#region').textContent(), 'a');
  assert.equal(await page.locator('#role').textContent(), 'primary');
  assert.equal(await page.locator('#health').textContent(), 'ready');
  // The lag chart gains a point a second.
  await page.waitForFunction(() => {
    const l = document.querySelector('#lag-chart polyline[data-series="a->b"]');
    return l && Number(l.dataset.count) >= 3 && l.getAttribute('points').split(' ').length >= 3;
  }, null, { timeout: 20_000 });
  const tput = await page.locator('#tput-chart polyline').count();
  assert.ok(tput >= 1, 'the throughput chart draws a series');
  // The link shipped the writes (records column, refreshed every second).
  await page.waitForFunction(() => {
    const td = document.querySelectorAll('#links tbody tr[data-link="a->b"] td')[6];
    return td && Number(td.textContent) >= 40;
  }, null, { timeout: 15_000 });
  const shot = process.env.DASHBOARD_SHOT ?? join(repo, 'target', 'dashboard.png');
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(existsSync(shot));
  assert.deepEqual(errors, []);
  await page.close();
});
