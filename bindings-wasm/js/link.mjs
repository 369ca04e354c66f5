// Replication links of the npm package `tablesync`: `db.replicate(url, opts)`
// returns a `Link` that keeps `db` and a tablesync server's region in step.
// The decisions (when a session starts, retries, back-off, cursors, lag) are
// the core's sans-IO link state machine (`RawLink`, through wasm); this
// layer only carries its frames over fetch (`POST url/v1/sync`; record
// pushes to `POST url/v1/replicate`), wakes it
// with `setTimeout`, with the database's local commits (pushes) and with the
// server's change feed (`GET url/v1/changes` long polls, for pulls).
// scripts/build-wasm inlines this file ahead of api.mjs; its one export,
// `export function createLinkApi(`, becomes a plain function.

export function createLinkApi({ raw, withRaw, onCommit, randomBytes, post, TablesyncError }) {
  const TOKEN = Symbol('tablesync.Link');
  const LINK_KEYS = new Set([
    'trigger', 'direction', 'token', 'tables', 'name', 'peer', 'pollMs', 'timeoutMs',
    'maxBackoffMs', 'fetch', 'feed', 'start', 'epoch',
  ]);
  /** How long one change-feed poll is held by the server (ms). */
  const FEED_WAIT_MS = 25000;
  /** A realtime pulling link woken by the feed still polls this often (ms). */
  const FEED_POLL_MS = 2000;

  const sleep = (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });

  /**
   * A running replication link between a Database and a tablesync server.
   * Made by `db.replicate(url, opts)`; `status()` is the link object of
   * docs/SERVER.md "Links" (plus `url`, `in_flight`, `sessions_ok`,
   * `sessions_failed`).
   */
  class Link {
    #raw;
    #db;
    #url;
    #endpoint;
    /** Where record pushes (`TSRP` frames: the one-frame path) go. */
    #pushEndpoint;
    #token;
    #fetch;
    /** Sent as `X-Tablesync-Epoch` with every frame. */
    #epoch = 0;
    #timer = null;
    #abort = new AbortController();
    #unlisten = null;
    #commitQueued = false;
    #online = null;
    #fatal = null;
    // Number of the latest frame sent: a transport error of an older one
    // (a session abandoned since) must not fail the current one.
    #sent = 0;

    constructor(token, db, url, opts) {
      if (token !== TOKEN) throw new TypeError('use db.replicate(url, opts) to make a Link');
      const o = opts ?? {};
      for (const k of Object.keys(o)) {
        if (!LINK_KEYS.has(k)) {
          throw new TypeError(`replicate options: unknown option '${k}' (expected one of: ${[...LINK_KEYS].join(', ')})`);
        }
      }
      if (typeof o.token !== 'string' || o.token === '') {
        throw new TypeError('replicate: opts.token must be a non-empty string');
      }
      const fetchImpl = o.fetch ?? globalThis.fetch;
      if (typeof fetchImpl !== 'function') throw new TypeError('replicate: no fetch function (pass opts.fetch)');
      this.#db = db;
      this.#url = String(url).replace(/\/+$/, '');
      this.#endpoint = `${this.#url}/v1/sync`;
      this.#pushEndpoint = `${this.#url}/v1/replicate`;
      this.#token = o.token;
      this.#fetch = fetchImpl;
      if (o.epoch !== undefined && (!Number.isSafeInteger(o.epoch) || o.epoch < 0)) {
        throw new TypeError('replicate: opts.epoch must be a non-negative integer');
      }
      this.#epoch = o.epoch ?? 0;
      const trigger = o.trigger ?? 'realtime';
      const direction = o.direction ?? 'both';
      const pulls = direction === 'pull' || direction === 'both';
      const feed = o.feed ?? (pulls && trigger === 'realtime');
      const linkOpts = {
        name: o.name ?? 'js-link',
        peer: o.peer ?? 'server',
        trigger,
        direction,
        tables: o.tables,
        pollMs: o.pollMs ?? (feed ? FEED_POLL_MS : undefined),
        timeoutMs: o.timeoutMs,
        maxBackoffMs: o.maxBackoffMs,
      };
      for (const k of Object.keys(linkOpts)) if (linkOpts[k] === undefined) delete linkOpts[k];
      this.#raw = withRaw(db, 'replicate: db', () => new raw.RawLink(linkOpts, randomBytes(8)));
      this.#unlisten = onCommit(db, () => this.#committed());
      if (feed) this.#watch();
      const g = globalThis;
      if (typeof g.addEventListener === 'function') {
        this.#online = () => this.#wake();
        g.addEventListener('online', this.#online);
      }
      if (o.start !== false) {
        this.#raw.start(Date.now());
        this.#act((l, r, now) => l.tick(r, now));
      }
    }

    static create(db, url, opts) {
      return new Link(TOKEN, db, url, opts);
    }

    /** The server's base URL. */
    get url() {
      return this.#url;
    }

    /** `created`, `running`, `paused` or `stopped`. */
    get state() {
      return this.#raw.state;
    }

    /** Start a link made with `start: false`. */
    start() {
      this.#raw.start(Date.now());
      this.#act((l, r, now) => l.tick(r, now));
    }

    /** Stop moving data, keeping the cursors (an in-flight session is abandoned). */
    pause() {
      this.#raw.pause();
      this.#clearTimer();
    }

    /** Run again after `pause()`; catches up at once. */
    resume() {
      this.#raw.resume(Date.now());
      this.#act((l, r, now) => l.tick(r, now));
    }

    /** Run one session now (what makes a `manual` link move). */
    trigger() {
      this.#raw.requestSession();
      this.#act((l, r, now) => l.tick(r, now));
    }

    /** Stop for good: timers, the change feed and requests in flight end. Idempotent. */
    stop() {
      if (this.#raw.state === 'stopped') return;
      this.#raw.stop();
      this.#clearTimer();
      this.#abort.abort();
      this.#unlisten?.();
      this.#unlisten = null;
      if (this.#online) globalThis.removeEventListener?.('online', this.#online);
    }

    /** The link's status now (state `failing` while its last attempt failed). */
    status() {
      const s = withRaw(this.#db, 'Link.status: db', (r) => this.#raw.status(r, Date.now()));
      if (this.#fatal && s.state !== 'stopped') {
        s.state = 'failing';
        s.last_error = String(this.#fatal.message ?? this.#fatal);
      } else if (s.state === 'running' && s.last_error !== null) {
        s.state = 'failing';
      }
      const { inFlight, ...rest } = s;
      return { ...rest, url: this.#url, in_flight: inFlight };
    }

    /** The link's durable state (configuration, lifecycle state, cursors). */
    encodeState() {
      return this.#raw.encodeState();
    }

    // A local commit: coalesced into one call per turn of the event loop.
    #committed() {
      if (this.#commitQueued) return;
      this.#commitQueued = true;
      queueMicrotask(() => {
        this.#commitQueued = false;
        this.#act((l, r, now) => l.onCommit(r, now));
      });
    }

    // Something may have changed at the server (feed, back online).
    #wake() {
      if (this.#raw.state !== 'running') return;
      this.#raw.requestSession();
      this.#act((l, r, now) => l.tick(r, now));
    }

    #act(step) {
      if (this.#raw.state !== 'running') return;
      let actions;
      try {
        actions = withRaw(this.#db, 'Link: db', (r) => step(this.#raw, r, Date.now()));
      } catch (e) {
        // The database was freed or the module broke: the link cannot go on.
        this.#fatal = e;
        this.stop();
        return;
      }
      for (const a of actions) if (a.send) this.#send(a.send);
      this.#schedule();
    }

    #clearTimer() {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
    }

    #schedule() {
      this.#clearTimer();
      if (this.#raw.state !== 'running') return;
      const at = this.#raw.nextWake();
      if (at === null) return;
      // A wake already due runs after 1 ms (never a busy loop).
      const delay = Math.min(Math.max(1, at - Date.now()), 2 ** 31 - 1);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#act((l, r, now) => l.tick(r, now));
      }, delay);
    }

    async #send(frame) {
      const n = ++this.#sent;
      let reply;
      try {
        // Record pushes (magic `TSRP`, FORMAT.md §18) have their own route;
        // sync frames (`TSSY`) go to /v1/sync.
        const isPush = frame[0] === 0x54 && frame[1] === 0x53 && frame[2] === 0x52 && frame[3] === 0x50;
        const endpoint = isPush ? this.#pushEndpoint : this.#endpoint;
        reply = await post(this.#fetch, endpoint, this.#token, frame, this.#abort.signal, this.#epoch);
      } catch (e) {
        if (this.#raw.state !== 'running' || n !== this.#sent) return;
        const code = String(e?.code ?? 'NetworkError');
        const message = String(e?.message ?? e);
        // TablesyncError messages already start with their code.
        const detail = message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
        this.#raw.onTransportError(Date.now(), code, detail);
        this.#schedule();
        return;
      }
      this.#act((l, r, now) => l.onReply(r, reply, now));
    }

    // Follow the server's change feed; each batch of new records wakes the
    // link. It starts at the server's end of log (a cursor past the end
    // answers at once with `next` = that end), and starts there again after
    // any error (say a log gap after a long time offline): the link's own
    // session on waking catches up whatever the feed skipped.
    async #watch() {
      const base = `${this.#url}/v1/changes`;
      const signal = this.#abort.signal;
      let after = null;
      while (!signal.aborted) {
        try {
          const fresh = after === null;
          const query = fresh
            ? `after=${Number.MAX_SAFE_INTEGER}&wait=0&limit=1`
            : `after=${after}&wait=${FEED_WAIT_MS}`;
          const res = await this.#fetch(`${base}?${query}`, {
            headers: { Authorization: `Bearer ${this.#token}` },
            signal,
          });
          if (res.status !== 200) {
            throw new TablesyncError(`HttpError: GET ${base} answered HTTP ${res.status}`, 'HttpError');
          }
          const page = await res.json();
          after = page.next;
          if (fresh || page.records.length > 0) this.#wake();
        } catch {
          if (signal.aborted) break;
          after = null;
          await sleep(1000, signal);
        }
      }
    }
  }

  return { Link };
}
