"""Value types: every Python type maps to one tablesync type, and back."""

from __future__ import annotations

import math
import struct

import pytest
import tablesync

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


@pytest.mark.parametrize(
    "value",
    [0, 1, -1, I64_MIN, I64_MAX, 0.0, -0.0, 1.5, math.inf, -math.inf, True, False, "", "héllo",
     "\u0000nul", b"", b"\x00\xff", "x" * 10_000],
)
def test_round_trip_keeps_type_and_value(db: tablesync.Database, value: object) -> None:
    db.put_row("users", {"uid": 1}, {"v": value})
    got = db.get_row("users", {"uid": 1})["v"]
    assert type(got) is type(value)
    if isinstance(value, float):
        assert struct.pack(">d", got) == struct.pack(">d", value)  # -0.0 stays -0.0
    else:
        assert got == value


def test_nan_round_trips(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"v": math.nan})
    assert math.isnan(db.get_row("users", {"uid": 1})["v"])


def test_bytearray_is_binary_and_reads_back_as_bytes(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"v": bytearray(b"ab")})
    got = db.get_row("users", {"uid": 1})["v"]
    assert type(got) is bytes and got == b"ab"


def test_bool_is_boolean_not_integer(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"b": True, "i": 1})
    row = db.get_row("users", {"uid": 1})
    assert row["b"] is True and type(row["i"]) is int
    # The two types differ, so digests differ.
    d1 = db.table_digest("users")
    db.put_row("users", {"uid": 1}, {"b": 1, "i": 1})
    assert db.table_digest("users") != d1
    # Increment refuses a boolean column; a condition compares types strictly.
    db.put_row("users", {"uid": 2}, {"flag": True})
    with pytest.raises(tablesync.InvalidArgument):
        db.update_row("users", {"uid": 2}, increment={"flag": 1})
    with pytest.raises(tablesync.ConditionCheckFailed):
        db.put_row("users", {"uid": 2}, {"x": 1}, condition=tablesync.col("flag") == 1)
    db.put_row("users", {"uid": 2}, {"x": 1}, condition=tablesync.col("flag") == True)  # noqa: E712


def test_bool_cannot_be_a_key_value(db: tablesync.Database) -> None:
    with pytest.raises(TypeError, match="bool"):
        db.put_row("users", {"uid": True}, {"v": 1})
    assert db.describe_table("users").row_count == 0


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 2**64, 10**30, -(10**30)])
def test_int_outside_i64_is_an_error_not_a_wrap(db: tablesync.Database, big: int) -> None:
    for call in (
        lambda: db.put_row("users", {"uid": 1}, {"v": big}),
        lambda: db.put_row("users", {"uid": big}, {"v": 1}),
        lambda: db.update_row("users", {"uid": 1}, increment={"v": big}),
        lambda: db.put_row("users", {"uid": 1}, [("v", 1, big)]),
        lambda: db.get_row("users", {"uid": 1}, column_filter={"column": "v", "op": "==", "value": big}),
    ):
        with pytest.raises(tablesync.InvalidArgument) as ei:
            call()
        assert ei.value.code == "IntegerOutOfRange"
    assert db.describe_table("users").row_count == 0
    assert db.next_cursor() == 1


@pytest.mark.parametrize("bad", [None, [1], {"a": 1}, object(), 1j, {1, 2}, memoryview(b"x")])
def test_unsupported_value_types_raise_type_error(db: tablesync.Database, bad: object) -> None:
    with pytest.raises(TypeError):
        db.put_row("users", {"uid": 1}, {"v": bad})
    assert db.next_cursor() == 1


def test_int_subclass_is_integer_but_not_bool(db: tablesync.Database) -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    db.put_row("users", {"uid": Level.HIGH}, {"lvl": Level.HIGH})
    row = db.get_row("users", {"uid": 3})
    assert type(row["lvl"]) is int and row["lvl"] == 3


@pytest.mark.parametrize(
    "pk", [{"uid": 1.5}, {"uid": None}, {"uid": [1]}, {1: 1}, [("uid",)], [("uid", 1, 2)], "uid", 5]
)
def test_bad_primary_key_shapes_raise_type_error(db: tablesync.Database, pk: object) -> None:
    with pytest.raises(TypeError):
        db.put_row("users", pk, {"v": 1})  # type: ignore[arg-type]


def test_key_given_as_pairs_and_returned_as_dict_in_schema_order(empty_db: tablesync.Database) -> None:
    empty_db.create_table("t", [("a", "STRING"), ("b", "INTEGER"), ("c", "BINARY")])
    key = empty_db.put_row("t", [("a", "x"), ("b", 2), ("c", b"\x01")], {"v": 1})
    assert list(key.items()) == [("a", "x"), ("b", 2), ("c", b"\x01")]
    # A dict in another order names the same row; the key comes back in schema order.
    row = empty_db.get_row("t", {"c": b"\x01", "b": 2, "a": "x"})
    assert list(row.primary_key) == ["a", "b", "c"]


def test_key_type_mismatch_is_invalid_pk(db: tablesync.Database) -> None:
    with pytest.raises(tablesync.InvalidArgument) as ei:
        db.put_row("users", {"uid": "one"}, {"v": 1})
    assert ei.value.code == "OTSInvalidPK"
    with pytest.raises(tablesync.InvalidArgument) as ei:
        db.put_row("users", {"other": 1}, {"v": 1})
    assert ei.value.code == "OTSInvalidPK"


def test_row_read_and_written_back_keeps_types_and_digest(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 7}, {"i": 1, "d": 1.0, "b": False, "s": "1", "x": b"1"})
    digest = db.table_digest("users")
    row = db.get_row("users", {"uid": 7})
    cells = [(n, v, ts) for n, v, ts in row.cells]
    db.put_row("users", row.primary_key, cells)
    assert db.table_digest("users") == digest
