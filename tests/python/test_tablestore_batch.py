"""tablesync.tablestore: BatchWriteRow and BatchGetRow with partial failures,
used the way the official SDK's examples use them."""

import uuid

import pytest

from tablesync.tablestore import (
    PK_AUTO_INCR,
    BatchGetRowRequest,
    BatchGetRowResponse,
    BatchWriteRowRequest,
    BatchWriteRowResponse,
    CapacityUnit,
    ComparatorType,
    Condition,
    DeleteRowItem,
    OTSClient,
    OTSClientError,
    OTSServiceError,
    PutRowItem,
    ReservedThroughput,
    ReturnType,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
    TableInBatchGetRowItem,
    TableInBatchWriteRowItem,
    TableMeta,
    TableOptions,
    UpdateRowItem,
    drop_memory_instance,
)


@pytest.fixture
def client():
    name = "batch-" + uuid.uuid4().hex
    c = OTSClient("memory://" + name, "id", "secret", "inst")
    for table in ("t0", "t1"):
        c.create_table(TableMeta(table, [("gid", "INTEGER"), ("uid", "INTEGER")]), TableOptions(),
                       ReservedThroughput(CapacityUnit(0, 0)))
    yield c
    c.close()
    drop_memory_instance(name)


def ignore(column_condition=None):
    return Condition(RowExistenceExpectation.IGNORE, column_condition)


def latest(row):
    return {name: value for name, value, _ in reversed(row.attribute_columns)}


def test_batch_write_partial_failure_is_reported_per_row(client):
    put_items = [PutRowItem(Row([("gid", i), ("uid", i + 1)], [("name", "p%d" % i), ("age", i)]), ignore())
                 for i in range(5)]
    client.put_row("t0", Row([("gid", 10), ("uid", 11)], [("age", 10)]))
    client.put_row("t0", Row([("gid", 11), ("uid", 12)], [("age", 99)]))
    update_items = [
        # age == 10 holds: succeeds.
        UpdateRowItem(Row([("gid", 10), ("uid", 11)], {"put": [("name", "u10")]}),
                      ignore(SingleColumnCondition("age", 10, ComparatorType.EQUAL))),
        # age == 11 fails: the row has 99.
        UpdateRowItem(Row([("gid", 11), ("uid", 12)], {"put": [("name", "u11")]}),
                      ignore(SingleColumnCondition("age", 11, ComparatorType.EQUAL))),
    ]
    delete_items = [DeleteRowItem(Row([("gid", i), ("uid", i + 1)]), ignore()) for i in range(3)]

    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem("t0", put_items + update_items))
    request.add(TableInBatchWriteRowItem("notExistTable", delete_items))
    result = client.batch_write_row(request)

    assert isinstance(result, BatchWriteRowResponse)
    assert result.is_all_succeed() is False
    succ, fail = result.get_put()
    assert len(succ) == 5 and fail == []
    assert all(item.consumed.write == 1 and item.error_code is None for item in succ)
    succ, fail = result.get_update()
    assert [i.index for i in succ] == [5] and [i.index for i in fail] == [6]
    assert fail[0].error_code == "OTSConditionCheckFail" and fail[0].consumed is None
    assert fail[0].error_message
    succ, fail = result.get_delete()
    assert succ == [] and len(fail) == 3
    assert {f.error_code for f in fail} == {"OTSObjectNotExist"}
    assert [f.index for f in fail] == [0, 1, 2]
    assert len(result.get_put_by_table("t0")) == 5
    assert result.get_delete_by_table("notExistTable") == fail
    assert len(result.get_failed_of_update()) == 1 and len(result.get_succeed_of_update()) == 1

    # The successful operations were applied, the failed one was not.
    assert latest(client.get_row("t0", [("gid", 3), ("uid", 4)])[1]) == {"name": "p3", "age": 3}
    assert latest(client.get_row("t0", [("gid", 10), ("uid", 11)])[1])["name"] == "u10"
    assert "name" not in latest(client.get_row("t0", [("gid", 11), ("uid", 12)])[1])


def test_batch_write_all_succeed_across_tables_with_return_pk(client):
    client.create_table(TableMeta("auto", [("p", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)]), TableOptions(),
                        ReservedThroughput(CapacityUnit(0, 0)))
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem("t1", [
        PutRowItem(Row([("gid", 1), ("uid", 1)], [("a", 1)]), ignore(), ReturnType.RT_PK),
        PutRowItem(Row([("gid", 1), ("uid", 2)], [("a", 2)]), ignore()),
    ]))
    request.add(TableInBatchWriteRowItem("auto", [
        PutRowItem(Row([("p", "x"), ("id", PK_AUTO_INCR)], [("a", 1)]), ignore(), ReturnType.RT_PK),
        PutRowItem(Row([("p", "x"), ("id", PK_AUTO_INCR)], [("a", 2)]), ignore(), ReturnType.RT_PK),
    ]))
    result = client.batch_write_row(request)
    assert result.is_all_succeed()
    t1 = result.get_put_by_table("t1")
    assert t1[0].row.primary_key == [("gid", 1), ("uid", 1)]
    assert t1[1].row.primary_key is None  # no RT_PK asked
    auto = result.get_put_by_table("auto")
    ids = [item.row.primary_key[1][1] for item in auto]
    assert len(set(ids)) == 2
    for i, id_ in enumerate(ids):
        assert latest(client.get_row("auto", [("p", "x"), ("id", id_)])[1]) == {"a": i + 1}


def test_batch_write_request_level_errors(client):
    # The same row twice: the whole request fails and nothing is written.
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem("t0", [
        PutRowItem(Row([("gid", 1), ("uid", 1)], [("a", 1)]), ignore()),
        DeleteRowItem(Row([("gid", 1), ("uid", 1)]), ignore()),
    ]))
    with pytest.raises(OTSServiceError) as e:
        client.batch_write_row(request)
    assert e.value.get_http_status() == 400
    assert client.get_row("t0", [("gid", 1), ("uid", 1)])[1] is None

    # More than 200 rows.
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem("t0", [PutRowItem(Row([("gid", i), ("uid", 0)], [("a", i)]), ignore())
                                                for i in range(201)]))
    with pytest.raises(OTSServiceError) as e:
        client.batch_write_row(request)
    assert (e.value.get_http_status(), e.value.get_error_code()) == (400, "OTSParameterInvalid")
    assert client.get_row("t0", [("gid", 0), ("uid", 0)])[1] is None

    # Client-side mistakes: nothing is sent.
    with pytest.raises(OTSClientError):
        client.batch_write_row([PutRowItem(Row([("gid", 1), ("uid", 1)], []), ignore())])
    with pytest.raises(OTSClientError):
        BatchWriteRowRequest().add(("t0", []))
    bad = BatchWriteRowRequest()
    bad.add(TableInBatchWriteRowItem("t0", [
        PutRowItem(Row([("gid", 5), ("uid", 5)], [("ok", 1)]), ignore()),
        PutRowItem(Row([("gid", 6), ("uid", 6)], [("bad", object())]), ignore()),
    ]))
    with pytest.raises(OTSClientError):
        client.batch_write_row(bad)
    assert client.get_row("t0", [("gid", 5), ("uid", 5)])[1] is None


def test_batch_write_service_rejection_fails_only_its_row(client):
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem("t0", [
        UpdateRowItem(Row([("gid", 1), ("uid", 1)], {"delete": ["no_timestamp"]}), ignore()),
        PutRowItem(Row([("gid", 2), ("uid", 2)], [("a", 1)]), ignore()),
        PutRowItem(Row([("gid", 3), ("uid", "wrong type")], [("a", 1)]), ignore()),
    ]))
    result = client.batch_write_row(request)
    assert not result.is_all_succeed()
    (bad_update,) = result.get_failed_of_update()
    assert bad_update.error_code == "OTSParameterInvalid" and bad_update.index == 0
    succ, fail = result.get_put()
    assert [s.index for s in succ] == [1] and [f.index for f in fail] == [2]
    assert fail[0].error_code in ("OTSInvalidPK", "OTSParameterInvalid")
    assert client.get_row("t0", [("gid", 2), ("uid", 2)])[1] is not None


def test_batch_get_with_missing_rows_filters_and_failed_tables(client):
    for gid in range(3):
        for uid in range(3):
            client.put_row("t0", Row([("gid", gid), ("uid", uid)], [("index", gid * 3 + uid), ("addr", "china")]))
    client.put_row("t1", Row([("gid", 0), ("uid", 0)], [("index", 0), ("addr", "usa")]))

    request = BatchGetRowRequest()
    request.add(TableInBatchGetRowItem("t0", [[("gid", 0), ("uid", 1)], [("gid", 2), ("uid", 2)],
                                              [("gid", 9), ("uid", 9)]], ["index"], None, 1))
    cond = SingleColumnCondition("addr", "china", ComparatorType.EQUAL)
    request.add(TableInBatchGetRowItem("t1", [[("gid", 0), ("uid", 0)]], None, cond, 1))
    request.add(TableInBatchGetRowItem("ghost", [[("gid", 0), ("uid", 0)]], max_version=1))
    result = client.batch_get_row(request)

    assert isinstance(result, BatchGetRowResponse)
    assert not result.is_all_succeed()
    t0 = result.get_result_by_table("t0")
    assert [r.is_ok for r in t0] == [True, True, True]
    assert t0[0].row.primary_key == [("gid", 0), ("uid", 1)]
    assert [(c[0], c[1]) for c in t0[0].row.attribute_columns] == [("index", 1)]
    assert latest(t0[1].row) == {"index": 8}
    assert t0[2].row is None and t0[2].consumed.read == 1
    assert all(r.table_name == "t0" for r in t0)
    (t1,) = result.get_result_by_table("t1")
    assert t1.is_ok and t1.row is None  # the filter rejected it
    (ghost,) = result.get_result_by_table("ghost")
    assert not ghost.is_ok and ghost.error_code == "OTSObjectNotExist" and ghost.error_message
    succ, fail = result.get_result()
    assert len(succ) == 4 and fail == [ghost]
    assert result.get_failed_rows() == [ghost]


def test_batch_get_all_succeed_and_limits(client):
    client.put_row("t0", Row([("gid", 1), ("uid", 1)], [("a", 1)]))
    request = BatchGetRowRequest()
    request.add(TableInBatchGetRowItem("t0", [[("gid", 1), ("uid", 1)], [("gid", 1), ("uid", 1)]]))
    result = client.batch_get_row(request)
    assert result.is_all_succeed()
    assert [latest(r.row) for r in result.get_result_by_table("t0")] == [{"a": 1}, {"a": 1}]

    too_many = BatchGetRowRequest()
    too_many.add(TableInBatchGetRowItem("t0", [[("gid", i), ("uid", 0)] for i in range(101)]))
    with pytest.raises(OTSServiceError) as e:
        client.batch_get_row(too_many)
    assert (e.value.get_http_status(), e.value.get_error_code()) == (400, "OTSParameterInvalid")
    with pytest.raises(OTSServiceError):
        client.batch_get_row(BatchGetRowRequest())
    with pytest.raises(OTSClientError):
        client.batch_get_row({"t0": []})
    with pytest.raises(OTSClientError):
        bad = BatchGetRowRequest()
        bad.add(TableInBatchGetRowItem("t0", [{"gid": 1, "uid": 1}]))
        client.batch_get_row(bad)
