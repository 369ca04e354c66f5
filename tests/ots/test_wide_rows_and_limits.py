"""Wide rows read in parts (`next_token` / `token`) and the service's limit
errors, through the official Python SDK against `tablesync serve`."""
import pytest
from tablestore import (INF_MAX, INF_MIN, BatchGetRowRequest, BatchWriteRowRequest, Condition, Direction,
                        OTSServiceError, PutRowItem, Row, TableInBatchGetRowItem, TableInBatchWriteRowItem)

MIB = 1024 * 1024


def service_error(fn, *args, **kwargs):
    with pytest.raises(OTSServiceError) as e:
        fn(*args, **kwargs)
    return e.value.get_http_status(), e.value.get_error_code(), e.value.get_error_message()


def write_wide_row(client, table, pk, columns):
    """Six 1 MiB columns, two an UpdateRow (a write may carry at most 4 MiB)."""
    for i in range(0, len(columns), 2):
        client.update_row(table, Row(pk, {"put": [(columns[i], chr(97 + i) * MIB),
                                                  (columns[i + 1], chr(98 + i) * MIB)]}),
                          Condition("IGNORE"))


def test_get_row_reads_a_wide_row_in_parts(client, table):
    pk = [("uid", 1), ("name", "wide")]
    columns = ["c%d" % i for i in range(6)]
    write_wide_row(client, table, pk, columns)
    seen, token, parts = [], None, 0
    while True:
        _, row, token = client.get_row(table, pk, max_version=1, token=token)
        parts += 1
        assert row.primary_key == pk
        seen += [(c[0], len(c[1])) for c in row.attribute_columns]
        if not token:
            break
    # 6 MiB of cells in 4 MiB responses: two parts, every column once, in order.
    assert parts == 2
    assert seen == [(c, MIB) for c in columns]
    # A token of another server is refused.
    assert service_error(client.get_row, table, pk, max_version=1, token=b"not-ours") == (
        400, "OTSParameterInvalid", "Invalid token: it is not a next_token this server returned.")


def test_get_range_continues_a_wide_row_with_next_token(client, table):
    pk = [("uid", 1), ("name", "wide")]
    columns = ["c%d" % i for i in range(6)]
    write_wide_row(client, table, pk, columns)
    client.put_row(table, Row([("uid", 2), ("name", "small")], [("v", 1)]))
    hi = [("uid", INF_MAX), ("name", INF_MAX)]
    _, nxt, rows, token = client.get_range(table, Direction.FORWARD, [("uid", INF_MIN), ("name", INF_MIN)], hi,
                                           max_version=1)
    assert [r.primary_key for r in rows] == [pk] and nxt == pk and token
    first = [c[0] for c in rows[0].attribute_columns]
    _, nxt2, rows2, token2 = client.get_range(table, Direction.FORWARD, nxt, hi, max_version=1, token=token)
    assert nxt2 is None and not token2
    assert [r.primary_key for r in rows2] == [pk, [("uid", 2), ("name", "small")]]
    assert first + [c[0] for c in rows2[0].attribute_columns] == columns


def test_batch_get_row_returns_the_first_part_of_a_wide_row(client, table):
    # The Python SDK 6.4.8 drops BatchGetRow's per-row next_token (its
    # RowDataItem has no field for it); the Node SDK test reads the rest.
    pk = [("uid", 1), ("name", "wide")]
    columns = ["c%d" % i for i in range(6)]
    write_wide_row(client, table, pk, columns)
    req = BatchGetRowRequest()
    req.add(TableInBatchGetRowItem(table, [pk], max_version=1))
    item = client.batch_get_row(req).get_result_by_table(table)[0]
    assert item.is_ok
    assert [c[0] for c in item.row.attribute_columns] == columns[:3]


def test_limit_errors_carry_the_service_messages(client, table):
    long_name = "x" * 1025
    assert service_error(client.put_row, table, Row([("uid", 1), ("name", long_name)], [("a", 1)])) == (
        400, "OTSParameterInvalid",
        "The length of primary key column: 'name' exceeded the MaxLength:1024 with CurrentLength:1025.")
    assert service_error(client.get_row, table, [("uid", 1), ("name", long_name)], max_version=1) == (
        400, "OTSParameterInvalid",
        "The length of primary key column: 'name' exceeded the MaxLength:1024 with CurrentLength:1025.")
    pk = [("uid", 1), ("name", "k")]
    assert service_error(client.put_row, table, Row(pk, [("a", "v" * (2 * MIB + 1))])) == (
        400, "OTSParameterInvalid",
        "The length of attribute column: 'a' exceeded the MaxLength:2097152 with CurrentLength:2097153.")
    many = [("c%d" % i, i) for i in range(1025)]
    assert service_error(client.put_row, table, Row(pk, many)) == (
        400, "OTSParameterInvalid",
        "The number of attribute columns exceeds the limit, limit count: 1024, column count: 1025.")
    assert service_error(client.update_row, table, Row(pk, {"put": many}), Condition("IGNORE")) == (
        400, "OTSParameterInvalid",
        "The number of attribute columns exceeds the limit, limit count: 1024, column count: 1025.")
    assert service_error(client.get_row, table, pk, columns_to_get=["c%d" % i for i in range(1025)],
                         max_version=1) == (
        400, "OTSParameterInvalid",
        "The number of columns from the request exceeds the limit, limit count: 1024, column count: 1025.")
    # Three 1.5 MiB columns: 4.5 MiB in one write.
    big = [("b%d" % i, "z" * (1536 * 1024)) for i in range(3)]
    size = len("uid") + 8 + len("name") + 1 + sum(len(n) + len(v) for n, v in big)
    status, code, message = service_error(client.put_row, table, Row(pk, big))
    assert (status, code, message) == (
        400, "OTSParameterInvalid",
        "The total data size of PutRow request exceeds the limit, limit size: 4194304, data size: %d." % size)
    status, code, message = service_error(client.update_row, table, Row(pk, {"put": big}), Condition("IGNORE"))
    assert (status, code, message) == (
        400, "OTSParameterInvalid",
        "The total data size of UpdateRow request exceeds the limit, limit size: 4194304, data size: %d." % size)
    req = BatchWriteRowRequest()
    req.add(TableInBatchWriteRowItem(table, [
        PutRowItem(Row([("uid", i), ("name", "k")], [big[0]]), Condition("IGNORE")) for i in range(3)]))
    status, code, message = service_error(client.batch_write_row, req)
    assert (status, code) == (400, "OTSParameterInvalid")
    assert message.startswith("The total data size of BatchWriteRow request exceeds the limit, limit size: 4194304, data size: ")
    req = BatchWriteRowRequest()
    req.add(TableInBatchWriteRowItem(table, [
        PutRowItem(Row([("uid", i), ("name", "k")], [("v", i)]), Condition("IGNORE")) for i in range(201)]))
    assert service_error(client.batch_write_row, req) == (
        400, "OTSParameterInvalid", "Rows count exceeds the upper limit: 200.")
    req = BatchGetRowRequest()
    req.add(TableInBatchGetRowItem(table, [[("uid", i), ("name", "k")] for i in range(101)], max_version=1))
    assert service_error(client.batch_get_row, req) == (
        400, "OTSParameterInvalid", "Rows count exceeds the upper limit: 100.")
    # Nothing was written by any refused request.
    _, row, _ = client.get_row(table, pk, max_version=1)
    assert row is None
