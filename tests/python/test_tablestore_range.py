"""tablesync.tablestore: GetRange paging with next_start_primary_key,
xget_range, directions and column filters, as the official SDK uses them."""

import uuid

import pytest

from tablesync.tablestore import (
    INF_MAX,
    INF_MIN,
    BatchWriteRowRequest,
    CapacityUnit,
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    Direction,
    LogicalOperator,
    OTSClient,
    OTSClientError,
    OTSServiceError,
    PutRowItem,
    ReservedThroughput,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
    TableInBatchWriteRowItem,
    TableMeta,
    TableOptions,
    drop_memory_instance,
)

ALL = ([("uid", INF_MIN), ("gid", INF_MIN)], [("uid", INF_MAX), ("gid", INF_MAX)])


@pytest.fixture
def client():
    name = "range-" + uuid.uuid4().hex
    c = OTSClient("memory://" + name, "id", "secret", "inst")
    c.create_table(TableMeta("t", [("uid", "INTEGER"), ("gid", "STRING")]), TableOptions(),
                   ReservedThroughput(CapacityUnit(0, 0)))
    # 30 rows via batch writes, the way the SDK's range example seeds data.
    for start in (0, 15):
        items = [PutRowItem(Row([("uid", i), ("gid", "g%02d" % (i % 4))],
                                [("age", i), ("name", "n%d" % i), ("even", i % 2 == 0)]),
                            Condition(RowExistenceExpectation.IGNORE))
                 for i in range(start, start + 15)]
        req = BatchWriteRowRequest()
        req.add(TableInBatchWriteRowItem("t", items))
        assert c.batch_write_row(req).is_all_succeed()
    yield c
    c.close()
    drop_memory_instance(name)


def uids(rows):
    return [r.primary_key[0][1] for r in rows]


def test_paging_with_next_start_primary_key(client):
    start, end = ALL
    seen, pages = [], 0
    while True:
        consumed, next_start, rows, token = client.get_range("t", Direction.FORWARD, start, end, limit=7)
        assert token is None and consumed.read >= 1 and consumed.write == 0
        assert len(rows) <= 7
        seen += uids(rows)
        pages += 1
        if next_start is None:
            break
        assert isinstance(next_start, list) and [n for n, _ in next_start] == ["uid", "gid"]
        start = next_start
    assert seen == list(range(30))
    assert pages == 5


def test_range_bounds_are_inclusive_start_exclusive_end(client):
    _, next_start, rows, _ = client.get_range(
        "t", "FORWARD", [("uid", 5), ("gid", INF_MIN)], [("uid", 9), ("gid", INF_MIN)], ["name"])
    assert uids(rows) == [5, 6, 7, 8] and next_start is None
    assert [c[:2] for c in rows[0].attribute_columns] == [("name", "n5")]
    assert rows[0].primary_key == [("uid", 5), ("gid", "g01")]


def test_backward_ranges(client):
    _, next_start, rows, _ = client.get_range("t", Direction.BACKWARD, ALL[1], ALL[0], limit=4)
    assert uids(rows) == [29, 28, 27, 26]
    _, _, rows, _ = client.get_range("t", Direction.BACKWARD, next_start, ALL[0], limit=2)
    assert uids(rows) == [25, 24]
    # Forward bounds in a backward read are an error from the service.
    with pytest.raises(OTSServiceError) as e:
        client.get_range("t", Direction.BACKWARD, ALL[0], ALL[1])
    assert (e.value.get_http_status(), e.value.get_error_code()) == (400, "OTSParameterInvalid")


def test_xget_range_iterates_everything_and_counts_units(client):
    counter = CapacityUnit(0, 0)
    rows = list(client.xget_range("t", Direction.FORWARD, ALL[0], ALL[1], counter, ["age"]))
    assert uids(rows) == list(range(30))
    assert counter.read >= 1 and counter.write == 0
    limited = list(client.xget_range("t", Direction.FORWARD, ALL[0], ALL[1], CapacityUnit(0, 0), count=12))
    assert uids(limited) == list(range(12))
    with pytest.raises(OTSClientError, match="consumed_counter"):
        next(client.xget_range("t", Direction.FORWARD, ALL[0], ALL[1], None))
    with pytest.raises(OTSClientError, match="count"):
        next(client.xget_range("t", Direction.FORWARD, ALL[0], ALL[1], CapacityUnit(0, 0), count=0))


def test_single_column_filter(client):
    f = SingleColumnCondition("age", 25, ComparatorType.GREATER_EQUAL)
    _, _, rows, _ = client.get_range("t", "FORWARD", ALL[0], ALL[1], column_filter=f)
    assert uids(rows) == [25, 26, 27, 28, 29]
    # A filter on a missing column: pass_if_missing decides.
    missing = SingleColumnCondition("nope", 1, ComparatorType.EQUAL)
    assert len(client.get_range("t", "FORWARD", ALL[0], ALL[1], column_filter=missing)[2]) == 30
    missing.set_pass_if_missing(False)
    assert client.get_range("t", "FORWARD", ALL[0], ALL[1], column_filter=missing)[2] == []


def test_composite_filters(client):
    f = CompositeColumnCondition(LogicalOperator.AND)
    f.add_sub_condition(SingleColumnCondition("even", True, ComparatorType.EQUAL))
    either = CompositeColumnCondition(LogicalOperator.OR)
    either.add_sub_condition(SingleColumnCondition("age", 4, ComparatorType.LESS_THAN))
    either.add_sub_condition(SingleColumnCondition("age", 26, ComparatorType.GREATER_THAN))
    f.add_sub_condition(either)
    _, _, rows, _ = client.get_range("t", "FORWARD", ALL[0], ALL[1], column_filter=f)
    assert uids(rows) == [0, 2, 28]

    negated = CompositeColumnCondition(LogicalOperator.NOT)
    negated.add_sub_condition(SingleColumnCondition("name", "n3", ComparatorType.NOT_EQUAL))
    _, _, rows, _ = client.get_range("t", "FORWARD", ALL[0], ALL[1], column_filter=negated)
    assert uids(rows) == [3]

    counter = CapacityUnit(0, 0)
    assert uids(client.xget_range("t", "FORWARD", ALL[0], ALL[1], counter, column_filter=f)) == [0, 2, 28]


def test_columns_to_get_skips_rows_without_those_columns(client):
    client.put_row("t", Row([("uid", 100), ("gid", "x")], [("other", 1)]))
    start = [("uid", 29), ("gid", INF_MIN)]
    _, _, rows, _ = client.get_range("t", "FORWARD", start, ALL[1], ["age"])
    assert uids(rows) == [29]
    _, _, rows, _ = client.get_range("t", "FORWARD", start, ALL[1], ["uid"])
    assert uids(rows) == [29, 100] and all(r.attribute_columns == [] for r in rows)


def test_range_argument_errors(client):
    with pytest.raises(OTSClientError, match="direction"):
        client.get_range("t", "SIDEWAYS", ALL[0], ALL[1])
    with pytest.raises(OTSClientError, match="not list"):
        client.get_range("t", "FORWARD", {"uid": INF_MIN}, ALL[1])
    with pytest.raises(OTSClientError, match="int"):
        client.get_range("t", "FORWARD", ALL[0], ALL[1], limit="10")
    with pytest.raises(OTSServiceError) as e:
        client.get_range("t", "FORWARD", ALL[0], ALL[1], limit=0)
    assert e.value.get_error_code() == "OTSParameterInvalid"
    with pytest.raises(OTSServiceError) as e:
        client.get_range("t", "FORWARD", [("uid", INF_MIN)], ALL[1])
    assert e.value.get_http_status() == 400
    with pytest.raises(OTSServiceError) as e:
        client.get_range("missing", "FORWARD", ALL[0], ALL[1])
    assert e.value.get_error_code() == "OTSObjectNotExist"
