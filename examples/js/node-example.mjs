// Two regions in one Node process: write in each, sync them (a whole
// session with syncWith, then one driven frame by frame as a transport
// would), find and repair a divergence, and end with a snapshot round trip.
//   cd examples/js && npm install && node node-example.mjs
// (sync-over-http.mjs does the same against a `tablesync serve` server.)
import { Database, INF_MAX, INF_MIN, SyncSession, TablesyncError, double, respond } from 'tablesync';

const schema = { primaryKey: [['uid', 'INTEGER']], maxVersions: 2 };
const eu = Database.memory('eu');
const us = Database.memory('us');
eu.createTable('users', schema);
us.createTable('users', schema);

eu.putRow('users', { uid: 1 }, { name: 'Ada', age: 36, rating: double(4) });
eu.updateRow('users', { uid: 1 }, { increment: { logins: 1 } });
us.putRow('users', { uid: 2 }, { name: 'Grace', age: 45, avatar: new Uint8Array([0x89, 0x50]) });

// Conditional writes fail with a stable code and change nothing.
try {
  us.putRow('users', { uid: 2 }, { name: 'Impostor' }, { condition: 'EXPECT_NOT_EXIST' });
} catch (e) {
  if (!(e instanceof TablesyncError)) throw e;
  console.log(`refused: ${e.code}`);
}

// Sync: one session moves what each side lacks, both ways (mode "auto":
// change records while the logs cover each other, else only differing rows).
const report = eu.syncWith(us, { mode: 'auto', direction: 'both' });
console.log(`synced: pulled ${report.recordsPulled} / pushed ${report.recordsPushed} records, ` +
  `${report.roundTrips} round trips, ${report.bytesSent + report.bytesReceived} bytes, verified ${report.verified}`);

const a = eu.tableDigest('users');
const b = us.tableDigest('users');
console.log(`digest eu ${a}\ndigest us ${b}`);
if (a !== b || !report.verified) throw new Error('regions disagree');

// The same protocol over any transport: the initiator turns replies into
// requests, the other side answers each frame with respond() (stateless).
// Here the "wire" is a function call; it could be fetch, a WebSocket or a
// BroadcastChannel between browser tabs.
const ap = Database.memory('ap');
const { session, request } = SyncSession.start(ap, { mode: 'full', direction: 'pull' });
let frame = request;
let frames = 0;
while (frame instanceof Uint8Array) {
  const reply = respond(eu, frame); // on the other side of the wire
  frames += 1;
  frame = session.receive(ap, reply);
}
console.log(`ap pulled ${frame.rowsPulled} rows in ${frames} frames, verified ${frame.verified}`);

// verify() finds diverging rows without moving any; repair() moves only those.
us.putRow('users', { uid: 3 }, { name: 'Linus', age: 28 });
eu.updateRow('users', { uid: 2 }, { put: { age: 46 } });
const check = eu.verify(us);
console.log('differing keys:', check.tables[0].differingKeys);
const fixed = eu.repair(us);
console.log(`repair moved ${fixed.rowsPulled + fixed.rowsPushed} rows, verified ${fixed.verified}`);
if (eu.tableDigest('users') !== us.tableDigest('users')) throw new Error('repair failed');

for (const row of eu.scan('users', INF_MIN, INF_MAX)) {
  console.log(row.primaryKey.uid, row.columns);
}
console.log('adults:', eu.getRange('users', INF_MIN, INF_MAX, {
  filter: { column: 'age', op: '>=', value: 40 },
}).rows.map((r) => r.columns.name));

// A snapshot is the whole region as bytes; importing it is byte-exact.
const snapshot = eu.exportSnapshot();
const restored = Database.importSnapshot(snapshot);
console.log(`snapshot: ${snapshot.length} bytes, restored digest matches: ${restored.tableDigest('users') === eu.tableDigest('users')}`);
console.log('version vector:', restored.versionVector());

for (const db of [eu, us, ap, restored]) db.free();
