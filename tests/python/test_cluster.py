"""`tablesync.Cluster` against three real `tablesync serve --cluster`
processes on loopback ("datacenters" eu, us, ap): every write mode, reads
at ONE / LEADER / QUORUM, ranges merged across partitions with paging,
single-partition and two-partition (2PC) batches, stale maps refreshed,
typed errors on bad input, and a stopped datacenter.

The CLI binary is $TABLESYNC_BIN if set, else what `cargo build -p
tablesync-cli --bin tablesync` produces (a no-op when it is fresh)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

import tablesync

REPO = Path(__file__).resolve().parents[2]
TOKEN = "py-cluster-secret"
DCS = ["eu", "us", "ap"]


def cli_binary() -> str:
    env = os.environ.get("TABLESYNC_BIN")
    if env:
        return env
    out = subprocess.run(
        ["cargo", "build", "-p", "tablesync-cli", "--bin", "tablesync",
         "--message-format=json-render-diagnostics"],
        cwd=REPO, check=True, capture_output=True, text=True,
        env={**os.environ, "CARGO_INCREMENTAL": "0"},
    ).stdout
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "tablesync" \
                and msg.get("executable"):
            return str(msg["executable"])
    raise RuntimeError("cargo did not report the tablesync executable")


def cli(*args: str) -> str:
    r = subprocess.run([cli_binary(), *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "TABLESYNC_TOKEN": TOKEN})
    assert r.returncode == 0, f"tablesync {' '.join(args)}: {r.stderr}"
    return r.stdout


class Region:
    """One `tablesync serve --cluster` child process."""

    def __init__(self, directory: Path, name: str) -> None:
        self.dir = directory
        self.name = name
        self.proc: Optional["subprocess.Popen[str]"] = None
        self.url = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [cli_binary(), "--region", self.name, "serve", str(self.dir), "--listen", "127.0.0.1:0",
             "--cluster", "--log-format", "text"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "TABLESYNC_TOKEN": TOKEN, "TABLESYNC_LOG": "warn"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        urls = [w for w in line.split() if w.startswith("http://")]
        assert urls, f"region {self.name} did not start: {line!r}"
        self.url = urls[0]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture(scope="module")
def cluster_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, object]]:
    base = tmp_path_factory.mktemp("cluster")
    regions: List[Region] = []
    try:
        for dc in DCS:
            name = f"{dc}-1"
            d = base / name
            with tablesync.Database.open(str(d), region=name, sync="batch") as db:
                for t in ("users", "events"):
                    db.create_table(t, primary_key=[("k", "INTEGER")])
            r = Region(d, name)
            r.start()
            regions.append(r)
        map_file = base / "map.tscm"
        cli("cluster", "init", str(map_file), *sum((["--dc", f"{dc}={r.name}@{r.url}"]
                                                   for dc, r in zip(DCS, regions)), []))
        cli("cluster", "add-table", str(map_file), "users", "--hash", "64", "--rf", "2",
            "--mode", "semi-sync:300")
        cli("cluster", "add-table", str(map_file), "events", "--split", "100", "--split", "200",
            "--rf", "3", "--mode", "sync:QUORUM")
        cli("cluster", "push", str(map_file))
        yield {"base": base, "map": map_file, "regions": regions}
    finally:
        for r in regions:
            r.stop()


def client(env: Dict[str, object], source: Optional[object] = None) -> tablesync.Cluster:
    regions = env["regions"]
    assert isinstance(regions, list)
    src = source if source is not None else regions[0].url
    return tablesync.Cluster(src, token=TOKEN, local_dc="eu", seed=7)


def value(row: Optional[tablesync.Row]) -> object:
    return None if row is None else row["v"]


def test_connect_by_url_by_file_and_by_bytes(cluster_dir: Dict[str, object]) -> None:
    by_url = client(cluster_dir)
    by_file = client(cluster_dir, str(cluster_dir["map"]))
    by_bytes = client(cluster_dir, by_url.map_bytes())
    assert by_url.map_epoch == by_file.map_epoch == by_bytes.map_epoch >= 1
    assert "eu" in repr(by_url)


def test_every_write_mode_and_read_level(cluster_dir: Dict[str, object]) -> None:
    c = client(cluster_dir)
    modes = [None, "async", "semi-sync:500", "sync:ONE", "QUORUM", "sync:LOCAL_QUORUM",
             "EACH_QUORUM", "ALL", "sync:2"]
    for i, mode in enumerate(modes):
        for table in ("users", "events"):
            w = c.put_row(table, {"k": 1000 + i}, {"v": i, "s": f"row {i}"}, mode=mode)
            assert isinstance(w, tablesync.ClusterWrite)
            assert w.home.endswith("-1")
            assert w.degraded is False
    # A QUORUM write is on a majority: QUORUM and LEADER reads see it at once.
    c.put_row("events", {"k": 150}, {"v": 42}, mode="QUORUM")
    assert value(c.get_row("events", {"k": 150}, level="QUORUM")) == 42
    assert value(c.get_row("events", {"k": 150}, level="LEADER")) == 42
    # An ALL write is everywhere: a ONE read from any replica sees it.
    c.put_row("users", {"k": 7}, {"v": 1}, mode="ALL")
    for _ in range(10):
        assert value(c.get_row("users", {"k": 7})) == 1
    assert sum(c.requests_per_datacenter().values()) >= 10
    c.update_row("users", {"k": 7}, put={"v": 2, "w": "x"}, mode="ALL")
    row = c.get_row("users", {"k": 7}, level="QUORUM")
    assert row is not None and row["v"] == 2 and row["w"] == "x"
    c.update_row("users", {"k": 7}, delete_all=["w"], mode="ALL")
    row = c.get_row("users", {"k": 7}, level="LEADER")
    assert row is not None and "w" not in row
    c.delete_row("users", {"k": 7}, mode="ALL")
    assert c.get_row("users", {"k": 7}, level="QUORUM") is None


def test_conditions_are_checked_at_the_home(cluster_dir: Dict[str, object]) -> None:
    c = client(cluster_dir)
    c.put_row("users", {"k": 500}, {"v": 1}, mode="QUORUM")
    with pytest.raises(tablesync.ConditionCheckFailed):
        c.put_row("users", {"k": 500}, {"v": 2}, condition="EXPECT_NOT_EXIST", mode="QUORUM")
    assert value(c.get_row("users", {"k": 500}, level="LEADER")) == 1
    c.put_row("users", {"k": 500}, {"v": 3}, condition="EXPECT_EXIST", mode="QUORUM")
    assert value(c.get_row("users", {"k": 500}, level="LEADER")) == 3


def test_ranges_merge_across_partitions_in_key_order_with_paging(cluster_dir: Dict[str, object]) -> None:
    c = client(cluster_dir)
    keys = list(range(2000, 2060)) + list(range(40, 60)) + list(range(180, 230))
    for k in keys:
        c.put_row("events", {"k": k}, {"v": k}, mode="QUORUM")
    for table in ("events",):
        got: List[int] = []
        start: object = [40]
        while True:
            page = c.get_range(table, start, [2060], limit=17)
            got.extend(int(r.primary_key["k"]) for r in page.rows)
            if page.next_start is None:
                break
            assert isinstance(page.next_start, bytes)
            start = page.next_start
        want = sorted(k for k in set(keys) | {150} if 40 <= k < 2060)
        assert [k for k in got if k in set(want)] == want
        assert got == sorted(got)
    # A hash-placed table: a range is scattered to every partition and merged.
    for k in range(3000, 3040):
        c.put_row("users", {"k": k}, {"v": k}, mode="ALL")
    rows, nxt = c.get_range("users", {"k": 3000}, {"k": 3040}, limit=1000)
    assert [r.primary_key["k"] for r in rows] == list(range(3000, 3040))
    assert nxt is None


def test_batches_one_round_and_two_phase_commit(cluster_dir: Dict[str, object]) -> None:
    c = client(cluster_dir)
    one = c.batch_write([
        {"op": "put", "table": "events", "primary_key": {"k": 10}, "columns": {"v": 1}},
        {"op": "put", "table": "events", "primary_key": {"k": 11}, "columns": {"v": 2}},
    ])
    assert one.committed and one.participants == 1 and one.reason == ""
    two = c.batch_write([
        {"op": "put", "table": "events", "primary_key": {"k": 20}, "columns": {"v": 3}},
        {"op": "put", "table": "events", "primary_key": {"k": 250}, "columns": {"v": 4}},
        {"op": "delete", "table": "events", "primary_key": {"k": 10}},
    ])
    assert two.committed and two.participants == 2, two
    assert value(c.get_row("events", {"k": 250}, level="LEADER")) == 4
    assert c.get_row("events", {"k": 10}, level="LEADER") is None
    # A failed condition in one partition aborts the whole transaction.
    aborted = c.batch_write([
        {"op": "put", "table": "events", "primary_key": {"k": 21}, "columns": {"v": 5}},
        {"op": "put", "table": "events", "primary_key": {"k": 250}, "columns": {"v": 6},
         "condition": "EXPECT_NOT_EXIST"},
    ])
    assert not aborted.committed and aborted.participants == 2 and aborted.reason
    assert aborted.txn != two.txn
    assert c.get_row("events", {"k": 21}, level="LEADER") is None
    assert value(c.get_row("events", {"k": 250}, level="LEADER")) == 4


def test_bad_input_is_a_typed_error_and_changes_nothing(cluster_dir: Dict[str, object]) -> None:
    c = client(cluster_dir)
    with pytest.raises(tablesync.InvalidArgument):
        c.put_row("users", {"k": 9000}, {"v": 1}, mode="sometimes")
    with pytest.raises(tablesync.InvalidArgument):
        c.get_row("users", {"k": 9000}, level="MOST")
    with pytest.raises(tablesync.InvalidArgument):
        c.batch_write([{"op": "update", "table": "users", "primary_key": {"k": 9000},
                        "increment": {"v": 1}}])
    with pytest.raises(tablesync.InvalidArgument):
        c.batch_write([])
    with pytest.raises(tablesync.InvalidArgument):
        c.get_range("users", None, None, limit=0)
    with pytest.raises(tablesync.TablesyncError):
        c.put_row("no_such_table", {"k": 1}, {"v": 1})
    assert c.get_row("users", {"k": 9000}, level="QUORUM") is None
    with pytest.raises(tablesync.CorruptData):
        tablesync.Cluster(b"not a map", token=TOKEN)
    with pytest.raises(TypeError):
        tablesync.Cluster(42, token=TOKEN)  # type: ignore[arg-type]


def test_a_stale_map_is_refreshed(cluster_dir: Dict[str, object]) -> None:
    old = client(cluster_dir)
    epoch = old.map_epoch
    map_file = str(cluster_dir["map"])
    cli("cluster", "set-mode", map_file, "users", "sync:ALL")
    cli("cluster", "push", map_file)
    # The old client routes with the old epoch, is refused, refreshes, retries.
    old.put_row("users", {"k": 77}, {"v": 77})
    assert old.map_epoch == epoch + 1
    assert client(cluster_dir).map_epoch == epoch + 1
    assert old.refresh_map() == epoch + 1


def test_a_stopped_datacenter_leaves_the_others_serving(cluster_dir: Dict[str, object]) -> None:
    regions = cluster_dir["regions"]
    assert isinstance(regions, list)
    c = client(cluster_dir)
    for k in range(600, 620):
        c.put_row("events", {"k": k}, {"v": k}, mode="ALL")
    regions[2].stop()  # ap
    for k in range(600, 620):
        assert value(c.get_row("events", {"k": k})) == k
        assert value(c.get_row("events", {"k": k}, level="QUORUM")) == k
    c.put_row("events", {"k": 700}, {"v": 1}, mode="QUORUM")
    assert value(c.get_row("events", {"k": 700}, level="QUORUM")) == 1
