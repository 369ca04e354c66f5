// Node ES-module entry: the same instance as the CommonJS entry (one copy
// of the WebAssembly module whether the package is required or imported).
import api from './index.cjs';

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
