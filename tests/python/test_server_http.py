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
