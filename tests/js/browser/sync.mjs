// Runs in headless Chromium on the `web` build: syncs regions of the page
// with a tablesync HTTP server on another origin (fetch + CORS preflight),
// given as `?server=URL&token=TOKEN`. Reports through `window.__result`.
import init, { Database, SyncSession, TablesyncError, respond, syncOverHttp } from 'tablesync';

async function run() {
  await init();
  const params = new URLSearchParams(location.search);
  const server = params.get('server');
  const token = params.get('token');
  const report = { origin: location.origin, server };

  const tab = Database.memory('tab');
  tab.createTable('notes', { primaryKey: [['id', 'STRING']] });
  for (let i = 0; i < 50; i++) tab.putRow('notes', { id: `n${i}` }, { text: `note ${i}`, bytes: new Uint8Array([i]) });
  const pushed = await syncOverHttp(tab, server, token, { direction: 'push' });
  report.push = { verified: pushed.verified, moved: pushed.recordsPushed + pushed.rowsPushed };

  // Another "device" pulls what the tab pushed, writes, and syncs both ways.
  const other = Database.memory('other-tab');
  const pulled = await syncOverHttp(other, server, token, { direction: 'pull' });
  report.pull = { verified: pulled.verified, equal: other.tableDigest('notes') === tab.tableDigest('notes') };
  other.putRow('notes', { id: 'from-other' }, { text: 'hello' });
  await syncOverHttp(other, server, token);
  const both = await syncOverHttp(tab, server, token);
  report.both = {
    verified: both.verified,
    got: tab.getRow('notes', { id: 'from-other' })?.columns.text ?? null,
    equal: other.tableDigest('notes') === tab.tableDigest('notes'),
  };
  const verify = await syncOverHttp(tab, server, token, { mode: 'verify' });
  report.verify = { verified: verify.verified, differing: verify.tables[0].differingKeys.length };

  try {
    await syncOverHttp(tab, server, 'not-the-token');
    report.wrongToken = 'no error';
  } catch (e) {
    report.wrongToken = e instanceof TablesyncError ? { code: e.code, status: e.status } : String(e);
  }

  // Two regions of the page talk over a BroadcastChannel, as two tabs would.
  const host = new BroadcastChannel('tablesync-page');
  host.onmessage = (ev) => host.postMessage(respond(other, ev.data));
  const client = new BroadcastChannel('tablesync-page');
  const third = Database.memory('third');
  const { session, request } = SyncSession.start(third, { direction: 'pull' });
  let out = request;
  while (out instanceof Uint8Array) {
    const reply = await new Promise((resolve) => {
      client.onmessage = (ev) => resolve(ev.data);
      client.postMessage(out);
    });
    out = session.receive(third, reply);
  }
  host.close();
  client.close();
  report.channel = { verified: out.verified, equal: third.tableDigest('notes') === other.tableDigest('notes') };
  for (const db of [tab, other, third]) db.free();
  return report;
}

run().then(
  (report) => {
    window.__result = { ok: true, report };
    document.getElementById('out').textContent = JSON.stringify(report, null, 2);
    document.title = 'tablesync browser sync: done';
  },
  (e) => {
    window.__result = { ok: false, error: `${e?.code ?? ''} ${e?.stack ?? e}` };
    document.getElementById('out').textContent = window.__result.error;
    document.title = 'tablesync browser sync: failed';
  },
);
