// The public JS API of the npm package `tablesync`, over the wasm-bindgen
// module (`raw`). One source for every build: scripts/build-wasm copies it
// as an ES module for browsers and turns its single `export` into
// `module.exports` for the Node (CommonJS) build.
//
// This layer only shapes the API: error classes, the `Double` wrapper, the
// INF_MIN / INF_MAX symbols, `scan` as an iterable, `free()`, and poisoning
// after a panic. Every conversion and check happens in Rust.

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

/**
 * Build the API over a wasm-bindgen module.
 * `load(input)` instantiates the module (browser build); omit it when the
 * module is ready on import (Node build).
 */
export function createApi(raw, load) {
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

    constructor(token, rawDb) {
      if (token !== TOKEN) {
        throw new TypeError('use Database.memory() or Database.importSnapshot() to make a Database');
      }
      this.#raw = rawDb;
    }

    #call(fn) {
      checkUsable();
      const r = this.#raw;
      if (!r) {
        throw new TablesyncError('DatabaseClosed: the database was freed', 'DatabaseClosed');
      }
      try {
        return fn(r);
      } catch (e) {
        throw translate(e);
      }
    }

    static #unwrap(db) {
      if (!(db instanceof Database)) {
        throw new TypeError('copyTable: option "target" must be a Database');
      }
      return db.#raw;
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

    /** Whether `free()` was called. */
    get freed() {
      return this.#raw === null;
    }

    createTable(name, opts) {
      return this.#call((r) => r.createTable(name, opts));
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

    putRow(table, primaryKey, columns, opts) {
      return this.#call((r) => r.putRow(table, primaryKey, columns, opts));
    }
    getRow(table, primaryKey, opts) {
      return this.#call((r) => r.getRow(table, primaryKey, opts));
    }
    updateRow(table, primaryKey, opts) {
      return this.#call((r) => r.updateRow(table, primaryKey, opts));
    }
    deleteRow(table, primaryKey, opts) {
      return this.#call((r) => r.deleteRow(table, primaryKey, opts));
    }

    getRange(table, start, end, opts) {
      return this.#call((r) => r.getRange(table, start, end, opts));
    }

    /**
     * Every row of a range, page by page. The first page is read now (so bad
     * arguments throw here); later pages as the iteration reaches them.
     * `limit` caps the total number of rows.
     */
    scan(table, start, end, opts) {
      if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
        throw new TypeError('scan options must be an object');
      }
      const { limit, ...rangeOpts } = opts ?? {};
      if (limit !== undefined && limit !== null &&
          !(Number.isSafeInteger(limit) && limit >= 1)) {
        throw new TypeError('scan option "limit" must be a positive integer');
      }
      const backward = typeof rangeOpts.direction === 'string' &&
        rangeOpts.direction.toUpperCase() === 'BACKWARD';
      const from = start ?? (backward ? INF_MAX : INF_MIN);
      const to = end ?? (backward ? INF_MIN : INF_MAX);
      const first = this.getRange(table, from, to, rangeOpts);
      const db = this;
      return (function* rows() {
        let left = limit ?? Infinity;
        let page = first;
        for (;;) {
          for (const row of page.rows) {
            if (left <= 0) return;
            left -= 1;
            yield row;
          }
          if (page.nextStart === null || left <= 0) return;
          page = db.getRange(table, page.nextStart, to, rangeOpts);
        }
      })();
    }

    batchWrite(ops) {
      return this.#call((r) => r.batchWrite(ops));
    }
    batchGet(requests) {
      return this.#call((r) => r.batchGet(requests));
    }

    /**
     * Copy a table into a new table `targetTable`, here or in `opts.target`
     * (another Database). Returns the number of rows copied.
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
      return this.#call((r) => r.applyChanges(records));
    }
    nextCursor() {
      return this.#call((r) => r.nextCursor());
    }

    exportSnapshot() {
      return this.#call((r) => r.exportSnapshot());
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

  return {
    init,
    Database,
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
