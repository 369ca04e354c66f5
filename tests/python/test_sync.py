"""Sync between regions: sync_with (every mode and direction), verify,
repair, copy_table across regions, SyncSession + respond by hand, and HTTP
(serve + sync_url in-process and across two processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from typing import Dict, Iterator, List, Optional, Tuple, Union

import pytest
import tablesync
from conftest import T0

MODES = ["incremental", "full", "hybrid", "reconcile", "auto"]
DIRECTIONS = ["pull", "push", "both"]


def region(name: str) -> tablesync.Database:
    db = tablesync.Database.memory(name, clock=T0)
    db.create_table("t", primary_key=[("k", "INTEGER")])
    return db


def put(db: tablesync.Database, keys: range, v: str) -> None:
    for base in range(keys.start, keys.stop, 200):
        db.batch_write([
            {"op": "put", "table": "t", "primary_key": {"k": k}, "columns": {"v": v}}
            for k in range(base, min(keys.stop, base + 200))
        ])
        db.advance_time(1)


def value(db: tablesync.Database, k: int, table: str = "t") -> Optional[object]:
    row = db.get_row(table, {"k": k})
    return None if row is None else row["v"]


def state(db: tablesync.Database) -> Tuple[str, int, Dict[str, int]]:
    """Everything a sync could change: digest, log end and version vector."""
    return db.table_digest("t"), db.next_cursor(), db.version_vector()


@pytest.fixture
def pair() -> Iterator[Tuple[tablesync.Database, tablesync.Database]]:
    """Regions a (keys 0..199 = "a") and b (150..299 = "b", written later; 5 deleted)."""
    a, b = region("a"), region("b")
    put(a, range(0, 200), "a")
    b.set_time(T0 + 100)
    put(b, range(150, 300), "b")
    b.delete_row("t", {"k": 5})
    yield a, b
    a.close()
    b.close()


# ---- sync_with ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_every_mode_and_direction_converges(
    pair: Tuple[tablesync.Database, tablesync.Database], mode: str, direction: str
) -> None:
    a, b = pair
    b_before = state(b)
    report = a.sync_with(b, mode=mode, direction=direction)
    assert isinstance(report, tablesync.SyncReport)
    assert report.mode == mode
    assert report.round_trips >= 1 and report.bytes_sent > 0 and report.bytes_received > 0
    if direction in ("pull", "both"):
        assert value(a, 250) == "b" and value(a, 160) == "b"  # b's rows, b's later writes win
        assert report.records_pulled + report.rows_pulled > 0
    else:
        assert value(a, 250) is None
        assert report.records_pulled == report.rows_pulled == 0
    if direction in ("push", "both"):
        assert value(b, 10) == "a"
        assert report.records_pushed + report.rows_pushed > 0
    else:
        assert value(b, 10) is None
        assert state(b) == b_before  # a pull never writes to the other side
    if direction == "both":
        assert report.verified, report
        assert a.table_digest("t") == b.table_digest("t")
    else:
        assert not report.verified
        # The other direction completes the exchange.
        other = {"pull": "push", "push": "pull"}[direction]
        assert a.sync_with(b, mode=mode, direction=other).verified
    assert a.table_digest("t") == b.table_digest("t")
    assert a.verify_table_digest("t") == b.verify_table_digest("t")
    (outcome,) = report.tables
    assert outcome.table == "t" and outcome.differing_keys == []
    # The rows are equal: a second session moves no row and changes no digest.
    digest = a.table_digest("t")
    again = a.sync_with(b)
    assert again.verified and again.round_trips <= 2
    assert again.rows_pulled == again.rows_pushed == 0
    assert a.table_digest("t") == b.table_digest("t") == digest
    if mode in ("incremental", "auto", "hybrid"):
        # Those modes also carried the change records: the logs agree too.
        assert again.records_pulled == again.records_pushed == 0
        assert again.round_trips == 1


def test_report_attributes_and_repr(pair: Tuple[tablesync.Database, tablesync.Database]) -> None:
    a, b = pair
    r = a.sync_with(b, mode="auto", tables=["t"], max_frame_bytes=64 * 1024, initial_symbols=16)
    d = r.to_dict()
    assert set(d) == {
        "mode", "fell_back_to_reconcile", "bytes_sent", "bytes_received", "round_trips",
        "records_pulled", "records_pushed", "rows_pulled", "rows_pushed", "duration_ms",
        "verified", "tables",
    }
    for name, v in d.items():
        if name != "tables":
            assert getattr(r, name) == v
    assert d["tables"] == [
        {"table": "t", "local": a.table_digest("t"), "remote": b.table_digest("t"), "differing_keys": []}
    ]
    assert r.records_pulled == 151 and r.records_pushed == 200  # 150 puts + 1 delete; 200 puts
    text = repr(r)
    assert text.startswith("SyncReport(mode='auto', verified=True")
    assert "'t': equal" in text and "records_pushed=200" in text
    (t,) = r.tables
    assert t.equal and t.local == t.remote and len(t.local or "") == 64
    assert repr(t).startswith("TableOutcome(table='t', equal=True")


def test_sync_selects_tables_and_creates_missing_ones() -> None:
    a, b = region("a"), tablesync.Database.memory("b", clock=T0)
    a.create_table("other", primary_key=[("k", "INTEGER")])
    put(a, range(0, 10), "a")
    a.put_row("other", {"k": 1}, {"v": "x"})
    r = a.sync_with(b, direction="push", tables=["t"])
    assert r.verified and [t.table for t in r.tables] == ["t"]
    assert b.list_tables() == ["t"]  # created from the pushed schema; "other" was not selected
    assert b.describe_table("t").primary_key == [("k", "INTEGER")]
    assert b.table_digest("t") == a.table_digest("t")
    r = a.sync_with(b)
    assert r.verified and b.list_tables() == ["other", "t"]
    assert value(b, 1, "other") == "x"


def test_bad_arguments_are_refused_and_change_nothing(
    pair: Tuple[tablesync.Database, tablesync.Database],
) -> None:
    a, b = pair
    before = (state(a), state(b))
    with pytest.raises(tablesync.InvalidArgument, match="mode"):
        a.sync_with(b, mode="sideways")
    with pytest.raises(tablesync.InvalidArgument, match="direction"):
        a.sync_with(b, direction="up")
    with pytest.raises(tablesync.InvalidArgument, match="max_frame_bytes"):
        a.sync_with(b, max_frame_bytes=100)
    with pytest.raises(tablesync.InvalidArgument, match="initial_symbols"):
        a.sync_with(b, initial_symbols=0)
    with pytest.raises(tablesync.InvalidArgument, match="same database"):
        a.sync_with(a)
    with pytest.raises(tablesync.InvalidArgument):
        a.verify(a)
    with pytest.raises(TypeError):
        a.sync_with("b")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.sync_with(b, tables="t")
    with pytest.raises(tablesync.InvalidArgument):
        a.sync_with(b, tables=[])
    assert (state(a), state(b)) == before
    b.close()
    with pytest.raises(tablesync.DatabaseClosed):
        a.sync_with(b)
    assert state(a) == before[0]


def test_opposite_syncs_from_many_threads_do_not_deadlock() -> None:
    a, b = region("a"), region("b")
    errors: List[BaseException] = []

    def work(src: tablesync.Database, dst: tablesync.Database, base: int) -> None:
        try:
            for i in range(20):
                src.put_row("t", {"k": base + i}, {"v": src.region})
                src.sync_with(dst, direction="both")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(a, b, 0)), threading.Thread(target=work, args=(b, a, 1000))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert a.sync_with(b).verified
    assert a.describe_table("t").row_count == b.describe_table("t").row_count == 40


# ---- verify, repair, auto after truncation ---------------------------------------------


def diverged() -> Tuple[tablesync.Database, tablesync.Database]:
    """Two equal regions of 2000 rows, then 3 rows changed apart."""
    a, b = region("a"), region("b")
    put(a, range(0, 2000), "x")
    assert a.sync_with(b, mode="full", direction="push").verified
    a.advance_time(10)
    b.set_time(T0 + 1000)
    a.put_row("t", {"k": 17}, {"v": "changed-a"})
    b.put_row("t", {"k": 1500}, {"v": "changed-b"})
    b.delete_row("t", {"k": 42})
    return a, b


def test_verify_lists_differing_keys_and_moves_nothing() -> None:
    a, b = diverged()
    before = (state(a), state(b))
    r = a.verify(b)
    assert r.mode == "verify" and not r.verified
    assert r.rows_pulled == r.rows_pushed == r.records_pulled == r.records_pushed == 0
    (t,) = r.tables
    assert not t.equal and t.local == a.table_digest("t") and t.remote == b.table_digest("t")
    assert sorted(k["k"] for k in t.differing_keys) == [17, 42, 1500]  # type: ignore[type-var]
    assert r.differing_keys() == {"t": t.differing_keys}
    assert "3 differing keys" in repr(r)
    assert (state(a), state(b)) == before
    # Far below one row per key: reconciliation, not a scan.
    assert r.bytes_sent + r.bytes_received < 40_000
    assert a.verify(b, tables=["t"]).differing_keys() == r.differing_keys()


def test_repair_moves_only_the_differing_rows() -> None:
    a, b = diverged()
    r = a.repair(b)
    assert r.mode == "reconcile" and r.verified
    assert a.table_digest("t") == b.table_digest("t")
    assert 0 < r.rows_pulled + r.rows_pushed <= 6
    assert value(a, 1500) == "changed-b" and value(b, 17) == "changed-a"
    assert value(a, 42) is None and value(b, 42) is None
    assert a.verify(b).verified


def test_auto_falls_back_to_reconcile_after_the_log_is_truncated() -> None:
    a, b = region("a"), region("b")
    put(a, range(0, 100), "old")
    assert a.sync_with(b).verified
    put(a, range(100, 150), "new")
    a.truncate_log(a.next_cursor())  # b never got records 100..149, and now they are gone
    before = state(b)
    with pytest.raises(tablesync.LogGap) as info:
        b.sync_with(a, mode="incremental", direction="pull")
    assert isinstance(info.value, tablesync.SyncError) and info.value.code == "LogGap"
    assert state(b) == before
    r = b.sync_with(a, mode="auto", direction="pull")
    assert r.fell_back_to_reconcile and r.verified, r
    assert r.records_pulled == 0 and r.rows_pulled == 50
    assert value(b, 120) == "new" and b.table_digest("t") == a.table_digest("t")


def test_retention_then_auto_both_ways() -> None:
    a, b = region("a"), region("b")
    put(a, range(0, 300), "a")
    put(b, range(1000, 1010), "b")
    a.set_retention(max_records=10)
    assert a.enforce_retention() == 290
    r = a.sync_with(b)
    assert r.fell_back_to_reconcile and r.verified
    assert a.table_digest("t") == b.table_digest("t")
    assert b.describe_table("t").row_count == 310


# ---- copy_table across regions ----------------------------------------------------------


def test_copy_table_into_another_region_with_progress() -> None:
    a, b = region("a"), tablesync.Database.memory("b", clock=T0)
    put(a, range(0, 2500), "a")
    a.delete_row("t", {"k": 7})
    calls: List[Tuple[int, int]] = []
    assert a.copy_table("t", "t", target=b, progress=lambda c, n: calls.append((c, n))) == 2499
    assert calls[0] == (0, 2499) and calls[-1] == (2499, 2499)
    assert [c for c, _ in calls] == sorted(c for c, _ in calls)
    assert b.table_digest("t") == a.table_digest("t")
    assert b.verify_table_digest("t") == a.table_digest("t")
    assert a.verify(b, tables=["t"]).verified
    # Copying the other way round at the same time cannot deadlock.
    b.create_table("u", primary_key=[("k", "INTEGER")])
    b.put_row("u", {"k": 1}, {"v": "u"})
    errors: List[BaseException] = []

    def copy(src: tablesync.Database, dst: tablesync.Database, table: str, name: str) -> None:
        try:
            src.copy_table(table, name, target=dst)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [
        threading.Thread(target=copy, args=(a, b, "t", "t2")),
        threading.Thread(target=copy, args=(b, a, "u", "u2")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert b.table_digest("t2") == a.table_digest("t") and a.table_digest("u2") == b.table_digest("u")


# ---- SyncSession + respond by hand -------------------------------------------------------


def drive(
    session: tablesync.SyncSession, local: tablesync.Database, remote: tablesync.Database
) -> Tuple[tablesync.SyncReport, int]:
    frame: Union[bytes, tablesync.SyncReport] = session.start(local)
    frames = 0
    while isinstance(frame, bytes):
        frames += 1
        frame = session.receive(local, tablesync.respond(remote, frame, max_frame_bytes=session.max_frame_bytes))
    return frame, frames


@pytest.mark.parametrize("mode", MODES + ["verify"])
def test_session_driven_by_hand(pair: Tuple[tablesync.Database, tablesync.Database], mode: str) -> None:
    a, b = pair
    # Small frames make the pages many; verify lists 300 keys, which needs more room.
    cap = 65536 if mode == "verify" else 8192
    s = tablesync.SyncSession(mode=mode, direction="both", tables=["t"], max_frame_bytes=cap)
    assert s.mode == mode and s.direction == "both" and s.max_frame_bytes == cap
    report, frames = drive(s, a, b)
    assert report.round_trips == frames >= 1
    if mode == "verify":
        assert not report.verified and value(a, 250) is None
        # a-only 0..149 (5 is deleted in b), changed 150..199, b-only 200..299
        assert sorted(k["k"] for k in report.tables[0].differing_keys) == list(range(300))  # type: ignore[type-var]
    else:
        assert report.verified and a.table_digest("t") == b.table_digest("t")
    with pytest.raises(tablesync.SyncError):
        s.receive(a, b"anything")  # the session is over


def test_session_ids_are_random_unless_given() -> None:
    ids = {tablesync.SyncSession().session_id for _ in range(20)}
    assert len(ids) == 20
    assert tablesync.SyncSession(session_id=2**64 - 1).session_id == 2**64 - 1
    with pytest.raises(tablesync.InvalidArgument) as info:
        tablesync.SyncSession(session_id=2**64)
    assert info.value.code == "IntegerOutOfRange"
    with pytest.raises(TypeError):
        tablesync.SyncSession(session_id="7")  # type: ignore[arg-type]
    assert "session_id=0x000000000000002a" in repr(tablesync.SyncSession(session_id=42))


def test_a_corrupted_reply_raises_and_changes_nothing(
    pair: Tuple[tablesync.Database, tablesync.Database],
) -> None:
    a, b = pair
    s = tablesync.SyncSession(direction="pull")
    request = s.start(a)
    with pytest.raises(tablesync.SyncError):
        s.start(a)  # only once
    reply = tablesync.respond(b, request)
    before = state(a)
    for i in (len(reply) // 2, len(reply) - 1, 0):
        damaged = bytearray(reply)
        damaged[i] ^= 0x40
        with pytest.raises(tablesync.CorruptData):
            s.receive(a, bytes(damaged))
        assert state(a) == before
    with pytest.raises(tablesync.CorruptData):
        s.receive(a, reply[:-3])
    with pytest.raises(TypeError):
        s.receive(a, "text")  # type: ignore[arg-type]
    assert state(a) == before
    # The genuine reply still completes the session.
    out = s.receive(a, bytearray(reply))
    while isinstance(out, bytes):
        out = s.receive(a, tablesync.respond(b, out))
    assert value(a, 250) == "b" and value(b, 10) is None


def test_a_reply_from_another_session_is_rejected(
    pair: Tuple[tablesync.Database, tablesync.Database],
) -> None:
    a, b = pair
    s1 = tablesync.SyncSession(session_id=1)
    s2 = tablesync.SyncSession(session_id=2)
    r1 = s1.start(a)
    r2 = s2.start(a)
    before = state(a)
    with pytest.raises(tablesync.CorruptData, match="session"):
        s1.receive(a, tablesync.respond(b, r2))
    assert state(a) == before
    out = s1.receive(a, tablesync.respond(b, r1))
    while isinstance(out, bytes):
        out = s1.receive(a, tablesync.respond(b, out))
    assert out.verified


def test_respond_refuses_garbage_without_changes(
    pair: Tuple[tablesync.Database, tablesync.Database],
) -> None:
    a, b = pair
    before = state(b)
    with pytest.raises(tablesync.CorruptData):
        tablesync.respond(b, b"not a frame")
    with pytest.raises(tablesync.CorruptData):
        tablesync.respond(b, b"")
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.respond(b, tablesync.SyncSession().start(a), max_frame_bytes=10)
    assert state(b) == before


# ---- HTTP ---------------------------------------------------------------------------------


def test_serve_and_sync_url_in_process(pair: Tuple[tablesync.Database, tablesync.Database]) -> None:
    a, b = pair
    with b.serve(token="s3cret") as server:
        assert server.url == "http://127.0.0.1:%d" % server.port and server.port > 0
        assert repr(server).endswith("running)")
        before = state(a)
        with pytest.raises(tablesync.SyncError, match="401"):
            a.sync_url(server.url, "wrong")
        assert state(a) == before
        r = a.sync_url(server.url, "s3cret", mode="auto", direction="both", tables=["t"])
        assert r.verified and r.round_trips == 2 and a.table_digest("t") == b.table_digest("t")
        # The served database stays usable from Python.
        b.put_row("t", {"k": 999}, {"v": "served"})
        r = a.sync_url(server.url, "s3cret", direction="pull")
        assert r.records_pulled == 1 and value(a, 999) == "served"
        v = a.sync_url(server.url, "s3cret", mode="verify")
        assert v.verified and v.round_trips == 1
        a.put_row("t", {"k": 1}, {"v": "diff"})
        v = a.sync_url(server.url, "s3cret", mode="verify")
        assert v.differing_keys() == {"t": [{"k": 1}]} and value(b, 1) == "a"
        with pytest.raises(tablesync.InvalidArgument):
            a.sync_url("ftp://x", "s3cret")
    assert server.stopped and repr(server).endswith("stopped)")
    server.stop()  # idempotent
    with pytest.raises(tablesync.SyncError):
        a.sync_url(server.url, "s3cret")


def test_serve_refuses_an_empty_token_and_a_closed_database() -> None:
    db = region("a")
    with pytest.raises(tablesync.InvalidArgument, match="token"):
        db.serve(token="")
    with pytest.raises(tablesync.StorageError):
        db.serve("256.0.0.1:0", token="t")
    server = db.serve(token="t")
    db.close()
    other = region("b")
    with pytest.raises(tablesync.SyncError):
        other.sync_url(server.url, "t")  # the server answers: closed
    server.stop()
    with pytest.raises(tablesync.DatabaseClosed):
        db.serve(token="t")


def test_many_threads_write_while_another_syncs_over_http() -> None:
    server_db, client = region("srv"), region("cli")
    with server_db.serve(token="t") as server:
        def writer(base: int) -> None:
            for k in range(base, base + 100):
                server_db.put_row("t", {"k": k}, {"v": "w"})

        threads = [threading.Thread(target=writer, args=(i * 1000,)) for i in range(3)]
        for th in threads:
            th.start()
        for _ in range(5):
            client.sync_url(server.url, "t", direction="pull")
        for th in threads:
            th.join()
        assert client.sync_url(server.url, "t").verified
    assert client.describe_table("t").row_count == 300


SERVER_SCRIPT = textwrap.dedent(
    """
    import sys, tablesync
    db = tablesync.Database.memory("server")
    db.create_table("t", primary_key=[("k", "INTEGER")])
    for k in range(100):
        db.put_row("t", {"k": k}, {"v": "server"})
    server = db.serve("127.0.0.1:0", token=sys.argv[1])
    print(server.url, flush=True)
    sys.stdin.read()          # serve until the parent closes our stdin
    server.stop()
    print(db.describe_table("t").row_count, db.table_digest("t"), flush=True)
    """
)


def test_two_processes_round_trip() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, "tok-123"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), child.stderr.read() if child.stderr else ""
        # The server runs on the system clock: so do these regions (a region
        # refuses stamps more than its clock drift ahead of its own clock).
        laptop = tablesync.Database.memory("laptop")
        laptop.create_table("t", primary_key=[("k", "INTEGER")])
        laptop.put_row("t", {"k": 500}, {"v": "laptop"})
        with pytest.raises(tablesync.SyncError, match="401"):
            laptop.sync_url(url, "nope")
        r = laptop.sync_url(url, "tok-123")
        assert r.verified and laptop.describe_table("t").row_count == 101
        assert value(laptop, 3) == "server"
        # A third region sees the laptop's row through the server.
        third = tablesync.Database.memory("third")
        third.create_table("t", primary_key=[("k", "INTEGER")])
        assert third.sync_url(url, "tok-123", direction="pull").verified
        assert value(third, 500) == "laptop"
        digest = laptop.table_digest("t")
        out, err = child.communicate(input="", timeout=60)  # closes its stdin: it stops
        assert child.returncode == 0, err
        assert out.split() == ["101", digest]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
