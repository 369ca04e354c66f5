// A region living in the page: add rows, show them, their digest, and a
// snapshot restored into a second region (what you would keep in IndexedDB).
import init, { Database, INF_MIN, INF_MAX } from 'tablesync';

await init();
const db = Database.memory('browser-tab');
db.createTable('people', { primaryKey: [['uid', 'INTEGER']] });
let nextUid = 1;

function add(name, age) {
  db.putRow('people', { uid: nextUid++ }, { name, age });
}

function render() {
  const tbody = document.getElementById('rows');
  tbody.replaceChildren(
    ...[...db.scan('people', INF_MIN, INF_MAX)].map((row) => {
      const tr = document.createElement('tr');
      for (const v of [row.primaryKey.uid, row.columns.name, row.columns.age]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }),
  );
  const digest = db.tableDigest('people');
  document.getElementById('digest').textContent = digest;
  const bytes = db.exportSnapshot();
  const restored = Database.importSnapshot(bytes);
  const restoredDigest = restored.tableDigest('people');
  restored.free();
  document.getElementById('snapshot').textContent =
    `${bytes.length} bytes; restored copy has the same digest: ${restoredDigest === digest}`;
  return { digest, restoredDigest };
}

document.getElementById('add').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  add(String(form.get('name')), Number(form.get('age')));
  render();
});

add('Ada', 36);
add('Grace', 45);
try {
  window.__result = { ok: true, ...render() };
} catch (e) {
  window.__result = { ok: false, error: String(e) };
}
