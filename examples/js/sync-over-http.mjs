// Sync a region of this process with a tablesync HTTP server:
//   tablesync serve ./region --listen 127.0.0.1:8787 --token s3cret   (or, from the repo:
//   cargo run -p tablesync-http --example serve_dir -- ./region s3cret 127.0.0.1:8787)
//   node sync-over-http.mjs http://127.0.0.1:8787 s3cret
// The same code runs in a browser page (the server answers CORS preflights).
import { Database, TablesyncError, syncOverHttp } from 'tablesync';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node sync-over-http.mjs URL TOKEN');
  process.exit(2);
}

// A laptop region writes and pushes; a phone region pulls everything.
const laptop = Database.memory('laptop');
laptop.createTable('orders', { primaryKey: [['id', 'INTEGER']] });
for (let id = 1; id <= 100; id++) laptop.putRow('orders', { id }, { item: `item ${id}`, qty: id % 7 });
const pushed = await syncOverHttp(laptop, url, token, { direction: 'push' });
console.log(`laptop → server: ${pushed.recordsPushed + pushed.rowsPushed} changes, ${pushed.roundTrips} round trips`);

const phone = Database.memory('phone');
const pulled = await syncOverHttp(phone, url, token, { direction: 'pull' });
console.log(`server → phone: ${pulled.recordsPulled + pulled.rowsPulled} changes; tables ${phone.listTables()}`);

// Both write; each syncs both ways through the server (the phone twice, to
// get the laptop's write that reached the server after its first session).
phone.updateRow('orders', { id: 7 }, { put: { qty: 70 } });
laptop.putRow('orders', { id: 101 }, { item: 'late order', qty: 1 });
await syncOverHttp(phone, url, token);
await syncOverHttp(laptop, url, token);
const last = await syncOverHttp(phone, url, token);
console.log(`converged: ${last.verified && laptop.tableDigest('orders') === phone.tableDigest('orders')}`);
console.log('laptop sees qty', laptop.getRow('orders', { id: 7 }).columns.qty);

// A wrong token is refused with a stable code and the HTTP status.
try {
  await syncOverHttp(phone, url, 'wrong');
} catch (e) {
  if (!(e instanceof TablesyncError)) throw e;
  console.log(`wrong token: ${e.code} (HTTP ${e.status})`);
}
if (!last.verified) process.exit(1);
laptop.free();
phone.free();
