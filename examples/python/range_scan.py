"""Range reads: one page at a time with get_range, or everything with scan.

Run:  python examples/python/range_scan.py
"""

from typing import Any, Dict, Optional

import tablesync
from tablesync import INF_MAX, INF_MIN, col

with tablesync.Database.memory("eu") as db:
    db.create_table("events", primary_key=[("device", "STRING"), ("ts", "INTEGER")])
    for device in ("sensor-a", "sensor-b"):
        ops = [
            {"op": "put", "table": "events", "primary_key": {"device": device, "ts": t},
             "columns": {"temp": 20.0 + t % 7, "ok": t % 5 != 0}}
            for t in range(150)
        ]
        for i in range(0, len(ops), 100):  # at most 200 per batch
            results = db.batch_write(ops[i:i + 100])
            assert all(r.ok for r in results)

    # Page through one device's events, 40 rows a page.
    start: Optional[Dict[str, Any]] = {"device": "sensor-a", "ts": INF_MIN}
    end: Dict[str, Any] = {"device": "sensor-a", "ts": INF_MAX}
    pages = 0
    total = 0
    while start is not None:
        page = db.get_range("events", start, end, limit=40)
        pages += 1
        total += len(page.rows)
        start = page.next_start
    print(f"sensor-a: {total} events in {pages} pages")
    assert (total, pages) == (150, 4)

    # Newest three events of sensor-b, backwards.
    newest = db.get_range("events", {"device": "sensor-b", "ts": INF_MAX},
                          {"device": "sensor-b", "ts": INF_MIN}, direction="BACKWARD", limit=3)
    print("newest:", [r.primary_key["ts"] for r in newest.rows])
    assert [r.primary_key["ts"] for r in newest.rows] == [149, 148, 147]

    # scan() pages for you; filters run inside the database.
    failing = [r.primary_key for r in db.scan("events", column_filter=(col("ok") == False) & (col("temp") > 24.0))]  # noqa: E712
    print(len(failing), "failed readings above 24 degrees, first:", failing[0])
    for k in failing:
        row = db.get_row("events", k)
        assert row is not None and row["ok"] is False
