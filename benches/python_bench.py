"""Write and read 100,000 rows through tablesync's Python API and through
Python's sqlite3 (in memory) in the same run, and print both and the ratio.

  writes: tablesync batch_write, 200 rows per batch
          sqlite3 executemany, 200 rows per call, one commit per call
  reads:  one point read per row (get_row vs SELECT ... WHERE uid = ?)

If cargo is on PATH, also prints the native Rust figure for the same work
(core/examples/put_get_speed.rs). Set TABLESYNC_BENCH_NATIVE=0 to skip it.

Run:  .venv/bin/python benches/python_bench.py [ROWS]
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import tablesync

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
BATCH = 200
ROOT = Path(__file__).resolve().parents[1]


def rows() -> List[Tuple[int, str, int, float]]:
    return [(k, f"user{k}", k % 90, k * 0.5) for k in range(N)]


def bench_tablesync(data: List[Tuple[int, str, int, float]]) -> Tuple[float, float]:
    db = tablesync.Database.memory("bench")
    db.create_table("users", primary_key=[("uid", "INTEGER")])
    t = time.perf_counter()
    for i in range(0, N, BATCH):
        ops = [
            {"op": "put", "table": "users", "primary_key": {"uid": k},
             "columns": {"name": name, "age": age, "score": score}}
            for k, name, age, score in data[i:i + BATCH]
        ]
        for r in db.batch_write(ops):
            assert r.ok
    write = time.perf_counter() - t
    t = time.perf_counter()
    get = db.get_row
    found = 0
    for k in range(N):
        if get("users", {"uid": k}) is not None:
            found += 1
    read = time.perf_counter() - t
    assert found == N
    row = db.get_row("users", {"uid": N - 1})
    assert row is not None and row["name"] == f"user{N - 1}"
    db.close()
    return write, read


def bench_sqlite(data: List[Tuple[int, str, int, float]]) -> Tuple[float, float]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE users (uid INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL)")
    t = time.perf_counter()
    for i in range(0, N, BATCH):
        con.executemany("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)", data[i:i + BATCH])
        con.commit()
    write = time.perf_counter() - t
    t = time.perf_counter()
    cur = con.cursor()
    found = 0
    for k in range(N):
        if cur.execute("SELECT uid, name, age, score FROM users WHERE uid = ?", (k,)).fetchone() is not None:
            found += 1
    read = time.perf_counter() - t
    assert found == N
    con.close()
    return write, read


def bench_native() -> Optional[Dict[str, float]]:
    if os.environ.get("TABLESYNC_BENCH_NATIVE", "1") == "0" or shutil.which("cargo") is None:
        return None
    try:
        out = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "-p", "tablesync", "--example", "put_get_speed", str(N)],
            cwd=ROOT, check=True, capture_output=True, text=True, timeout=900,
        ).stdout
    except (subprocess.SubprocessError, OSError) as e:
        print(f"(native figure skipped: {e})")
        return None
    fig: Dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return fig


def rate(n: int, s: float) -> str:
    return f"{s:8.3f} s  {n / s:>11,.0f} rows/s"


def main() -> None:
    data = rows()
    ts_w, ts_r = bench_tablesync(data)
    sq_w, sq_r = bench_sqlite(data)
    native = bench_native()
    print(f"{N:,} rows, Python {sys.version.split()[0]}, tablesync {tablesync.__version__}")
    print(f"write  tablesync batch_write ({BATCH}/batch): {rate(N, ts_w)}")
    print(f"write  sqlite3 executemany  ({BATCH}/call):  {rate(N, sq_w)}")
    print(f"       ratio tablesync/sqlite3 time: {ts_w / sq_w:.2f}x")
    print(f"read   tablesync get_row:                 {rate(N, ts_r)}")
    print(f"read   sqlite3 SELECT by key:             {rate(N, sq_r)}")
    print(f"       ratio tablesync/sqlite3 time: {ts_r / sq_r:.2f}x")
    if native is not None:
        nw, nr = native["write_s"], native["read_s"]
        print(f"native Rust batch_write:                  {rate(N, nw)}  (Python API overhead {ts_w / nw:.2f}x)")
        print(f"native Rust get_row:                      {rate(N, nr)}  (Python API overhead {ts_r / nr:.2f}x)")


if __name__ == "__main__":
    main()
