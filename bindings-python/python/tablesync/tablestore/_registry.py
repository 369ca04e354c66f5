"""Endpoints: which tablesync database an ``OTSClient`` talks to.

* ``memory://NAME`` — one in-memory region per NAME per process, shared by
  every client given the same NAME, alive until the process ends (or
  :func:`drop_memory_instance`).
* ``file:///abs/path`` or a plain filesystem path — a durable region in that
  directory (``tablesync.Database.open``), shared by every client of this
  process given the same path, closed when the last of them is closed.
* ``http://HOST:PORT`` — a tablesync sync server (``tablesync serve`` or
  ``Database.serve``). Each client keeps its own in-memory replica region
  (named after the region with a random suffix) and syncs it with the
  server around every request; the client's ``access_key_secret`` is the
  server's bearer token.
* ``https://HOST:PORT`` — the same over TLS (``tablesync serve --tls-cert
  --tls-key``); the client's ``ca_file`` keyword (PEM) trusts a private CA,
  otherwise the system's roots are used.

An optional ``?region=NAME`` query (or the client's ``region`` keyword) names
the tablesync region; by default the region is the instance name. File
endpoints also take ``?sync=always|batch|never`` (``tablesync.Database.open``'s
``sync``; default ``always``: every write is durable when it returns).
"""

import os
import threading
import time
import uuid
from urllib.parse import parse_qs, urlparse

import tablesync as _ts

from .error import OTSClientError

_LOCK = threading.Lock()
_MEMORY = {}
_FILES = {}


class TableExtras(object):
    """Table settings Tablestore has and tablesync does not keep: the
    reserved throughput and the ``max_time_deviation`` / ``allow_update``
    options. Kept per process, next to the shared database."""

    def __init__(self, reserved_read=0, reserved_write=0, max_time_deviation=86400, allow_update=True):
        now = int(time.time())
        self.reserved_read = reserved_read
        self.reserved_write = reserved_write
        self.max_time_deviation = max_time_deviation
        self.allow_update = allow_update
        self.last_increase_time = now
        self.last_decrease_time = None


class Instance(object):
    """One opened tablesync database with the lock that serialises its use."""

    def __init__(self, kind, key, database):
        self.kind = kind
        self.key = key
        self.database = database
        self.lock = threading.RLock()
        self.extras = {}
        self.clients = 0
        #: ``(base_url, token)`` of the server a replica syncs with, else ``None``.
        self.remote = None
        #: PEM file of the CA an ``https://`` server's certificate chains to.
        self.ca_file = None

    def extras_of(self, table):
        """The per-table extras (defaults when the table was made elsewhere)."""
        ex = self.extras.get(table)
        if ex is None:
            ex = self.extras[table] = TableExtras()
        return ex


def _parse(end_point):
    if not isinstance(end_point, str):
        raise OTSClientError("end_point must be a str, not %s" % end_point.__class__.__name__)
    if "://" not in end_point:
        return "file", os.path.abspath(end_point), {}
    url = urlparse(end_point)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    scheme = url.scheme.lower()
    if scheme in ("http", "https"):
        if not url.hostname or url.port is None:
            raise OTSClientError("a server endpoint is %s://HOST:PORT, got %r" % (scheme, end_point))
        if url.path not in ("", "/"):
            raise OTSClientError("a server endpoint has no path: %s://HOST:PORT, got %r" % (scheme, end_point))
        return "http", "%s://%s" % (scheme, url.netloc), query
    if scheme == "memory":
        name = (url.netloc + url.path).strip("/")
        if not name:
            raise OTSClientError("a memory endpoint needs a name, e.g. memory://my-instance")
        return "memory", name, query
    if scheme == "file":
        if url.netloc not in ("", "localhost"):
            raise OTSClientError(
                "file endpoints name a local directory: file:///absolute/path (got host %r)" % url.netloc
            )
        if not url.path or not os.path.isabs(url.path):
            raise OTSClientError("file endpoints need an absolute path: file:///absolute/path")
        return "file", os.path.normpath(url.path), query
    raise OTSClientError(
        "unsupported end_point scheme %r: use memory://NAME, file:///path or a directory path" % url.scheme
    )


def acquire(end_point, region, token=None, ca_file=None):
    """The shared :class:`Instance` of an endpoint, counting one more client
    (for a server endpoint: a new replica of this client's own; ``ca_file``
    trusts a private CA for ``https://``)."""
    kind, key, query = _parse(end_point)
    if ca_file is not None and not key.startswith("https://"):
        raise OTSClientError("ca_file is for https:// endpoints, got %r" % end_point)
    region = query.get("region", region)
    if kind == "http":
        replica = "%s-%s" % (region[:200], uuid.uuid4().hex[:16])
        try:
            inst = Instance(kind, key, _ts.Database.memory(region=replica))
        except _ts.TablesyncError as e:
            raise OTSClientError("cannot make a replica for %s: %s (%s)" % (end_point, e.message, e.code)) from None
        inst.remote = (key, token)
        inst.ca_file = None if ca_file is None else os.fspath(ca_file)
        inst.clients = 1
        return inst
    with _LOCK:
        try:
            if kind == "memory":
                inst = _MEMORY.get(key)
                if inst is None:
                    inst = _MEMORY[key] = Instance(kind, key, _ts.Database.memory(region=region))
            else:
                real = os.path.realpath(key)
                inst = _FILES.get(real)
                if inst is None:
                    db = _ts.Database.open(real, region=region, sync=query.get("sync", "always"))
                    inst = _FILES[real] = Instance(kind, real, db)
        except _ts.TablesyncError as e:
            raise OTSClientError("cannot open %s: %s (%s)" % (end_point, e.message, e.code)) from None
        inst.clients += 1
        return inst


def adopt(database):
    """An :class:`Instance` around a database the caller opened and owns."""
    inst = Instance("adopted", None, database)
    inst.clients = 1
    return inst


def release(inst):
    """One client fewer; a file database is closed when none is left, a
    server endpoint's replica at once."""
    if inst.kind == "http":
        with inst.lock:
            inst.database.close()
        return
    with _LOCK:
        inst.clients -= 1
        if inst.clients > 0 or inst.kind != "file":
            return
        if _FILES.get(inst.key) is inst:
            del _FILES[inst.key]
    with inst.lock:
        inst.database.close()


def drop_memory_instance(name):
    """Forget the in-memory region ``memory://name`` (its data is gone).
    Returns whether it existed. Clients still holding it keep working on it."""
    with _LOCK:
        return _MEMORY.pop(name, None) is not None
