"""Regenerate vectors/plainbuffer.json with the official Tablestore Python SDK's
own PlainBuffer encoder (run once; the JSON is checked in):

    pip install tablestore==6.4.8
    python ots/tests/gen_plainbuffer_vectors.py > ots/tests/vectors/plainbuffer.json
"""
import json
import struct

import tablestore
from tablestore import INF_MAX, INF_MIN, PK_AUTO_INCR
from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder as B


def val(v):
    if v is INF_MIN:
        return ["INF_MIN"]
    if v is INF_MAX:
        return ["INF_MAX"]
    if v is PK_AUTO_INCR:
        return ["AUTO_INCREMENT"]
    if isinstance(v, bool):
        return ["BOOLEAN", v]
    if isinstance(v, int):
        return ["INTEGER", v]
    if isinstance(v, float):
        return ["DOUBLE_BITS", struct.pack("<d", v)[::-1].hex()]
    if isinstance(v, str):
        return ["STRING", v]
    if isinstance(v, (bytes, bytearray)):
        return ["BINARY", bytes(v).hex()]
    raise TypeError(v)


def pk(p):
    return [[n, val(v)] for n, v in p]


def cell(name, value=None, op=None, ts=None):
    return {"name": name, "value": None if value is None else val(value), "op": op, "timestamp": ts}


PK = [("uid", 1), ("gid", "杭州")]
cases = []


def row(name, data, primary_key, cells=(), delete_marker=False):
    cases.append({"name": name, "kind": "row", "hex": bytes(data).hex(),
                  "row": {"primary_key": pk(primary_key), "cells": list(cells),
                          "delete_marker": delete_marker}})


row("primary_key", B.serialize_primary_key(PK), PK)
row("binary_key", B.serialize_primary_key([("k", bytearray(b"\x00\xff"))]), [("k", bytearray(b"\x00\xff"))])
row("range_bounds", B.serialize_primary_key([("a", INF_MIN), ("b", INF_MAX)]), [("a", INF_MIN), ("b", INF_MAX)])
row("auto_increment", B.serialize_primary_key([("a", -7), ("b", PK_AUTO_INCR)]), [("a", -7), ("b", PK_AUTO_INCR)])
cols = [("s", "杭州"), ("i", -5), ("d", 0.95), ("t", True), ("f", False), ("b", bytearray(b"xy")),
        ("postal code", 310000), ("ts", 7, 1700000000000)]
row("put_row", B.serialize_for_put_row(PK, cols), PK,
    [cell(c[0], c[1], None, c[2] if len(c) == 3 else None) for c in cols])
upd = {"put": [("a", 1), ("b", "x", 1700000000001)], "delete": [("c", None, 1700000000002)],
       "delete_all": ["e"], "increment": [("n", 2)]}
row("update_row", B.serialize_for_update_row(PK, upd), PK, [
    cell("a", 1), cell("b", "x", None, 1700000000001), cell("c", None, "DELETE_ONE_VERSION", 1700000000002),
    cell("e", None, "DELETE_ALL_VERSIONS"), cell("n", 2, "INCREMENT")])
row("delete_row", B.serialize_for_delete_row(PK), PK, delete_marker=True)
for v in [42, -1, "杭州", 0.9, True, False, bytearray(b"\x01\x02")]:
    cases.append({"name": "variant_%s" % type(v).__name__, "kind": "variant",
                  "hex": bytes(B.serialize_column_value(v)).hex(), "value": val(v)})

print(json.dumps({"generator": "tablestore %s (Python SDK) PlainBufferBuilder" % tablestore.__version__,
                  "cases": cases}, ensure_ascii=False, indent=1))
