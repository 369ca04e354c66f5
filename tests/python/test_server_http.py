"""The region server from Python: conditional writes of the tablestore
client run at the server (two racing clients, one winner), read-only
tokens, and the change feed as an iterator (``tablesync.follow``)."""

import threading
import time

import pytest
import tablesync
from tablesync.tablestore import (
    Condition,
    OTSClient,
    OTSServiceError,
    Row,
    RowExistenceExpectation,
)

TOKEN = "feed-secret"


@pytest.fixture
def served():
    db = tablesync.Database.memory("server")
    db.create_table("t", primary_key=[("id", "INTEGER")])
    server = db.serve("127.0.0.1:0", token=TOKEN, read_tokens=["reader"])
    yield db, server.url
    server.stop()
    db.close()


def test_two_racing_expect_not_exist_puts_have_exactly_one_winner(served):
    db, url = served
    keys = 25
    barrier = threading.Barrier(2)
    wins = [[], []]
    errors = []

    def racer(who):
        c = OTSClient(url, "id", TOKEN, "inst")
        for k in range(keys):
            barrier.wait()
            try:
                c.put_row("t", Row([("id", k)], [("who", who)]),
                          Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
                wins[who].append(k)
            except OTSServiceError as e:
                if e.get_error_code() != "OTSConditionCheckFail":
                    errors.append(e)

    threads = [threading.Thread(target=racer, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for k in range(keys):
        winners = [w for w in (0, 1) if k in wins[w]]
        assert len(winners) == 1, (k, winners)
        assert db.get_row("t", {"id": k})["who"] == winners[0]


def test_read_only_tokens_and_the_change_feed(served):
    db, url = served
    reader = OTSClient(url, "id", "reader", "inst")
    with pytest.raises(tablesync.tablestore.OTSClientError, match="403"):
        reader.put_row("t", Row([("id", 1)], [("v", 1)]))
    assert db.describe_table("t").row_count == 0
    feed = tablesync.follow(url, "reader", wait_ms=5000)
    got = []

    def follow():
        for rec in feed:
            got.append((rec, time.monotonic()))
            if len(got) == 2:
                return

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.3)
    writer = OTSClient(url, "id", TOKEN, "inst")
    committed = time.monotonic()
    writer.put_row("t", Row([("id", 1)], [("v", 1.5), ("b", bytearray(b"\x00\x01"))]))
    db.put_row("t", {"id": 2}, {"v": 2})  # written by the host process, not the server
    t.join(timeout=10)
    assert not t.is_alive()
    assert [r["primary_key"] for r, _ in got] == [{"id": 1}, {"id": 2}]
    assert got[0][0]["kind"] == "PUT" and got[0][0]["table"] == "t"
    assert got[0][1] - committed < 2.0
    assert feed.cursor == got[1][0]["cursor"] + 1
    assert db.get_row("t", {"id": 1})["b"] == b"\x00\x01"


def _openssl(*args, cwd):
    import subprocess

    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certs(d, name):
    """A CA and a certificate for 127.0.0.1 signed by it (the openssl CLI)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", name + "-ca.key", "-out", name + "-ca.pem", "-days", "2",
             "-subj", "/CN=%s test CA" % name, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    _openssl("req", *ec, "-keyout", name + "-key.pem", "-out", name + ".csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / (name + ".ext")).write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", name + "-ca.pem", "-CAkey", name + "-ca.key",
             "-CAcreateserial", "-out", name + "-cert.pem", "-days", "2", "-extfile", name + ".ext", cwd=d)
    return d / (name + "-ca.pem"), d / (name + "-cert.pem"), d / (name + "-key.pem")


def test_https_with_a_private_ca(tmp_path):
    ca, cert, key = _certs(tmp_path, "good")
    other_ca, _, _ = _certs(tmp_path, "other")
    db = tablesync.Database.memory("server")
    db.create_table("t", primary_key=[("id", "INTEGER")])
    db.put_row("t", {"id": 1}, {"v": "server"})
    with db.serve(token=TOKEN, tls_cert=str(cert), tls_key=key) as server:
        assert server.url.startswith("https://127.0.0.1:")
        laptop = tablesync.Database.memory("laptop")
        with pytest.raises(tablesync.SyncError):
            laptop.sync_url(server.url, TOKEN, ca_file=str(other_ca))
        with pytest.raises(tablesync.SyncError):
            laptop.sync_url(server.url, TOKEN)
        report = laptop.sync_url(server.url, TOKEN, ca_file=ca)
        assert report.verified
        assert laptop.get_row("t", {"id": 1})["v"] == "server"
        feed = tablesync.follow(server.url, TOKEN, wait_ms=0, ca_file=str(ca))
        assert next(feed)["primary_key"] == {"id": 1}
    with pytest.raises(ValueError, match="together"):
        db.serve(token=TOKEN, tls_cert=str(cert))
    db.close()


def test_tablestore_client_over_https_with_a_private_ca(tmp_path):
    ca, cert, key = _certs(tmp_path, "ots")
    other_ca, _, _ = _certs(tmp_path, "stranger")
    db = tablesync.Database.memory("server")
    db.create_table("t", primary_key=[("id", "INTEGER")])
    db.put_row("t", {"id": 1}, {"v": "server"})
    with db.serve(token=TOKEN, tls_cert=str(cert), tls_key=key) as server:
        assert server.url.startswith("https://")
        c = OTSClient(server.url, "id", TOKEN, "inst", ca_file=str(ca))
        # Reads pull over TLS; conditional writes run at the server over TLS.
        _, row, _ = c.get_row("t", [("id", 1)], max_version=1)
        assert row.attribute_columns[0][:2] == ("v", "server")
        c.put_row("t", Row([("id", 2)], [("v", "tls")]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
        with pytest.raises(OTSServiceError) as e:
            c.put_row("t", Row([("id", 2)], [("v", "again")]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
        assert e.value.code == "OTSConditionCheckFail"
        assert db.get_row("t", {"id": 2})["v"] == "tls"
        c.close()
        # A certificate from another CA, or none trusted at all, is refused.
        for kwargs in ({"ca_file": str(other_ca)}, {}):
            bad = OTSClient(server.url, "id", TOKEN, "inst", **kwargs)
            with pytest.raises(tablesync.tablestore.OTSClientError):
                bad.put_row("t", Row([("id", 3)], [("v", "no")]), Condition(RowExistenceExpectation.IGNORE))
            with pytest.raises(tablesync.tablestore.OTSClientError):
                bad.get_row("t", [("id", 1)], max_version=1)
            bad.close()
        assert db.get_row("t", {"id": 3}) is None
    with pytest.raises(tablesync.tablestore.OTSClientError, match="https"):
        OTSClient("http://127.0.0.1:1", "id", TOKEN, "inst", ca_file=str(ca))
    db.close()
