"""batch_write and batch_get: per-operation results."""

from __future__ import annotations

import pytest
import tablesync


def test_batch_write_results_per_op(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"a": 1})
    results = db.batch_write([
        {"op": "put", "table": "users", "primary_key": {"uid": 2}, "columns": {"a": 2}},
        {"op": "update", "table": "users", "primary_key": {"uid": 1}, "put": {"b": 1}, "increment": {"a": 10}},
        {"op": "put", "table": "users", "primary_key": {"uid": 3}, "columns": {"a": 3}, "condition": "EXPECT_EXIST"},
        {"op": "DELETE", "table": "users", "primary_key": {"uid": 4}},
        {"op": "delete", "table": "nope", "primary_key": {"uid": 1}},
    ])
    assert [r.ok for r in results] == [True, True, False, True, False]
    assert [bool(r) for r in results] == [True, True, False, True, False]
    assert results[0].primary_key == {"uid": 2} and results[0].error is None
    assert results[0].table == "users"
    assert isinstance(results[2].error, tablesync.ConditionCheckFailed)
    assert results[2].error.code == "OTSConditionCheckFail" and results[2].primary_key is None
    assert isinstance(results[4].error, tablesync.NotFound) and results[4].table == "nope"
    assert "ok=False" in repr(results[2]) and "ok=True" in repr(results[0])
    assert db.get_row("users", {"uid": 1}).columns == {"a": 11, "b": 1}
    assert db.get_row("users", {"uid": 3}) is None


def test_batch_write_limits_and_shape_errors(db: tablesync.Database) -> None:
    put = lambda k: {"op": "put", "table": "users", "primary_key": {"uid": k}, "columns": {"a": k}}  # noqa: E731
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([put(k) for k in range(201)])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([put(1), put(1)])  # same row twice
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([{"op": "upsert", "table": "users", "primary_key": {"uid": 1}}])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([{"op": "put", "table": "users", "primary_key": {"uid": 1}, "colums": {}}])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_write([{"op": "put", "table": "users"}])
    with pytest.raises(TypeError):
        db.batch_write(put(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.batch_write([("put", "users", {"uid": 1})])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        db.batch_write([put(1), {"op": "put", "table": "users", "primary_key": {"uid": 2}, "columns": {"a": object()}}])
    assert db.next_cursor() == 1  # nothing was written by any of these
    assert all(db.batch_write([put(k) for k in range(200)]))
    assert db.describe_table("users").row_count == 200


def test_batch_get(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"a": 1, "b": 2})
    results = db.batch_get([
        ("users", {"uid": 1}),
        {"table": "users", "primary_key": {"uid": 1}, "columns": ["b"]},
        {"table": "users", "primary_key": {"uid": 2}},
        {"table": "nope", "primary_key": {"uid": 1}},
        {"table": "users", "primary_key": {"uid": 1}, "column_filter": tablesync.col("a") > 5},
    ])
    assert [r.ok for r in results] == [True, True, True, False, True]
    assert results[0].row.columns == {"a": 1, "b": 2}
    assert results[1].row.columns == {"b": 2}
    assert results[2].row is None and results[2].error is None
    assert isinstance(results[3].error, tablesync.NotFound) and results[3].row is None
    assert results[4].row is None
    assert "BatchGetResult(ok=True" in repr(results[0])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_get([("users", {"uid": k}) for k in range(101)])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_get([])
    with pytest.raises(tablesync.InvalidArgument):
        db.batch_get([{"table": "users", "primary_key": {"uid": 1}, "colums": ["a"]}])
    with pytest.raises(TypeError):
        db.batch_get([("users",)])  # type: ignore[list-item]
