// Type declarations of the npm package `tablesync` (hand-written; the same
// file serves the CommonJS and ES-module entries).

/** Load and start the WebAssembly module. Required once in browsers before any call; a no-op in Node. */
declare function init(input?: InitInput | Promise<InitInput>): Promise<void>;
export { init };
export default init;

/** Where the browser build finds its `.wasm` (defaults to the file next to the module). */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Symbol of the smallest range bound (`Symbol.for("tablesync.INF_MIN")`). */
export const INF_MIN: unique symbol;
/** Symbol of the largest range bound (`Symbol.for("tablesync.INF_MAX")`). */
export const INF_MAX: unique symbol;
/** Asks `putRow` to assign the table's auto-increment key column. */
export const AUTO_INCREMENT: unique symbol;

/** A number stored as DOUBLE even when integral. Reads return integral DOUBLEs as `Double` so they keep their type when written back. */
export class Double {
  /** Use `double(x)`. */
  constructor(value: number);
  /** The number. */
  readonly value: number;
  valueOf(): number;
  toString(): string;
  toJSON(): number;
}

/** Mark a number as DOUBLE (`double(1)` is DOUBLE 1.0; a plain `1` is INTEGER). */
export function double(value: number): Double;

/**
 * An attribute value. In: `bigint` or integer `number` → INTEGER (an unsafe
 * integer number throws `IntegerOutOfRange`), other `number` → DOUBLE,
 * `Double` → DOUBLE, `boolean`, `string`, `Uint8Array` → BINARY.
 * Out: INTEGER as `number` (or `bigint` with `{ integers: "bigint" }`),
 * DOUBLE as `number` or (integral values and -0) `Double`.
 */
export type Value = number | bigint | boolean | string | Uint8Array | Double;

/** A primary-key value: INTEGER (`number`/`bigint`), STRING or BINARY. */
export type PkValue = number | bigint | string | Uint8Array;

/** A primary key: `{ column: value }` or `[column, value]` pairs. Returned keys are objects in schema order. */
export type PrimaryKeyInput =
  | Readonly<Record<string, PkValue | typeof AUTO_INCREMENT>>
  | ReadonlyArray<readonly [string, PkValue | typeof AUTO_INCREMENT]>;

/** A primary key as reads return it. */
export type PrimaryKey = Record<string, PkValue>;

/** One part of a range bound. */
export type BoundValue = PkValue | typeof INF_MIN | typeof INF_MAX;

/** A range bound: a value (or INF_MIN/INF_MAX) per key column, or INF_MIN/INF_MAX alone for every column. */
export type RangeBound =
  | typeof INF_MIN
  | typeof INF_MAX
  | Readonly<Record<string, BoundValue>>
  | ReadonlyArray<readonly [string, BoundValue]>;

/** Primary-key column type. */
export type PkType = 'INTEGER' | 'STRING' | 'BINARY';

/** A primary-key column: `[name, type]`, or `[name, "INTEGER", "AUTO_INCREMENT"]` (never the first column). */
export type PkColumnSpec =
  | readonly [name: string, type: PkType]
  | readonly [name: string, type: 'INTEGER', autoIncrement: 'AUTO_INCREMENT' | typeof AUTO_INCREMENT];

/** Options of `createTable`. */
export interface CreateTableOptions {
  /** 1–4 key columns in order. */
  primaryKey: ReadonlyArray<PkColumnSpec>;
  /** Versions each column keeps visible (default 1). */
  maxVersions?: number;
  /** Seconds a version stays visible; -1 (default) for ever, else ≥ 86400. */
  timeToLive?: number;
}

/** Options of `updateTable` (omitted ones keep their value). */
export interface UpdateTableOptions {
  maxVersions?: number;
  timeToLive?: number;
}

/** What `describeTable` returns. */
export interface TableDescription {
  name: string;
  primaryKey: Array<[string, PkType] | [string, 'INTEGER', 'AUTO_INCREMENT']>;
  maxVersions: number;
  timeToLive: number;
  /** Rows that exist. */
  rowCount: number;
}

/** A column to write with an explicit version timestamp (ms), or without (the clock's time). */
export type ColumnEntry =
  | readonly [name: string, value: Value]
  | readonly [name: string, value: Value, timestamp: number | bigint]
  | { readonly name: string; readonly value: Value; readonly timestamp?: number | bigint | null };

/** Columns to write: `{ name: value }` or a list of entries (a row's `cells` can be written back as they are). */
export type ColumnsInput = Readonly<Record<string, Value>> | ReadonlyArray<ColumnEntry>;

/** One returned cell version. */
export interface Cell {
  name: string;
  value: Value;
  /** Version timestamp (ms since the epoch). */
  timestamp: number;
}

/** A row as reads return it. */
export interface Row {
  /** The key, in schema order. */
  primaryKey: PrimaryKey;
  /** Latest returned value of each column. */
  columns: Record<string, Value>;
  /** Every returned version, by column name then newest first. */
  cells: Cell[];
}

/** Comparison operators of conditions and filters. */
export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

/** A single-column comparison (the shape API.md gives; camelCase flag names are accepted too). */
export interface SingleColumnCondition {
  column: string;
  op: CompareOp;
  value: Value;
  /** Result when the column is absent (default true). */
  pass_if_missing?: boolean;
  /** Compare only the latest version (default true). */
  latest_version_only?: boolean;
  passIfMissing?: boolean;
  latestVersionOnly?: boolean;
}

/** A column condition or filter. */
export type ColumnCondition =
  | SingleColumnCondition
  | { and: ReadonlyArray<ColumnCondition> }
  | { or: ReadonlyArray<ColumnCondition> }
  | { not: ColumnCondition };

/** Row-existence expectation of a write. */
export type RowExistence = 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST';

/** A write condition: a row expectation, a column condition, or both. */
export type Condition =
  | RowExistence
  | ColumnCondition
  | { row?: RowExistence; column?: ColumnCondition };

/** `[start, end)` in ms. */
export type TimeRange = readonly [start: number, end: number] | { readonly start: number; readonly end: number };

/** Options of `getRow` and `batchGet` requests. */
export interface GetOptions {
  /** Attribute columns to return (default all). */
  columns?: ReadonlyArray<string>;
  /** Versions per column (default 1). */
  maxVersions?: number;
  /** Only versions in `[start, end)`. */
  timeRange?: TimeRange;
  /** Return the row only if this holds. */
  filter?: ColumnCondition;
}

/** Options of `getRange`. */
export interface RangeOptions extends GetOptions {
  /** `FORWARD` (default; start < end) or `BACKWARD` (start > end). */
  direction?: 'FORWARD' | 'BACKWARD';
  /** Most rows in the page (≤ 5000). */
  limit?: number;
}

/** Options of `scan`: `limit` caps the total rows yielded. */
export type ScanOptions = RangeOptions;

/** One page of a range. */
export interface RangePage {
  rows: Row[];
  /** Where the next page starts; `null` when the range is done. */
  nextStart: PrimaryKey | null;
}

/** Options of `putRow` and `deleteRow`. */
export interface WriteOptions {
  condition?: Condition;
}

/** Options of `updateRow`. */
export interface UpdateOptions extends WriteOptions {
  /** Columns to put (a new version each). */
  put?: ColumnsInput;
  /** Single versions to delete: `[column, timestamp]`. */
  delete?: ReadonlyArray<readonly [string, number] | { readonly name: string; readonly timestamp: number }>;
  /** Columns whose every version is deleted. */
  deleteAll?: ReadonlyArray<string>;
  /** INTEGER columns to increment: `{ column: by }` or `[column, by]` pairs. */
  increment?: Readonly<Record<string, number | bigint>> | ReadonlyArray<readonly [string, number | bigint]>;
}

/** One operation of `batchWrite` (`type` is case-insensitive). */
export type WriteOp =
  | ({ type: 'put' | 'PUT'; table: string; primaryKey: PrimaryKeyInput; columns?: ColumnsInput } & WriteOptions)
  | ({ type: 'update' | 'UPDATE'; table: string; primaryKey: PrimaryKeyInput } & UpdateOptions)
  | ({ type: 'delete' | 'DELETE'; table: string; primaryKey: PrimaryKeyInput } & WriteOptions);

/** One request of `batchGet`. */
export interface GetRequest extends GetOptions {
  table: string;
  primaryKey: PrimaryKeyInput;
}

/** Result of one operation of a batch. */
export type BatchResult<K extends string, T> =
  | ({ ok: true } & { [P in K]: T })
  | { ok: false; error: TablesyncError };

/** Progress of `copyTable`. */
export interface CopyProgress {
  copied: number;
  total: number;
}

/** Options of `copyTable`. */
export interface CopyTableOptions {
  /** Database to copy into (default: this one). */
  target?: Database;
  /**
   * Called before the first row and after each committed chunk (≤ 1000 rows).
   * It must not use the databases. Returning `false` cancels the copy, which
   * throws `TablesyncError` code `Cancelled`; throwing cancels it and rethrows.
   * A cancelled copy keeps the chunks committed so far (nothing, not even the
   * table, when cancelled at the first call).
   */
  onProgress?: (progress: CopyProgress) => boolean | void;
}

/** How a sync session moves data. */
export type SyncMode = 'incremental' | 'full' | 'hybrid' | 'reconcile' | 'auto' | 'verify';

/** Which way data moves, seen from the initiating region. */
export type SyncDirection = 'pull' | 'push' | 'both';

/** Options of a sync session (`syncWith`, `SyncSession`, `syncOverHttp`). */
export interface SyncOptions {
  /**
   * `incremental`: change records the other side lacks; `full`: every row;
   * `hybrid`: rows as of the start, then records written meanwhile;
   * `reconcile`: only the rows whose digests differ; `auto` (default):
   * incremental while the log covers the receiver, else reconcile;
   * `verify`: report the differing keys, move nothing.
   */
  mode?: SyncMode;
  /** Default `both`. */
  direction?: SyncDirection;
  /** Tables to sync (default: every table of both sides). */
  tables?: ReadonlyArray<string>;
  /** Cap of one frame's uncompressed payload, both ways (≥ 4096; default 16 MiB). */
  maxFrameBytes?: number;
  /** Coded symbols asked for first when a table differs (reconcile; default 512). */
  initialSymbols?: number;
}

/** Options of `verify` and `repair`. */
export interface TablesOptions {
  /** Tables to compare (default: every table of both sides). */
  tables?: ReadonlyArray<string>;
}

/** A table's digests on both sides at the end of a session. */
export interface TableOutcome {
  table: string;
  /** Local digest (hex), `null` if the table is missing locally. */
  local: string | null;
  /** Remote digest (hex), `null` if missing remotely. */
  remote: string | null;
  /** Keys whose rows differ (filled by `verify` / mode `verify`). */
  differingKeys: PrimaryKey[];
}

/** What a sync session did. */
export interface SyncReport {
  /** Mode requested. */
  mode: SyncMode;
  /** Whether `auto` fell back to reconcile (the log no longer covered the receiver). */
  fellBackToReconcile: boolean;
  /** Bytes the initiator sent. */
  bytesSent: number;
  /** Bytes the initiator received. */
  bytesReceived: number;
  /** Request/reply exchanges. */
  roundTrips: number;
  /** Change records applied to the initiator. */
  recordsPulled: number;
  /** Change records sent to the responder. */
  recordsPushed: number;
  /** Rows merged into the initiator. */
  rowsPulled: number;
  /** Rows sent to the responder. */
  rowsPushed: number;
  /** Milliseconds by the initiator's clock. */
  durationMs: number;
  /** Every selected table exists on both sides with equal digests. */
  verified: boolean;
  /** Per table outcome. */
  tables: TableOutcome[];
}

/**
 * Options of `syncOverHttp`: a session's options plus the transport's.
 * `maxFrameBytes` caps the frames this side sends and accepts; the server
 * caps its replies by its own limit (`--max-body`), so keep the two equal
 * (a smaller value here rejects larger replies with `CorruptData`).
 */
/** A JSON change record of the server's feed (docs/SERVER.md). */
export interface FeedRecord {
  cursor: number;
  origin: string;
  seq: number;
  stamp: number;
  table: string;
  kind: 'PUT' | 'UPDATE' | 'DELETE';
  primary_key: Record<string, unknown>;
  columns: Array<Record<string, unknown>>;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Bearer token of the server (required). */
  token: string;
  /** Cursor to start from (default 0: the oldest record kept). */
  after?: number;
  /** Milliseconds the server holds an empty poll (default 25000). */
  wait?: number;
  /** The fetch to use (default: the global `fetch`). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Stops the subscription. */
  signal?: AbortSignal;
  /** Called with each failed poll (then retried after 1 s); without it the first error ends `done`. */
  onError?: (e: unknown) => void | Promise<void>;
}

/** Follow a server's change feed; `onRecords` gets each batch as it commits. */
export function subscribe(
  url: string | URL,
  onRecords: (records: FeedRecord[], next: number) => void | Promise<void>,
  opts: SubscribeOptions,
): { close(): void; done: Promise<void> };

/** A link's trigger: `realtime`, `delayed:300ms`, `periodic:10s`, `manual`. */
export type LinkTrigger = 'realtime' | 'manual' | `delayed:${string}` | `periodic:${string}`;

/** Options of `db.replicate(url, opts)`. */
export interface ReplicateOptions {
  /** Bearer token of the server (required). */
  token: string;
  /** When sessions run (default `realtime`). */
  trigger?: LinkTrigger;
  /** Push (local → server), pull, or both (default). A delayed link only pushes. */
  direction?: SyncDirection;
  /** Tables to replicate (default: all). */
  tables?: string[];
  /** Link name, `[A-Za-z0-9._-]{1,128}` (default `js-link`). */
  name?: string;
  /** The server's region name (default `server`). */
  peer?: string;
  /** How often a realtime pulling link polls the server (ms; 2000 with the feed, else 200). */
  pollMs?: number;
  /** A frame with no reply for this long is abandoned and retried (ms, default 5000). */
  timeoutMs?: number;
  /** Largest retry back-off after failures (ms, default 5000). */
  maxBackoffMs?: number;
  /** The fetch to use (default: the global `fetch`). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Follow the server's change feed to pull at once (default: realtime links that pull). */
  feed?: boolean;
  /** Start at once (default true); else call `start()`. */
  start?: boolean;
  /**
   * Epoch of the region group this region belongs to, sent as
   * `X-Tablesync-Epoch` with every frame (default 0: none). A server whose
   * region is in a group refuses (`StaleEpoch`) frames from an older epoch.
   */
  epoch?: number;
}

/** A link's status: the link object of docs/SERVER.md "Links", plus a few counters. */
export interface LinkStatus {
  name: string;
  peer: string;
  url: string;
  direction: SyncDirection;
  trigger: string;
  /** `failing` while the last attempt failed (see `last_error`). */
  state: 'created' | 'running' | 'paused' | 'stopped' | 'failing';
  /** Age (ms) of the oldest local record the server does not hold yet (pull-only: time since the last session began). */
  lag_ms: number;
  /** Local records the server is not yet known to hold. */
  pending: number;
  records_shipped: number;
  bytes_shipped: number;
  /** `Date.now()` of the last successful session, or null. */
  last_success_ms: number | null;
  last_error: string | null;
  /** Recovery-point estimate (ms); null for a manual link with pending records. */
  rpo_ms: number | null;
  in_flight: boolean;
  sessions_ok: number;
  sessions_failed: number;
}

/** A replication link between a Database and a tablesync server (`db.replicate`). */
export class Link {
  private constructor();
  /** The server's base URL. */
  readonly url: string;
  /** `created`, `running`, `paused` or `stopped`. */
  readonly state: 'created' | 'running' | 'paused' | 'stopped';
  /** Start a link made with `start: false`. */
  start(): void;
  /** Stop moving data, keeping the cursors. */
  pause(): void;
  /** Run again after `pause()`; catches up at once. */
  resume(): void;
  /** Run one session now (what makes a `manual` link move). */
  trigger(): void;
  /** Stop for good (timers, feed and requests end). */
  stop(): void;
  /** Status now. */
  status(): LinkStatus;
  /** The link's durable state (configuration, cursors). */
  encodeState(): Uint8Array;
}

/**
 * A cluster write mode: `async`, `semi-sync:MS`, `sync:LEVEL`, or a bare
 * consistency level (`ONE`, `QUORUM`, `LOCAL_QUORUM`, `EACH_QUORUM`, `ALL`,
 * or a number of datacenters such as `"2"`), any case.
 */
export type ClusterWriteMode = string;

/** A cluster read level. */
export type ClusterReadLevel = 'ONE' | 'QUORUM' | 'LEADER' | 'one' | 'quorum' | 'leader';

/** Options of `Cluster.connect`. */
export interface ClusterOptions {
  /** Bearer token of the regions (required). */
  token: string;
  /** The client's datacenter: reads prefer it, `LOCAL_QUORUM` counts in it (default: the map's first). */
  localDc?: string;
  /** Attempts per operation across map refreshes and row-lock waits (default 5). */
  attempts?: number;
  /** Milliseconds before a synchronous write fails (default 10000). */
  writeTimeoutMs?: number;
  /** Milliseconds one call to a region may take (default writeTimeoutMs + 5000). */
  requestTimeoutMs?: number;
  /** Seed of the read balancer's random choices. */
  seed?: number;
  /** How INTEGER values come back (default `number`). */
  integers?: 'number' | 'bigint';
  /** The fetch function (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/** Options of a cluster `putRow` / `deleteRow`. */
export interface ClusterWriteOptions {
  /** A row-existence condition (column conditions are refused). */
  condition?: RowExistence | { row: RowExistence };
  /** Override the table's write mode for this write. */
  mode?: ClusterWriteMode;
}

/** Options of a cluster `updateRow` (no increments). */
export interface ClusterUpdateOptions extends ClusterWriteOptions {
  put?: ColumnsInput;
  delete?: ReadonlyArray<readonly [string, number] | { readonly name: string; readonly timestamp: number }>;
  deleteAll?: ReadonlyArray<string>;
}

/** One write of a cluster `batchWrite`. */
export type ClusterWriteOp =
  | { type: 'put' | 'PUT'; table: string; primaryKey: PrimaryKeyInput; columns?: ColumnsInput; condition?: RowExistence | { row: RowExistence } }
  | ({ type: 'update' | 'UPDATE'; table: string; primaryKey: PrimaryKeyInput } & Omit<ClusterUpdateOptions, 'mode'>)
  | { type: 'delete' | 'DELETE'; table: string; primaryKey: PrimaryKeyInput; condition?: RowExistence | { row: RowExistence } };

/** An acknowledged cluster write. */
export interface ClusterWrite {
  /** The region that committed it first (the partition's home). */
  home: string;
  /** Semi-sync fell back to the home alone for this write. */
  degraded: boolean;
}

/** The outcome of a cluster `batchWrite`. */
export interface ClusterBatch {
  /** Committed on every participant (else aborted on every one). */
  committed: boolean;
  /** Why it aborted (`""` when committed). */
  reason: string;
  /** The transaction id (retries reuse it). */
  txn: bigint;
  /** Participant regions: 1 = one round, more = two-phase commit. */
  participants: number;
}

/** A cluster range bound: unbounded, leading key values, a key object, or a page's `nextStart`. */
export type ClusterRangeBound = null | undefined | ReadonlyArray<PkValue> | Readonly<Record<string, PkValue>> | Uint8Array;

/** A page of a cluster range. */
export interface ClusterRangePage {
  rows: Row[];
  /** The encoded key the next page starts at; `null` at the end. */
  nextStart: Uint8Array | null;
}

/**
 * A client of a tablesync cluster (`tablesync serve --cluster` regions):
 * rows routed by the cluster map, writes acknowledged per their mode,
 * reads balanced by latency with a locality preference, ranges merged
 * across partitions, multi-partition batches by two-phase commit.
 */
export class Cluster {
  private constructor();
  /** Connect through a region's URL (its map is fetched) or with a map's bytes. */
  static connect(mapOrUrl: string | URL | Uint8Array, opts: ClusterOptions): Promise<Cluster>;
  /** The epoch of the map the client routes by. */
  readonly mapEpoch: number;
  /** The client's datacenter. */
  readonly localDc: string;
  /** The map's bytes (a `TSCM` frame). */
  mapBytes(): Uint8Array;
  /** Ask every reachable region for its map, adopt the newest; the epoch held afterwards. */
  refreshMap(): Promise<number>;
  /** Push this client's map to every region; the regions that did not take it. */
  pushMap(): Promise<string[]>;
  /** Whether semi-sync writes to `table` are degraded to async. */
  isDegraded(table: string): boolean;
  /** Reads sent per datacenter by this client. */
  requestsPerDatacenter(): Record<string, number>;
  putRow(table: string, primaryKey: PrimaryKeyInput, columns?: ColumnsInput, opts?: ClusterWriteOptions): Promise<ClusterWrite>;
  updateRow(table: string, primaryKey: PrimaryKeyInput, opts?: ClusterUpdateOptions): Promise<ClusterWrite>;
  deleteRow(table: string, primaryKey: PrimaryKeyInput, opts?: ClusterWriteOptions): Promise<ClusterWrite>;
  getRow(table: string, primaryKey: PrimaryKeyInput, opts?: { level?: ClusterReadLevel }): Promise<Row | null>;
  getRange(table: string, start: ClusterRangeBound, end: ClusterRangeBound, opts?: { limit?: number }): Promise<ClusterRangePage>;
  batchWrite(ops: ReadonlyArray<ClusterWriteOp>): Promise<ClusterBatch>;
  /** Release the wasm state. */
  free(): void;
}

/** The cluster wire format (FORMAT.md §20), for tests and tools. */
export const clusterWire: {
  /** Kinds of the messages in a `TSCX` frame (`CorruptData` if damaged). */
  messageKinds(frame: Uint8Array): string[];
  /** Decode a `TSCX` frame and encode its messages again. */
  reencodeMessages(frame: Uint8Array): Uint8Array;
  /** Kind of a `TSCR` 2PC record frame. */
  txnRecordKind(frame: Uint8Array): string;
  /** Decode a `TSCR` record frame and encode it again. */
  reencodeTxnRecord(frame: Uint8Array): Uint8Array;
};

/** Options of `db.backup()`. */
export interface BackupOptions {
  /** Encrypt the repository (XChaCha20-Poly1305, key from Argon2id); needed again with `parent`. */
  passphrase?: string;
  /** An earlier bundle: the new backup is an incremental on top of it. */
  parent?: Uint8Array;
  /** Tables to back up (default: all). */
  tables?: string[];
  /** Always a full backup. */
  full?: boolean;
  /** `insecure-test`: cheap Argon2id costs (tests only, never for real data). */
  kdf?: 'insecure-test';
  /** Called while the backup is taken (`phase: 'backup'`) and after each sink write (`phase: 'write'`). */
  onProgress?: (p: BackupProgress) => void;
}

/** Progress of `db.backup()`. */
export interface BackupProgress {
  /** `backup`: items (rows, records) done of `total`, `bytes` uncompressed; `write`: sink writes done of `total`, `bytes` written. */
  phase: 'backup' | 'write';
  done: number;
  total: number;
  bytes: number;
}

/** An async byte sink: a `WritableStream`, or anything whose `write(chunk)` returns a Promise (a stream's writer). */
export type BackupSink =
  | WritableStream<Uint8Array>
  | { write(chunk: Uint8Array): Promise<void>; close?(): Promise<void> };

/** One backup of a bundle. */
export interface BackupInfo {
  id: string;
  kind: 'full' | 'incremental';
  parent: string | null;
  createdMs: number;
  region: string;
  /** Backup point (HLC stamp). */
  point: bigint;
  /** Earliest restorable stamp of its chain. */
  coversFrom: bigint;
  tables: string[];
  rows: number;
  records: number;
  bytes: number;
  newBytes: number;
}

/** Options of `Database.restore()`. */
export interface RestoreOptions {
  /** Everything committed at or before this time (a Date or ms since the epoch). */
  at?: Date | number;
  /** Everything stamped at or before this HLC stamp. */
  atStamp?: bigint | number;
  /** A backup id (or a unique prefix of ≥ 4 hex digits). */
  backup?: string;
  /** One table to restore. */
  table?: string;
  /** Tables to restore. */
  tables?: string[];
  /** Restore `table` under this name. */
  as?: string;
  /** The passphrase of an encrypted bundle. */
  passphrase?: string;
  /** Region name of the restored database (default: the backup's). */
  region?: string;
  /** How INTEGER values are returned. */
  integers?: 'number' | 'bigint';
}

export interface HttpSyncOptions extends SyncOptions {
  /** The fetch to use (default: the global `fetch`). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Aborts the session between frames (the error is the signal's). */
  signal?: AbortSignal;
  /** Epoch sent as `X-Tablesync-Epoch` (default 0), as `ReplicateOptions.epoch`. */
  epoch?: number;
}

/**
 * The initiating side of a sync session driven by hand over any transport:
 * send `start(db)`'s frame to the other region, give its reply (from
 * `respond()` over there) to `receive(db, reply)`, and repeat until
 * `receive` returns the report instead of a frame.
 */
export class SyncSession {
  /** A session with these options; its id comes from `crypto.getRandomValues`. */
  constructor(opts?: SyncOptions);
  /** A new session and its first request frame. */
  static start(db: Database, opts?: SyncOptions): { session: SyncSession; request: Uint8Array };
  /** The session id (16 hex digits) every reply must echo. */
  readonly sessionId: string;
  /** Whether the session is over. */
  readonly done: boolean;
  /** The report once the session is over, else `null`. */
  readonly report: SyncReport | null;
  /** The first request frame (once per session). */
  start(db: Database): Uint8Array;
  /**
   * Handle the reply to the last request: the next request frame, or the
   * report when the session is over (the session then frees itself). A
   * corrupt reply, or one of another session, throws `CorruptData` and
   * changes nothing.
   */
  receive(db: Database, reply: Uint8Array): Uint8Array | SyncReport;
  /** Release the session's memory (automatic once it is over). */
  free(): void;
}

/**
 * Answer one request frame for `db` (the responding region) with the reply
 * frame. Stateless: host a region over any transport (HTTP, WebSocket,
 * BroadcastChannel between tabs…).
 */
export function respond(db: Database, request: Uint8Array, maxFrameBytes?: number): Uint8Array;

/**
 * Sync `db` with the region a tablesync HTTP server hosts at `url`
 * (`tablesync serve DIR --token TOKEN`): every frame is a
 * `POST ${url}/v1/sync` with `Authorization: Bearer ${token}`. An HTTP error
 * throws a `TablesyncError` whose `code` is the server's (`Unauthorized` for
 * a wrong token) and whose `status` is the HTTP status; a failed request
 * throws code `NetworkError`.
 */
export function syncOverHttp(db: Database, url: string | URL, token: string, opts?: HttpSyncOptions): Promise<SyncReport>;

/** A column operation of a change record. */
export type ColumnOpRecord =
  | { name: string; op: 'PUT'; value: Value; timestamp: number }
  | { name: string; op: 'DELETE_ONE_VERSION'; timestamp: number }
  | { name: string; op: 'DELETE_ALL_VERSIONS' };

/** A committed mutation from the change log. */
export interface ChangeRecord {
  /** Position in this region's log (local; ignored by `applyChanges`). */
  cursor: number;
  /** Region that made the mutation. */
  origin: string;
  /** The origin's sequence number for it. */
  seq: number;
  /** 64-bit hybrid-logical-clock stamp. */
  stamp: bigint;
  table: string;
  kind: 'PUT' | 'UPDATE' | 'DELETE';
  primaryKey: PrimaryKey;
  columns: ColumnOpRecord[];
}

/** A change record as `applyChanges` accepts it (`stamp` and `seq` as number or bigint). */
export interface ChangeRecordInput {
  cursor?: number;
  origin: string;
  seq: number | bigint;
  stamp: number | bigint;
  table: string;
  kind: 'PUT' | 'UPDATE' | 'DELETE';
  primaryKey: PrimaryKeyInput;
  columns?: ReadonlyArray<
    | { name: string; op: 'PUT'; value: Value; timestamp: number | bigint }
    | { name: string; op: 'DELETE_ONE_VERSION'; timestamp: number | bigint }
    | { name: string; op: 'DELETE_ALL_VERSIONS' }
  >;
}

/** One page of the change log. */
export interface ChangePage {
  records: ChangeRecord[];
  /** Cursor to pass next time. */
  nextCursor: number;
}

/** What `applyChanges` did. */
export interface ApplyStats {
  applied: number;
  skipped: number;
}

/** Options of `Database.memory` and `Database.importSnapshot`. */
export interface OpenOptions {
  /** How reads return INTEGER values (default `"number"`). */
  integers?: 'number' | 'bigint';
  /** A hand-set clock (default: `Date.now()`). */
  clock?: ManualClock;
  /**
   * The largest lead in ms a remote stamp may have over this region's clock
   * (default 60000); records further ahead are refused with `ClockDrift` and
   * counted in `health()`. `Database.memory` only.
   */
  maxClockDrift?: number;
}

/** What went wrong without failing a call (`Database.health()`). */
export interface Health {
  /** Remote stamps refused for lying too far in the future. */
  clockDriftRefusals: number;
  /** Requests or replies refused as malformed or against the protocol. */
  peerViolations: number;
  /** Background checkpoints or retention steps that failed after a commit. */
  backgroundFailures: number;
  /** The last background failure's message, or `null`. */
  lastBackgroundError: string | null;
}

/** A clock set by hand, shared by the databases given it. */
export class ManualClock {
  /** A clock showing `ms` (ms since the epoch). */
  constructor(ms: number | bigint);
  /** The time shown (ms). */
  readonly now: number;
  /** Set the time. */
  set(ms: number | bigint): void;
  /** Move the time forward. */
  advance(ms: number | bigint): void;
  /** Release the clock (databases using it keep their copy). */
  free(): void;
}

/** One region: tables, change log and digests, in memory. */
export class Database {
  private constructor();
  /** An in-memory region. */
  static memory(region: string, opts?: OpenOptions): Database;
  /** A region restored from `exportSnapshot()` bytes. */
  static importSnapshot(bytes: Uint8Array, opts?: OpenOptions): Database;

  /** This region's name. */
  readonly region: string;
  /** How INTEGER values are returned. */
  readonly integers: 'number' | 'bigint';
  /** The largest lead (ms) a remote stamp may have over this region's clock. */
  readonly maxClockDrift: number;
  /** Refusals of peer input and background failures so far. */
  health(): Health;
  /** Whether `free()` was called. */
  readonly freed: boolean;

  createTable(name: string, opts: CreateTableOptions): void;
  listTables(): string[];
  describeTable(name: string): TableDescription;
  updateTable(name: string, opts: UpdateTableOptions): void;
  deleteTable(name: string): void;

  /** Replace a row; returns its key (auto-increment value filled in). */
  putRow(table: string, primaryKey: PrimaryKeyInput, columns: ColumnsInput, opts?: WriteOptions): PrimaryKey;
  /** Read a row; `null` if absent or filtered out. */
  getRow(table: string, primaryKey: PrimaryKeyInput, opts?: GetOptions): Row | null;
  /** Change columns of a row (creating it if absent); returns its key. */
  updateRow(table: string, primaryKey: PrimaryKeyInput, opts: UpdateOptions): PrimaryKey;
  deleteRow(table: string, primaryKey: PrimaryKeyInput, opts?: WriteOptions): void;

  /** One page of a key range. */
  getRange(table: string, start: RangeBound, end: RangeBound, opts?: RangeOptions): RangePage;
  /**
   * Every row of a range (default: the whole table), page by page. The
   * iterator holds a cursor, not the database: between pages the database
   * may be written, and rows written after the position are seen.
   */
  scan(table: string, start?: RangeBound | null, end?: RangeBound | null, opts?: ScanOptions): IterableIterator<Row>;

  /** Up to 200 writes; each succeeds or fails on its own. */
  batchWrite(ops: ReadonlyArray<WriteOp>): Array<BatchResult<'primaryKey', PrimaryKey>>;
  /** Up to 100 reads. */
  batchGet(requests: ReadonlyArray<GetRequest>): Array<BatchResult<'row', Row | null>>;

  /**
   * Run a whole sync session with another region of this process (this one
   * initiating) and return its report.
   */
  syncWith(other: Database, opts?: SyncOptions): SyncReport;
  /** Find the keys whose rows differ from `other`'s (in `tables[i].differingKeys`); moves nothing. */
  verify(other: Database, opts?: TablesOptions): SyncReport;
  /** Move only the differing rows, both ways, until the digests match. */
  repair(other: Database, opts?: TablesOptions): SyncReport;

  /** Copy a table into a new table, here or in `opts.target`; returns rows copied. */
  copyTable(source: string, targetTable: string, opts?: CopyTableOptions): number;

  /** The table's SHA-256 digest (64 lowercase hex characters), the same in Rust, Python and JS. */
  tableDigest(table: string): string;
  /** Recompute the digest from every row; throws `CorruptData` if it differs. */
  verifyTableDigest(table: string): string;
  /** Row count and digest of `[start, end)`. */
  rangeDigest(table: string, start: RangeBound, end: RangeBound): { rows: number; digest: string };

  /** Records with cursor ≥ `cursor` (default 0), at most `limit` (default 1000). */
  changesSince(cursor?: number, limit?: number): ChangePage;
  /** `{ region: highest contiguous sequence }`. */
  versionVector(): Record<string, number>;
  /** Merge records from any region, in any order, any number of times. */
  applyChanges(records: ReadonlyArray<ChangeRecordInput>): ApplyStats;
  /** Cursor the next record will get. */
  nextCursor(): number;

  /** The whole region as bytes (`Database.importSnapshot` restores it byte-exactly). */
  exportSnapshot(): Uint8Array;

  /** Replicate with the region a tablesync server hosts at `url` (a running `Link`). */
  replicate(url: string | URL, opts: ReplicateOptions): Link;
  /** Back up into a one-file repository bundle (an incremental with `parent`). */
  backup(opts?: BackupOptions): Uint8Array;
  /** Back up into a sink: `write` gets each repository object new since `parent`. */
  backup(
    opts: BackupOptions & { write: (name: string, bytes: Uint8Array) => void | Promise<void> },
  ): Promise<BackupInfo & { bundle: Uint8Array }>;
  /** Back up into an async byte sink: the new bundle, in `sinkChunkBytes` pieces (default 64 KiB), each write awaited; then `close()` if present. */
  backup(
    opts: BackupOptions & { sink: BackupSink; sinkChunkBytes?: number },
  ): Promise<BackupInfo & { bundleBytes: number }>;
  /** A region rebuilt in memory from a bundle (digests checked). */
  static restore(bytes: Uint8Array, opts?: RestoreOptions): Database;
  /** The backups a bundle holds, oldest first. */
  static listBackups(bytes: Uint8Array, opts?: { passphrase?: string }): BackupInfo[];

  /** Release the region's memory; later calls throw `DatabaseClosed`. */
  free(): void;
}

/** Stable codes of `TablesyncError`. */
export type ErrorCode =
  | 'OTSParameterInvalid'
  | 'OTSConditionCheckFail'
  | 'OTSObjectNotExist'
  | 'OTSObjectAlreadyExist'
  | 'OTSInvalidPK'
  | 'OTSOutOfColumnCountLimit'
  | 'OTSOutOfRowSizeLimit'
  | 'CorruptData'
  | 'UnsupportedVersion'
  | 'LogGap'
  | 'StorageIo'
  | 'StorageLocked'
  | 'StorageStopped'
  | 'ClockDrift'
  | 'PeerProtocolViolation'
  | 'StaleEpoch'
  | 'DatabaseClosed'
  | 'SyncError'
  | 'StaleClusterMap'
  | 'Cancelled'
  | 'BackupCorrupt'
  | 'BackupKeyInvalid'
  | 'Unauthorized'
  | 'HttpError'
  | 'NetworkError'
  | 'NoRandomness'
  | 'IntegerOutOfRange'
  | 'DatabaseBusy'
  | 'NotInitialized'
  | 'InternalPanic'
  | 'Poisoned';

/** Families of core errors (`TablesyncError.kind`). */
export type ErrorKind =
  | 'InvalidArgument'
  | 'ConditionCheckFailed'
  | 'NotFound'
  | 'AlreadyExists'
  | 'CorruptData'
  | 'StorageError'
  | 'StorageStopped'
  | 'DatabaseClosed'
  | 'SyncError'
  | 'LogGap'
  | 'ClockDrift'
  | 'PeerProtocolViolation'
  | 'Unauthorized'
  | 'StaleEpoch'
  | 'StaleClusterMap'
  | 'Cancelled';

/** Every failed tablesync operation throws this (wrong JS types throw `TypeError`). */
export class TablesyncError extends Error {
  constructor(message: string, code: ErrorCode | string, options?: { cause?: unknown });
  /** Stable code, e.g. `OTSConditionCheckFail`. */
  readonly code: ErrorCode | string;
  /** The error's family when it comes from the core, e.g. `PeerProtocolViolation`, `StorageStopped`. */
  readonly kind?: ErrorKind;
  /** The HTTP status, on errors of `syncOverHttp` answered by the server. */
  status?: number;
}

/** An INTEGER that JS cannot hold exactly; also `instanceof TablesyncError`. */
export class IntegerOutOfRangeError extends RangeError {
  constructor(message: string);
  readonly code: 'IntegerOutOfRange';
}
