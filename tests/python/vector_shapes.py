"""Turn the JSON shapes of ``tests/vectors/*.json`` (see its README) into the
Python API's values, keys, conditions and records, and back."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple

import tablesync

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load(name: str) -> Any:
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


def value(v: Dict[str, Any]) -> Any:
    t = v["type"]
    if t == "INTEGER":
        return int(v["value"])
    if t == "DOUBLE":
        return struct.unpack(">d", bytes.fromhex(v["bits"]))[0]
    if t == "BOOLEAN":
        assert isinstance(v["value"], bool)
        return v["value"]
    if t == "STRING":
        return v["value"]
    if t == "BINARY":
        return bytes.fromhex(v["value"])
    raise AssertionError(f"unknown value type {t}")


def value_json(x: Any) -> Dict[str, Any]:
    """The JSON shape of a Python value (inverse of :func:`value`)."""
    if isinstance(x, bool):
        return {"type": "BOOLEAN", "value": x}
    if isinstance(x, int):
        return {"type": "INTEGER", "value": str(x)}
    if isinstance(x, float):
        return {"type": "DOUBLE", "bits": struct.pack(">d", x).hex()}
    if isinstance(x, str):
        return {"type": "STRING", "value": x}
    if isinstance(x, bytes):
        return {"type": "BINARY", "value": x.hex()}
    raise AssertionError(f"unexpected {type(x)}")


def same_value(a: Any, b: Any) -> bool:
    """Equality as the core defines it: same type, doubles compared by bits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def key_value(v: Dict[str, Any]) -> Any:
    t = v["type"]
    if t == "AUTO_INCREMENT":
        return tablesync.PK_AUTO_INCR
    if t == "INF_MIN":
        return tablesync.INF_MIN
    if t == "INF_MAX":
        return tablesync.INF_MAX
    return value(v)


def primary_key(pk: List[Any]) -> List[Tuple[str, Any]]:
    """As (name, value) pairs: also exercises the pair form of keys."""
    return [(name, key_value(v)) for name, v in pk]


def schema_args(s: Dict[str, Any]) -> Dict[str, Any]:
    pk = []
    for col in s["primary_key"]:
        if len(col) == 3:
            pk.append((col[0], col[1], tablesync.PK_AUTO_INCR))
        else:
            pk.append((col[0], col[1]))
    return {
        "name": s["name"],
        "primary_key": pk,
        "max_versions": s["max_versions"],
        "time_to_live": s["time_to_live"],
    }


def columns(cols: List[Any]) -> List[Tuple[str, Any, Any]]:
    return [(n, value(v), None if ts is None else int(ts)) for n, v, ts in cols]


def column_condition(c: Any) -> Any:
    if "and" in c:
        return {"and": [column_condition(x) for x in c["and"]]}
    if "or" in c:
        return {"or": [column_condition(x) for x in c["or"]]}
    if "not" in c:
        return {"not": column_condition(c["not"])}
    out = dict(c)
    out["value"] = value(c["value"])
    return out


def condition(c: Any) -> Any:
    if c is None or isinstance(c, str):
        return c
    out: Dict[str, Any] = {}
    if "row" in c:
        out["row"] = c["row"]
    if "column" in c:
        out["column"] = column_condition(c["column"])
    return out


def record(r: Dict[str, Any]) -> Dict[str, Any]:
    cols = []
    for c in r["columns"]:
        d: Dict[str, Any] = {"name": c["name"], "op": c["op"]}
        if "value" in c:
            d["value"] = value(c["value"])
        if "timestamp" in c:
            d["timestamp"] = int(c["timestamp"])
        cols.append(d)
    return {
        "origin": r["origin"],
        "seq": int(r["seq"]),
        "stamp": int(r["stamp"]),
        "table": r["table"],
        "kind": r["kind"],
        "primary_key": dict(primary_key(r["primary_key"])),
        "columns": cols,
    }


def write_op(op: Dict[str, Any]) -> Dict[str, Any]:
    """A put_row / update_row / delete_row op as a batch_write dict."""
    kind = op["op"]
    out: Dict[str, Any] = {
        "table": op["table"],
        "primary_key": primary_key(op["primary_key"]),
    }
    if "condition" in op:
        out["condition"] = condition(op["condition"])
    if kind == "put_row":
        out["op"] = "put"
        out["columns"] = columns(op["columns"])
    elif kind == "update_row":
        out["op"] = "update"
        out.update(update_parts(op))
    elif kind == "delete_row":
        out["op"] = "delete"
    else:
        raise AssertionError(kind)
    return out


def update_parts(op: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if "put" in op:
        out["put"] = columns(op["put"])
    if "delete" in op:
        out["delete"] = [(n, int(ts)) for n, ts in op["delete"]]
    if "delete_all" in op:
        out["delete_all"] = list(op["delete_all"])
    if "increment" in op:
        out["increment"] = [(n, int(by)) for n, by in op["increment"]]
    return out


def run_op(db: tablesync.Database, op: Dict[str, Any]) -> Any:
    """Run one script op through the public API."""
    kind = op["op"]
    if kind == "create_table":
        return db.create_table(**schema_args(op["schema"]))
    if kind == "update_table":
        return db.update_table(
            op["table"], max_versions=op["max_versions"], time_to_live=op["time_to_live"]
        )
    if kind == "put_row":
        return db.put_row(
            op["table"],
            primary_key(op["primary_key"]),
            columns(op["columns"]),
            condition=condition(op.get("condition")),
        )
    if kind == "update_row":
        return db.update_row(
            op["table"],
            primary_key(op["primary_key"]),
            condition=condition(op.get("condition")),
            **update_parts(op),
        )
    if kind == "delete_row":
        return db.delete_row(
            op["table"], primary_key(op["primary_key"]), condition=condition(op.get("condition"))
        )
    if kind == "batch_write":
        return db.batch_write([write_op(o) for o in op["ops"]])
    if kind == "apply_changes":
        return db.apply_changes([record(r) for r in op["records"]])
    raise AssertionError(f"unknown op {kind}")


def replay(db: tablesync.Database, ops: List[Dict[str, Any]]) -> None:
    """Run a script, asserting every expected error and batch result."""
    for i, op in enumerate(ops):
        if "now" in op:
            db.set_time(int(op["now"]))
        expected = op.get("expect_error")
        if expected is not None:
            before = state(db)
            try:
                run_op(db, op)
            except tablesync.TablesyncError as e:
                assert e.code == expected, (i, op["op"], e.code, expected)
            else:
                raise AssertionError(f"op #{i} ({op['op']}) should fail with {expected}")
            assert state(db) == before, f"failed op #{i} changed the database"
            continue
        result = run_op(db, op)
        if op["op"] == "batch_write":
            got = [None if r.ok else r.error.code for r in result]
            assert got == op["expect_results"], (i, got, op["expect_results"])


def state(db: tablesync.Database) -> Tuple[Any, ...]:
    tables = db.list_tables()
    return (
        db.next_cursor(),
        tuple((t, db.table_digest(t), db.describe_table(t).row_count) for t in tables),
    )


def assert_tables(db: tablesync.Database, expected: List[Dict[str, Any]]) -> None:
    assert db.list_tables() == sorted(t["name"] for t in expected)
    for t in expected:
        name = t["name"]
        desc = db.describe_table(name)
        assert desc.row_count == t["row_count"], name
        assert db.table_digest(name) == t["digest"], name
        assert db.verify_table_digest(name) == t["digest"], name
        rows = list(db.scan(name, max_versions=desc.max_versions))
        assert len(rows) == len(t["rows"]), name
        for got, want in zip(rows, t["rows"]):
            assert got.primary_key == dict(primary_key(want["primary_key"]))
            want_cells = [(n, value(v), int(ts)) for n, v, ts in want["cells"]]
            assert len(got.cells) == len(want_cells), (got.cells, want_cells)
            for (gn, gv, gt), (wn, wv, wt) in zip(got.cells, want_cells):
                assert gn == wn and gt == wt and same_value(gv, wv), ((gn, gv, gt), (wn, wv, wt))
