"""Copy a table within a database and into a durable one, with progress.

Run:  python examples/python/copy_table.py
"""

import tempfile

import tablesync

with tablesync.Database.memory("eu") as db:
    db.create_table("orders", primary_key=[("shop", "STRING"), ("id", "INTEGER")])
    for base in range(0, 5000, 200):
        db.batch_write([
            {"op": "put", "table": "orders", "primary_key": {"shop": f"shop{k % 7}", "id": k},
             "columns": {"total": k * 1.5, "paid": k % 3 == 0}}
            for k in range(base, base + 200)
        ])

    def progress(copied: int, total: int) -> None:
        print(f"  {copied}/{total}")

    print("copy in place:")
    n = db.copy_table("orders", "orders_archive", progress=progress)
    assert n == 5000
    assert db.table_digest("orders_archive") == db.table_digest("orders")

    with tempfile.TemporaryDirectory() as tmp:
        with tablesync.Database.open(tmp, region="archive") as durable:
            print("copy to a durable region:")
            db.copy_table("orders", "orders", target=durable, progress=progress)
            digest = durable.table_digest("orders")
        with tablesync.Database.open(tmp, region="archive") as reopened:
            assert reopened.table_digest("orders") == digest == db.table_digest("orders")
            print("reopened, digest", digest)
