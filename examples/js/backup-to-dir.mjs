// Back a region up from JS into a backup repository directory that the
// CLI reads: `db.backup({ write })` hands every repository object to a
// sink, here files under DIR (the layout of docs/FORMAT.md §19.1). Then
//   tablesync restore DIR DEST && tablesync digest DEST notes
// prints the digest this script printed. With a passphrase file, the
// repository is encrypted (pass the same file to `tablesync restore
// --passphrase-file`).
//   node backup-to-dir.mjs DIR [PASSPHRASE_FILE]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Database } from 'tablesync';

const [dir, passFile] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node backup-to-dir.mjs DIR [PASSPHRASE_FILE]');
  process.exit(2);
}
const passphrase = passFile ? readFileSync(passFile, 'utf8').replace(/[\r\n]+$/, '') : undefined;

const db = Database.memory('js-laptop');
db.createTable('notes', { primaryKey: [['id', 'INTEGER']] });
for (let id = 0; id < 100; id++) db.putRow('notes', { id }, { text: `note ${id}`, n: id });
db.deleteRow('notes', { id: 7 });

const write = (name, bytes) => {
  const file = join(dir, ...name.split('/'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
};
const full = await db.backup({ passphrase, write });
// More writes, then an incremental on top (parent: the bundle of the first).
for (let id = 100; id < 120; id++) db.putRow('notes', { id }, { text: `late ${id}` });
const inc = await db.backup({ passphrase, parent: full.bundle, write });
console.log(`backups ${full.kind} ${full.id.slice(0, 12)}, ${inc.kind} ${inc.id.slice(0, 12)}`);
console.log(`digest ${db.tableDigest('notes')}`);
