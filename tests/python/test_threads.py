"""Thread safety: one Database shared by many threads; the GIL is released
during long operations."""

from __future__ import annotations

import threading
from typing import List

import tablesync
from conftest import T0


def test_concurrent_writers_and_readers(db: tablesync.Database) -> None:
    errors: List[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(300):
                db.put_row("users", {"uid": t * 1000 + i}, {"t": t, "i": i})
                if i % 50 == 0:
                    db.batch_write([{"op": "update", "table": "users", "primary_key": {"uid": t * 1000 + j},
                                     "increment": {"n": 1}} for j in range(i + 1)][-100:])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader() -> None:
        try:
            for _ in range(50):
                db.get_range("users", tablesync.INF_MIN, tablesync.INF_MAX, limit=100)
                db.table_digest("users")
                db.changes_since(0, 100)
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert db.describe_table("users").row_count == 1200
    assert db.verify_table_digest("users") == db.table_digest("users")
    # every write got its own sequence number
    assert db.version_vector()["eu"] == db.next_cursor() - 1


def test_copies_in_opposite_directions_do_not_deadlock() -> None:
    a = tablesync.Database.memory("a", clock=T0)
    b = tablesync.Database.memory("b", clock=T0)
    for db in (a, b):
        db.create_table("src", [("k", "INTEGER")])
        for base in range(0, 3000, 200):
            db.batch_write([{"op": "put", "table": "src", "primary_key": {"k": k}, "columns": {"v": k}}
                            for k in range(base, base + 200)])
    errors: List[BaseException] = []

    def copy(src: tablesync.Database, dst: tablesync.Database, n: int) -> None:
        try:
            for i in range(n):
                src.copy_table("src", f"copy_{src.region}_{i}", target=dst)
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    t1 = threading.Thread(target=copy, args=(a, b, 5))
    t2 = threading.Thread(target=copy, args=(b, a, 5))
    t1.start(); t2.start()
    t1.join(timeout=120); t2.join(timeout=120)
    assert not t1.is_alive() and not t2.is_alive(), "deadlock"
    assert errors == []
    assert len(a.list_tables()) == 6 and len(b.list_tables()) == 6
    assert b.table_digest("copy_a_4") == a.table_digest("src")


def test_progress_callback_runs_while_other_threads_use_python(db: tablesync.Database) -> None:
    """copy_table releases the GIL: a pure-Python thread makes progress while
    the copy runs, and the callback (which needs the GIL) still gets it."""
    for base in range(0, 20_000, 200):
        db.batch_write([{"op": "put", "table": "users", "primary_key": {"uid": k}, "columns": {"v": k}}
                        for k in range(base, base + 200)])
    stop = threading.Event()
    ticks = [0]

    def spin() -> None:
        while not stop.is_set():
            ticks[0] += 1

    progress_ticks: List[int] = []
    th = threading.Thread(target=spin)
    th.start()
    try:
        db.copy_table("users", "copy", progress=lambda c, t: progress_ticks.append(ticks[0]))
    finally:
        stop.set()
        th.join()
    assert len(progress_ticks) == 21  # 0, 1000, ..., 20000
    assert progress_ticks[-1] > progress_ticks[0]  # the other thread ran during the copy


def test_close_while_other_threads_work() -> None:
    db = tablesync.Database.memory("x")
    db.create_table("t", [("k", "INTEGER")])
    outcomes: List[str] = []

    def work() -> None:
        for i in range(2000):
            try:
                db.put_row("t", {"k": i}, {"v": i})
            except tablesync.DatabaseClosed:
                outcomes.append("closed")
                return
        outcomes.append("done")

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    db.close()
    for th in threads:
        th.join()
    assert len(outcomes) == 3 and set(outcomes) <= {"closed", "done"}
    assert db.closed


def test_one_scan_shared_by_threads_yields_each_row_once(db: tablesync.Database) -> None:
    for base in range(0, 12_000, 200):
        db.batch_write([{"op": "put", "table": "users", "primary_key": {"uid": k}, "columns": {"v": k}}
                        for k in range(base, base + 200)])
    it = db.scan("users")
    got: List[List[int]] = [[] for _ in range(4)]

    def drain(i: int) -> None:
        for row in it:
            got[i].append(row["v"])

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "deadlock"
    assert sorted(v for part in got for v in part) == list(range(12_000))
