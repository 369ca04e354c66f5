// The public JS API of the npm package `tablesync`, over the wasm-bindgen
// module (`raw`). One source for every build: scripts/build-wasm copies it
// as an ES module for browsers and turns its single `export` into
// `module.exports` for the Node (CommonJS) build.
//
// This layer only shapes the API: error classes, the `Double` wrapper, the
// INF_MIN / INF_MAX symbols, `scan` as an iterable, `free()`, poisoning
// after a panic, session ids from the host's randomness and the fetch
// transport of `syncOverHttp`. Every check happens in Rust, and every
// conversion too except on the row fast path: `createWireCodec`
// (js/wire.mjs, inlined here by the build) encodes the arguments of putRow,
// getRow, getRange, batchWrite and batchGet into one buffer and decodes
// their results.

/** Symbol of the smallest range bound (registered: the same in every copy of the package). */
const INF_MIN = Symbol.for('tablesync.INF_MIN');
/** Symbol of the largest range bound. */
const INF_MAX = Symbol.for('tablesync.INF_MAX');
/** Symbol asking `putRow` to assign an auto-increment primary-key value. */
const AUTO_INCREMENT = Symbol.for('tablesync.AUTO_INCREMENT');

/** Every error tablesync throws for a failed operation; `.code` is stable. */
class TablesyncError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = 'TablesyncError';
    this.code = code;
  }

  // `IntegerOutOfRangeError` is a RangeError (a value JS cannot hold), but
  // it is a tablesync error too: `e instanceof TablesyncError` holds for it.
  static [Symbol.hasInstance](value) {
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === TablesyncError && value instanceof IntegerOutOfRangeError)
    );
  }
}

/** An INTEGER that JS cannot hold exactly (code `IntegerOutOfRange`). */
class IntegerOutOfRangeError extends RangeError {
  constructor(message) {
    super(message);
    this.name = 'IntegerOutOfRangeError';
    this.code = 'IntegerOutOfRange';
  }
}

/** A number to be stored as DOUBLE even when it is integral (`double(1)`). */
class Double {
  constructor(value) {
    if (typeof value !== 'number') {
      throw new TypeError(`double() takes a number, got ${typeof value}`);
    }
    this.value = value;
    Object.freeze(this);
  }
  valueOf() {
    return this.value;
  }
  toString() {
    return String(this.value);
  }
  toJSON() {
    return this.value;
  }
  [Symbol.toPrimitive](hint) {
    return hint === 'string' ? String(this.value) : this.value;
  }
}

/** Mark a number as DOUBLE (plain integral numbers are stored as INTEGER). */
function double(value) {
  return value instanceof Double ? value : new Double(value);
}

/** Path of the sync endpoint of a tablesync HTTP server. */
const SYNC_PATH = '/v1/sync';
/** Response header of a tablesync HTTP server carrying an error code. */
const ERROR_CODE_HEADER = 'X-Tablesync-Error';

/**
 * Build the API over a wasm-bindgen module.
 * `load(input)` instantiates the module (browser build); omit it when the
 * module is ready on import (Node build). `host.crypto` supplies
 * `getRandomValues` (default: `globalThis.crypto`).
 */
export function createApi(raw, load, host) {
  let ready = false;
  let poisoned = false;
  let initPromise = null;

  function register() {
    raw.registerClasses(TablesyncError, IntegerOutOfRangeError, Double);
    // Object literals built in JS get one V8 shape each (faster than stores from wasm).
    raw.registerCellMaker((name, value, timestamp) => ({ name, value, timestamp }));
    raw.registerRowMaker((primaryKey, columns, cells) => ({ primaryKey, columns, cells }));
    ready = true;
  }

  /** Load and start the WebAssembly module (a no-op in Node, where it loads on import). */
  function init(input) {
    if (ready) return Promise.resolve();
    if (!initPromise) {
      initPromise = Promise.resolve(load ? load(input) : undefined).then(register, (e) => {
        initPromise = null;
        throw e;
      });
    }
    return initPromise;
  }

  if (!load) register();

  function poisonedError() {
    let detail = '';
    try {
      detail = raw.lastPanicMessage();
    } catch {
      // the module may be too broken to answer
    }
    return new TablesyncError(
      `Poisoned: tablesync hit an internal error earlier${detail ? ` (${detail})` : ''} and refuses further calls; reload the module`,
      'Poisoned',
    );
  }

  function checkUsable() {
    if (poisoned) throw poisonedError();
    if (!ready) {
      throw new TablesyncError(
        'NotInitialized: call and await init() before using tablesync in a browser',
        'NotInitialized',
      );
    }
  }

  // Turn what escaped from wasm into the error users should see.
  function translate(e) {
    if (e instanceof WebAssembly.RuntimeError) {
      // A trap: a Rust panic (the hook has poisoned the module) or worse.
      poisoned = true;
      let detail = '';
      try {
        detail = raw.lastPanicMessage();
      } catch {
        // the module may be too broken to answer
      }
      return new TablesyncError(
        `InternalPanic: tablesync panicked (a bug: please report it)${detail ? `: ${detail}` : ''}; this module instance is now unusable`,
        'InternalPanic',
        { cause: e },
      );
    }
    if (e instanceof TablesyncError && e.code === 'Poisoned') {
      poisoned = true;
      return e;
    }
    if (e instanceof Error && !(e instanceof TablesyncError) &&
        /recursive use of an object/.test(e.message)) {
      return new TablesyncError(
        'DatabaseBusy: the database is already inside a call (e.g. used from an onProgress callback)',
        'DatabaseBusy',
        { cause: e },
      );
    }
    return e;
  }

  function guarded(fn) {
    checkUsable();
    try {
      return fn();
    } catch (e) {
      throw translate(e);
    }
  }

  const TOKEN = Symbol('tablesync.Database');
  const wire = createWireCodec(raw, { Double, TablesyncError, INF_MIN, INF_MAX, AUTO_INCREMENT });
  const SLOW = wire.SLOW;

  /** 8 random bytes from the host: a session id no other session shares. */
  function randomSessionId() {
    return randomBytes(8);
  }

  /** `n` random bytes from the host's `crypto.getRandomValues`. */
  function randomBytes(n) {
    const c = host?.crypto ?? globalThis.crypto;
    if (!c || typeof c.getRandomValues !== 'function') {
      throw new TablesyncError(
        'NoRandomness: crypto.getRandomValues is not available to make a session id',
        'NoRandomness',
      );
    }
    return c.getRandomValues(new Uint8Array(n));
  }

  function checkOptions(opts, what) {
    if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
      throw new TypeError(`${what} must be an object`);
    }
  }

  // The raw region of a Database (set by Database's static block): for the
  // session functions below, which live outside the class.
  let rawOf;
  // `onCommit(db, fn)`: call `fn()` after each local write; returns the remover.
  let onCommit;
  // Random bytes a backup repository needs (id, data key, salt, nonce):
  // INIT_RANDOM_LEN of core/src/backup/repo.rs.
  const BACKUP_RANDOM_LEN = 88;

  /** Run `fn(raw)` on `db`'s raw region, as the Database methods do. */
  function withRaw(db, what, fn) {
    checkUsable();
    const r = rawOf(db, what);
    try {
      return fn(r);
    } catch (e) {
      throw translate(e);
    }
  }

  function splitOpenOptions(opts, what) {
    if (opts === undefined || opts === null) return { clock: null, rest: opts };
    if (typeof opts !== 'object' || Array.isArray(opts)) {
      throw new TypeError(`${what} must be an object`);
    }
    if (!('clock' in opts)) return { clock: null, rest: opts };
    const { clock, ...rest } = opts;
    if (clock !== undefined && clock !== null && !(clock instanceof raw.ManualClock)) {
      throw new TypeError(`${what}: 'clock' must be a ManualClock`);
    }
    return { clock: clock ?? null, rest };
  }

  /** One region: in-memory tables, change log and digests. */
  class Database {
    #raw;
    // The names (columns, key columns) the row fast path has sent, by id.
    #names = [];
    // Whether INTEGER values come back as bigint (the fast path needs it
    // for AUTO_INCREMENT, which number mode refuses).
    #bigint;
    // Commit listeners (replication links), or null.
    #listeners = null;

    #notify() {
      if (this.#listeners) for (const f of this.#listeners) f();
    }

    constructor(token, rawDb) {
      if (token !== TOKEN) {
        throw new TypeError('use Database.memory() or Database.importSnapshot() to make a Database');
      }
      this.#raw = rawDb;
      this.#bigint = rawDb.integers === 'bigint';
    }

    #call(fn) {
      const r = this.#live();
      try {
        return fn(r);
      } catch (e) {
        throw translate(e);
      }
    }

    // The raw region, or throw if unusable (the row methods inline #call with it).
    #live() {
      checkUsable();
      const r = this.#raw;
      if (!r) {
        throw new TablesyncError('DatabaseClosed: the database was freed', 'DatabaseClosed');
      }
      return r;
    }

    static #unwrap(db) {
      if (!(db instanceof Database)) {
        throw new TypeError('copyTable: option "target" must be a Database');
      }
      return db.#raw;
    }

    static {
      rawOf = (db, what) => {
        if (!(db instanceof Database)) throw new TypeError(`${what} must be a Database`);
        if (!db.#raw) {
          throw new TablesyncError(`DatabaseClosed: ${what} was freed`, 'DatabaseClosed');
        }
        return db.#raw;
      };
      onCommit = (db, fn) => {
        (db.#listeners ??= new Set()).add(fn);
        return () => db.#listeners?.delete(fn);
      };
    }

    // The other region of syncWith / verify / repair (never this one).
    #peer(other, what) {
      if (other === this) {
        throw new TablesyncError(
          `OTSParameterInvalid: ${what} needs another region, not this one`,
          'OTSParameterInvalid',
        );
      }
      return rawOf(other, `${what}: the other region`);
    }

    /** An in-memory region named `region`. */
    static memory(region, opts) {
      return guarded(() => {
        const { clock, rest } = splitOpenOptions(opts, 'Database.memory options');
        const r = clock
          ? raw.RawDatabase.memoryWithClock(region, rest, clock)
          : raw.RawDatabase.memory(region, rest);
        return new Database(TOKEN, r);
      });
    }

    /** A region restored from `exportSnapshot()` bytes. */
    static importSnapshot(bytes, opts) {
      return guarded(() => {
        const { clock, rest } = splitOpenOptions(opts, 'Database.importSnapshot options');
        const r = clock
          ? raw.RawDatabase.importSnapshotWithClock(bytes, rest, clock)
          : raw.RawDatabase.importSnapshot(bytes, rest);
        return new Database(TOKEN, r);
      });
    }

    /** This region's name. */
    get region() {
      return this.#call((r) => r.region);
    }

    /** How INTEGER values are returned: `"number"` or `"bigint"`. */
    get integers() {
      return this.#call((r) => r.integers);
    }

    /** The largest lead (ms) a remote stamp may have over this region's clock. */
    get maxClockDrift() {
      return this.#call((r) => r.maxClockDrift);
    }

    /** Refusals of peer input and background failures since the region was made. */
    health() {
      return this.#call((r) => r.health());
    }

    /** Whether `free()` was called. */
    get freed() {
      return this.#raw === null;
    }

    createTable(name, opts) {
      const res = this.#call((r) => r.createTable(name, opts));
      this.#notify();
      return res;
    }
    listTables() {
      return this.#call((r) => r.listTables());
    }
    describeTable(name) {
      return this.#call((r) => r.describeTable(name));
    }
    updateTable(name, opts) {
      return this.#call((r) => r.updateTable(name, opts));
    }
    deleteTable(name) {
      return this.#call((r) => r.deleteTable(name));
    }

    // The row methods try the fast path (js/wire.mjs) and fall back to the
    // field-by-field one when its encoder declines the arguments.
    putRow(table, primaryKey, columns, opts) {
      const r = this.#live();
      try {
        const out = wire.putRow(r, this.#names, this.#bigint, table, primaryKey, columns, opts);
        const res = out !== SLOW ? out : r.putRow(table, primaryKey, columns, opts);
        if (this.#listeners) this.#notify();
        return res;
      } catch (e) {
        throw translate(e);
      }
    }
    getRow(table, primaryKey, opts) {
      const r = this.#live();
      try {
        const out = wire.getRow(r, this.#names, table, primaryKey, opts);
        return out !== SLOW ? out : r.getRow(table, primaryKey, opts);
      } catch (e) {
        throw translate(e);
      }
    }
    updateRow(table, primaryKey, opts) {
      const res = this.#call((r) => r.updateRow(table, primaryKey, opts));
      this.#notify();
      return res;
    }
    deleteRow(table, primaryKey, opts) {
      const res = this.#call((r) => r.deleteRow(table, primaryKey, opts));
      this.#notify();
      return res;
    }

    getRange(table, start, end, opts) {
      const r = this.#live();
      try {
        const out = wire.getRange(r, this.#names, table, start, end, opts);
        return out !== SLOW ? out : r.getRange(table, start, end, opts);
      } catch (e) {
        throw translate(e);
      }
    }

    /**
     * Every row of a range, page by page, over the core's scan cursor
     * (`RawScan`), which holds the position without holding the database:
     * between pages the database is free, and rows written after the
     * position are seen. The first page is read now (so bad arguments throw
     * here); later pages as the iteration reaches them. `limit` caps the
     * total number of rows.
     */
    scan(table, start, end, opts) {
      if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
        throw new TypeError('scan options must be an object');
      }
      const limit = opts?.limit;
      if (limit !== undefined && limit !== null &&
          !(Number.isSafeInteger(limit) && limit >= 1)) {
        throw new TypeError('scan option "limit" must be a positive integer');
      }
      const cursor = this.#call((r) => r.openScan(table, start, end, opts));
      const db = this;
      const page = () => db.#call((r) => {
        const rows = wire.scanPage(r, db.#names, cursor);
        return rows !== SLOW ? rows : cursor.nextPage(r);
      });
      let first;
      try {
        first = page();
      } catch (e) {
        cursor.free();
        throw e;
      }
      return (function* rows() {
        try {
          let rows = first;
          for (;;) {
            yield* rows;
            if (cursor.done) return;
            rows = page();
          }
        } finally {
          cursor.free();
        }
      })();
    }

    batchWrite(ops) {
      const r = this.#live();
      try {
        const out = wire.batchWrite(r, this.#names, this.#bigint, ops);
        const res = out !== SLOW ? out : r.batchWrite(ops);
        if (this.#listeners) this.#notify();
        return res;
      } catch (e) {
        throw translate(e);
      }
    }
    batchGet(requests) {
      const r = this.#live();
      try {
        const out = wire.batchGet(r, this.#names, requests);
        return out !== SLOW ? out : r.batchGet(requests);
      } catch (e) {
        throw translate(e);
      }
    }

    /**
     * Copy a table into a new table `targetTable`, here or in `opts.target`
     * (another Database). Returns the number of rows copied. `onProgress`
     * returning `false` cancels the copy (`Cancelled`); throwing cancels it
     * and rethrows. The chunks committed before the cancel stay.
     */
    copyTable(source, targetTable, opts) {
      if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
        throw new TypeError('copyTable options must be an object');
      }
      const { target, onProgress, ...unknown } = opts ?? {};
      const extra = Object.keys(unknown);
      if (extra.length) {
        throw new TypeError(`copyTable options: unknown option '${extra[0]}' (expected one of: target, onProgress)`);
      }
      if (target === undefined || target === null || target === this) {
        return this.#call((r) => r.copyTable(source, targetTable, onProgress));
      }
      const targetRaw = Database.#unwrap(target);
      if (!targetRaw) {
        throw new TablesyncError('DatabaseClosed: the target database was freed', 'DatabaseClosed');
      }
      return this.#call((r) => r.copyTableTo(source, targetRaw, targetTable, onProgress));
    }

    /**
     * Run a whole sync session with another region in this process (this
     * one initiating; frames go through the same encoding as over a
     * network). Returns the report.
     */
    syncWith(other, opts) {
      return this.#call((r) => r.syncWith(this.#peer(other, 'syncWith'), opts, randomSessionId()));
    }

    /** Find the keys whose rows differ from `other`'s; moves nothing. */
    verify(other, opts) {
      return this.#call((r) => r.verifyWith(this.#peer(other, 'verify'), opts));
    }

    /** Move only the differing rows, both ways, until the digests match. */
    repair(other, opts) {
      return this.#call((r) => r.repairWith(this.#peer(other, 'repair'), opts));
    }

    tableDigest(table) {
      return this.#call((r) => r.tableDigest(table));
    }
    verifyTableDigest(table) {
      return this.#call((r) => r.verifyTableDigest(table));
    }
    rangeDigest(table, start, end) {
      return this.#call((r) => r.rangeDigest(table, start, end));
    }

    changesSince(cursor, limit) {
      return this.#call((r) => r.changesSince(cursor, limit));
    }
    versionVector() {
      return this.#call((r) => r.versionVector());
    }
    applyChanges(records) {
      const res = this.#call((r) => r.applyChanges(records));
      this.#notify();
      return res;
    }
    nextCursor() {
      return this.#call((r) => r.nextCursor());
    }

    exportSnapshot() {
      return this.#call((r) => r.exportSnapshot());
    }

    /**
     * Replicate with the region a tablesync server hosts at `url`: a `Link`
     * run by the core's link state machine over fetch. Options: `token`
     * (required), `trigger` (`realtime` default, `delayed:300ms`,
     * `periodic:10s`, `manual`), `direction` (`both` default, `push`,
     * `pull`), `tables`, `name`, `peer`, `pollMs`, `timeoutMs`,
     * `maxBackoffMs`, `fetch`, `feed` (follow the change feed; default on
     * for realtime links that pull), `start` (default true).
     */
    replicate(url, opts) {
      checkUsable();
      if (typeof url !== 'string' && !(url instanceof URL)) {
        throw new TypeError('replicate: url must be a string or URL');
      }
      checkOptions(opts, 'replicate options');
      try {
        return Link.create(this, url, opts);
      } catch (e) {
        throw translate(e);
      }
    }

    /**
     * Back this region up into a one-file repository bundle (FORMAT.md
     * §19.9): a full backup, or with `parent` (an earlier bundle) an
     * incremental one on top of it; returns the new bundle. Options:
     * `passphrase` (encrypt: XChaCha20-Poly1305, Argon2id), `parent`,
     * `tables`, `full`, `onProgress`. With `write(name, bytes)` the
     * repository's objects (only those new since `parent`) go to that sink
     * instead — a directory written this way is a repository `tablesync
     * restore` reads — and the result is a Promise of the backup's info.
     * With `sink` (a `WritableStream`, or any object whose `write(chunk)`
     * returns a Promise, like a stream's writer), the new bundle is written
     * to it in `sinkChunkBytes` pieces (default 64 KiB), each write awaited
     * before the next, then `close()` is awaited if the sink has one; the
     * result is a Promise of the backup's info. `onProgress(p)` gets
     * `{ phase: 'backup', done, total, bytes }` while the backup is taken
     * (items and uncompressed bytes), then `{ phase: 'write', done, total,
     * bytes }` after each sink write (`write` or `sink`: bytes written of
     * `total`).
     */
    backup(opts) {
      checkOptions(opts, 'backup options');
      const { write, sink, sinkChunkBytes, onProgress, ...rest } = opts ?? {};
      if (write !== undefined && typeof write !== 'function') {
        throw new TypeError("backup option 'write' must be a function (name, bytes)");
      }
      if (onProgress !== undefined && typeof onProgress !== 'function') {
        throw new TypeError("backup option 'onProgress' must be a function");
      }
      if (sink !== undefined) {
        const ok = sink !== null && typeof sink === 'object'
          && (typeof sink.write === 'function' || typeof sink.getWriter === 'function');
        if (!ok) {
          throw new TypeError("backup option 'sink' must be a WritableStream or have write(chunk)");
        }
        if (write !== undefined) throw new TypeError("give backup option 'write' or 'sink', not both");
      }
      const piece = sinkChunkBytes ?? 64 * 1024;
      if (!Number.isInteger(piece) || piece < 1) {
        throw new TypeError("backup option 'sinkChunkBytes' must be a positive integer");
      }
      const out = this.#call((r) => r.backup(
        onProgress === undefined ? rest : { ...rest, onProgress },
        randomBytes(BACKUP_RANDOM_LEN),
      ));
      if (write === undefined && sink === undefined) return out.bundle;
      const progress = (done, total, bytes) => {
        if (onProgress !== undefined) onProgress({ phase: 'write', done, total, bytes });
      };
      if (write !== undefined) {
        return (async () => {
          let bytes = 0;
          let done = 0;
          for (const [name, data] of out.written) {
            await write(name, data);
            bytes += data.length;
            done += 1;
            progress(done, out.written.length, bytes);
          }
          return { ...out.info, bundle: out.bundle };
        })();
      }
      return (async () => {
        const writer = typeof sink.getWriter === 'function' ? sink.getWriter() : sink;
        const total = out.bundle.length;
        const pieces = Math.ceil(total / piece);
        try {
          for (let i = 0; i < pieces; i++) {
            await writer.write(out.bundle.subarray(i * piece, Math.min(total, (i + 1) * piece)));
            progress(i + 1, pieces, Math.min(total, (i + 1) * piece));
          }
          if (typeof writer.close === 'function') await writer.close();
        } finally {
          if (writer !== sink && typeof writer.releaseLock === 'function') {
            try { writer.releaseLock(); } catch { /* already closed */ }
          }
        }
        return { ...out.info, bundleBytes: total };
      })();
    }

    /**
     * A region rebuilt in memory from a backup bundle: the latest backup,
     * `backup` (id prefix), `at` (a Date or ms) or `atStamp` (an HLC stamp);
     * all tables, `tables`, or one `table` restored `as` another name.
     * `passphrase` opens an encrypted bundle (a wrong one is
     * `BackupKeyInvalid`); every digest is checked (`BackupCorrupt`).
     */
    static restore(bytes, opts) {
      return guarded(() => new Database(TOKEN, raw.RawDatabase.restoreBundle(bytes, opts)));
    }

    /** The backups a bundle holds, oldest first. */
    static listBackups(bytes, opts) {
      checkOptions(opts, 'listBackups options');
      return guarded(() => raw.listBackups(bytes, opts?.passphrase));
    }

    /** Release the region's memory; later calls throw `DatabaseClosed`. Idempotent. */
    free() {
      const r = this.#raw;
      this.#raw = null;
      if (r && !poisoned) r.free();
    }
  }

  /**
   * A clock set by hand, shared by the databases given it
   * (`Database.memory("a", { clock })`): deterministic timestamps for tests.
   */
  class ManualClock extends raw.ManualClock {
    constructor(ms) {
      checkUsable();
      try {
        super(ms);
      } catch (e) {
        throw translate(e);
      }
    }
  }

  /**
   * The initiating side of a sync session, driven by hand over any
   * transport: `start(db)` gives the first request frame; hand each reply
   * to `receive(db, reply)`, which gives the next request (a `Uint8Array`)
   * or, at the end, the report. The other side answers with `respond()`.
   */
  class SyncSession {
    #raw;
    #report = null;

    /** A session with these options; its id comes from `crypto.getRandomValues`. */
    constructor(opts) {
      checkUsable();
      checkOptions(opts, 'SyncSession options');
      try {
        this.#raw = new raw.RawSyncSession(opts, randomSessionId());
      } catch (e) {
        throw translate(e);
      }
    }

    /** A new session and its first request frame: `{ session, request }`. */
    static start(db, opts) {
      const session = new SyncSession(opts);
      try {
        return { session, request: session.start(db) };
      } catch (e) {
        session.free();
        throw e;
      }
    }

    #live(what) {
      checkUsable();
      if (this.#raw) return this.#raw;
      throw new TablesyncError(
        this.#report
          ? `SyncError: ${what}: the session is over`
          : `DatabaseClosed: ${what}: the session was freed`,
        this.#report ? 'SyncError' : 'DatabaseClosed',
      );
    }

    /** The session id (16 hex digits); replies must carry it. */
    get sessionId() {
      return this.#live('sessionId').sessionId;
    }

    /** Whether the session is over (`report` holds its report). */
    get done() {
      return this.#report !== null;
    }

    /** The report once the session is over, else `null`. */
    get report() {
      return this.#report;
    }

    /** The first request frame (once per session). */
    start(db) {
      const s = this.#live('start');
      return withRaw(db, 'SyncSession.start: db', (r) => s.start(r));
    }

    /**
     * Handle the reply to the last request: the next request frame, or the
     * report when the session is over (the session then frees itself). A
     * reply that fails its checks throws `CorruptData` and changes nothing.
     */
    receive(db, reply) {
      const s = this.#live('receive');
      const out = withRaw(db, 'SyncSession.receive: db', (r) => s.receive(r, reply));
      if (out instanceof Uint8Array) return out;
      this.#report = out;
      this.free();
      return out;
    }

    /** Release the session's memory (automatic once it is over). Idempotent. */
    free() {
      const r = this.#raw;
      this.#raw = null;
      if (r && !poisoned) r.free();
    }
  }

  /**
   * Answer one request frame for `db` (the responding region) with the
   * reply frame. Stateless: host a region over any transport with it.
   */
  function respond(db, request, maxFrameBytes) {
    return withRaw(db, 'respond: db', (r) => raw.respond(r, request, maxFrameBytes));
  }

  /** `opts.epoch` checked: a non-negative safe integer (default 0). */
  function epochOption(epoch, what) {
    if (epoch === undefined) return 0;
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw new TypeError(`${what}: epoch must be a non-negative integer`);
    }
    return epoch;
  }

  // Peer frames carry the epoch of the region group the sender belongs to
  // (`X-Tablesync-Epoch`, docs/SERVER.md "Links"; 0: none): a server whose
  // region is in a group refuses frames from an older epoch, and frames
  // without the header, with `StaleEpoch`.
  async function post(fetchImpl, endpoint, token, body, signal, epoch = 0) {
    let res;
    try {
      res = await fetchImpl(endpoint, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/octet-stream',
          'X-Tablesync-Epoch': String(epoch),
        },
        body,
        signal,
      });
    } catch (e) {
      if (e?.name === 'AbortError') throw e;
      throw new TablesyncError(`NetworkError: POST ${endpoint} failed: ${e?.message ?? e}`, 'NetworkError', { cause: e });
    }
    if (res.status !== 200) {
      const code = res.headers.get(ERROR_CODE_HEADER) || 'HttpError';
      let detail = '';
      try {
        detail = (await res.text()).trim();
      } catch {
        // the body is only for the message
      }
      const err = new TablesyncError(
        `${code}: POST ${endpoint} answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
        code,
      );
      err.status = res.status;
      throw err;
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * Sync `db` with the region a tablesync HTTP server hosts at `url`
   * (`tablesync serve`): each frame is a `POST url/v1/sync` with the bearer
   * token. Uses the global `fetch` (Node ≥ 18, browsers; cross-origin pages
   * rely on the server's CORS answers) unless `opts.fetch` is given.
   */
  async function syncOverHttp(db, url, token, opts) {
    checkOptions(opts, 'syncOverHttp options');
    if (typeof url !== 'string' && !(url instanceof URL)) {
      throw new TypeError('syncOverHttp: url must be a string or URL');
    }
    if (typeof token !== 'string' || token === '') {
      throw new TypeError('syncOverHttp: token must be a non-empty string');
    }
    const { fetch: fetchImpl = globalThis.fetch, signal, epoch: epochOpt, ...sessionOpts } = opts ?? {};
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('syncOverHttp: no fetch function (pass opts.fetch)');
    }
    const epoch = epochOption(epochOpt, 'syncOverHttp');
    const endpoint = `${String(url).replace(/\/+$/, '')}${SYNC_PATH}`;
    const { session, request } = SyncSession.start(db, sessionOpts);
    try {
      let out = request;
      for (;;) {
        const reply = await post(fetchImpl, endpoint, token, out, signal, epoch);
        out = session.receive(db, reply);
        if (!(out instanceof Uint8Array)) return out;
      }
    } finally {
      session.free();
    }
  }

  /**
   * Follow the change feed of the region a tablesync server hosts at `url`
   * (`GET url/v1/changes` long polls): `onRecords(records, next)` is called
   * with each non-empty batch of change records (JSON, docs/SERVER.md) as
   * soon as they commit. Options: `token` (required), `after` (cursor to
   * start from, default 0 = oldest kept), `wait` (ms a poll is held, default
   * 25000), `fetch`, `signal`, `onError(e)` (default: stop on the first
   * error). Returns `{ close(), done }`; `done` settles when it stops.
   */
  function subscribe(url, onRecords, opts) {
    checkOptions(opts, 'subscribe options');
    if (typeof url !== 'string' && !(url instanceof URL)) {
      throw new TypeError('subscribe: url must be a string or URL');
    }
    if (typeof onRecords !== 'function') {
      throw new TypeError('subscribe: onRecords must be a function');
    }
    const { token, after = 0, wait = 25000, fetch: fetchImpl = globalThis.fetch, signal, onError } = opts ?? {};
    if (typeof token !== 'string' || token === '') {
      throw new TypeError('subscribe: opts.token must be a non-empty string');
    }
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('subscribe: no fetch function (pass opts.fetch)');
    }
    const base = `${String(url).replace(/\/+$/, '')}/v1/changes`;
    const stop = new AbortController();
    const abort = () => stop.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let cursor = after;
    const done = (async () => {
      while (!stop.signal.aborted) {
        try {
          const res = await fetchImpl(`${base}?after=${cursor}&wait=${wait}`, {
            headers: { Authorization: `Bearer ${token}` },
            signal: stop.signal,
          });
          if (res.status !== 200) {
            const code = res.headers.get(ERROR_CODE_HEADER) || 'HttpError';
            const err = new TablesyncError(`${code}: GET ${base} answered HTTP ${res.status}`, code);
            err.status = res.status;
            throw err;
          }
          const page = await res.json();
          cursor = page.next;
          if (page.records.length > 0) await onRecords(page.records, page.next);
        } catch (e) {
          if (stop.signal.aborted) break;
          if (typeof onError !== 'function') throw e;
          await onError(e);
          // Do not spin on a failing server.
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })().finally(() => signal?.removeEventListener('abort', abort));
    return { close: abort, done };
  }

  const { Link } = createLinkApi({
    raw,
    withRaw,
    onCommit: (db, fn) => onCommit(db, fn),
    randomBytes,
    post,
    TablesyncError,
  });

  const { Cluster, clusterWire } = createClusterApi({
    raw,
    post,
    checkUsable,
    randomBytes,
    TablesyncError,
  });

  return {
    init,
    Database,
    Link,
    Cluster,
    clusterWire,
    SyncSession,
    respond,
    syncOverHttp,
    subscribe,
    TablesyncError,
    IntegerOutOfRangeError,
    Double,
    double,
    INF_MIN,
    INF_MAX,
    AUTO_INCREMENT,
    ManualClock,
  };
}
