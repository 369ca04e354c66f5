"""Range reads: pages, bounds, direction, scan."""

from __future__ import annotations

import pytest
import tablesync
from tablesync import INF_MAX, INF_MIN, col


@pytest.fixture
def filled(empty_db: tablesync.Database) -> tablesync.Database:
    db = empty_db
    db.create_table("t", [("g", "STRING"), ("n", "INTEGER")])
    ops = [
        {"op": "put", "table": "t", "primary_key": {"g": g, "n": n}, "columns": {"v": n, "odd": n % 2 == 1}}
        for g in ("a", "b") for n in range(50)
    ]
    for i in range(0, len(ops), 50):
        assert all(db.batch_write(ops[i:i + 50]))
    return db


def test_page_and_next_start(filled: tablesync.Database) -> None:
    page = filled.get_range("t", {"g": "a", "n": INF_MIN}, {"g": "a", "n": INF_MAX}, limit=20)
    assert isinstance(page, tablesync.RangePage)
    assert [r["v"] for r in page.rows] == list(range(20))
    assert page.next_start == {"g": "a", "n": 20}
    rows, nxt = page  # unpacks like a tuple
    assert rows == page.rows and nxt == page.next_start
    seen = list(page.rows)
    while page.next_start is not None:
        page = filled.get_range("t", page.next_start, {"g": "a", "n": INF_MAX}, limit=20)
        seen += page.rows
    assert [r["v"] for r in seen] == list(range(50))
    assert "next_start" in repr(page)


def test_whole_table_bounds_and_backward(filled: tablesync.Database) -> None:
    page = filled.get_range("t", INF_MIN, INF_MAX)
    assert len(page.rows) == 100 and page.next_start is None
    back = filled.get_range("t", INF_MAX, INF_MIN, direction="BACKWARD", limit=3)
    assert [r.primary_key for r in back.rows] == [{"g": "b", "n": 49}, {"g": "b", "n": 48}, {"g": "b", "n": 47}]
    assert back.next_start == {"g": "b", "n": 46}
    assert back.rows[0].primary_key["n"] == 49


def test_range_options(filled: tablesync.Database) -> None:
    page = filled.get_range("t", INF_MIN, INF_MAX, columns=["odd"], column_filter=col("odd") == True)  # noqa: E712
    assert len(page.rows) == 50 and all(r.columns == {"odd": True} for r in page.rows)
    start = [("g", "b"), ("n", 10)]
    page = filled.get_range("t", start, [("g", "b"), ("n", 13)])
    assert [r["v"] for r in page.rows] == [10, 11, 12]


def test_bad_ranges(filled: tablesync.Database) -> None:
    with pytest.raises(tablesync.InvalidArgument):
        filled.get_range("t", INF_MAX, INF_MIN)  # forward needs start < end
    with pytest.raises(tablesync.InvalidArgument):
        filled.get_range("t", INF_MIN, INF_MAX, direction="BACKWARD")
    with pytest.raises(tablesync.InvalidArgument):
        filled.get_range("t", INF_MIN, INF_MAX, direction="SIDEWAYS")
    with pytest.raises(tablesync.InvalidArgument):
        filled.get_range("t", INF_MIN, INF_MAX, limit=0)
    with pytest.raises(tablesync.InvalidArgument):
        filled.get_range("t", tablesync.PK_AUTO_INCR, INF_MAX)
    with pytest.raises(TypeError):
        filled.get_range("t", INF_MIN, INF_MAX, direction=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        filled.get_range("t", INF_MIN, INF_MAX, limit="5")  # type: ignore[arg-type]
    with pytest.raises(tablesync.InvalidArgument):
        filled.put_row("t", {"g": INF_MIN, "n": 1}, {"v": 1})


def test_scan_iterates_all_pages(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("big", [("k", "INTEGER")])
    for base in range(0, 12_000, 200):
        db.batch_write([{"op": "put", "table": "big", "primary_key": {"k": k}, "columns": {"v": k}}
                        for k in range(base, base + 200)])
    it = db.scan("big")
    assert iter(it) is it
    keys = [r.primary_key["k"] for r in it]
    assert keys == list(range(12_000))  # more than two 5000-row pages
    with pytest.raises(StopIteration):
        next(it)
    assert [r["v"] for r in db.scan("big", direction="BACKWARD", limit=3)] == [11_999, 11_998, 11_997]
    assert [r["v"] for r in db.scan("big", start={"k": 10}, end={"k": 13})] == [10, 11, 12]
    assert sum(1 for _ in db.scan("big", column_filter=col("v") < 100)) == 100
    assert list(db.scan("big", limit=1))[0]["v"] == 0


def test_scan_cursor_survives_writes_between_pages(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("big", [("k", "INTEGER")])
    for base in range(0, 12_000, 200):
        db.batch_write([{"op": "put", "table": "big", "primary_key": {"k": k}, "columns": {"v": k}}
                        for k in range(base, base + 200, 2)])
    it = db.scan("big")
    first = [next(it).primary_key["k"] for _ in range(5000)]  # exactly one page read
    assert first[-1] == 9998
    # The database is free between pages: writes behind the cursor are not
    # seen, writes ahead of it are, a row deleted ahead is not returned.
    db.put_row("big", {"k": 1}, {"v": 1})
    db.put_row("big", {"k": 10_001}, {"v": 1})
    db.delete_row("big", {"k": 10_002})
    rest = [r.primary_key["k"] for r in it]
    assert rest == sorted([k for k in range(10_000, 12_000, 2) if k != 10_002] + [10_001])


def test_scan_errors_surface_on_iteration(filled: tablesync.Database) -> None:
    with pytest.raises(tablesync.NotFound):
        filled.scan("nope")
    it = filled.scan("t")  # pages are fetched lazily
    filled.close()
    with pytest.raises(tablesync.DatabaseClosed):
        next(it)
    with pytest.raises(tablesync.DatabaseClosed):
        filled.scan("t")


def test_range_digest(filled: tablesync.Database) -> None:
    rows, digest = filled.range_digest("t")
    assert rows == 100 and digest == filled.table_digest("t")
    rows_a, dig_a = filled.range_digest("t", INF_MIN, {"g": "b", "n": INF_MIN})
    assert rows_a == 50 and len(dig_a) == 64 and dig_a != digest
