// `Cluster`: a client of a tablesync cluster (`tablesync serve --cluster`
// regions) for browsers and Node. The routing and protocol state — the
// map, write modes and their acknowledgements, semi-sync degradation, the
// EWMA read balancer, range merging, batch planning — is the core's
// sans-IO `ClusterClient` in the wasm module (`RawCluster`); this layer
// only carries its `TSCX` bodies over fetch (`POST endpoint/v1/cluster/msg`)
// and passes the time. The same API as the Python `tablesync.Cluster`.
//
// scripts/build-wasm inlines this file ahead of api.mjs; its one export,
// `export function createClusterApi(`, becomes a plain function.

export function createClusterApi({ raw, post, checkUsable, randomBytes, TablesyncError }) {
  const MSG_PATH = '/v1/cluster/msg';
  const OPTION_KEYS = new Set([
    'token', 'localDc', 'seed', 'attempts', 'writeTimeoutMs', 'integers', 'fetch', 'requestTimeoutMs',
  ]);
  const WRITE_KEYS = new Set(['mode', 'condition']);
  const UPDATE_KEYS = new Set(['put', 'delete', 'deleteAll', 'increment', 'condition', 'mode']);
  /** Codes meaning "the request never ran: fix the map (or wait) and retry". */
  const RETRY_CODES = new Set(['StaleClusterMap', 'NotHome', 'ClusterMapBehind', 'RowLocked', 'CatchingUp']);
  /** A parameter error, as the wasm layer makes them. */
  function invalid(message) {
    const e = new TablesyncError(`OTSParameterInvalid: ${message}`, 'OTSParameterInvalid');
    e.kind = 'InvalidArgument';
    return e;
  }
  function syncError(message) {
    const e = new TablesyncError(`SyncError: ${message}`, 'SyncError');
    e.kind = 'Sync';
    return e;
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const now = () => Date.now();

  function checkKeys(obj, allowed, what) {
    if (obj === undefined || obj === null) return {};
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      throw new TypeError(`${what} must be an object`);
    }
    for (const k of Object.keys(obj)) {
      if (!allowed.has(k)) {
        throw invalid(`unknown ${what} '${k}'`);
      }
    }
    return obj;
  }

  function isUrl(x) {
    return (typeof x === 'string' && /^https?:\/\//i.test(x)) || (typeof URL !== 'undefined' && x instanceof URL);
  }

  /** 64 random bits as a bigint (transaction ids). */
  function random64() {
    const b = randomBytes(8);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v;
  }

  class Cluster {
    #raw;
    #token;
    #fetch;
    #seeds;
    #attempts;
    #timeoutMs;
    #clientId;
    #nextTxn = 1n;
    /** request id → callback receiving that write's events. */
    #waiters = new Map();
    #start = now();

    /** @internal Use `Cluster.connect`. */
    constructor(rawCluster, { token, fetch: fetchImpl, seeds, attempts, timeoutMs, clientId }) {
      this.#raw = rawCluster;
      this.#token = token;
      this.#fetch = fetchImpl;
      this.#seeds = seeds;
      this.#attempts = attempts;
      this.#timeoutMs = timeoutMs;
      this.#clientId = clientId;
    }

    /**
     * Connect to a cluster. `mapOrUrl`: the URL of any region (its map is
     * fetched) or a map's bytes (`Uint8Array`, e.g. a `tablesync cluster
     * init` file). Options: `token` (required), `localDc` (reads prefer
     * it; `LOCAL_QUORUM` counts in it; default the map's first),
     * `attempts` (5), `writeTimeoutMs` (10000), `requestTimeoutMs` (one
     * call; default writeTimeoutMs + 5000), `seed`, `integers`
     * (`"number"` | `"bigint"`), `fetch`.
     */
    static async connect(mapOrUrl, opts) {
      checkUsable();
      const o = checkKeys(opts, OPTION_KEYS, 'Cluster option');
      if (typeof o.token !== 'string' || o.token === '') {
        throw new TypeError('Cluster.connect: opts.token must be a non-empty string');
      }
      const fetchImpl = o.fetch ?? globalThis.fetch;
      if (typeof fetchImpl !== 'function') throw new TypeError('Cluster.connect: no fetch function (pass opts.fetch)');
      const attempts = o.attempts ?? 5;
      if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
        throw new TypeError('Cluster option attempts must be an integer in 1..=100');
      }
      const writeTimeoutMs = o.writeTimeoutMs ?? 10000;
      if (typeof writeTimeoutMs !== 'number' || !(writeTimeoutMs >= 1)) {
        throw new TypeError('Cluster option writeTimeoutMs must be a positive number');
      }
      const timeoutMs = o.requestTimeoutMs ?? writeTimeoutMs + 5000;
      const seed = o.seed ?? Number(random64() & 0xfffffffffffffn);
      let map;
      let seeds = [];
      if (isUrl(mapOrUrl)) {
        const url = String(mapOrUrl).replace(/\/+$/, '');
        const reply = await callWith(fetchImpl, o.token, timeoutMs, url, raw.RawCluster.mapGetBody());
        map = raw.RawCluster.mapFromReply(reply);
        seeds = [url];
      } else if (mapOrUrl instanceof Uint8Array) {
        map = mapOrUrl;
      } else {
        throw new TypeError('Cluster.connect: mapOrUrl must be a region URL (http:// or https://) or the map bytes (Uint8Array)');
      }
      const r = new raw.RawCluster(map, o.localDc ?? '', seed, writeTimeoutMs, o.integers);
      return new Cluster(r, {
        token: o.token,
        fetch: fetchImpl,
        seeds,
        attempts,
        timeoutMs,
        clientId: BigInt.asUintN(64, BigInt(seed) ^ 0x5851f42d4c957f2dn ^ random64()),
      });
    }

    /** The epoch of the map the client routes by. */
    get mapEpoch() {
      return this.#raw.epoch;
    }

    /** The client's datacenter. */
    get localDc() {
      return this.#raw.localDc;
    }

    /** The map the client routes by, as its bytes (a `TSCM` frame). */
    mapBytes() {
      return this.#raw.mapBytes();
    }

    /** Whether semi-sync writes to `table` are degraded to async. */
    isDegraded(table) {
      return this.#raw.isDegraded(table);
    }

    /** Reads sent per datacenter by this client: `{ name: count }`. */
    requestsPerDatacenter() {
      return this.#raw.requestsPerDatacenter();
    }

    #ms() {
      return now() - this.#start;
    }

    #call(endpoint, body) {
      return callWith(this.#fetch, this.#token, this.#timeoutMs, endpoint, body);
    }

    /**
     * Ask every reachable region for its map and adopt the newest; resolves
     * to the epoch held afterwards.
     */
    async refreshMap() {
      const endpoints = new Set(this.#raw.regions().map((r) => r.endpoint));
      for (const s of this.#seeds) endpoints.add(s);
      const answers = await Promise.allSettled(
        [...endpoints].map((ep) => this.#call(ep, raw.RawCluster.mapGetBody())),
      );
      for (const a of answers) {
        if (a.status !== 'fulfilled') continue;
        try {
          this.#raw.setMap(raw.RawCluster.mapFromReply(a.value));
        } catch {
          // a region answering nonsense does not stop the others
        }
      }
      return this.#raw.epoch;
    }

    /**
     * Push this client's map to every region of it (each installs it if
     * newer); resolves to the names of the regions that did not take it.
     */
    async pushMap() {
      const body = this.#raw.mapPushBody();
      const regions = this.#raw.regions();
      const res = await Promise.allSettled(regions.map((r) => this.#call(r.endpoint, body)));
      return regions.filter((_, i) => res[i].status !== 'fulfilled').map((r) => r.region);
    }

    async #pushMapTo(endpoint) {
      try {
        await this.#call(endpoint, this.#raw.mapPushBody());
      } catch {
        // the retry will tell
      }
    }

    /**
     * Replace a row at its home; acknowledged per `opts.mode` (default: the
     * table's): `"async"`, `"semi-sync:MS"`, `"sync:LEVEL"` or a bare
     * level (`"QUORUM"`, `"ALL"`, `"LOCAL_QUORUM"`, `"EACH_QUORUM"`,
     * `"ONE"`, `"2"`). `opts.condition`: a row-existence condition.
     * Resolves to `{ home, degraded }`.
     */
    async putRow(table, primaryKey, columns, opts) {
      const o = checkKeys(opts, WRITE_KEYS, 'putRow option');
      const op = { type: 'put', table, primaryKey, columns: columns ?? {} };
      if (o.condition !== undefined) op.condition = o.condition;
      return this.#write(op, o.mode);
    }

    /**
     * Change columns of a row: `opts.put`, `opts.delete`, `opts.deleteAll`,
     * `opts.condition`, `opts.mode` (no increments: they would not replay
     * to the same value on every replica).
     */
    async updateRow(table, primaryKey, opts) {
      const o = checkKeys(opts, UPDATE_KEYS, 'updateRow option');
      const { mode, ...rest } = o;
      return this.#write({ type: 'update', table, primaryKey, ...rest }, mode);
    }

    /** Delete a row (`opts.condition`, `opts.mode`). */
    async deleteRow(table, primaryKey, opts) {
      const o = checkKeys(opts, WRITE_KEYS, 'deleteRow option');
      const op = { type: 'delete', table, primaryKey };
      if (o.condition !== undefined) op.condition = o.condition;
      return this.#write(op, o.mode);
    }

    async #write(op, mode) {
      checkUsable();
      if (mode !== undefined && mode !== null && typeof mode !== 'string') {
        throw new TypeError('write option mode must be a string');
      }
      // Encoded once: retries resend the same write with the same timestamps.
      const write = raw.RawCluster.encodeWrite(op, now());
      let last = syncError('no attempt made');
      for (let attempt = 0; attempt < this.#attempts; attempt++) {
        const begun = this.#raw.beginWrite(write, mode ?? null, this.#ms());
        const out = await this.#runWrite(begun);
        if (out.ok) return out.value;
        if (!out.retry) throw out.error;
        last = out.error;
        if (out.code === 'ClusterMapBehind') await this.#pushMapTo(begun.replica.endpoint);
        else if (out.code === 'RowLocked' || out.code === 'CatchingUp') await sleep(20 * 2 ** Math.min(attempt, 5));
        else await this.refreshMap();
      }
      throw last;
    }

    /** One attempt: the home, then forwards until the mode is met. */
    async #runWrite({ request, replica: home, body }) {
      const queue = [];
      let wake = null;
      this.#waiters.set(request, (e) => {
        queue.push(e);
        if (wake) wake();
      });
      const feed = (events) => {
        for (const e of events) {
          const w = this.#waiters.get(e.request);
          if (w) w(e);
        }
      };
      try {
        let reply = null;
        let error = null;
        try {
          reply = await this.#call(home.endpoint, body);
        } catch (e) {
          error = e;
        }
        const code = error ? (error.status ? error.code : '') : '';
        feed(this.#raw.onHomeReply(request, home.region, reply, code, this.#ms()));
        for (;;) {
          while (queue.length > 0) {
            const e = queue.shift();
            if (e.kind === 'acked') {
              if (e.probe) this.#probeApply(e.table, e.probe);
              return { ok: true, value: { home: home.region, degraded: e.degraded } };
            }
            if (e.kind === 'failed') {
              // A refusal by the home (condition, limits…) or no answer: its own error.
              const err = error && !RETRY_CODES.has(error.code) ? error : e.error;
              return { ok: false, retry: false, error: err };
            }
            if (e.kind === 'refresh') {
              const c = error?.code ?? 'StaleClusterMap';
              return { ok: false, retry: true, code: c, error: error ?? e.error };
            }
            if (e.kind === 'forward') {
              for (const s of e.sends) {
                this.#call(s.replica.endpoint, s.body).then(
                  () => feed(this.#raw.onReplicaReply(request, s.replica.region, true, this.#ms())),
                  () => feed(this.#raw.onReplicaReply(request, s.replica.region, false, this.#ms())),
                );
              }
            }
          }
          // Wait for an answer or the next tick (semi-sync timeouts, deadlines).
          await new Promise((resolve) => {
            const t = setTimeout(resolve, 5);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = null;
          if (queue.length === 0) feed(this.#raw.tick(this.#ms()));
        }
      } finally {
        this.#waiters.delete(request);
      }
    }

    /** After a degraded write: a replica that applies it lets semi-sync recover. */
    #probeApply(table, probe) {
      this.#call(probe.replica.endpoint, probe.body).then(
        () => this.#raw.onProbeApplied(table, this.#ms()),
        () => {},
      );
    }

    /** A read from one replica, reported to the balancer. */
    async #readFrom(replica, body) {
      const t0 = now();
      try {
        const reply = await this.#call(replica.endpoint, body);
        this.#raw.onReadReply(replica, Math.max(now() - t0, 0.01), this.#ms());
        return reply;
      } catch (e) {
        // A refusal (stale map…) says nothing of the replica's health.
        if (!e.status || e.code === 'RegionFailed') this.#raw.onReadReply(replica, null, this.#ms());
        throw e;
      }
    }

    /**
     * Read a row at `opts.level`: `"ONE"` (nearest healthy replica, the
     * default), `"LEADER"` (the home) or `"QUORUM"` (a majority, newest
     * wins and is written back). Resolves to the row or `null`.
     */
    async getRow(table, primaryKey, opts) {
      checkUsable();
      const { level = 'ONE' } = checkKeys(opts, new Set(['level']), 'getRow option');
      if (typeof level !== 'string') throw new TypeError('getRow option level must be a string');
      let last = null;
      for (let attempt = 0; attempt < this.#attempts; attempt++) {
        const plan = this.#raw.planRead(table, primaryKey, level, this.#ms());
        try {
          if (level.toUpperCase() === 'QUORUM') return await this.#quorumGet(plan);
          if (plan.probe) this.#readFrom(plan.probe, plan.body).catch(() => {});
          const order = level.toUpperCase() === 'LEADER' ? plan.targets.slice(0, 1) : plan.targets;
          let err = null;
          for (const r of order) {
            try {
              return this.#raw.rowFromReply(await this.#readFrom(r, plan.body));
            } catch (e) {
              err = e;
              if (e?.code === 'StaleClusterMap') break;
            }
          }
          throw err;
        } catch (e) {
          // A partition being moved answers CatchingUp until its new home
          // has caught up: wait and ask again.
          if (e?.code === 'CatchingUp') {
            last = e;
            await sleep(20 * 2 ** Math.min(attempt, 5));
            continue;
          }
          if (e?.code !== 'StaleClusterMap') throw e;
          last = e;
          await this.refreshMap();
        }
      }
      throw last;
    }

    #quorumGet(plan) {
      const { targets, need, body, epoch } = plan;
      return new Promise((resolve, reject) => {
        const replicas = [];
        const replies = [];
        const errors = [];
        let done = false;
        targets.forEach((r) => {
          this.#call(r.endpoint, body).then(
            (reply) => {
              if (done) return;
              replicas.push(r);
              replies.push(reply);
              if (replies.length < need) return;
              done = true;
              try {
                const { row, writeBack } = this.#raw.quorumResult(replicas, replies, epoch);
                // Written back before answering, so a later QUORUM read cannot see older.
                Promise.allSettled(writeBack.map((w) => this.#call(w.replica.endpoint, w.body))).then(
                  () => resolve(row),
                );
              } catch (e) {
                reject(e);
              }
            },
            (e) => {
              if (done) return;
              if (e?.code === 'StaleClusterMap') {
                done = true;
                reject(e);
                return;
              }
              errors.push(e);
              if (targets.length - errors.length < need) {
                done = true;
                reject(syncError(
                  `QUORUM read: ${replies.length} of ${targets.length} replicas answered, ${need} needed (${errors.map((x) => x.message).join('; ')})`,
                ));
              }
            },
          );
        });
      });
    }

    /**
     * One page of rows with keys in `[start, end)`, merged in key order
     * across partitions. Bounds: `null` (unbounded), an array of leading
     * key values, an object of leading key columns, or the `nextStart`
     * bytes of the previous page. `opts.limit`: 1..=1000 (default 100).
     * Resolves to `{ rows, nextStart }` (`nextStart` `null` at the end).
     */
    async getRange(table, start, end, opts) {
      checkUsable();
      const { limit = 100 } = checkKeys(opts, new Set(['limit']), 'getRange option');
      let last = null;
      for (let attempt = 0; attempt < this.#attempts; attempt++) {
        const range = this.#raw.range(table, start ?? null, end ?? null, limit);
        try {
          for (;;) {
            const step = range.poll();
            if (step.kind === 'page') return { rows: step.rows, nextStart: step.nextStart };
            const pages = await Promise.all(step.requests.map((req) => this.#fetchPage(req)));
            step.requests.forEach((req, i) => range.feed(req.stream, pages[i]));
          }
        } catch (e) {
          if (e?.code !== 'StaleClusterMap') throw e;
          last = e;
          await this.refreshMap();
        } finally {
          range.free();
        }
      }
      throw last;
    }

    /** The home first, then the other replicas (a down home still reads). */
    async #fetchPage({ replicas, scatter, body }) {
      let last = null;
      for (const r of replicas) {
        try {
          return await this.#call(r.endpoint, body);
        } catch (e) {
          if (e?.code === 'StaleClusterMap') throw e;
          last = e;
        }
        // A scattered sub-range counts only its home's rows.
        if (scatter) break;
      }
      throw last;
    }

    /**
     * Write several rows atomically: `[{ type: "put" | "update" | "delete",
     * table, primaryKey, columns | put/delete/deleteAll, condition }]`.
     * One partition home → one round; several → two-phase commit
     * coordinated by the first row's home. Retries reuse the transaction
     * id, so the batch applies at most once. Resolves to `{ committed,
     * reason, txn, participants }` (`txn` a bigint).
     */
    async batchWrite(ops) {
      checkUsable();
      if (!Array.isArray(ops)) throw new TypeError('batchWrite: ops must be an array of write objects');
      if (ops.length === 0) throw invalid('an empty batch');
      const t = now();
      const writes = ops.map((op) => raw.RawCluster.encodeWrite(op, t));
      const seq = this.#nextTxn++;
      const hi = this.#clientId;
      const txn = (hi << 64n) | seq;
      let last = syncError('no attempt made');
      for (let attempt = 0; attempt < this.#attempts * 2; attempt++) {
        const plan = this.#raw.planBatch(writes, hi, seq);
        try {
          const reply = await this.#call(plan.replica.endpoint, plan.body);
          const { committed, reason } = raw.RawCluster.outcomeFromReply(reply);
          return { committed, reason, txn, participants: plan.participants };
        } catch (e) {
          if (e instanceof TypeError) throw e;
          last = e;
          const code = e?.status ? e.code : '';
          if (code === 'StaleClusterMap' || code === 'NotHome') await this.refreshMap();
          else if (code === 'ClusterMapBehind') await this.#pushMapTo(plan.replica.endpoint);
          else if (code && code !== 'TxnInProgress' && code !== 'RowLocked' && code !== 'CatchingUp') throw e;
          // Undecided or no answer: ask again under the same id.
          else await sleep(50 * 2 ** Math.min(attempt, 4));
        }
      }
      throw last;
    }

    /** Release the wasm state (the object is unusable afterwards). */
    free() {
      this.#raw.free();
    }

    toString() {
      return `Cluster(epoch=${this.#raw.epoch}, datacenters=${JSON.stringify(this.#raw.datacenters())})`;
    }
  }

  /** POST a `TSCX` body to `endpoint/v1/cluster/msg` with a timeout. */
  async function callWith(fetchImpl, token, timeoutMs, endpoint, body) {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      return await post(fetchImpl, `${String(endpoint).replace(/\/+$/, '')}${MSG_PATH}`, token, body, ctl.signal);
    } catch (e) {
      if (e?.name === 'AbortError') {
        throw new TablesyncError(`NetworkError: POST ${endpoint}${MSG_PATH} timed out after ${timeoutMs} ms`, 'NetworkError');
      }
      throw e;
    } finally {
      clearTimeout(t);
    }
  }

  /** The cluster wire format for tests and tools (FORMAT.md §20). */
  const clusterWire = {
    /** Kinds of the messages in a `TSCX` frame. */
    messageKinds: (frame) => raw.clusterMessageKinds(frame),
    /** Decode a `TSCX` frame and encode its messages again. */
    reencodeMessages: (frame) => raw.clusterMessagesReencode(frame),
    /** Kind of a `TSCR` 2PC record frame. */
    txnRecordKind: (frame) => raw.txnRecordKind(frame),
    /** Decode a `TSCR` record frame and encode it again. */
    reencodeTxnRecord: (frame) => raw.txnRecordReencode(frame),
  };

  return { Cluster, clusterWire };
}
