"""Writes executed at a tablesync server (``POST /v1/row/*``, docs/SERVER.md).

The server checks each write's condition and applies it under its region's
write lock, so two clients racing an ``EXPECT_NOT_EXIST`` put cannot both
pass it. Values travel as JSON: INTEGER a number, DOUBLE a number with a
fraction (or ``{"$double": "NaN"|"inf"|"-inf"}``), BINARY ``{"$binary": base64}``.
"""

import base64
import json
import math
import ssl
import urllib.error
import urllib.request

import tablesync as _ts

from ._conditions import ServiceReject

#: Seconds one request may take.
TIMEOUT = 60


class RemoteError(Exception):
    """The server could not be reached or answered something unusable."""


def _value(v):
    if isinstance(v, bool) or isinstance(v, int) or isinstance(v, str):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return {"$double": "NaN"}
        if math.isinf(v):
            return {"$double": "inf" if v > 0 else "-inf"}
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"$binary": base64.b64encode(bytes(v)).decode("ascii")}
    raise TypeError("unsupported value %r" % (v,))


def _key_value(v):
    if v is _ts.PK_AUTO_INCR:
        return {"$auto_increment": True}
    return _value(v)


def _from_json(v):
    if isinstance(v, dict) and "$binary" in v:
        return base64.b64decode(v["$binary"])
    if isinstance(v, dict) and "$double" in v:
        return float(v["$double"])
    return v


def _column_condition(c):
    if "and" in c:
        return {"and": [_column_condition(x) for x in c["and"]]}
    if "or" in c:
        return {"or": [_column_condition(x) for x in c["or"]]}
    if "not" in c:
        return {"not": _column_condition(c["not"])}
    out = dict(c)
    out["value"] = _value(c["value"])
    return out


def _condition(c):
    if isinstance(c, dict):
        return {"row": c.get("row", "IGNORE"), "column": _column_condition(c["column"])}
    return c


def _cells(cells):
    return [[c[0], _value(c[1])] + ([c[2]] if len(c) == 3 and c[2] is not None else []) for c in cells]


def encode_op(op):
    """A write in the client's dict form (``OTSClient._batch_op``) as the server's JSON."""
    out = {
        "op": op["op"],
        "table": op["table"],
        "primary_key": {name: _key_value(v) for name, v in op["primary_key"]},
        "condition": _condition(op["condition"]),
    }
    if "columns" in op:
        out["columns"] = _cells(op["columns"])
    if "put" in op:
        out["put"] = _cells(op["put"])
    for k in ("delete", "increment"):
        if k in op:
            out[k] = [[n, x] for n, x in op[k]]
    if "delete_all" in op:
        out["delete_all"] = list(op["delete_all"])
    return out


def decode_key(pk, names):
    """A key the server answered with (a JSON object, so unordered), as a
    dict of tablesync values in the order of ``names``."""
    return {name: _from_json(pk[name]) for name in names if name in pk}


def _context(url, ca_file):
    """The TLS context of an ``https://`` server: the system roots, or only
    the CA in ``ca_file`` (PEM) when given; ``None`` for ``http://``."""
    if not url.startswith("https://"):
        return None
    return ssl.create_default_context(cafile=ca_file)


def call(url, token, path, body, ca_file=None):
    """POST ``body`` (JSON) to ``url + path``; the decoded answer. Errors the
    server reports raise :class:`ServiceReject` with its code. ``ca_file``
    trusts a private CA for an ``https://`` server."""
    req = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT, context=_context(url, ca_file)) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        code = e.headers.get("X-Tablesync-Error") or "HttpError"
        text = e.read().decode("utf-8", "replace").strip()
        message = text.split(": ", 1)[1] if text.startswith(code + ": ") else text
        if e.code == 401:
            raise ServiceReject("OTSAuthFailed", "the tablesync server refused the access key secret") from None
        if code.startswith("OTS"):
            raise ServiceReject(code, message) from None
        raise RemoteError("HTTP %d %s: %s" % (e.code, code, message)) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise RemoteError(str(e)) from None


class BatchItem(object):
    """One result of a remote batch, shaped like ``Database.batch_write``'s."""

    class _Err(object):
        def __init__(self, code, message):
            self.code = code
            self.message = message

    def __init__(self, answer, names):
        self.ok = "primary_key" in answer
        self.primary_key = decode_key(answer["primary_key"], names) if self.ok else None
        self.error = None if self.ok else BatchItem._Err(answer.get("code"), answer.get("message"))


def write(url, token, op, ca_file=None):
    """Run one write (``op`` in the client's dict form) at the server; the written key."""
    answer = call(url, token, "/v1/row/" + op["op"], encode_op(op), ca_file)
    return decode_key(answer["primary_key"], [n for n, _ in op["primary_key"]])


def batch(url, token, ops, ca_file=None):
    """Run a batch at the server; one :class:`BatchItem` per op."""
    answer = call(url, token, "/v1/row/batch", {"ops": [encode_op(o) for o in ops]}, ca_file)
    return [BatchItem(a, [n for n, _ in o["primary_key"]]) for a, o in zip(answer["results"], ops)]
