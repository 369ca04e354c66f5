"""Fixtures: a `tablesync serve --tablestore-listen` process on loopback and
official Tablestore SDK clients pointed at it.

Run through ./scripts/test-ots (it builds the CLI and installs the SDK);
TABLESYNC_BIN names the binary.
"""
import os
import subprocess
import tempfile
import uuid

import pytest
import tablestore

ACCESS_KEY_ID = "test-key-id"
ACCESS_KEY_SECRET = "test-key-secret"
INSTANCE = "tsinst"


class Endpoint:
    def __init__(self, url, proc, directory):
        self.url = url
        self.proc = proc
        self.dir = directory

    def client(self, **kwargs):
        kwargs.setdefault("retry_policy", tablestore.NoRetryPolicy())
        kwargs.setdefault("socket_timeout", 30)
        return tablestore.OTSClient(self.url, ACCESS_KEY_ID, ACCESS_KEY_SECRET, INSTANCE, **kwargs)


def start_server(directory, extra=()):
    keys = os.path.join(directory, "keys")
    with open(keys, "w") as f:
        f.write("# test keys\n%s:%s\nother-id:other-secret\n" % (ACCESS_KEY_ID, ACCESS_KEY_SECRET))
    binary = os.environ.get("TABLESYNC_BIN", "target/debug/tablesync")
    proc = subprocess.Popen(
        [binary, "serve", os.path.join(directory, "db"), "--tablestore-listen", "127.0.0.1:0",
         "--instance", INSTANCE, "--access-key-file", keys, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    for line in proc.stdout:
        if line.startswith("Tablestore endpoint "):
            url = line.split()[2]
            break
    if url is None:
        proc.kill()
        raise RuntimeError("tablesync serve did not start: %s" % proc.stdout.read())
    return Endpoint(url, proc, directory)


def stop_server(ep):
    ep.proc.terminate()
    try:
        ep.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        ep.proc.kill()
        raise


@pytest.fixture(scope="session")
def endpoint():
    with tempfile.TemporaryDirectory() as d:
        ep = start_server(d)
        yield ep
        stop_server(ep)
        assert ep.proc.returncode == 0, "serve did not stop cleanly"


@pytest.fixture
def client(endpoint):
    return endpoint.client()


@pytest.fixture
def table(client):
    """A fresh table (uid INTEGER, name STRING), deleted afterwards."""
    name = "t_" + uuid.uuid4().hex[:10]
    client.create_table(tablestore.TableMeta(name, [("uid", "INTEGER"), ("name", "STRING")]),
                        tablestore.TableOptions(max_version=3),
                        tablestore.ReservedThroughput(tablestore.CapacityUnit(0, 0)))
    yield name
    client.delete_table(name)
