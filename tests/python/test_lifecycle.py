"""Open, close, context manager, errors on a closed database, exception classes."""

from __future__ import annotations

import pytest
import tablesync


def test_context_manager_closes() -> None:
    with tablesync.Database.memory("x") as db:
        assert isinstance(db, tablesync.Database)
        assert db.region == "x" and not db.closed and not db.is_durable
        db.create_table("t", [("k", "INTEGER")])
    assert db.closed
    with pytest.raises(tablesync.DatabaseClosed) as ei:
        db.list_tables()
    assert ei.value.code == "DatabaseClosed"
    assert repr(db) == "Database(region='x', closed)"


def test_context_manager_does_not_swallow_exceptions() -> None:
    with pytest.raises(ZeroDivisionError):
        with tablesync.Database.memory("x") as db:
            1 / 0
    assert db.closed


def test_every_method_on_a_closed_database_raises_database_closed() -> None:
    db = tablesync.Database.memory("x")
    db.create_table("t", [("k", "INTEGER")])
    db.close()
    db.close()  # idempotent
    calls = [
        lambda: db.create_table("u", [("k", "INTEGER")]),
        lambda: db.describe_table("t"),
        lambda: db.update_table("t", max_versions=2),
        lambda: db.delete_table("t"),
        lambda: db.put_row("t", {"k": 1}, {"v": 1}),
        lambda: db.get_row("t", {"k": 1}),
        lambda: db.update_row("t", {"k": 1}, put={"v": 1}),
        lambda: db.delete_row("t", {"k": 1}),
        lambda: db.get_range("t", tablesync.INF_MIN, tablesync.INF_MAX),
        lambda: db.scan("t"),
        lambda: db.batch_write([{"op": "delete", "table": "t", "primary_key": {"k": 1}}]),
        lambda: db.batch_get([("t", {"k": 1})]),
        lambda: db.copy_table("t", "u"),
        lambda: db.table_digest("t"),
        lambda: db.verify_table_digest("t"),
        lambda: db.changes_since(),
        lambda: db.version_vector(),
        lambda: db.apply_changes([]),
        lambda: db.export_snapshot(),
        lambda: db.flush(),
        lambda: db.checkpoint(),
        lambda: db.next_cursor(),
    ]
    for call in calls:
        with pytest.raises(tablesync.DatabaseClosed):
            call()
    other = tablesync.Database.memory("y")
    other.create_table("t", [("k", "INTEGER")])
    with pytest.raises(tablesync.DatabaseClosed):
        other.copy_table("t", "t2", target=db)


def test_exception_hierarchy_and_attributes() -> None:
    for cls in (tablesync.InvalidArgument, tablesync.ConditionCheckFailed, tablesync.NotFound,
                tablesync.AlreadyExists, tablesync.CorruptData, tablesync.StorageError,
                tablesync.SyncError, tablesync.DatabaseClosed, tablesync.LogGap, tablesync.InternalError):
        assert issubclass(cls, tablesync.TablesyncError)
        assert issubclass(cls, Exception)
        assert isinstance(cls.code, str) and cls.code
    assert tablesync.TablesyncError.__module__ == "tablesync"
    assert tablesync.ConditionCheckFailed.code == "OTSConditionCheckFail"
    e = tablesync.NotFound("hand-made")
    assert e.code == "OTSObjectNotExist" and e.message == ""
    db = tablesync.Database.memory("x")
    try:
        db.describe_table("zz")
    except tablesync.TablesyncError as err:
        assert err.code == "OTSObjectNotExist"
        assert err.message == "table 'zz' does not exist"
        assert str(err) == "OTSObjectNotExist: table 'zz' does not exist"


def test_bad_region_and_sync_policy() -> None:
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("")
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("r" * 256)
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("a\nb")
    with pytest.raises(TypeError):
        tablesync.Database.memory(5)  # type: ignore[arg-type]
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("x", clock=-1)
    with pytest.raises(TypeError):
        tablesync.Database.memory("x", clock=1.5)  # type: ignore[arg-type]
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.open("/tmp/never-created-tablesync", sync="sometimes")


def test_version() -> None:
    assert isinstance(tablesync.__version__, str) and tablesync.__version__.count(".") == 2


def test_hardening_exception_classes() -> None:
    # Issue 12: codes of their own for a stopped region, clock drift, peer
    # protocol violations, unauthorized peers and stale epochs.
    for cls, parent, code in (
        (tablesync.StorageStopped, tablesync.StorageError, "StorageStopped"),
        (tablesync.ClockDrift, tablesync.SyncError, "ClockDrift"),
        (tablesync.PeerProtocolViolation, tablesync.SyncError, "PeerProtocolViolation"),
        (tablesync.Unauthorized, tablesync.TablesyncError, "Unauthorized"),
        (tablesync.StaleEpoch, tablesync.TablesyncError, "StaleEpoch"),
    ):
        assert issubclass(cls, parent) and issubclass(cls, tablesync.TablesyncError)
        assert cls.code == code
        assert cls.__name__ in tablesync.__all__
