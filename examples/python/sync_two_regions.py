"""Two regions writing independently, then syncing: in-process, over HTTP,
and frame by frame over a transport of your own.

Run: python examples/python/sync_two_regions.py
"""

from __future__ import annotations

from typing import List, Union

import tablesync


def orders(region: str) -> tablesync.Database:
    db = tablesync.Database.memory(region)
    db.create_table("orders", primary_key=[("id", "INTEGER")])
    return db


def main() -> None:
    eu, us = orders("eu"), orders("us")

    # Each region takes orders on its own.
    for i in range(100):
        eu.put_row("orders", {"id": i}, {"item": "tea", "region": "eu"})
    for i in range(100, 150):
        us.put_row("orders", {"id": i}, {"item": "coffee", "region": "us"})
    # Both change order 7 at about the same time: per column, the later write wins.
    eu.update_row("orders", {"id": 7}, put={"status": "packed"})
    us.put_row("orders", {"id": 7}, {"item": "tea", "region": "eu", "note": "gift wrap"})

    report = eu.sync_with(us)  # mode "auto", both directions
    print("sync:", report)
    assert report.verified and eu.table_digest("orders") == us.table_digest("orders")
    print("order 7 in both regions:", eu.get_row("orders", {"id": 7}) == us.get_row("orders", {"id": 7}))

    # A silent divergence: verify lists the differing keys and moves nothing.
    us.put_row("orders", {"id": 120}, {"item": "coffee", "region": "us", "status": "refunded"})
    check = eu.verify(us)
    print("verify: verified=%s differing=%s" % (check.verified, check.differing_keys()))
    # repair moves only those rows.
    fixed = eu.repair(us)
    print("repair: rows pulled %d, pushed %d, verified %s" % (fixed.rows_pulled, fixed.rows_pushed, fixed.verified))

    # The US log is trimmed; "auto" notices and reconciles instead.
    for i in range(150, 160):
        us.put_row("orders", {"id": i}, {"item": "cake", "region": "us"})
    us.truncate_log(us.next_cursor())
    after = eu.sync_with(us, direction="pull")
    print("after log truncation: fell back to reconcile=%s, rows pulled=%d" % (
        after.fell_back_to_reconcile, after.rows_pulled))

    # Over HTTP: serve the US region, a third region syncs with it by URL.
    with us.serve("127.0.0.1:0", token="demo-token") as server:
        ap = orders("ap")
        ap.put_row("orders", {"id": 900}, {"item": "matcha", "region": "ap"})
        r = ap.sync_url(server.url, "demo-token")
        print("http sync with %s: %d round trips, %d bytes, verified %s" % (
            server.url, r.round_trips, r.bytes_sent + r.bytes_received, r.verified))
        print("us has ap's order:", us.get_row("orders", {"id": 900}) is not None)

    # Any transport: a session is bytes in, bytes out.
    session = tablesync.SyncSession(mode="auto", direction="both")
    wire: List[int] = []
    step: Union[bytes, tablesync.SyncReport] = session.start(eu)
    while isinstance(step, bytes):
        reply = tablesync.respond(ap, step)  # on the other side of the wire
        wire.append(len(step) + len(reply))
        step = session.receive(eu, reply)
    print("by hand: %d frames, %d bytes on the wire, verified %s" % (len(wire), sum(wire), step.verified))
    for db in (eu, us, ap):
        assert db.table_digest("orders") == eu.table_digest("orders")
    print("all three regions hold %d orders" % eu.describe_table("orders").row_count)


if __name__ == "__main__":
    main()
