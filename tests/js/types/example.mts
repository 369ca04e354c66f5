// Type-checked (tsc --noEmit) use of the package through its ES-module types.
import init, {
  Cluster,
  clusterWire,
  type ClusterBatch,
  type ClusterWrite,
  AUTO_INCREMENT,
  type BackupInfo,
  type Link,
  type LinkStatus,
  Database,
  Double,
  INF_MAX,
  INF_MIN,
  IntegerOutOfRangeError,
  ManualClock,
  SyncSession,
  TablesyncError,
  double,
  respond,
  syncOverHttp,
  type ChangeRecord,
  type HttpSyncOptions,
  type PrimaryKey,
  type SyncDirection,
  type SyncMode,
  type SyncReport,
  type TableOutcome,
  type ColumnCondition,
  type Row,
  type Value,
  type WriteOp,
} from 'tablesync';

await init();
const clock = new ManualClock(1_700_000_000_000);
const db: Database = Database.memory('eu', { integers: 'bigint', clock });
db.createTable('users', { primaryKey: [['uid', 'INTEGER']], maxVersions: 2 });
db.createTable('events', { primaryKey: [['p', 'STRING'], ['id', 'INTEGER', 'AUTO_INCREMENT']] });
const key = db.putRow('events', { p: 'x', id: AUTO_INCREMENT }, { v: 1 });
const id: string | number | bigint | Uint8Array | undefined = key.id;

db.putRow('users', { uid: 1 }, { name: 'Ada', age: 36, score: double(1.0), bin: new Uint8Array(2) });
db.putRow('users', [['uid', 2n]], [['name', 'Bob', 1000], { name: 'age', value: 40 }], { condition: 'EXPECT_NOT_EXIST' });
const adult: ColumnCondition = { column: 'age', op: '>=', value: 18, pass_if_missing: false };
db.updateRow('users', { uid: 1 }, { put: { city: 'Paris' }, increment: { age: 1 }, condition: { row: 'EXPECT_EXIST', column: adult } });
db.deleteRow('users', { uid: 9 }, { condition: { and: [adult, { not: adult }] } });

const row: Row | null = db.getRow('users', { uid: 1 }, { columns: ['name'], maxVersions: 2, timeRange: [0, 2e12], filter: adult });
if (row) {
  const v: Value | undefined = row.columns['name'];
  const ts: number | undefined = row.cells[0]?.timestamp;
  if (v instanceof Double) console.log(v.value + 1);
  console.log(v, ts);
}

const page = db.getRange('users', INF_MIN, INF_MAX, { limit: 10, direction: 'FORWARD' });
const next: Record<string, string | number | bigint | Uint8Array> | null = page.nextStart;
for (const r of db.scan('users', { uid: INF_MIN }, null, { limit: 5 })) console.log(r.primaryKey);
console.log(next);

const ops: WriteOp[] = [
  { type: 'put', table: 'users', primaryKey: { uid: 3 }, columns: { a: 1 } },
  { type: 'update', table: 'users', primaryKey: { uid: 1 }, deleteAll: ['city'] },
  { type: 'delete', table: 'users', primaryKey: { uid: 2 }, condition: 'EXPECT_EXIST' },
];
for (const res of db.batchWrite(ops)) {
  if (res.ok) console.log(res.primaryKey);
  else console.log(res.error.code);
}
const got = db.batchGet([{ table: 'users', primaryKey: { uid: 1 }, columns: ['a'] }]);
if (got[0]?.ok) console.log(got[0].row?.columns);

const other = Database.memory('us');
const copied: number = db.copyTable('users', 'users_copy', { target: other, onProgress: ({ copied, total }) => console.log(copied, total) });
const digest: string = db.tableDigest('users');
const verified: string = db.verifyTableDigest('users');
const { rows, digest: rd } = db.rangeDigest('users', INF_MIN, INF_MAX);

const records: ChangeRecord[] = db.changesSince(0, 100).records;
const stamp: bigint | undefined = records[0]?.stamp;
const stats = other.applyChanges(records);
const vv: Record<string, number> = db.versionVector();

const bytes: Uint8Array = db.exportSnapshot();
const restored = Database.importSnapshot(bytes, { integers: 'number' });
console.log(copied, digest, verified, rows, rd, stamp, stats.applied + stats.skipped, vv, restored.region, id);

try {
  db.putRow('users', { uid: 1 }, {}, { condition: 'EXPECT_NOT_EXIST' });
} catch (e) {
  if (e instanceof IntegerOutOfRangeError) console.log(e.code === 'IntegerOutOfRange');
  else if (e instanceof TablesyncError) console.log(e.code);
}
for (const d of [db, other, restored]) d.free();
clock.free();

// The types reject misuse (tsc fails if any of these lines type-checks).
// @ts-expect-error a primary key is an object or pairs, not a number
db.putRow('users', 5, {});
// @ts-expect-error unknown comparison operator
db.getRow('users', { uid: 1 }, { filter: { column: 'a', op: '=~', value: 1 } });
// @ts-expect-error integers is "number" or "bigint"
Database.memory('x', { integers: 'int' });
// @ts-expect-error values are not arbitrary objects
db.putRow('users', { uid: 1 }, { when: new Date() });
// @ts-expect-error the constructor is private
new Database();

// Sync between regions, by hand over any transport, and over HTTP.
async function syncExamples(a: Database, b: Database): Promise<void> {
  const report: SyncReport = a.syncWith(b, { mode: 'reconcile', direction: 'pull', tables: ['users'], maxFrameBytes: 1 << 20, initialSymbols: 64 });
  const outcome: TableOutcome | undefined = report.tables[0];
  const local: string | null = outcome?.local ?? null;
  const keys: PrimaryKey[] = a.verify(b, { tables: ['users'] }).tables.flatMap((t) => t.differingKeys);
  const repaired: boolean = a.repair(b).verified;
  console.log(report.bytesSent + report.roundTrips + report.durationMs, report.fellBackToReconcile, local, keys, repaired);

  const { session, request } = SyncSession.start(a, { mode: 'auto' });
  let step: Uint8Array | SyncReport = request;
  while (step instanceof Uint8Array) step = session.receive(a, respond(b, step, 1 << 20));
  const sid: string = session.sessionId;
  const done: SyncReport | null = session.report;
  const s2 = new SyncSession();
  const first: Uint8Array = s2.start(a);
  s2.free();
  console.log(step.verified, sid, done?.mode, first.length);

  const opts: HttpSyncOptions = { direction: 'push', signal: new AbortController().signal, fetch: (url, init) => fetch(url, init) };
  const overHttp: SyncReport = await syncOverHttp(a, 'http://127.0.0.1:8787', 'token', opts);
  try {
    await syncOverHttp(a, new URL('http://127.0.0.1:8787'), 'wrong');
  } catch (e) {
    if (e instanceof TablesyncError && e.code === 'Unauthorized') console.log(e.status === 401, overHttp.mode);
  }
  // @ts-expect-error unknown sync mode
  a.syncWith(b, { mode: 'sideways' });
  // @ts-expect-error verify takes only tables
  a.verify(b, { mode: 'full' });
  // @ts-expect-error the reply is bytes
  session.receive(a, 'reply');
  const dir: SyncDirection = 'both';
  const mode: SyncMode = 'verify';
  console.log(dir, mode);
}
void syncExamples;

// Replication links and backups.
async function linkAndBackupExamples(db: Database): Promise<void> {
  const link: Link = db.replicate('http://127.0.0.1:8787', { token: 't', trigger: 'periodic:10s', direction: 'push' });
  link.pause();
  link.resume();
  link.trigger();
  const s: LinkStatus = link.status();
  const lag: number = s.lag_ms;
  const err: string | null = s.last_error;
  console.log(lag, err, s.rpo_ms ?? 'unbounded', link.state, link.url, link.encodeState().length);
  link.stop();
  // @ts-expect-error unknown trigger
  db.replicate('http://x', { token: 't', trigger: 'sometimes' });
  const bundle: Uint8Array = db.backup({ passphrase: 'p' });
  const more: Uint8Array = db.backup({ parent: bundle, passphrase: 'p', tables: ['t'] });
  const info: BackupInfo & { bundle: Uint8Array } = await db.backup({ write: (name: string, bytes: Uint8Array) => { console.log(name, bytes.length); } });
  const list: BackupInfo[] = Database.listBackups(more, { passphrase: 'p' });
  const point: bigint = list[0].point;
  const r: Database = Database.restore(more, { at: new Date(), passphrase: 'p', table: 't', as: 't_old' });
  console.log(info.id, point, r.region);
}
void linkAndBackupExamples;

async function clusterExamples(): Promise<void> {
  const c: Cluster = await Cluster.connect('http://127.0.0.1:7000', { token: 't', localDc: 'eu', attempts: 3 });
  const w: ClusterWrite = await c.putRow('users', { k: 1 }, { v: 1 }, { mode: 'QUORUM', condition: 'EXPECT_NOT_EXIST' });
  await c.updateRow('users', { k: 1 }, { put: { v: 2 }, deleteAll: ['w'], mode: 'semi-sync:300' });
  await c.deleteRow('users', { k: 1 }, { mode: 'async' });
  const row: Row | null = await c.getRow('users', { k: 1 }, { level: 'QUORUM' });
  const page = await c.getRange('events', [40], { k: 2060 }, { limit: 100 });
  const next: Uint8Array | null = page.nextStart;
  if (next) await c.getRange('events', next, null);
  const b: ClusterBatch = await c.batchWrite([
    { type: 'put', table: 'events', primaryKey: { k: 20 }, columns: { v: 3 } },
    { type: 'delete', table: 'events', primaryKey: { k: 250 }, condition: 'EXPECT_EXIST' },
  ]);
  const txn: bigint = b.txn;
  const epoch: number = await c.refreshMap();
  const missed: string[] = await c.pushMap();
  const kinds: string[] = clusterWire.messageKinds(c.mapBytes());
  // @ts-expect-error unknown read level
  await c.getRow('users', { k: 1 }, { level: 'MOST' });
  console.log(w.home, w.degraded, row, txn, epoch, missed, kinds, c.isDegraded('users'), c.requestsPerDatacenter(), c.mapEpoch);
}
void clusterExamples;
