"""Conversions between the Tablestore SDK's value shapes and tablesync's.

The official SDK (Python 3) writes ``str`` and ``bytes`` as STRING (``bytes``
must be UTF-8), ``bytearray`` as BINARY, ``bool`` as BOOLEAN, ``int`` as
INTEGER and ``float`` as DOUBLE, and returns BINARY values as ``bytearray``.
tablesync takes ``bytes``/``bytearray`` as BINARY and returns ``bytes``; this
module bridges the two and checks types the way the SDK does, raising
:class:`OTSClientError` for what the SDK refuses before sending a request.
"""

import tablesync as _ts

from . import const
from .error import OTSClientError
from .metadata import INF_MAX, INF_MIN, PK_AUTO_INCR, Row


def column_name(name, what="column name"):
    """A column or table name as ``str`` (``bytes`` is decoded as UTF-8)."""
    if isinstance(name, str):
        return name
    if isinstance(name, bytes):
        try:
            return name.decode("utf-8")
        except UnicodeDecodeError:
            raise OTSClientError("%s %r is not valid UTF-8" % (what, name)) from None
    raise OTSClientError(
        "expect str or unicode type for %s, not %s: %s" % (what, name.__class__.__name__, name)
    )


def _int64(value, what):
    if not const.INT64_MIN <= value <= const.INT64_MAX:
        raise OTSClientError("%s %d exceeds the range of int64" % (what, value))
    return value


def _utf8_string(value, what):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise OTSClientError(
            "%s: bytes are sent as STRING and must be UTF-8; use bytearray for BINARY" % what
        ) from None


def attribute_value(value, what="column value"):
    """An attribute value in tablesync's form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _int64(value, what)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, bytes):
        return _utf8_string(value, what)
    raise OTSClientError("Unsupported column type: %s" % type(value))


def key_value(value, what="primary key value"):
    """A primary-key value, ``PK_AUTO_INCR`` or a range bound (``INF_MIN`` /
    ``INF_MAX``) in tablesync's form."""
    if value is PK_AUTO_INCR or value is _ts.PK_AUTO_INCR:
        return _ts.PK_AUTO_INCR
    if value is INF_MIN or value is _ts.INF_MIN:
        return _ts.INF_MIN
    if value is INF_MAX or value is _ts.INF_MAX:
        return _ts.INF_MAX
    if isinstance(value, bool):
        # The SDK encodes a bool key as the INTEGER 0/1.
        return int(value)
    if isinstance(value, int):
        return _int64(value, what)
    if isinstance(value, str):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, bytes):
        return _utf8_string(value, what)
    raise OTSClientError("Unsupported primary key type: %s" % type(value))


def primary_key(pk, what="primary key"):
    """A primary key given as the SDK's list of ``(name, value)``, as a list of pairs."""
    if not isinstance(pk, list):
        raise OTSClientError("Priamry key is not list, but is %s" % str(type(pk)))
    out = []
    for item in pk:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise OTSClientError(
                "each column of a %s must be a (name, value) tuple, not %r" % (what, item)
            )
        name = column_name(item[0], "primary key name")
        out.append((name, key_value(item[1], "primary key column '%s'" % name)))
    return out


def value_from_tablesync(value):
    """A value as the SDK returns it (BINARY as ``bytearray``)."""
    if isinstance(value, bytes):
        return bytearray(value)
    return value


def key_from_tablesync(pk):
    """A tablesync primary key (dict in schema order) as the SDK's list of pairs."""
    if pk is None:
        return None
    items = pk.items() if isinstance(pk, dict) else pk
    return [(name, value_from_tablesync(value)) for name, value in items]


def value_size(value):
    """Bytes a value counts for in capacity-unit accounting."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return 8
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return 0


def key_size(pk_pairs):
    """Bytes of a primary key (names plus values)."""
    return sum(len(n.encode("utf-8")) + value_size(v) for n, v in pk_pairs)


def capacity_units(size):
    """Capacity units for ``size`` bytes: one per 4 KiB, rounded up, at least one."""
    return max(1, -(-size // const.CAPACITY_UNIT_BYTES))


def row_from_tablesync(row, drop_cells=False, start_column=None, end_column=None):
    """A tablesync ``Row`` as the SDK's ``Row`` plus its size in bytes.

    ``start_column`` (inclusive) / ``end_column`` (exclusive) keep only the
    cells whose column name lies between them (the SDK's wide-row reads).
    """
    pk = key_from_tablesync(row.primary_key)
    attrs = []
    size = key_size(pk)
    if not drop_cells:
        for name, value, ts in row.cells:
            if start_column is not None and name < start_column:
                continue
            if end_column is not None and name >= end_column:
                continue
            attrs.append((name, value_from_tablesync(value), ts))
            size += len(name.encode("utf-8")) + value_size(value)
    return Row(pk, attrs), size
