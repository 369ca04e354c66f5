"""Type stubs of the native module ``tablesync._tablesync`` (checked by mypy.stubtest)."""

from __future__ import annotations

import os
from typing import Any, Callable, ClassVar, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union, final

from typing_extensions import Literal, Self, TypeAlias

__version__: str
__all__ = [
    "AlreadyExists",
    "ApplyStats",
    "BackupInfo",
    "Backups",
    "BatchGetResult",
    "BatchResult",
    "Cancelled",
    "ChangePage",
    "ClockDrift",
    "ConditionCheckFailed",
    "CorruptData",
    "Database",
    "DatabaseClosed",
    "Feed",
    "Health",
    "INF_MAX",
    "INF_MIN",
    "InternalError",
    "InvalidArgument",
    "KeyMarker",
    "Link",
    "LinkStatus",
    "LogGap",
    "NotFound",
    "PK_AUTO_INCR",
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
    "SyncSession",
    "TableDescription",
    "TableOutcome",
    "TablesyncError",
    "Unauthorized",
    "__version__",
    "follow",
    "respond",
    "VerifyReport",
    "restore",
    "backup_server",
]

# ---- values -----------------------------------------------------------------

_Value: TypeAlias = Union[int, float, bool, str, bytes, bytearray]
"""An attribute value: int (INTEGER, i64), float (DOUBLE), bool (BOOLEAN), str, bytes/bytearray (BINARY)."""
_KeyValue: TypeAlias = Union[int, str, bytes, bytearray, "KeyMarker"]
"""A primary-key value: int, str, bytes (or PK_AUTO_INCR in put_row)."""
_PrimaryKey: TypeAlias = Union[Mapping[str, _KeyValue], Sequence[Tuple[str, _KeyValue]]]
"""A primary key: a dict, or (name, value) pairs; returned as a dict in schema order."""
_RangeBoundArg: TypeAlias = Union[None, "KeyMarker", Mapping[str, _KeyValue], Sequence[Tuple[str, _KeyValue]]]
_Columns: TypeAlias = Union[
    Mapping[str, _Value], Sequence[Union[Tuple[str, _Value], Tuple[str, _Value, Optional[int]]]]
]
_ConditionDict: TypeAlias = Dict[str, Any]
_ColumnCondition: TypeAlias = Any
"""A column condition / filter: a dict like {"column", "op", "value"} / {"and": [...]} / {"or": [...]} / {"not": c}, or tablesync.col(...) expressions."""
_Condition: TypeAlias = Union[None, str, _ConditionDict, Any]
"""None, "IGNORE" | "EXPECT_EXIST" | "EXPECT_NOT_EXIST", {"row": ..., "column": ...}, or a column condition."""
_TimeRange: TypeAlias = Union[None, int, Tuple[int, int]]
_ChangeRecord: TypeAlias = Dict[str, Any]

@final
class KeyMarker:
    """INF_MIN, INF_MAX or PK_AUTO_INCR."""

    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> str: ...

INF_MIN: KeyMarker
INF_MAX: KeyMarker
PK_AUTO_INCR: KeyMarker

# ---- errors -------------------------------------------------------------------

class TablesyncError(Exception):
    code: str
    message: str

class InvalidArgument(TablesyncError): ...
class ConditionCheckFailed(TablesyncError): ...
class NotFound(TablesyncError): ...
class AlreadyExists(TablesyncError): ...
class CorruptData(TablesyncError): ...
class StorageError(TablesyncError): ...
class DatabaseClosed(TablesyncError): ...
class SyncError(TablesyncError): ...
class LogGap(SyncError): ...
class StorageStopped(StorageError): ...
class ClockDrift(SyncError): ...
class PeerProtocolViolation(SyncError): ...
class Unauthorized(TablesyncError): ...
class StaleEpoch(TablesyncError): ...
class StaleClusterMap(TablesyncError): ...
class Cancelled(TablesyncError): ...
class InternalError(TablesyncError): ...

# ---- results ------------------------------------------------------------------

@final
class Row:
    """A row returned by a read."""

    @property
    def primary_key(self) -> Dict[str, Union[int, str, bytes]]: ...
    @property
    def columns(self) -> Dict[str, Union[int, float, bool, str, bytes]]: ...
    @property
    def cells(self) -> List[Tuple[str, Union[int, float, bool, str, bytes], int]]: ...
    def __getitem__(self, name: str, /) -> Union[int, float, bool, str, bytes]: ...
    def get(self, name: str, default: Any = None) -> Any: ...
    def __contains__(self, name: str, /) -> bool: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class RangePage:
    """One page of a range read."""

    def __new__(cls, rows: List[Row], next_start: Optional[Dict[str, Any]]) -> RangePage: ...
    @property
    def rows(self) -> List[Row]: ...
    @property
    def next_start(self) -> Optional[Dict[str, Any]]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class ChangePage:
    """One page of the change log."""

    def __new__(cls, records: List[_ChangeRecord], next_cursor: int) -> ChangePage: ...
    @property
    def records(self) -> List[_ChangeRecord]: ...
    @property
    def next_cursor(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class ReadView:
    """A consistent snapshot of a region (``Database.read_view()``): reads
    from any thread that never wait for a writer's commit and never see
    one made after the view was taken."""

    @property
    def region(self) -> str: ...
    def is_current(self, db: Database) -> bool: ...
    def list_tables(self) -> List[str]: ...
    def get_row(
        self,
        table: str,
        primary_key: _PrimaryKey,
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
    ) -> Optional[Row]: ...
    def batch_get(
        self, requests: Sequence[Union[Dict[str, Any], Tuple[str, _PrimaryKey]]]
    ) -> List[BatchGetResult]: ...
    def get_range(
        self,
        table: str,
        start: _RangeBoundArg = None,
        end: _RangeBoundArg = None,
        direction: str = "FORWARD",
        limit: Optional[int] = None,
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
    ) -> RangePage: ...
    def scan(
        self,
        table: str,
        start: _RangeBoundArg = None,
        end: _RangeBoundArg = None,
        direction: str = "FORWARD",
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
        limit: Optional[int] = None,
    ) -> Scan: ...
    def describe_table(self, name: str) -> TableDescription: ...
    def range_digest(
        self, table: str, start: _RangeBoundArg = None, end: _RangeBoundArg = None
    ) -> Tuple[int, str]: ...
    def table_digest(self, table: str) -> str: ...
    def changes_since(self, cursor: Optional[int] = None, limit: Optional[int] = None) -> ChangePage: ...
    def next_cursor(self) -> int: ...

@final
class BatchResult:
    """The result of one batch_write operation."""

    @property
    def ok(self) -> bool: ...
    @property
    def table(self) -> str: ...
    @property
    def primary_key(self) -> Optional[Dict[str, Union[int, str, bytes]]]: ...
    @property
    def error(self) -> Optional[TablesyncError]: ...
    def __bool__(self) -> bool: ...

@final
class BatchGetResult:
    """The result of one batch_get request."""

    @property
    def ok(self) -> bool: ...
    @property
    def table(self) -> str: ...
    @property
    def row(self) -> Optional[Row]: ...
    @property
    def error(self) -> Optional[TablesyncError]: ...
    def __bool__(self) -> bool: ...

@final
class ApplyStats:
    """What apply_changes did."""

    @property
    def applied(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class TableDescription:
    """A table's schema, options and row count."""

    @property
    def name(self) -> str: ...
    @property
    def primary_key(self) -> List[Tuple[Any, ...]]: ...
    @property
    def max_versions(self) -> int: ...
    @property
    def time_to_live(self) -> int: ...
    @property
    def row_count(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Scan:
    """Iterator over every row of a range."""

    def __iter__(self) -> Scan: ...
    def __next__(self) -> Row: ...

# ---- sync -------------------------------------------------------------------------

_SyncMode: TypeAlias = Union[Literal["auto", "incremental", "full", "hybrid", "reconcile", "verify"], str]
_SyncDirection: TypeAlias = Union[Literal["pull", "push", "both"], str]

@final
class TableOutcome:
    """One table at the end of a sync session."""

    @property
    def table(self) -> str: ...
    @property
    def local(self) -> Optional[str]: ...
    @property
    def remote(self) -> Optional[str]: ...
    @property
    def equal(self) -> bool: ...
    @property
    def differing_keys(self) -> List[Dict[str, Union[int, str, bytes]]]: ...

@final
class Health:
    """Refusals of peer input and background failures of a region."""

    @property
    def clock_drift_refusals(self) -> int: ...
    @property
    def peer_violations(self) -> int: ...
    @property
    def background_failures(self) -> int: ...
    @property
    def last_background_error(self) -> Optional[str]: ...

@final
class SyncReport:
    """What a sync session did."""

    @property
    def mode(self) -> str: ...
    @property
    def fell_back_to_reconcile(self) -> bool: ...
    @property
    def bytes_sent(self) -> int: ...
    @property
    def bytes_received(self) -> int: ...
    @property
    def round_trips(self) -> int: ...
    @property
    def records_pulled(self) -> int: ...
    @property
    def records_pushed(self) -> int: ...
    @property
    def rows_pulled(self) -> int: ...
    @property
    def rows_pushed(self) -> int: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def verified(self) -> bool: ...
    @property
    def tables(self) -> List[TableOutcome]: ...
    def differing_keys(self) -> Dict[str, List[Dict[str, Union[int, str, bytes]]]]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class SyncSession:
    """The initiating side of one sync session, driven by hand."""

    def __new__(
        cls,
        mode: _SyncMode = "auto",
        direction: _SyncDirection = "both",
        tables: Optional[Sequence[str]] = None,
        session_id: Optional[int] = None,
        max_frame_bytes: Optional[int] = None,
        initial_symbols: Optional[int] = None,
    ) -> SyncSession: ...
    @property
    def session_id(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def max_frame_bytes(self) -> int: ...
    def start(self, db: Database) -> bytes: ...
    def receive(self, db: Database, reply: Union[bytes, bytearray]) -> Union[bytes, SyncReport]: ...

def respond(db: Database, request: Union[bytes, bytearray], max_frame_bytes: Optional[int] = None) -> bytes: ...

@final
class Server:
    """A running HTTP sync server for one database."""

    @property
    def url(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def stopped(self) -> bool: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...

@final
class Feed:
    """A server's change records as they commit (dicts; see docs/SERVER.md)."""

    @property
    def cursor(self) -> int: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> Dict[str, Any]: ...

def follow(
    url: str,
    token: str,
    *,
    after: int = 0,
    wait_ms: int = 25000,
    ca_file: Optional[Union[str, os.PathLike[str]]] = None,
) -> Feed: ...

@final
class LinkStatus:
    """A replication link's status at one moment."""

    @property
    def name(self) -> str: ...
    @property
    def peer(self) -> str: ...
    @property
    def state(self) -> Literal["created", "running", "paused", "stopped"] | str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def lag_ms(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def records_shipped(self) -> int: ...
    @property
    def bytes_shipped(self) -> int: ...
    @property
    def last_success(self) -> Optional[int]: ...
    @property
    def last_error(self) -> Optional[str]: ...
    @property
    def rpo_ms(self) -> Optional[int]: ...
    @property
    def in_flight(self) -> bool: ...

@final
class Link:
    """A replication link running on a background thread (``Database.replicate``)."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def trigger(self) -> None: ...
    def wait_idle(self, timeout: float = 10.0) -> bool: ...
    def stop(self) -> None: ...
    def status(self) -> LinkStatus: ...

# ---- the database ---------------------------------------------------------------

@final
class Database:
    """One region: tables, change log and storage."""

    @staticmethod
    def memory(
        region: str = "a", *, clock: Optional[int] = None, max_clock_drift: Optional[int] = None
    ) -> Database: ...
    @staticmethod
    def open(
        path: Union[str, os.PathLike[str]],
        region: str = "a",
        sync: Literal["always", "batch", "never"] | str = "always",
        *,
        clock: Optional[int] = None,
        checkpoint_bytes: Optional[int] = None,
        max_clock_drift: Optional[int] = None,
        cache_bytes: Optional[int] = None,
        rows_in_memory: bool = False,
    ) -> Database: ...
    @staticmethod
    def import_snapshot(data: Union[bytes, bytearray], *, clock: Optional[int] = None) -> Database: ...
    @property
    def region(self) -> str: ...
    @property
    def is_durable(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...
    @property
    def max_clock_drift(self) -> int: ...
    def paged_stats(self) -> Optional[Dict[str, int]]: ...
    def health(self) -> Health: ...
    def flush(self) -> None: ...
    def checkpoint(self) -> None: ...
    def now_ms(self) -> int: ...
    def set_time(self, ms: int) -> None: ...
    def advance_time(self, ms: int) -> None: ...
    def create_table(
        self,
        name: str,
        primary_key: Sequence[Union[Tuple[str, str], Tuple[str, str, Any]]],
        max_versions: Optional[int] = None,
        time_to_live: Optional[int] = None,
    ) -> None: ...
    def read_view(self) -> ReadView: ...
    def list_tables(self) -> List[str]: ...
    def describe_table(self, name: str) -> TableDescription: ...
    def update_table(
        self, name: str, max_versions: Optional[int] = None, time_to_live: Optional[int] = None
    ) -> None: ...
    def delete_table(self, name: str) -> None: ...
    def put_row(
        self,
        table: str,
        primary_key: _PrimaryKey,
        columns: Optional[_Columns] = None,
        condition: _Condition = None,
    ) -> Dict[str, Union[int, str, bytes]]: ...
    def get_row(
        self,
        table: str,
        primary_key: _PrimaryKey,
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
    ) -> Optional[Row]: ...
    def update_row(
        self,
        table: str,
        primary_key: _PrimaryKey,
        put: Optional[_Columns] = None,
        delete: Optional[Union[Mapping[str, int], Sequence[Tuple[str, int]]]] = None,
        delete_all: Optional[Sequence[str]] = None,
        increment: Optional[Union[Mapping[str, int], Sequence[Tuple[str, int]]]] = None,
        condition: _Condition = None,
    ) -> Dict[str, Union[int, str, bytes]]: ...
    def delete_row(self, table: str, primary_key: _PrimaryKey, condition: _Condition = None) -> None: ...
    def get_range(
        self,
        table: str,
        start: _RangeBoundArg,
        end: _RangeBoundArg,
        direction: str = "FORWARD",
        limit: Optional[int] = None,
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
    ) -> RangePage: ...
    def scan(
        self,
        table: str,
        start: _RangeBoundArg = None,
        end: _RangeBoundArg = None,
        direction: str = "FORWARD",
        columns: Optional[Sequence[str]] = None,
        max_versions: Optional[int] = None,
        time_range: _TimeRange = None,
        column_filter: Optional[_ColumnCondition] = None,
        limit: Optional[int] = None,
    ) -> Scan: ...
    def batch_write(self, ops: Sequence[Dict[str, Any]]) -> List[BatchResult]: ...
    def batch_get(
        self, requests: Sequence[Union[Dict[str, Any], Tuple[str, _PrimaryKey]]]
    ) -> List[BatchGetResult]: ...
    def copy_table(
        self,
        source: str,
        target_table: str,
        target: Optional[Database] = None,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> int: ...
    def backup(
        self,
        repo: str,
        tables: Optional[Sequence[str]] = None,
        passphrase: Union[str, bytes, None] = None,
        *,
        key_file: Union[str, os.PathLike[str], None] = None,
        full: bool = False,
    ) -> BackupInfo: ...
    def table_digest(self, table: str) -> str: ...
    def verify_table_digest(self, table: str) -> str: ...
    def range_digest(
        self, table: str, start: _RangeBoundArg = None, end: _RangeBoundArg = None
    ) -> Tuple[int, str]: ...
    def changes_since(self, cursor: Optional[int] = None, limit: Optional[int] = None) -> ChangePage: ...
    def version_vector(self) -> Dict[str, int]: ...
    def next_cursor(self) -> int: ...
    def apply_changes(self, records: Union[Sequence[_ChangeRecord], ChangePage]) -> ApplyStats: ...
    def export_snapshot(self) -> bytes: ...
    def truncate_log(self, cursor: int) -> None: ...
    def set_retention(
        self, max_records: Optional[int] = None, max_age_ms: Optional[int] = None
    ) -> None: ...
    def enforce_retention(self) -> int: ...
    def sync_with(
        self,
        other: Database,
        mode: _SyncMode = "auto",
        direction: _SyncDirection = "both",
        tables: Optional[Sequence[str]] = None,
        max_frame_bytes: Optional[int] = None,
        initial_symbols: Optional[int] = None,
    ) -> SyncReport: ...
    def verify(self, other: Database, tables: Optional[Sequence[str]] = None) -> SyncReport: ...
    def repair(self, other: Database, tables: Optional[Sequence[str]] = None) -> SyncReport: ...
    def sync_url(
        self,
        url: str,
        token: str,
        mode: _SyncMode = "auto",
        direction: _SyncDirection = "both",
        tables: Optional[Sequence[str]] = None,
        max_frame_bytes: Optional[int] = None,
        initial_symbols: Optional[int] = None,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> SyncReport: ...
    def serve(
        self,
        listen: str = "127.0.0.1:0",
        *,
        token: str,
        max_body_bytes: Optional[int] = None,
        tls_cert: Optional[Union[str, os.PathLike[str]]] = None,
        tls_key: Optional[Union[str, os.PathLike[str]]] = None,
        read_tokens: Optional[Sequence[str]] = None,
        insecure_http: bool = False,
        peers: Optional[Union[Mapping[str, str], Sequence[str]]] = None,
        link_trigger: str = "realtime",
        link_direction: _SyncDirection = "push",
        heartbeat: str = "100ms",
        phi_threshold: float = 8.0,
        group_primary: Optional[str] = None,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        lease: Optional[str] = None,
        grace: Optional[str] = None,
        min_silence: Optional[str] = None,
    ) -> Server: ...
    def replicate(
        self,
        target: Union[Database, str],
        trigger: str = "realtime",
        direction: _SyncDirection = "push",
        tables: Optional[Sequence[str]] = None,
        *,
        token: str = "",
        name: Optional[str] = None,
        epoch: Optional[int] = None,
    ) -> Link: ...

# ---- backups ------------------------------------------------------------------------

@final
class BackupInfo:
    """One backup in a repository."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def parent(self) -> Optional[str]: ...
    @property
    def created_ms(self) -> int: ...
    @property
    def region(self) -> str: ...
    @property
    def point(self) -> int: ...
    @property
    def covers_from(self) -> int: ...
    @property
    def tables(self) -> List[str]: ...
    @property
    def rows(self) -> int: ...
    @property
    def records(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def new_bytes(self) -> int: ...
    @property
    def created(self) -> bool: ...

@final
class VerifyReport:
    """What Backups.verify() found."""

    @property
    def ok(self) -> bool: ...
    @property
    def manifests(self) -> int: ...
    @property
    def chunks_referenced(self) -> int: ...
    @property
    def chunks_checked(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def unreferenced_chunks(self) -> int: ...
    @property
    def backups_replayed(self) -> int: ...
    @property
    def problems(self) -> List[str]: ...

@final
class Backups:
    """A backup repository (a directory)."""

    def __new__(
        cls,
        repo: str,
        *,
        passphrase: Union[str, bytes, None] = None,
        key_file: Union[str, os.PathLike[str], None] = None,
    ) -> Backups: ...
    def list(self) -> List[BackupInfo]: ...
    def verify(self, deep: bool = False, sample: Optional[Tuple[int, int]] = None) -> VerifyReport: ...
    def prune(
        self, keep_last: Optional[int] = None, keep_daily: Optional[int] = None, dry_run: bool = False
    ) -> List[str]: ...

def backup_server(
    url: str,
    repo: str,
    *,
    token: str,
    tables: Optional[Sequence[str]] = None,
    passphrase: Union[str, bytes, None] = None,
    key_file: Union[str, os.PathLike[str], None] = None,
    full: bool = False,
    ca_file: Union[str, os.PathLike[str], None] = None,
    insecure_http: bool = False,
) -> BackupInfo: ...
def restore(
    repo: str,
    dest: Union[str, os.PathLike[str], None] = None,
    *,
    at: Any = None,
    at_stamp: Optional[int] = None,
    backup: Optional[str] = None,
    tables: Optional[Sequence[str]] = None,
    rename: Optional[Mapping[str, str]] = None,
    region: Optional[str] = None,
    passphrase: Union[str, bytes, None] = None,
    key_file: Union[str, os.PathLike[str], None] = None,
) -> Database: ...

# The cluster client (issue 16).

__all__ += ["Cluster", "ClusterBatch", "ClusterWrite"]

@final
class ClusterWrite:
    """An acknowledged cluster write."""

    @property
    def home(self) -> str: ...
    @property
    def degraded(self) -> bool: ...

@final
class ClusterBatch:
    """The outcome of `Cluster.batch_write`."""

    @property
    def committed(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def txn(self) -> int: ...
    @property
    def participants(self) -> int: ...

@final
class Cluster:
    """A client of a tablesync cluster (regions served with `tablesync serve --cluster`)."""

    def __new__(
        cls,
        map_or_url: Union[str, bytes, os.PathLike[str]],
        *,
        token: str,
        local_dc: Optional[str] = None,
        ca_file: Union[str, os.PathLike[str], None] = None,
        attempts: int = 5,
        write_timeout: float = 10.0,
        seed: Optional[int] = None,
    ) -> Cluster: ...
    @property
    def map_epoch(self) -> int: ...
    def map_bytes(self) -> bytes: ...
    def refresh_map(self) -> int: ...
    def push_map(self) -> List[str]: ...
    def is_degraded(self, table: str) -> bool: ...
    def requests_per_datacenter(self) -> Dict[str, int]: ...
    def put_row(
        self,
        table: str,
        primary_key: Any,
        columns: Any = None,
        condition: Any = None,
        *,
        mode: Optional[str] = None,
    ) -> ClusterWrite: ...
    def update_row(
        self,
        table: str,
        primary_key: Any,
        put: Any = None,
        delete: Any = None,
        delete_all: Optional[Sequence[str]] = None,
        condition: Any = None,
        *,
        mode: Optional[str] = None,
    ) -> ClusterWrite: ...
    def delete_row(
        self, table: str, primary_key: Any, condition: Any = None, *, mode: Optional[str] = None
    ) -> ClusterWrite: ...
    def get_row(self, table: str, primary_key: Any, level: str = "ONE") -> Optional[Row]: ...
    def get_range(self, table: str, start: Any = None, end: Any = None, limit: int = 100) -> RangePage: ...
    def batch_write(self, ops: Sequence[Mapping[str, Any]]) -> ClusterBatch: ...

__all__ += ["cluster_message_kinds", "cluster_messages_reencode", "txn_record_kind", "txn_record_reencode"]

def cluster_message_kinds(frame: bytes) -> List[str]: ...
def cluster_messages_reencode(frame: bytes) -> bytes: ...
def txn_record_kind(frame: bytes) -> str: ...
def txn_record_reencode(frame: bytes) -> bytes: ...
