// Runs in headless Chromium on the `web` build: a `Cluster` client talks
// to three `tablesync serve --cluster` regions on other origins (fetch +
// CORS preflight), given as `?url=URL&token=TOKEN`. Reports through
// `window.__result`.
import init, { Cluster, TablesyncError } from 'tablesync';

async function run() {
  await init();
  const params = new URLSearchParams(location.search);
  const c = await Cluster.connect(params.get('url'), { token: params.get('token'), localDc: 'eu' });
  const report = { origin: location.origin, epoch: c.mapEpoch };
  const w = await c.putRow('events', { k: 150 }, { v: 42 }, { mode: 'QUORUM' });
  report.write = { home: w.home, degraded: w.degraded };
  report.quorum = (await c.getRow('events', { k: 150 }, { level: 'QUORUM' }))?.columns.v ?? null;
  for (const k of [40, 120, 250]) await c.putRow('events', { k }, { v: k }, { mode: 'ALL' });
  const page = await c.getRange('events', [40], [260], { limit: 100 });
  report.range = page.rows.map((r) => r.primaryKey.k);
  const b = await c.batchWrite([
    { type: 'put', table: 'events', primaryKey: { k: 41 }, columns: { v: 1 } },
    { type: 'put', table: 'events', primaryKey: { k: 251 }, columns: { v: 2 } },
  ]);
  report.batch = { committed: b.committed, participants: b.participants };
  try {
    await c.putRow('events', { k: 1 }, { v: 1 }, { mode: 'sometimes' });
    report.badMode = 'no error';
  } catch (e) {
    report.badMode = e instanceof TablesyncError ? e.code : String(e);
  }
  try {
    await Cluster.connect(params.get('url'), { token: 'not-the-token' });
    report.wrongToken = 'no error';
  } catch (e) {
    report.wrongToken = e instanceof TablesyncError ? { code: e.code, status: e.status } : String(e);
  }
  return report;
}

run().then(
  (report) => {
    window.__result = { ok: true, report };
    document.title = 'tablesync browser cluster: done';
    document.getElementById('out').textContent = JSON.stringify(report, null, 2);
  },
  (e) => {
    window.__result = { ok: false, error: `${e?.name}: ${e?.message}\n${e?.stack}` };
    document.title = 'tablesync browser cluster: failed';
  },
);
