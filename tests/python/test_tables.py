"""Table operations and their errors."""

from __future__ import annotations

import pytest
import tablesync


def test_create_list_describe_update_delete(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("b", [("k", "STRING")])
    db.create_table("a", primary_key=[("shop", "STRING"), ("id", "INTEGER", tablesync.PK_AUTO_INCR)],
                    max_versions=3, time_to_live=86400)
    assert db.list_tables() == ["a", "b"]
    d = db.describe_table("a")
    assert d.name == "a"
    assert d.primary_key == [("shop", "STRING"), ("id", "INTEGER", tablesync.PK_AUTO_INCR)]
    assert d.primary_key[1][2] is tablesync.PK_AUTO_INCR
    assert (d.max_versions, d.time_to_live, d.row_count) == (3, 86400, 0)
    assert "max_versions=3" in repr(d) and "'a'" in repr(d)
    db.update_table("a", max_versions=5)
    d = db.describe_table("a")
    assert (d.max_versions, d.time_to_live) == (5, 86400)
    db.update_table("a", time_to_live=-1)
    assert db.describe_table("a").time_to_live == -1
    db.delete_table("a")
    assert db.list_tables() == ["b"]


def test_type_names_are_case_insensitive(empty_db: tablesync.Database) -> None:
    empty_db.create_table("t", [("k", "integer")])
    assert empty_db.describe_table("t").primary_key == [("k", "INTEGER")]


def test_errors(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("t", [("k", "INTEGER")])
    with pytest.raises(tablesync.AlreadyExists) as e1:
        db.create_table("t", [("k", "INTEGER")])
    assert e1.value.code == "OTSObjectAlreadyExist"
    for call in (lambda: db.describe_table("nope"), lambda: db.delete_table("nope"),
                 lambda: db.update_table("nope", max_versions=2),
                 lambda: db.get_row("nope", {"k": 1}), lambda: db.table_digest("nope")):
        with pytest.raises(tablesync.NotFound) as e2:
            call()
        assert e2.value.code == "OTSObjectNotExist"
        assert isinstance(e2.value, tablesync.TablesyncError)
    bad_schemas = [
        ("1bad", [("k", "INTEGER")]),
        ("t2", []),
        ("t2", [("a", "INTEGER")] * 2),
        ("t2", [(f"k{i}", "INTEGER") for i in range(5)]),
        ("t2", [("k", "DOUBLE")]),
        ("t2", [("k", "INTEGER", tablesync.PK_AUTO_INCR)]),
        ("t2", [("k", "STRING"), ("a", "STRING", tablesync.PK_AUTO_INCR)]),
        ("t" * 256, [("k", "INTEGER")]),
    ]
    for name, pk in bad_schemas:
        with pytest.raises(tablesync.InvalidArgument) as e3:
            db.create_table(name, pk)
        assert e3.value.code == "OTSParameterInvalid", (name, pk)
    with pytest.raises(tablesync.InvalidArgument):
        db.create_table("t2", [("k", "INTEGER")], max_versions=0)
    with pytest.raises(tablesync.InvalidArgument):
        db.create_table("t2", [("k", "INTEGER")], time_to_live=10)
    with pytest.raises(tablesync.InvalidArgument):
        db.update_table("t", max_versions=0)
    assert db.list_tables() == ["t"]


@pytest.mark.parametrize(
    "pk", ["k", [("k",)], [("k", 1)], [["k", "INTEGER", "SOMETHING"]], [("k", "INTEGER", 1)], None, 3]
)
def test_bad_primary_key_definitions(empty_db: tablesync.Database, pk: object) -> None:
    with pytest.raises((TypeError, tablesync.InvalidArgument)):
        empty_db.create_table("t", pk)  # type: ignore[arg-type]
    assert empty_db.list_tables() == []


def test_auto_increment_keys_are_assigned_and_increase(empty_db: tablesync.Database) -> None:
    db = empty_db
    db.create_table("orders", [("shop", "STRING"), ("id", "INTEGER", tablesync.PK_AUTO_INCR)])
    k1 = db.put_row("orders", {"shop": "s", "id": tablesync.PK_AUTO_INCR}, {"v": 1})
    k2 = db.put_row("orders", {"shop": "s", "id": tablesync.PK_AUTO_INCR}, {"v": 2})
    assert isinstance(k1["id"], int) and k2["id"] > k1["id"]
    assert db.get_row("orders", k2)["v"] == 2
    with pytest.raises(tablesync.InvalidArgument):
        db.put_row("orders", {"shop": "s", "id": tablesync.PK_AUTO_INCR}, {"v": 3}, condition="EXPECT_NOT_EXIST")
    results = db.batch_write([
        {"op": "put", "table": "orders", "primary_key": {"shop": "s", "id": tablesync.PK_AUTO_INCR}, "columns": {"v": i}}
        for i in range(3)
    ])
    ids = [r.primary_key["id"] for r in results]
    assert all(r.ok for r in results) and ids == sorted(set(ids))


def test_markers_are_singletons_with_reprs() -> None:
    import pickle

    assert repr(tablesync.INF_MIN) == "tablesync.INF_MIN"
    assert tablesync.INF_MIN != tablesync.INF_MAX
    assert pickle.loads(pickle.dumps(tablesync.INF_MAX)) is tablesync.INF_MAX
    assert len({tablesync.INF_MIN, tablesync.INF_MIN, tablesync.PK_AUTO_INCR}) == 2
