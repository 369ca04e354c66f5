"""The `col()` expression builder and malformed conditions."""

from __future__ import annotations

import pytest
import tablesync
from tablesync import col


def test_expressions_build_the_dict_form() -> None:
    assert (col("age") >= 20).to_dict() == {
        "column": "age", "op": ">=", "value": 20, "pass_if_missing": True, "latest_version_only": True}
    e = (col("a") == 1) & (col("b") != 2) & (col("c") < 3)
    assert list(e.to_dict()) == ["and"] and len(e.to_dict()["and"]) == 3  # flattened
    o = (col("a") > 1) | (col("b") <= 2)
    assert [x["op"] for x in o.to_dict()["or"]] == [">", "<="]
    n = ~(col("a") == 1)
    assert n.to_dict()["not"]["op"] == "=="
    mixed = (col("a") == 1) & {"column": "b", "op": "==", "value": 2}
    assert len(mixed.to_dict()["and"]) == 2
    rmixed = {"column": "b", "op": "==", "value": 2} | (col("a") == 1)
    assert rmixed.to_dict()["or"][0]["column"] == "b"


def test_expression_repr() -> None:
    e = (col("age") >= 20) & ~(col("name", pass_if_missing=False) == "x")
    assert repr(e) == "(col('age') >= 20 & ~col('name', pass_if_missing=False) == 'x')"
    assert repr(col("a")) == "col('a')"


def test_expressions_refuse_truthiness() -> None:
    with pytest.raises(TypeError, match="truth value"):
        bool(col("a") == 1)
    with pytest.raises(TypeError):
        (col("a") == 1) and (col("b") == 2)  # noqa: B015


def test_col_name_must_be_str() -> None:
    with pytest.raises(TypeError):
        col(3)  # type: ignore[arg-type]


def test_deep_nesting_is_refused_cleanly(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"a": 1})
    c: object = {"column": "a", "op": "==", "value": 1}
    for _ in range(32):
        c = {"not": c}
    # 32 levels of NOT around a comparison: depth 32 is allowed (even count → same result)
    assert db.get_row("users", {"uid": 1}, column_filter=c) is not None
    for _ in range(100_000):
        c = {"not": c}
    with pytest.raises(tablesync.InvalidArgument, match="deeper"):
        db.get_row("users", {"uid": 1}, column_filter=c)
    e = col("a") == 1
    for _ in range(1000):
        e = ~e
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 1}, {"a": 2}, condition=e)
    assert db.get_row("users", {"uid": 1})["a"] == 1


def test_too_many_leaves(db: tablesync.Database) -> None:
    c = {"or": [{"column": "a", "op": "==", "value": i} for i in range(1025)]}
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition=c)


@pytest.mark.parametrize(
    "bad",
    [
        {"column": "a", "op": "~=", "value": 1},
        {"column": "a", "op": "==", "value": 1, "extra": 1},
        {"column": "a", "op": "=="},
        {"and": []},
        {"or": []},
        {"and": [{"column": "a", "op": "==", "value": 1}], "or": []},
        {"row": "EXPECT_EXIST", "bogus": 1},
        {"column": "bad\nname", "op": "==", "value": 1},
    ],
)
def test_malformed_conditions_are_invalid_argument(db: tablesync.Database, bad: object) -> None:
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition=bad)
    assert db.next_cursor() == 1


@pytest.mark.parametrize(
    "bad",
    [
        5,
        ["EXPECT_EXIST"],
        {"column": 5, "op": "==", "value": 1},
        {"column": "a", "op": 5, "value": 1},
        {"column": "a", "op": "==", "value": None},
        {"column": "a", "op": "==", "value": 1, "pass_if_missing": 1},
        {"and": {"column": "a", "op": "==", "value": 1}},
        {"not": 5},
        {"row": 5},
        {1: 2},
    ],
)
def test_wrongly_typed_conditions_are_type_errors(db: tablesync.Database, bad: object) -> None:
    with pytest.raises(TypeError):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition=bad)
    with pytest.raises((TypeError, tablesync.InvalidArgument)):
        db.get_row("users", {"uid": 1}, column_filter=bad)
    assert db.next_cursor() == 1


def test_condition_hook_must_return_a_dict(db: tablesync.Database) -> None:
    class Weird:
        def __tablesync_condition__(self) -> object:
            return [1]

    class Raises:
        def __tablesync_condition__(self) -> object:
            raise ValueError("boom")

    with pytest.raises(TypeError):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition=Weird())
    with pytest.raises(ValueError, match="boom"):
        db.put_row("users", {"uid": 1}, {"a": 1}, condition=Raises())
