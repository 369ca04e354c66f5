// A tiny promise wrapper over IndexedDB: one database `tablesync-offline`
// with one object store `kv` (key → value), enough to keep a region's
// snapshot and its backup repository bundle across reloads.
const DB_NAME = 'tablesync-offline';
const STORE = 'kv';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let opened = null;

/** The IndexedDB database (opened once). */
export function openIdb() {
  if (!opened) {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    opened = request(req);
  }
  return opened;
}

/** The value kept under `key`, or undefined. */
export async function idbGet(key) {
  const db = await openIdb();
  return request(db.transaction(STORE, 'readonly').objectStore(STORE).get(key));
}

/** Keep `value` under `key` (resolves once the transaction commits). */
export async function idbPut(key, value) {
  const db = await openIdb();
  const tx = db.transaction(STORE, 'readwrite');
  tx.objectStore(STORE).put(value, key);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}
