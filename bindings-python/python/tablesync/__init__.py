"""tablesync: wide-column tables (Tablestore model) with a change log,
order-independent merge across regions, SHA-256 digests and durable storage.

Quick start::

    import tablesync
    with tablesync.Database.memory("eu") as db:
        db.create_table("users", primary_key=[("uid", "INTEGER")])
        db.put_row("users", {"uid": 1}, {"name": "Ada", "age": 36})
        row = db.get_row("users", {"uid": 1})
        assert row["name"] == "Ada"

Regions sync with each other in-process (``db.sync_with(other)``,
``db.verify(other)``, ``db.repair(other)``), over HTTP (``db.serve(token=...)``
on one side, ``db.sync_url(url, token)`` on the other) or over any transport
(``SyncSession`` + ``respond``: bytes in, bytes out).

See ``docs/python-quickstart.md`` for more.
"""

from ._export import export
from ._expr import Col, Expr, col
from ._tablesync import (
    INF_MAX,
    INF_MIN,
    PK_AUTO_INCR,
    AlreadyExists,
    ApplyStats,
    BackupInfo,
    Backups,
    BatchGetResult,
    BatchResult,
    Cancelled,
    ChangePage,
    ClockDrift,
    ConditionCheckFailed,
    CorruptData,
    Database,
    DatabaseClosed,
    Feed,
    InternalError,
    InvalidArgument,
    KeyMarker,
    Link,
    LinkStatus,
    LogGap,
    NotFound,
    PeerProtocolViolation,
    RangePage,
    ReadView,
    Row,
    Scan,
    Server,
    StaleClusterMap,
    StaleEpoch,
    StorageError,
    StorageStopped,
    SyncError,
    SyncReport,
    SyncSession,
    Health,
    TableDescription,
    TableOutcome,
    TablesyncError,
    Unauthorized,
    VerifyReport,
    __version__,
    backup_server,
    follow,
    respond,
    restore,
)

__all__ = [
    "export",
    "INF_MAX",
    "INF_MIN",
    "PK_AUTO_INCR",
    "AlreadyExists",
    "ApplyStats",
    "BackupInfo",
    "Backups",
    "BatchGetResult",
    "BatchResult",
    "Cancelled",
    "ChangePage",
    "ClockDrift",
    "Col",
    "ConditionCheckFailed",
    "CorruptData",
    "Database",
    "DatabaseClosed",
    "Expr",
    "Feed",
    "InternalError",
    "InvalidArgument",
    "KeyMarker",
    "Link",
    "LinkStatus",
    "LogGap",
    "NotFound",
    "PeerProtocolViolation",
    "RangePage",
    "ReadView",
    "Row",
    "Scan",
    "Server",
    "StaleClusterMap",
    "StaleEpoch",
    "StorageError",
    "StorageStopped",
    "SyncError",
    "SyncReport",
    "Health",
    "SyncSession",
    "TableDescription",
    "TableOutcome",
    "TablesyncError",
    "Unauthorized",
    "VerifyReport",
    "__version__",
    "backup_server",
    "col",
    "follow",
    "respond",
    "restore",
]

# The cluster client (issue 16), kept apart from the lists above for merges.
from ._tablesync import Cluster, ClusterBatch, ClusterWrite  # noqa: E402

__all__ += ["Cluster", "ClusterBatch", "ClusterWrite"]

# The cluster wire format (FORMAT.md §20), for tests and tools.
from ._tablesync import (  # noqa: E402
    cluster_message_kinds,
    cluster_messages_reencode,
    txn_record_kind,
    txn_record_reencode,
)

__all__ += ["cluster_message_kinds", "cluster_messages_reencode", "txn_record_kind", "txn_record_reencode"]
