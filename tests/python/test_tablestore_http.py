"""tablesync.tablestore against a tablesync server (``http://`` endpoints):
each client keeps a replica region, pulls before every request and pushes
after every write; the server's own database holds the result."""

import subprocess
import sys

import pytest
import tablesync
from tablesync.tablestore import (
    PK_AUTO_INCR,
    CapacityUnit,
    Condition,
    OTSClient,
    OTSClientError,
    OTSServiceError,
    ReservedThroughput,
    ReturnType,
    Row,
    RowExistenceExpectation,
    TableMeta,
    TableOptions,
)
from test_tablestore_script import SDK_SCRIPT, port

SECRET = "example-secret"  # the SDK script's OTS_SECRET is the server's token


@pytest.fixture
def served():
    """A region 'server' served on 127.0.0.1 with token SECRET: ``(db, url)``."""
    db = tablesync.Database.memory("server")
    server = db.serve("127.0.0.1:0", token=SECRET)
    yield db, server.url
    server.stop()
    db.close()


def client(url, secret=SECRET, instance="inst"):
    return OTSClient(url, "id", secret, instance)


def create(c, name, pk, options=None):
    c.create_table(TableMeta(name, pk), options or TableOptions(), ReservedThroughput(CapacityUnit(0, 0)))


def test_sdk_script_against_a_served_region(served, tmp_path):
    db, url = served
    # The script as in test_tablestore_script, ending before its delete_table
    # (table deletion does not travel through a server endpoint).
    head, tail = SDK_SCRIPT.split('client.delete_table(table_name)\nprint("list')
    assert tail.count("\n") == 1  # only the final print follows
    body = head + 'print("list: %s" % (client.list_table(),))\n'
    script = tmp_path / "sdk_script.py"
    script.write_text(port(body, url))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "delete_table: OTSObjectNotExist 404",
        "put: write CU 1",
        "conditional update: OTSConditionCheckFail 403",
        "get_row: [('address', 'Hongkong'), ('counter', 3), ('name', 'David')]",
        "get_range: [0, 1, 2, 8, 9]",
        "batch_write: all=False put_fail=['OTSConditionCheckFail'] delete_ok=1",
        "batch_get: [None, 4]",
        "describe: [('gid', 'INTEGER'), ('uid', 'INTEGER')]",
        "list: ('python_sdk_demo',)",
    ]
    # The server's database holds everything the script wrote.
    t = "python_sdk_demo"
    assert db.list_tables() == [t]
    assert db.describe_table(t).primary_key == [("gid", "INTEGER"), ("uid", "INTEGER")]
    assert db.describe_table(t).row_count == 9  # 10 put, (3, 4) deleted
    row = db.get_row(t, {"gid": 1, "uid": 2})
    assert row is not None and row.columns == {"name": "David", "address": "Hongkong", "counter": 3}
    assert db.get_row(t, {"gid": 3, "uid": 4}) is None
    first = db.get_row(t, {"gid": 0, "uid": 1})
    assert first is not None and first["age"] == 0  # the conditional batch put failed
    db.verify_table_digest(t)


def test_clients_see_each_others_writes_and_the_servers(served):
    db, url = served
    a, b = client(url), client(url)
    assert a.database.region != b.database.region
    assert a.database.region.startswith("inst-") and b.database.region.startswith("inst-")
    create(a, "kv", [("k", "STRING")])
    assert "kv" in db.list_tables()
    a.put_row("kv", Row([("k", "x")], [("v", 1)]))
    _, row, _ = b.get_row("kv", [("k", "x")])
    assert row.attribute_columns[0][:2] == ("v", 1)
    b.update_row("kv", Row([("k", "x")], {"INCREMENT": [("v", 41)]}), None)
    _, row, _ = a.get_row("kv", [("k", "x")])
    assert row.attribute_columns[0][:2] == ("v", 42)
    # Written on the server's side directly: the clients see it on their next request.
    db.put_row("kv", {"k": "y"}, {"v": "server"})
    _, _, rows, _ = a.get_range("kv", "FORWARD", [("k", tablesync.INF_MIN)], [("k", tablesync.INF_MAX)])
    assert [r.primary_key[0][1] for r in rows] == ["x", "y"]
    # A conditional write is checked against the freshly pulled replica.
    with pytest.raises(OTSServiceError) as info:
        b.put_row("kv", Row([("k", "y")], [("v", 0)]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
    assert info.value.get_error_code() == "OTSConditionCheckFail"
    assert db.get_row("kv", {"k": "y"})["v"] == "server"
    # An auto-increment key made by a replica lands on the server.
    create(a, "seq", [("p", "STRING"), ("n", "INTEGER", PK_AUTO_INCR)])
    _, written = b.put_row("seq", Row([("p", "a"), ("n", PK_AUTO_INCR)], [("v", 1)]),
                           return_type=ReturnType.RT_PK)
    n = written.primary_key[1][1]
    assert db.get_row("seq", {"p": "a", "n": n})["v"] == 1
    assert a.database.table_digest("kv") == db.table_digest("kv") == b.database.table_digest("kv")
    a.close()
    b.close()
    assert a.database.closed and not db.closed


def test_table_ddl_through_a_server(served):
    db, url = served
    c = client(url)
    create(c, "opts", [("id", "INTEGER")], TableOptions(time_to_live=86400, max_version=3))
    d = db.describe_table("opts")
    assert (d.time_to_live, d.max_versions) == (86400, 3)  # the push carried the options
    db.create_table("made_on_server", primary_key=[("id", "INTEGER")])
    with pytest.raises(OTSServiceError) as info:
        create(c, "made_on_server", [("id", "INTEGER")])
    assert info.value.get_error_code() == "OTSObjectAlreadyExist"
    assert sorted(c.list_table()) == ["made_on_server", "opts"]
    assert c.describe_table("made_on_server").table_meta.schema_of_primary_key == [("id", "INTEGER")]
    with pytest.raises(OTSServiceError) as info:
        c.delete_table("missing")
    assert info.value.get_error_code() == "OTSObjectNotExist"
    with pytest.raises(OTSClientError, match="delete_table"):
        c.delete_table("opts")
    assert "opts" in db.list_tables()
    with pytest.raises(OTSClientError, match="time_to_live"):
        c.update_table("opts", TableOptions(time_to_live=100))
    assert db.describe_table("opts").time_to_live == 86400
    resp = c.update_table("opts", reserved_throughput=ReservedThroughput(CapacityUnit(5, 5)))
    assert resp.reserved_throughput_details.capacity_unit.read == 5


def test_wrong_secret_and_unreachable_servers(served):
    db, url = served
    db.create_table("t", primary_key=[("id", "INTEGER")])
    bad = client(url, secret="wrong")
    with pytest.raises(OTSServiceError) as info:
        bad.get_row("t", [("id", 1)])
    assert info.value.get_error_code() == "OTSAuthFailed" and info.value.get_http_status() == 403
    with pytest.raises(OTSServiceError):
        bad.put_row("t", Row([("id", 1)], [("v", 1)]))
    assert db.describe_table("t").row_count == 0
    # https:// is a TLS server (test_server_http.py); none listens here.
    with pytest.raises(OTSClientError, match="127.0.0.1:1"):
        OTSClient("https://127.0.0.1:1", "id", SECRET, "inst").get_row("t", [("id", 1)])
    with pytest.raises(OTSClientError, match="HOST:PORT"):
        OTSClient("http://127.0.0.1", "id", SECRET, "inst")
    with pytest.raises(OTSClientError, match="no path"):
        OTSClient(url + "/v1/sync", "id", SECRET, "inst")
    gone = tablesync.Database.memory("gone")
    server = gone.serve(token=SECRET)
    gone_url = server.url
    server.stop()
    with pytest.raises(OTSClientError, match="tablesync server"):
        client(gone_url).list_table()
