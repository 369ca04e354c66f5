"""tablesync.tablestore: single-row operations (put/get/update/delete),
conditions, versions and errors, as the official SDK documents them."""

import time
import uuid

import pytest

from tablesync.tablestore import (
    INF_MIN,
    PK_AUTO_INCR,
    CapacityUnit,
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    OTSClient,
    OTSClientError,
    OTSServiceError,
    ReservedThroughput,
    ReturnType,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
    TableMeta,
    TableOptions,
    drop_memory_instance,
)


@pytest.fixture
def client():
    name = "rows-" + uuid.uuid4().hex
    c = OTSClient("memory://" + name, "id", "secret", "inst")
    c.create_table(
        TableMeta("users", [("gid", "INTEGER"), ("uid", "STRING")]),
        TableOptions(max_version=3),
        ReservedThroughput(CapacityUnit(0, 0)),
    )
    yield c
    c.close()
    drop_memory_instance(name)


PK = [("gid", 1), ("uid", "101")]


def attrs(row):
    """Latest value per column of a returned row."""
    out = {}
    for name, value, ts in row.attribute_columns:
        out.setdefault(name, value)
    return out


def service_error(call):
    with pytest.raises(OTSServiceError) as e:
        call()
    return e.value.get_http_status(), e.value.get_error_code()


def test_put_then_get_round_trips_every_type(client):
    cols = [("name", "John"), ("mobile", 15100000000), ("score", 9.5), ("vip", True),
            ("avatar", bytearray(b"\x00\xffpng")), ("raw", b"utf8 bytes are strings")]
    consumed, return_row = client.put_row("users", Row(PK, cols))
    assert return_row is None
    assert (consumed.read, consumed.write) == (0, 1)

    consumed, row, token = client.get_row("users", PK)
    assert token is None
    assert consumed.read == 1 and consumed.write == 0
    assert row.primary_key == PK
    got = attrs(row)
    assert got == {"name": "John", "mobile": 15100000000, "score": 9.5, "vip": True,
                   "avatar": bytearray(b"\x00\xffpng"), "raw": "utf8 bytes are strings"}
    # BINARY comes back as bytearray (as in the SDK); bool stays bool.
    assert type(got["avatar"]) is bytearray and type(got["vip"]) is bool
    # Returned cells are (name, value, timestamp) in column-name order.
    assert [c[0] for c in row.attribute_columns] == sorted(c[0] for c in cols)
    assert all(isinstance(c[2], int) and c[2] > 0 for c in row.attribute_columns)


def test_get_missing_row_returns_none_and_costs_one_read(client):
    consumed, row, token = client.get_row("users", [("gid", 9), ("uid", "x")], max_version=1)
    assert row is None and token is None
    assert (consumed.read, consumed.write) == (1, 0)


def test_capacity_units_follow_4kib_rounding(client):
    big = "v" * 9000  # ~9 KB row → 3 write units
    consumed, _ = client.put_row("users", Row(PK, [("blob", big)]))
    assert consumed.write == 3
    consumed, row, _ = client.get_row("users", PK)
    assert consumed.read == 3
    consumed, _ = client.put_row("users", Row(PK, [("blob", "small")]), Condition(RowExistenceExpectation.EXPECT_EXIST))
    assert (consumed.read, consumed.write) == (1, 1)


def test_put_conditions(client):
    client.put_row("users", Row(PK, [("age", 20)]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
    assert service_error(lambda: client.put_row(
        "users", Row(PK, [("age", 21)]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))) == (
        403, "OTSConditionCheckFail")
    # The failed write changed nothing.
    assert attrs(client.get_row("users", PK)[1]) == {"age": 20}

    other = [("gid", 2), ("uid", "x")]
    assert service_error(lambda: client.put_row(
        "users", Row(other, [("a", 1)]), Condition(RowExistenceExpectation.EXPECT_EXIST))) == (
        403, "OTSConditionCheckFail")
    assert client.get_row("users", other)[1] is None

    # Column condition: update only when age == 20.
    cond = Condition(RowExistenceExpectation.EXPECT_EXIST, SingleColumnCondition("age", 20, ComparatorType.EQUAL))
    client.put_row("users", Row(PK, [("age", 30)]), cond)
    assert attrs(client.get_row("users", PK)[1]) == {"age": 30}
    assert service_error(lambda: client.put_row("users", Row(PK, [("age", 40)]), cond)) == (
        403, "OTSConditionCheckFail")


def test_pass_if_missing_decides_for_absent_columns(client):
    client.put_row("users", Row(PK, [("age", 20)]))
    passes = Condition(RowExistenceExpectation.IGNORE, SingleColumnCondition("addr", "china", ComparatorType.EQUAL))
    client.update_row("users", Row(PK, {"put": [("x", 1)]}), passes)
    strict = Condition(RowExistenceExpectation.IGNORE,
                       SingleColumnCondition("addr", "china", ComparatorType.EQUAL, pass_if_missing=False))
    assert service_error(lambda: client.update_row("users", Row(PK, {"put": [("x", 2)]}), strict)) == (
        403, "OTSConditionCheckFail")
    assert attrs(client.get_row("users", PK)[1])["x"] == 1


def test_composite_condition_on_update(client):
    client.put_row("users", Row(PK, [("age", 25), ("city", "hz")]))
    cond = CompositeColumnCondition(LogicalOperator.AND)
    cond.add_sub_condition(SingleColumnCondition("age", 18, ComparatorType.GREATER_EQUAL))
    inner = CompositeColumnCondition(LogicalOperator.OR)
    inner.add_sub_condition(SingleColumnCondition("city", "sh", ComparatorType.EQUAL))
    inner.add_sub_condition(SingleColumnCondition("city", "hz", ComparatorType.EQUAL))
    cond.add_sub_condition(inner)
    client.update_row("users", Row(PK, {"PUT": [("adult", True)]}), Condition(RowExistenceExpectation.IGNORE, cond))
    assert attrs(client.get_row("users", PK)[1])["adult"] is True

    neg = CompositeColumnCondition(LogicalOperator.NOT)
    neg.add_sub_condition(SingleColumnCondition("city", "hz", ComparatorType.EQUAL))
    assert service_error(lambda: client.update_row(
        "users", Row(PK, {"PUT": [("adult", False)]}), Condition(RowExistenceExpectation.IGNORE, neg))) == (
        403, "OTSConditionCheckFail")
    # NOT takes exactly one sub-condition.
    neg.add_sub_condition(SingleColumnCondition("age", 1, ComparatorType.EQUAL))
    assert service_error(lambda: client.update_row(
        "users", Row(PK, {"PUT": [("adult", False)]}), Condition(RowExistenceExpectation.IGNORE, neg))) == (
        400, "OTSParameterInvalid")


def test_update_row_put_delete_delete_all_increment(client):
    t1 = int(time.time() * 1000) - 10_000
    client.put_row("users", Row(PK, [("name", "John", t1), ("address", "China", t1), ("mobile", 1), ("age", 20)]))
    client.update_row("users", Row(PK, {"put": [("address", "Hangzhou", t1 + 1)]}), None)
    consumed, rrow = client.update_row(
        "users",
        Row(PK, {
            "PUT": [("name", "David")],
            "DELETE": [("address", None, t1 + 1)],
            "DELETE_ALL": ["mobile", ("age",)],
            "INCREMENT": [("counter", 5)],
        }),
        Condition(RowExistenceExpectation.EXPECT_EXIST),
    )
    assert rrow is None and consumed.write == 1 and consumed.read == 1
    _, row, _ = client.get_row("users", PK, max_version=3)
    versions = {}
    for name, value, ts in row.attribute_columns:
        versions.setdefault(name, []).append((value, ts))
    assert versions["address"] == [("China", t1)]  # the newer version was deleted
    assert "mobile" not in versions and "age" not in versions
    assert versions["counter"][0][0] == 5
    assert versions["name"][0][0] == "David"
    # Lower-case keys (older SDK docs) work too, and increments accumulate.
    client.update_row("users", Row(PK, {"increment": [("counter", -2)]}), None)
    assert attrs(client.get_row("users", PK)[1])["counter"] == 3


def test_update_rejections(client):
    with pytest.raises(OTSClientError, match="not dict"):
        client.update_row("users", Row(PK, [("a", 1)]), None)
    with pytest.raises(OTSClientError, match="must be list"):
        client.update_row("users", Row(PK, {"put": ("a", 1)}), None)
    with pytest.raises(OTSClientError, match="update type"):
        client.update_row("users", Row(PK, {"replace": [("a", 1)]}), None)
    assert service_error(lambda: client.update_row("users", Row(PK, {"DELETE": ["a"]}), None)) == (
        400, "OTSParameterInvalid")
    assert service_error(lambda: client.update_row("users", Row(PK, {"INCREMENT": [("a", 1.5)]}), None)) == (
        400, "OTSParameterInvalid")
    client.put_row("users", Row(PK, [("s", "text")]))
    assert service_error(lambda: client.update_row("users", Row(PK, {"INCREMENT": [("s", 1)]}), None)) == (
        400, "OTSParameterInvalid")
    assert attrs(client.get_row("users", PK)[1]) == {"s": "text"}


def test_delete_row_with_conditions(client):
    client.put_row("users", Row(PK, [("age", 20)]))
    cond = Condition(RowExistenceExpectation.IGNORE, SingleColumnCondition("age", 21, ComparatorType.EQUAL))
    assert service_error(lambda: client.delete_row("users", Row(PK), cond)) == (403, "OTSConditionCheckFail")
    assert client.get_row("users", PK)[1] is not None
    consumed, rrow = client.delete_row("users", Row(PK), Condition(RowExistenceExpectation.EXPECT_EXIST))
    assert rrow is None and consumed.write == 1
    assert client.get_row("users", PK)[1] is None
    assert service_error(lambda: client.delete_row("users", Row(PK), Condition(RowExistenceExpectation.EXPECT_EXIST))) == (
        403, "OTSConditionCheckFail")
    # A bare primary-key list is accepted too (older SDK signature).
    client.put_row("users", Row(PK, [("age", 1)]))
    client.delete_row("users", PK, Condition(RowExistenceExpectation.IGNORE))
    assert client.get_row("users", PK)[1] is None


def test_versions_time_range_and_columns_to_get(client):
    now = int(time.time() * 1000)
    for i in range(4):
        client.update_row("users", Row(PK, {"put": [("v", i, now - 1000 + i)]}), None)
    client.update_row("users", Row(PK, {"put": [("w", "x")]}), None)
    _, row, _ = client.get_row("users", PK, ["v"], max_version=3)
    assert [c[1] for c in row.attribute_columns] == [3, 2, 1]  # newest first, table keeps 3
    # Version 0 fell out of the 3 the table keeps; a time range only sees kept versions.
    _, row, _ = client.get_row("users", PK, ["v"], max_version=None, time_range=(now - 1000, now - 997))
    assert [c[1] for c in row.attribute_columns] == [2, 1]
    _, row, _ = client.get_row("users", PK, ["v"], max_version=1, time_range=now - 999)
    assert [(c[1], c[2]) for c in row.attribute_columns] == [(1, now - 999)]
    # Only primary-key columns asked: the row comes back with its key only.
    _, row, _ = client.get_row("users", PK, ["uid"])
    assert row.primary_key == PK and row.attribute_columns == []
    # Only absent columns asked: no row, as in Tablestore.
    assert client.get_row("users", PK, ["nothing"])[1] is None
    # Wide-row column window [start_column, end_column).
    _, row, _ = client.get_row("users", PK, start_column="w", end_column="z")
    assert [c[0] for c in row.attribute_columns] == ["w"]
    assert service_error(lambda: client.get_row("users", PK, max_version=None)) == (400, "OTSParameterInvalid")


def test_get_row_filter(client):
    client.put_row("users", Row(PK, [("age", 20)]))
    keep = SingleColumnCondition("age", 18, ComparatorType.GREATER_THAN)
    drop = SingleColumnCondition("age", 30, ComparatorType.GREATER_THAN)
    assert client.get_row("users", PK, column_filter=keep)[1] is not None
    assert client.get_row("users", PK, column_filter=drop)[1] is None


def test_auto_increment_put_returns_the_assigned_key(client):
    client.create_table(
        TableMeta("orders", [("shop", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)]),
        TableOptions(), ReservedThroughput(CapacityUnit(0, 0)),
    )
    ids = []
    for i in range(3):
        consumed, rrow = client.put_row("orders", Row([("shop", "s1"), ("id", PK_AUTO_INCR)], [("n", i)]),
                                        Condition(RowExistenceExpectation.IGNORE), ReturnType.RT_PK)
        assert rrow.primary_key[0] == ("shop", "s1") and rrow.primary_key[1][0] == "id"
        ids.append(rrow.primary_key[1][1])
    assert ids == sorted(set(ids)) and all(isinstance(i, int) for i in ids)
    _, row, _ = client.get_row("orders", [("shop", "s1"), ("id", ids[1])])
    assert attrs(row) == {"n": 1}
    # Without RT_PK nothing is returned.
    _, rrow = client.put_row("orders", Row([("shop", "s1"), ("id", PK_AUTO_INCR)], [("n", 9)]))
    assert rrow is None
    # An auto-increment put must not carry a row-existence expectation.
    assert service_error(lambda: client.put_row(
        "orders", Row([("shop", "s1"), ("id", PK_AUTO_INCR)], [("n", 1)]),
        Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))) == (400, "OTSParameterInvalid")


def test_primary_key_errors(client):
    # Shape and type mistakes the service reports.
    for pk in ([("gid", 1)], [("gid", "1"), ("uid", "101")], [("uid", "101"), ("gid", 1)],
               [("gid", 1), ("nope", "101")], [("gid", 1), ("uid", "101"), ("extra", 1)]):
        assert service_error(lambda: client.put_row("users", Row(pk, [("a", 1)])))[0] == 400
        assert service_error(lambda: client.get_row("users", pk))[0] == 400
    assert service_error(lambda: client.put_row("users", Row([("gid", 1), ("uid", 2)], [("a", 1)]))) == (
        400, "OTSInvalidPK")
    assert service_error(lambda: client.put_row("users", Row([("gid", 1), ("uid", "x" * 1025)], []))) == (
        400, "OTSInvalidPK")
    assert service_error(lambda: client.get_row("users", [("gid", INF_MIN), ("uid", "a")]))[0] == 400
    assert service_error(lambda: client.get_row("nosuch", PK)) == (404, "OTSObjectNotExist")


def test_client_side_type_errors(client):
    # What the SDK refuses before any request: OTSClientError, nothing written.
    with pytest.raises(OTSClientError, match="not list"):
        client.put_row("users", Row(tuple(PK), [("a", 1)]))
    with pytest.raises(OTSClientError, match="not list"):
        client.get_row("users", {"gid": 1, "uid": "101"})
    with pytest.raises(OTSClientError, match="Unsupported column type"):
        client.put_row("users", Row(PK, [("a", [1, 2])]))
    with pytest.raises(OTSClientError, match="Unsupported column type"):
        client.put_row("users", Row(PK, [("a", None)]))
    with pytest.raises(OTSClientError, match="Unsupported primary key type"):
        client.put_row("users", Row([("gid", 1.5), ("uid", "x")], [("a", 1)]))
    with pytest.raises(OTSClientError, match="int64"):
        client.put_row("users", Row(PK, [("a", 2**63)]))
    with pytest.raises(OTSClientError, match="UTF-8"):
        client.put_row("users", Row(PK, [("a", b"\xff\xfe")]))
    with pytest.raises(OTSClientError, match="Condition"):
        client.put_row("users", Row(PK, [("a", 1)]), "EXPECT_EXIST")
    with pytest.raises(OTSClientError, match="row_existence_expectation"):
        Condition("MAYBE")
    with pytest.raises(OTSClientError, match="comparator"):
        SingleColumnCondition("a", 1, 17)
    with pytest.raises(OTSClientError, match="pass_if_missing"):
        SingleColumnCondition("a", 1, ComparatorType.EQUAL, pass_if_missing="yes")
    with pytest.raises(OTSClientError, match="combinator"):
        CompositeColumnCondition(7)
    with pytest.raises(OTSClientError, match="ColumnCondition"):
        CompositeColumnCondition(LogicalOperator.AND).add_sub_condition("age > 1")
    with pytest.raises(OTSClientError, match="columns_to_get"):
        client.get_row("users", PK, "name")
    with pytest.raises(OTSClientError, match="transactions"):
        client.get_row("users", PK, transaction_id="t1")
    assert client.get_row("users", PK)[1] is None


def test_limits_use_tablestore_codes(client):
    too_many = [("c%d" % i, i) for i in range(1025)]
    assert service_error(lambda: client.put_row("users", Row(PK, too_many))) == (400, "OTSOutOfColumnCountLimit")
    assert service_error(lambda: client.put_row("users", Row(PK, [("c", "x" * (2 * 1024 * 1024 + 1))]))) == (
        400, "OTSOutOfRowSizeLimit")
    five_mib = [("c%d" % i, bytearray(1024 * 1024)) for i in range(5)]
    assert service_error(lambda: client.put_row("users", Row(PK, five_mib))) == (400, "OTSOutOfRowSizeLimit")
    assert client.get_row("users", PK)[1] is None


def test_clients_of_one_endpoint_are_safe_across_threads(client):
    import threading

    endpoint = client.end_point
    client.put_row("users", Row(PK, [("n", 0)]))
    errors = []

    def work():
        c = OTSClient(endpoint, "id", "secret", "inst")
        try:
            for _ in range(50):
                c.update_row("users", Row(PK, {"INCREMENT": [("n", 1)]}), None)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert attrs(client.get_row("users", PK)[1]) == {"n": 200}


def test_max_time_deviation_and_allow_update(client):
    client.create_table(TableMeta("strict", [("k", "INTEGER")]),
                        TableOptions(max_time_deviation=60, allow_update=False),
                        ReservedThroughput(CapacityUnit(0, 0)))
    old = int(time.time() * 1000) - 3_600_000
    assert service_error(lambda: client.put_row("strict", Row([("k", 1)], [("a", 1, old)]))) == (
        400, "OTSParameterInvalid")
    client.put_row("strict", Row([("k", 1)], [("a", 1, int(time.time() * 1000))]))
    assert service_error(lambda: client.update_row("strict", Row([("k", 1)], {"put": [("a", 2)]}), None)) == (
        400, "OTSParameterInvalid")
    client.update_table("strict", TableOptions(max_time_deviation=60, allow_update=True))
    client.update_row("strict", Row([("k", 1)], {"put": [("a", 2)]}), None)
    assert attrs(client.get_row("strict", [("k", 1)])[1]) == {"a": 2}
