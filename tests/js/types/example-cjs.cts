// Type-checked use through the CommonJS types (require).
import ts = require('tablesync');

const db = ts.Database.memory('eu');
db.createTable('t', { primaryKey: [['k', 'STRING']] });
db.putRow('t', { k: 'a' }, { v: ts.double(2) });
const d: string = db.tableDigest('t');
const init: () => Promise<void> = ts.default;
console.log(d, init, ts.INF_MIN);
db.free();
