"""Every wide-column call of the official Python SDK against `tablesync serve
--tablestore-listen`, with the errors the service returns."""
import uuid

import pytest
from tablestore import (INF_MAX, INF_MIN, PK_AUTO_INCR, BatchGetRowRequest, BatchWriteRowRequest,
                        CapacityUnit, ComparatorType, CompositeColumnCondition, Condition, DeleteRowItem,
                        Direction, LogicalOperator, OTSServiceError, PutRowItem, ReservedThroughput,
                        ReturnType, Row, RowExistenceExpectation, SingleColumnCondition, TableInBatchGetRowItem,
                        TableInBatchWriteRowItem, TableMeta, TableOptions, UpdateRowItem)

RT = ReservedThroughput(CapacityUnit(0, 0))


def service_error(fn, *args, **kwargs):
    with pytest.raises(OTSServiceError) as e:
        fn(*args, **kwargs)
    return e.value.get_http_status(), e.value.get_error_code(), e.value.get_error_message()


def names(row):
    return {c[0]: c[1] for c in row.attribute_columns}


def test_table_lifecycle_and_its_errors(client):
    name = "life_" + uuid.uuid4().hex[:8]
    client.create_table(TableMeta(name, [("a", "STRING"), ("b", "INTEGER", PK_AUTO_INCR), ("c", "BINARY")]),
                        TableOptions(time_to_live=-1, max_version=2), RT)
    assert name in client.list_table()
    d = client.describe_table(name)
    assert d.table_meta.table_name == name
    assert d.table_meta.schema_of_primary_key == [("a", "STRING"), ("b", "INTEGER", PK_AUTO_INCR),
                                                  ("c", "BINARY")]
    assert (d.table_options.time_to_live, d.table_options.max_version) == (-1, 2)
    u = client.update_table(name, TableOptions(time_to_live=86400 * 2, max_version=5))
    assert (u.table_options.time_to_live, u.table_options.max_version) == (172800, 5)
    d = client.describe_table(name)
    assert (d.table_options.time_to_live, d.table_options.max_version) == (172800, 5)
    assert service_error(client.create_table, TableMeta(name, [("a", "STRING")]), TableOptions(), RT) == (
        409, "OTSObjectAlreadyExist", "Requested table already exists.")
    assert service_error(client.update_table, name, TableOptions(max_version=0))[:2] == (
        400, "OTSParameterInvalid")
    client.delete_table(name)
    assert name not in client.list_table()
    missing = (404, "OTSObjectNotExist", "Requested table does not exist.")
    assert service_error(client.describe_table, name) == missing
    assert service_error(client.delete_table, name) == missing
    assert service_error(client.update_table, name, TableOptions(max_version=2)) == missing
    assert service_error(client.get_row, name, [("a", "x")]) == missing
    # Schemas the service refuses.
    for bad in ([("k%d" % i, "INTEGER") for i in range(5)], [("id", "INTEGER", PK_AUTO_INCR)],
                [("bad name", "STRING")], [("a", "INTEGER"), ("a", "STRING")]):
        assert service_error(client.create_table, TableMeta("bad_t", bad), TableOptions(), RT)[:2] == (
            400, "OTSParameterInvalid")


def test_every_value_type_round_trips_with_versions(client, table):
    pk = [("uid", 1), ("name", "杭州")]
    cols = [("i", -(2 ** 63)), ("d", 0.95), ("t", True), ("f", False), ("s", "ü" * 3),
            ("b", bytearray(b"\x00\xff")), ("postal code", 310000)]
    client.put_row(table, Row(pk, cols))
    _, row, _ = client.get_row(table, pk)
    assert row.primary_key == pk
    assert names(row) == dict(cols)
    # Explicit versions, max_version and time ranges.
    client.put_row(table, Row(pk, [("v", 1, 1000), ("v", 2, 2000), ("v", 3, 3000)]))
    _, row, _ = client.get_row(table, pk, ["v"], max_version=3)
    assert [(c[1], c[2]) for c in row.attribute_columns] == [(3, 3000), (2, 2000), (1, 1000)]
    _, row, _ = client.get_row(table, pk, ["v"], max_version=None, time_range=(1500, 3000))
    assert [(c[1], c[2]) for c in row.attribute_columns] == [(2, 2000)]
    _, row, _ = client.get_row(table, pk, ["v"], max_version=None, time_range=1000)
    assert [(c[1], c[2]) for c in row.attribute_columns] == [(1, 1000)]
    # Column window [start_column, end_column).
    client.put_row(table, Row(pk, [("a", 1), ("b", 2), ("c", 3)]))
    _, row, _ = client.get_row(table, pk, start_column="b", end_column="c")
    assert names(row) == {"b": 2}
    # A missing row reads as None.
    assert client.get_row(table, [("uid", 2), ("name", "x")])[1] is None


def test_primary_key_errors_carry_the_service_messages(client, table):
    assert service_error(client.put_row, table, Row([("uid", 1)], [("a", 1)])) == (
        400, "OTSParameterInvalid", "Validate PK size fail. Input: 1, Meta: 2.")
    assert service_error(client.put_row, table, Row([("uid", 1), ("PK2", "x")], [("a", 1)])) == (
        400, "OTSParameterInvalid", "Validate PK name fail. Input: PK2, Meta: name.")
    assert service_error(client.get_row, table, [("uid", "1"), ("name", "x")]) == (
        400, "OTSParameterInvalid", "Validate PK type fail. Input: VT_STRING, Meta: VT_INTEGER.")
    assert service_error(client.put_row, table, Row([("uid", 1), ("name", "x")], [("uid", 1)]))[:2] == (
        400, "OTSParameterInvalid")


def test_conditions_and_which_check_wins(client, table):
    pk = [("uid", 7), ("name", "c")]
    failed = (403, "OTSConditionCheckFail", "Condition check failed.")
    assert service_error(client.update_row, table, Row(pk, {"put": [("a", 1)]}),
                         Condition(RowExistenceExpectation.EXPECT_EXIST)) == failed
    client.put_row(table, Row(pk, [("age", 20), ("city", "hz")]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
    assert service_error(client.put_row, table, Row(pk, [("age", 1)]),
                         Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)) == failed
    # Row existence is checked before a malformed column.
    assert service_error(client.put_row, table, Row(pk, [("bad\nname", 1)]),
                         Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)) == failed
    ok = SingleColumnCondition("age", 20, ComparatorType.EQUAL)
    client.update_row(table, Row(pk, {"put": [("age", 21)]}), Condition("EXPECT_EXIST", ok))
    assert service_error(client.update_row, table, Row(pk, {"put": [("age", 22)]}),
                         Condition("EXPECT_EXIST", ok)) == failed
    both = CompositeColumnCondition(LogicalOperator.AND)
    both.add_sub_condition(SingleColumnCondition("age", 21, ComparatorType.GREATER_EQUAL))
    both.add_sub_condition(SingleColumnCondition("city", "hz", ComparatorType.EQUAL))
    client.delete_row(table, Row(pk), Condition("IGNORE", both))
    assert client.get_row(table, pk)[1] is None
    # pass_if_missing decides on an absent column.
    client.put_row(table, Row(pk, [("x", 1)]))
    strict = SingleColumnCondition("age", 1, ComparatorType.LESS_THAN, pass_if_missing=False)
    assert service_error(client.put_row, table, Row(pk, [("x", 2)]), Condition("IGNORE", strict)) == failed
    lax = SingleColumnCondition("age", 1, ComparatorType.LESS_THAN, pass_if_missing=True)
    client.put_row(table, Row(pk, [("x", 2)]), Condition("IGNORE", lax))


def test_update_row_operations(client, table):
    pk = [("uid", 3), ("name", "u")]
    client.put_row(table, Row(pk, [("a", 1, 1000), ("a", 2, 2000), ("b", "x"), ("n", 10)]))
    client.update_row(table, Row(pk, {"put": [("c", True)], "delete": [("a", None, 2000)],
                                      "delete_all": ["b"], "increment": [("n", 5), ("m", 3)]}),
                      Condition("EXPECT_EXIST"))
    _, row, _ = client.get_row(table, pk, max_version=1)
    got = sorted((c[0], c[1]) for c in row.attribute_columns)
    assert got == [("a", 1), ("c", True), ("m", 3), ("n", 15)]
    _, ret = client.update_row(table, Row(pk, {"increment": [("n", 1)]}), Condition("IGNORE"),
                               return_type=ReturnType.RT_PK)
    assert ret.primary_key == pk
    assert service_error(client.update_row, table, Row(pk, {"increment": [("c", 1)]}), Condition("IGNORE"))[:2] == (
        400, "OTSParameterInvalid")


def test_update_that_only_deletes_leaves_a_missing_row_missing(client, table):
    pk = [("uid", 4), ("name", "gone")]
    client.update_row(table, Row(pk, {"delete_all": ["a"], "delete": [("b", None, 5)]}), Condition("IGNORE"))
    assert client.get_row(table, pk)[1] is None
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, [("uid", INF_MIN), ("name", INF_MIN)],
                                     [("uid", INF_MAX), ("name", INF_MAX)])
    assert rows == []


def test_delete_row_and_return_pk(client, table):
    pk = [("uid", 5), ("name", "d")]
    client.put_row(table, Row(pk, [("a", 1)]))
    _, ret = client.delete_row(table, Row(pk), Condition("EXPECT_EXIST"), return_type=ReturnType.RT_PK)
    assert ret.primary_key == pk
    assert client.get_row(table, pk)[1] is None
    assert service_error(client.delete_row, table, Row(pk), Condition("EXPECT_EXIST"))[1] == "OTSConditionCheckFail"


def test_filters_on_get_row_and_get_range(client, table):
    for i in range(10):
        client.put_row(table, Row([("uid", i), ("name", "f")], [("v", i), ("even", i % 2 == 0)]))
    f = CompositeColumnCondition(LogicalOperator.AND)
    f.add_sub_condition(SingleColumnCondition("v", 3, ComparatorType.GREATER_THAN))
    f.add_sub_condition(SingleColumnCondition("even", True, ComparatorType.EQUAL))
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, [("uid", INF_MIN), ("name", INF_MIN)],
                                     [("uid", INF_MAX), ("name", INF_MAX)], column_filter=f)
    assert [r.primary_key[0][1] for r in rows] == [4, 6, 8]
    n = CompositeColumnCondition(LogicalOperator.NOT)
    n.add_sub_condition(SingleColumnCondition("v", 5, ComparatorType.NOT_EQUAL))
    assert client.get_row(table, [("uid", 5), ("name", "f")], column_filter=n)[1] is not None
    assert client.get_row(table, [("uid", 4), ("name", "f")], column_filter=n)[1] is None
    o = CompositeColumnCondition(LogicalOperator.OR)
    o.add_sub_condition(SingleColumnCondition("v", 1, ComparatorType.LESS_EQUAL))
    o.add_sub_condition(SingleColumnCondition("v", 9, ComparatorType.GREATER_EQUAL))
    _, _, rows, _ = client.get_range(table, Direction.BACKWARD, [("uid", INF_MAX), ("name", INF_MAX)],
                                     [("uid", INF_MIN), ("name", INF_MIN)], column_filter=o)
    assert [r.primary_key[0][1] for r in rows] == [9, 1, 0]


def test_exist_and_not_exist_comparators(client, table):
    # SingleColumnRegexCondition without a regex rule is how the SDK sends
    # CT_EXIST / CT_NOT_EXIST (its column value is a placeholder).
    from tablestore import SingleColumnRegexCondition
    for i in range(6):
        cols = [("v", i)] + ([("tag", "x" if i % 4 else 7)] if i % 2 else [])
        client.put_row(table, Row([("uid", i), ("name", "e")], cols))
    lo, hi = [("uid", INF_MIN), ("name", INF_MIN)], [("uid", INF_MAX), ("name", INF_MAX)]
    has = SingleColumnRegexCondition("tag", ComparatorType.EXIST)
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, lo, hi, column_filter=has)
    assert [r.primary_key[0][1] for r in rows] == [1, 3, 5]
    lacks = SingleColumnRegexCondition("tag", ComparatorType.NOT_EXIST)
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, lo, hi, column_filter=lacks)
    assert [r.primary_key[0][1] for r in rows] == [0, 2, 4]
    assert client.get_row(table, [("uid", 1), ("name", "e")], column_filter=has)[1] is not None
    assert client.get_row(table, [("uid", 2), ("name", "e")], column_filter=has)[1] is None
    # As a write condition: put only where the column is absent.
    client.put_row(table, Row([("uid", 2), ("name", "e")], [("v", 20)]),
                   Condition(RowExistenceExpectation.EXPECT_EXIST, lacks))
    assert names(client.get_row(table, [("uid", 2), ("name", "e")])[1])["v"] == 20
    status, code, message = service_error(client.put_row, table, Row([("uid", 1), ("name", "e")], [("v", 10)]),
                                          Condition(RowExistenceExpectation.EXPECT_EXIST, lacks))
    assert (status, code, message) == (403, "OTSConditionCheckFail", "Condition check failed.")
    both = CompositeColumnCondition(LogicalOperator.AND)
    both.add_sub_condition(has)
    both.add_sub_condition(SingleColumnCondition("v", 3, ComparatorType.GREATER_EQUAL))
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, lo, hi, column_filter=both)
    assert [r.primary_key[0][1] for r in rows] == [3, 5]


def test_get_range_pages_by_limit_rows_and_bytes(client, table):
    # 5,001 small rows: a page without a limit stops at 5,000.
    for start in range(0, 5001, 200):
        items = [PutRowItem(Row([("uid", i), ("name", "r")], [("v", i)]), Condition("IGNORE"))
                 for i in range(start, min(start + 200, 5001))]
        req = BatchWriteRowRequest()
        req.add(TableInBatchWriteRowItem(table, items))
        assert client.batch_write_row(req).is_all_succeed()
    lo, hi = [("uid", INF_MIN), ("name", INF_MIN)], [("uid", INF_MAX), ("name", INF_MAX)]
    _, nxt, rows, _ = client.get_range(table, Direction.FORWARD, lo, hi)
    assert len(rows) == 5000 and nxt == [("uid", 5000), ("name", "r")]
    _, nxt2, rows2, _ = client.get_range(table, Direction.FORWARD, nxt, hi)
    assert [r.primary_key for r in rows2] == [[("uid", 5000), ("name", "r")]] and nxt2 is None
    _, nxt, rows, _ = client.get_range(table, Direction.FORWARD, lo, hi, limit=7)
    assert len(rows) == 7 and nxt == [("uid", 7), ("name", "r")]
    # Rows of 1.5 MiB: a page stops once it holds 4 MiB.
    big = "x" * (1536 * 1024)
    for i in range(5):
        client.put_row(table, Row([("uid", 10000 + i), ("name", "big")], [("blob", big)]))
    _, nxt, rows, _ = client.get_range(table, Direction.FORWARD, [("uid", 10000), ("name", INF_MIN)], hi)
    assert len(rows) == 3 and nxt == [("uid", 10003), ("name", "big")]
    # The SDK's own paging iterator walks every row.
    count = sum(1 for _ in client.xget_range(table, Direction.FORWARD, lo, hi, CapacityUnit(0, 0)))
    assert count == 5006
    assert service_error(client.get_range, table, Direction.FORWARD, hi, lo)[:2] == (400, "OTSParameterInvalid")


def test_batch_get_row_mixes_tables_and_reports_per_row(client, table):
    for i in range(3):
        client.put_row(table, Row([("uid", i), ("name", "b")], [("v", i)]))
    req = BatchGetRowRequest()
    req.add(TableInBatchGetRowItem(table, [[("uid", i), ("name", "b")] for i in range(4)], max_version=1))
    req.add(TableInBatchGetRowItem("no_such_table", [[("uid", 1)]], max_version=1))
    res = client.batch_get_row(req)
    rows = res.get_result_by_table(table)
    assert [r.is_ok for r in rows] == [True] * 4
    assert [names(r.row)["v"] if r.row else None for r in rows] == [0, 1, 2, None]
    bad = res.get_result_by_table("no_such_table")
    assert [(r.is_ok, r.error_code, r.error_message) for r in bad] == [
        (False, "OTSObjectNotExist", "Requested table does not exist.")]
    too_many = BatchGetRowRequest()
    too_many.add(TableInBatchGetRowItem(table, [[("uid", i), ("name", "b")] for i in range(101)], max_version=1))
    assert service_error(client.batch_get_row, too_many)[:2] == (400, "OTSParameterInvalid")


def test_batch_write_row_per_row_results(client, table):
    client.put_row(table, Row([("uid", 1), ("name", "w")], [("n", 1)]))
    req = BatchWriteRowRequest()
    req.add(TableInBatchWriteRowItem(table, [
        PutRowItem(Row([("uid", 2), ("name", "w")], [("n", 2)]), Condition("EXPECT_NOT_EXIST"),
                   return_type=ReturnType.RT_PK),
        PutRowItem(Row([("uid", 1), ("name", "w")], [("n", 9)]), Condition("EXPECT_NOT_EXIST")),
        UpdateRowItem(Row([("uid", 3), ("name", "w")], {"increment": [("n", 4)]}), Condition("IGNORE")),
        DeleteRowItem(Row([("uid", 4), ("name", "w")]), Condition("EXPECT_EXIST")),
    ]))
    res = client.batch_write_row(req)
    assert not res.is_all_succeed()
    put_ok, put_fail = res.get_put()
    assert [r.row.primary_key for r in put_ok] == [[("uid", 2), ("name", "w")]]
    assert [(r.error_code, r.error_message) for r in put_fail] == [
        ("OTSConditionCheckFail", "Condition check failed.")]
    assert len(res.get_update()[0]) == 1
    assert [r.error_code for r in res.get_delete()[1]] == ["OTSConditionCheckFail"]
    assert names(client.get_row(table, [("uid", 1), ("name", "w")])[1]) == {"n": 1}
    assert names(client.get_row(table, [("uid", 3), ("name", "w")])[1]) == {"n": 4}
    dup = BatchWriteRowRequest()
    dup.add(TableInBatchWriteRowItem(table, [PutRowItem(Row([("uid", 9), ("name", "w")], [("n", 1)]),
                                                        Condition("IGNORE"))] * 2))
    assert service_error(client.batch_write_row, dup)[:2] == (400, "OTSParameterInvalid")
    assert client.get_row(table, [("uid", 9), ("name", "w")])[1] is None


def test_pk_auto_increment_returns_the_assigned_key(client):
    name = "auto_" + uuid.uuid4().hex[:8]
    client.create_table(TableMeta(name, [("g", "INTEGER"), ("id", "INTEGER", PK_AUTO_INCR)]), TableOptions(), RT)
    try:
        keys = []
        for _ in range(3):
            _, ret = client.put_row(name, Row([("g", 1), ("id", PK_AUTO_INCR)], [("v", 1)]),
                                    return_type=ReturnType.RT_PK)
            keys.append(ret.primary_key[1][1])
        assert keys == sorted(keys) and len(set(keys)) == 3
        req = BatchWriteRowRequest()
        req.add(TableInBatchWriteRowItem(name, [PutRowItem(Row([("g", 2), ("id", PK_AUTO_INCR)], [("v", i)]),
                                                           Condition("IGNORE"), return_type=ReturnType.RT_PK)
                                                for i in range(3)]))
        ok, _ = client.batch_write_row(req).get_put()
        assert len({r.row.primary_key[1][1] for r in ok}) == 3
        _, row, _ = client.get_row(name, [("g", 1), ("id", keys[0])])
        assert names(row) == {"v": 1}
        assert service_error(client.get_row, name, [("g", 1), ("id", PK_AUTO_INCR)])[:2] == (
            400, "OTSParameterInvalid")
    finally:
        client.delete_table(name)


def test_signature_v4_clients_work(endpoint, table):
    c = endpoint.client(region="cn-test")
    c.put_row(table, Row([("uid", 1), ("name", "v4")], [("a", 1)]))
    assert names(c.get_row(table, [("uid", 1), ("name", "v4")])[1]) == {"a": 1}


def test_unsupported_apis_answer_at_once(client, table):
    status, code, message = service_error(client.list_search_index, table)
    assert (status, code) == (400, "OTSUnsupportOperation") and "not supported" in message
    status, code, _ = service_error(client.start_local_transaction, table, [("uid", 1)])
    assert (status, code) == (400, "OTSUnsupportOperation")
    status, code, _ = service_error(client.exe_sql_query, "select * from x")
    assert (status, code) == (400, "OTSUnsupportOperation")
