"""Row operations: put, get, update, delete, versions, conditions, filters."""

from __future__ import annotations

import pytest
import tablesync
from conftest import T0
from tablesync import col


def test_put_get_delete(db: tablesync.Database) -> None:
    assert db.get_row("users", {"uid": 1}) is None
    assert db.put_row("users", {"uid": 1}, {"name": "Ada", "age": 36}) == {"uid": 1}
    row = db.get_row("users", {"uid": 1})
    assert row is not None
    assert row.primary_key == {"uid": 1}
    assert row.columns == {"age": 36, "name": "Ada"}
    assert row.cells == [("age", 36, T0), ("name", "Ada", T0)]
    assert row["name"] == "Ada" and row.get("zzz") is None and row.get("zzz", 5) == 5
    assert "age" in row and "zzz" not in row and len(row) == 2
    with pytest.raises(KeyError):
        row["zzz"]
    assert repr(row) == "Row(primary_key={'uid': 1}, columns={'age': 36, 'name': 'Ada'})"
    assert row == db.get_row("users", {"uid": 1})
    # put replaces the whole row
    db.put_row("users", {"uid": 1}, {"name": "Bob"})
    assert db.get_row("users", {"uid": 1}).columns == {"name": "Bob"}
    db.delete_row("users", {"uid": 1})
    assert db.get_row("users", {"uid": 1}) is None
    assert db.describe_table("users").row_count == 0


def test_put_without_columns_makes_an_empty_row(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1})
    row = db.get_row("users", {"uid": 1})
    assert row is not None and row.columns == {} and len(row) == 0


def test_update_put_delete_increment(db: tablesync.Database) -> None:
    db.update_row("users", {"uid": 1}, put={"a": 1, "b": "x"}, increment={"n": 5})
    assert db.get_row("users", {"uid": 1}).columns == {"a": 1, "b": "x", "n": 5}
    db.update_row("users", {"uid": 1}, increment=[("n", -7)], delete_all=["b"])
    assert db.get_row("users", {"uid": 1}).columns == {"a": 1, "n": -2}
    with pytest.raises(tablesync.InvalidArgument):
        db.update_row("users", {"uid": 1}, put={"s": "str"}, increment={"a": 1, "s2": 1})
        db.update_row("users", {"uid": 1}, increment={"s": 1})


def test_increment_of_a_string_column_fails_and_changes_nothing(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"s": "x"})
    cursor = db.next_cursor()
    with pytest.raises(tablesync.InvalidArgument):
        db.update_row("users", {"uid": 1}, increment={"s": 1})
    assert db.next_cursor() == cursor and db.get_row("users", {"uid": 1})["s"] == "x"


def test_versions_timestamps_and_time_range(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("t", [("k", "INTEGER")], max_versions=3)
    for ts in (100, 200, 300, 400):
        db.update_row("t", {"k": 1}, put=[("v", ts // 100, ts)])
    row = db.get_row("t", {"k": 1}, max_versions=5)
    assert row.cells == [("v", 4, 400), ("v", 3, 300), ("v", 2, 200)]  # table keeps 3
    assert row["v"] == 4 and row.columns == {"v": 4}
    assert db.get_row("t", {"k": 1}).cells == [("v", 4, 400)]
    assert db.get_row("t", {"k": 1}, max_versions=3, time_range=(200, 400)).cells == [
        ("v", 3, 300), ("v", 2, 200)]
    assert db.get_row("t", {"k": 1}, max_versions=3, time_range=300).cells == [("v", 3, 300)]
    db.update_row("t", {"k": 1}, delete=[("v", 300)])
    # The deleted version is gone but keeps its place among the newest 3
    # (FORMAT.md §5.1): 100 was trimmed when 400 arrived and stays hidden.
    assert [c[2] for c in db.get_row("t", {"k": 1}, max_versions=3).cells] == [400, 200]
    with pytest.raises(tablesync.InvalidArgument):
        db.get_row("t", {"k": 1}, max_versions=0)
    with pytest.raises(TypeError):
        db.get_row("t", {"k": 1}, time_range=(1, 2, 3))  # type: ignore[arg-type]


def test_columns_to_get(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"a": 1, "b": 2, "c": 3})
    assert db.get_row("users", {"uid": 1}, columns=["a", "c"]).columns == {"a": 1, "c": 3}
    with pytest.raises(TypeError):
        db.get_row("users", {"uid": 1}, columns="a")  # type: ignore[arg-type]


def test_manual_clock_stamps_versions(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"a": 1})
    db.advance_time(5)
    db.update_row("users", {"uid": 1}, put={"b": 2})
    assert db.get_row("users", {"uid": 1}).cells == [("a", 1, T0), ("b", 2, T0 + 5)]
    db.set_time(T0 + 1000)
    assert db.now_ms() == T0 + 1000
    with pytest.raises(tablesync.InvalidArgument):
        db.advance_time(-1)
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("x").set_time(5)


def test_row_existence_conditions(db: tablesync.Database) -> None:
    with pytest.raises(tablesync.ConditionCheckFailed) as ei:
        db.update_row("users", {"uid": 1}, put={"a": 1}, condition="EXPECT_EXIST")
    assert ei.value.code == "OTSConditionCheckFail"
    assert "EXPECT_EXIST" in ei.value.message
    db.put_row("users", {"uid": 1}, {"a": 1}, condition="EXPECT_NOT_EXIST")
    with pytest.raises(tablesync.ConditionCheckFailed):
        db.put_row("users", {"uid": 1}, {"a": 2}, condition="EXPECT_NOT_EXIST")
    db.put_row("users", {"uid": 1}, {"a": 2}, condition="expect_exist")
    db.delete_row("users", {"uid": 1}, condition={"row": "EXPECT_EXIST"})
    with pytest.raises(tablesync.ConditionCheckFailed):
        db.delete_row("users", {"uid": 1}, condition="EXPECT_EXIST")
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition="MAYBE")


def test_column_conditions_dict_and_expression_forms(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"age": 30, "name": "Ada"})
    ok_forms = [
        {"column": "age", "op": ">=", "value": 20},
        col("age") >= 20,
        {"row": "EXPECT_EXIST", "column": col("age") > 29},
        {"row": "EXPECT_EXIST", "column": {"column": "age", "op": "<", "value": 31}},
        (col("age") > 100) | (col("name") == "Ada"),
        ~(col("age") < 20) & (col("name") != "Bob"),
        {"and": [{"column": "age", "op": "==", "value": 30}, {"not": {"column": "name", "op": "==", "value": "x"}}]},
        col("missing") == 1,  # pass_if_missing defaults to True
    ]
    for i, c in enumerate(ok_forms):
        db.update_row("users", {"uid": 1}, put={"n": i}, condition=c)
    failing = [
        col("age") < 20,
        {"row": "EXPECT_EXIST", "column": col("age") > 30},
        col("missing", pass_if_missing=False) == 1,
        {"column": "missing", "op": "==", "value": 1, "pass_if_missing": False},
        (col("age") > 100) & (col("name") == "Ada"),
        ~(col("age") == 30),
    ]
    for c in failing:
        with pytest.raises(tablesync.ConditionCheckFailed):
            db.update_row("users", {"uid": 1}, put={"n": -1}, condition=c)
    assert db.get_row("users", {"uid": 1})["n"] == len(ok_forms) - 1


def test_latest_version_only(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("t", [("k", "INTEGER")], max_versions=5)
    db.update_row("t", {"k": 1}, put=[("v", 1, 10)])
    db.update_row("t", {"k": 1}, put=[("v", 2, 20)])
    assert db.get_row("t", {"k": 1}, column_filter=col("v") == 1) is None
    assert db.get_row("t", {"k": 1}, column_filter=col("v", latest_version_only=False) == 1) is not None


def test_column_filter_on_get(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"age": 30})
    assert db.get_row("users", {"uid": 1}, column_filter=col("age") > 40) is None
    assert db.get_row("users", {"uid": 1}, column_filter={"column": "age", "op": "<=", "value": 30}) is not None
    # Filters may name primary-key columns.
    assert db.get_row("users", {"uid": 1}, column_filter=col("uid") == 1) is not None
    assert db.get_row("users", {"uid": 1}, column_filter=col("uid") == 2) is None


def test_limits_are_errors_not_truncation(db: tablesync.Database) -> None:
    with pytest.raises(tablesync.InvalidArgument) as ei:
        db.put_row("users", {"uid": 1}, {f"c{i}": i for i in range(1025)})
    assert ei.value.code == "OTSOutOfColumnCountLimit"
    with pytest.raises(tablesync.InvalidArgument) as ei:
        db.put_row("users", {"uid": 1}, {"big": b"x" * (2 * 1024 * 1024 + 1)})
    assert ei.value.code == "OTSOutOfRowSizeLimit"
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 1}, {"bad\nname": 1})
    assert db.next_cursor() == 1
