"""Writes through the Tablestore endpoint enter the change log: `tablesync
sync` carries them to another region, `tablesync verify` proves both equal,
and the official SDK reads them back from the other region."""
import os
import subprocess
import tempfile

from conftest import start_server, stop_server
from tablestore import (CapacityUnit, Condition, ReservedThroughput, Row, TableMeta, TableOptions)

TOKEN = "replication-test-token"


def cli(*args):
    binary = os.environ.get("TABLESYNC_BIN", "target/debug/tablesync")
    env = dict(os.environ, TABLESYNC_TOKEN=TOKEN)
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, env=env)


def test_sdk_writes_replicate_and_verify():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "a"))
        os.makedirs(os.path.join(d, "b"))
        # Region a: the sync server and the Tablestore endpoint on one directory.
        a = start_server(os.path.join(d, "a"), ["--listen", "127.0.0.1:0", "--token", TOKEN])
        try:
            sync_url = None
            for line in a.proc.stdout:
                if line.startswith("serving region"):
                    sync_url = line.split(" at ")[1].split()[0]
                    break
            assert sync_url and sync_url.startswith("http://")
            c = a.client()
            c.create_table(TableMeta("rep", [("k", "STRING")]), TableOptions(),
                           ReservedThroughput(CapacityUnit(0, 0)))
            for i in range(20):
                c.put_row("rep", Row([("k", "r%02d" % i)], [("v", i), ("postal code", "x")]))
            c.update_row("rep", Row([("k", "r00")], {"increment": [("v", 100)]}), Condition("IGNORE"))
            c.delete_row("rep", Row([("k", "r01")]), Condition("EXPECT_EXIST"))
            b_dir = os.path.join(d, "b", "db")
            r = cli("--region", "us", "sync", sync_url, b_dir)
            assert r.returncode == 0, r.stdout + r.stderr
            r = cli("verify", sync_url, b_dir)
            assert r.returncode == 0, r.stdout + r.stderr
        finally:
            stop_server(a)
        # Region b served on its own: the SDK reads what region a took.
        b = start_server(os.path.join(d, "b"))
        try:
            c = b.client()
            assert c.list_table() == ("rep",)
            row = c.get_row("rep", [("k", "r00")])[1]
            assert dict((x[0], x[1]) for x in row.attribute_columns) == {"v": 100, "postal code": "x"}
            assert c.get_row("rep", [("k", "r01")])[1] is None
        finally:
            stop_server(b)
