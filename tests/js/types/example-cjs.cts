// Type-checked use through the CommonJS types (require).
import ts = require('tablesync');

const db = ts.Database.memory('eu');
db.createTable('t', { primaryKey: [['k', 'STRING']] });
db.putRow('t', { k: 'a' }, { v: ts.double(2) });
const d: string = db.tableDigest('t');
const init: () => Promise<void> = ts.default;
const other = ts.Database.memory('us');
const r: ts.SyncReport = db.syncWith(other, { mode: 'full' });
const reply: Uint8Array = ts.respond(other, new ts.SyncSession().start(db));
const pending: Promise<ts.SyncReport> = ts.syncOverHttp(db, 'http://127.0.0.1:1', 't');
void pending;
console.log(d, init, ts.INF_MIN, r.verified, reply.length);
other.free();
db.free();
