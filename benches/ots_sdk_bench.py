"""PutRow / GetRow / GetRange / BatchWriteRow through the official Tablestore
Python SDK against `tablesync serve --tablestore-listen`, next to the same
script against the in-process `tablesync.tablestore` (memory://): the
protocol's overhead, as ratios from the same run.

Run (a venv holding both `tablestore` and the `tablesync` package):
  TABLESYNC_BIN=target/release/tablesync python benches/ots_sdk_bench.py [ROWS]
ROWS defaults to 200 (tiny, to check it works); quote figures from 5000
(or OTS_BENCH_ROWS=5000).

Figures need a quiet machine; on a shared one, run it tiny to check it works.
A side whose package is missing is reported as such (and the ratio omitted).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("OTS_BENCH_ROWS", "200"))
BATCH = 100


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def timed(samples, fn):
    t = time.perf_counter()
    out = fn()
    samples.append(time.perf_counter() - t)
    return out


def workload(m, client, table):
    """Run the four operations; return {op: (ops_per_s, p99_ms)}."""
    client.create_table(m.TableMeta(table, [("uid", "INTEGER")]), m.TableOptions(),
                        m.ReservedThroughput(m.CapacityUnit(0, 0)))
    out = {}
    lat = []
    t0 = time.perf_counter()
    for i in range(N):
        timed(lat, lambda: client.put_row(table, m.Row([("uid", i)], [("name", "user%d" % i), ("age", i % 90)])))
    out["PutRow"] = (N / (time.perf_counter() - t0), percentile(lat, 0.99) * 1e3)
    lat = []
    t0 = time.perf_counter()
    for i in range(N):
        timed(lat, lambda: client.get_row(table, [("uid", i)], max_version=1))
    out["GetRow"] = (N / (time.perf_counter() - t0), percentile(lat, 0.99) * 1e3)
    lat, rows = [], 0
    t0 = time.perf_counter()
    start = [("uid", m.INF_MIN)]
    while start is not None:
        _, start, page, _ = timed(lat, lambda: client.get_range(table, m.Direction.FORWARD, start,
                                                                [("uid", m.INF_MAX)], limit=BATCH))
        rows += len(page)
    assert rows == N, rows
    out["GetRange (rows)"] = (rows / (time.perf_counter() - t0), percentile(lat, 0.99) * 1e3)
    lat = []
    t0 = time.perf_counter()
    for b in range(0, N, BATCH):
        req = m.BatchWriteRowRequest()
        req.add(m.TableInBatchWriteRowItem(table, [
            m.PutRowItem(m.Row([("uid", N + i)], [("v", i)]), m.Condition(m.RowExistenceExpectation.IGNORE))
            for i in range(b, min(b + BATCH, N))]))
        timed(lat, lambda: client.batch_write_row(req))
    out["BatchWriteRow (rows)"] = (N / (time.perf_counter() - t0), percentile(lat, 0.99) * 1e3)
    client.delete_table(table)
    return out


def over_protocol():
    import tablestore as m
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "keys"), "w") as f:
            f.write("bench:bench\n")
        binary = os.environ.get("TABLESYNC_BIN", "target/release/tablesync")
        proc = subprocess.Popen([binary, "serve", os.path.join(d, "db"), "--tablestore-listen", "127.0.0.1:0",
                                 "--instance", "bench", "--access-key-file", os.path.join(d, "keys")],
                                stdout=subprocess.PIPE, text=True)
        try:
            url = next(l.split()[2] for l in proc.stdout if l.startswith("Tablestore endpoint "))
            client = m.OTSClient(url, "bench", "bench", "bench", retry_policy=m.NoRetryPolicy())
            return workload(m, client, "bench")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def in_process():
    # A durable directory like the server's, so the ratio is the protocol's cost.
    import tablesync.tablestore as m
    with tempfile.TemporaryDirectory() as d:
        client = m.OTSClient("file://" + os.path.join(d, "db"), "bench", "bench", "bench")
        return workload(m, client, "bench")


def main():
    sides = {}
    for name, fn in (("official SDK -> serve", over_protocol), ("tablesync.tablestore in-process", in_process)):
        try:
            sides[name] = fn()
        except ImportError as e:
            print("%s: not run (%s)" % (name, e))
    print("rows: %d (figures need a quiet machine)" % N)
    ops = ["PutRow", "GetRow", "GetRange (rows)", "BatchWriteRow (rows)"]
    header = "%-22s" % "op" + "".join("%34s" % n for n in sides) + ("%12s" % "ratio" if len(sides) == 2 else "")
    print(header)
    for op in ops:
        line = "%-22s" % op
        for s in sides.values():
            line += "%20.0f/s p99 %6.2f ms" % s[op]
        if len(sides) == 2:
            a, b = [s[op][0] for s in sides.values()]
            line += "%11.2fx" % (b / a)
        print(line)
    if len(sides) == 2:
        print("ratio = in-process throughput / over-the-protocol throughput")


if __name__ == "__main__":
    main()
