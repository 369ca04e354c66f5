"""copy_table, table digests and snapshots."""

from __future__ import annotations

from typing import List, Tuple

import pytest
import tablesync
from conftest import T0


def fill(db: tablesync.Database, n: int, table: str = "users") -> None:
    for base in range(0, n, 200):
        db.batch_write([
            {"op": "put", "table": table, "primary_key": {"uid": k}, "columns": {"v": k, "s": f"row{k}"}}
            for k in range(base, min(n, base + 200))
        ])


def test_copy_within_a_database_with_progress(db: tablesync.Database) -> None:
    fill(db, 2500)
    db.delete_row("users", {"uid": 5})
    calls: List[Tuple[int, int]] = []
    copied = db.copy_table("users", "users_copy", progress=lambda c, t: calls.append((c, t)))
    assert copied == 2499
    assert calls[0] == (0, 2499) and calls[-1] == (2499, 2499)
    assert [c for c, _ in calls] == sorted(c for c, _ in calls)
    assert db.table_digest("users_copy") == db.table_digest("users")
    assert db.describe_table("users_copy").row_count == 2499
    with pytest.raises(tablesync.AlreadyExists):
        db.copy_table("users", "users_copy")
    with pytest.raises(tablesync.NotFound):
        db.copy_table("nope", "x")
    with pytest.raises(TypeError):
        db.copy_table("users", "x", progress=5)  # type: ignore[arg-type]
    assert "x" not in db.list_tables()


def test_copy_to_another_database(db: tablesync.Database) -> None:
    fill(db, 300)
    other = tablesync.Database.memory("us", clock=T0)
    assert db.copy_table("users", "users", target=other) == 300
    assert other.table_digest("users") == db.table_digest("users")
    assert other.describe_table("users").primary_key == [("uid", "INTEGER")]
    # The copy is written by the target region (its own change log).
    assert other.version_vector() == {"us": 300}
    with pytest.raises(TypeError):
        db.copy_table("users", "x", target="other")  # type: ignore[arg-type]
    # target=self is the same as no target
    assert db.copy_table("users", "again", target=db) == 300


def test_progress_exception_cancels_the_copy_and_is_reraised(db: tablesync.Database) -> None:
    fill(db, 2100)
    calls = []

    def progress(c: int, t: int) -> None:
        calls.append(c)
        if c > 0:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        db.copy_table("users", "c2", progress=progress)
    assert calls == [0, 1000]  # not called again after raising
    # The copy stopped: the first chunk (committed before the callback ran) stays.
    assert db.describe_table("c2").row_count == 1000
    assert db.verify_table_digest("c2") == db.table_digest("c2")


def test_progress_returning_false_cancels_with_a_typed_error(db: tablesync.Database) -> None:
    fill(db, 2500)
    calls: List[int] = []

    def progress(c: int, t: int) -> bool:
        calls.append(c)
        return c < 2000

    with pytest.raises(tablesync.Cancelled) as info:
        db.copy_table("users", "c4", progress=progress)
    assert info.value.code == "Cancelled"
    assert isinstance(info.value, tablesync.TablesyncError)
    assert "after 2000 of 2500 rows" in info.value.message
    assert calls == [0, 1000, 2000]
    rows = [r.primary_key["uid"] for r in db.scan("c4")]
    assert rows == list(range(2000))  # the first two chunks, in key order
    assert db.describe_table("c4").row_count == 2000
    # Cancelled at the first call: nothing is left, not even the table.
    with pytest.raises(tablesync.Cancelled):
        db.copy_table("users", "c5", progress=lambda c, t: False)
    assert "c5" not in db.list_tables()
    # None (no return value) and other values go on.
    assert db.copy_table("users", "c6", progress=lambda c, t: None) == 2500
    assert db.copy_table("users", "c7", progress=lambda c, t: 0) == 2500
    # Into another region: what is left is in the target.
    other = tablesync.Database.memory("us", clock=T0)
    with pytest.raises(tablesync.Cancelled):
        db.copy_table("users", "users", target=other, progress=lambda c, t: c == 0)
    assert other.describe_table("users").row_count == 1000


def test_callback_reentry_is_refused_not_deadlocked(db: tablesync.Database) -> None:
    fill(db, 10)
    seen = []

    def progress(c: int, t: int) -> None:
        try:
            db.get_row("users", {"uid": 1})
        except RuntimeError as e:
            seen.append(str(e))

    db.copy_table("users", "c3", progress=progress)
    assert seen and "busy" in seen[0]
    # The database works normally afterwards.
    assert db.get_row("users", {"uid": 1})["v"] == 1


def test_digest_shape_and_verify(db: tablesync.Database) -> None:
    empty = db.table_digest("users")
    assert len(empty) == 64 and empty == empty.lower() and int(empty, 16) >= 0
    db.put_row("users", {"uid": 1}, {"v": 1})
    d1 = db.table_digest("users")
    assert d1 != empty and db.verify_table_digest("users") == d1
    db.delete_row("users", {"uid": 1})
    assert db.table_digest("users") == empty


def test_snapshot_round_trip(db: tablesync.Database) -> None:
    fill(db, 500)
    snap = db.export_snapshot()
    assert isinstance(snap, bytes)
    copy = tablesync.Database.import_snapshot(snap, clock=T0)
    assert copy.region == "eu"
    assert copy.table_digest("users") == db.table_digest("users")
    assert copy.changes_since(0, 10_000) == db.changes_since(0, 10_000)
    assert copy.export_snapshot() == snap
    assert tablesync.Database.import_snapshot(bytearray(snap)).table_digest("users") == db.table_digest("users")
    damaged = bytearray(snap)
    damaged[len(damaged) // 2] ^= 0x01
    with pytest.raises(tablesync.CorruptData):
        tablesync.Database.import_snapshot(bytes(damaged))
    for junk in (b"", b"\x00" * 3, b"TSSN"):
        with pytest.raises(tablesync.CorruptData):
            tablesync.Database.import_snapshot(junk)
    with pytest.raises(TypeError):
        tablesync.Database.import_snapshot("text")  # type: ignore[arg-type]
