"""Tail a region's change log and replicate it into another region, then
prove both hold the same data with digests.

Run:  python examples/python/change_log_tail.py
"""

import tablesync

source = tablesync.Database.memory("eu")
replica = tablesync.Database.memory("backup")
for db in (source, replica):
    db.create_table("accounts", primary_key=[("id", "STRING")])

cursor = 0


def ship() -> int:
    """Send every record after `cursor` to the replica; returns how many."""
    global cursor
    shipped = 0
    while True:
        page = source.changes_since(cursor, limit=100)
        if not page.records:
            return shipped
        replica.apply_changes(page.records)
        shipped += len(page.records)
        cursor = page.next_cursor


for i in range(250):
    source.put_row("accounts", {"id": f"acct-{i:03}"}, {"balance": 100})
print("shipped", ship(), "records")

for i in range(0, 250, 10):
    source.update_row("accounts", {"id": f"acct-{i:03}"}, increment={"balance": -30})
source.delete_row("accounts", {"id": "acct-007"})
print("shipped", ship(), "more records")

first = source.changes_since(0, limit=1).records[0]
print("a record:", {k: first[k] for k in ("origin", "seq", "kind", "primary_key")})
print("source ", source.version_vector(), source.table_digest("accounts"))
print("replica", replica.version_vector(), replica.table_digest("accounts"))
assert replica.table_digest("accounts") == source.table_digest("accounts")
row = replica.get_row("accounts", {"id": "acct-010"})
assert row is not None and row["balance"] == 70
assert replica.get_row("accounts", {"id": "acct-007"}) is None
source.close()
replica.close()
