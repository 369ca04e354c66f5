// cluster_map.json replayed by an independent JS implementation of
// docs/FORMAT.md §16 (frame, payload, placement hash, rendezvous routing):
// the spec alone is enough to read maps and route keys like the Rust core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const v = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors', 'cluster_map.json'), 'utf8'),
);
const M64 = (1n << 64n) - 1n;
const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function mix(z) {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
function placeHash(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const x of bytes) h = ((h ^ BigInt(x)) * 0x100000001b3n) & M64;
  return mix(h);
}
const seed = (name) => placeHash(new TextEncoder().encode(name));
const score = (node, table, p) => mix(seed(node) ^ mix(seed(table) ^ BigInt(p)));

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const x of bytes) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Reader {
  constructor(b) {
    this.b = b;
    this.i = 0;
  }
  take(n) {
    if (this.i + n > this.b.length) throw new Error('CorruptData: truncated');
    return this.b.subarray(this.i, (this.i += n));
  }
  u8() {
    return this.take(1)[0];
  }
  varint() {
    let v = 0n;
    for (let k = 0n; k < 10n; k++) {
      const x = this.u8();
      v |= BigInt(x & 0x7f) << (7n * k);
      if (x < 0x80) return Number(v);
    }
    throw new Error('CorruptData: varint');
  }
  string() {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.varint()));
  }
}

const LEVELS = { 1: 'ONE', 2: 'QUORUM', 3: 'LOCAL_QUORUM', 4: 'EACH_QUORUM', 5: 'ALL' };
function writeMode(r) {
  const k = r.u8();
  if (k === 1) return 'async';
  if (k === 2) return `semi-sync(${r.varint()}ms)`;
  if (k === 3) {
    const l = r.u8();
    if (l === 6) return `sync(DCS(${r.u8()}))`;
    if (!(l in LEVELS)) throw new Error('CorruptData: level');
    return `sync(${LEVELS[l]})`;
  }
  throw new Error('CorruptData: write mode');
}

function parseFrame(f) {
  if (f.length < 14 || toHex(f.subarray(0, 4)) !== toHex(new TextEncoder().encode('TSCM')))
    throw new Error('CorruptData: magic');
  const dv = new DataView(f.buffer, f.byteOffset);
  const len = dv.getUint32(6, true);
  const body = new Uint8Array([...f.subarray(0, 10), ...f.subarray(14)]);
  if (f.length !== 14 + len || crc32(body) !== dv.getUint32(10, true))
    throw new Error('CorruptData: length or checksum');
  const r = new Reader(f.subarray(14));
  const epoch = new DataView(r.take(8).slice().buffer).getBigUint64(0, true);
  const datacenters = [];
  for (let n = r.varint(); n > 0; n--) {
    const name = r.string();
    const regions = [];
    for (let k = r.varint(); k > 0; k--) regions.push([r.string(), r.string()]);
    datacenters.push({ name, regions });
  }
  const tables = [];
  for (let n = r.varint(); n > 0; n--) {
    const table = r.string();
    const rf = r.u8();
    const mode = writeMode(r);
    const kind = r.u8();
    let placement;
    if (kind === 1) placement = { kind: 'hash', buckets: r.varint() };
    else if (kind === 2) {
      const partitions = [];
      for (let k = r.varint(); k > 0; k--) {
        const id = r.varint();
        const start_hex = toHex(r.take(r.varint()));
        const dcs = [];
        for (let d = r.varint(); d > 0; d--) dcs.push(r.string());
        partitions.push({ id, start_hex, datacenters: dcs });
      }
      placement = { kind: 'range', partitions };
    } else throw new Error('CorruptData: placement');
    if (rf < 1 || rf > datacenters.length) throw new Error('CorruptData: replication factor');
    tables.push({ table, replication_factor: rf, write_mode: mode, placement });
  }
  if (r.i !== r.b.length) throw new Error('CorruptData: trailing bytes');
  return { epoch: epoch.toString(), datacenters, tables };
}

function partitionKey(key) {
  if (key[0] === 0x10) return key.subarray(0, 9);
  let i = 1;
  for (;;) {
    if (key[i] === 0 && key[i + 1] === 1) return key.subarray(0, i + 2);
    i += key[i] === 0 ? 2 : 1;
  }
}
const cmpBytes = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};
const best = (items, name, table, p) =>
  [...items].sort((a, b) => {
    const d = score(name(b), table, p) - score(name(a), table, p);
    return d > 0n ? 1 : d < 0n ? -1 : name(a) < name(b) ? -1 : 1;
  });

function route(m, table, key) {
  const t = m.tables.find((x) => x.table === table);
  const pk = partitionKey(key);
  let p, dcs;
  if (t.placement.kind === 'hash') {
    p = Number(placeHash(pk) % BigInt(t.placement.buckets));
    dcs = best(m.datacenters, (d) => d.name, table, p).slice(0, t.replication_factor);
  } else {
    const chosen = t.placement.partitions.filter((x) => cmpBytes(fromHex(x.start_hex), pk) <= 0).at(-1);
    p = chosen.id;
    dcs = chosen.datacenters.map((n) => m.datacenters.find((d) => d.name === n));
  }
  return [p, dcs.map((d) => [d.name, best(d.regions, (r) => r[0], table, p)[0][0]])];
}

test('cluster map frames parse to their maps', () => {
  for (const c of v.maps) assert.deepEqual(parseFrame(fromHex(c.frame_hex)), c.map);
});

test('placement hash', () => {
  for (const h of v.hashes) assert.equal(placeHash(fromHex(h.bytes_hex)).toString(), h.hash);
});

test('routes of sample keys', () => {
  const m = v.maps.at(-1).map;
  for (const r of v.routes) assert.deepEqual(route(m, r.table, fromHex(r.key_hex)), [r.partition, r.replicas]);
});

test('invalid cluster map frames are refused', () => {
  for (const bad of v.invalid) assert.throws(() => parseFrame(fromHex(bad.frame_hex)), new RegExp(`^Error: ${bad.error}`), bad.why);
});
