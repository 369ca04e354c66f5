"""The change log: changes_since, version vectors, apply_changes across regions."""

from __future__ import annotations

import random

import pytest
import tablesync
from conftest import T0


def make_region(name: str) -> tablesync.Database:
    db = tablesync.Database.memory(name, clock=T0)
    db.create_table("users", [("uid", "INTEGER")], max_versions=2)
    return db


def test_changes_since_shape(db: tablesync.Database) -> None:
    db.put_row("users", {"uid": 1}, {"name": "Ada", "age": 36})
    db.update_row("users", {"uid": 1}, put=[("age", 37, 5)], delete=[("age", T0)], delete_all=["name"])
    db.delete_row("users", {"uid": 1})
    page = db.changes_since()
    assert isinstance(page, tablesync.ChangePage)
    assert page.next_cursor == 4
    put, upd, dele = page.records
    assert put == {
        "cursor": 1, "origin": "eu", "seq": 1, "stamp": T0 << 16, "table": "users", "kind": "PUT",
        "primary_key": {"uid": 1},
        "columns": [
            {"name": "name", "op": "PUT", "value": "Ada", "timestamp": T0},
            {"name": "age", "op": "PUT", "value": 36, "timestamp": T0},
        ],
    }
    assert type(put["stamp"]) is int
    assert upd["kind"] == "UPDATE" and upd["seq"] == 2 and upd["stamp"] == (T0 << 16) + 1
    assert {c["op"] for c in upd["columns"]} == {"PUT", "DELETE_ONE_VERSION", "DELETE_ALL_VERSIONS"}
    assert {"name": "name", "op": "DELETE_ALL_VERSIONS"} in upd["columns"]
    # A version delete is logged when the row holds that version (FORMAT.md §5.1).
    assert {"name": "age", "op": "DELETE_ONE_VERSION", "timestamp": T0} in upd["columns"]
    assert dele["kind"] == "DELETE" and dele["columns"] == []
    records, nxt = page
    assert nxt == 4 and records == page.records
    assert "3 records" in repr(page)
    # paging
    p1 = db.changes_since(0, 2)
    assert [r["seq"] for r in p1.records] == [1, 2] and p1.next_cursor == 3
    p2 = db.changes_since(p1.next_cursor, 2)
    assert [r["seq"] for r in p2.records] == [3] and p2.next_cursor == 4
    assert db.changes_since(p2.next_cursor).records == []
    assert db.version_vector() == {"eu": 3}
    with pytest.raises(tablesync.InvalidArgument):
        db.changes_since(0, 0)
    with pytest.raises(tablesync.InvalidArgument):
        db.changes_since(-1)


def test_regions_converge_in_any_order_with_duplicates() -> None:
    a, b, c = make_region("a"), make_region("b"), make_region("c")
    rng = random.Random(7)
    for i in range(60):
        db = rng.choice([a, b])
        k = {"uid": rng.randrange(10)}
        op = rng.randrange(4)
        db.advance_time(rng.randrange(3))
        if op == 0:
            db.put_row("users", k, {"v": i, "s": str(i)})
        elif op == 1:
            db.update_row("users", k, put={"v": i}, increment={"n": 1})
        elif op == 2:
            db.update_row("users", k, delete_all=["s"])
        else:
            db.delete_row("users", k)
    recs_a = a.changes_since(0, 10_000).records
    recs_b = b.changes_since(0, 10_000).records
    a.apply_changes(recs_b)
    b.apply_changes(recs_a)
    everything = recs_a + recs_b
    rng.shuffle(everything)
    stats = c.apply_changes(everything + everything[:10])
    assert stats.applied == len(everything) and stats.skipped == 10
    assert a.table_digest("users") == b.table_digest("users") == c.table_digest("users")
    assert a.version_vector() == b.version_vector() == c.version_vector() == {
        "a": sum(1 for r in recs_a), "b": sum(1 for r in recs_b)}
    again = c.apply_changes(everything)
    assert (again.applied, again.skipped) == (0, len(everything))
    assert repr(again) == f"ApplyStats(applied=0, skipped={len(everything)})"
    assert list(a.scan("users")) == list(c.scan("users"))


def test_apply_changes_accepts_a_change_page() -> None:
    a, b = make_region("a"), make_region("b")
    a.put_row("users", {"uid": 1}, {"v": 1})
    assert b.apply_changes(a.changes_since()).applied == 1
    assert b.get_row("users", {"uid": 1})["v"] == 1


def test_invalid_records_apply_nothing() -> None:
    a, b = make_region("a"), make_region("b")
    a.put_row("users", {"uid": 1}, {"v": 1})
    good = a.changes_since().records[0]
    bad_values = [
        dict(good, seq=0),
        dict(good, seq=2, stamp=0),
        dict(good, seq=2, table="nope"),
        dict(good, seq=2, kind="MERGE"),
        dict(good, seq=2, origin=""),
        dict(good, seq=2, primary_key={"uid": "x"}),
        dict(good, seq=2, columns=[{"name": "v", "op": "PUT"}]),
        dict(good, seq=2, columns=[{"name": "v", "op": "DELETE_ALL_VERSIONS"}]),  # not in a PUT record
        dict(good, seq=2, columns=[{"name": "v", "op": "SPLIT"}]),
        dict(good, seq=2, columns=[{"name": "uid", "op": "PUT", "value": 1, "timestamp": 1}]),
    ]
    for bad in bad_values:
        with pytest.raises(tablesync.TablesyncError):
            b.apply_changes([good, bad])
        assert b.next_cursor() == 1, bad
    for bad in [dict(good, seq="1"), dict(good, stamp=1.5), dict(good, columns="x"), "rec", dict(good, seq=True)]:
        with pytest.raises(TypeError):
            b.apply_changes([bad])
    missing = {k: v for k, v in good.items() if k != "origin"}
    with pytest.raises(tablesync.InvalidArgument, match="origin"):
        b.apply_changes([missing])
    with pytest.raises(tablesync.InvalidArgument) as ei:
        b.apply_changes([dict(good, stamp=2**64)])
    assert ei.value.code == "IntegerOutOfRange"
    assert b.next_cursor() == 1


def test_retention_and_log_gap(db: tablesync.Database) -> None:
    for k in range(10):
        db.put_row("users", {"uid": k}, {"v": k})
    db.truncate_log(6)
    page = db.changes_since(0)
    assert [r["cursor"] for r in page.records] == [6, 7, 8, 9, 10]
    with pytest.raises(tablesync.LogGap) as ei:
        db.changes_since(2)
    assert ei.value.code == "LogGap" and isinstance(ei.value, tablesync.SyncError)
    db.set_retention(max_records=2)
    dropped = db.enforce_retention()
    assert dropped == 3
    assert [r["cursor"] for r in db.changes_since(0).records] == [9, 10]
    with pytest.raises(tablesync.InvalidArgument):
        db.set_retention(max_age_ms=-1)
