// The JS half of the row fast path (format: bindings-wasm/src/wire.rs).
// putRow, getRow, getRange, scan pages, batchWrite and batchGet encode their arguments
// into one byte buffer here, cross into wasm once, and decode the result
// buffer into the same plain objects the field-by-field path builds.
//
// The encoder makes every JS type check of that path. On anything it does
// not take — a wrong type, an unsafe integer, an unknown option, an array
// with holes — it declines (returns SLOW) and the caller runs the
// field-by-field path, which throws exactly the error it always threw.
// Conditions, filters and UPDATE changes go beside the buffer as JS values
// ("side values") and Rust converts them as before.
//
// scripts/build-wasm inlines this file into the package's api.mjs/api.cjs:
// keep its one export, `export function createWireCodec(`.

export function createWireCodec(raw, { Double, TablesyncError, INF_MIN, INF_MAX, AUTO_INCREMENT }) {
  /** Returned when the encoder declines: the caller takes the field-by-field path. */
  const SLOW = Symbol('tablesync.slowPath');

  // Value tags (wire.rs).
  const STR = 0, INT = 1, BIGINT = 2, DOUBLE = 3, TRUE = 4, FALSE = 5, BIN = 6;
  const AUTO = 7, MIN = 8, MAX = 9, NONE = 10;
  // Name tags.
  const NAME_REF = 0, NAME_DEF = 1;
  // Conditions, option flags, operation kinds, bound kinds (wire_in.rs).
  const COND_NONE = 0, COND_ROW = 1, COND_SIDE = 2;
  const OPT_COLUMNS = 1, OPT_MAX_VERSIONS = 2, OPT_TIME_RANGE = 4, OPT_FILTER = 8;
  const OPT_DIRECTION = 16, OPT_LIMIT = 32;
  const OP_PUT = 0, OP_UPDATE = 1, OP_DELETE = 2;
  const BOUND_PAIRS = 0;

  const MAX_SAFE = Number.MAX_SAFE_INTEGER;
  /** Longer arrays take the field-by-field path (which bounds them itself). */
  const MAX_ITEMS = 1 << 16;
  /** Encoder buffers past this size are dropped after the call. */
  const KEEP_BYTES = 1 << 20;

  const GET_KEYS = ['columns', 'maxVersions', 'timeRange', 'filter'];
  const RANGE_KEYS = [...GET_KEYS, 'direction', 'limit'];
  const PUT_OPTS = ['condition'];
  const BATCH_GET_KEYS = ['table', 'primaryKey', ...GET_KEYS];
  const PUT_OP_KEYS = ['type', 'table', 'primaryKey', 'columns', 'condition'];
  const UPDATE_OP_KEYS = ['type', 'table', 'primaryKey', 'put', 'delete', 'deleteAll', 'increment', 'condition'];
  const DELETE_OP_KEYS = ['type', 'table', 'primaryKey', 'condition'];
  const TIME_RANGE_KEYS = ['start', 'end'];

  const textEncoder = new TextEncoder();
  const textDecoder = new TextDecoder();

  // ---- encoder ----------------------------------------------------------

  let buf = new Uint8Array(4096);
  let view = new DataView(buf.buffer);
  let pos = 0;
  let side;
  /** Set while a fast call runs: a call from user code inside it (a getter) takes the slow path. */
  let busy = false;

  function reset() {
    if (buf.length > KEEP_BYTES) {
      buf = new Uint8Array(4096);
      view = new DataView(buf.buffer);
    }
    pos = 0;
    side = undefined;
  }

  function ensure(n) {
    if (pos + n <= buf.length) return;
    const next = new Uint8Array(Math.max(buf.length * 2, pos + n));
    next.set(buf.subarray(0, pos));
    buf = next;
    view = new DataView(buf.buffer);
  }

  function u8(x) {
    ensure(1);
    buf[pos++] = x;
  }

  function u32(x) {
    ensure(4);
    view.setUint32(pos, x, true);
    pos += 4;
  }

  function f64(tag, x) {
    ensure(9);
    buf[pos] = tag;
    view.setFloat64(pos + 1, x, true);
    pos += 9;
  }

  function str(s) {
    const n = s.length;
    ensure(4 + 3 * n); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const start = pos + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[start + i] = c;
    }
    let len = i;
    if (i < n) len += textEncoder.encodeInto(i === 0 ? s : s.slice(i), buf.subarray(start + i)).written;
    view.setUint32(pos, len, true);
    pos = start + len;
  }

  function bytes(b) {
    const n = b.length;
    ensure(5 + n);
    buf[pos] = BIN;
    view.setUint32(pos + 1, n, true);
    buf.set(b, pos + 5);
    pos += 5 + n;
  }

  function sideIndex(v) {
    if (side === undefined) side = [];
    side.push(v);
    return side.length - 1;
  }

  const isBytes = (v) => ArrayBuffer.isView(v) && v instanceof Uint8Array;
  const nullish = (v) => v === undefined || v === null;

  function bigint(v) {
    if (BigInt.asIntN(64, v) !== v) return false; // RangeError on the slow path
    ensure(9);
    buf[pos] = BIGINT;
    view.setBigInt64(pos + 1, v, true);
    pos += 9;
    return true;
  }

  /** An integer argument: a safe integer number or a 64-bit bigint. */
  function integer(v) {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v > MAX_SAFE || v < -MAX_SAFE) return false;
      f64(INT, v);
      return true;
    }
    return typeof v === 'bigint' && bigint(v);
  }

  /** An attribute value (value.rs `to_value`). */
  function value(v) {
    switch (typeof v) {
      case 'string':
        u8(STR);
        str(v);
        return true;
      case 'number':
        if (!Number.isInteger(v)) {
          f64(DOUBLE, v);
          return true;
        }
        if (v > MAX_SAFE || v < -MAX_SAFE) return false;
        f64(INT, v);
        return true;
      case 'bigint':
        return bigint(v);
      case 'boolean':
        u8(v ? TRUE : FALSE);
        return true;
      case 'object':
        if (v === null) return false;
        if (isBytes(v)) {
          bytes(v);
          return true;
        }
        if (v instanceof Double) {
          const x = v.value;
          if (typeof x !== 'number') return false;
          f64(DOUBLE, x);
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  /** A primary-key part (key.rs `to_pk_value`). */
  function pkValue(v, bigintMode) {
    switch (typeof v) {
      case 'string':
        u8(STR);
        str(v);
        return true;
      case 'number':
        return integer(v);
      case 'bigint':
        return bigint(v);
      case 'object':
        if (v === null || !isBytes(v)) return false;
        bytes(v);
        return true;
      case 'symbol':
        // Number mode refuses AUTO_INCREMENT before reading anything else:
        // leave that to the slow path.
        if (v !== AUTO_INCREMENT || !bigintMode) return false;
        u8(AUTO);
        return true;
      default:
        return false;
    }
  }

  /** A range-bound part: INF_MIN / INF_MAX or a key value. */
  function boundPart(v) {
    if (v === INF_MIN) u8(MIN);
    else if (v === INF_MAX) u8(MAX);
    else return typeof v !== 'symbol' && pkValue(v, false);
    return true;
  }

  function checkKeys(o, allowed) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (!allowed.includes(k)) return false;
    }
    return true;
  }

  /** `{ name: value }` or `[[name, value], ...]` (key.rs `pairs`). */
  function pairs(v, part, arg) {
    if (Array.isArray(v)) {
      const n = v.length;
      if (n > MAX_ITEMS) return false;
      u32(n);
      for (let i = 0; i < n; i++) {
        const item = v[i];
        if (!Array.isArray(item) || item.length !== 2) return false;
        const name = item[0];
        const val = item[1];
        if (typeof name !== 'string' || val === undefined) return false;
        str(name);
        if (!part(val, arg)) return false;
      }
      return true;
    }
    if (typeof v !== 'object' || v === null || isBytes(v)) return false;
    // Own string keys, non-enumerable ones too, as Rust's Reflect.ownKeys reads them.
    const keys = Object.getOwnPropertyNames(v);
    const n = keys.length;
    u32(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      str(k);
      if (!part(v[k], arg)) return false;
    }
    return true;
  }

  function bound(v) {
    if (v === INF_MIN || v === INF_MAX) {
      u8(v === INF_MIN ? MIN : MAX);
      return true;
    }
    if (typeof v === 'symbol') return false;
    u8(BOUND_PAIRS);
    return pairs(v, boundPart);
  }

  function timestamp(t) {
    if (nullish(t)) {
      u8(NONE);
      return true;
    }
    return integer(t);
  }

  /** Attribute columns (options.rs `to_columns`). */
  function columns(v) {
    if (nullish(v)) {
      u32(0);
      return true;
    }
    if (Array.isArray(v)) {
      const n = v.length;
      if (n > MAX_ITEMS) return false;
      u32(n);
      for (let i = 0; i < n; i++) {
        const item = v[i];
        if (Array.isArray(item)) {
          const m = item.length;
          if (m !== 2 && m !== 3) return false;
          const name = item[0];
          const val = item[1];
          const ts = m === 3 ? item[2] : null;
          if (typeof name !== 'string' || ts === undefined) return false;
          str(name);
          if (!value(val) || !timestamp(ts)) return false;
        } else if (typeof item === 'object' && item !== null) {
          if (!checkKeys(item, ['name', 'value', 'timestamp'])) return false;
          const name = item.name;
          if (typeof name !== 'string') return false;
          str(name);
          if (!value(item.value) || !timestamp(item.timestamp)) return false;
        } else {
          return false;
        }
      }
      return true;
    }
    if (typeof v !== 'object') return false;
    const keys = Object.getOwnPropertyNames(v);
    const n = keys.length;
    u32(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      str(k);
      if (!value(v[k])) return false;
      u8(NONE);
    }
    return true;
  }

  function condition(c) {
    if (nullish(c)) {
      u8(COND_NONE);
    } else if (typeof c === 'string') {
      u8(COND_ROW);
      str(c);
    } else {
      u8(COND_SIDE);
      u32(sideIndex(c));
    }
  }

  /** An options argument: `undefined`/`null`, or an object with known keys only. */
  const optionsOk = (o, allowed) =>
    nullish(o) || (typeof o === 'object' && !Array.isArray(o) && checkKeys(o, allowed));

  /** Read options (options.rs `to_get_options`, `to_range_options`), keys already checked. */
  function readOptions(o, range) {
    const at = pos;
    u8(0);
    if (nullish(o)) return true;
    let flags = 0;
    const cols = o.columns;
    if (!nullish(cols)) {
      if (!Array.isArray(cols) || cols.length > MAX_ITEMS) return false;
      const n = cols.length;
      u32(n);
      for (let i = 0; i < n; i++) {
        const c = cols[i];
        if (typeof c !== 'string') return false;
        str(c);
      }
      flags |= OPT_COLUMNS;
    }
    const mv = o.maxVersions;
    if (!nullish(mv)) {
      if (!integer(mv)) return false;
      flags |= OPT_MAX_VERSIONS;
    }
    const tr = o.timeRange;
    if (!nullish(tr)) {
      let start;
      let end;
      if (Array.isArray(tr)) {
        if (tr.length !== 2) return false;
        start = tr[0];
        end = tr[1];
        if (start === undefined || end === undefined) return false;
      } else if (typeof tr === 'object') {
        if (!checkKeys(tr, TIME_RANGE_KEYS)) return false;
        start = tr.start;
        end = tr.end;
      } else {
        return false;
      }
      if (!integer(start) || !integer(end)) return false;
      flags |= OPT_TIME_RANGE;
    }
    const filter = o.filter;
    if (!nullish(filter)) {
      u32(sideIndex(filter));
      flags |= OPT_FILTER;
    }
    if (range) {
      const dir = o.direction;
      if (!nullish(dir)) {
        if (typeof dir !== 'string') return false;
        str(dir);
        flags |= OPT_DIRECTION;
      }
      const limit = o.limit;
      if (!nullish(limit)) {
        if (!integer(limit)) return false;
        flags |= OPT_LIMIT;
      }
    }
    buf[at] = flags;
    return true;
  }

  function writeOp(op, bigintMode) {
    if (typeof op !== 'object' || op === null || Array.isArray(op)) return false;
    const type = op.type;
    const table = op.table;
    if (typeof type !== 'string' || typeof table !== 'string') return false;
    let kind;
    let keys;
    switch (type.toUpperCase()) {
      case 'PUT':
        kind = OP_PUT;
        keys = PUT_OP_KEYS;
        break;
      case 'UPDATE':
        kind = OP_UPDATE;
        keys = UPDATE_OP_KEYS;
        break;
      case 'DELETE':
        kind = OP_DELETE;
        keys = DELETE_OP_KEYS;
        break;
      default:
        return false;
    }
    u8(kind);
    str(table);
    if (!pairs(op.primaryKey, pkValue, bigintMode) || !checkKeys(op, keys)) return false;
    if (kind === OP_PUT) {
      if (!columns(op.columns)) return false;
      condition(op.condition);
    } else if (kind === OP_UPDATE) {
      u32(sideIndex(op));
    } else {
      condition(op.condition);
    }
    return true;
  }

  // ---- crossing ---------------------------------------------------------

  let memory = null;
  let mem = new Uint8Array(0);
  let memView = new DataView(new ArrayBuffer(0));

  /** Fresh views of wasm memory when it has grown (growth detaches the old buffer). */
  function refreshMemory() {
    if (mem.length !== 0) return; // a detached view has length 0
    if (memory === null) memory = raw.wireMemory();
    mem = new Uint8Array(memory.buffer);
    memView = new DataView(memory.buffer);
  }

  /** Copy the encoded request into wasm memory; returns its length. */
  function send() {
    const n = pos;
    const at = raw.wireIn(n);
    refreshMemory();
    if (n <= 64) {
      for (let i = 0; i < n; i++) mem[at + i] = buf[i];
    } else {
      mem.set(buf.subarray(0, n), at);
    }
    if (side !== undefined) raw.wireSide(side);
    return n;
  }

  // ---- decoder ----------------------------------------------------------

  let rpos = 0;

  /** Start reading the result at `at` (where the call that just returned put it). */
  function receive(at) {
    rpos = at;
    refreshMemory();
  }

  function ru32() {
    const x = memView.getUint32(rpos, true);
    rpos += 4;
    return x;
  }

  function rf64() {
    const x = memView.getFloat64(rpos, true);
    rpos += 8;
    return x;
  }

  const fromCharCode = String.fromCharCode;

  /** `n` ASCII bytes of `m` at `p` as a string (no TextDecoder: far quicker for short ones). */
  function ascii(m, p, n) {
    switch (n) {
      case 0: return '';
      case 1: return fromCharCode(m[p]);
      case 2: return fromCharCode(m[p], m[p + 1]);
      case 3: return fromCharCode(m[p], m[p + 1], m[p + 2]);
      case 4: return fromCharCode(m[p], m[p + 1], m[p + 2], m[p + 3]);
      case 5: return fromCharCode(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4]);
      case 6: return fromCharCode(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5]);
      case 7: return fromCharCode(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5], m[p + 6]);
      default:
        return fromCharCode(m[p], m[p + 1], m[p + 2], m[p + 3], m[p + 4], m[p + 5], m[p + 6], m[p + 7]) +
          ascii(m, p + 8, n - 8);
    }
  }

  /** A result string: u32 length (top bit: pure ASCII), then UTF-8. */
  function rstr() {
    const head = ru32();
    const len = head & 0x7fffffff;
    const start = rpos;
    rpos += len;
    if (head > 0x7fffffff && len <= 64) return ascii(mem, start, len);
    return textDecoder.decode(mem.subarray(start, rpos));
  }

  function rname(names) {
    const tag = mem[rpos++];
    if (tag === NAME_REF) {
      const s = names[ru32()];
      if (s === undefined) throw new Error('tablesync: wire name table out of step');
      return s;
    }
    const s = rstr();
    if (tag === NAME_DEF) names.push(s);
    return s;
  }

  function rvalue() {
    switch (mem[rpos++]) {
      case STR:
        return rstr();
      case INT:
        return rf64();
      case BIGINT: {
        const x = memView.getBigInt64(rpos, true);
        rpos += 8;
        return x;
      }
      case DOUBLE:
        return new Double(rf64());
      case TRUE:
        return true;
      case FALSE:
        return false;
      case BIN: {
        const len = ru32();
        const b = mem.slice(rpos, rpos + len);
        rpos += len;
        return b;
      }
      case AUTO:
        return AUTO_INCREMENT;
      case MIN:
        return INF_MIN;
      case MAX:
        return INF_MAX;
      default:
        throw new Error('tablesync: bad value tag in a wire result');
    }
  }

  /** A key (or bound) object, parts in order. */
  function rkey(names) {
    const n = ru32();
    const o = {};
    for (let i = 0; i < n; i++) {
      const name = rname(names);
      o[name] = rvalue();
    }
    return o;
  }

  function rrow(names) {
    const primaryKey = rkey(names);
    const n = ru32();
    const columns = {};
    const cells = [];
    let last;
    for (let i = 0; i < n; i++) {
      const name = rname(names);
      const value = rvalue();
      const timestamp = rf64();
      cells.push({ name, value, timestamp });
      if (name !== last) {
        columns[name] = value;
        last = name;
      }
    }
    return { primaryKey, columns, cells };
  }

  const roptRow = (names) => (mem[rpos++] === 0 ? null : rrow(names));

  function rerror() {
    const code = rstr();
    const message = rstr();
    return new TablesyncError(message, code);
  }

  // ---- calls ------------------------------------------------------------
  //
  // Each call: claim the codec (a call from user code inside another one —
  // a getter — takes the slow path), encode (false: decline, nothing sent),
  // send, run the wasm method, decode its result. Writes pass `Date.now()`
  // for the clock (cheaper read here than through a wasm import for each
  // timestamp); reads pass NaN, as most never look at the time.

  function begin() {
    if (busy) return false;
    busy = true;
    reset();
    return true;
  }

  function end() {
    busy = false;
    side = undefined;
  }

  /** Decode the result at `at` with `read(names)`; a decoding bug resets both name tables. */
  function finish(r, names, read, at) {
    receive(at);
    try {
      return read(names);
    } catch (e) {
      names.length = 0;
      r.wireResetNames();
      throw e;
    }
  }

  function putRow(r, names, bigintMode, table, primaryKey, cols, opts) {
    if (!begin()) return SLOW;
    try {
      if (typeof table !== 'string') return SLOW;
      str(table);
      if (!pairs(primaryKey, pkValue, bigintMode) || !columns(cols) || !optionsOk(opts, PUT_OPTS)) {
        return SLOW;
      }
      condition(nullish(opts) ? undefined : opts.condition);
      const at = r.putRowWire(send(), Date.now());
      return finish(r, names, rkey, at);
    } finally {
      end();
    }
  }

  function getRow(r, names, table, primaryKey, opts) {
    if (!begin()) return SLOW;
    try {
      if (typeof table !== 'string') return SLOW;
      str(table);
      if (!pairs(primaryKey, pkValue, false) || !optionsOk(opts, GET_KEYS) || !readOptions(opts, false)) {
        return SLOW;
      }
      const at = r.getRowWire(send(), NaN);
      return finish(r, names, roptRow, at);
    } finally {
      end();
    }
  }

  function rpage(names) {
    const n = ru32();
    const rows = [];
    for (let i = 0; i < n; i++) rows.push(rrow(names));
    const nextStart = mem[rpos++] === 0 ? null : rkey(names);
    return { rows, nextStart };
  }

  function getRange(r, names, table, start, stop, opts) {
    if (!begin()) return SLOW;
    try {
      if (typeof table !== 'string') return SLOW;
      str(table);
      if (!bound(start) || !bound(stop) || !optionsOk(opts, RANGE_KEYS) || !readOptions(opts, true)) {
        return SLOW;
      }
      const at = r.getRangeWire(send(), NaN);
      return finish(r, names, rpage, at);
    } finally {
      end();
    }
  }

  /** The next rows of a scan cursor (`RawScan`), decoded as a page's rows. */
  function scanPage(r, names, cursor) {
    if (!begin()) return SLOW;
    try {
      const at = cursor.nextPageWire(r, send(), NaN);
      return finish(r, names, rpage, at).rows;
    } finally {
      end();
    }
  }

  function rwriteResults(names) {
    const n = ru32();
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push(mem[rpos++] === 1 ? { ok: true, primaryKey: rkey(names) } : { ok: false, error: rerror() });
    }
    return out;
  }

  function batchWrite(r, names, bigintMode, ops) {
    if (!begin()) return SLOW;
    try {
      if (!Array.isArray(ops) || ops.length > MAX_ITEMS) return SLOW;
      const n = ops.length;
      u32(n);
      for (let i = 0; i < n; i++) if (!writeOp(ops[i], bigintMode)) return SLOW;
      const at = r.batchWriteWire(send(), Date.now());
      return finish(r, names, rwriteResults, at);
    } finally {
      end();
    }
  }

  function rgetResults(names) {
    const n = ru32();
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push(mem[rpos++] === 1 ? { ok: true, row: roptRow(names) } : { ok: false, error: rerror() });
    }
    return out;
  }

  function getRequest(q) {
    if (typeof q !== 'object' || q === null || Array.isArray(q) || !checkKeys(q, BATCH_GET_KEYS)) return false;
    const table = q.table;
    if (typeof table !== 'string') return false;
    str(table);
    return pairs(q.primaryKey, pkValue, false) && readOptions(q, false);
  }

  function batchGet(r, names, requests) {
    if (!begin()) return SLOW;
    try {
      if (!Array.isArray(requests) || requests.length > MAX_ITEMS) return SLOW;
      const n = requests.length;
      u32(n);
      for (let i = 0; i < n; i++) if (!getRequest(requests[i])) return SLOW;
      const at = r.batchGetWire(send(), NaN);
      return finish(r, names, rgetResults, at);
    } finally {
      end();
    }
  }

  return { SLOW, putRow, getRow, getRange, scanPage, batchWrite, batchGet };
}
