// Two regions in one Node process: write in each, ship the change logs
// both ways, and check that their digests agree. Then a snapshot round trip.
//   cd examples/js && npm install && node node-example.mjs
import { Database, INF_MAX, INF_MIN, TablesyncError, double } from 'tablesync';

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

// Sync: each region sends what the other lacks (here simply everything; duplicates are skipped).
const fromEu = eu.changesSince(0, 1000);
const fromUs = us.changesSince(0, 1000);
console.log('eu → us', us.applyChanges(fromEu.records));
console.log('us → eu', eu.applyChanges(fromUs.records));

const a = eu.tableDigest('users');
const b = us.tableDigest('users');
console.log(`digest eu ${a}\ndigest us ${b}`);
if (a !== b) throw new Error('regions disagree');

for (const row of eu.scan('users', INF_MIN, INF_MAX)) {
  console.log(row.primaryKey.uid, row.columns);
}
console.log('adults:', eu.getRange('users', INF_MIN, INF_MAX, {
  filter: { column: 'age', op: '>=', value: 40 },
}).rows.map((r) => r.columns.name));

// A snapshot is the whole region as bytes; importing it is byte-exact.
const snapshot = eu.exportSnapshot();
const restored = Database.importSnapshot(snapshot);
console.log(`snapshot: ${snapshot.length} bytes, restored digest matches: ${restored.tableDigest('users') === a}`);
console.log('version vector:', restored.versionVector());

for (const db of [eu, us, restored]) db.free();
