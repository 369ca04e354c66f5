# -*- coding: utf8 -*-
"""A Tablestore SDK script running on tablesync.

Written the way scripts for the official Alibaba Cloud Tablestore Python SDK
are written; only two lines differ from a script for the cloud service:

    from tablesync.tablestore import *          # was: from tablestore import *
    OTS_ENDPOINT = "memory://compat-example"    # was: "https://<instance>.<region>.ots.aliyuncs.com"

Run:  python examples/python/tablestore_compat.py [ENDPOINT]
      (ENDPOINT: memory://NAME, file:///abs/dir or a directory path)
"""

import sys

from tablesync.tablestore import *

OTS_ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "memory://compat-example"
OTS_ID = "my-access-key-id"
OTS_SECRET = "my-access-key-secret"
OTS_INSTANCE = "demo-instance"

TABLE = "orders"


def create_table(client):
    schema_of_primary_key = [("shop", "STRING"), ("order_id", "INTEGER", PK_AUTO_INCR)]
    table_meta = TableMeta(TABLE, schema_of_primary_key)
    table_options = TableOptions(time_to_live=-1, max_version=2)
    reserved_throughput = ReservedThroughput(CapacityUnit(0, 0))
    client.create_table(table_meta, table_options, reserved_throughput)
    print("Table %s created." % TABLE)


def put_orders(client):
    order_ids = []
    for i, (item, price) in enumerate([("tea", 12.5), ("coffee", 30.0), ("cake", 18.0), ("juice", 9.0)]):
        row = Row([("shop", "hangzhou"), ("order_id", PK_AUTO_INCR)],
                  [("item", item), ("price", price), ("quantity", i + 1), ("paid", False)])
        consumed, return_row = client.put_row(TABLE, row, Condition(RowExistenceExpectation.IGNORE),
                                              ReturnType.RT_PK)
        order_ids.append(return_row.primary_key[1][1])
        print("Put %s, consumed %d write CU." % (item, consumed.write))
    return order_ids


def pay_order(client, order_id):
    primary_key = [("shop", "hangzhou"), ("order_id", order_id)]
    update_of_attribute_columns = {
        "PUT": [("paid", True)],
        "INCREMENT": [("version", 1)],
    }
    condition = Condition(RowExistenceExpectation.EXPECT_EXIST,
                          SingleColumnCondition("paid", False, ComparatorType.EQUAL))
    try:
        client.update_row(TABLE, Row(primary_key, update_of_attribute_columns), condition)
        print("Order %d paid." % order_id)
    except OTSServiceError as e:
        print("Order %d not paid: %s (HTTP %d)." % (order_id, e.get_error_code(), e.get_http_status()))


def batch_write(client):
    put_row_items = [
        PutRowItem(Row([("shop", "shanghai"), ("order_id", 1000 + i)], [("item", "bun"), ("price", 3.0)]),
                   Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
        for i in range(3)
    ]
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem(TABLE, put_row_items))
    request.add(TableInBatchWriteRowItem("no_such_table",
                                         [DeleteRowItem(Row([("shop", "x"), ("order_id", 1)]), None)]))
    result = client.batch_write_row(request)
    print("Batch all succeed: %s" % result.is_all_succeed())
    succ, fail = result.get_put()
    print("Batch puts: %d succeeded, %d failed." % (len(succ), len(fail)))
    succ, fail = result.get_delete()
    for item in fail:
        print("Batch delete failed: %s" % item.error_code)


def report(client):
    inclusive_start_primary_key = [("shop", INF_MIN), ("order_id", INF_MIN)]
    exclusive_end_primary_key = [("shop", INF_MAX), ("order_id", INF_MAX)]
    paid_filter = SingleColumnCondition("paid", True, ComparatorType.EQUAL, pass_if_missing=False)
    total, rows = 0, 0
    next_start = inclusive_start_primary_key
    while next_start is not None:
        consumed, next_start, row_list, next_token = client.get_range(
            TABLE, Direction.FORWARD, next_start, exclusive_end_primary_key,
            ["price", "quantity"], 2, column_filter=paid_filter, max_version=1)
        for row in row_list:
            columns = {name: value for name, value, ts in row.attribute_columns}
            total += columns["price"] * columns["quantity"]
            rows += 1
    print("Paid orders: %d, revenue %.2f" % (rows, total))

    counter = CapacityUnit(0, 0)
    every = list(client.xget_range(TABLE, Direction.FORWARD, inclusive_start_primary_key,
                                   exclusive_end_primary_key, counter))
    print("All orders: %d (read CU %d)" % (len(every), counter.read))


def batch_get(client, order_ids):
    request = BatchGetRowRequest()
    primary_keys = [[("shop", "hangzhou"), ("order_id", oid)] for oid in order_ids[:2]]
    primary_keys.append([("shop", "hangzhou"), ("order_id", -1)])
    request.add(TableInBatchGetRowItem(TABLE, primary_keys, ["item"], None, 1))
    result = client.batch_get_row(request)
    for item in result.get_result_by_table(TABLE):
        if item.row is None:
            print("Batch get: missing row")
        else:
            print("Batch get: %s" % item.row.attribute_columns[0][1])


def main():
    client = OTSClient(OTS_ENDPOINT, OTS_ID, OTS_SECRET, OTS_INSTANCE, retry_policy=WriteRetryPolicy())
    try:
        client.delete_table(TABLE)
    except OTSServiceError:
        pass
    create_table(client)
    order_ids = put_orders(client)
    pay_order(client, order_ids[0])
    pay_order(client, order_ids[2])
    pay_order(client, order_ids[0])  # already paid: the condition fails
    batch_write(client)
    report(client)
    batch_get(client, order_ids)
    describe_response = client.describe_table(TABLE)
    print("Max versions: %d" % describe_response.table_options.max_version)
    client.delete_table(TABLE)
    print("Tables left: %s" % (client.list_table(),))


if __name__ == "__main__":
    main()
