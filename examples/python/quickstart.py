"""tablesync quick start: a table, writes with conditions, reads, and a
second region that converges to the same digest.

Run:  python examples/python/quickstart.py
"""

import tablesync
from tablesync import col

with tablesync.Database.memory("eu") as eu:
    eu.create_table("users", primary_key=[("uid", "INTEGER")], max_versions=3)

    eu.put_row("users", {"uid": 1}, {"name": "Ada", "age": 36, "admin": True})
    eu.put_row("users", {"uid": 2}, {"name": "Grace", "age": 45})

    # Conditions: row existence, and column conditions in dict or col() form.
    eu.update_row("users", {"uid": 1}, put={"age": 37}, condition="EXPECT_EXIST")
    try:
        eu.put_row("users", {"uid": 2}, {"name": "Nope"}, condition=col("age") < 40)
    except tablesync.ConditionCheckFailed as e:
        print("refused:", e.code)

    row = eu.get_row("users", {"uid": 1})
    assert row is not None  # None when the row does not exist
    print(row)                      # Row(primary_key={'uid': 1}, columns={...})
    print(row["age"], row.cells[0])  # 37 ('admin', True, <timestamp ms>)
    assert row["age"] == 37 and row["admin"] is True

    adults = [r["name"] for r in eu.scan("users", column_filter=col("age") >= 40)]
    print("40 and over:", adults)
    assert adults == ["Grace"]

    # Another region applies eu's change log and ends with the same digest.
    with tablesync.Database.memory("us") as us:
        us.create_table("users", primary_key=[("uid", "INTEGER")], max_versions=3)
        stats = us.apply_changes(eu.changes_since(0).records)
        print(stats, eu.table_digest("users"))
        assert us.table_digest("users") == eu.table_digest("users")
