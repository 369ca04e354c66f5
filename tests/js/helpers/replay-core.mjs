// Turns the JSON shapes of tests/vectors/ (see tests/vectors/README.md) into
// calls of the JS API. No Node-only imports: the browser test loads it too.
// `api` is the imported `tablesync` module.

export function makeReplayer(api) {
  const { AUTO_INCREMENT, INF_MAX, INF_MIN, double } = api;

  /** Lowercase hex → bytes. */
  function fromHex(hex) {
    if (hex.length % 2) throw new Error(`odd hex length: ${hex}`);
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  /** Bytes → lowercase hex. */
  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function doubleFromBits(bitsHex) {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${bitsHex}`));
    return view.getFloat64(0);
  }

  /** A vector attribute value → a JS input value (INTEGER as bigint, DOUBLE forced). */
  function value(v) {
    switch (v.type) {
      case 'INTEGER':
        return BigInt(v.value);
      case 'DOUBLE':
        return double(doubleFromBits(v.bits));
      case 'BOOLEAN':
        return v.value;
      case 'STRING':
        return v.value;
      case 'BINARY':
        return fromHex(v.value);
      default:
        throw new Error(`unknown value type ${v.type}`);
    }
  }

  /** A vector key value (or bound part) → JS. */
  function keyValue(v) {
    switch (v.type) {
      case 'AUTO_INCREMENT':
        return AUTO_INCREMENT;
      case 'INF_MIN':
        return INF_MIN;
      case 'INF_MAX':
        return INF_MAX;
      default:
        return value(v);
    }
  }

  /** A vector primary key → a list of [name, value] pairs (the API also takes objects). */
  function primaryKey(pk) {
    return pk.map(([name, v]) => [name, keyValue(v)]);
  }

  const ts = (t) => (t === null || t === undefined ? null : BigInt(t));

  /** Columns to write → `[name, value, timestamp]` entries. */
  function columns(cols) {
    return cols.map(([name, v, t]) => [name, value(v), ts(t)]);
  }

  /** A column condition with its values converted. */
  function columnCondition(c) {
    if (c.and) return { and: c.and.map(columnCondition) };
    if (c.or) return { or: c.or.map(columnCondition) };
    if (c.not) return { not: columnCondition(c.not) };
    return { ...c, value: value(c.value) };
  }

  /** A write condition. */
  function condition(c) {
    if (c === undefined || c === null || typeof c === 'string') return c ?? undefined;
    const out = {};
    if (c.row !== undefined) out.row = c.row;
    if (c.column !== undefined) out.column = columnCondition(c.column);
    return out;
  }

  /** A change record → the JS record shape. */
  function record(r) {
    return {
      origin: r.origin,
      seq: BigInt(r.seq),
      stamp: BigInt(r.stamp),
      table: r.table,
      kind: r.kind,
      primaryKey: primaryKey(r.primary_key),
      columns: (r.columns ?? []).map((c) => {
        const out = { name: c.name, op: c.op };
        if (c.value !== undefined) out.value = value(c.value);
        if (c.timestamp !== undefined) out.timestamp = BigInt(c.timestamp);
        return out;
      }),
    };
  }

  function updateOptions(op) {
    const o = {};
    if (op.put) o.put = columns(op.put);
    if (op.delete) o.delete = op.delete.map(([n, t]) => [n, BigInt(t)]);
    if (op.delete_all) o.deleteAll = op.delete_all;
    if (op.increment) o.increment = op.increment.map(([n, by]) => [n, BigInt(by)]);
    if (op.condition !== undefined) o.condition = condition(op.condition);
    return o;
  }

  function batchOp(op) {
    const base = { table: op.table, primaryKey: primaryKey(op.primary_key) };
    switch (op.op) {
      case 'put_row':
        return { type: 'put', ...base, columns: columns(op.columns), ...(op.condition !== undefined ? { condition: condition(op.condition) } : {}) };
      case 'update_row':
        return { type: 'update', ...base, ...updateOptions(op) };
      case 'delete_row':
        return { type: 'delete', ...base, ...(op.condition !== undefined ? { condition: condition(op.condition) } : {}) };
      default:
        throw new Error(`unknown batch op ${op.op}`);
    }
  }

  /** Run one script op against `db`. */
  function runOp(db, op) {
    switch (op.op) {
      case 'create_table': {
        const s = op.schema;
        return db.createTable(s.name, {
          primaryKey: s.primary_key,
          maxVersions: s.max_versions,
          timeToLive: s.time_to_live,
        });
      }
      case 'update_table':
        return db.updateTable(op.table, { maxVersions: op.max_versions, timeToLive: op.time_to_live });
      case 'put_row':
        return db.putRow(op.table, primaryKey(op.primary_key), columns(op.columns),
          op.condition !== undefined ? { condition: condition(op.condition) } : undefined);
      case 'update_row':
        return db.updateRow(op.table, primaryKey(op.primary_key), updateOptions(op));
      case 'delete_row':
        return db.deleteRow(op.table, primaryKey(op.primary_key),
          op.condition !== undefined ? { condition: condition(op.condition) } : undefined);
      case 'batch_write': {
        const results = db.batchWrite(op.ops.map(batchOp));
        const got = JSON.stringify(results.map((r) => (r.ok ? null : r.error.code)));
        if (got !== JSON.stringify(op.expect_results)) {
          throw new Error(`batch_write results ${got}, expected ${JSON.stringify(op.expect_results)}`);
        }
        return results;
      }
      case 'apply_changes':
        return db.applyChanges(op.records.map(record));
      default:
        throw new Error(`unknown op ${op.op}`);
    }
  }

  return { fromHex, toHex, value, keyValue, primaryKey, columns, columnCondition, condition, record, runOp };
}
