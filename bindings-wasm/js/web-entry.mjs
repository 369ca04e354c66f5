// Browser (ES module) entry: `await init()` fetches and starts the
// WebAssembly module (next to this file unless given a URL, Response,
// bytes or WebAssembly.Module) before the first call.
import wbgInit, * as raw from './tablesync_wasm.js';
import { createApi } from '../api.mjs';

const api = createApi(raw, (input) =>
  wbgInit(input === undefined ? undefined : { module_or_path: input }),
);

export const {
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
  ManualClock,
  INF_MIN,
  INF_MAX,
  AUTO_INCREMENT,
} = api;
export default init;
