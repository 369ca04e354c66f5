"""Replication links from Python: db.replicate(...) -> Link."""

import time

import pytest

import tablesync


def _region(name: str) -> tablesync.Database:
    db = tablesync.Database.memory(name)
    db.create_table("t", primary_key=[("k", "INTEGER")])
    return db


def test_realtime_push_to_another_database() -> None:
    a, b = _region("a"), _region("b")
    link = a.replicate(b, trigger="realtime", direction="push")
    for k in range(50):
        a.put_row("t", {"k": k}, {"v": k})
    assert link.wait_idle(10.0)
    assert a.table_digest("t") == b.table_digest("t")
    s = link.status()
    assert s.state == "running"
    assert s.pending == 0 and s.lag_ms == 0
    assert s.records_shipped >= 50 and s.bytes_shipped > 0
    assert s.last_success is not None
    link.stop()
    assert link.status().state == "stopped"


def test_manual_moves_nothing_until_triggered_and_pause_resume() -> None:
    a, b = _region("a"), _region("b")
    link = a.replicate(b, trigger="manual", direction="both")
    a.put_row("t", {"k": 1}, {"v": "a"})
    b.put_row("t", {"k": 2}, {"v": "b"})
    time.sleep(0.05)
    s = link.status()
    assert (s.pending, s.bytes_shipped, s.rpo_ms) == (1, 0, None)
    link.trigger()
    assert link.wait_idle(10.0)
    assert a.table_digest("t") == b.table_digest("t")
    link.pause()
    assert link.status().state == "paused"
    with pytest.raises(tablesync.InvalidArgument):
        link.trigger()
    link.resume()
    link.stop()


def test_delayed_waits_before_shipping() -> None:
    a, b = _region("a"), _region("b")
    # A delay far above any scheduling pause of a loaded machine, so
    # "not yet visible" cannot flake; wait_idle then waits it out.
    link = a.replicate(b, trigger="delayed:2s")
    a.put_row("t", {"k": 1}, {"v": 1})
    time.sleep(0.1)
    assert b.get_row("t", {"k": 1}) is None
    assert link.wait_idle(10.0)
    assert b.get_row("t", {"k": 1}) is not None
    link.stop()


def test_bad_arguments_raise() -> None:
    a, b = _region("a"), _region("b")
    with pytest.raises(tablesync.InvalidArgument):
        a.replicate(b, trigger="sometimes")
    with pytest.raises(tablesync.InvalidArgument):
        a.replicate(b, direction="sideways")
    with pytest.raises(tablesync.InvalidArgument):
        a.replicate(a)
    with pytest.raises(TypeError):
        a.replicate(42)  # type: ignore[arg-type]


def test_replicate_to_a_server_url() -> None:
    a, b = _region("a"), _region("b")
    with b.serve(token="s3cret") as server:
        link = a.replicate(server.url, token="s3cret")
        for k in range(20):
            a.put_row("t", {"k": k}, {"v": k})
        assert link.wait_idle(10.0)
        link.stop()
    assert a.table_digest("t") == b.table_digest("t")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _links(url: str, token: str) -> dict:  # type: ignore[type-arg]
    import json
    import urllib.request

    req = urllib.request.Request(url + "/v1/links", headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def test_serve_with_peers_hosts_links_heartbeats_and_the_fence() -> None:
    token = "py-peers-token"
    a, b = _region("a"), _region("b")
    pa, pb = _free_port(), _free_port()
    sa = a.serve(f"127.0.0.1:{pa}", token=token, peers={"b": f"http://127.0.0.1:{pb}"}, group_primary="a")
    sb = b.serve(f"127.0.0.1:{pb}", token=token, peers=[f"a=http://127.0.0.1:{pa}"], group_primary="a")
    try:
        deadline = time.time() + 10
        while True:
            doc = _links(sa.url, token)
            if doc["writable"] and doc["peers"][0]["state"] == "up":
                break
            assert time.time() < deadline, doc
            time.sleep(0.05)
        assert (doc["region"], doc["role"], doc["epoch"]) == ("a", "primary", 1)
        assert doc["links"][0]["name"] == "a->b"
        # Only the primary takes local writes.
        with pytest.raises(tablesync.StaleEpoch):
            b.put_row("t", {"k": 99}, {"v": 0})
        for k in range(20):
            a.put_row("t", {"k": k}, {"v": k})
        while a.table_digest("t") != b.table_digest("t"):
            assert time.time() < deadline + 10
            time.sleep(0.05)
        assert _links(sb.url, token)["role"] == "standby"
    finally:
        sa.stop()
        sb.stop()
    # Stopped: the fence is gone, the region writes again.
    b.put_row("t", {"k": 100}, {"v": 1})
    with pytest.raises(tablesync.InvalidArgument):
        a.serve(token=token, peers=["no-url"])


def test_serve_with_peers_keeps_link_and_group_state_in_a_durable_region(tmp_path) -> None:  # type: ignore[no-untyped-def]
    token = "py-peers-durable"
    path = tmp_path / "a"
    a = tablesync.Database.open(path, region="a")
    a.create_table("t", primary_key=[("k", "INTEGER")])
    b = _region("b")
    pa, pb = _free_port(), _free_port()
    sa = a.serve(f"127.0.0.1:{pa}", token=token, peers={"b": f"http://127.0.0.1:{pb}"}, group_primary="a")
    sb = b.serve(f"127.0.0.1:{pb}", token=token, peers={"a": f"http://127.0.0.1:{pa}"}, group_primary="a")
    try:
        deadline = time.time() + 15
        while not _links(sa.url, token)["writable"]:
            assert time.time() < deadline
            time.sleep(0.05)
        for k in range(10):
            a.put_row("t", {"k": k}, {"v": k})
        while a.table_digest("t") != b.table_digest("t"):
            assert time.time() < deadline
            time.sleep(0.05)
        shipped = _links(sa.url, token)["links"][0]["records_shipped"]
        assert shipped >= 10
    finally:
        sa.stop()
        sb.stop()
    a.close()
    assert (path / "group.state").exists()
    # Reopened with another group_primary: the saved epoch-1 group (led by
    # "a") and the link's counters come back from the directory.
    a = tablesync.Database.open(path, region="a")
    sa = a.serve(f"127.0.0.1:{pa}", token=token, peers={"b": f"http://127.0.0.1:{pb}"}, group_primary="b")
    try:
        doc = _links(sa.url, token)
        assert (doc["epoch"], doc["primary"]) == (1, "a")
        assert doc["links"][0]["records_shipped"] >= shipped
    finally:
        sa.stop()
        a.close()


def test_link_frames_carry_the_group_epoch_and_unstamped_ones_are_refused() -> None:
    token = "py-epoch-token"
    a, b = _region("a"), _region("b")
    pa, pb = _free_port(), _free_port()
    sa = a.serve(f"127.0.0.1:{pa}", token=token, peers={"b": f"http://127.0.0.1:{pb}"}, group_primary="a")
    sb = b.serve(f"127.0.0.1:{pb}", token=token, peers={"a": f"http://127.0.0.1:{pa}"}, group_primary="a")
    try:
        assert _links(sb.url, token)["epoch"] == 1
        c = _region("c")
        c.put_row("t", {"k": 1}, {"v": 1})
        # A region outside the group (epoch 0): its frames are refused.
        stale = c.replicate(sb.url, token=token, trigger="manual", name="unstamped")
        stale.trigger()
        deadline = time.time() + 10
        while stale.status().last_error is None:
            assert time.time() < deadline, "the refused session never failed"
            time.sleep(0.05)
        assert "StaleEpoch" in (stale.status().last_error or "")
        stale.stop()
        assert b.get_row("t", {"k": 1}) is None
        # Stamped with the group's epoch: accepted.
        ok = c.replicate(sb.url, token=token, trigger="manual", name="stamped", epoch=1)
        ok.trigger()
        assert ok.wait_idle(10.0)
        assert ok.status().last_error is None
        ok.stop()
        assert b.get_row("t", {"k": 1}) is not None
    finally:
        sa.stop()
        sb.stop()


def test_serve_lease_and_grace_are_checked() -> None:
    token = "py-lease-token"
    a = _region("a")
    peers = {"b": f"http://127.0.0.1:{_free_port()}", "c": f"http://127.0.0.1:{_free_port()}"}
    with pytest.raises(tablesync.InvalidArgument):
        a.serve(token=token, peers=peers, group_primary="a", lease="soon")
    # A lease shorter than two heartbeats cannot be kept.
    with pytest.raises(tablesync.InvalidArgument):
        a.serve(token=token, peers=peers, group_primary="a", heartbeat="100ms", lease="150ms")
    with pytest.raises(tablesync.InvalidArgument):
        a.serve(token=token, peers=peers, group_primary="a", min_silence="a while")
    with pytest.raises(tablesync.InvalidArgument):
        a.serve(token=token, peers=peers, group_primary="a", grace="0.0001s")
    s = a.serve(
        token=token, peers=peers, group_primary="a", lease="0.5s", grace="400ms", min_silence="1.2s"
    )
    try:
        doc = _links(s.url, token)
        assert (doc["voting"], doc["epoch"], doc["lost_pending"]) == (True, 1, False)
    finally:
        s.stop()
