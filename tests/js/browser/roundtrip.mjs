// Runs in headless Chromium on the `web` build: create, put, range, digests
// against the golden vectors, snapshot export/import. Reports through
// `window.__result` and the page title.
import init, * as api from 'tablesync';
import { makeReplayer } from '/helpers/replay-core.mjs';

const { Database, INF_MIN, INF_MAX, TablesyncError, double } = api;

async function run() {
  const report = {};
  // Calls before init() are a clear error, not a crash.
  try {
    Database.memory('early');
    report.beforeInit = 'no error';
  } catch (e) {
    report.beforeInit = e.code;
  }
  await init();
  await init(); // idempotent

  const db = Database.memory('browser');
  db.createTable('users', { primaryKey: [['uid', 'INTEGER']] });
  db.putRow('users', { uid: 1 }, { name: 'Ada', score: double(1), tags: new Uint8Array([1, 2]) });
  db.putRow('users', { uid: 2 }, { name: 'Bob', score: 2.5 });
  const page = db.getRange('users', INF_MIN, INF_MAX, { limit: 1 });
  report.range = {
    first: page.rows.map((r) => r.columns.name),
    nextStart: page.nextStart,
    all: [...db.scan('users')].map((r) => r.primaryKey.uid),
  };
  try {
    db.putRow('users', { uid: 1 }, {}, { condition: 'EXPECT_NOT_EXIST' });
  } catch (e) {
    report.errorCode = e instanceof TablesyncError ? e.code : String(e);
  }
  const snap = db.exportSnapshot();
  const copy = Database.importSnapshot(snap);
  const again = copy.exportSnapshot();
  report.snapshot = {
    bytes: snap.length,
    byteExact: snap.length === again.length && snap.every((b, i) => b === again[i]),
    digestEqual: copy.tableDigest('users') === db.tableDigest('users'),
  };
  copy.free();
  db.free();

  // Golden vectors: every clock-independent digest case, and the snapshot vector.
  const r = makeReplayer(api);
  const digests = await (await fetch('/vectors/digests.json')).json();
  report.vectors = [];
  for (const c of digests.cases.filter((c) => !c.clock_dependent)) {
    const v = Database.memory(c.region, { integers: 'bigint' });
    for (const op of c.ops) {
      if (op.expect_error) {
        try {
          r.runOp(v, op);
          throw new Error(`${c.name}: op ${op.op} should fail`);
        } catch (e) {
          if (e.code !== op.expect_error) throw e;
        }
      } else {
        r.runOp(v, op);
      }
    }
    for (const t of c.expected.tables) {
      report.vectors.push({ case: c.name, table: t.name, got: v.tableDigest(t.name), want: t.digest });
    }
    v.free();
  }
  const sv = await (await fetch('/vectors/snapshot.json')).json();
  const imported = Database.importSnapshot(r.fromHex(sv.snapshot_hex));
  report.snapshotVector = {
    reexportEqual: r.toHex(imported.exportSnapshot()) === sv.snapshot_hex,
    digests: sv.tables.map((t) => imported.tableDigest(t.name) === t.digest),
  };
  imported.free();
  report.userAgent = navigator.userAgent;
  return report;
}

run().then(
  (report) => {
    window.__result = { ok: true, report };
    document.getElementById('out').textContent = JSON.stringify(report, null, 2);
    document.title = 'tablesync browser round trip: done';
  },
  (e) => {
    window.__result = { ok: false, error: `${e && e.stack ? e.stack : e}` };
    document.getElementById('out').textContent = window.__result.error;
    document.title = 'tablesync browser round trip: failed';
  },
);
