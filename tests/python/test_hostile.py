"""Hostile input: every argument of every method gets wrong types and extreme
values. The only outcomes allowed are success, TypeError or a TablesyncError
subclass — never a PanicException (a BaseException) or any other error."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

import pytest
import tablesync
from conftest import T0


def deep(n: int) -> Dict[str, Any]:
    c: Dict[str, Any] = {"column": "a", "op": "==", "value": 1}
    for _ in range(n):
        c = {"and": [c]}
    return c


class Exploding:
    """Raises from every protocol method a conversion might call."""

    def __len__(self) -> int:
        raise RuntimeError("len")

    def __iter__(self) -> Any:
        raise RuntimeError("iter")

    def __index__(self) -> int:
        raise RuntimeError("index")


HOSTILE: List[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63) - 1, 2**200, 1.5, math.nan, -math.inf,
    "", "x" * 100_000, "\udcff", b"", b"\xff" * 5000, bytearray(b"\x00"), [], [None], [[]], {}, {"": None},
    {None: 1}, (), (1, 2, 3), object(), Exploding(), lambda: 1, iter([1]), deep(40), {1, 2},
    tablesync.INF_MIN, tablesync.INF_MAX, tablesync.PK_AUTO_INCR, tablesync.col("a") == 1,
]

GOOD: Dict[str, Tuple[Callable[..., Any], List[Any]]] = {}


def methods(db: tablesync.Database) -> Dict[str, Tuple[Callable[..., Any], List[Any]]]:
    pk = {"uid": 1}
    return {
        "create_table": (db.create_table, ["t2", [("k", "INTEGER")], 1, -1]),
        "describe_table": (db.describe_table, ["users"]),
        "update_table": (db.update_table, ["users", 1, -1]),
        "delete_table": (db.delete_table, ["zzz"]),
        "put_row": (db.put_row, ["users", pk, {"a": 1}, None]),
        "get_row": (db.get_row, ["users", pk, None, 1, None, None]),
        "update_row": (db.update_row, ["users", pk, {"a": 1}, None, None, {"n": 1}, None]),
        "delete_row": (db.delete_row, ["users", pk, None]),
        "get_range": (db.get_range, ["users", tablesync.INF_MIN, tablesync.INF_MAX, "FORWARD", 10, None, 1, None, None]),
        "scan": (lambda *a: list(db.scan(*a)), ["users", None, None, "FORWARD", None, 1, None, None, 5]),
        "batch_write": (db.batch_write, [[{"op": "put", "table": "users", "primary_key": pk, "columns": {"a": 1}}]]),
        "batch_get": (db.batch_get, [[("users", pk)]]),
        "copy_table": (db.copy_table, ["users", "copy_x", None, None]),
        "table_digest": (db.table_digest, ["users"]),
        "verify_table_digest": (db.verify_table_digest, ["users"]),
        "range_digest": (db.range_digest, ["users", None, None]),
        "changes_since": (db.changes_since, [0, 10]),
        "apply_changes": (db.apply_changes, [[]]),
        "truncate_log": (db.truncate_log, [0]),
        "set_retention": (db.set_retention, [None, None]),
        "set_time": (db.set_time, [T0]),
        "advance_time": (db.advance_time, [0]),
    }


NAMES = list(methods(tablesync.Database.memory("probe", clock=T0)).keys())


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_with_hostile_values(name: str) -> None:
    db = tablesync.Database.memory("eu", clock=T0)
    db.create_table("users", [("uid", "INTEGER")])
    db.put_row("users", {"uid": 1}, {"a": 1, "n": 1})
    fn, good = methods(db)[name]
    outcomes = set()
    for pos in range(len(good)):
        for bad in HOSTILE:
            args = list(good)
            args[pos] = bad
            try:
                fn(*args)
                outcomes.add("ok")
            except tablesync.InternalError as e:
                pytest.fail(f"{name} arg {pos} = {bad!r:.60} hit a Rust panic: {e}")
            except (TypeError, tablesync.TablesyncError) as e:
                outcomes.add(type(e).__name__)
            except RuntimeError as e:
                # Only the Exploding helper's own errors may pass through.
                assert str(e) in ("len", "iter", "index"), (name, pos, bad, e)
            except UnicodeEncodeError:
                # A lone surrogate cannot become UTF-8: Python's own ValueError.
                assert bad == "\udcff"
            except BaseException as e:  # noqa: BLE001
                pytest.fail(f"{name} arg {pos} = {bad!r:.60} raised {type(e).__name__}: {e}")
            # The database stays usable and consistent.
            if "users" in db.list_tables():
                assert db.verify_table_digest("users") == db.table_digest("users")
    assert outcomes  # something was exercised
    db.close()


def test_hostile_records() -> None:
    db = tablesync.Database.memory("eu", clock=T0)
    db.create_table("users", [("uid", "INTEGER")])
    base = {"origin": "x", "seq": 1, "stamp": 1, "table": "users", "kind": "PUT",
            "primary_key": {"uid": 1}, "columns": []}
    for key in list(base):
        for bad in HOSTILE:
            rec = dict(base)
            rec[key] = bad
            try:
                db.apply_changes([rec])
            except tablesync.InternalError as e:
                pytest.fail(f"record {key} = {bad!r:.60} hit a Rust panic: {e}")
            except (TypeError, tablesync.TablesyncError):
                pass
            except (RuntimeError, UnicodeEncodeError):
                pass
    assert db.verify_table_digest("users") == db.table_digest("users")


def test_huge_stamps_and_timestamps_are_handled() -> None:
    db = tablesync.Database.memory("eu", clock=T0)
    db.create_table("users", [("uid", "INTEGER")])
    rec = {"origin": "x", "seq": 1, "stamp": 2**64 - 1, "table": "users", "kind": "PUT",
           "primary_key": {"uid": 1}, "columns": [{"name": "a", "op": "PUT", "value": 1, "timestamp": 2**63 - 1}]}
    # Issue 12: a stamp far ahead of the clock would pin the HLC: refused and counted.
    with pytest.raises(tablesync.ClockDrift):
        db.apply_changes([rec])
    rec["stamp"] = T0 << 16
    db.apply_changes([rec])
    # Sequence numbers above 2**63 - 1 are refused (the next local one would overflow).
    with pytest.raises(tablesync.InvalidArgument):
        db.apply_changes([dict(rec, seq=2**64 - 1), dict(rec, origin="y", seq=2**64 - 1)])
    # A local write after observing the largest stamp must not wrap around.
    try:
        db.put_row("users", {"uid": 2}, {"a": 1})
    except tablesync.InternalError as e:
        pytest.fail(f"panic: {e}")
    except tablesync.TablesyncError:
        pass
    assert db.get_row("users", {"uid": 1})["a"] == 1
    db.put_row("users", {"uid": 3}, [("a", 1, 2**63 - 1)])
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("users", {"uid": 3}, [("a", 1, -1)])
    db.set_time(2**62)
    db.advance_time(2**62 - 1)
    with pytest.raises(tablesync.InvalidArgument):
        db.advance_time(2)
    assert db.verify_table_digest("users") == db.table_digest("users")
