"""``OTSClient``: the Tablestore SDK's client over a local tablesync database.

Same constructor, method names, arguments and return values as
``tablestore.client.OTSClient`` of the official Alibaba Cloud Tablestore
Python SDK (wide-column API). The endpoint picks the database:
``memory://NAME``, ``file:///abs/path`` or a directory path (see
:mod:`tablesync.tablestore._registry`).

Capacity units: every result carries a :class:`CapacityUnit` computed the
way Tablestore bills — one unit per started 4 KiB of the row's primary key
plus the attribute data written or returned, at least one per row touched;
a conditional write (row expectation other than IGNORE, or a column
condition) also costs one read unit. A read of a missing row costs one read
unit.

Server endpoints (``http://HOST:PORT`` of ``tablesync serve`` or
``Database.serve``): every write (``put_row``, ``update_row``,
``delete_row``, ``batch_write_row``) runs at the server through its row API
(``POST /v1/row/...``, docs/SERVER.md): the server checks the condition and
applies the write under its region's write lock. Reads run on an in-memory
replica region of the client's own, which first pulls the tables involved
from the server (``sync_url`` mode ``auto``, direction ``pull``).
``access_key_secret`` is the server's bearer token. What that gives:

* read-your-writes and monotonic reads for one client: a write is on the
  server when the call returns, and every read starts by pulling;
* another client sees a write from its next request on;
* conditions (row existence, column conditions) and ``INCREMENT`` are
  atomic at the server: of two clients racing an ``EXPECT_NOT_EXIST`` put,
  exactly one succeeds and the other gets ``OTSConditionCheckFail``; two
  racing increments both count;
* ``create_table`` creates the table on the server (a push carries the
  schema and options); ``delete_table`` and option changes in
  ``update_table`` do not travel through the sync protocol and raise
  :class:`OTSClientError` (a missing table still reports
  ``OTSObjectNotExist``). Reserved throughput is remembered per client.

Differences from the service, all raising rather than silently diverging:
secondary indexes, search indexes, SQL, time series and local transactions
are not supported (:class:`OTSClientError`). Reserved throughput,
``max_time_deviation`` and ``allow_update`` are honoured but remembered per
process only (a durable directory reopened in a new process reports the
defaults for them). Local operations are deterministic, so the retry policy
is kept (``client.retry_policy``) but never needed.
"""

import logging
import threading
import time
import uuid
from contextlib import contextmanager

import tablesync as _ts

from . import _registry, _remote, _values
from ._conditions import ServiceReject, column_filter, is_conditional, write_condition
from ._values import (
    attribute_value,
    capacity_units,
    column_name,
    key_from_tablesync,
    key_size,
    row_from_tablesync,
    value_size,
)
from .const import INT32_MAX, INT32_MIN, MAX_VERSIONS_LIMIT
from .error import OTSClientError, OTSServiceError, http_status_of
from .metadata import (
    PK_AUTO_INCR,
    BatchGetRowRequest,
    BatchGetRowResponse,
    BatchWriteRowRequest,
    BatchWriteRowResponse,
    BatchWriteRowResponseItem,
    BatchWriteRowType,
    CapacityUnit,
    DescribeTableResponse,
    Direction,
    ReservedThroughput,
    ReservedThroughputDetails,
    ReturnType,
    Row,
    RowDataItem,
    RowItem,
    TableInBatchGetRowItem,
    TableInBatchWriteRowItem,
    TableMeta,
    TableOptions,
    UpdateTableResponse,
)
from .retry import DefaultRetryPolicy

__all__ = ["OTSClient"]

_PK_TYPES = ("INTEGER", "STRING", "BINARY")
_DEFINED_TYPES = ("STRING", "INTEGER", "DOUBLE", "BOOLEAN", "BINARY")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _int32(v, what):
    if not _is_int(v):
        raise OTSClientError("expect int or long for %s, not %s" % (what, v.__class__.__name__))
    if not INT32_MIN <= v <= INT32_MAX:
        raise OTSClientError("%s exceeds the range of int32" % v)
    return v


def _columns_to_get(columns):
    if columns is None:
        return None
    if not isinstance(columns, (list, tuple)):
        raise OTSClientError("expect list or tuple for columns_to_get, not %s" % columns.__class__.__name__)
    names = [column_name(c, "column name in columns_to_get") for c in columns]
    return names or None


def _read_versions(max_version, time_range):
    """``(max_versions, time_range)`` for tablesync from the SDK's pair."""
    if time_range is not None:
        if isinstance(time_range, (tuple, list)):
            if len(time_range) != 2 or not all(_is_int(t) for t in time_range):
                raise OTSClientError("time_range should be (start_time, end_time) in milliseconds")
            time_range = (time_range[0], time_range[1])
        elif not _is_int(time_range):
            raise OTSClientError(
                "time_range should be a (start, end) tuple or one timestamp, not %s"
                % time_range.__class__.__name__
            )
    if max_version is None:
        if time_range is None:
            raise ServiceReject("OTSParameterInvalid", "max_version or time_range must be set")
        return MAX_VERSIONS_LIMIT, time_range
    if not _is_int(max_version):
        raise OTSClientError("expect int for max_version, not %s" % max_version.__class__.__name__)
    if max_version < 1:
        raise ServiceReject("OTSParameterInvalid", "max_version must be at least 1, got %d" % max_version)
    return min(max_version, MAX_VERSIONS_LIMIT), time_range


class _Read(object):
    """A validated row-read request (get_row, batch_get_row, get_range)."""

    def __init__(self, columns_to_get, column_filter_, max_version, time_range, start_column, end_column):
        self.columns = _columns_to_get(columns_to_get)
        self.filter = column_filter(column_filter_)
        self.max_versions, self.time_range = _read_versions(max_version, time_range)
        self.start_column = None if start_column is None else column_name(start_column, "start_column")
        self.end_column = None if end_column is None else column_name(end_column, "end_column")
        self.projected = self.columns is not None or start_column is not None or end_column is not None

    def kwargs(self):
        return {
            "columns": self.columns,
            "max_versions": self.max_versions,
            "time_range": self.time_range,
            "column_filter": self.filter,
        }

    def convert(self, row):
        """A tablesync row as ``(sdk_row_or_None, size)``: a row left without
        any requested column is absent, as in Tablestore, unless a
        primary-key column was among ``columns_to_get``."""
        if row is None:
            return None, 0
        sdk_row, size = row_from_tablesync(row, start_column=self.start_column, end_column=self.end_column)
        if self.projected and not sdk_row.attribute_columns:
            wanted_pk = self.columns is not None and any(n in row.primary_key for n in self.columns)
            if not wanted_pk:
                return None, 0
        return sdk_row, size


class _Write(object):
    """A validated row write: what to pass to tablesync and its cost."""

    def __init__(self, kind, table, pk, condition, return_type):
        self.kind = kind
        self.table = table
        self.pk = pk
        self.condition = write_condition(condition)
        self.conditional = is_conditional(condition)
        self.return_pk = return_type == ReturnType.RT_PK
        self.size = key_size(pk)
        self.columns = []
        self.put_timestamps = []
        self.update = {}

    def consumed(self):
        return CapacityUnit(1 if self.conditional else 0, capacity_units(self.size))

    def result_row(self, written_pk):
        return Row(key_from_tablesync(written_pk)) if self.return_pk else None


def _put_cell(cell, what):
    if not isinstance(cell, (tuple, list)) or len(cell) not in (2, 3):
        raise OTSClientError("each column of %s must be a (name, value) or (name, value, timestamp) tuple" % what)
    name = column_name(cell[0])
    value = attribute_value(cell[1], "column '%s'" % name)
    ts = cell[2] if len(cell) == 3 else None
    if ts is not None and not _is_int(ts):
        raise OTSClientError("timestamp of column '%s' must be an int, not %s" % (name, ts.__class__.__name__))
    return name, value, ts


def _cell_size(name, value):
    return len(name.encode("utf-8")) + value_size(value)


def _prepare_put(table, row, condition, return_type):
    if not isinstance(row, Row):
        raise OTSClientError("row should be an instance of Row, not %s" % row.__class__.__name__)
    w = _Write(BatchWriteRowType.PUT, table, _values.primary_key(row.primary_key), condition, return_type)
    cells = row.attribute_columns
    if cells is None:
        cells = []
    if not isinstance(cells, (list, tuple)):
        raise OTSClientError("the attribute columns of PutRow must be a list, not %s" % cells.__class__.__name__)
    for cell in cells:
        name, value, ts = _put_cell(cell, "PutRow")
        w.columns.append((name, value) if ts is None else (name, value, ts))
        w.size += _cell_size(name, value)
        if ts is not None:
            w.put_timestamps.append(ts)
    return w


def _prepare_update(table, row, condition, return_type):
    if not isinstance(row, Row):
        raise OTSClientError("row should be an instance of Row, not %s" % row.__class__.__name__)
    w = _Write(BatchWriteRowType.UPDATE, table, _values.primary_key(row.primary_key), condition, return_type)
    attrs = row.attribute_columns
    if not isinstance(attrs, dict):
        raise OTSClientError("the attribute columns of UpdateRow is not dict, but is %s" % str(type(attrs)))
    put, delete, delete_all, increment = [], [], [], []
    for key, cells in attrs.items():
        kind = column_name(key, "update type").upper()
        if not isinstance(cells, list):
            raise OTSClientError("the columns value of update-row must be list, but is %s" % str(type(cells)))
        if kind == "PUT":
            for cell in cells:
                name, value, ts = _put_cell(cell, "UpdateRow PUT")
                put.append((name, value) if ts is None else (name, value, ts))
                w.size += _cell_size(name, value)
                if ts is not None:
                    w.put_timestamps.append(ts)
        elif kind == "DELETE":
            for cell in cells:
                name, ts = _delete_one_cell(cell)
                delete.append((name, ts))
                w.size += len(name.encode("utf-8"))
        elif kind == "DELETE_ALL":
            for cell in cells:
                if isinstance(cell, (tuple, list)):
                    if not cell:
                        raise OTSClientError("an empty tuple in DELETE_ALL")
                    cell = cell[0]
                name = column_name(cell)
                delete_all.append(name)
                w.size += len(name.encode("utf-8"))
        elif kind == "INCREMENT":
            for cell in cells:
                if not isinstance(cell, (tuple, list)) or len(cell) not in (2, 3):
                    raise OTSClientError("the cell of update-row must be tuple, but is %s" % str(type(cell)))
                name = column_name(cell[0])
                delta = attribute_value(cell[1], "increment of column '%s'" % name)
                if not _is_int(delta):
                    raise ServiceReject(
                        "OTSParameterInvalid", "INCREMENT of column '%s' needs an INTEGER delta" % name
                    )
                increment.append((name, delta))
                w.size += _cell_size(name, delta)
        else:
            raise OTSClientError(
                "update type of UpdateRow should be PUT, DELETE, DELETE_ALL or INCREMENT, not %s" % key
            )
    if not (put or delete or delete_all or increment):
        raise ServiceReject("OTSParameterInvalid", "UpdateRow needs at least one column change")
    w.update = {"put": put, "delete": delete, "delete_all": delete_all, "increment": increment}
    return w


def _delete_one_cell(cell):
    """A DELETE (one version) item: ``(name, None, ts)`` or ``(name, ts)``."""
    if isinstance(cell, (str, bytes)):
        raise ServiceReject(
            "OTSParameterInvalid",
            "DELETE of column '%s' needs the timestamp of the version to delete" % column_name(cell),
        )
    if not isinstance(cell, (tuple, list)) or len(cell) not in (1, 2, 3):
        raise OTSClientError("Unsupported column format: %s" % str(cell))
    name = column_name(cell[0])
    ts = cell[-1] if len(cell) > 1 else None
    if ts is None:
        raise ServiceReject(
            "OTSParameterInvalid", "DELETE of column '%s' needs the timestamp of the version to delete" % name
        )
    if not _is_int(ts):
        raise OTSClientError("timestamp of column '%s' must be an int, not %s" % (name, ts.__class__.__name__))
    return name, ts


def _prepare_delete(table, row, condition, return_type):
    pk = row.primary_key if isinstance(row, Row) else row
    return _Write(BatchWriteRowType.DELETE, table, _values.primary_key(pk), condition, return_type)


class OTSClient(object):
    """A Tablestore client whose "service" is a local tablesync database.

    ``OTSClient(end_point, access_key_id, access_key_secret, instance_name,
    **kwargs)``: the keys and instance name must be non-empty (as with the
    SDK) but grant nothing locally. Keyword arguments of the SDK
    (``sts_token``, ``encoding``, ``socket_timeout``, ``max_connection``,
    ``logger_name``, ``retry_policy``, ``ssl_version``) are accepted; ``region``
    names the tablesync region (default: the instance name); ``ca_file`` (PEM)
    trusts a private CA for an ``https://`` server endpoint.
    """

    DEFAULT_ENCODING = "utf8"
    DEFAULT_SOCKET_TIMEOUT = 50
    DEFAULT_MAX_CONNECTION = 50
    DEFAULT_LOGGER_NAME = "tablestore-client"

    def __init__(self, end_point, access_key_id, access_key_secret, instance_name, **kwargs):
        self._instance = None
        self._validate_parameter(end_point, access_key_id, access_key_secret, instance_name)
        self._configure(kwargs)
        self.end_point = end_point
        self.instance_name = instance_name
        region = kwargs.get("region") or instance_name
        self._instance = _registry.acquire(end_point, region, token=access_key_secret, ca_file=kwargs.get("ca_file"))

    @classmethod
    def from_database(cls, database, instance_name="tablesync", **kwargs):
        """A client over a ``tablesync.Database`` the caller opened (and
        closes); lets SDK-style code and tablesync's sync features share data."""
        if not isinstance(database, _ts.Database):
            raise OTSClientError("database must be a tablesync.Database, not %s" % database.__class__.__name__)
        self = cls.__new__(cls)
        self._instance = None
        self._configure(kwargs)
        self.end_point = None
        self.instance_name = instance_name
        self._instance = _registry.adopt(database)
        return self

    def _configure(self, kwargs):
        self.encoding = kwargs.get("encoding") or OTSClient.DEFAULT_ENCODING
        timeout = kwargs.get("socket_timeout")
        self.socket_timeout = OTSClient.DEFAULT_SOCKET_TIMEOUT if timeout is None else timeout
        maxconn = kwargs.get("max_connection")
        self.max_connection = OTSClient.DEFAULT_MAX_CONNECTION if maxconn is None else maxconn
        logger_name = kwargs.get("logger_name")
        if logger_name is None:
            self.logger = logging.getLogger(OTSClient.DEFAULT_LOGGER_NAME)
            self.logger.addHandler(logging.NullHandler())
        else:
            self.logger = logging.getLogger(logger_name)
        retry_policy = kwargs.get("retry_policy")
        self.retry_policy = DefaultRetryPolicy() if retry_policy is None else retry_policy
        self._closed = False
        self._close_lock = threading.Lock()

    @staticmethod
    def _validate_parameter(endpoint, access_key_id, access_key_secret, instance_name):
        if endpoint is None or len(endpoint) == 0:
            raise OTSClientError("endpoint is None or empty.")
        if access_key_id is None or len(access_key_id) == 0:
            raise OTSClientError("access_key_id is None or empty.")
        if access_key_secret is None or len(access_key_secret) == 0:
            raise OTSClientError("access_key_secret is None or empty.")
        if instance_name is None or len(instance_name) == 0:
            raise OTSClientError("instance_name is None or empty.")

    # ------------------------------------------------------------------
    # Lifecycle (extensions: the SDK's client has nothing to close)

    @property
    def database(self):
        """The ``tablesync.Database`` behind this client."""
        return self._instance.database

    def close(self):
        """Release the endpoint; the last client of a file endpoint closes its
        database. Idempotent."""
        with self._close_lock:
            if self._closed or self._instance is None:
                return
            self._closed = True
        _registry.release(self._instance)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------
    # Plumbing

    @contextmanager
    def _request(self, api_name):
        """Run one request: serialised on the database, errors mapped to the SDK's."""
        if self._closed:
            raise OTSClientError("the client is closed")
        request_id = str(uuid.uuid4())
        self.logger.debug("OTS request %s (%s) on %s", api_name, request_id, self.end_point)
        try:
            with self._instance.lock:
                yield request_id
        except ServiceReject as e:
            raise self._service_error(e.code, e.message, request_id, api_name) from None
        except _ts.TablesyncError as e:
            raise self._service_error(e.code, e.message, request_id, api_name, e) from None
        except (TypeError, ValueError, OverflowError) as e:
            raise OTSClientError(str(e)) from None

    def _service_error(self, code, message, request_id, api_name, cause=None):
        err = OTSServiceError(http_status_of(code, cause), code, message, request_id)
        self.logger.debug("OTS request %s (%s) failed: %s", api_name, request_id, err)
        return err

    def _sync(self, direction, tables):
        """Pull from / push to the server of a server endpoint (no-op otherwise)."""
        remote = self._instance.remote
        if remote is None:
            return
        url, token = remote
        try:
            self._instance.database.sync_url(
                url, token, mode="auto", direction=direction, tables=tables, ca_file=self._instance.ca_file
            )
        except (_ts.SyncError, _ts.CorruptData) as e:
            if "HTTP 401" in e.message:
                raise ServiceReject("OTSAuthFailed", "the tablesync server refused the access key secret") from None
            if direction == "push":
                raise OTSClientError(
                    "written to this client's replica but not to the server %s (%s); "
                    "the next successful write to the same table sends it" % (url, e.message)
                ) from None
            raise OTSClientError("tablesync server %s: %s" % (url, e.message)) from None

    def _at_server(self, fn, arg):
        """Call ``fn(url, token, arg)`` of :mod:`._remote` (a write run at the
        server; this client's replica sees it from its next pull on)."""
        url, token = self._instance.remote
        try:
            return fn(url, token, arg, ca_file=self._instance.ca_file)
        except _remote.RemoteError as e:
            raise OTSClientError("tablesync server %s: %s" % (url, e)) from None

    def _pull(self, tables):
        """Bring the tables (a list, or ``None`` for all) up to date from the server."""
        self._sync("pull", tables)

    def _push(self, tables):
        """Send this client's writes of the tables to the server."""
        self._sync("push", tables)

    def _remote_unsupported(self, what):
        if self._instance.remote is not None:
            raise OTSClientError(
                "%s does not travel through a tablesync server endpoint (the sync protocol "
                "carries rows and new tables only); run it on the server's database" % what
            )

    @staticmethod
    def _no_transaction(transaction_id):
        if transaction_id is not None:
            raise OTSClientError("local transactions are not supported by tablesync endpoints")

    @staticmethod
    def _table_name(table_name):
        return column_name(table_name, "table name")

    def _check_key_order(self, table, pk, cache=None):
        """Tablestore wants key columns in schema order (tablesync would accept any order)."""
        cache = {} if cache is None else cache
        if table not in cache:
            try:
                cache[table] = [c[0] for c in self._instance.database.describe_table(table).primary_key]
            except _ts.NotFound:
                cache[table] = None  # the operation itself reports the missing table
        names = cache[table]
        given = [n for n, _ in pk]
        if names is not None and given != names and sorted(given) == sorted(names):
            raise ServiceReject(
                "OTSInvalidPK",
                "primary key columns must come in schema order %s, got %s" % (names, given),
            )

    def _check_write(self, w, cache=None):
        """Checks Tablestore makes on a write that tablesync does not know of."""
        self._check_key_order(w.table, w.pk, cache)
        extras = self._instance.extras_of(w.table)
        if w.kind == BatchWriteRowType.UPDATE and extras.allow_update is False:
            raise ServiceReject("OTSParameterInvalid", "table '%s' does not allow UpdateRow" % w.table)
        if w.put_timestamps:
            now = int(time.time() * 1000)
            limit = extras.max_time_deviation * 1000
            for ts in w.put_timestamps:
                if abs(ts - now) > limit:
                    raise ServiceReject(
                        "OTSParameterInvalid",
                        "timestamp %d deviates from now by more than max_time_deviation (%d s)"
                        % (ts, extras.max_time_deviation),
                    )

    def _execute(self, w):
        """Run one prepared write on the database (on a server endpoint: at
        the server, condition included); the written key."""
        self._check_write(w)
        if self._instance.remote is not None:
            return self._at_server(_remote.write, self._batch_op(w))
        db = self._instance.database
        if w.kind == BatchWriteRowType.PUT:
            return db.put_row(w.table, w.pk, w.columns, condition=w.condition)
        if w.kind == BatchWriteRowType.UPDATE:
            return db.update_row(w.table, w.pk, condition=w.condition, **w.update)
        db.delete_row(w.table, w.pk, condition=w.condition)
        return w.pk

    # ------------------------------------------------------------------
    # Tables

    def create_table(self, table_meta, table_options, reserved_throughput, secondary_indexes=None):
        """Create a table (``TableMeta``, ``TableOptions``, ``ReservedThroughput``). Returns ``None``."""
        if not isinstance(table_meta, TableMeta):
            raise OTSClientError(
                "table_meta should be an instance of TableMeta, not %s" % table_meta.__class__.__name__
            )
        name = self._table_name(table_meta.table_name)
        schema = self._schema(table_meta.schema_of_primary_key)
        defined = self._defined_columns(table_meta.defined_columns)
        ttl, max_version, deviation, allow_update = self._options(table_options, for_create=True)
        read, write = self._reserved(reserved_throughput, for_create=True)
        if secondary_indexes:
            raise OTSClientError("secondary indexes are not supported by tablesync endpoints")
        with self._request("CreateTable"):
            if deviation is not None and deviation < 1:
                raise ServiceReject("OTSParameterInvalid", "max_time_deviation must be positive")
            self._pull([name])
            self._instance.database.create_table(
                name, primary_key=schema, max_versions=max_version, time_to_live=ttl
            )
            self._push([name])
            extras = _registry.TableExtras(
                read, write, 86400 if deviation is None else deviation, True if allow_update is None else allow_update
            )
            extras.defined_columns = defined
            self._instance.extras[name] = extras

    @staticmethod
    def _schema(schema):
        if not isinstance(schema, (list, tuple)):
            raise OTSClientError("schema_of_primary_key should be a list, not %s" % schema.__class__.__name__)
        out = []
        for col in schema:
            if not isinstance(col, tuple):
                raise OTSClientError(
                    "all schemas of primary keys should be tuple, not %s" % col.__class__.__name__
                )
            if len(col) not in (2, 3):
                raise OTSClientError("a primary key schema is (name, type) or (name, type, PK_AUTO_INCR)")
            name = column_name(col[0], "primary key name")
            if col[1] not in _PK_TYPES:
                raise OTSClientError(
                    "primary_key_type should be one of [%s], not %s" % (", ".join(sorted(_PK_TYPES)), col[1])
                )
            if len(col) == 3:
                if col[2] is not PK_AUTO_INCR:
                    raise OTSClientError("primary_key_option should be one of [PK_AUTO_INCR], not %s" % (col[2],))
                out.append((name, col[1], _ts.PK_AUTO_INCR))
            else:
                out.append((name, col[1]))
        return out

    @staticmethod
    def _defined_columns(defined):
        out = []
        for col in defined or []:
            if not isinstance(col, tuple) or len(col) != 2:
                raise OTSClientError("all defined columns should be (name, type) tuples, not %r" % (col,))
            if col[1] not in _DEFINED_TYPES:
                raise OTSClientError(
                    "Wrong type for defined column, only support [STRING, INTEGER, DOUBLE, BOOLEAN, BINARY]."
                )
            out.append((column_name(col[0]), col[1]))
        return out

    @staticmethod
    def _options(options, for_create):
        if not isinstance(options, TableOptions):
            raise OTSClientError(
                "table_option should be an instance of TableOptions, not %s" % options.__class__.__name__
            )
        for attr in ("time_to_live", "max_version", "max_time_deviation"):
            v = getattr(options, attr)
            if v is not None and not _is_int(v):
                raise OTSClientError("%s should be an instance of int, not %s" % (attr, v.__class__.__name__))
        if options.allow_update is not None and not isinstance(options.allow_update, bool):
            raise OTSClientError(
                "allow_update should be an instance of bool, not %s" % options.allow_update.__class__.__name__
            )
        ttl, max_version = options.time_to_live, options.max_version
        if for_create:
            ttl = -1 if ttl is None else ttl
            max_version = 1 if max_version is None else max_version
        return ttl, max_version, options.max_time_deviation, options.allow_update

    @staticmethod
    def _reserved(reserved, for_create):
        if not isinstance(reserved, ReservedThroughput):
            raise OTSClientError(
                "reserved_throughput should be an instance of ReservedThroughput, not %s"
                % reserved.__class__.__name__
            )
        cu = reserved.capacity_unit
        if not isinstance(cu, CapacityUnit):
            raise OTSClientError("capacity_unit should be an instance of CapacityUnit, not %s" % cu.__class__.__name__)
        if for_create and (cu.read is None or cu.write is None):
            raise OTSClientError("both of read and write of CapacityUnit are required")
        if cu.read is None and cu.write is None:
            raise OTSClientError("at least one of read or write of CapacityUnit is required")
        read = None if cu.read is None else _int32(cu.read, "read capacity unit")
        write = None if cu.write is None else _int32(cu.write, "write capacity unit")
        return read, write

    def delete_table(self, table_name):
        """Delete a table and its rows. Returns ``None``."""
        name = self._table_name(table_name)
        with self._request("DeleteTable"):
            if self._instance.remote is not None:
                self._pull([name])
                self._instance.database.describe_table(name)  # OTSObjectNotExist if missing
                self._remote_unsupported("delete_table")
            self._instance.database.delete_table(name)
            self._instance.extras.pop(name, None)

    def list_table(self):
        """The table names, as a tuple."""
        with self._request("ListTable"):
            self._pull(None)
            return tuple(self._instance.database.list_tables())

    def update_table(self, table_name, table_options=None, reserved_throughput=None):
        """Change a table's options and/or reserved throughput; returns an ``UpdateTableResponse``."""
        name = self._table_name(table_name)
        if table_options is None and reserved_throughput is None:
            raise OTSClientError("update_table needs table_options or reserved_throughput")
        opts = None if table_options is None else self._options(table_options, for_create=False)
        cu = None if reserved_throughput is None else self._reserved(reserved_throughput, for_create=False)
        with self._request("UpdateTable") as request_id:
            self._pull([name])
            db = self._instance.database
            db.describe_table(name)
            if opts is not None and (opts[0] is not None or opts[1] is not None):
                self._remote_unsupported("changing time_to_live or max_version")
            extras = self._instance.extras_of(name)
            if opts is not None:
                ttl, max_version, deviation, allow_update = opts
                if deviation is not None and deviation < 1:
                    raise ServiceReject("OTSParameterInvalid", "max_time_deviation must be positive")
                changes = {}
                if max_version is not None:
                    changes["max_versions"] = max_version
                if ttl is not None:
                    changes["time_to_live"] = ttl
                if changes:
                    db.update_table(name, **changes)
                if deviation is not None:
                    extras.max_time_deviation = deviation
                if allow_update is not None:
                    extras.allow_update = allow_update
            if cu is not None:
                self._update_reserved(extras, *cu)
            desc = db.describe_table(name)
            response = UpdateTableResponse(self._throughput_details(extras), self._table_options(desc, extras))
            response.set_request_id(request_id)
            return response

    @staticmethod
    def _update_reserved(extras, read, write):
        now = int(time.time())
        old = (extras.reserved_read, extras.reserved_write)
        new = (old[0] if read is None else read, old[1] if write is None else write)
        if new[0] > old[0] or new[1] > old[1]:
            extras.last_increase_time = now
        if new[0] < old[0] or new[1] < old[1]:
            extras.last_decrease_time = now
        extras.reserved_read, extras.reserved_write = new

    @staticmethod
    def _throughput_details(extras):
        return ReservedThroughputDetails(
            CapacityUnit(extras.reserved_read, extras.reserved_write),
            extras.last_increase_time,
            extras.last_decrease_time,
        )

    @staticmethod
    def _table_options(desc, extras):
        return TableOptions(desc.time_to_live, desc.max_versions, extras.max_time_deviation, extras.allow_update)

    def describe_table(self, table_name):
        """A ``DescribeTableResponse`` (``table_meta``, ``table_options``,
        ``reserved_throughput_details``, ``secondary_indexes``)."""
        name = self._table_name(table_name)
        with self._request("DescribeTable") as request_id:
            self._pull([name])
            desc = self._instance.database.describe_table(name)
            extras = self._instance.extras_of(name)
            schema = []
            for col in desc.primary_key:
                if len(col) == 3:
                    schema.append((col[0], col[1], PK_AUTO_INCR))
                else:
                    schema.append((col[0], col[1]))
            meta = TableMeta(desc.name, schema, list(getattr(extras, "defined_columns", [])))
            response = DescribeTableResponse(
                meta, self._table_options(desc, extras), self._throughput_details(extras), []
            )
            response.set_request_id(request_id)
            return response

    # ------------------------------------------------------------------
    # Single-row operations

    def get_row(self, table_name, primary_key, columns_to_get=None, column_filter=None, max_version=1,
                time_range=None, start_column=None, end_column=None, token=None, transaction_id=None):
        """Read one row: ``(consumed, return_row, next_token)``; ``return_row``
        is ``None`` when the row does not exist or the filter rejects it, and
        ``next_token`` is always ``None`` (every column comes in one answer)."""
        self._no_transaction(transaction_id)
        name = self._table_name(table_name)
        pk = _values.primary_key(primary_key)
        with self._request("GetRow"):
            read = _Read(columns_to_get, column_filter, max_version, time_range, start_column, end_column)
            self._pull([name])
            self._check_key_order(name, pk)
            row = self._instance.database.get_row(name, pk, **read.kwargs())
            sdk_row, size = read.convert(row)
            return CapacityUnit(capacity_units(size), 0), sdk_row, None

    def put_row(self, table_name, row, condition=None, return_type=None, transaction_id=None):
        """Write a whole row (replacing it): ``(consumed, return_row)``;
        ``return_row`` holds the primary key with ``ReturnType.RT_PK`` (the
        way to learn an auto-increment value), else ``None``."""
        self._no_transaction(transaction_id)
        name = self._table_name(table_name)
        with self._request("PutRow"):
            w = _prepare_put(name, row, condition, return_type)
            self._pull([name])
            written = self._execute(w)
            self._push([name])
            return w.consumed(), w.result_row(written)

    def update_row(self, table_name, row, condition=None, return_type=None, transaction_id=None):
        """Change columns of a row (creating it if absent): ``(consumed, return_row)``.
        ``row.attribute_columns`` is a dict of ``PUT`` / ``DELETE`` /
        ``DELETE_ALL`` / ``INCREMENT`` lists (keys in any case)."""
        self._no_transaction(transaction_id)
        name = self._table_name(table_name)
        with self._request("UpdateRow"):
            w = _prepare_update(name, row, condition, return_type)
            self._pull([name])
            written = self._execute(w)
            self._push([name])
            return w.consumed(), w.result_row(written)

    def delete_row(self, table_name, row, condition=None, return_type=None, transaction_id=None):
        """Delete a row (``row`` is a ``Row`` or its primary-key list): ``(consumed, return_row)``."""
        self._no_transaction(transaction_id)
        name = self._table_name(table_name)
        with self._request("DeleteRow"):
            w = _prepare_delete(name, row, condition, return_type)
            self._pull([name])
            written = self._execute(w)
            self._push([name])
            return w.consumed(), w.result_row(written)

    # ------------------------------------------------------------------
    # Batches

    def batch_get_row(self, request):
        """Read rows of several tables: a ``BatchGetRowResponse`` with one
        ``RowDataItem`` per requested key (per-row errors do not raise)."""
        if not isinstance(request, BatchGetRowRequest):
            raise OTSClientError(
                "The request should be a instance of BatchGetRowRequest, not %s" % request.__class__.__name__
            )
        plan = []
        for item in request.items.values():
            if not isinstance(item, TableInBatchGetRowItem):
                raise OTSClientError("each table item should be a TableInBatchGetRowItem")
            name = self._table_name(item.table_name)
            if not isinstance(item.primary_keys, (list, tuple)):
                raise OTSClientError("primary_keys of TableInBatchGetRowItem should be a list")
            keys = [_values.primary_key(pk) for pk in item.primary_keys]
            plan.append((name, keys, item))
        with self._request("BatchGetRow"):
            if plan:
                self._pull(sorted({name for name, _, _ in plan}))
            requests, reads, schemas = [], [], {}
            for name, keys, item in plan:
                read = _Read(item.columns_to_get, item.column_filter, item.max_version, item.time_range,
                             item.start_column, item.end_column)
                for pk in keys:
                    self._check_key_order(name, pk, schemas)
                    requests.append(dict(table=name, primary_key=pk, **read.kwargs()))
                    reads.append(read)
            if not requests:
                raise ServiceReject("OTSParameterInvalid", "BatchGetRow needs at least one row")
            results = self._instance.database.batch_get(requests)
            out, i = {}, 0
            for name, keys, item in plan:
                rows = out.setdefault(name, [])
                for _ in keys:
                    res, read = results[i], reads[i]
                    i += 1
                    if res.ok:
                        sdk_row, size = read.convert(res.row)
                        pk_cols = sdk_row.primary_key if sdk_row is not None else None
                        attrs = sdk_row.attribute_columns if sdk_row is not None else None
                        rows.append(RowDataItem(True, None, None, name, CapacityUnit(capacity_units(size), 0),
                                                pk_cols, attrs))
                    else:
                        rows.append(RowDataItem(False, res.error.code, res.error.message, name, None, None, None))
            return BatchGetRowResponse(out)

    def batch_write_row(self, request):
        """Write rows of several tables: a ``BatchWriteRowResponse``; each row
        succeeds or fails on its own (``is_all_succeed()``, ``get_put()``, …)."""
        if not isinstance(request, BatchWriteRowRequest):
            raise OTSClientError(
                "The request should be a instance of BatchWriteRowRequest, not %s" % request.__class__.__name__
            )
        self._no_transaction(request.transaction_id)
        plan = []
        for item in request.items.values():
            if not isinstance(item, TableInBatchWriteRowItem):
                raise OTSClientError("each table item should be a TableInBatchWriteRowItem")
            name = self._table_name(item.table_name)
            for row_item in item.row_items:
                plan.append((name, row_item))
        with self._request("BatchWriteRow"):
            if plan:
                self._pull(sorted({name for name, _ in plan}))
            prepared, schemas = [], {}
            for name, row_item in plan:
                prepared.append(self._prepare_batch_item(name, row_item, schemas))
            ops, slots = [], []
            for p in prepared:
                if isinstance(p, ServiceReject):
                    slots.append(p)
                    continue
                slots.append(len(ops))
                ops.append(self._batch_op(p))
            if not plan:
                raise ServiceReject("OTSParameterInvalid", "BatchWriteRow needs at least one row")
            if self._instance.remote is not None:
                results = self._at_server(_remote.batch, ops) if ops else []
            else:
                results = self._instance.database.batch_write(ops) if ops else []
            written = sorted({op["table"] for op, r in zip(ops, results) if r.ok})
            if written:
                self._push(written)
            response, k = {}, 0
            for item in request.items.values():
                name = self._table_name(item.table_name)
                rows = response.setdefault(name, [])
                for _ in item.row_items:
                    slot, p = slots[k], prepared[k]
                    k += 1
                    if isinstance(slot, ServiceReject):
                        rows.append(BatchWriteRowResponseItem(False, slot.code, slot.message, None, None))
                        continue
                    res = results[slot]
                    if res.ok:
                        pk = key_from_tablesync(res.primary_key) if p.return_pk else None
                        rows.append(BatchWriteRowResponseItem(True, None, None, p.consumed(), pk))
                    else:
                        rows.append(BatchWriteRowResponseItem(False, res.error.code, res.error.message, None, None))
            return BatchWriteRowResponse(request, response)

    def _prepare_batch_item(self, name, row_item, schemas):
        """A prepared write, or the :class:`ServiceReject` that fails this row alone."""
        if not isinstance(row_item, RowItem):
            raise OTSClientError("each row item should be a PutRowItem, UpdateRowItem or DeleteRowItem")
        prepare = {
            BatchWriteRowType.PUT: _prepare_put,
            BatchWriteRowType.UPDATE: _prepare_update,
            BatchWriteRowType.DELETE: _prepare_delete,
        }.get(row_item.type)
        if prepare is None:
            raise OTSClientError("unknown row item type %r" % (row_item.type,))
        try:
            w = prepare(name, row_item.row, row_item.condition, row_item.return_type)
            self._check_write(w, schemas)
            return w
        except ServiceReject as e:
            return e

    @staticmethod
    def _batch_op(w):
        if w.kind == BatchWriteRowType.PUT:
            return {"op": "put", "table": w.table, "primary_key": w.pk, "columns": w.columns,
                    "condition": w.condition}
        if w.kind == BatchWriteRowType.UPDATE:
            op = {"op": "update", "table": w.table, "primary_key": w.pk, "condition": w.condition}
            op.update(w.update)
            return op
        return {"op": "delete", "table": w.table, "primary_key": w.pk, "condition": w.condition}

    # ------------------------------------------------------------------
    # Ranges

    def get_range(self, table_name, direction, inclusive_start_primary_key, exclusive_end_primary_key,
                  columns_to_get=None, limit=None, column_filter=None, max_version=1, time_range=None,
                  start_column=None, end_column=None, token=None, transaction_id=None):
        """Read one page of a key range: ``(consumed, next_start_primary_key,
        row_list, next_token)``. ``next_start_primary_key`` is ``None`` when
        the range is exhausted; ``next_token`` is always ``None``."""
        self._no_transaction(transaction_id)
        name = self._table_name(table_name)
        if direction not in (Direction.FORWARD, Direction.BACKWARD):
            raise OTSClientError("direction should be one of [FORWARD, BACKWARD], not %s" % (direction,))
        start = _values.primary_key(inclusive_start_primary_key, "range start")
        end = _values.primary_key(exclusive_end_primary_key, "range end")
        if limit is not None:
            _int32(limit, "limit")
        with self._request("GetRange"):
            if limit is not None and limit <= 0:
                raise ServiceReject("OTSParameterInvalid", "limit must be positive, got %d" % limit)
            read = _Read(columns_to_get, column_filter, max_version, time_range, start_column, end_column)
            self._pull([name])
            schemas = {}
            self._check_key_order(name, start, schemas)
            self._check_key_order(name, end, schemas)
            page = self._instance.database.get_range(
                name, start, end, direction=direction, limit=limit, **read.kwargs()
            )
            rows, size = [], 0
            for r in page.rows:
                sdk_row, n = read.convert(r)
                if sdk_row is not None:
                    rows.append(sdk_row)
                    size += n
            next_start = key_from_tablesync(page.next_start)
            return CapacityUnit(capacity_units(size), 0), next_start, rows, None

    def xget_range(self, table_name, direction, inclusive_start_primary_key, exclusive_end_primary_key,
                   consumed_counter, columns_to_get=None, count=None, column_filter=None, max_version=1,
                   time_range=None, start_column=None, end_column=None, token=None):
        """Iterate every row of a range (at most ``count``), page by page;
        read units consumed are summed into ``consumed_counter``."""
        if not isinstance(consumed_counter, CapacityUnit):
            raise OTSClientError(
                "consumed_counter should be an instance of CapacityUnit, not %s"
                % consumed_counter.__class__.__name__
            )
        left = None
        if count is not None:
            if count <= 0:
                raise OTSClientError("the value of count must be larger than 0")
            left = count
        consumed_counter.read = 0
        consumed_counter.write = 0
        next_start = inclusive_start_primary_key
        while next_start:
            consumed, next_start, rows, _ = self.get_range(
                table_name, direction, next_start, exclusive_end_primary_key, columns_to_get, left,
                column_filter, max_version, time_range, start_column, end_column, token,
            )
            consumed_counter.read += consumed.read
            for row in rows:
                yield row
                if left is not None:
                    left -= 1
                    if left <= 0:
                        return

    # ------------------------------------------------------------------
    # Parts of the SDK tablesync does not offer: fail loudly.

    def _unsupported(self, feature):
        raise OTSClientError("%s is not supported by tablesync endpoints" % feature)

    def create_secondary_index(self, table_name, index_meta):
        """Not supported (secondary indexes)."""
        self._unsupported("create_secondary_index")

    def delete_secondary_index(self, table_name, index_name):
        """Not supported (secondary indexes)."""
        self._unsupported("delete_secondary_index")

    def list_search_index(self, table_name=None):
        """Not supported (search indexes)."""
        self._unsupported("list_search_index")

    def create_search_index(self, table_name, index_name, index_meta):
        """Not supported (search indexes)."""
        self._unsupported("create_search_index")

    def update_search_index(self, table_name, index_name, index_meta):
        """Not supported (search indexes)."""
        self._unsupported("update_search_index")

    def describe_search_index(self, table_name, index_name):
        """Not supported (search indexes)."""
        self._unsupported("describe_search_index")

    def delete_search_index(self, table_name, index_name):
        """Not supported (search indexes)."""
        self._unsupported("delete_search_index")

    def search(self, table_name, index_name, search_query, columns_to_get=None, routing_keys=None):
        """Not supported (search indexes)."""
        self._unsupported("search")

    def compute_splits(self, table_name, index_name):
        """Not supported (search indexes)."""
        self._unsupported("compute_splits")

    def parallel_scan(self, table_name, index_name, scan_query, session_id, columns_to_get=None):
        """Not supported (search indexes)."""
        self._unsupported("parallel_scan")

    def start_local_transaction(self, table_name, key):
        """Not supported (local transactions)."""
        self._unsupported("start_local_transaction")

    def commit_transaction(self, transaction_id):
        """Not supported (local transactions)."""
        self._unsupported("commit_transaction")

    def abort_transaction(self, transaction_id):
        """Not supported (local transactions)."""
        self._unsupported("abort_transaction")

    def exe_sql_query(self, query):
        """Not supported (SQL)."""
        self._unsupported("exe_sql_query")
