"""`Database.read_view()`: a consistent snapshot of a region, read from any
thread without the database's lock, never showing a later commit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import tablesync


def _load(db: tablesync.Database, n: int) -> None:
    db.create_table("t", [("k", "INTEGER")])
    for at in range(0, n, 200):
        db.batch_write(
            [
                {"op": "put", "table": "t", "primary_key": {"k": k}, "columns": {"v": k}}
                for k in range(at, min(n, at + 200))
            ]
        )


def test_a_view_keeps_its_moment_across_later_writes() -> None:
    db = tablesync.Database.memory("eu", clock=1_700_000_000_000)
    _load(db, 100)
    digest, cursor = db.table_digest("t"), db.next_cursor()
    view = db.read_view()
    assert view.region == "eu" and view.is_current(db)

    db.put_row("t", {"k": 5}, {"v": -5})
    db.delete_row("t", {"k": 6})
    db.create_table("later", [("k", "INTEGER")])
    assert not view.is_current(db)

    # The view: as it was.
    assert view.list_tables() == ["t"]
    assert view.table_digest("t") == digest != db.table_digest("t")
    assert view.next_cursor() == cursor
    row = view.get_row("t", {"k": 5})
    assert row is not None and row.columns["v"] == 5
    assert view.get_row("t", {"k": 6}) is not None
    page = view.get_range("t", limit=1000)
    assert [r.primary_key["k"] for r in page.rows] == list(range(100))
    back = view.get_range("t", {"k": 10}, {"k": 5}, direction="BACKWARD")
    assert [r.primary_key["k"] for r in back.rows] == [10, 9, 8, 7, 6]
    assert len(view.changes_since(0, 1000).records) == len(db.changes_since(0, 1000).records) - 2
    assert view.describe_table("t").row_count == 100
    assert view.range_digest("t") == (100, digest)
    assert view.range_digest("t", {"k": 5}, {"k": 7})[0] == 2
    assert view.range_digest("t", {"k": 5}, {"k": 7}) != db.range_digest("t", {"k": 5}, {"k": 7})
    # A scan of the view, with writes between its pages: still the view's moment.
    scan = view.scan("t")
    first = next(scan)
    db.batch_write(
        [{"op": "put", "table": "t", "primary_key": {"k": k}, "columns": {"v": -1}} for k in range(100) if k != 6]
    )
    assert [first.columns["v"]] + [r.columns["v"] for r in scan] == list(range(100))
    assert [r.primary_key["k"] for r in view.scan("t", {"k": 10}, {"k": 7}, direction="BACKWARD")] == [10, 9, 8]
    assert len(list(view.scan("t", limit=7))) == 7
    # A batch get of the view: rows as of the view, a typed error per
    # request that fails, in request order.
    got = view.batch_get([("t", {"k": 5}), {"table": "t", "primary_key": {"k": 6}}, ("t", {"k": 1000}), ("nope", {"k": 1})])
    assert [r.ok for r in got] == [True, True, True, False]
    assert got[0].row.columns["v"] == 5 and got[1].row is not None and got[2].row is None
    assert isinstance(got[3].error, tablesync.NotFound) and got[3].table == "nope"
    live = db.batch_get([("t", {"k": 5}), ("t", {"k": 6})])
    assert live[0].row.columns["v"] == -1 and live[1].row is None
    assert all(r.columns["v"] == -1 for r in db.scan("t", limit=5))

    # The database and a new view: now.
    assert db.get_row("t", {"k": 6}) is None
    now = db.read_view()
    assert now.table_digest("t") == db.table_digest("t")
    assert now.list_tables() == ["later", "t"]


def test_bad_arguments_on_a_view_are_typed_errors() -> None:
    db = tablesync.Database.memory("eu")
    _load(db, 3)
    view = db.read_view()
    with pytest.raises(tablesync.NotFound) as e:
        view.get_row("missing", {"k": 1})
    assert e.value.code == "OTSObjectNotExist"
    with pytest.raises(tablesync.InvalidArgument):
        view.changes_since(0, -1)
    with pytest.raises(tablesync.InvalidArgument) as e:
        view.get_row("t", {"k": "one"})
    assert e.value.code == "OTSInvalidPK"


def test_views_read_a_durable_region_while_a_thread_commits(tmp_path: Path) -> None:
    with tablesync.Database.open(tmp_path / "r", region="eu", sync="always") as db:
        _load(db, 500)
        view = db.read_view()
        digest = view.table_digest("t")
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                k = 0
                while not stop.is_set():
                    db.put_row("t", {"k": k % 500}, {"v": -k})  # fsync per commit
                    k += 1
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        try:
            reads = 0
            while reads < 2000 or db.table_digest("t") == digest:
                k = reads % 500
                row = view.get_row("t", {"k": k})
                assert row is not None and row.columns["v"] == k, (k, row)
                reads += 1
            assert view.table_digest("t") == digest
            assert [r.columns["v"] for r in view.get_range("t", limit=500).rows] == list(range(500))
        finally:
            stop.set()
            t.join()
        assert not errors, errors
        assert db.table_digest("t") != digest
        assert db.read_view().table_digest("t") == db.table_digest("t")
